"""The intervention page, and the writes on interventions' own data: add a milestone,
change a milestone's status, retract evidence; and the download of evidence's attachment.

Each write works as a plain form POST that redirects, and in place with htmx, where
it renders one partial of templates/interventions/intervention.html:
  #milestones     the milestone table and the add-a-milestone form
  #milestone-row  one milestone's row, with its status form
Validation errors come back with status 200, since htmx 2 swaps only 2xx responses.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import trigger_client_event

from failwell import history_reads
from failwell.access import can_write_for, role_required
from interventions.access import (
    get_evidence_for_writer,
    get_intervention_for_writer,
    get_milestone_for_writer,
)
from interventions.attachments import attachment_response
from interventions.forms import (
    MilestoneForm,
    MilestoneStatusForm,
    RetractEvidenceForm,
    attach_status_forms,
    status_form_prefix,
)
from interventions.models import Evidence, Intervention
from interventions.templatetags.evidence import evidence_title

TEMPLATE = "interventions/intervention.html"
# Sent after a milestone changes: the institution page refreshes its status and
# timeline on it (see templates/failwell/institution.html).
HISTORY_CHANGED = "history-changed"


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a plain form POST: the page the form was on, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def intervention_context(
    request: HttpRequest,
    intervention: Intervention,
    milestone_form: MilestoneForm | None = None,
) -> dict:
    can_write = can_write_for(request.user, intervention.institution)
    milestones = list(intervention.milestones.all())
    if can_write:
        attach_status_forms(milestones)
        milestone_form = milestone_form or MilestoneForm(intervention=intervention)
    evidence = history_reads.evidence_rows("evidence.intervention_id = %s", [intervention.pk])
    in_full = history_reads.in_full(evidence)
    today = timezone.localdate()
    return {
        "intervention": intervention,
        "institution": intervention.institution,
        "milestones": milestones,
        "evidence": [in_full[row.pk] for row in reversed(evidence)],  # newest first
        "can_write": can_write,
        "writable_ids": {intervention.institution_id} if can_write else set(),
        "next_url": intervention.get_absolute_url(),
        "milestone_form": milestone_form,
        "today": today,
        "inside_grace": intervention.started_on <= today < intervention.grace_window_ends_on,
    }


@role_required
@require_safe
def intervention(request: HttpRequest, pk: int) -> HttpResponse:
    intervention = get_object_or_404(
        Intervention.objects.select_related("institution", "type", "lead"), pk=pk
    )
    return render(request, TEMPLATE, intervention_context(request, intervention))


@role_required
@require_POST
def add_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    intervention = get_intervention_for_writer(request, pk)
    form = MilestoneForm(request.POST, intervention=intervention)
    if not form.is_valid():
        context = intervention_context(request, intervention, milestone_form=form)
        return render(request, f"{TEMPLATE}#milestones" if request.htmx else TEMPLATE, context)
    milestone = form.save()
    if not request.htmx:
        messages.success(request, f"Milestone added: {milestone}.")
        return redirect(f"{intervention.get_absolute_url()}#milestone-{milestone.pk}")
    context = intervention_context(request, intervention)
    context["added"] = milestone
    return trigger_client_event(render(request, f"{TEMPLATE}#milestones", context), HISTORY_CHANGED)


@role_required
def update_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a milestone's status: in its row with htmx, or on a page of its own."""
    milestone = get_milestone_for_writer(request, pk)
    back = next_url(request, milestone.intervention.get_absolute_url())
    form = MilestoneStatusForm(
        request.POST if request.method == "POST" else None,
        instance=milestone,
        prefix=status_form_prefix(milestone),
    )
    if request.method == "POST" and form.is_valid():
        milestone = form.save(commit=False)
        milestone.save(update_fields=["status", "achieved_on", "updated_at"])
        if not request.htmx:
            messages.success(
                request, f"“{milestone}” is now {milestone.get_status_display().lower()}."
            )
            return redirect(f"{back.split('#')[0]}#milestone-{milestone.pk}")
        attach_status_forms([milestone])
        context = {"milestone": milestone, "can_write": True, "next_url": back, "saved": True}
        context["today"] = timezone.localdate()
        return trigger_client_event(
            render(request, f"{TEMPLATE}#milestone-row", context), HISTORY_CHANGED
        )
    # A failed validation has written the posted values onto the instance; the row
    # shows what is stored, the form what was typed.
    milestone.refresh_from_db(fields=["status", "achieved_on"])
    milestone.status_form = form
    context = {
        "milestone": milestone,
        "form": form,
        "can_write": True,
        "next_url": back,
        "today": timezone.localdate(),
    }
    if request.htmx:
        return render(request, f"{TEMPLATE}#milestone-row", context)
    return render(request, "interventions/milestone_status.html", context)


@role_required
def retract_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """Retract evidence with a reason. It is never deleted: it stays, struck through."""
    evidence = get_evidence_for_writer(request, pk)
    back = next_url(request, evidence.institution.get_absolute_url())
    form = RetractEvidenceForm(
        request.POST if request.method == "POST" else None, evidence=evidence
    )
    if request.method == "POST" and form.is_valid():
        evidence.retract(request.user, form.cleaned_data["reason"])
        messages.success(
            request,
            f"Evidence retracted: {evidence_title(evidence)}, {date_format(evidence.observed_on)}. "
            "It stays in the history, struck through.",
        )
        return redirect(f"{back.split('#')[0]}#evidence-{evidence.pk}")
    return render(
        request,
        "interventions/evidence_retract.html",
        {"evidence": evidence, "form": form, "next_url": back},
    )


@role_required
@require_safe
def evidence_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """Download evidence's attachment: every role reads evidence, so every role may.

    MEDIA_ROOT is never served directly; this is the only way to a stored file,
    retracted evidence's included (it stays in the history, and so does its file).
    """
    evidence = get_object_or_404(
        Evidence.objects.only("pk", "attachment", "attachment_name"), pk=pk
    )
    return attachment_response(evidence)
