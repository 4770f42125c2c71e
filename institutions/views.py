"""Importing published files from the browser: administrators only.

    /imports/                       upload a file; the recent import runs
    /imports/<id>/                  one run: progress while it runs, then its report
    /imports/<id>/rejections.csv    the rejected rows, for fixing the file
    /imports/<id>/queue/            queue a run again whose task was never delivered

The upload creates an ImportRun and queues institutions.tasks.run_import once the
request's transaction commits. The run page polls itself with htmx (every second,
only while the run is queued or running) and, without JavaScript, offers a
"Refresh" link: a meta refresh would need an inline exception to the
Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from failwell.access import is_administrator
from failwell.csv_export import streaming_csv_response
from institutions.forms import ImportUploadForm, SizeLimitUploadHandler
from institutions.models import ImportRun, ImportStatus
from institutions.tasks import run_import

RECENT_RUNS = 20
# The run page lists this many rejections; the CSV download has them all.
REJECTIONS_SHOWN = 100
REJECTIONS_HEADER = ("row", "urn", "column", "reason")


def administrator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the login page) and an administrator (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_administrator(request.user):
            raise PermissionDenied("Only administrators can import data.")
        return view(request, *args, **kwargs)

    return wrapper


def get_run_for_administrator(pk: int) -> ImportRun:
    return get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk)


def queue_run(run: ImportRun) -> None:
    """Queue the import once the run's row has committed.

    As Task.delay_on_commit does, but robust: if the broker is down the upload has
    still been saved, the error is logged and the run stays queued for "Queue it
    again", instead of the administrator getting an error page. With no broker the
    task runs here, inline.
    """
    run_id = run.pk

    # A named function, not a partial: Django logs a robust callback's failure by
    # its __qualname__.
    def send() -> None:
        run_import.delay(run_id)

    transaction.on_commit(send, robust=True)


# CSRF is checked inside, after the size limit is in place: the check reads the
# form, and the upload handlers must be set before anything reads it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@administrator_required
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportUploadForm(
            request.POST,
            request.FILES,
            too_large=getattr(request, "upload_too_large", False),
        )
        if form.is_valid():
            upload = form.cleaned_data["file"]
            run = ImportRun.objects.create(
                kind=form.cleaned_data["kind"],
                file=upload,
                filename=upload.name,
                dry_run=form.cleaned_data["dry_run"],
                uploaded_by=request.user,
            )
            queue_run(run)
            return redirect(run)
    else:
        form = ImportUploadForm()
    runs = ImportRun.objects.select_related("uploaded_by")[:RECENT_RUNS]
    return render(request, "institutions/import_upload.html", {"form": form, "runs": runs})


@require_GET
@administrator_required
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's page; for htmx's poll, the run's region and the announcement."""
    run = get_run_for_administrator(pk)
    rejections = run.rejections
    context = {
        "run": run,
        # The poll says what it last showed; the live region changes only if this has.
        "announce": request.GET.get("seen") != run.progress_key,
        "report": run.report or {},
        "rejections": rejections[:REJECTIONS_SHOWN],
        "rejections_not_shown": max(len(rejections) - REJECTIONS_SHOWN, 0),
    }
    template = "institutions/import_run.html"
    response = render(request, f"{template}#update" if request.htmx else template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
@administrator_required
def rejections_csv(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for_administrator(pk)
    rows = (
        (rejection["row"], rejection["urn"], rejection["field"], rejection["reason"])
        for rejection in run.rejections
    )
    return streaming_csv_response(
        [REJECTIONS_HEADER, *rows], f"failwell-import-{run.pk}-rejections.csv"
    )


@require_POST
@administrator_required
def queue_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a queued run's task again, for when the first one never reached a worker.

    Harmless if it did: the task claims the run, so only one delivery imports it.
    """
    run = get_run_for_administrator(pk)
    if run.status == ImportStatus.QUEUED:
        queue_run(run)
        messages.success(request, "The import has been queued again.")
    return redirect(run)
