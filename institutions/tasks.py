"""Celery tasks of the institutions app: running an uploaded import file.

The upload page creates an ImportRun and queues `run_import` after its transaction
commits; with no broker (the embedded default) the task runs inline at that point,
so the page shows the finished report straight away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, connections

from institutions.gias_links import import_gias_links
from institutions.imports import FileRejected, ImportReport, ProgressCallback
from institutions.models import IMPORT_TIME_LIMIT, ImportKind, ImportRun, ImportStatus
from institutions.ofsted_mi import import_ofsted_mi

logger = logging.getLogger(__name__)

IMPORTERS: dict[str, Callable[..., ImportReport]] = {
    ImportKind.OFSTED_MI: import_ofsted_mi,
    ImportKind.GIAS_LINKS: import_gias_links,
}

# Rows written together; the progress is stored after each batch, so at most this
# many rows pass between two updates of "N of M rows".
BATCH_SIZE = 500

SOFT_TIME_LIMIT = int(IMPORT_TIME_LIMIT.total_seconds())


@shared_task(
    acks_late=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    # The hard limit kills the worker process; the soft one comes first so the run
    # is marked failed with a message rather than left running.
    time_limit=SOFT_TIME_LIMIT + 60,
)
def run_import(import_run_id: int) -> str:
    """Run one uploaded file's import; returns the run's status.

    Re-reads the run and claims it (queued -> running) with a conditional update,
    so a second delivery of the same task does nothing. No automatic retries: an
    import that failed is reported, and uploading the file again is safe because
    the imports are idempotent.
    """
    if not ImportRun.objects.claim(import_run_id):
        return "not queued"
    run = ImportRun.objects.get(pk=import_run_id)
    importer = IMPORTERS[run.kind]
    try:
        with run.file.open("rb") as source, ProgressWriter(run) as progress:
            report = importer(source, dry_run=run.dry_run, progress=progress, batch_size=BATCH_SIZE)
    except FileRejected as error:
        run.fail(f"The file was rejected as a whole and nothing was imported. {error}")
        return "failed"
    except OSError as error:
        logger.exception("Import run %s could not read its file", import_run_id)
        run.fail(
            f"The uploaded file could not be read ({error.strerror or error}). The web "
            "servers and the workers must share the media folder (MEDIA_ROOT)."
        )
        return "failed"
    except SoftTimeLimitExceeded:
        minutes = SOFT_TIME_LIMIT // 60
        run.fail(
            f"The import took longer than {minutes} minutes and was stopped. " + _partly_saved(run)
        )
        return "failed"
    except Exception:
        logger.exception("Import run %s failed", import_run_id)
        run.fail("The import stopped because of an unexpected error. " + _partly_saved(run))
        return "failed"
    report.filename = run.filename
    run.finish(report.as_dict())
    return "finished"


def _partly_saved(run: ImportRun) -> str:
    if run.dry_run:
        return "It was a dry run: nothing was saved."
    return (
        "Rows before the error may have been saved. Importing the same file again "
        "is safe: rows already imported are reported unchanged."
    )


class ProgressWriter:
    """The progress callback: stores rows done / total on the run with one UPDATE.

    A dry run holds one transaction open for the whole file and rolls it back, so
    an update made through the task's own connection would stay invisible to the
    progress page and then vanish. On PostgreSQL a dry run's progress therefore goes
    through a second connection of its own, in autocommit. SQLite allows a single
    writer, so there a dry run reports its rows only when it finishes.
    """

    def __init__(self, run: ImportRun) -> None:
        self.run = run
        self.side_connection = None
        if run.dry_run and connection.vendor == "postgresql":
            self.side_connection = connections.create_connection("default")

    def __enter__(self) -> ProgressCallback | None:
        if self.run.dry_run and self.side_connection is None:
            return None
        return self

    def __exit__(self, *exc_info) -> None:
        if self.side_connection is not None:
            self.side_connection.close()

    def __call__(self, done: int, total: int) -> None:
        if self.side_connection is None:
            self.run.record_progress(done, total)
            return
        table = self.side_connection.ops.quote_name(ImportRun._meta.db_table)
        with self.side_connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, rows_total = %s WHERE id = %s AND status = %s",
                [done, total, self.run.pk, ImportStatus.RUNNING.value],
            )
