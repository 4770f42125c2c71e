"""The import pages in a real browser: uploading, the progress polling until the run
finishes, the report, the download page, and accessibility."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_import_run, make_institution

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ofsted"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_administrator_uploads_a_file_and_reads_the_report(page, sign_in, administrator, axe):
    sign_in(administrator)
    page.goto("/imports/")
    assert axe() == []

    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a CSV file")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select what kind of file")
    assert axe() == []

    page.get_by_label("Ofsted management information").check()
    page.get_by_label("Upload a file").set_input_files(FIXTURES / "bad_rows.csv")
    page.get_by_role("button", name="Upload and import").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("bad_rows.csv")
    expect(page.get_by_role("status")).to_have_text("Imported all 13 rows; 9 rejected.")
    expect(page.get_by_role("link", name="Download the 9 rejected rows as CSV")).to_be_visible()
    expect(page.get_by_role("table", name="Rejected rows")).to_contain_text("180005")
    assert axe() == []


def test_the_progress_page_polls_until_the_run_finishes_then_stops(
    page, sign_in, administrator, axe
):
    run = make_import_run(
        uploaded_by=administrator,
        status="running",
        report=None,
        rows_total=24,
        started_at=timezone.now(),
    )
    sign_in(administrator)
    page.goto(f"/imports/{run.pk}/")
    page.evaluate("window.loadedOnce = true")
    expect(page.get_by_role("status")).to_have_text("Imported 0 of 24 rows.")
    assert axe() == []

    run.record_progress(12, 24)
    expect(page.get_by_role("status")).to_have_text("Imported 12 of 24 rows.")
    assert page.locator("#import-progress").get_attribute("value") == "12"

    run.finish({"rows": 24, "created": 20, "updated": 4, "unchanged": 0, "rejected": []})
    expect(page.get_by_role("status")).to_have_text("Imported all 24 rows.")
    expect(page.locator("#import-counts")).to_contain_text("Created")
    assert page.evaluate("window.loadedOnce === true"), "updated in place, not reloaded"
    assert page.locator("[hx-trigger]").count() == 0
    polls = []
    page.on("request", lambda request: polls.append(request.url))
    page.wait_for_timeout(2500)
    assert polls == []
    assert axe() == []


def test_the_download_page_is_accessible_and_leads_to_the_file(page, sign_in, officer, axe):
    make_institution(name="Eltham School", sector="school")
    sign_in(officer)
    page.goto("/?sector=school")
    page.get_by_role("link", name="choose dates first").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download data")
    assert axe() == []

    page.get_by_role("button", name="Download CSV").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select what to download")
    assert axe() == []

    page.get_by_label("Evidence").check()
    page.locator("#id_date_from_year").fill("2012")
    page.locator("#id_date_from_month").fill("9")
    page.locator("#id_date_from_day").fill("1")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("failwell-evidence-")
