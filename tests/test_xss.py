"""User text is always escaped: script and attribute-breaking payloads in every
free-text field render as text on every page and partial that shows them; links
made from data are never javascript:; CSV exports neutralise spreadsheet formulas.

Each field holds its own payload, tagged so a page that drops a field (rather than
escaping it) fails too: the escaped payload must be there, the raw one nowhere.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from failwell.roles import TURNAROUND_LEAD
from institutions.models import (
    EvaluationArea,
    Grade,
    Inspection,
    Inspectorate,
    Judgement,
    RatingScale,
)
from interventions.models import Evidence, InterventionType
from interventions.services import recompute
from tests.factories import (
    make_evidence,
    make_indicator,
    make_institution,
    make_intervention,
    make_lead_assignment,
    make_member,
    make_milestone,
    make_user,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def payload(tag: str) -> str:
    return f"{tag}{SCRIPT}{IMG}"


# One payload per field; the tag says which field leaked or went missing.
TEXT = {
    "institution name": payload("inst"),
    "region": payload("region"),
    "local authority": payload("la"),
    "inspectorate name": payload("inspectorate"),
    "scale name": payload("scale"),
    "grade label": payload("gr"),  # 60 characters at most
    "area name": payload("area"),
    "area grade label": payload("ag"),
    "intervention type": payload("itype"),
    "objectives": payload("objectives"),
    "lead first name": payload("first"),
    "lead last name": payload("last"),
    "milestone title": payload("mtitle"),
    "milestone notes": payload("mnotes"),
    "indicator name": payload("indicator"),
    "indicator unit": "u" + SCRIPT,  # 30 characters at most
    "evidence summary": payload("summary"),
    "retraction reason": payload("reason"),
    "attachment name": payload("attname"),
}
JAVASCRIPT_URL = "javascript:alert(document.cookie)"


@pytest.fixture
def world(officer, settings, tmp_path):
    """An institution whose every free-text field carries a payload, written around
    the forms (as a bad import or a careless admin might), so only escaping stands
    between the text and the page."""
    settings.MEDIA_ROOT = tmp_path
    institution = make_institution(
        name=TEXT["institution name"],
        slug="xss",
        region=TEXT["region"],
        local_authority=TEXT["local authority"],
    )
    inspectorate = Inspectorate.objects.create(slug="xss-insp", name=TEXT["inspectorate name"])
    scale = RatingScale.objects.create(
        inspectorate=inspectorate, slug="xss-scale", name=TEXT["scale name"]
    )
    failing = Grade.objects.create(
        scale=scale, label=TEXT["grade label"], band="failing", position=4
    )
    Grade.objects.create(scale=scale, label="Good", band="at_standard", position=2)
    area = EvaluationArea.objects.create(scale=scale, slug="area", name=TEXT["area name"])
    area_grade = Grade.objects.create(
        scale=scale, area=area, label=TEXT["area grade label"], band="failing", position=1
    )
    inspection = Inspection.objects.create(
        institution=institution,
        inspectorate=inspectorate,
        scale=scale,
        inspected_on=datetime.date(2023, 1, 10),
        overall_grade=failing,
        category_of_concern="special_measures",
        report_url=JAVASCRIPT_URL,
    )
    Judgement.objects.create(inspection=inspection, area=area, grade=area_grade)
    lead = make_member(
        TURNAROUND_LEAD,
        username="xss-lead",
        first_name=TEXT["lead first name"],
        last_name=TEXT["lead last name"],
    )
    make_lead_assignment(institution, lead=lead)
    kind = InterventionType.objects.create(
        slug="xss-type", name=TEXT["intervention type"], grace_months=12
    )
    intervention = make_intervention(
        institution,
        type_slug=kind.slug,
        started_on=datetime.date(2023, 2, 1),
        lead=lead,
        objectives=TEXT["objectives"],
    )
    milestone = make_milestone(
        intervention,
        title=TEXT["milestone title"],
        notes=TEXT["milestone notes"],
        due_on=datetime.date(2023, 9, 1),
    )
    indicator = make_indicator(name=TEXT["indicator name"], unit=TEXT["indicator unit"])
    for month in range(1, 7):
        make_evidence(
            institution,
            indicator=indicator,
            value=80 + month,
            observed_on=datetime.date(2023, month, 15),
            logged_by=lead,
        )
    observation = make_evidence(
        institution,
        direction="positive",
        summary=TEXT["evidence summary"],
        observed_on=datetime.date(2023, 7, 1),
        intervention=intervention,
        logged_by=lead,
        attachment_name=TEXT["attachment name"],
        attachment="evidence/0123456789abcdef0123456789abcdef.pdf",
    )
    retracted = make_evidence(
        institution,
        direction="negative",
        summary="Counted twice",
        observed_on=datetime.date(2023, 7, 2),
        intervention=intervention,
        logged_by=lead,
    )
    retracted.retract(lead, TEXT["retraction reason"])
    recompute(institution.pk)
    return SimpleNamespace(
        institution=institution,
        intervention=intervention,
        milestone=milestone,
        observation=observation,
        retracted=retracted,
        indicator=indicator,
        lead=lead,
    )


def show(html: str, field: str) -> bool:
    """The field's payload is on the page, escaped (compared without case, as some
    places show a name in lower case)."""
    return escape(TEXT[field]).lower() in html.lower()


def assert_escaped(html: str, fields: list[str]) -> None:
    assert SCRIPT not in html
    assert "<img src=x" not in html.lower()
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I)
    missing = [field for field in fields if not show(html, field)]
    assert missing == [], f"not shown escaped: {missing}"


EVERYTHING_ON_THE_INSTITUTION_PAGE = [
    "institution name",
    "region",
    "local authority",
    "inspectorate name",
    "scale name",
    "grade label",
    "area name",
    "area grade label",
    "intervention type",
    "objectives",
    "lead first name",
    "lead last name",
    "milestone title",
    "milestone notes",
    "indicator name",
    "indicator unit",
    "evidence summary",
    "retraction reason",
    "attachment name",
]


def get(client, user, url: str, htmx: bool = False) -> str:
    client.force_login(user)
    response = client.get(url, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_dashboard(client, officer, world):
    html = get(client, officer, "/")

    assert_escaped(
        html, ["institution name", "region", "grade label", "lead first name", "lead last name"]
    )


def test_the_dashboards_htmx_update(client, officer, world):
    html = get(client, officer, "/?sort=name", htmx=True)

    assert_escaped(html, ["institution name", "region", "grade label"])


def test_the_institution_page_its_chart_and_tables(client, officer, world):
    html = get(client, officer, "/institutions/xss/")

    assert_escaped(html, EVERYTHING_ON_THE_INSTITUTION_PAGE)


def test_the_chart_svg_alone(client, officer, world):
    html = get(client, officer, "/institutions/xss/")
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)

    assert_escaped(
        svg,
        ["institution name", "intervention type", "milestone title", "indicator name"],
    )


def test_the_timeline_partial(client, officer, world):
    html = get(client, officer, "/institutions/xss/timeline/", htmx=True)

    assert_escaped(
        html,
        [
            "inspectorate name",
            "grade label",
            "area name",
            "area grade label",
            "scale name",
            "intervention type",
            "objectives",
            "milestone title",
            "milestone notes",
            "indicator name",
            "indicator unit",
            "evidence summary",
            "retraction reason",
            "attachment name",
            "lead first name",
        ],
    )


def test_the_status_partial(client, officer, world):
    html = get(client, officer, "/institutions/xss/status/", htmx=True)

    assert_escaped(html, ["inspectorate name", "grade label"])


def test_the_intervention_page(client, officer, world):
    html = get(client, officer, f"/interventions/{world.intervention.pk}/")

    assert_escaped(
        html,
        [
            "institution name",
            "intervention type",
            "objectives",
            "lead first name",
            "lead last name",
            "milestone title",
            "milestone notes",
            "evidence summary",
            "retraction reason",
            "attachment name",
        ],
    )


def test_the_pages_a_lead_writes_on(client, world):
    retract = get(client, world.lead, f"/evidence/{world.observation.pk}/retract/")
    status = get(client, world.lead, f"/milestones/{world.milestone.pk}/status/")
    retracted = get(client, world.lead, f"/evidence/{world.retracted.pk}/retract/")

    assert_escaped(retract, ["institution name", "evidence summary"])
    assert_escaped(status, ["milestone title"])
    assert_escaped(retracted, ["retraction reason"])


def test_a_form_error_quoting_user_text(client, world):
    """Retracting twice: the error quotes the first reason."""
    client.force_login(world.lead)

    response = client.post(f"/evidence/{world.retracted.pk}/retract/", {"reason": "Again"})

    assert "already retracted" in response.content.decode()
    assert_escaped(response.content.decode(), ["retraction reason"])


def test_the_success_messages_and_htmx_responses_of_writes(client, world):
    client.force_login(world.lead)
    logged = client.post(
        "/institutions/xss/evidence/",
        {
            "evidence_type": "value",
            "indicator": world.indicator.pk,
            "value": "91",
            "observed_on_day": "1",
            "observed_on_month": "8",
            "observed_on_year": "2023",
        },
    )
    message_page = client.get(logged["Location"]).content.decode()
    added = client.post(
        f"/interventions/{world.intervention.pk}/milestones/",
        {
            "title": TEXT["milestone title"],
            "due_on_day": "1",
            "due_on_month": "9",
            "due_on_year": "2024",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    observed = client.post(
        "/institutions/xss/evidence/",
        {
            "evidence_type": "observation",
            "direction": "neutral",
            "summary": TEXT["evidence summary"],
            "observed_on_day": "2",
            "observed_on_month": "8",
            "observed_on_year": "2023",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert "Evidence logged" in message_page
    assert_escaped(message_page, ["indicator name", "indicator unit"])
    assert "Milestone added" in added
    assert_escaped(added, ["milestone title"])
    assert_escaped(observed, ["evidence summary"])


def test_the_history_page(client, officer, world):
    html = get(client, officer, "/institutions/xss/history/")
    later = get(client, officer, "/institutions/xss/history/?page=2")

    assert_escaped(html, ["institution name", "retraction reason", "lead first name"])
    assert_escaped(later, [])


def test_a_javascript_report_url_is_never_a_link(client, officer, world):
    html = get(client, officer, "/institutions/xss/")

    assert JAVASCRIPT_URL not in html
    assert "Read the report" not in html


def test_a_web_report_url_is_still_a_link(client, officer, world):
    Inspection.objects.update(report_url="https://reports.ofsted.gov.uk/provider/21/100000")

    html = get(client, officer, "/institutions/xss/")

    assert 'href="https://reports.ofsted.gov.uk/provider/21/100000"' in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_the_model_refuses_a_report_url_that_is_not_a_web_address(url):
    inspection = Inspection(report_url=url)

    with pytest.raises(ValidationError) as refused:
        inspection.full_clean()

    assert "report_url" in refused.value.message_dict


def test_the_admin_refuses_a_javascript_report_url(admin_client, world):
    from tests.admin_forms import admin_form_data

    inspection = Inspection.objects.get()
    Inspection.objects.update(report_url="")
    url = f"/admin/institutions/inspection/{inspection.pk}/change/"

    response = admin_client.post(url, admin_form_data(admin_client, url, report_url=JAVASCRIPT_URL))

    assert response.status_code == 200
    assert "Enter a valid URL" in response.content.decode()
    assert Inspection.objects.get().report_url == ""


def test_a_next_address_that_is_javascript_is_ignored(client, world):
    html = get(
        client, world.lead, f"/evidence/{world.observation.pk}/retract/?next={JAVASCRIPT_URL}"
    )

    assert JAVASCRIPT_URL not in html
    assert 'href="/institutions/xss/"' in html


# CSV: text as text, never a formula -------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def read_csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_dashboard_export_neutralises_formulas(client, officer, formula):
    lead = make_user(first_name=formula, last_name="")
    make_lead_assignment(make_institution(name=formula, slug="formula", region=formula), lead=lead)
    client.force_login(officer)

    [row] = read_csv(client.get("/export/institutions.csv"))

    assert row["name"] == f"'{formula}"
    assert row["region"] == f"'{formula}"
    assert row["leads"].startswith("'")


def test_the_dashboard_export_keeps_script_as_plain_text(client, officer, world):
    client.force_login(officer)

    [row] = read_csv(client.get("/export/institutions.csv"))

    # A CSV is not HTML: the text is kept as typed, and the download is text/csv.
    assert row["name"] == TEXT["institution name"]


def test_evidence_stored_with_a_payload_is_unchanged(world):
    """Escaping happens on output: the stored text is what was typed."""
    assert Evidence.objects.get(pk=world.observation.pk).summary == TEXT["evidence summary"]


def test_the_import_pages_escape_the_file_name_and_what_the_file_held(client, administrator):
    """An uploaded file's name and cells reach the run page through its report."""
    from tests.factories import make_import_run

    run = make_import_run(
        filename=payload("filename"),
        report={
            "rows": 1,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "encoding": "utf-8",
            "ignored_headers": [payload("header")],
            "skipped": {payload("skipped"): 1},
            "rejected": [
                {"row": 2, "urn": payload("urn"), "field": payload("col"), "reason": payload("why")}
            ],
        },
    )
    failed = make_import_run(filename="other.csv", status="failed", error=payload("error"))
    client.force_login(administrator)

    page = client.get(f"/imports/{run.pk}/").content.decode()
    failure = client.get(f"/imports/{failed.pk}/").content.decode()
    listing = client.get("/imports/").content.decode()

    for html, tags in [
        (page, ["filename", "header", "skipped", "urn", "col", "why"]),
        (failure, ["error"]),
        (listing, ["filename"]),
    ]:
        assert SCRIPT not in html
        assert "<img src=x" not in html
        for tag in tags:
            assert escape(payload(tag)) in html, tag


def test_every_csv_export_neutralises_formulas(client, officer, world):
    """Each free-text column of each export, with text that a spreadsheet would run."""
    formula = '=HYPERLINK("http://evil.example","Click")'
    Evidence.objects.filter(pk=world.observation.pk).update(summary=formula)
    Evidence.objects.filter(pk=world.retracted.pk).update(retraction_reason="+" + formula)
    world.milestone.__class__.objects.update(title="-" + formula, notes="@" + formula)
    world.intervention.__class__.objects.update(objectives="\t" + formula)
    world.institution.__class__.objects.update(name=formula, region="\r" + formula)
    client.force_login(officer)

    cells = []
    for what in ["institutions", "inspections", "interventions", "milestones", "evidence"]:
        response = client.get(f"/export/{what}.csv")
        assert response.status_code == 200, what
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        cells += [(what, cell) for row in csv.reader(io.StringIO(text)) for cell in row]

    dangerous = [
        (what, cell) for what, cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")
    ]
    assert dangerous == []
    neutralised = {cell for _, cell in cells if cell.startswith("'") and formula in cell}
    assert {
        f"'{formula}",
        f"'+{formula}",
        f"'-{formula}",
        f"'@{formula}",
        f"'\t{formula}",
        f"'\r{formula}",
    } <= neutralised
