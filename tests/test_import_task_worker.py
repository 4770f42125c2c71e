"""An uploaded import runs on a real Celery worker through Redis, end to end.

Like tests/test_recompute_concurrency.py: the worker runs in a thread of this
process (solo pool) against the test database, so the tests commit for real.
"""

import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections

from failwell.celery import app
from institutions import tasks
from institutions.models import ImportRun, Institution
from institutions.tasks import ProgressWriter, run_import

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

D2 = Path(__file__).parent / "fixtures" / "ofsted" / "d2_current.csv"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.redis
@pytest.mark.postgres
def test_an_upload_is_imported_by_a_real_worker_and_the_statuses_are_recomputed(
    client, administrator
):
    app.conf.task_always_eager = False
    app.control.purge()
    client.force_login(administrator)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        with D2.open("rb") as upload:
            response = client.post("/imports/", {"kind": "ofsted_mi", "file": upload})
        run = ImportRun.objects.get()
        assert response["Location"] == f"/imports/{run.pk}/"

        assert wait_for(lambda: ImportRun.objects.get(pk=run.pk).status == "finished")
        inspected = Institution.objects.filter(inspections__isnull=False).distinct()
        assert wait_for(lambda: not Institution.objects.filter(needs_recompute=True).exists())

    run.refresh_from_db()
    assert (run.report["created"], run.rows_done, run.rows_total) == (24, 24, 24)
    assert inspected.exists()
    assert not inspected.filter(status="unknown").exists()
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert "Imported all 24 rows." in page


@pytest.mark.postgres
def test_a_dry_runs_progress_is_visible_to_the_page_while_its_transaction_is_open(
    administrator, monkeypatch
):
    """The dry run's rows are rolled back; its progress must not be."""
    run = ImportRun(kind="ofsted_mi", filename="d2.csv", uploaded_by=administrator, dry_run=True)
    run.file.save("d2.csv", D2.open("rb"), save=False)
    run.save()
    monkeypatch.setattr(tasks, "BATCH_SIZE", 5)
    seen_elsewhere = []
    observer = connections.create_connection("default")
    write = ProgressWriter.__call__

    def write_then_look(self, done, total):
        write(self, done, total)
        with observer.cursor() as cursor:
            cursor.execute(
                "SELECT rows_done, rows_total FROM institutions_importrun WHERE id = %s", [run.pk]
            )
            seen_elsewhere.append(cursor.fetchone())

    monkeypatch.setattr(ProgressWriter, "__call__", write_then_look)
    try:
        assert run_import(run.pk) == "finished"
    finally:
        observer.close()

    assert seen_elsewhere == [(0, 24), (5, 24), (10, 24), (15, 24), (20, 24), (24, 24)]
    assert Institution.objects.count() == 0
