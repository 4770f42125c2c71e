"""Each write path leaves exactly one history record per row written, with the right
author: the signed-in user for the admin and the pages, nobody ("the system") for
management commands, imports and workers."""

import datetime
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from institutions.gias_links import import_gias_links
from institutions.models import Identifier, Inspection, Institution, Judgement, LineageLink
from institutions.ofsted_mi import import_ofsted_mi
from interventions import services
from interventions.models import Evidence, Intervention, Milestone
from tests.admin_forms import admin_form_data
from tests.factories import (
    grade,
    make_evidence,
    make_inspection,
    make_institution,
    make_intervention,
    make_milestone,
    scale,
)

pytestmark = pytest.mark.django_db


def count_history(model, **filters) -> int:
    return model.history.filter(**filters).count()


def test_an_admin_change_to_an_inspection_leaves_one_row_by_that_administrator(
    client, administrator
):
    inspection = make_inspection(make_institution(), overall="Requires improvement")
    client.force_login(administrator)
    url = reverse("admin:institutions_inspection_change", args=[inspection.pk])
    data = admin_form_data(client, url, overall_grade=grade("ofsted-overall-2012", "Good").pk)
    before = count_history(Inspection, id=inspection.pk)

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    rows = Inspection.history.filter(id=inspection.pk).order_by("history_id")
    assert rows.count() == before + 1
    latest = rows.last()
    assert latest.history_type == "~"
    assert latest.history_user == administrator
    delta = latest.diff_against(latest.prev_record)
    assert delta.changed_fields == ["overall_grade"]


def test_an_admin_addition_leaves_one_creation_row_by_that_administrator(client, administrator):
    client.force_login(administrator)
    url = reverse("admin:institutions_institution_add")
    data = admin_form_data(client, url, name="Westmoor High", slug="westmoor-high", sector="school")

    response = client.post(url, data)

    assert response.status_code == 302
    school = Institution.objects.get(slug="westmoor-high")
    rows = list(Institution.history.filter(id=school.pk))
    assert [(row.history_type, row.history_user) for row in rows] == [("+", administrator)]


def test_an_admin_inline_judgement_is_recorded_with_its_inspection(client, administrator):
    report_card = scale("ofsted-report-card-2025")
    inspection = make_inspection(
        make_institution(),
        "ofsted-report-card-2025",
        overall=None,
        on=datetime.date(2025, 12, 1),
        judgements={"achievement": "Needs attention"},
    )
    judgement = inspection.judgements.get()
    client.force_login(administrator)
    url = reverse("admin:institutions_inspection_change", args=[inspection.pk])
    strong = report_card.grade_for("Strong standard", report_card.areas.get(slug="achievement"))
    data = admin_form_data(client, url, **{"judgements-0-grade": strong.pk})

    assert client.post(url, data).status_code == 302

    latest = Judgement.history.filter(id=judgement.pk).latest()
    assert latest.history_user == administrator
    assert latest.grade_id == strong.pk
    assert count_history(Judgement, id=judgement.pk) == 2


def test_retracting_evidence_leaves_one_change_row_by_the_retracter_with_before_and_after(
    officer,
):
    evidence = make_evidence(make_institution())

    evidence.retract(officer, "Entered against the wrong school")

    rows = list(Evidence.history.filter(id=evidence.pk).order_by("history_id"))
    assert [row.history_type for row in rows] == ["+", "~"]
    # Outside a request too, the row names who retracted it.
    assert rows[1].history_user == officer
    delta = rows[1].diff_against(rows[0])
    assert set(delta.changed_fields) == {"retracted_at", "retracted_by", "retraction_reason"}
    assert rows[0].retracted_at is None and rows[0].retraction_reason == ""
    assert rows[1].retraction_reason == "Entered against the wrong school"
    # The evidence itself is still there, as it was logged.
    assert Evidence.objects.get(pk=evidence.pk).summary == evidence.summary


def test_a_retraction_in_the_admin_is_recorded_as_the_signed_in_user(admin_client, admin_user):
    evidence = make_evidence(make_institution())

    response = admin_client.post(
        reverse("admin:interventions_evidence_retract", args=[evidence.pk]),
        {"reason": "Duplicate entry"},
    )

    assert response.status_code == 302
    latest = Evidence.history.filter(id=evidence.pk).latest()
    assert (latest.history_type, latest.history_user) == ("~", admin_user)
    assert count_history(Evidence, id=evidence.pk) == 2


def test_a_management_command_import_records_the_system_as_author(tmp_path):
    bundle = {
        "format": "failwell.bundle/1",
        "institutions": [
            {
                "ref": "eltham",
                "name": "Eltham Foundation School",
                "sector": "school",
                "identifiers": {"urn": "100000"},
                "inspections": [
                    {
                        "inspectorate": "ofsted",
                        "scale": "ofsted-overall-2012",
                        "date": "2010-03-10",
                        "overall": "Inadequate",
                        "category_of_concern": "special_measures",
                    }
                ],
                "interventions": [
                    {
                        "type": "special-measures",
                        "started_on": "2010-03-10",
                        "milestones": [{"title": "New head in post", "due_on": "2010-09-01"}],
                    }
                ],
                "evidence": [
                    {"observed_on": "2010-06-30", "direction": "positive", "summary": "Calmer"},
                    {"observed_on": "2010-09-30", "direction": "negative", "summary": "Absence"},
                ],
            }
        ],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))

    call_command("import_bundle", str(path), stdout=StringIO())

    for model, expected in [
        (Institution, 1),
        (Inspection, 1),
        (Intervention, 1),
        (Milestone, 1),
        (Evidence, 2),  # written with one bulk statement
    ]:
        rows = model.history.all()
        assert rows.count() == expected, model
        assert all(row.history_user_id is None for row in rows), model
        assert all(row.history_type == "+" for row in rows), model


def test_importing_the_same_bundle_again_records_nothing_new(tmp_path):
    bundle = {
        "format": "failwell.bundle/1",
        "institutions": [{"ref": "eltham", "name": "Eltham", "sector": "school"}],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    call_command("import_bundle", str(path), stdout=StringIO())

    call_command("import_bundle", str(path), stdout=StringIO())

    assert Institution.history.count() == 1


def test_the_recompute_writes_no_institution_history():
    school = make_institution()
    intervention = make_intervention(school)
    make_milestone(intervention)
    rows = count_history(Institution, id=school.pk)

    services.recompute(school.pk)
    school.mark_dirty()
    services.recompute(school.pk)

    school.refresh_from_db()
    assert school.status != "unknown"
    assert count_history(Institution, id=school.pk) == rows == 1


def test_computed_fields_are_not_part_of_the_institution_history():
    tracked = {field.name for field in Institution.history.model._meta.fields}

    assert {"name", "slug", "sector", "region", "parent"} <= tracked
    assert (
        not {
            "status",
            "status_since",
            "status_version",
            "status_changed_at",
            "needs_recompute",
            "marked_dirty_at",
            "latest_inspection_on",
            "latest_headline_band",
            "updated_at",
        }
        & tracked
    )


FIXTURES = Path(__file__).parent / "fixtures"


def test_the_ofsted_import_writes_one_history_row_per_row_it_writes():
    """The import writes in bulk statements, which send no signals: the history
    rows come from django-simple-history's bulk helpers instead."""
    import_ofsted_mi(FIXTURES / "ofsted" / "d2_current.csv")

    for model in (Institution, Identifier, Inspection, Judgement):
        assert model.objects.exists(), model
        assert model.history.count() == model.objects.count(), model
        assert set(model.history.values_list("history_type", "history_user")) == {("+", None)}
        assert set(model.history.values_list("id", flat=True)) == set(
            model.objects.values_list("pk", flat=True)
        )


def test_an_ofsted_import_that_changes_a_school_records_the_change():
    import_ofsted_mi(FIXTURES / "ofsted" / "d2_current.csv")
    school = Institution.objects.order_by("pk").first()
    Institution.objects.filter(pk=school.pk).update(name="An older name")

    import_ofsted_mi(FIXTURES / "ofsted" / "d2_current.csv")

    latest = Institution.history.filter(id=school.pk).latest()
    assert (latest.history_type, latest.history_user, latest.name) == ("~", None, school.name)
    assert Institution.history.filter(id=school.pk).count() == 2


def test_the_gias_import_records_the_lineage_links_it_makes():
    import_ofsted_mi(FIXTURES / "ofsted" / "d2_current.csv")
    import_gias_links(FIXTURES / "gias" / "links.csv")

    assert LineageLink.objects.exists()
    assert LineageLink.history.count() == LineageLink.objects.count()
    assert set(LineageLink.history.values_list("history_user", flat=True)) == {None}
