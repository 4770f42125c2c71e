"""What happens to each synthetic institution over the period: its stories.

Most institutions are inspected at their sector's usual gaps and never fail. A
failing one follows one of four stories (rules.STORIES): recovery along a J-curve,
a stall, a relapse after recovering, or deterioration until the intervention is
escalated. An institution's `Goodness` curve drives both its inspection grades and
its indicator values, so the two tell the same story.
"""

from __future__ import annotations

import datetime
import random

from failwell.synthetic.plans import (
    EvidencePlan,
    Goodness,
    InspectionPlan,
    InstitutionPlan,
    InterventionPlan,
    MilestonePlan,
    day_between,
    month_starts,
    months_after,
    running_intervention,
)
from failwell.synthetic.rules import (
    ABOVE,
    AT,
    BELOW,
    FAILING,
    NHS_2025_FROM,
    NHS_SEGMENTS_FROM,
    OFSTED_EIF_FROM,
    OFSTED_NO_OVERALL_FROM,
    REPORT_CARD_AREAS,
    area_ranks,
    base_rank,
    category_for,
    escalation,
    first_intervention,
    grace_months,
    inspection_gap,
    ofsted_2012_areas,
    scale_for,
)
from failwell.synthetic.vocabulary import (
    INDICATOR_SPECS,
    MILESTONE_TITLES,
    OBSERVATIONS,
    SECTOR_INDICATORS,
    SYNTHETIC_MARK,
)
from interventions.models import add_months


class Histories:
    """Plans histories between `start` and `end`; institutions beyond it are cut off."""

    def __init__(
        self, start: datetime.date, end: datetime.date, higher_is_better: dict[str, bool]
    ) -> None:
        self.start = start
        self.end = end
        # Indicators that already exist keep their own direction; values follow it.
        self.higher_is_better = higher_is_better

    def history(self, plan: InstitutionPlan, rng: random.Random, story: str | None) -> None:
        """Routine inspections, and for a failing institution its failure story."""
        base = base_rank(rng, plan.sector)
        goodness = plan.goodness = Goodness((base - AT) * 0.5 + rng.gauss(0, 0.2))
        if story is None:
            self._routine(plan, rng, self.start, self.end, base)
            if rng.random() < 0.05:
                self._indicator_series(plan, rng, goodness, self.start, self.end, step=4, count=1)
            self._segments(plan, rng, base)
            return
        fail_on = day_between(rng, add_months(self.start, 12), add_months(self.end, -1))
        self._routine(plan, rng, self.start, add_months(fail_on, -4), min(base, AT))
        goodness.at(add_months(fail_on, -14), goodness(self.start))
        goodness.at(fail_on, -1.5)
        until = self._failure(plan, rng, goodness, fail_on, story)
        # Ten monthly figures before the failure: enough for an XmR baseline (six).
        self._indicator_series(
            plan,
            rng,
            goodness,
            add_months(fail_on, -10),
            min(until, self.end),
            step=1,
            count=rng.choice([1, 2]),
        )
        self._segments(plan, rng, base)

    def _routine(
        self,
        plan: InstitutionPlan,
        rng: random.Random,
        lo: datetime.date,
        hi: datetime.date,
        base: int,
        first_gap: float | None = None,
    ) -> None:
        """Inspections at the sector's usual gaps, grades wandering around `base`."""
        rank = base
        gap = (
            first_gap
            if first_gap is not None
            else rng.uniform(0, inspection_gap(rng, plan.sector, rank))
        )
        day = months_after(lo, gap)
        while day <= hi:
            shown = rank if rng.random() < 0.75 else rank + rng.choice([-1, 1])
            self._inspect(plan, rng, day, max(BELOW, min(ABOVE, shown)))
            if rng.random() < 0.1:
                rank = max(BELOW, min(ABOVE, rank + rng.choice([-1, 1])))
            day = months_after(day, inspection_gap(rng, plan.sector, rank))

    def _inspect(
        self, plan: InstitutionPlan, rng: random.Random, on: datetime.date, rank: int
    ) -> None:
        """An inspection on the scale in use that day, its areas graded around `rank`."""
        if on > self.end or on < self.start:
            return
        scale = scale_for(plan.sector, on)
        if scale is None:
            return
        category = category_for(rng, plan.sector, on) if rank == FAILING else ""
        inspection = InspectionPlan(
            on, scale, rank, category, f"SYN-{plan.key}-{on:%Y%m%d}", variant=rng.randrange(2)
        )
        if scale == "ofsted-overall-2012":
            areas = ofsted_2012_areas(on) + ["early-years"] * plan.early_years
            areas += ["sixth-form"] * plan.sixth_form
            if on < OFSTED_NO_OVERALL_FROM:
                inspection.overall = rank
            inspection.judgements = area_ranks(rng, areas, rank, inspection.overall is None)
            if on >= OFSTED_EIF_FROM:
                unsafe = rank == FAILING and rng.random() < 0.3
                inspection.judgements.append(("safeguarding", FAILING if unsafe else AT))
        elif scale == "ofsted-report-card-2025":
            areas = REPORT_CARD_AREAS + ["early-years"] * plan.early_years
            areas += ["post-16"] * plan.sixth_form
            # A failing report card: an area in urgent improvement, or safeguarding
            # not met (then the areas themselves may be merely weak).
            unsafe = rank == FAILING and rng.random() < 0.4
            inspection.judgements = area_ranks(
                rng, areas, BELOW if unsafe else rank, no_overall=True
            )
            inspection.judgements.append(("safeguarding", FAILING if unsafe else AT))
        else:
            inspection.overall = rank
        plan.inspections.append(inspection)

    def _segments(self, plan: InstitutionPlan, rng: random.Random, base: int) -> None:
        """NHS oversight segments each October for some trusts, following their ratings."""
        if plan.sector != "nhs_trust" or rng.random() < 0.5:
            return
        ratings = sorted((i.on, i.rank) for i in plan.inspections)
        for year in range(max(self.start.year, NHS_SEGMENTS_FROM.year), self.end.year + 1):
            on = datetime.date(year, 10, 1) + datetime.timedelta(days=rng.randint(0, 20))
            if on < max(self.start, NHS_SEGMENTS_FROM) or on > self.end:
                continue
            latest = [rank for day, rank in ratings if day <= on]
            rank = latest[-1] if latest else base
            scale = "nhs-oversight-2025" if on >= NHS_2025_FROM else "nhs-oversight-2016"
            plan.inspections.append(
                InspectionPlan(
                    on,
                    scale,
                    rank,
                    reference=f"SYN-SEG-{plan.key}-{year}",
                    overall=rank,
                    variant=rng.randrange(2),
                )
            )

    def _failure(
        self,
        plan: InstitutionPlan,
        rng: random.Random,
        goodness: Goodness,
        fail_on: datetime.date,
        story: str,
    ) -> datetime.date:
        """One failure and what follows; returns when the institution stops reporting."""
        self._inspect(plan, rng, fail_on, FAILING)
        category = plan.inspections[-1].category if plan.inspections else ""
        start = fail_on + datetime.timedelta(days=rng.randint(0, 45))
        first_type, intensity = first_intervention(rng, plan.sector, category)
        grace = grace_months(first_type)
        if story == "recovery":
            recovered = self._recover(plan, rng, goodness, start, grace, lead_in=True)
            self._intervention(
                plan, rng, first_type, intensity, start, recovered, "succeeded", 0.8, grace
            )
            self._routine(plan, rng, recovered, self.end, AT, first_gap=rng.uniform(18, 30))
            return add_months(recovered, 24)
        if story == "relapse":
            recovered = self._recover(plan, rng, goodness, start, grace, lead_in=True)
            self._intervention(
                plan, rng, first_type, intensity, start, recovered, "succeeded", 0.8, grace
            )
            slips = months_after(recovered, rng.uniform(9, 30))
            goodness.at(slips, goodness(slips))
            goodness.at(add_months(slips, 8), -1.2)
            self._inspect(plan, rng, months_after(slips, rng.uniform(4, 10)), BELOW)
            if rng.random() < 0.3:
                again = months_after(slips, rng.uniform(12, 18))
                self._inspect(plan, rng, again, FAILING)
                again_start = again + datetime.timedelta(days=rng.randint(0, 45))
                self._stall(plan, rng, goodness, again_start, first_type, intensity)
                return self.end
            return add_months(slips, 18)
        if story == "stall":
            self._stall(plan, rng, goodness, start, first_type, intensity, grace=grace)
            return self.end
        # Deteriorating: worse after the grace window, until the intervention is escalated.
        goodness.at(add_months(start, 4), -2.0)
        goodness.at(add_months(start, grace), -2.0)
        escalated = months_after(start, grace + rng.uniform(3, 9))
        goodness.at(escalated, goodness(escalated) - 0.8)
        self._inspect(plan, rng, months_after(start, rng.uniform(12, 18)), FAILING)
        self._intervention(
            plan, rng, first_type, intensity, start, escalated, "escalated", 0.25, grace
        )
        takeover = escalation(plan.sector, first_type)
        recovered = self._recover(
            plan, rng, goodness, escalated, grace_months(takeover), lead_in=False
        )
        self._intervention(
            plan, rng, takeover, "takeover", escalated, recovered, "succeeded", 0.6, None
        )
        self._routine(plan, rng, recovered, self.end, AT, first_gap=rng.uniform(18, 30))
        return add_months(recovered, 12)

    def _recover(
        self,
        plan: InstitutionPlan,
        rng: random.Random,
        goodness: Goodness,
        start: datetime.date,
        grace: int,
        lead_in: bool,
    ) -> datetime.date:
        """A J-curve from `start`: a dip, then improvement, then a good inspection.

        Returns the recovery date. A council may recover on its intervention's
        outcome alone, with no inspection to say so.
        """
        low = goodness(start) - rng.uniform(0.4, 1.0)
        goodness.at(months_after(start, rng.uniform(3, 6)), low)
        recovered = months_after(start, rng.uniform(max(grace, 15), 30))
        goodness.at(recovered, rng.uniform(0.2, 0.8))
        if lead_in and rng.random() < 0.6:
            self._inspect(plan, rng, months_after(start, rng.uniform(9, 14)), BELOW)
        if plan.sector != "local_authority" or rng.random() < 0.4:
            self._inspect(plan, rng, recovered, AT)
        return recovered + datetime.timedelta(days=rng.randint(0, 60))

    def _stall(
        self,
        plan: InstitutionPlan,
        rng: random.Random,
        goodness: Goodness,
        start: datetime.date,
        type_slug: str,
        intensity: str,
        grace: int | None = None,
    ) -> None:
        """No real change: a small dip, flat after, the same grade again, a new leader."""
        grace = grace or grace_months(type_slug)
        level = goodness(start)
        goodness.at(months_after(start, 3), level - 0.3)
        goodness.at(months_after(start, 8), level)
        self._inspect(plan, rng, months_after(start, rng.uniform(12, 20)), FAILING)
        superseded = months_after(start, rng.uniform(24, 36))
        self._intervention(
            plan, rng, type_slug, intensity, start, superseded, "superseded", 0.4, grace
        )
        self._intervention(
            plan, rng, "leadership-change", "directed", superseded, None, "ongoing", 0.4, None
        )

    def _intervention(
        self,
        plan: InstitutionPlan,
        rng: random.Random,
        type_slug: str,
        intensity: str,
        start: datetime.date,
        end: datetime.date | None,
        outcome: str,
        met_share: float,
        grace: int | None,
    ) -> None:
        """An intervention as far as the period's end shows it, with its milestones."""
        if start > self.end:
            return
        if end is None or end > self.end:
            end, outcome = None, "ongoing"
        own_grace = grace if grace is not None and rng.random() < 0.1 else None
        intervention = InterventionPlan(
            type_slug=type_slug,
            intensity=intensity,
            started_on=start,
            ended_on=end,
            outcome=outcome,
            grace_months=own_grace,
            objectives=f"Return {plan.name} to a good standard within two years.",
        )
        titles = rng.sample(MILESTONE_TITLES[plan.sector], rng.randint(3, 5))
        for number, title in enumerate(titles, start=1):
            due = add_months(start, 3 * number) + datetime.timedelta(days=rng.randint(-10, 10))
            intervention.milestones.append(self._milestone(rng, title, due, start, end, met_share))
        position = len(plan.interventions)
        plan.interventions.append(intervention)
        # A monitoring visit's verdict about every four months while it runs.
        for visit in month_starts(add_months(start, 3), end or self.end, step=4):
            on = visit + datetime.timedelta(days=rng.randint(0, 25))
            if on > self.end:
                break
            slope = rng.choice([-1, 1]) * 0.1 if rng.random() < 0.15 else 0.0
            slope += self._trend(plan, on)
            direction = "positive" if slope > 0.05 else "negative" if slope < -0.05 else "neutral"
            plan.evidence.append(
                EvidencePlan(
                    on=on,
                    direction=direction,
                    summary=OBSERVATIONS[direction] + SYNTHETIC_MARK,
                    intervention=position,
                )
            )

    def _trend(self, plan: InstitutionPlan, on: datetime.date) -> float:
        return plan.goodness.slope(on) if plan.goodness is not None else 0.0

    def _milestone(
        self,
        rng: random.Random,
        title: str,
        due: datetime.date,
        start: datetime.date,
        end: datetime.date | None,
        met_share: float,
    ) -> MilestonePlan:
        if end is not None and due > end:
            return MilestonePlan(title, due, "dropped", None)
        if due > self.end:
            soon = (due - self.end).days < 90
            return MilestonePlan(title, due, "in_progress" if soon else "planned", None)
        if rng.random() < met_share:
            achieved = max(start, due - datetime.timedelta(days=rng.randint(0, 40)))
            return MilestonePlan(title, due, "met", min(achieved, self.end))
        return MilestonePlan(title, due, "missed" if rng.random() < 0.9 else "dropped", None)

    def _indicator_series(
        self,
        plan: InstitutionPlan,
        rng: random.Random,
        goodness: Goodness,
        lo: datetime.date,
        hi: datetime.date,
        step: int,
        count: int,
    ) -> None:
        """Values of `count` of the sector's indicators, every `step` months, off the curve."""
        lo = max(lo, self.start)
        for slug in rng.sample(SECTOR_INDICATORS[plan.sector], count):
            spec = INDICATOR_SPECS[slug]
            sign = 1 if self.higher_is_better.get(slug, spec.higher_is_better) else -1
            level = spec.mean + rng.gauss(0, spec.noise * 1.5)
            for on in month_starts(lo, hi, step):
                value = level + sign * spec.effect * goodness(on) + rng.gauss(0, spec.noise)
                plan.evidence.append(
                    EvidencePlan(
                        on=on,
                        indicator=slug,
                        value=round(min(100.0, max(0.0, value)), 1),
                        intervention=running_intervention(plan.interventions, on),
                    )
                )

    def sponsored_conversion(
        self, school: InstitutionPlan, academy: InstitutionPlan, rng: random.Random
    ) -> None:
        """A failing school closes and reopens as a sponsored academy with a new URN."""
        fail_on = day_between(rng, add_months(self.start, 12), add_months(self.end, -18))
        converts = months_after(fail_on, rng.uniform(6, 15))
        goodness = Goodness(rng.gauss(-0.3, 0.2))
        goodness.at(add_months(fail_on, -14), goodness(self.start))
        goodness.at(fail_on, -1.5)
        school.goodness = academy.goodness = goodness
        self._routine(school, rng, self.start, add_months(fail_on, -4), BELOW)
        self._inspect(school, rng, fail_on, FAILING)
        start = fail_on + datetime.timedelta(days=rng.randint(0, 45))
        self._intervention(
            school, rng, "special-measures", "directed", start, converts, "superseded", 0.4, None
        )
        academy.linked_on = converts
        if rng.random() < 0.3:
            self._stall(academy, rng, goodness, converts, "academy-conversion", "takeover")
        else:
            grace = grace_months("academy-conversion")
            recovered = self._recover(academy, rng, goodness, converts, grace, lead_in=False)
            self._intervention(
                academy,
                rng,
                "academy-conversion",
                "takeover",
                converts,
                recovered,
                "succeeded",
                0.7,
                grace,
            )
            self._routine(academy, rng, recovered, self.end, AT, first_gap=rng.uniform(18, 30))
        self._split_series(school, academy, rng, goodness, add_months(fail_on, -12), converts)

    def converter(
        self, school: InstitutionPlan, academy: InstitutionPlan, rng: random.Random
    ) -> None:
        """A good school converts by choice: history simply continues under a new URN."""
        converts = day_between(rng, add_months(self.start, 24), add_months(self.end, -6))
        academy.linked_on = converts
        base = rng.choice([AT, AT, ABOVE])
        self._routine(school, rng, self.start, converts - datetime.timedelta(days=1), base)
        self._routine(academy, rng, converts, self.end, base, first_gap=rng.uniform(24, 36))
        if rng.random() < 0.3:
            goodness = Goodness((base - AT) * 0.5)
            self._split_series(school, academy, rng, goodness, self.start, converts, step=4)

    def _split_series(
        self,
        school: InstitutionPlan,
        academy: InstitutionPlan,
        rng: random.Random,
        goodness: Goodness,
        lo: datetime.date,
        converts: datetime.date,
        step: int = 1,
    ) -> None:
        """One indicator series, logged against the school until it converts, then the academy."""
        series = InstitutionPlan("series", "", "", "school", "", [])
        self._indicator_series(series, rng, goodness, lo, self.end, step=step, count=1)
        for point in series.evidence:
            owner = school if point.on < converts else academy
            point.intervention = running_intervention(owner.interventions, point.on)
            owner.evidence.append(point)
