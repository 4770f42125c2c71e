"""Writing a checked bundle: match each row by its natural key, then create or update.

Everything happens in one transaction, and every institution whose rows changed is
marked dirty inside it, so its recompute is queued only if the whole file commits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model
from simple_history.utils import bulk_create_with_history

from institutions.models import (
    EvaluationArea,
    Grade,
    Identifier,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    LineageLink,
    RatingScale,
)
from interventions import services
from interventions.bundle.plan import build_plan
from interventions.bundle.scales import create_scale
from interventions.bundle.specs import (
    EvidenceSpec,
    InspectionSpec,
    InstitutionSpec,
    InterventionSpec,
    Plan,
)
from interventions.models import Evidence, Indicator, Intervention, InterventionType, Milestone

KINDS = (
    "inspectorates",
    "rating scales",
    "indicators",
    "institutions",
    "lineage links",
    "inspections",
    "interventions",
    "milestones",
    "evidence",
)
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass
class ImportSummary:
    """What an import did, per kind of row; and which institutions it marked dirty."""

    counts: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    institutions: dict[str, Institution] = field(default_factory=dict)  # by ref
    dirty: list[int] = field(default_factory=list)

    def add(self, kind: str, outcome: str) -> None:
        self.counts[kind][outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c[CREATED] or c[UPDATED] for c in self.counts.values())

    def table(self) -> str:
        width = max(len(kind) for kind in KINDS)
        lines = [f"{'':{width}}  {CREATED:>8}  {UPDATED:>8}  {UNCHANGED:>9}"]
        for kind in KINDS:
            c = self.counts[kind]
            lines.append(f"{kind:{width}}  {c[CREATED]:>8}  {c[UPDATED]:>8}  {c[UNCHANGED]:>9}")
        return "\n".join(lines)


def import_bundle(data: Any) -> ImportSummary:
    """Check and write a parsed bundle, all or nothing; BundleError lists every problem."""
    plan = build_plan(data)
    with transaction.atomic(), services.recompute_in_batches():
        return _Loader().load(plan)


def _update(row: Model, values: dict[str, Any]) -> bool:
    """Set the fields that differ and save only those; True if anything changed."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return bool(changed)


class _Loader:
    def __init__(self) -> None:
        self.summary = ImportSummary()
        self.changed: set[int] = set()  # institution pks whose history changed
        self.created: set[int] = set()  # institution pks this import created

    def load(self, plan: Plan) -> ImportSummary:
        self._reference_data(plan)
        for spec in plan.institutions:
            self.summary.institutions[spec.ref] = self._institution(spec)
        for spec in plan.institutions:
            self._lineage(spec)
        for spec in plan.institutions:
            self._history(spec)
        if self.changed:
            self.summary.dirty = services.mark_dirty(self.changed)
        return self.summary

    # Reference data --------------------------------------------------------------

    def _reference_data(self, plan: Plan) -> None:
        self.inspectorates = {i.slug: i for i in Inspectorate.objects.all()}
        for slug, name in sorted(plan.inspectorates.items()):
            stored = self.inspectorates.get(slug)
            if stored is None:
                default = slug.replace("-", " ").title()
                self.inspectorates[slug] = Inspectorate.objects.create(
                    slug=slug, name=name or default
                )
                self.summary.add("inspectorates", CREATED)
            elif name and _update(stored, {"name": name}):
                self.summary.add("inspectorates", UPDATED)
            else:
                self.summary.add("inspectorates", UNCHANGED)
        for spec in plan.new_scales:
            create_scale(spec, self.inspectorates[spec.inspectorate])
            self.summary.add("rating scales", CREATED)
        self.summary.counts["rating scales"][UNCHANGED] += plan.unchanged_scales
        self.scales = {s.slug: s for s in RatingScale.objects.all()}
        self.grades = {
            (g.scale.slug, g.area.slug if g.area else None, g.label.lower()): g
            for g in Grade.objects.select_related("scale", "area")
        }
        self.areas = {
            (a.scale.slug, a.slug): a for a in EvaluationArea.objects.select_related("scale")
        }
        self.types = {t.slug: t for t in InterventionType.objects.all()}
        self.indicators = {i.slug: i for i in Indicator.objects.all()}
        for slug, values in plan.indicators:
            stored = self.indicators.get(slug)
            if stored is None:
                self.indicators[slug] = Indicator.objects.create(slug=slug, **values)
                self.summary.add("indicators", CREATED)
            else:
                outcome = UPDATED if _update(stored, values) else UNCHANGED
                self.summary.add("indicators", outcome)

    def _grade(self, scale: str, grade: tuple[str | None, str]) -> Grade:
        return self.grades[(scale, grade[0], grade[1].lower())]

    # Institutions and lineage ----------------------------------------------------

    def _institution(self, spec: InstitutionSpec) -> Institution:
        institution = spec.existing
        if institution is None:
            institution = Institution.objects.create(slug=spec.ref, **spec.values)
            self.created.add(institution.pk)
            outcome = CREATED
        else:
            outcome = UPDATED if _update(institution, spec.values) else UNCHANGED
        for scheme, value in spec.identifiers:
            _, created = Identifier.objects.get_or_create(
                institution=institution, scheme=scheme, value=value
            )
            if created and outcome == UNCHANGED:
                outcome = UPDATED
        self.summary.add("institutions", outcome)
        return institution

    def _resolve(self, ref: str) -> Institution:
        if ref in self.summary.institutions:
            return self.summary.institutions[ref]
        return Institution.objects.get(slug=ref)

    def _lineage(self, spec: InstitutionSpec) -> None:
        institution = self.summary.institutions[spec.ref]
        if spec.parent_given:
            parent = self._resolve(spec.parent) if spec.parent else None
            if institution.parent_id != (parent.pk if parent else None):
                institution.parent = parent
                institution.save(update_fields=["parent"])
        for ref, kind, linked_on in spec.links:
            predecessor = self._resolve(ref)
            link = LineageLink.objects.filter(
                predecessor=predecessor, successor=institution
            ).first()
            if link is None:
                LineageLink.objects.create(
                    predecessor=predecessor, successor=institution, kind=kind, linked_on=linked_on
                )
                outcome = CREATED
            else:
                changed = _update(link, {"kind": kind, "linked_on": linked_on})
                outcome = UPDATED if changed else UNCHANGED
            self.summary.add("lineage links", outcome)
            if outcome != UNCHANGED:
                self.changed |= {predecessor.pk, institution.pk}

    # Histories ----------------------------------------------------------------------

    def _note(self, kind: str, outcome: str, institution: Institution) -> None:
        self.summary.add(kind, outcome)
        if outcome != UNCHANGED:
            self.changed.add(institution.pk)

    def _history(self, spec: InstitutionSpec) -> None:
        """Inspections, interventions and evidence of one institution.

        Its stored rows are read once, up front (none for an institution this import
        created), and new evidence, the bulk of most bundles, is written in one
        statement; services.mark_dirty covers it, as bulk writes send no signals.
        """
        institution = self.summary.institutions[spec.ref]
        new = institution.pk in self.created
        inspections = (
            {}
            if new
            else {
                (i.inspectorate_id, i.scale_id, i.inspected_on): i
                for i in institution.inspections.prefetch_related("judgements")
            }
        )
        for inspection in spec.inspections:
            self._inspection(institution, inspection, inspections)
        interventions = (
            {}
            if new
            else {
                (i.type.slug, i.started_on): i
                for i in institution.interventions.select_related("type").prefetch_related(
                    "milestones"
                )
            }
        )
        for intervention in spec.interventions:
            self._intervention(institution, intervention, interventions)
        stored_evidence: dict[tuple, list[Evidence]] = defaultdict(list)
        if not new:
            for row in institution.evidence.order_by("pk"):
                key = (row.observed_on, row.indicator_id, row.direction, row.summary)
                stored_evidence[key].append(row)
        pending: list[Evidence] = []
        for evidence in spec.evidence:
            self._evidence(institution, evidence, interventions, stored_evidence, pending)
        # With its audit-trail rows: a bulk insert sends no signals.
        bulk_create_with_history(pending, Evidence)

    def _inspection(
        self, institution: Institution, spec: InspectionSpec, stored: dict[tuple, Inspection]
    ) -> None:
        values = dict(spec.values)
        if spec.overall is not None or spec.judgements is not None:
            overall = self._grade(spec.scale, spec.overall) if spec.overall else None
            values["overall_grade_id"] = overall.pk if overall else None
        inspectorate, scale = self.inspectorates[spec.inspectorate], self.scales[spec.scale]
        inspection = stored.get((inspectorate.pk, scale.pk, spec.inspected_on))
        if inspection is None:
            inspection = Inspection.objects.create(
                institution=institution,
                inspectorate=inspectorate,
                scale=scale,
                inspected_on=spec.inspected_on,
                **values,
            )
            outcome = CREATED
        else:
            outcome = UPDATED if _update(inspection, values) else UNCHANGED
        if spec.judgements is not None and self._judgements(inspection, spec):
            outcome = UPDATED if outcome == UNCHANGED else outcome
        self._note("inspections", outcome, institution)

    def _judgements(self, inspection: Inspection, spec: InspectionSpec) -> bool:
        """Make the inspection's judgements exactly the bundle's; True if any changed."""
        wanted = {
            self.areas[(spec.scale, area)].pk: self._grade(spec.scale, grade).pk
            for area, grade in spec.judgements.items()
        }
        stored = {j.area_id: j for j in inspection.judgements.all()}
        changed = False
        for area_id, judgement in stored.items():
            if area_id not in wanted:
                judgement.delete()
                changed = True
            elif judgement.grade_id != wanted[area_id]:
                judgement.grade_id = wanted[area_id]
                judgement.save(update_fields=["grade"])
                changed = True
        for area_id, grade_id in wanted.items():
            if area_id not in stored:
                Judgement.objects.create(inspection=inspection, area_id=area_id, grade_id=grade_id)
                changed = True
        return changed

    def _intervention(
        self, institution: Institution, spec: InterventionSpec, interventions: dict
    ) -> None:
        intervention = interventions.get(spec.key)
        if intervention is None:
            intervention = Intervention.objects.create(
                institution=institution,
                type=self.types[spec.type],
                started_on=spec.started_on,
                **spec.values,
            )
            interventions[spec.key] = intervention
            outcome = CREATED
        else:
            outcome = UPDATED if _update(intervention, spec.values) else UNCHANGED
        self._note("interventions", outcome, institution)
        milestones = (
            {m.title.lower(): m for m in intervention.milestones.all()}
            if outcome != CREATED
            else {}
        )
        for milestone_spec in spec.milestones:
            milestone = milestones.get(milestone_spec.title.lower())
            if milestone is None:
                Milestone.objects.create(
                    intervention=intervention, title=milestone_spec.title, **milestone_spec.values
                )
                outcome = CREATED
            else:
                outcome = UPDATED if _update(milestone, milestone_spec.values) else UNCHANGED
            self._note("milestones", outcome, institution)

    def _evidence(
        self,
        institution: Institution,
        spec: EvidenceSpec,
        interventions: dict,
        stored: dict[tuple, list[Evidence]],
        pending: list[Evidence],
    ) -> None:
        """Match by key; a changed value retracts the stored row and adds the new one.

        Import never edits a value in place nor un-retracts a row, so what an overseer
        once saw stays explainable.
        """
        link: dict[str, Any] = {}
        if spec.link_given:
            intervention = interventions[spec.intervention] if spec.intervention else None
            milestone = (
                Milestone.objects.get(intervention=intervention, title__iexact=spec.milestone)
                if intervention and spec.milestone
                else None
            )
            link = {"intervention": intervention, "milestone": milestone}
        indicator = self.indicators[spec.indicator] if spec.indicator else None
        rows = stored.get(
            (spec.observed_on, indicator.pk if indicator else None, spec.direction, spec.summary),
            [],
        )
        same_value = [row for row in rows if row.value == spec.value]
        current = [row for row in rows if not row.is_retracted]
        target, outcome = None, CREATED
        if spec.retracted is not None:
            at, reason = spec.retracted
            target = next((row for row in same_value if row.retracted_at == at), None)
            if target is not None:
                outcome = UNCHANGED
            else:
                target = next((row for row in same_value if not row.is_retracted), None)
                if target is not None:
                    _update(target, {"retracted_at": at, "retraction_reason": reason})
                    outcome = UPDATED
        elif same_value:
            target = next((row for row in same_value if not row.is_retracted), same_value[0])
            outcome = UNCHANGED
        elif current:
            for stale in current:
                stale.retract(
                    None,
                    f"Corrected by a bundle import: {stale.value:g} replaced by {spec.value:g}.",
                )
            outcome = UPDATED
        if target is None:
            pending.append(
                Evidence(
                    institution=institution,
                    observed_on=spec.observed_on,
                    indicator=indicator,
                    value=spec.value,
                    direction=spec.direction,
                    summary=spec.summary,
                    retracted_at=spec.retracted[0] if spec.retracted else None,
                    retraction_reason=spec.retracted[1] if spec.retracted else "",
                    **link,
                )
            )
        elif link and _update(target, link) and outcome == UNCHANGED:
            outcome = UPDATED
        self._note("evidence", outcome, institution)
