"""Write synthetic plans to the database with bulk inserts.

Batches of a few thousand rows per INSERT, never a save() per row: England's ten
years are over a million rows. bulk_create sends no signals, so nothing is marked
dirty or queued here; the command flags every generated institution at the end.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict

from django.db.models import Model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from failwell.synthetic.plans import InspectionPlan, InstitutionPlan
from failwell.synthetic.vocabulary import INDICATORS
from institutions.models import (
    BAND_RANKS,
    EvaluationArea,
    Grade,
    Identifier,
    Inspection,
    Institution,
    Judgement,
    LineageLink,
    RatingScale,
)
from interventions.models import (
    Evidence,
    Indicator,
    Intervention,
    InterventionType,
    Milestone,
)

BATCH_SIZE = 5000


class MissingReferenceData(Exception):
    """A scale, area, grade or intervention type the plans use is not in the database."""


def ensure_indicators() -> dict[str, Indicator]:
    """The indicators the plans report, created if missing; existing ones are kept as they are."""
    return {
        spec.slug: Indicator.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "unit": spec.unit,
                "higher_is_better": spec.higher_is_better,
                "target": spec.target,
            },
        )[0]
        for spec in INDICATORS
    }


class GradeBook:
    """Grades by scale, area and band, read once, so choosing one needs no query."""

    def __init__(self) -> None:
        self.scales = {scale.slug: scale for scale in RatingScale.objects.all()}
        self.areas = {
            (scale_slug, area_slug): area_id
            for scale_slug, area_slug, area_id in EvaluationArea.objects.values_list(
                "scale__slug", "slug", "pk"
            )
        }
        # (scale id, area id or None) -> band rank -> grade ids, best first.
        self.grades: dict[tuple[int, int | None], dict[int, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for pk, scale_id, area_id, band in Grade.objects.order_by("position").values_list(
            "pk", "scale_id", "area_id", "band"
        ):
            self.grades[(scale_id, area_id)][BAND_RANKS[band]].append(pk)

    def scale(self, slug: str) -> RatingScale:
        try:
            return self.scales[slug]
        except KeyError:
            raise MissingReferenceData(f"rating scale {slug!r}") from None

    def area(self, scale_slug: str, area_slug: str) -> int:
        try:
            return self.areas[(scale_slug, area_slug)]
        except KeyError:
            raise MissingReferenceData(f"evaluation area {area_slug!r} of {scale_slug!r}") from None

    def grade(self, scale: RatingScale, area_id: int | None, rank: int, variant: int) -> int:
        """A grade in the band of that rank, or the nearest band the scale has.

        An area with grades of its own (safeguarding: Met / Not met) takes only those.
        """
        by_rank = self.grades.get((scale.pk, area_id)) or self.grades.get((scale.pk, None))
        if not by_rank:
            raise MissingReferenceData(f"grades of {scale.slug!r}")
        for distance in range(4):
            for candidate in (rank - distance, rank + distance):
                if by_rank.get(candidate):
                    choices = by_rank[candidate]
                    return choices[variant % len(choices)]
        raise MissingReferenceData(f"a grade of {scale.slug!r}")


class Writer:
    """Writes plans chunk by chunk, remembering each institution's id by its plan key."""

    def __init__(self, end: datetime.date) -> None:
        self.end = end
        self.book = GradeBook()
        self.indicators = {slug: indicator.pk for slug, indicator in ensure_indicators().items()}
        self.types = dict(InterventionType.objects.values_list("slug", "pk"))
        self.ids: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.now = timezone.now()

    def write(self, plans: list[InstitutionPlan]) -> None:
        institutions = [
            Institution(
                name=plan.name,
                slug=plan.slug,
                sector=plan.sector,
                region=plan.region,
                local_authority=plan.local_authority,
                phase=plan.phase,
                establishment_type=plan.establishment_type,
                parent_id=self.ids.get(plan.parent_key) if plan.parent_key else None,
                needs_recompute=True,
                marked_dirty_at=self.now,
            )
            for plan in plans
        ]
        self._insert(Institution, institutions)
        for plan, institution in zip(plans, institutions, strict=True):
            self.ids[plan.key] = institution.pk
        # A parent planned in this same chunk had no id until the insert above.
        orphans = []
        for plan, institution in zip(plans, institutions, strict=True):
            if plan.parent_key and institution.parent_id is None:
                institution.parent_id = self.ids[plan.parent_key]
                orphans.append(institution)
        if orphans:
            bulk_update_with_history(orphans, Institution, ["parent"], batch_size=BATCH_SIZE)

        self._insert(
            Identifier,
            [
                Identifier(institution_id=self.ids[plan.key], scheme=scheme, value=value)
                for plan in plans
                for scheme, value in plan.identifiers
            ],
        )
        self._insert(
            LineageLink,
            [
                LineageLink(
                    predecessor_id=self.ids[plan.predecessor_key],
                    successor_id=self.ids[plan.key],
                    kind="academy_conversion",
                    linked_on=plan.linked_on,
                )
                for plan in plans
                if plan.predecessor_key
            ],
        )
        self._inspections(plans)
        self._interventions_and_evidence(plans)

    def _inspections(self, plans: list[InstitutionPlan]) -> None:
        planned: list[InspectionPlan] = []
        inspections = []
        for plan in plans:
            for inspection in plan.inspections:
                scale = self.book.scale(inspection.scale)
                planned.append(inspection)
                inspections.append(
                    Inspection(
                        institution_id=self.ids[plan.key],
                        inspectorate_id=scale.inspectorate_id,
                        scale=scale,
                        inspected_on=inspection.on,
                        published_on=_published(inspection.on, self.end),
                        reference=inspection.reference,
                        overall_grade_id=None
                        if inspection.overall is None
                        else self.book.grade(scale, None, inspection.overall, inspection.variant),
                        category_of_concern=inspection.category,
                    )
                )
        self._insert(Inspection, inspections)
        judgements = []
        for inspection, row in zip(planned, inspections, strict=True):
            for area_slug, rank in inspection.judgements:
                area_id = self.book.area(inspection.scale, area_slug)
                judgements.append(
                    Judgement(
                        inspection_id=row.pk,
                        scale_id=row.scale_id,
                        area_id=area_id,
                        grade_id=self.book.grade(row.scale, area_id, rank, inspection.variant),
                    )
                )
        self._insert(Judgement, judgements)

    def _interventions_and_evidence(self, plans: list[InstitutionPlan]) -> None:
        interventions: dict[tuple[str, int], Intervention] = {}
        for plan in plans:
            for position, intervention in enumerate(plan.interventions):
                if intervention.type_slug not in self.types:
                    raise MissingReferenceData(f"intervention type {intervention.type_slug!r}")
                interventions[(plan.key, position)] = Intervention(
                    institution_id=self.ids[plan.key],
                    type_id=self.types[intervention.type_slug],
                    intensity=intervention.intensity,
                    started_on=intervention.started_on,
                    ended_on=intervention.ended_on,
                    outcome=intervention.outcome,
                    grace_months=intervention.grace_months,
                    objectives=intervention.objectives,
                )
        self._insert(Intervention, list(interventions.values()))
        self._insert(
            Milestone,
            [
                Milestone(
                    intervention_id=interventions[(plan.key, position)].pk,
                    title=milestone.title,
                    due_on=milestone.due_on,
                    status=milestone.status,
                    achieved_on=milestone.achieved_on,
                )
                for plan in plans
                for position, intervention in enumerate(plan.interventions)
                for milestone in intervention.milestones
            ],
        )
        evidence = []
        for plan in plans:
            for point in plan.evidence:
                linked = (
                    interventions[(plan.key, point.intervention)].pk
                    if point.intervention is not None
                    else None
                )
                evidence.append(
                    Evidence(
                        institution_id=self.ids[plan.key],
                        intervention_id=linked,
                        observed_on=point.on,
                        indicator_id=self.indicators[point.indicator] if point.indicator else None,
                        value=point.value,
                        direction=point.direction,
                        summary=point.summary,
                        logged_at=_logged_at(point.on, self.end),
                    )
                )
        self._insert(Evidence, evidence)

    def _insert(self, model: type[Model], rows: list[Model]) -> None:
        if rows:
            # Every model written here keeps an audit trail; its rows go in bulk too.
            bulk_create_with_history(rows, model, batch_size=BATCH_SIZE)
            self.counts[model._meta.verbose_name_plural] += len(rows)


def _published(inspected_on: datetime.date, end: datetime.date) -> datetime.date | None:
    """Reports come out three to five weeks later; one not out by the end date has none yet."""
    published = inspected_on + datetime.timedelta(days=21 + inspected_on.toordinal() % 14)
    return published if published <= end else None


def _logged_at(observed_on: datetime.date, end: datetime.date) -> datetime.datetime:
    """A working morning a few days after the observation, never after the end date."""
    day = min(observed_on + datetime.timedelta(days=3 + observed_on.toordinal() % 5), end)
    return datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=datetime.UTC)
