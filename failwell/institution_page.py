"""The institution page: who it is, its status and why, its chart, one timeline across
its lineage, and (for its leads) the form to log evidence.

It shows both apps' data, so it lives here rather than in either app. One template,
templates/failwell/institution.html, with named partials for htmx:
  #status           the status tag and why; polls while a recompute is pending
  #timeline         the timeline, filtered by kind, one page of it
  #evidence-form    one of the two log-evidence forms (a value, an observation):
                    with its errors, or fresh after success
  #evidence-logged  the fresh form, plus the timeline and the status out of band

The views that only read opt out of ATOMIC_REQUESTS: they have nothing to commit,
and under READ COMMITTED a transaction would not make their statements see one
snapshot anyway, so BEGIN and COMMIT were two round trips for nothing (two of the
status poll's seven statements).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models.query import EmptyQuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import push_url

from failwell import chart_svg, chart_tables, history_reads, sql_reads
from failwell.access import (
    get_institution_for_reader,
    get_institution_for_writer,
    role_required,
    writable_institutions,
)
from failwell.chart import trajectory_chart
from failwell.timeline import KINDS, LineageHistory, build_timeline, parse_kinds, read_in_full
from institutions.models import Institution
from interventions.forms import EvidenceForm, attach_status_forms
from interventions.models import Outcome, TrajectoryAssessment
from interventions.templatetags.evidence import evidence_title

TEMPLATE = "failwell/institution.html"
TIMELINE_PAGE_SIZE = 50


def timeline_context(
    institution: Institution, history: LineageHistory, kinds: list[str], page: str | None
) -> dict:
    entries = build_timeline(history, kinds)
    timeline_page = Paginator(entries, TIMELINE_PAGE_SIZE).get_page(page)
    timeline_page.object_list = read_in_full(history, timeline_page.object_list)
    filtered = kinds != list(KINDS)
    query = {"kind": kinds} if filtered else {}
    if timeline_page.number > 1:
        query["page"] = timeline_page.number
    return {
        "history": history,
        "timeline_page": timeline_page,
        "kinds": kinds,
        "kind_choices": list(KINDS.items()),
        "filtered": filtered,
        "kinds_shown": ", ".join(KINDS[kind].lower() for kind in kinds),
        "timeline_query": urlencode(query, doseq=True),
    }


def writable_ids(request: HttpRequest, history: LineageHistory) -> set[int]:
    """The lineage members this user may write for: evidence shows a retract form
    only where the user leads its institution. One query; none for a reader, whose
    empty queryset would still cost 0.3 ms of Python to build and compile."""
    writable = writable_institutions(request.user)
    if isinstance(writable, EmptyQuerySet):
        return set()
    return set(writable.filter(pk__in=history.members).values_list("pk", flat=True))


def status_context(institution: Institution) -> dict:
    """The status and why. The latest assessment is read with SQL written once: the
    poll asks for it every 2 seconds, and through the ORM (`assessments.order_by(...)
    .first()`) it took 0.71 ms of Python against 0.08 ms (failwell/sql_reads.py)."""
    latest = sql_reads.first(
        TrajectoryAssessment,
        "WHERE institution_id = %s ORDER BY as_of DESC, computed_at DESC, id DESC LIMIT 1",
        [institution.pk],
    )
    return {"institution": institution, "assessment": latest}


def timeline_partial_context(request: HttpRequest, institution: Institution, params) -> dict:
    """What the #timeline partial shows, on its own or after evidence is logged."""
    history = LineageHistory.load(institution)
    writable = writable_ids(request, history)
    return {
        "institution": institution,
        "can_write": institution.pk in writable,
        "writable_ids": writable,
        "next_url": institution.get_absolute_url(),
        "today": timezone.localdate(),
        **timeline_context(
            institution, history, parse_kinds(params.getlist("kind")), params.get("page")
        ),
    }


def page_context(
    request: HttpRequest,
    institution: Institution,
    params,
    posted_form: EvidenceForm | None = None,
) -> dict:
    """Everything the whole page shows, in a fixed number of queries: the timeline
    partial's context, and the rest of the page around it."""
    context = timeline_partial_context(request, institution, params)
    history, today = context["history"], context["today"]
    current = [
        intervention
        for intervention in history.interventions
        if intervention.institution_id == institution.pk and intervention.outcome == Outcome.ONGOING
    ]
    current_milestones = [m for m in history.milestones if m.intervention in current]
    chart = trajectory_chart(history, today)
    evidence_forms = {}
    if context["can_write"]:
        attach_status_forms(current_milestones)
        for kind in EvidenceForm.TYPES:
            evidence_forms[kind] = EvidenceForm(
                institution=institution, logged_by=request.user, evidence_type=kind
            )
        if posted_form is not None:
            evidence_forms[posted_form.kind] = posted_form
    context.update(
        {
            "assessment": history.latest_assessment,
            "identifiers": history_reads.identifiers(institution.pk),
            "predecessors": history.predecessor_links,
            "successors": history.successor_links,
            "current_interventions": current,
            "current_milestones": current_milestones,
            "chart": chart,
            "chart_svg": "" if chart.is_empty else chart_svg.draw(chart, institution.name),
            "chart_tables": (
                ""
                if chart.is_empty
                else chart_tables.tables(chart, institution.name, len(history.members))
            ),
            "value_form": evidence_forms.get(EvidenceForm.VALUE),
            "observation_form": evidence_forms.get(EvidenceForm.OBSERVATION),
            "form_errors": bool(posted_form is not None and posted_form.errors),
        }
    )
    return context


@transaction.non_atomic_requests
@role_required
@require_safe
def institution(request: HttpRequest, slug: str) -> HttpResponse:
    institution = get_institution_for_reader(request, slug)
    return render(request, TEMPLATE, page_context(request, institution, request.GET))


@transaction.non_atomic_requests
@role_required
@require_safe
def status(request: HttpRequest, slug: str) -> HttpResponse:
    """The status area. Polled every 2 seconds while a recompute is pending.

    The poll says which status version it shows (`since`); while that is still the
    current one and the recompute is pending, the answer is 204 No Content, which
    htmx does not swap, so the page (and a screen reader) sees no churn until
    there is news. Without htmx this is the page itself.
    """
    institution = get_institution_for_reader(request, slug)
    if not request.htmx:
        return redirect(institution)
    since = request.GET.get("since")
    if institution.needs_recompute and since == str(institution.status_version):
        return HttpResponse(status=204)
    context = status_context(institution)
    context["announce"] = since is not None
    return render(request, f"{TEMPLATE}#status", context)


@transaction.non_atomic_requests
@role_required
@require_safe
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    """The timeline alone, filtered, for htmx; the address bar gets the page's own URL,
    so a filtered timeline is a link anyone can share. Without htmx, that page."""
    institution = get_institution_for_reader(request, slug)
    context = timeline_partial_context(request, institution, request.GET)
    page_url = institution.get_absolute_url()
    if context["timeline_query"]:
        page_url += f"?{context['timeline_query']}"
    if not request.htmx:
        return redirect(f"{page_url}#timeline")
    response = render(request, f"{TEMPLATE}#timeline", context)
    # The timeline also refreshes itself after a change elsewhere on the page; that
    # is not a navigation, so only a request from the filters or the pages moves the URL.
    if request.htmx.trigger != "timeline":
        push_url(response, page_url)
    return response


@role_required
@require_POST
def log_evidence(request: HttpRequest, slug: str) -> HttpResponse:
    """Log an indicator value or an observation, then show it and recompute the status.

    Errors come back with status 200: htmx 2 swaps only 2xx responses by default, and
    the error summary is content to show, not a failure of the request.
    """
    institution = get_institution_for_writer(request, slug)
    kind = request.POST.get("evidence_type", "")
    form = EvidenceForm(
        request.POST,
        request.FILES,
        institution=institution,
        logged_by=request.user,
        evidence_type=kind,
    )
    if not form.is_valid():
        if request.htmx:
            context = {"institution": institution, "evidence_form": form}
            return render(request, f"{TEMPLATE}#evidence-form", context)
        return render(request, TEMPLATE, page_context(request, institution, request.GET, form))
    evidence = form.save()
    if not request.htmx:
        messages.success(
            request,
            f"Evidence logged: {evidence_title(evidence)}, {date_format(evidence.observed_on)}.",
        )
        return redirect(f"{institution.get_absolute_url()}#evidence-{evidence.pk}")
    # The signal flagged the institution for recompute in this transaction.
    institution.refresh_from_db()
    # The timeline's filters come along (hx-include), so it stays as the person left it.
    # Only what #evidence-logged shows: a fresh form, the timeline and the status.
    context = timeline_partial_context(request, institution, request.POST)
    context["assessment"] = context["history"].latest_assessment
    context["evidence_form"] = EvidenceForm(
        institution=institution, logged_by=request.user, evidence_type=form.kind
    )
    context["logged"] = evidence
    return render(request, f"{TEMPLATE}#evidence-logged", context)
