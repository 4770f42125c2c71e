"""Administrators upload published files; the import runs as a task and reports back.

Tasks run inline here (tests/conftest.py), once the request's transaction commits,
so each upload is posted inside django_capture_on_commit_callbacks(execute=True).
"""

import csv
import datetime
import io
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from institutions import forms as import_forms
from institutions import tasks
from institutions.models import ImportRun, Institution, LineageLink
from institutions.tasks import run_import
from tests.factories import make_identifier, make_institution

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
D2 = FIXTURES / "ofsted" / "d2_current.csv"
URL = "/imports/"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def upload_file(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="text/csv")


def post_upload(client, capture, *, file=None, kind="ofsted_mi", dry_run=False):
    data = {"kind": kind}
    if file is not None:
        data["file"] = file
    if dry_run:
        data["dry_run"] = "on"
    with capture(execute=True):
        return client.post(URL, data)


def queued_run(administrator, path: Path = D2, **overrides) -> ImportRun:
    fields = {"kind": "ofsted_mi", "filename": path.name, "uploaded_by": administrator}
    fields.update(overrides)
    run = ImportRun(**fields)
    run.file.save(path.name, ContentFile(path.read_bytes()), save=False)
    run.save()
    return run


def test_an_administrator_sees_the_upload_form_and_recent_imports(admin_client, administrator):
    queued_run(administrator, filename="older.csv", status="finished", report={"created": 3})

    response = admin_client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page and 'name="kind"' in page and 'name="dry_run"' in page
    assert "older.csv" in page


def test_an_administrator_uploads_an_ofsted_file_and_gets_the_report(
    admin_client, django_capture_on_commit_callbacks
):
    response = post_upload(admin_client, django_capture_on_commit_callbacks, file=upload_file(D2))

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/"
    assert (run.status, run.dry_run, run.filename) == ("finished", False, "d2_current.csv")
    assert (run.rows_done, run.rows_total) == (24, 24)
    assert run.started_at <= run.finished_at
    assert (run.report["rows"], run.report["created"], run.report["rejected"]) == (24, 24, [])
    assert run.file.name.startswith("imports/") and run.file.name.endswith(".csv")
    assert Institution.objects.by_identifier("urn", "140001").get().name == (
        "Harbour Lane Primary School"
    )
    page = admin_client.get(response["Location"]).content.decode()
    assert "Imported all 24 rows." in page
    assert 'id="import-counts"' in page
    assert "hx-trigger" not in page  # finished: nothing to poll


def test_imported_schools_are_flagged_and_recomputed(
    admin_client, django_capture_on_commit_callbacks
):
    post_upload(admin_client, django_capture_on_commit_callbacks, file=upload_file(D2))

    # The 24 schools of the file and the predecessors its rows name.
    schools = Institution.objects.all()
    assert schools.count() == 26
    # Tasks run inline, so the recomputes queued by the import have run as well.
    assert not schools.filter(needs_recompute=True).exists()
    inspected = schools.filter(inspections__isnull=False).distinct()
    assert inspected.exists()
    assert not inspected.filter(status="unknown").exists()


def test_a_dry_run_reports_the_changes_and_writes_nothing(
    admin_client, django_capture_on_commit_callbacks
):
    post_upload(
        admin_client, django_capture_on_commit_callbacks, file=upload_file(D2), dry_run=True
    )

    run = ImportRun.objects.get()
    assert (run.status, run.dry_run) == ("finished", True)
    assert (run.report["created"], run.report["dry_run"]) == (24, True)
    assert Institution.objects.count() == 0
    page = admin_client.get(run.get_absolute_url()).content.decode()
    assert "This was a dry run" in page and "Checked all 24 rows." in page


def test_a_gias_links_file_imports_into_lineage(admin_client, django_capture_on_commit_callbacks):
    for urn in ("100001", "140001"):
        make_identifier(make_institution(), value=urn)
    csv_text = (
        "URN,LinkURN,LinkName,LinkType,LinkEstablishedDate\n"
        "140001,100001,Old School,Predecessor,01/09/2012\n"
        "999999,100001,Old School,Successor,01/09/2013\n"
    )
    upload = SimpleUploadedFile("links.csv", csv_text.encode(), content_type="text/csv")

    post_upload(admin_client, django_capture_on_commit_callbacks, file=upload, kind="gias_links")

    run = ImportRun.objects.get()
    assert run.status == "finished", run.error
    assert run.report["created"] == 1
    assert run.report["skipped"] == {"URN not in failwell (import its Ofsted data first)": 1}
    assert "1: URN not in failwell" in admin_client.get(run.get_absolute_url()).content.decode()
    link = LineageLink.objects.get()
    assert (link.predecessor.identifiers.get().value, link.successor.identifiers.get().value) == (
        "100001",
        "140001",
    )


@pytest.mark.parametrize("role", ["officer", "lead"])
def test_officers_and_leads_may_not_import(request, client, role, administrator):
    client.force_login(request.getfixturevalue(role))
    run = queued_run(administrator, status="finished", report={"rejected": []})

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"kind": "ofsted_mi", "file": upload_file(D2)}).status_code == 403
    assert client.get(f"/imports/{run.pk}/").status_code == 403
    assert client.get(f"/imports/{run.pk}/rejections.csv").status_code == 403
    assert client.post(f"/imports/{run.pk}/queue/").status_code == 403
    assert ImportRun.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    for response in (client.get(URL), client.post(URL, {"kind": "ofsted_mi"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/imports/")
    assert ImportRun.objects.count() == 0


def csv_upload(content: bytes, name: str = "file.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.mark.parametrize(
    "file,kind,message",
    [
        (None, "ofsted_mi", "Select a CSV file"),
        (csv_upload(b""), "ofsted_mi", "The selected file is empty"),
        (csv_upload(b"  \r\n\r\n"), "ofsted_mi", "The selected file is empty"),
        (csv_upload(b"URN\n1\n", "inspections.xlsx"), "ofsted_mi", "must be a CSV"),
        (csv_upload(b"PK\x03\x04\x14\x00\x00\x00"), "ofsted_mi", "holds binary data"),
        (csv_upload(b"URN\n100000\n"), "", "Select what kind of file this is"),
        (csv_upload(b"URN\n100000\n"), "census", "Select what kind of file this is"),
    ],
)
def test_a_bad_upload_is_named_in_the_error_summary_and_nothing_is_queued(
    admin_client, django_capture_on_commit_callbacks, file, kind, message
):
    response = post_upload(admin_client, django_capture_on_commit_callbacks, file=file, kind=kind)

    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page
    assert message in page
    assert page.count(message) >= 2  # in the summary and by the field
    assert "<title>Error: Import data - failwell</title>" in page
    assert ImportRun.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_without_being_kept(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_forms, "MAX_UPLOAD_BYTES", 1000)
    big = csv_upload(b"URN,School name\n" + b"100000,A school\n" * 200)

    response = post_upload(admin_client, django_capture_on_commit_callbacks, file=big)

    assert response.status_code == 200
    assert "The selected file must be smaller than 50 MB" in response.content.decode()
    assert response.wsgi_request.upload_too_large  # stopped while reading, not after
    assert ImportRun.objects.count() == 0


def test_the_upload_checks_the_csrf_token_even_for_a_file_cut_short(administrator, monkeypatch):
    monkeypatch.setattr(import_forms, "MAX_UPLOAD_BYTES", 1000)
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    client.get(URL)
    token = client.cookies["csrftoken"].value
    big = csv_upload(b"URN,School name\n" + b"100000,A school\n" * 200)

    refused = client.post(URL, {"kind": "ofsted_mi", "file": csv_upload(b"URN\n100000\n")})
    too_large = client.post(URL, {"csrfmiddlewaretoken": token, "kind": "ofsted_mi", "file": big})

    assert refused.status_code == 403
    assert too_large.status_code == 200
    assert "must be smaller than 50 MB" in too_large.content.decode()


def test_a_file_without_the_required_columns_fails_with_their_names(
    admin_client, django_capture_on_commit_callbacks
):
    upload = upload_file(FIXTURES / "ofsted" / "missing_headers.csv")

    post_upload(admin_client, django_capture_on_commit_callbacks, file=upload)

    run = ImportRun.objects.get()
    assert run.status == "failed"
    assert "rejected as a whole and nothing was imported" in run.error
    assert "missing" in run.error and "'URN'" in run.error
    assert Institution.objects.count() == 0
    page = admin_client.get(run.get_absolute_url()).content.decode()
    assert "The import failed." in page and "&#x27;URN&#x27;" in page


def test_the_report_lists_rejected_rows_with_their_numbers_and_as_csv(
    admin_client, django_capture_on_commit_callbacks
):
    upload = upload_file(FIXTURES / "ofsted" / "bad_rows.csv")
    post_upload(admin_client, django_capture_on_commit_callbacks, file=upload)
    run = ImportRun.objects.get()

    page = admin_client.get(run.get_absolute_url()).content.decode()

    assert run.report["created"] == 4
    assert "Download the 9 rejected rows as CSV" in page
    assert '<th scope="row" class="govuk-table__header">5</th>' in page
    assert "180005" in page and "Latest OEIF overall effectiveness" in page
    response = admin_client.get(f"/imports/{run.pk}/rejections.csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["row", "urn", "column", "reason"]
    assert [int(row[0]) for row in rows[1:]] == [3, 5, 6, 7, 8, 10, 11, 12, 14]
    assert rows[2][:3] == ["5", "180005", "Latest OEIF overall effectiveness"]


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("status", ["queued", "running"])
def test_the_progress_region_polls_while_the_run_is_active(admin_client, administrator, status):
    run = queued_run(administrator, status=status, rows_done=500, rows_total=22000)
    if status == "running":
        run.started_at = timezone.now()
        run.save()

    response = admin_client.get(f"/imports/{run.pk}/", **HTMX)

    partial = response.content.decode()
    assert "<html" not in partial
    assert 'hx-trigger="every 1s"' in partial
    assert f'hx-get="/imports/{run.pk}/?seen={status}-500"' in partial
    assert "<progress" in partial
    if status == "running":
        assert 'max="22000" value="500"' in partial
        assert "Imported 500 of 22,000 rows." in partial
    else:
        assert "Waiting for a worker" in partial and "Queue it again" in partial


@pytest.mark.parametrize("status", ["finished", "failed"])
def test_the_progress_region_stops_polling_once_the_run_has_stopped(
    admin_client, administrator, status
):
    report = {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": []}
    run = queued_run(administrator, status=status, report=report, error="Broken file.")

    response = admin_client.get(f"/imports/{run.pk}/?seen=running-0", **HTMX)

    partial = response.content.decode()
    assert 'id="import-run"' in partial
    assert "hx-trigger" not in partial and "<progress" not in partial
    # The live region is told the news, out of band.
    assert 'id="import-announcement" hx-swap-oob="innerHTML"' in partial


def test_the_poll_leaves_the_announcement_alone_when_nothing_has_changed(
    admin_client, administrator
):
    run = queued_run(administrator, status="running", rows_done=500, rows_total=1000)
    run.started_at = timezone.now()
    run.save()

    partial = admin_client.get(f"/imports/{run.pk}/?seen=running-500", **HTMX).content.decode()

    assert "hx-swap-oob" not in partial
    assert 'hx-trigger="every 1s"' in partial


def test_without_javascript_the_progress_page_offers_a_refresh_link(admin_client, administrator):
    run = queued_run(administrator, status="running", rows_done=0, rows_total=24)
    run.started_at = timezone.now()
    run.save()

    page = admin_client.get(f"/imports/{run.pk}/").content.decode()

    assert f'<a class="govuk-link" href="/imports/{run.pk}/">Refresh</a>' in page
    assert 'role="status" aria-live="polite"' in page
    assert 'http-equiv="refresh"' not in page


def test_a_run_whose_worker_was_lost_says_so_and_stops_polling(admin_client, administrator):
    run = queued_run(administrator, status="running", rows_done=500, rows_total=1000)
    run.started_at = timezone.now() - datetime.timedelta(hours=2)
    run.save()

    page = admin_client.get(f"/imports/{run.pk}/", **HTMX).content.decode()

    assert "hx-trigger" not in page
    assert "stopped before it finished (500 of 1,000 rows)" in page


def test_the_task_is_idempotent_a_second_delivery_imports_nothing(administrator):
    run = queued_run(administrator)

    assert run_import(run.pk) == "finished"
    first = ImportRun.objects.get(pk=run.pk)
    assert run_import(run.pk) == "not queued"

    again = ImportRun.objects.get(pk=run.pk)
    assert Institution.objects.count() == 26
    assert (again.status, again.report, again.finished_at) == (
        "finished",
        first.report,
        first.finished_at,
    )


def test_a_run_is_claimed_only_while_it_is_queued(administrator):
    run = queued_run(administrator, status="running", started_at=timezone.now())

    assert run_import(run.pk) == "not queued"
    assert Institution.objects.count() == 0
    assert ImportRun.objects.get(pk=run.pk).status == "running"


def test_a_queued_run_can_be_queued_again(
    admin_client, administrator, django_capture_on_commit_callbacks
):
    run = queued_run(administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/imports/{run.pk}/queue/")

    assert response["Location"] == f"/imports/{run.pk}/"
    assert ImportRun.objects.get(pk=run.pk).status == "finished"


def test_an_upload_is_kept_queued_when_the_broker_cannot_be_reached(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(run_import, "delay", broker_down)

    response = post_upload(admin_client, django_capture_on_commit_callbacks, file=upload_file(D2))

    run = ImportRun.objects.get()
    assert response["Location"] == f"/imports/{run.pk}/"
    assert run.status == "queued"
    assert "Queue it again" in admin_client.get(response["Location"]).content.decode()


def test_administrators_find_the_import_page_in_the_navigation(admin_client, client, officer):
    page = admin_client.get("/").content.decode()
    assert 'href="/imports/">Import data</a>' in page
    client.force_login(officer)
    assert "Import data" not in client.get("/").content.decode()


@pytest.mark.parametrize(
    "error,message",
    [
        (RuntimeError("boom"), "The import stopped because of an unexpected error. Rows before"),
        (SoftTimeLimitExceeded(), "The import took longer than 30 minutes and was stopped."),
        (FileNotFoundError(2, "No such file or directory"), "must share the media folder"),
    ],
)
def test_an_import_that_breaks_is_marked_failed_with_a_message(
    administrator, monkeypatch, error, message
):
    def breaks(*args, **kwargs):
        raise error

    monkeypatch.setitem(tasks.IMPORTERS, "ofsted_mi", breaks)
    run = queued_run(administrator)

    assert run_import(run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert message in run.error


def test_a_failed_dry_run_says_nothing_was_saved(administrator, monkeypatch):
    monkeypatch.setitem(tasks.IMPORTERS, "ofsted_mi", lambda *a, **k: 1 / 0)
    run = queued_run(administrator, dry_run=True)

    run_import(run.pk)

    assert "It was a dry run: nothing was saved." in ImportRun.objects.get(pk=run.pk).error
