"""The three roles' Django permissions, as the migration leaves them.

Officers and leads may only view (their writes go through the pages' access
helpers, never the admin); administrators manage reference data, users, lead
assignments and imported data. Nobody may delete evidence or users.
"""

import pytest
from django.contrib.auth.models import Group

from failwell.roles import ADMINISTRATOR, OVERSIGHT_OFFICER, ROLES, TURNAROUND_LEAD

pytestmark = pytest.mark.django_db


def permissions(role: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_three_roles_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


@pytest.mark.parametrize("role", [OVERSIGHT_OFFICER, TURNAROUND_LEAD])
def test_officers_and_leads_may_only_view(role):
    granted = permissions(role)

    assert granted
    assert all(codename.split(".")[1].startswith("view_") for codename in granted)
    assert {
        "institutions.view_institution",
        "institutions.view_inspection",
        "interventions.view_intervention",
        "interventions.view_milestone",
        "interventions.view_evidence",
    } <= granted
    assert not any(p.startswith(("auth.", "axes.", "sessions.")) for p in granted)


@pytest.mark.parametrize(
    "model",
    [
        "institutions.inspectorate",
        "institutions.ratingscale",
        "institutions.evaluationarea",
        "institutions.grade",
        "interventions.interventiontype",
        "interventions.indicator",
        "institutions.leadassignment",
        "institutions.institution",
        "institutions.identifier",
        "institutions.lineagelink",
        "institutions.inspection",
        "institutions.judgement",
    ],
)
def test_administrators_manage_reference_data_assignments_and_imported_data(model):
    app, name = model.split(".")

    assert {f"{app}.{action}_{name}" for action in ("add", "change", "delete", "view")} <= (
        permissions(ADMINISTRATOR)
    )


def test_administrators_manage_users_and_method_settings_but_delete_neither():
    granted = permissions(ADMINISTRATOR)

    assert {"auth.add_user", "auth.change_user", "auth.view_user", "auth.view_group"} <= granted
    assert {
        "interventions.add_methodsettings",
        "interventions.change_methodsettings",
    } <= granted
    assert "auth.delete_user" not in granted
    assert "interventions.delete_methodsettings" not in granted
    assert not {"auth.add_group", "auth.change_group", "auth.delete_group"} & granted


def test_administrators_only_view_interventions_milestones_and_evidence():
    granted = permissions(ADMINISTRATOR)

    for name in ("intervention", "milestone", "evidence", "trajectoryassessment"):
        assert f"interventions.view_{name}" in granted
        assert not {f"interventions.{a}_{name}" for a in ("add", "change", "delete")} & granted


def test_nobody_may_delete_evidence():
    for role in ROLES:
        assert "interventions.delete_evidence" not in permissions(role)


def test_administrators_can_unlock_locked_out_accounts():
    assert {"axes.view_accessattempt", "axes.delete_accessattempt"} <= permissions(ADMINISTRATOR)


def test_a_persona_holds_its_roles_permissions(officer, lead, administrator):
    assert officer.has_perm("institutions.view_inspection")
    assert not officer.has_perm("institutions.change_inspection")
    assert lead.has_perm("interventions.view_evidence")
    assert not lead.has_perm("interventions.add_evidence")
    assert administrator.has_perm("institutions.change_ratingscale")
    assert not administrator.has_perm("interventions.delete_evidence")


def test_only_administrators_may_view_import_runs():
    from django.contrib.auth.models import Group

    holders = {group.name for group in Group.objects.filter(permissions__codename="view_importrun")}
    assert holders == {"Administrators"}
