"""CSRF protection on every POST, as a browser meets it.

The test client normally skips CSRF checks; these tests use Client(enforce_csrf_checks=True).
Without a token every POST is refused with 403 and changes nothing. With the token
htmx sends - the X-CSRFToken header, read from the hx-headers attribute on <body>,
since the CSRF cookie is HttpOnly - or the hidden field a plain form sends, it works.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from institutions.models import ImportRun
from interventions.models import Evidence, Milestone
from tests.admin_forms import admin_form_data
from tests.database_state import database_state, tables_changed
from tests.factories import make_evidence, make_indicator, make_intervention, make_milestone

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(institution, lead, administrator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    intervention = make_intervention(institution, started_on=datetime.date(2024, 9, 1))
    return SimpleNamespace(
        institution=institution,
        lead=lead,
        administrator=administrator,
        intervention=intervention,
        milestone=make_milestone(intervention, due_on=datetime.date(2025, 3, 1)),
        evidence=make_evidence(institution, summary="Calmer corridors"),
        indicator=make_indicator(name="Attendance"),
    )


@dataclass(frozen=True)
class Post:
    """A POST endpoint: who sends it, from which page, what, and how to see it worked."""

    persona: str
    page: Callable[[SimpleNamespace], str]
    url: Callable[[SimpleNamespace], str]
    data: Callable[[SimpleNamespace], dict]
    htmx: bool
    worked: Callable[[SimpleNamespace], bool]


def evidence_post(kind: str) -> Callable[[SimpleNamespace], dict]:
    def data(w: SimpleNamespace) -> dict:
        fields = {
            "evidence_type": kind,
            "observed_on_day": "1",
            "observed_on_month": "2",
            "observed_on_year": "2025",
        }
        if kind == "value":
            fields.update(indicator=w.indicator.pk, value="93.5")
        else:
            fields.update(direction="positive", summary="Lessons start on time")
        return fields

    return data


POSTS = {
    "log value": Post(
        "lead",
        lambda w: "/institutions/eltham/",
        lambda w: "/institutions/eltham/evidence/",
        evidence_post("value"),
        htmx=True,
        worked=lambda w: Evidence.objects.filter(value=93.5).exists(),
    ),
    "log observation": Post(
        "lead",
        lambda w: "/institutions/eltham/",
        lambda w: "/institutions/eltham/evidence/",
        evidence_post("observation"),
        htmx=True,
        worked=lambda w: Evidence.objects.filter(summary="Lessons start on time").exists(),
    ),
    "add milestone": Post(
        "lead",
        lambda w: f"/interventions/{w.intervention.pk}/",
        lambda w: f"/interventions/{w.intervention.pk}/milestones/",
        lambda w: {
            "title": "New behaviour policy",
            "due_on_day": "1",
            "due_on_month": "9",
            "due_on_year": "2025",
        },
        htmx=True,
        worked=lambda w: Milestone.objects.filter(title="New behaviour policy").exists(),
    ),
    "milestone status": Post(
        "lead",
        lambda w: f"/interventions/{w.intervention.pk}/",
        lambda w: f"/milestones/{w.milestone.pk}/status/",
        lambda w: {f"milestone-{w.milestone.pk}-status": "in_progress"},
        htmx=True,
        worked=lambda w: Milestone.objects.get(pk=w.milestone.pk).status == "in_progress",
    ),
    "retract evidence": Post(
        "lead",
        lambda w: "/institutions/eltham/",
        lambda w: f"/evidence/{w.evidence.pk}/retract/",
        lambda w: {"reason": "Logged for the wrong school"},
        htmx=False,
        worked=lambda w: Evidence.objects.get(pk=w.evidence.pk).is_retracted,
    ),
    "import upload": Post(
        "administrator",
        lambda w: "/imports/",
        lambda w: "/imports/",
        lambda w: {
            "kind": "ofsted_mi",
            "dry_run": "on",
            "file": SimpleUploadedFile("inspections.csv", b"URN,Inspection end date\n100000,\n"),
        },
        htmx=False,
        worked=lambda w: ImportRun.objects.filter(filename="inspections.csv").exists(),
    ),
    "admin change indicator": Post(
        "administrator",
        lambda w: f"/admin/interventions/indicator/{w.indicator.pk}/change/",
        lambda w: f"/admin/interventions/indicator/{w.indicator.pk}/change/",
        None,  # read from the page, below
        htmx=False,
        worked=lambda w: w.indicator.__class__.objects.get(pk=w.indicator.pk).unit == "days",
    ),
}


def signed_in(persona: str, world) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(getattr(world, persona))
    return client


def post_data(name: str, post: Post, client: Client, world) -> dict:
    if post.data is not None:
        return post.data(world)
    return admin_form_data(client, post.url(world), unit="days")


def htmx_token(html: str) -> str:
    """The token as htmx sends it: from the hx-headers attribute of <body>."""
    attribute = re.search(r"<body[^>]*\shx-headers='([^']+)'", html)
    assert attribute, "the page's <body> has no hx-headers"
    return json.loads(attribute.group(1))["X-CSRFToken"]


def form_token(html: str) -> str:
    field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert field, "the page has no CSRF field"
    return field.group(1)


@pytest.mark.parametrize("name", list(POSTS))
def test_without_the_token_a_post_is_refused_and_changes_nothing(world, name):
    post = POSTS[name]
    client = signed_in(post.persona, world)
    client.get(post.page(world))  # the CSRF cookie is set, as in a browser
    data = post_data(name, post, client, world)
    data.pop("csrfmiddlewaretoken", None)
    before = database_state()

    response = client.post(post.url(world), data, **(HTMX if post.htmx else {}))

    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
    assert tables_changed(before, database_state()) == []
    assert not post.worked(world)


@pytest.mark.parametrize("name", list(POSTS))
def test_with_a_token_from_someone_elses_session_it_is_refused(world, name):
    post = POSTS[name]
    stranger = signed_in(post.persona, world)
    page = stranger.get(post.page(world)).content.decode()
    stolen = htmx_token(page) if post.htmx else form_token(page)
    client = signed_in(post.persona, world)
    client.get(post.page(world))
    data = post_data(name, post, client, world)
    data.pop("csrfmiddlewaretoken", None)

    response = client.post(post.url(world), data, HTTP_X_CSRFTOKEN=stolen)

    assert response.status_code == 403
    assert not post.worked(world)


@pytest.mark.parametrize("name", [name for name, post in POSTS.items() if post.htmx])
def test_htmx_posts_work_with_the_header_from_hx_headers(world, name):
    post = POSTS[name]
    client = signed_in(post.persona, world)
    token = htmx_token(client.get(post.page(world)).content.decode())

    data = post_data(name, post, client, world)

    response = client.post(post.url(world), data, HTTP_X_CSRFTOKEN=token, **HTMX)

    assert response.status_code == 200
    assert post.worked(world)


@pytest.mark.parametrize("name", list(POSTS))
def test_plain_forms_work_with_the_hidden_field(world, name):
    post = POSTS[name]
    client = signed_in(post.persona, world)
    html = client.get(post.page(world)).content.decode()
    data = post_data(name, post, client, world)
    data["csrfmiddlewaretoken"] = form_token(html)

    response = client.post(post.url(world), data)

    assert response.status_code == 302
    assert post.worked(world)


def test_signing_out_needs_the_token(world):
    client = signed_in("lead", world)
    client.get("/")

    refused = client.post("/accounts/logout/")
    still_in = client.get("/")

    assert refused.status_code == 403
    assert still_in.status_code == 200


def test_signing_in_needs_the_token(world):
    world.lead.set_password("a long and unguessable pass phrase")
    world.lead.save(update_fields=["password"])
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")

    response = client.post(
        "/accounts/login/", {"username": "lead", "password": "a long and unguessable pass phrase"}
    )

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_csrf_cookie_is_http_only_so_htmx_reads_the_token_from_the_page(world):
    client = signed_in("lead", world)

    response = client.get("/institutions/eltham/")

    assert response.cookies["csrftoken"]["httponly"]
    assert htmx_token(response.content.decode())
