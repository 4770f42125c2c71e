"""Checks of an institution's history rows: inspections, interventions with their
milestones, and evidence. Each returns a spec, or None with its errors recorded."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from institutions.models import (
    CategoryOfConcern,
)
from interventions.bundle.reader import Checker, kind_of, max_length, one_of
from interventions.bundle.specs import (
    CheckContext,
    EvidenceSpec,
    InspectionSpec,
    InterventionSpec,
    MilestoneSpec,
)
from interventions.models import (
    Direction,
    Intensity,
    Milestone,
    MilestoneStatus,
    Outcome,
)

INSPECTION_KEYS = {
    "inspectorate",
    "scale",
    "date",
    "published_on",
    "overall",
    "category_of_concern",
    "judgements",
    "report_url",
    "reference",
}
INTERVENTION_KEYS = {
    "type",
    "started_on",
    "ended_on",
    "outcome",
    "intensity",
    "objectives",
    "grace_months",
    "milestones",
}
MILESTONE_KEYS = {"title", "due_on", "status", "achieved_on", "notes"}
EVIDENCE_KEYS = {
    "observed_on",
    "indicator",
    "value",
    "direction",
    "summary",
    "intervention",
    "milestone",
    "retracted",
}


def check_inspection(context: CheckContext, item: Any, path: str) -> InspectionSpec | None:
    check = context.check
    if check.object(item, path, INSPECTION_KEYS, required=("scale", "date")) is None:
        return None
    inspected_on = check.date(item, "date", path)
    scale_slug = check.text(item, "scale", path, blank=False)
    inspectorate = check.slug(item, "inspectorate", path)
    values: dict[str, Any] = {}
    category = check.choice(
        item, "category_of_concern", path, CategoryOfConcern, "a category of concern"
    )
    check.given(item, values, "category_of_concern", category, empty="")
    published_on = check.date(item, "published_on", path)
    check.given(item, values, "published_on", published_on)
    if published_on and inspected_on and published_on < inspected_on:
        check.error(f"{path}.published_on", f"is before the inspection date {inspected_on}")
    report_url = check.text(item, "report_url", path, limit=200)
    if report_url:
        try:
            URLValidator()(report_url)
        except ValidationError:
            check.error(f"{path}.report_url", f'"{report_url}" is not a web address')
    check.given(item, values, "report_url", report_url, empty="")
    reference = check.text(item, "reference", path, limit=50)
    check.given(item, values, "reference", reference, empty="")

    if scale_slug is None:
        return None
    scale = context.scales.get(scale_slug)
    if scale is None:
        check.error(
            f"{path}.scale",
            f'no rating scale "{scale_slug}" (define it under rating_scales; '
            f"known: {one_of(sorted(context.scales))})",
        )
        return None
    if inspectorate is None:
        inspectorate = scale.inspectorate
    elif inspectorate != scale.inspectorate:
        check.error(
            f"{path}.inspectorate",
            f"scale {scale.slug} belongs to inspectorate {scale.inspectorate}, not {inspectorate}",
        )
        return None

    overall = None
    label = check.text(item, "overall", path, blank=False)
    if label is not None:
        if not scale.has_overall_grade:
            check.error(
                f"{path}.overall",
                f"scale {scale.slug} has no overall grade; grade its areas under judgements",
            )
        else:
            overall = scale.grade(label)
            if overall is None:
                check.error(
                    f"{path}.overall",
                    f'no grade "{label}" on scale {scale.slug} (grades: {one_of(scale.labels())})',
                )
    judgements = None
    raw = item.get("judgements")
    if raw is not None and not isinstance(raw, dict):
        check.error(f"{path}.judgements", f"expected an object of area: grade, got {kind_of(raw)}")
    elif raw is not None:
        judgements = {}
        for area_slug, grade_label in raw.items():
            jpath = f"{path}.judgements.{area_slug}"
            if scale.area(area_slug) is None:
                areas = one_of(a.slug for a in scale.areas) if scale.areas else "it has no areas"
                check.error(jpath, f'no area "{area_slug}" on scale {scale.slug} ({areas})')
                continue
            if not isinstance(grade_label, str):
                check.error(jpath, f"expected a grade label, got {kind_of(grade_label)}")
                continue
            found = scale.grade(grade_label, area_slug)
            if found is None:
                check.error(
                    jpath,
                    f'no grade "{grade_label}" for area {area_slug} on scale {scale.slug} '
                    f"(grades: {one_of(scale.labels(area_slug))})",
                )
                continue
            judgements[area_slug] = found
    if inspected_on is None:
        return None
    return InspectionSpec(
        inspectorate=inspectorate,
        scale=scale.slug,
        inspected_on=inspected_on,
        overall=overall,
        judgements=judgements,
        values=values,
    )


def check_intervention(context: CheckContext, item: Any, path: str) -> InterventionSpec | None:
    check = context.check
    if check.object(item, path, INTERVENTION_KEYS, required=("type", "started_on")) is None:
        return None
    type_slug = check.slug(item, "type", path)
    if type_slug is not None and type_slug not in context.types:
        check.error(
            f"{path}.type",
            f'no intervention type "{type_slug}" (types: {one_of(sorted(context.types))})',
        )
        type_slug = None
    started_on = check.date(item, "started_on", path)
    ended_on = check.date(item, "ended_on", path)
    outcome = check.choice(item, "outcome", path, Outcome, "an outcome")
    values: dict[str, Any] = {}
    check.given(item, values, "ended_on", ended_on)
    check.given(item, values, "outcome", outcome, empty=Outcome.ONGOING)
    intensity = check.choice(item, "intensity", path, Intensity, "an intensity")
    check.given(item, values, "intensity", intensity, empty=Intensity.MONITORING)
    objectives = check.text(item, "objectives", path)
    check.given(item, values, "objectives", objectives, empty="")
    check.given(item, values, "grace_months", check.whole(item, "grace_months", path, most=600))

    # Checked only when both parsed, so a bad date is not reported twice.
    outcome_ok = item.get("outcome") is None or outcome is not None
    ended_ok = item.get("ended_on") is None or ended_on is not None
    if ("outcome" in item or "ended_on" in item) and outcome_ok and ended_ok:
        if (outcome or Outcome.ONGOING) == Outcome.ONGOING and ended_on is not None:
            check.error(
                f"{path}.outcome",
                f"ended_on is {ended_on} but the outcome is ongoing: "
                "give the outcome it ended with, or no end date",
            )
        elif outcome not in (None, Outcome.ONGOING) and ended_on is None:
            check.error(
                f"{path}.ended_on",
                f'the outcome is "{outcome}" but there is no end date: an intervention '
                "with an outcome has ended",
            )
    if started_on and ended_on and ended_on < started_on:
        check.error(f"{path}.ended_on", f"{ended_on} is before started_on {started_on}")

    milestones: list[MilestoneSpec] = []
    for mpath, milestone in check.items(item, "milestones", path):
        found = _check_milestone(check, milestone, mpath)
        if found is None:
            continue
        if found.title.lower() in {m.title.lower() for m in milestones}:
            check.error(f"{mpath}.title", f'milestone "{found.title}" is listed twice')
            continue
        milestones.append(found)
    if type_slug is None or started_on is None:
        return None
    return InterventionSpec(
        type=type_slug, started_on=started_on, values=values, milestones=milestones
    )


def _check_milestone(check: Checker, item: Any, path: str) -> MilestoneSpec | None:
    if check.object(item, path, MILESTONE_KEYS, required=("title", "due_on")) is None:
        return None
    title = check.text(item, "title", path, limit=max_length(Milestone, "title"), blank=False)
    due_on = check.date(item, "due_on", path)
    status = check.choice(item, "status", path, MilestoneStatus, "a milestone status")
    achieved_on = check.date(item, "achieved_on", path)
    values: dict[str, Any] = {"due_on": due_on}
    check.given(item, values, "status", status, empty=MilestoneStatus.PLANNED)
    check.given(item, values, "achieved_on", achieved_on)
    check.given(item, values, "notes", check.text(item, "notes", path), empty="")
    if status == MilestoneStatus.MET and achieved_on is None:
        check.error(f"{path}.achieved_on", "a met milestone needs the date it was achieved")
    elif status is not None and status != MilestoneStatus.MET and achieved_on is not None:
        check.error(f"{path}.achieved_on", f'only a met milestone has one (status is "{status}")')
    elif item.get("status") is None and achieved_on is not None:
        check.error(f"{path}.status", 'give status "met" with an achieved_on date')
    if title is None or due_on is None:
        return None
    return MilestoneSpec(title=title, values=values)


def check_evidence(
    context: CheckContext, item: Any, path: str, links: dict[tuple, set[str]]
) -> EvidenceSpec | None:
    check = context.check
    if check.object(item, path, EVIDENCE_KEYS, required=("observed_on",)) is None:
        return None
    observed_on = check.date(item, "observed_on", path)
    indicator = check.slug(item, "indicator", path)
    value = check.number(item, "value", path)
    direction = check.choice(item, "direction", path, Direction, "a direction")
    summary = check.text(item, "summary", path) or ""
    has_value, has_direction = item.get("value") is not None, item.get("direction") is not None
    if has_value and has_direction:
        check.error(path, "give either an indicator value or a direction, not both")
    elif not has_value and not has_direction:
        check.error(path, "give either an indicator with a value, or a direction")
    elif has_value and item.get("indicator") is None:
        check.error(f"{path}.indicator", "a value needs the indicator it measures")
    elif has_direction and item.get("indicator") is not None:
        check.error(f"{path}.indicator", "an observation with a direction has no indicator")
    if indicator is not None and indicator not in context.indicators:
        check.error(
            f"{path}.indicator",
            f'no indicator "{indicator}" (define it under indicators; '
            f"known: {one_of(sorted(context.indicators))})",
        )
    spec = EvidenceSpec(
        observed_on=observed_on,
        indicator=indicator,
        value=value,
        direction=direction or "",
        summary=summary,
    )
    if "intervention" in item or "milestone" in item:
        spec.link_given = True
        _check_evidence_link(check, item, path, spec, links)
    if item.get("retracted") is not None:
        rpath = f"{path}.retracted"
        retracted = item["retracted"]
        if check.object(retracted, rpath, {"at", "reason"}, required=("at", "reason")):
            at = check.moment(retracted, "at", rpath)
            reason = check.text(retracted, "reason", rpath, blank=False)
            if at and reason:
                spec.retracted = (at, reason)
    if observed_on is None or (indicator is None and direction is None):
        return None
    return spec


def _check_evidence_link(check, item, path, spec: EvidenceSpec, links) -> None:
    raw = item.get("intervention")
    if raw is not None:
        ipath = f"{path}.intervention"
        if check.object(raw, ipath, {"type", "started_on"}, required=("type", "started_on")):
            key = (check.slug(raw, "type", ipath), check.date(raw, "started_on", ipath))
            if None not in key and key not in links:
                check.error(
                    ipath,
                    f"no {key[0]} intervention starting {key[1]} for this institution",
                )
            elif None not in key:
                spec.intervention = key
    title = check.text(item, "milestone", path, blank=False)
    if title is not None:
        if raw is None:
            check.error(f"{path}.milestone", "a milestone needs its intervention")
        elif spec.intervention is not None:
            titles = {t.lower(): t for t in links[spec.intervention]}
            if title.lower() not in titles:
                check.error(
                    f"{path}.milestone",
                    f'no milestone "{title}" in that intervention',
                )
            else:
                spec.milestone = titles[title.lower()]
