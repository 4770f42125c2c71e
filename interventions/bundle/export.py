"""Writing institutions out as a bundle, with each one's trajectory on a given day.

Output is deterministic (every list sorted by its natural key, no timestamps of
the export itself), so two exports of the same data are byte-for-byte equal and a
bundle can be diffed. Institutions are written one batch at a time, so exporting
every institution in England does not hold them all in memory.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any, TextIO

from django.db.models import Prefetch

from institutions.models import (
    Inspection,
    Inspectorate,
    Institution,
    LineageLink,
    RatingScale,
    lineages,
)
from interventions.bundle.reader import FORMAT
from interventions.bundle.scales import ScaleSpec, scale_as_dict
from interventions.history import load_histories
from interventions.models import Evidence, Indicator, Intervention
from interventions.services import thresholds
from interventions.trajectory import assess

BATCH_SIZE = 200


def export_bundle(
    out: TextIO,
    *,
    as_of: datetime.date,
    institutions: Iterable[Institution] | None = None,
) -> int:
    """Write a bundle of every institution, or of those given together with their
    whole lineages and parent bodies (so the bundle imports on its own); returns
    how many institutions were written."""
    if institutions is None:
        ids = set(Institution.objects.values_list("pk", flat=True))
        complete = True
    else:
        ids = _with_relatives({institution.pk for institution in institutions})
        complete = False
    slugs = dict(Institution.objects.filter(pk__in=ids).values_list("pk", "slug"))
    order = sorted(ids, key=slugs.__getitem__)

    out.write("{\n")
    out.write(f'  "format": {json.dumps(FORMAT)},\n')
    for key, entries in _reference_data(ids, complete).items():
        out.write(f'  "{key}": {_dump(entries, 1)},\n')
    out.write('  "institutions": [')
    method_thresholds = thresholds()
    written = 0
    for start in range(0, len(order), BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        histories = load_histories(batch)
        by_pk = {i.pk: i for i in _with_history(Institution.objects.filter(pk__in=batch))}
        for pk in batch:
            entry = institution_as_dict(by_pk[pk])
            assessment = assess(histories[pk], as_of, method_thresholds)
            entry["trajectory"] = {
                "status": assessment.status,
                "as_of": assessment.as_of.isoformat(),
                "method_version": assessment.method_version,
                "reasons": [reason.as_dict() for reason in assessment.reasons],
            }
            out.write(",\n    " if written else "\n    ")
            out.write(_dump(entry, 2))
            written += 1
    out.write("\n  ]\n}\n" if written else "]\n}\n")
    return written


def _dump(value: Any, level: int) -> str:
    """JSON for a value nested `level` deep in a two-space-indented document."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


def _with_relatives(ids: set[int]) -> set[int]:
    """The institutions plus everyone in their lineages and their parent bodies."""
    while True:
        found = set().union(*lineages(ids).values()) if ids else set()
        found |= set(
            Institution.objects.filter(pk__in=found, parent__isnull=False).values_list(
                "parent_id", flat=True
            )
        )
        if found <= ids:
            return ids
        ids |= found


def _reference_data(ids: set[int], complete: bool) -> dict[str, list]:
    """Inspectorates, indicators and scales: all of them for a complete export,
    otherwise those the exported institutions use."""
    inspectorates = Inspectorate.objects.all()
    indicators = Indicator.objects.all()
    scales = RatingScale.objects.select_related("inspectorate").prefetch_related("grades", "areas")
    if not complete:
        scale_ids = Inspection.objects.filter(institution_id__in=ids).values("scale_id")
        scales = scales.filter(pk__in=scale_ids)
        inspectorates = inspectorates.filter(
            pk__in=Inspection.objects.filter(institution_id__in=ids).values("inspectorate_id")
        ) | inspectorates.filter(rating_scales__in=scale_ids)
        indicators = indicators.filter(
            pk__in=Evidence.objects.filter(institution_id__in=ids).values("indicator_id")
        )
    return {
        "inspectorates": [
            {"slug": i.slug, "name": i.name} for i in inspectorates.distinct().order_by("slug")
        ],
        "indicators": [_indicator_as_dict(i) for i in indicators.order_by("slug")],
        "rating_scales": [
            scale_as_dict(ScaleSpec.from_model(scale)) for scale in scales.order_by("slug")
        ],
    }


def _indicator_as_dict(indicator: Indicator) -> dict[str, Any]:
    entry: dict[str, Any] = {"slug": indicator.slug, "name": indicator.name}
    if indicator.unit:
        entry["unit"] = indicator.unit
    entry["higher_is_better"] = indicator.higher_is_better
    if indicator.target is not None:
        entry["target"] = indicator.target
    return entry


def _with_history(institutions):
    return institutions.select_related("parent").prefetch_related(
        "identifiers",
        Prefetch(
            "links_as_successor",
            queryset=LineageLink.objects.select_related("predecessor"),
        ),
        Prefetch(
            "inspections",
            queryset=Inspection.objects.select_related(
                "inspectorate", "scale", "overall_grade"
            ).prefetch_related("judgements__area", "judgements__grade"),
        ),
        Prefetch(
            "interventions",
            queryset=Intervention.objects.select_related("type").prefetch_related("milestones"),
        ),
        Prefetch(
            "evidence",
            queryset=Evidence.objects.select_related(
                "indicator", "intervention__type", "milestone"
            ),
        ),
    )


def _day(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def institution_as_dict(institution: Institution) -> dict[str, Any]:
    """One institution's bundle entry (without its trajectory), from prefetched rows."""
    entry: dict[str, Any] = {
        "ref": institution.slug,
        "name": institution.name,
        "sector": institution.sector,
    }
    for key in ("region", "local_authority", "phase", "establishment_type"):
        if getattr(institution, key):
            entry[key] = getattr(institution, key)
    if institution.parent is not None:
        entry["parent"] = institution.parent.slug
    identifiers: dict[str, list[str]] = {}
    for identifier in institution.identifiers.all():
        identifiers.setdefault(identifier.scheme, []).append(identifier.value)
    if identifiers:
        entry["identifiers"] = {
            scheme: values[0] if len(values) == 1 else sorted(values)
            for scheme, values in sorted(identifiers.items())
        }
    links = sorted(institution.links_as_successor.all(), key=lambda link: link.predecessor.slug)
    if links:
        entry["successor_of"] = [
            {"ref": link.predecessor.slug, "kind": link.kind, "on": link.linked_on.isoformat()}
            for link in links
        ]
    inspections = sorted(
        institution.inspections.all(),
        key=lambda i: (i.inspected_on, i.inspectorate.slug, i.scale.slug),
    )
    if inspections:
        entry["inspections"] = [_inspection_as_dict(i) for i in inspections]
    interventions = sorted(
        institution.interventions.all(), key=lambda i: (i.started_on, i.type.slug)
    )
    if interventions:
        entry["interventions"] = [_intervention_as_dict(i) for i in interventions]
    evidence = sorted(institution.evidence.all(), key=_evidence_order)
    if evidence:
        entry["evidence"] = [_evidence_as_dict(e) for e in evidence]
    return entry


def _inspection_as_dict(inspection: Inspection) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "inspectorate": inspection.inspectorate.slug,
        "scale": inspection.scale.slug,
        "date": inspection.inspected_on.isoformat(),
    }
    if inspection.published_on:
        entry["published_on"] = inspection.published_on.isoformat()
    if inspection.overall_grade is not None:
        entry["overall"] = inspection.overall_grade.label
    if inspection.category_of_concern:
        entry["category_of_concern"] = inspection.category_of_concern
    judgements = sorted(inspection.judgements.all(), key=lambda j: (j.area.position, j.area.slug))
    if judgements:
        entry["judgements"] = {j.area.slug: j.grade.label for j in judgements}
    if inspection.report_url:
        entry["report_url"] = inspection.report_url
    if inspection.reference:
        entry["reference"] = inspection.reference
    return entry


def _intervention_as_dict(intervention: Intervention) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": intervention.type.slug,
        "started_on": intervention.started_on.isoformat(),
        "ended_on": _day(intervention.ended_on),
        "outcome": intervention.outcome,
        "intensity": intervention.intensity,
    }
    if intervention.grace_months is not None:
        entry["grace_months"] = intervention.grace_months
    if intervention.objectives:
        entry["objectives"] = intervention.objectives
    milestones = sorted(intervention.milestones.all(), key=lambda m: (m.due_on, m.title))
    if milestones:
        entry["milestones"] = []
        for milestone in milestones:
            item: dict[str, Any] = {
                "title": milestone.title,
                "due_on": milestone.due_on.isoformat(),
                "status": milestone.status,
            }
            if milestone.achieved_on:
                item["achieved_on"] = milestone.achieved_on.isoformat()
            if milestone.notes:
                item["notes"] = milestone.notes
            entry["milestones"].append(item)
    return entry


def _evidence_order(evidence: Evidence) -> tuple:
    return (
        evidence.observed_on,
        evidence.indicator.slug if evidence.indicator else "",
        evidence.direction,
        evidence.summary,
        evidence.value if evidence.value is not None else 0.0,
        evidence.retracted_at is None,
        evidence.retracted_at or datetime.datetime.min.replace(tzinfo=datetime.UTC),
        evidence.pk,
    )


def _evidence_as_dict(evidence: Evidence) -> dict[str, Any]:
    entry: dict[str, Any] = {"observed_on": evidence.observed_on.isoformat()}
    if evidence.indicator is not None:
        entry["indicator"] = evidence.indicator.slug
        entry["value"] = evidence.value
    else:
        entry["direction"] = evidence.direction
    if evidence.summary:
        entry["summary"] = evidence.summary
    if evidence.intervention is not None:
        entry["intervention"] = {
            "type": evidence.intervention.type.slug,
            "started_on": evidence.intervention.started_on.isoformat(),
        }
    if evidence.milestone is not None:
        entry["milestone"] = evidence.milestone.title
    if evidence.retracted_at is not None:
        entry["retracted"] = {
            "at": evidence.retracted_at.astimezone(datetime.UTC).isoformat(),
            "reason": evidence.retraction_reason,
        }
    return entry
