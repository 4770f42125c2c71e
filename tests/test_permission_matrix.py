"""Every write endpoint (and the reads that hand data out: exports, attachments) against
every persona: the status code, and whether the database changed.

A denied write answers 403 (the admin, as Django's admin does, sends anyone who is
not staff to its sign-in page) and changes nothing at all: not a row, not a history
row, not an admin log entry (tests/database_state.py compares every table of the
institutions, interventions and auth apps, their audit trail and the admin's log).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from institutions.models import Inspectorate, RatingScale
from interventions.models import Evidence, InterventionType
from tests.admin_forms import admin_form_data
from tests.database_state import database_state, tables_changed
from tests.factories import (
    make_evidence,
    make_import_run,
    make_indicator,
    make_intervention,
    make_milestone,
    make_user,
)

pytestmark = pytest.mark.django_db

SIGN_IN = "/accounts/login/?next="
ADMIN_SIGN_IN = "/admin/login/?next="


@dataclass(frozen=True)
class Expect:
    status: int
    changed: bool
    location: str = ""  # a redirect's target must start with this

    def __str__(self) -> str:
        return f"{self.status}{' changed' if self.changed else ''}"


LOGIN = Expect(302, False, SIGN_IN)  # anonymous: to the sign-in page
NOT_STAFF = Expect(302, False, ADMIN_SIGN_IN)  # not staff: the admin's own sign-in
DENIED = Expect(403, False)
NOT_FOUND = Expect(404, False)
WRITES = Expect(302, True)  # done, then on to the page that shows it
READS = Expect(200, False)
QUEUED = Expect(302, False)  # sent to the worker: nothing changes until it runs

PERSONAS = ["anonymous", "no_role", "officer", "lead", "other_lead", "administrator"]

# fmt: off
MATRIX = {
    # endpoint               anonymous  no role    officer    lead       other lead administrator
    "log value":              (LOGIN,     DENIED,    DENIED,    WRITES,    DENIED,    DENIED),
    "log observation":        (LOGIN,     DENIED,    DENIED,    WRITES,    DENIED,    DENIED),
    "retract evidence":       (LOGIN,     DENIED,    DENIED,    WRITES,    DENIED,    DENIED),
    "add milestone":          (LOGIN,     DENIED,    DENIED,    WRITES,    DENIED,    DENIED),
    "milestone status":       (LOGIN,     DENIED,    DENIED,    WRITES,    DENIED,    DENIED),
    "dashboard CSV export":   (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "download attachment":    (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "export page":            (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "inspections CSV":        (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "interventions CSV":      (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "milestones CSV":         (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "evidence CSV":           (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "bundle download":        (LOGIN,     DENIED,    READS,     READS,     READS,     READS),
    "history page":           (LOGIN,     DENIED,    READS,     DENIED,    DENIED,    READS),
    "import upload":          (LOGIN,     DENIED,    DENIED,    DENIED,    DENIED,    WRITES),
    "import queue again":     (LOGIN,     DENIED,    DENIED,    DENIED,    DENIED,    QUEUED),
    "import run page":        (LOGIN,     DENIED,    DENIED,    DENIED,    DENIED,    READS),
    "import rejections CSV":  (LOGIN,     DENIED,    DENIED,    DENIED,    DENIED,    READS),
    "admin add scale":        (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin change scale":     (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin add type":         (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin change type":      (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin add indicator":    (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin change indicator": (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin add user":         (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin change user":      (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, WRITES),
    "admin change evidence":  (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, DENIED),
    "admin delete evidence":  (NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, NOT_STAFF, DENIED),
}

# Objects that do not exist: 404 for anyone allowed past the role check, never a 403
# that would confirm or deny anything, and never a 500.
MISSING = {
    # endpoint               anonymous  no role    officer    lead       other lead administrator
    "log value":              (LOGIN,     DENIED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "retract evidence":       (LOGIN,     DENIED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "add milestone":          (LOGIN,     DENIED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "milestone status":       (LOGIN,     DENIED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "download attachment":    (LOGIN,     DENIED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "bundle download":        (LOGIN,     DENIED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "import run page":        (LOGIN,     DENIED,    DENIED,    DENIED,    DENIED,    NOT_FOUND),
    "import queue again":     (LOGIN,     DENIED,    DENIED,    DENIED,    DENIED,    NOT_FOUND),
}
# fmt: on


def cases(table: dict[str, tuple[Expect, ...]]) -> list:
    return [
        pytest.param(endpoint, persona, expected, id=f"{endpoint} / {persona} -> {expected}")
        for endpoint, row in table.items()
        for persona, expected in zip(PERSONAS, row, strict=True)
    ]


# The world every request acts on -----------------------------------------------------


@pytest.fixture
def world(institution, lead, other_lead, officer, administrator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    intervention = make_intervention(institution, started_on=datetime.date(2024, 9, 1))
    evidence = make_evidence(institution, summary="Calmer corridors")
    evidence.attachment_name = "visit.pdf"
    evidence.attachment.save("visit.pdf", ContentFile(b"%PDF-1.7 visit note"))
    return SimpleNamespace(
        institution=institution,
        intervention=intervention,
        milestone=make_milestone(intervention, due_on=datetime.date(2025, 3, 1)),
        evidence=evidence,
        indicator=make_indicator(name="Attendance"),
        scale=RatingScale.objects.create(
            inspectorate=Inspectorate.objects.get(slug="ofsted"), slug="pilot", name="Pilot"
        ),
        intervention_type=InterventionType.objects.get(slug="special-measures"),
        user=make_user(username="priya", first_name="Priya"),
        import_run=make_import_run(status="queued", report=None),
        administrator=administrator,
    )


def admin_data(world, url: str, **changes) -> dict:
    """What the admin page at `url` posts, read as an administrator would see it."""
    client = Client()
    client.force_login(world.administrator)
    return admin_form_data(client, url, **changes)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    data: dict | None = None


ENDPOINTS: dict[str, Callable[[SimpleNamespace], Request]] = {
    "log value": lambda w: Request(
        "post",
        f"/institutions/{w.institution.slug}/evidence/",
        {
            "evidence_type": "value",
            "indicator": w.indicator.pk,
            "value": "93.5",
            "observed_on_day": "1",
            "observed_on_month": "2",
            "observed_on_year": "2025",
        },
    ),
    "log observation": lambda w: Request(
        "post",
        f"/institutions/{w.institution.slug}/evidence/",
        {
            "evidence_type": "observation",
            "direction": "positive",
            "summary": "Lessons start on time",
            "observed_on_day": "1",
            "observed_on_month": "2",
            "observed_on_year": "2025",
        },
    ),
    "retract evidence": lambda w: Request(
        "post", f"/evidence/{w.evidence.pk}/retract/", {"reason": "Logged for the wrong school"}
    ),
    "add milestone": lambda w: Request(
        "post",
        f"/interventions/{w.intervention.pk}/milestones/",
        {
            "title": "New behaviour policy",
            "due_on_day": "1",
            "due_on_month": "9",
            "due_on_year": "2025",
        },
    ),
    "milestone status": lambda w: Request(
        "post",
        f"/milestones/{w.milestone.pk}/status/",
        {f"milestone-{w.milestone.pk}-status": "in_progress"},
    ),
    "dashboard CSV export": lambda w: Request("get", "/export/institutions.csv"),
    "download attachment": lambda w: Request("get", f"/evidence/{w.evidence.pk}/attachment/"),
    "export page": lambda w: Request("get", "/export/"),
    "inspections CSV": lambda w: Request("get", "/export/inspections.csv"),
    "interventions CSV": lambda w: Request("get", "/export/interventions.csv"),
    "milestones CSV": lambda w: Request("get", "/export/milestones.csv"),
    "evidence CSV": lambda w: Request("get", "/export/evidence.csv"),
    "bundle download": lambda w: Request("get", f"/institutions/{w.institution.slug}/bundle.json"),
    "history page": lambda w: Request("get", f"/institutions/{w.institution.slug}/history/"),
    "import upload": lambda w: Request(
        "post",
        "/imports/",
        {
            "kind": "ofsted_mi",
            "dry_run": "on",
            "file": SimpleUploadedFile("inspections.csv", b"URN,Inspection end date\n100000,\n"),
        },
    ),
    "import queue again": lambda w: Request("post", f"/imports/{w.import_run.pk}/queue/"),
    "import run page": lambda w: Request("get", f"/imports/{w.import_run.pk}/"),
    "import rejections CSV": lambda w: Request("get", f"/imports/{w.import_run.pk}/rejections.csv"),
    "admin add scale": lambda w: Request(
        "post",
        "/admin/institutions/ratingscale/add/",
        admin_data(
            w,
            "/admin/institutions/ratingscale/add/",
            inspectorate=w.scale.inspectorate_id,
            name="Pilot two",
            slug="pilot-two",
            **{
                "grades-0-position": 1,
                "grades-0-label": "Meets the standard",
                "grades-0-band": "at_standard",
            },
        ),
    ),
    "admin change scale": lambda w: Request(
        "post",
        f"/admin/institutions/ratingscale/{w.scale.pk}/change/",
        admin_data(w, f"/admin/institutions/ratingscale/{w.scale.pk}/change/", name="Renamed"),
    ),
    "admin add type": lambda w: Request(
        "post",
        "/admin/interventions/interventiontype/add/",
        admin_data(
            w,
            "/admin/interventions/interventiontype/add/",
            name="Trust takeover",
            slug="trust-takeover",
            grace_months=18,
        ),
    ),
    "admin change type": lambda w: Request(
        "post",
        f"/admin/interventions/interventiontype/{w.intervention_type.pk}/change/",
        admin_data(
            w,
            f"/admin/interventions/interventiontype/{w.intervention_type.pk}/change/",
            grace_months=15,
        ),
    ),
    "admin add indicator": lambda w: Request(
        "post",
        "/admin/interventions/indicator/add/",
        admin_data(
            w, "/admin/interventions/indicator/add/", name="Persistent absence", slug="pa", unit="%"
        ),
    ),
    "admin change indicator": lambda w: Request(
        "post",
        f"/admin/interventions/indicator/{w.indicator.pk}/change/",
        admin_data(w, f"/admin/interventions/indicator/{w.indicator.pk}/change/", unit="days"),
    ),
    "admin add user": lambda w: Request(
        "post",
        "/admin/auth/user/add/",
        {
            "username": "newcomer",
            "password1": "a long and unguessable pass phrase",
            "password2": "a long and unguessable pass phrase",
            "usable_password": "true",
        },
    ),
    "admin change user": lambda w: Request(
        "post",
        f"/admin/auth/user/{w.user.pk}/change/",
        admin_data(w, f"/admin/auth/user/{w.user.pk}/change/", first_name="Priyanka"),
    ),
    "admin change evidence": lambda w: Request(
        "post",
        f"/admin/interventions/evidence/{w.evidence.pk}/change/",
        {
            "institution": w.institution.pk,
            "observed_on": "2015-03-01",
            "direction": "negative",
            "summary": "Rewritten in place",
        },
    ),
    "admin delete evidence": lambda w: Request(
        "post", f"/admin/interventions/evidence/{w.evidence.pk}/delete/", {"post": "yes"}
    ),
}

MISSING_ENDPOINTS: dict[str, Request] = {
    "log value": Request(
        "post", "/institutions/no-such-school/evidence/", {"evidence_type": "value"}
    ),
    "retract evidence": Request("post", "/evidence/999999/retract/", {"reason": "Gone"}),
    "add milestone": Request("post", "/interventions/999999/milestones/", {"title": "x"}),
    "milestone status": Request(
        "post", "/milestones/999999/status/", {"milestone-999999-status": "met"}
    ),
    "download attachment": Request("get", "/evidence/999999/attachment/"),
    "bundle download": Request("get", "/institutions/no-such-school/bundle.json"),
    "import run page": Request("get", "/imports/999999/"),
    "import queue again": Request("post", "/imports/999999/queue/"),
}


def sign_in(client: Client, persona: str, request) -> None:
    if persona == "anonymous":
        return
    user = (
        make_user(username="no-role") if persona == "no_role" else request.getfixturevalue(persona)
    )
    client.force_login(user)


def send(client: Client, call: Request):
    if call.method == "get":
        return client.get(call.url)
    return client.post(call.url, call.data or {})


def check(response, expected: Expect, before: dict, after: dict) -> None:
    assert response.status_code == expected.status
    if expected.location:
        assert response["Location"].startswith(expected.location)
    elif expected.status == 302:
        assert not response["Location"].startswith((SIGN_IN, ADMIN_SIGN_IN))
    if expected.changed:
        assert after != before, "the write changed nothing"
    else:
        assert tables_changed(before, after) == []


@pytest.mark.parametrize(("endpoint", "persona", "expected"), cases(MATRIX))
def test_the_permission_matrix(client, world, request, endpoint, persona, expected):
    call = ENDPOINTS[endpoint](world)
    sign_in(client, persona, request)
    before = database_state()

    response = send(client, call)

    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    check(response, expected, before, database_state())


@pytest.mark.parametrize(("endpoint", "persona", "expected"), cases(MISSING))
def test_objects_that_do_not_exist(client, world, request, endpoint, persona, expected):
    sign_in(client, persona, request)
    before = database_state()

    response = send(client, MISSING_ENDPOINTS[endpoint])

    check(response, expected, before, database_state())


def test_the_matrix_covers_every_endpoint_and_persona():
    assert set(MATRIX) == set(ENDPOINTS)
    assert set(MISSING) == set(MISSING_ENDPOINTS)
    assert all(len(row) == len(PERSONAS) for row in [*MATRIX.values(), *MISSING.values()])


def test_nobody_can_delete_evidence_even_a_superuser(admin_client, world):
    response = admin_client.post(
        f"/admin/interventions/evidence/{world.evidence.pk}/delete/", {"post": "yes"}
    )
    actions = admin_client.get("/admin/interventions/evidence/").context["action_form"]
    admin_client.post(
        "/admin/interventions/evidence/",
        {"action": "delete_selected", "_selected_action": [world.evidence.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert "delete_selected" not in dict(actions.fields["action"].choices)
    assert Evidence.objects.filter(pk=world.evidence.pk).exists()


# The pages offer only what the user may do ----------------------------------------------

EVIDENCE_FORM = 'action="/institutions/eltham/evidence/"'


def offered(html: str, world) -> dict[str, bool]:
    return {
        "log evidence": EVIDENCE_FORM in html,
        "retract evidence": f'action="/evidence/{world.evidence.pk}/retract/"' in html,
        "milestone status": f'action="/milestones/{world.milestone.pk}/status/"' in html,
        "add milestone": f'action="/interventions/{world.intervention.pk}/milestones/"' in html,
        "administration": 'href="/admin/"' in html,
    }


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("officer", {"log evidence": False, "retract evidence": False, "milestone status": False}),
        (
            "other_lead",
            {"log evidence": False, "retract evidence": False, "milestone status": False},
        ),
        (
            "administrator",
            {"log evidence": False, "retract evidence": False, "milestone status": False},
        ),
        ("lead", {"log evidence": True, "retract evidence": True, "milestone status": True}),
    ],
)
def test_the_institution_page_offers_writes_only_to_its_lead(
    client, world, request, persona, expected
):
    client.force_login(request.getfixturevalue(persona))

    html = client.get("/institutions/eltham/").content.decode()

    shown = offered(html, world)
    assert {action: shown[action] for action in expected} == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("officer", {"add milestone": False, "milestone status": False, "retract evidence": False}),
        (
            "other_lead",
            {"add milestone": False, "milestone status": False, "retract evidence": False},
        ),
        (
            "administrator",
            {"add milestone": False, "milestone status": False, "retract evidence": False},
        ),
        ("lead", {"add milestone": True, "milestone status": True, "retract evidence": True}),
    ],
)
def test_the_intervention_page_offers_writes_only_to_its_lead(
    client, world, request, persona, expected
):
    world.evidence.intervention = world.intervention
    world.evidence.save(update_fields=["intervention"])
    client.force_login(request.getfixturevalue(persona))

    html = client.get(f"/interventions/{world.intervention.pk}/").content.decode()

    shown = offered(html, world)
    assert {action: shown[action] for action in expected} == expected


@pytest.mark.parametrize(
    ("persona", "shown"),
    [("officer", False), ("lead", False), ("other_lead", False), ("administrator", True)],
)
def test_only_administrators_are_offered_the_administration_link(
    client, world, request, persona, shown
):
    client.force_login(request.getfixturevalue(persona))

    html = client.get("/").content.decode()

    assert offered(html, world)["administration"] is shown


def test_retracted_evidence_offers_no_retract_form_even_to_its_lead(client, world, lead):
    world.evidence.retract(lead, "Wrong school")
    client.force_login(lead)

    html = client.get("/institutions/eltham/").content.decode()

    assert not offered(html, world)["retract evidence"]
