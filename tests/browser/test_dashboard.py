"""The dashboard in a real browser: htmx filtering, sorting, the keyboard, accessibility."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_institution

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FILTER_FIELDS = [
    "id_q",
    *(f"id_status_{n}" for n in range(10)),
    "id_sector",
    "id_region",
    "id_inspectorate",
    "id_lead",
    "id_changed",
]


@pytest.fixture
def institutions(db):
    make_institution(
        name="Ashcombe Academy",
        sector="school",
        region="South East",
        status="failing",
        status_since=datetime.date(2024, 3, 1),
    )
    make_institution(
        name="Brookfield Prison",
        sector="prison",
        region="North West",
        status="improving",
        status_since=datetime.date(2023, 1, 10),
    )
    make_institution(
        name="Castleton Trust",
        sector="nhs_trust",
        region="South East",
        status="stalled",
        status_since=datetime.date(2022, 6, 5),
    )


def table_names(page) -> list[str]:
    return page.locator("#results tbody th").all_inner_texts()


def mark_page(page) -> None:
    """Tag the window: the tag survives htmx swaps and vanishes on a full reload."""
    page.evaluate("window.loadedOnce = true")


def still_same_page(page) -> bool:
    return page.evaluate("window.loadedOnce === true")


def test_filtering_by_status_swaps_the_table_and_the_counts_and_changes_the_url(
    page, sign_in, officer, institutions, live_server
):
    sign_in(officer)
    page.goto("/")
    assert table_names(page) == ["Ashcombe Academy", "Brookfield Prison", "Castleton Trust"]
    mark_page(page)

    page.get_by_role("checkbox", name="Failing", exact=True).check()
    page.wait_for_url(re.compile(r"status=failing"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert table_names(page) == ["Ashcombe Academy"]
    assert page.url == f"{live_server.url}/?status=failing"
    # The counts came out of band: the failing count is now the current one.
    expect(page.locator('#status-counts a[aria-current="true"]')).to_contain_text("Failing")
    expect(page.locator("#results-status")).to_have_text("1 institution")
    assert still_same_page(page)

    page.get_by_role("checkbox", name="Stalled", exact=True).check()
    expect(page.locator("#results tbody tr")).to_have_count(2)
    assert "status=failing&status=stalled" in page.url
    assert still_same_page(page)


def test_the_back_button_brings_back_the_previous_filters(page, sign_in, officer, institutions):
    sign_in(officer)
    page.goto("/")
    page.get_by_label("Sector").select_option("prison")
    page.wait_for_url(re.compile(r"sector=prison"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.go_back()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#results tbody tr")).to_have_count(3)


def test_searching_as_you_type_updates_the_table(page, sign_in, officer, institutions):
    sign_in(officer)
    page.goto("/")
    mark_page(page)
    page.get_by_label("Name or identifier").press_sequentially("castle", delay=50)
    page.wait_for_url(re.compile(r"q=castle"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert table_names(page) == ["Castleton Trust"]
    assert still_same_page(page)


def test_sorting_swaps_the_table_and_keeps_focus_on_the_sort_link(
    page, sign_in, officer, institutions
):
    sign_in(officer)
    page.goto("/?region=South+East")
    mark_page(page)
    page.locator("#sort-since").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=since"))
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    assert table_names(page) == ["Castleton Trust", "Ashcombe Academy"]
    assert page.evaluate("document.activeElement.id") == "sort-since"
    # The filter form now carries the new order, so filtering keeps it.
    page.get_by_label("Sector").select_option("school")
    page.wait_for_url(re.compile(r"sector=school"))
    assert "sort=since" in page.url and "region=South+East" in page.url
    assert still_same_page(page)


def test_paging_swaps_the_table_and_keeps_the_filters(page, sign_in, officer, live_server):
    from institutions.models import Institution

    Institution.objects.bulk_create(
        Institution(name=f"School {n:02}", slug=f"school-{n}", sector="school", status="failing")
        for n in range(55)
    )
    make_institution(name="A prison", sector="prison", status="failing")
    sign_in(officer)
    page.goto("/?sector=school&sort=-name")
    mark_page(page)
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("#results tbody tr")).to_have_count(5)
    assert table_names(page) == ["School 04", "School 03", "School 02", "School 01", "School 00"]
    assert page.url == f"{live_server.url}/?sector=school&sort=-name&page=2"
    expect(page.locator("#results-status")).to_have_text("Showing 51 to 55 of 55 institutions")
    assert still_same_page(page)


def test_keyboard_only_tab_through_the_filters_change_a_select_and_submit_with_enter(
    page, sign_in, officer, institutions
):
    sign_in(officer)
    page.goto("/")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_q":
            break
    focused = ["id_q"]
    for _ in FILTER_FIELDS[1:]:
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id"))
    assert focused == FILTER_FIELDS
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Apply filters"

    # Back to Sector; typing the start of an option picks it, as a keyboard user would.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "id_sector"
    page.keyboard.type("Pri")
    page.wait_for_url(re.compile(r"sector=prison"))
    expect(page.locator("#results tbody tr")).to_have_count(1)

    # A checkbox with the space bar.
    page.locator("#id_status_4").focus()  # Improving
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"status=improving"))

    page.locator("#id_q").focus()
    page.keyboard.type("brook")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=brook"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert table_names(page) == ["Brookfield Prison"]


def test_without_javascript_the_form_submits_to_a_shareable_url(
    browser, officer, institutions, live_server
):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(officer)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Region").select_option("South East")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(f"{live_server.url}/?region=South+East")
        assert table_names(page) == ["Ashcombe Academy", "Castleton Trust"]
        page.get_by_role("link", name="Status", exact=True).click()
        page.wait_for_url(re.compile(r"sort=status"))
        assert table_names(page) == ["Ashcombe Academy", "Castleton Trust"]
    finally:
        context.close()


def test_the_dashboard_has_no_serious_accessibility_violations(
    page, sign_in, officer, institutions, axe
):
    sign_in(officer)
    page.goto("/")
    assert page.title() == "Dashboard - failwell"
    assert axe() == []
    page.get_by_role("checkbox", name="Improving", exact=True).check()
    page.wait_for_url(re.compile(r"status=improving"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert axe() == []


def test_the_error_summary_and_the_empty_state_are_accessible(
    page, sign_in, officer, institutions, axe
):
    sign_in(officer)
    page.goto("/?sector=castle&region=Atlantis")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select a sector from the list")
    expect(summary).to_contain_text("Select a region from the list")
    assert page.title() == "Error: Dashboard - failwell"
    page.wait_for_function("document.activeElement.classList.contains('govuk-error-summary')")
    assert axe() == []
    summary.get_by_role("link", name="Select a sector from the list").click()
    assert page.evaluate("document.activeElement.id") == "id_sector"

    page.goto("/?q=nothing+matches+this")
    expect(page.locator("#results")).to_contain_text("No institutions match these filters")
    assert axe() == []


def test_the_dashboard_works_at_a_phone_width(page, sign_in, officer, institutions, axe):
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(officer)
    page.goto("/")
    page.get_by_role("checkbox", name="Stalled", exact=True).check()
    page.wait_for_url(re.compile(r"status=stalled"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    assert axe() == []
