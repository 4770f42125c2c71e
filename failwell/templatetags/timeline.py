"""The timeline's items as MOJ timeline markup: evidence on the institution and
intervention pages, and the institution page's inspections, interventions,
milestones and status changes.

    {% load timeline %}
    <div class="moj-timeline">{% timeline_items timeline_page history %}</div>
    {% evidence_items evidence milestones %}

Written in Python rather than templates: a page of the timeline is fifty items of
a dozen fields each, and as template variables they cost the institution page
more Python time than all of its SQL takes. Every text is escaped with
html.escape (what django.utils.html.escape does, without its lazy-string check per
call). Dates are written by one failwell.dates.DateFormats per tag, which reads the
language once rather than per date. The tags read from the page's context:
`writable_ids` (the institutions the user may write for: evidence shows a retract
form only for those), `next_url` (where retracting returns) and the CSRF token.
"""

from __future__ import annotations

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from failwell.dates import DateFormats
from failwell.filters import person_name
from failwell.timeline import EvidenceRow, LineageHistory, TimelineEntry

register = template.Library()


@register.simple_tag(takes_context=True)
def timeline_items(context: template.Context, entries, history: LineageHistory) -> SafeString:
    """Every entry of a page of the timeline (failwell.timeline.TimelineEntry) of this
    LineageHistory, which names the interventions and milestones evidence is for."""
    links = _Links(history.interventions, history.milestones)
    form = _RetractForm.from_context(context)
    dates = DateFormats()
    return SafeString(
        "".join(
            _evidence(entry.item, entry.member, form, links, dates)
            if entry.kind == "evidence"
            else _entry(entry, links, dates)
            for entry in entries
        )
    )


@register.simple_tag(takes_context=True)
def evidence_items(
    context: template.Context, evidence: list[EvidenceRow], milestones
) -> SafeString:
    """Evidence (EvidenceRows with their details) on its intervention's page, which has
    these milestones: each item names its milestone, not the intervention."""
    links = _Links(interventions=[], milestones=milestones)
    form = _RetractForm.from_context(context)
    dates = DateFormats()
    return SafeString("".join(_evidence(item, None, form, links, dates) for item in evidence))


class _Links:
    """The interventions and milestones a page's evidence may be for, by id: their
    names and each intervention's address, reversed once a page."""

    def __init__(self, interventions, milestones):
        self.interventions = {intervention.pk: intervention for intervention in interventions}
        self.milestones = {milestone.pk: milestone.title for milestone in milestones}
        self.urls: dict[int, str] = {}

    def intervention_url(self, pk: int) -> str:
        if pk not in self.urls:
            self.urls[pk] = reverse("intervention", args=[pk])
        return self.urls[pk]

    def intervention_name(self, pk: int) -> str | None:
        """Its type's name; None when this page does not name it."""
        intervention = self.interventions.get(pk)
        return intervention.type.name if intervention else None


class _RetractForm:
    """What the retract form needs from the page: who may retract, and how to post."""

    def __init__(self, writable_ids, next_url: str, csrf_token):
        self.writable_ids = writable_ids
        self.next_url = next_url
        # Lazy, as the context processor gives it: reading it makes Django send the
        # CSRF cookie, which a page with no form to post need not.
        self.csrf_token = csrf_token

    @classmethod
    def from_context(cls, context: template.Context) -> _RetractForm:
        return cls(
            context.get("writable_ids") or (),
            context.get("next_url") or "",
            context.get("csrf_token"),
        )

    def html(self, evidence: EvidenceRow, observed: str) -> str:
        pk = evidence.pk
        # As the {% csrf_token %} tag writes it: the token of this request, if any.
        csrf_token = str(self.csrf_token or "")
        token = ""
        if csrf_token and csrf_token != "NOTPROVIDED":
            token = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        return (
            '<details class="govuk-details govuk-!-margin-top-2 govuk-!-margin-bottom-0">'
            '<summary class="govuk-details__summary"><span class="govuk-details__summary-text">'
            f'Retract<span class="govuk-visually-hidden"> this evidence from {observed}</span>'
            "</span></summary>"
            '<div class="govuk-details__text">'
            f'<form method="post" action="{reverse("retract-evidence", args=[pk])}" novalidate>'
            f"{token}"
            f'<input type="hidden" name="next" value="{escape(self.next_url)}">'
            '<div class="govuk-form-group">'
            f'<label class="govuk-label" for="retract-{pk}-reason">'
            "Why are you retracting it?</label>"
            f'<div id="retract-{pk}-hint" class="govuk-hint">'
            "It stays in the history, struck through, with this reason.</div>"
            f'<textarea class="govuk-textarea" id="retract-{pk}-reason" name="reason" rows="2"'
            f' aria-describedby="retract-{pk}-hint"></textarea>'
            "</div>"
            '<button type="submit" class="govuk-button govuk-button--warning'
            ' govuk-!-margin-bottom-0" data-module="govuk-button">Retract evidence</button>'
            "</form></div></details>"
        )


def _person(user) -> str:
    return person_name(user.first_name, user.last_name, user.get_username())


def _lines(text: str) -> str:
    """Escaped, with a <br> for each line break: the linebreaksbr filter."""
    return escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def _evidence(
    evidence: EvidenceRow, member, form: _RetractForm, links: _Links, dates: DateFormats
) -> str:
    """One piece of evidence. Retracted evidence stays, struck through, with why."""
    retracted = evidence.is_retracted
    observed = escape(dates.long(evidence.observed_on))
    title = escape(evidence.title)
    if retracted:
        title = f'<span class="govuk-visually-hidden">Retracted: </span><del>{title}</del>'
    by = escape(evidence.logged_by_name) or "an import"
    if member:
        by += f", at {escape(member.name)}"
    parts = [
        f'<div class="moj-timeline__item" id="evidence-{evidence.pk}">',
        '<div class="moj-timeline__header">',
        f'<h3 class="moj-timeline__title">{title}</h3>',
        f'<p class="moj-timeline__byline">by {by}</p>',
        "</div>",
        f'<p class="moj-timeline__date"><time datetime="{evidence.observed_on.isoformat()}">'
        f"{observed}</time></p>",
        '<div class="moj-timeline__description">',
    ]
    if retracted:
        parts.append(
            '<p class="govuk-body govuk-!-margin-bottom-2">'
            '<strong class="govuk-tag govuk-tag--grey">Retracted</strong></p>'
        )
    if evidence.summary:
        summary = _lines(evidence.summary)
        if retracted:
            summary = f"<del>{summary}</del>"
        parts.append(f'<p class="govuk-body govuk-!-margin-bottom-1">{summary}</p>')
    linked = ""
    milestone = links.milestones.get(evidence.milestone_id, "")
    intervention = evidence.intervention_id and links.intervention_name(evidence.intervention_id)
    if intervention:
        linked = (
            f'For <a class="govuk-link" href="{links.intervention_url(evidence.intervention_id)}">'
            f"{escape(intervention)}</a>"
        )
        if evidence.milestone_id:
            linked += f", milestone “{escape(milestone)}”"
    elif evidence.milestone_id:
        linked = f"For milestone “{escape(milestone)}”"
    if linked:
        parts.append(f'<p class="govuk-body-s govuk-!-margin-bottom-1">{linked}</p>')
    if evidence.attachment:
        # Only through the app's download view (signed-in readers); never a MEDIA_URL link.
        name = escape(evidence.attachment_name or "download the file")
        parts.append(
            '<p class="govuk-body-s govuk-!-margin-bottom-1">Attachment: <a class="govuk-link"'
            f' href="{reverse("evidence-attachment", args=[evidence.pk])}" download>{name}'
            f'<span class="govuk-visually-hidden"> (evidence from {observed})</span></a></p>'
        )
    parts.append(
        '<p class="govuk-body-s govuk-hint govuk-!-margin-bottom-0">'
        f"Logged {escape(dates.local_day_and_time(evidence.logged_at))}</p>"
    )
    if retracted:
        by = f" by {escape(evidence.retracted_by_name)}" if evidence.retracted_by_name else ""
        parts.append(
            '<p class="govuk-body-s govuk-!-margin-top-1 govuk-!-margin-bottom-0">'
            f"Retracted {escape(dates.local_day(evidence.retracted_at))}{by}:"
            f" {escape(evidence.retraction_reason)}</p>"
        )
    elif evidence.institution_id in form.writable_ids:
        parts.append(form.html(evidence, observed))
    parts.append("</div></div>")
    return "".join(parts)


def _entry(entry: TimelineEntry, links: _Links, dates: DateFormats) -> str:
    """An inspection, an intervention's start or end, a milestone, or a status change.
    Each kind gives its title as text, escaped here, and its description as markup."""
    title, description = {
        "inspection": _inspection,
        "intervention": _intervention,
        "milestone": _milestone,
        "status": _status_change,
    }[entry.kind](entry, links, dates)
    byline = ""
    if entry.member:
        byline = f'<p class="moj-timeline__byline">at {escape(entry.member.name)}</p>'
    return (
        f'<div class="moj-timeline__item" id="{escape(entry.anchor)}">'
        '<div class="moj-timeline__header">'
        f'<h3 class="moj-timeline__title">{escape(title)}</h3>'
        f"{byline}</div>"
        f'<p class="moj-timeline__date"><time datetime="{entry.on.isoformat()}">'
        f"{escape(dates.long(entry.on))}</time></p>"
        f'<div class="moj-timeline__description">{description}</div>'
        "</div>"
    )


def _inspection(entry: TimelineEntry, links: _Links, dates: DateFormats) -> tuple[str, str]:
    inspection = entry.item
    band = inspection.headline_band
    concern = ""
    if inspection.category_of_concern:
        concern = (
            "; category of concern: "
            f"<strong>{escape(inspection.category_of_concern_label.lower())}</strong>"
        )
    parts = [
        '<p class="govuk-body govuk-!-margin-bottom-1">Headline band: '
        f"{escape(band.label if band else 'not graded')}{concern}.</p>"
    ]
    if inspection.judgements:
        items = "".join(
            f"<li>{escape(judgement.area)}: {escape(judgement.grade)}</li>"
            for judgement in inspection.judgements
        )
        parts.append(f'<ul class="govuk-list govuk-body-s govuk-!-margin-bottom-1">{items}</ul>')
    source = escape(inspection.scale)
    if inspection.published_on:
        source += f", published {dates.short(inspection.published_on)}"
    # Only a web address becomes a link: report_url is a URLField, but a row written
    # around its validation must never give a javascript: link.
    if inspection.report_url.lower().startswith(("https://", "http://")):
        source += (
            f'. <a class="govuk-link" href="{escape(inspection.report_url)}"'
            ' rel="noreferrer noopener">Read the report<span class="govuk-visually-hidden">'
            f" of the {dates.long(inspection.inspected_on)} inspection</span></a>"
        )
    parts.append(f'<p class="govuk-body-s govuk-!-margin-bottom-0">{source}</p>')
    title = f"{inspection.inspectorate} inspection: {inspection.headline_label}"
    return title, "".join(parts)


def _intervention(entry: TimelineEntry, links: _Links, dates: DateFormats) -> tuple[str, str]:
    intervention = entry.item
    name = intervention.type.name
    outcome = intervention.get_outcome_display().lower()
    if entry.event == "started":
        title = f"{name} started"
        led = f", led by {escape(_person(intervention.lead))}" if intervention.lead else ""
        parts = [
            '<p class="govuk-body govuk-!-margin-bottom-1">'
            f"{escape(intervention.get_intensity_display())}{led}. Grace window of"
            f" {intervention.effective_grace_months} months, to"
            f" {dates.short(intervention.grace_window_ends_on)}.</p>"
        ]
        if intervention.objectives:
            objectives = Truncator(intervention.objectives).words(40, truncate=" …")
            parts.append(
                f'<p class="govuk-body-s govuk-!-margin-bottom-1">{escape(objectives)}</p>'
            )
    else:
        title = f"{name} ended: {outcome}"
        parts = [
            '<p class="govuk-body govuk-!-margin-bottom-1">Started'
            f" {dates.short(intervention.started_on)}; outcome: {escape(outcome)}.</p>"
        ]
    parts.append(
        '<p class="govuk-body-s govuk-!-margin-bottom-0"><a class="govuk-link"'
        f' href="{links.intervention_url(intervention.pk)}">Open the intervention'
        f'<span class="govuk-visually-hidden"> {escape(name)} from'
        f" {dates.long(intervention.started_on)}</span></a></p>"
    )
    return title, "".join(parts)


# The events a milestone's title names; any other is "due".
MILESTONE_EVENTS = {"met", "missed", "dropped"}


def _milestone(entry: TimelineEntry, links: _Links, dates: DateFormats) -> tuple[str, str]:
    milestone = entry.item
    event = entry.event if entry.event in MILESTONE_EVENTS else "due"
    title = f"Milestone {event}: {milestone.title}"
    if milestone.achieved_on:
        state = f", met {dates.short(milestone.achieved_on)}"
    else:
        state = f"; {escape(milestone.get_status_display().lower())}"
    description = (
        '<p class="govuk-body govuk-!-margin-bottom-0">'
        f"{escape(milestone.intervention.type.name)}. Due {dates.short(milestone.due_on)}"
        f"{state}.</p>"
    )
    if milestone.notes:
        description += (
            f'<p class="govuk-body-s govuk-!-margin-bottom-0">{escape(milestone.notes)}</p>'
        )
    return title, description


def _status_change(entry: TimelineEntry, links: _Links, dates: DateFormats) -> tuple[str, str]:
    assessment = entry.item
    reasons = "".join(f"<li>{escape(reason_text(reason))}</li>" for reason in assessment.reasons)
    return f"Status: {assessment.get_status_display()}", (
        '<ul class="govuk-list govuk-list--bullet govuk-body-s govuk-!-margin-bottom-1">'
        f"{reasons}</ul>"
        '<p class="govuk-body-s govuk-hint govuk-!-margin-bottom-0">'
        f"Trajectory method version {escape(str(assessment.method_version))}.</p>"
    )


def reason_text(reason) -> str:
    """A stored reason's words: its "text", or the reason itself (older rows were strings)."""
    if isinstance(reason, dict) and reason.get("text"):
        return str(reason["text"])
    return str(reason)
