"""An institution's whole history as a failwell bundle, from its page.

    /institutions/<slug>/bundle.json   institution-bundle   (?as_of=yyyy-mm-dd, optional)

The same file as `manage.py export_bundle --institution <slug>`: the institution
with its whole lineage and parent bodies, so the bundle imports on its own, and
each one's trajectory as of today (or `as_of`). Every role may download it: it holds
nothing a reader cannot already see.

The bundle is written to a spooled temporary file (in memory up to SPOOL_BYTES,
then on disk) and streamed from there. Writing it whole first means that a failure
half-way gives an error page rather than a truncated JSON file that looks like a
download, and the memory used stays bounded however long the history.
"""

from __future__ import annotations

import datetime
import io
import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.http import require_GET

from failwell.access import get_institution_for_reader, role_required
from interventions.bundle import export_bundle

SPOOL_BYTES = 1024 * 1024


@require_GET
@role_required
def institution_bundle(request: HttpRequest, slug: str) -> HttpResponse:
    institution = get_institution_for_reader(request, slug)
    as_of = timezone.localdate()
    if request.GET.get("as_of"):
        try:
            as_of = datetime.date.fromisoformat(request.GET["as_of"])
        except ValueError:
            return HttpResponseBadRequest(
                "as_of must be a date written yyyy-mm-dd, for example 2016-03-31.",
                content_type="text/plain; charset=utf-8",
            )
    # Not a with-block: the file outlives this function, and FileResponse closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
        export_bundle(text, as_of=as_of, institutions=[institution])
        text.flush()
        text.detach()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    # FileResponse streams the file in blocks and closes it when the response ends.
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"failwell-{institution.slug}-{as_of:%Y-%m-%d}.json",
        content_type="application/json; charset=utf-8",
    )
