"""The institution and intervention pages in a real browser: logging evidence in place,
the status refreshing itself when the recompute is done, errors, and accessibility."""

import datetime
import os
import re
from contextlib import nullcontext

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from failwell.celery import app
from institutions.models import Institution
from interventions.models import Evidence
from tests.factories import (
    make_evidence,
    make_indicator,
    make_inspection,
    make_institution,
    make_intervention,
    make_link,
    make_milestone,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def mark_page(page) -> None:
    """Tag the window: the tag survives htmx swaps and vanishes on a full reload."""
    page.evaluate("window.loadedOnce = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.loadedOnce === true")


@pytest.fixture
def failing_school(institution):
    """Eltham with a history that computes to failing, but a stored status that does
    not say so yet: the first recompute visibly changes it."""
    make_inspection(
        institution,
        scale_slug="ofsted-overall-2005",
        overall="Inadequate",
        on=datetime.date(2010, 3, 10),
        category_of_concern="special_measures",
    )
    Institution.objects.filter(pk=institution.pk).update(
        status="unknown", status_since=None, needs_recompute=False
    )
    return institution


@pytest.fixture
def exclusions(db):
    return make_indicator(name="Fixed-term exclusion rate", unit="%", higher_is_better=False)


def test_an_officer_opens_an_institution_and_reads_its_history(page, sign_in, officer, axe):
    old = make_institution(name="Eltham Foundation School", slug="eltham")
    new = make_institution(name="Harris Academy Greenwich", slug="harris")
    make_link(old, new)
    make_inspection(
        old,
        overall="Inadequate",
        on=datetime.date(2010, 3, 10),
        category_of_concern="special_measures",
    )
    intervention = make_intervention(new, started_on=datetime.date(2011, 9, 1))
    make_milestone(intervention, title="Two new heads in post", due_on=datetime.date(2012, 1, 1))
    make_evidence(new, summary="Calmer corridors", observed_on=datetime.date(2012, 6, 1))
    sign_in(officer)

    page.goto("/institutions/harris/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harris Academy Greenwich")
    expect(page.get_by_role("img", name=re.compile("Trajectory of Harris Academy"))).to_be_visible()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Ofsted inspection: Inadequate")
    expect(timeline).to_contain_text("at Eltham Foundation School")
    expect(timeline).to_contain_text("Calmer corridors")
    # An officer is offered nothing to change.
    expect(page.locator("#log-evidence")).to_have_count(0)

    page.get_by_text("Chart data as a table").click()
    expect(page.get_by_role("table", name="Headline band at each inspection")).to_be_visible()
    assert axe() == []

    page.get_by_role("link", name="Eltham Foundation School").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Eltham Foundation School")


def test_the_timeline_filter_swaps_the_timeline_and_changes_the_url(
    page, sign_in, officer, failing_school, live_server
):
    make_evidence(failing_school, summary="Calmer corridors")
    sign_in(officer)
    page.goto("/institutions/eltham/")
    mark_page(page)
    for kind in ("Interventions", "Milestones", "Evidence", "Status changes"):
        page.get_by_role("checkbox", name=kind).uncheck()
    page.get_by_role("button", name="Show these").click()
    page.wait_for_url(re.compile(r"kind=inspection"))
    assert page.url == f"{live_server.url}/institutions/eltham/?kind=inspection"
    expect(page.locator("#timeline")).not_to_contain_text("Calmer corridors")
    expect(page.locator("#timeline")).to_contain_text("Ofsted inspection: Inadequate")
    assert still_same_page(page)


def log_a_value_and_watch_the_status(page, exclusions) -> None:
    page.goto("/institutions/eltham/")
    expect(page.locator("#institution-status .govuk-tag")).to_have_text("Unknown")
    mark_page(page)

    form = page.locator("#evidence-value-form")
    form.get_by_label("Indicator", exact=True).select_option(label="Fixed-term exclusion rate")
    form.get_by_label("Value", exact=True).fill("14.2")
    form.get_by_label("Day").fill("1")
    form.get_by_label("Month").fill("7")
    form.get_by_label("Year").fill("2010")
    form.get_by_role("button", name="Log the value").click()

    expect(page.locator("#evidence-value-form")).to_contain_text(
        "Evidence logged: Fixed-term exclusion rate: 14.2%, 1 July 2010."
    )
    # The new entry is in the timeline, swapped in out of band.
    expect(page.locator("#timeline")).to_contain_text("Fixed-term exclusion rate: 14.2%")
    # The form is fresh again.
    expect(form.get_by_label("Value", exact=True)).to_have_value("")
    # The status area polls until the recompute has written the new status.
    expect(page.locator("#institution-status .govuk-tag")).to_have_text("Failing", timeout=30_000)
    expect(page.locator("#institution-status")).not_to_contain_text("Recomputing")
    expect(page.locator("#status-announcement")).to_have_text(
        "The status has been recomputed: Failing."
    )
    assert still_same_page(page)
    assert Evidence.objects.get().value == 14.2


def test_the_lead_logs_a_value_and_the_status_refreshes_without_reloading(
    page, sign_in, lead, failing_school, exclusions
):
    """Without a broker the recompute runs inline at commit; the page still shows
    "Recomputing" first and learns the result by polling, as it would from a worker."""
    sign_in(lead)
    log_a_value_and_watch_the_status(page, exclusions)


@pytest.mark.redis
@pytest.mark.postgres
def test_with_a_real_worker_the_status_refreshes_when_the_worker_is_done(
    page, sign_in, lead, failing_school, exclusions
):
    app.conf.task_always_eager = False
    app.control.purge()
    sign_in(lead)
    worker = (
        start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING")
        if os.environ.get("CELERY_BROKER_URL")
        else nullcontext()
    )
    with worker:
        log_a_value_and_watch_the_status(page, exclusions)
    assert not Institution.objects.get(pk=failing_school.pk).needs_recompute


def test_an_invalid_form_shows_the_error_summary_with_focus_on_it(
    page, sign_in, lead, institution, axe
):
    sign_in(lead)
    page.goto("/institutions/eltham/")
    mark_page(page)
    page.get_by_role("tab", name="Observation").click()
    form = page.locator("#evidence-observation-form")
    form.get_by_role("button", name="Log the observation").click()

    summary = form.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(
        "Choose whether the observation is positive, negative or neutral"
    )
    expect(summary).to_contain_text("Enter the date observed")
    page.wait_for_function("document.activeElement.classList.contains('govuk-error-summary')")
    assert still_same_page(page)
    assert axe() == []

    summary.get_by_role("link", name="Describe what you observed").click()
    assert page.evaluate("document.activeElement.id") == "observation_summary"
    assert not Evidence.objects.exists()


def test_the_lead_changes_a_milestone_in_place(page, sign_in, lead, institution):
    intervention = make_intervention(institution, started_on=datetime.date(2024, 1, 8))
    milestone = make_milestone(intervention, title="New behaviour policy")
    sign_in(lead)
    page.goto(f"/interventions/{intervention.pk}/")
    mark_page(page)
    row = page.locator(f"#milestone-{milestone.pk}")
    row.get_by_text("Change status").click()
    row.get_by_label("Met", exact=True).check()
    row.get_by_label("Day").fill("20")
    row.get_by_label("Month").fill("8")
    row.get_by_label("Year").fill("2024")
    row.get_by_role("button", name=re.compile("Save status")).click()

    expect(row.locator(".govuk-tag")).to_have_text("Met")
    expect(row).to_contain_text("on 20 Aug 2024")
    assert still_same_page(page)
    milestone.refresh_from_db()
    assert milestone.status == "met"


def test_the_intervention_page_has_no_serious_accessibility_violations(
    page, sign_in, lead, institution, axe
):
    intervention = make_intervention(institution, started_on=datetime.date(2024, 1, 8))
    make_milestone(intervention, title="New behaviour policy")
    make_evidence(institution, intervention=intervention, summary="Calmer corridors")
    sign_in(lead)
    page.goto(f"/interventions/{intervention.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Special measures from 8 January 2024"
    )
    assert axe() == []


def test_the_institution_page_for_its_lead_has_no_serious_accessibility_violations(
    page, sign_in, lead, failing_school, exclusions, axe
):
    intervention = make_intervention(failing_school, started_on=datetime.date(2024, 1, 8))
    make_milestone(intervention, title="New behaviour policy")
    make_evidence(failing_school, indicator=exclusions, value=12.5)
    retracted = make_evidence(failing_school, summary="Wrong school")
    retracted.retract(lead, "Logged against the wrong school")
    sign_in(lead)
    page.goto("/institutions/eltham/")
    expect(page.locator("#evidence-value-form")).to_be_visible()
    assert axe() == []
