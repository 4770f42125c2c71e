"""Read institutions' histories from the database into the trajectory method's input.

The method itself (trajectory.py) never touches the database. This module does all
the reading, for many institutions at once in a fixed number of queries, because
the nightly re-evaluation reads every institution in England.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from institutions.models import (
    CategoryOfConcern,
    EvaluationArea,
    Grade,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    headline_band,
    headline_words,
    lineages,
)
from interventions.models import Evidence, Indicator, Intervention, InterventionType, Milestone
from interventions.trajectory import (
    History,
    IndicatorPoint,
    InspectionFact,
    InterventionFact,
    MilestoneFact,
    ObservationFact,
)


class _ReferenceData:
    """Grades, areas, inspectorates, indicators and types: small tables read once per batch."""

    def __init__(self) -> None:
        self.grades = {
            pk: (label, band)
            for pk, label, band in Grade.objects.values_list("pk", "label", "band")
        }
        self.areas = {
            pk: (position, name)
            for pk, position, name in EvaluationArea.objects.values_list("pk", "position", "name")
        }
        self.inspectorates = dict(Inspectorate.objects.values_list("pk", "name"))
        self.indicators = {
            pk: (slug, name, unit, higher)
            for pk, slug, name, unit, higher in Indicator.objects.values_list(
                "pk", "slug", "name", "unit", "higher_is_better"
            )
        }
        self.types = {
            pk: (name, grace)
            for pk, name, grace in InterventionType.objects.values_list(
                "pk", "name", "grace_months"
            )
        }


def load_histories(institution_ids: Iterable[int]) -> dict[int, History]:
    """Histories of many institutions, each spanning its whole lineage.

    Uses a constant number of queries (plus one per lineage generation), reading
    only the columns the method needs: this is the hot path of every recompute.
    """
    institution_ids = list(institution_ids)
    lineage_of = lineages(institution_ids)
    members = set().union(*lineage_of.values()) if lineage_of else set()
    names = dict(Institution.objects.filter(pk__in=members).values_list("pk", "name"))
    ref = _ReferenceData()
    concern_labels = dict(CategoryOfConcern.choices)

    # A headline comes from the judgements only when there is no overall grade (a
    # report card); an overall grade's band and label decide it otherwise. Reading
    # only those judgements reads a quarter of them in England's data.
    judgement_bands: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for inspection_id, area_id, grade_id in Judgement.objects.filter(
        inspection__institution_id__in=members, inspection__overall_grade__isnull=True
    ).values_list("inspection_id", "area_id", "grade_id"):
        judgement_bands[inspection_id].append((area_id, grade_id))

    inspections: dict[int, list[InspectionFact]] = defaultdict(list)
    for (
        pk,
        institution_id,
        inspectorate_id,
        inspected_on,
        overall_id,
        concern,
    ) in Inspection.objects.filter(institution_id__in=members).values_list(
        "pk",
        "institution_id",
        "inspectorate_id",
        "inspected_on",
        "overall_grade_id",
        "category_of_concern",
    ):
        judgements = sorted(
            (*ref.areas[area_id], *ref.grades[grade_id])
            for area_id, grade_id in judgement_bands.get(pk, ())
        )
        overall = ref.grades[overall_id] if overall_id else None
        band = headline_band(
            concern, overall[1] if overall else None, [band for *_, band in judgements]
        )
        inspections[institution_id].append(
            InspectionFact(
                inspected_on=inspected_on,
                inspectorate=ref.inspectorates[inspectorate_id],
                band=band.value if band else None,
                grade=headline_words(
                    overall[0] if overall else None,
                    [(area, label, grade_band) for _, area, label, grade_band in judgements],
                    band,
                ),
                category_of_concern=concern_labels.get(concern, ""),
                institution=names[institution_id],
            )
        )

    milestones: dict[int, list[MilestoneFact]] = defaultdict(list)
    for intervention_id, title, due_on, status, achieved_on in Milestone.objects.filter(
        intervention__institution_id__in=members
    ).values_list("intervention_id", "title", "due_on", "status", "achieved_on"):
        milestones[intervention_id].append(
            MilestoneFact(title=title, due_on=due_on, status=status, achieved_on=achieved_on)
        )

    interventions: dict[int, list[InterventionFact]] = defaultdict(list)
    for (
        pk,
        institution_id,
        type_id,
        started_on,
        ended_on,
        outcome,
        grace,
    ) in Intervention.objects.filter(institution_id__in=members).values_list(
        "pk", "institution_id", "type_id", "started_on", "ended_on", "outcome", "grace_months"
    ):
        type_name, type_grace = ref.types[type_id]
        interventions[institution_id].append(
            InterventionFact(
                started_on=started_on,
                type_name=type_name,
                grace_months=grace if grace is not None else type_grace,
                ended_on=ended_on,
                outcome=outcome,
                institution=names[institution_id],
                milestones=tuple(milestones.get(pk, ())),
            )
        )

    points: dict[int, list[IndicatorPoint]] = defaultdict(list)
    observations: dict[int, list[ObservationFact]] = defaultdict(list)
    for institution_id, observed_on, value, direction, summary, indicator_id in (
        Evidence.objects.current()
        .filter(institution_id__in=members)
        .values_list(
            "institution_id", "observed_on", "value", "direction", "summary", "indicator_id"
        )
    ):
        if indicator_id is not None:
            slug, name, unit, higher = ref.indicators[indicator_id]
            points[institution_id].append(
                IndicatorPoint(
                    indicator=slug,
                    name=name,
                    higher_is_better=higher,
                    observed_on=observed_on,
                    value=value,
                    unit=unit,
                )
            )
        else:
            observations[institution_id].append(
                ObservationFact(observed_on=observed_on, direction=direction, summary=summary)
            )

    def gather(rows: dict[int, list], lineage: frozenset[int]) -> tuple:
        return tuple(item for member in sorted(lineage) for item in rows.get(member, ()))

    return {
        institution_id: History(
            inspections=gather(inspections, lineage_of[institution_id]),
            interventions=gather(interventions, lineage_of[institution_id]),
            points=gather(points, lineage_of[institution_id]),
            observations=gather(observations, lineage_of[institution_id]),
        )
        for institution_id in institution_ids
    }


def load_history(institution: Institution) -> History:
    """One institution's history across its lineage."""
    return load_histories([institution.pk])[institution.pk]
