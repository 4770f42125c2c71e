"""The evidence signal of the trajectory method: since a reference date, is the
evidence improving, a concern, or neither?

Per indicator (DESIGN.md): with enough points before the reference date, Making
Data Count XmR rules against that baseline, the direction of the most recent
special-cause point deciding; otherwise, with enough points after it, a Theil-Sen
slope with a Kendall tau test; otherwise nothing. Each positive or negative
observation since the reference date counts as one more indicator. The side with
more indicators wins; a tie is no signal.

Choices (see also interventions/trajectory.py):
- "Since the reference date" includes the day itself; the baseline is the points
  strictly before it - all of them, as DESIGN.md says, unless
  `Thresholds.baseline_max_points` caps them to the latest few.
- Points of one indicator on the same day are kept, in value order, so input order
  never matters.
- Findings without a signal are worded without counts or p-values, which change
  with every new point: the status history gains a row only when the reasons
  change, and a quiet indicator should not add one each month.
- The trend test is two-sided (p below the threshold either way); its direction
  is the sign of the Theil-Sen slope, and a zero slope is no trend whatever p says.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

from interventions import signals
from interventions.wording import format_date, format_number, format_quantity

if TYPE_CHECKING:
    from interventions.trajectory import IndicatorPoint, ObservationFact, Thresholds

IMPROVING = "improving"
CONCERN = "concern"
NO_SIGNAL = "none"
DIRECTIONS = ("positive", "negative", "neutral")


@dataclass
class Series:
    """One indicator's points in time order."""

    slug: str
    name: str
    unit: str
    higher_is_better: bool
    dates: list[datetime.date] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceSignal:
    """The institution's signal and the findings behind it, as (rule, text) pairs."""

    direction: str
    findings: tuple[tuple[str, str], ...]


def _good_or_bad(side: int, higher_is_better: bool) -> str:
    return IMPROVING if (side > 0) == higher_is_better else CONCERN


class Evidence:
    """An institution's indicator values and observations, sorted once.

    Each indicator's finding is kept once judged (see _indicator), so replaying a
    history at many dates judges each indicator once per new point.
    """

    def __init__(
        self, points: Iterable[IndicatorPoint], observations: Iterable[ObservationFact]
    ) -> None:
        by_indicator: dict[str, Series] = {}
        for point in sorted(
            points,
            key=attrgetter("indicator", "observed_on", "value", "name", "unit", "higher_is_better"),
        ):
            series = by_indicator.get(point.indicator)
            if series is None:
                series = by_indicator[point.indicator] = Series(
                    point.indicator, point.name, point.unit, point.higher_is_better
                )
            series.dates.append(point.observed_on)
            series.values.append(float(point.value))
        self.series = sorted(by_indicator.values(), key=lambda s: (s.name, s.slug))
        for observation in observations:
            if observation.direction not in DIRECTIONS:
                raise ValueError(
                    f"Unknown observation direction {observation.direction!r}; "
                    f"expected one of {', '.join(DIRECTIONS)}."
                )
        self.observations = sorted(
            observations, key=lambda o: (o.observed_on, o.direction, o.summary)
        )
        self.observation_dates = [o.observed_on for o in self.observations]
        # Every evidence date, sorted: what a signal sees as of a date is fixed by how
        # many of them fall on or before it.
        self._all_dates = sorted(
            [*self.observation_dates, *(day for series in self.series for day in series.dates)]
        )
        self._signals: dict[tuple, EvidenceSignal] = {}
        self._judged: dict[tuple, tuple[str, str]] = {}
        self._finders: dict[tuple, tuple[signals.Limits, signals.SpecialCauseFinder]] = {}

    def dates(self) -> set[datetime.date]:
        """Every date a piece of evidence was observed: the signal can change on each."""
        return set(self._all_dates)

    def signal(
        self,
        reference: datetime.date,
        as_of: datetime.date,
        thresholds: Thresholds,
        in_grace: bool = False,
    ) -> EvidenceSignal:
        """The signal from evidence dated from `reference` to `as_of`, both included.

        Inside a grace window a concern is still reported, but as the expected dip.
        Kept once worked out: replay asks again at dates that bring no new evidence
        (inspections, milestones, the end of a grace window).
        """
        seen = bisect.bisect_right(self._all_dates, as_of)
        key = (reference, seen, thresholds, in_grace)
        if key not in self._signals:
            self._signals[key] = self._signal(reference, as_of, thresholds, in_grace)
        return self._signals[key]

    def _signal(
        self,
        reference: datetime.date,
        as_of: datetime.date,
        thresholds: Thresholds,
        in_grace: bool,
    ) -> EvidenceSignal:
        signalled: list[tuple[str, str]] = []
        quiet: list[tuple[str, str]] = []
        improving = concern = 0
        for series in self.series:
            if series.dates[0] > as_of:
                continue
            direction, words = self._indicator(series, reference, as_of, thresholds)
            if direction == IMPROVING:
                improving += 1
                signalled.append(("evidence_signal", f"{words} (better)"))
            elif direction == CONCERN:
                concern += 1
                worse = "worse; a dip is expected inside the grace window" if in_grace else "worse"
                signalled.append(("evidence_signal", f"{words} ({worse})"))
            else:
                quiet.append(("evidence_none", words))

        since = format_date(reference)
        first = bisect.bisect_left(self.observation_dates, reference)
        last = bisect.bisect_right(self.observation_dates, as_of, lo=first)
        observed: dict[str, list[str]] = {"positive": [], "negative": []}
        for observation in self.observations[first:last]:
            if observation.direction in observed:
                observed[observation.direction].append(format_date(observation.observed_on))
        if observed["positive"] or observed["negative"]:
            parts = [
                f"{len(dates)} {direction} ({', '.join(dates)})"
                for direction, dates in observed.items()
                if dates
            ]
            signalled.append(("observations", f"Observations since {since}: {' and '.join(parts)}"))
        improving += len(observed["positive"])
        concern += len(observed["negative"])

        if improving > concern:
            direction, verdict = IMPROVING, "improving"
        elif concern > improving:
            direction, verdict = CONCERN, "concern"
        else:
            direction, verdict = NO_SIGNAL, "no overall signal (a tie)"
        if improving or concern:
            summary = (
                f"Evidence since {since}: improving in {improving}, concern in {concern}, "
                f"so {verdict}"
            )
        else:
            summary = f"Evidence since {since}: no improving or concern signal"
        return EvidenceSignal(direction, (("evidence_signal", summary), *signalled, *quiet))

    def _indicator(
        self,
        series: Series,
        reference: datetime.date,
        as_of: datetime.date,
        thresholds: Thresholds,
    ) -> tuple[str, str]:
        """(signal, words) for one indicator since the reference date.

        The answer depends only on which points fall before and after the reference
        date, so it is kept: replay asks again at every later date, and most dates
        bring no new point of this indicator.
        """
        split = bisect.bisect_left(series.dates, reference)
        end = bisect.bisect_right(series.dates, as_of, lo=split)
        key = (series.slug, reference, end, thresholds)
        if key not in self._judged:
            self._judged[key] = self._judge(series, reference, split, end, thresholds)
        return self._judged[key]

    def _finder(
        self, series: Series, start: int, split: int
    ) -> tuple[signals.Limits, signals.SpecialCauseFinder]:
        """The baseline's limits and the rules over every point after it, worked out
        once per baseline: replay judges the same baseline at each new point."""
        key = (series.slug, start, split)
        if key not in self._finders:
            limits = signals.xmr_limits(series.values[start:split])
            self._finders[key] = limits, signals.SpecialCauseFinder(series.values[split:], limits)
        return self._finders[key]

    def _judge(
        self,
        series: Series,
        reference: datetime.date,
        split: int,
        end: int,
        thresholds: Thresholds,
    ) -> tuple[str, str]:
        after = series.values[split:end]
        since = format_date(reference)
        name = series.name

        if split >= thresholds.baseline_points:
            cap = thresholds.baseline_max_points
            start = 0 if cap is None else max(0, split - cap)
            if not after:
                return NO_SIGNAL, f"{name}: no points since {since}"
            limits, finder = self._finder(series, start, split)
            cause = finder.latest(end - split)
            if cause is None:
                return NO_SIGNAL, (
                    f"{name}: no special cause since {since} against the baseline mean of "
                    f"{format_quantity(limits.mean, series.unit)} from {limits.baseline_size} "
                    f"points"
                )
            words = _special_cause_words(series, split, limits, cause)
            return _good_or_bad(cause.side, series.higher_is_better), f"{name}: {words}"

        if len(after) < thresholds.trend_points:
            return NO_SIGNAL, (
                f"{name}: too few points to judge since {since} "
                f"({thresholds.baseline_points} before it or {thresholds.trend_points} after it "
                f"needed)"
            )
        xs = [day.toordinal() for day in series.dates[split:end]]
        test = signals.kendall_tau_test(xs, after)
        slope = signals.theil_sen_slope(xs, after) or 0.0
        p_words = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.3f}"
        if test.p_value >= thresholds.p_value or slope == 0:
            return NO_SIGNAL, (
                f"{name}: no clear trend since {since} (Kendall tau test p not below "
                f"{format_number(thresholds.p_value)})"
            )
        return _good_or_bad(1 if slope > 0 else -1, series.higher_is_better), (
            f"{name}: {'rising' if slope > 0 else 'falling'} over {len(after)} points since "
            f"{since}, Theil-Sen slope {format_quantity(slope * 365.25, series.unit)} a year "
            f"(Kendall tau {test.tau:.2f}, {p_words})"
        )


def _special_cause_words(
    series: Series, offset: int, limits: signals.Limits, cause: signals.SpecialCause
) -> str:
    """The rule that flagged the most recent special-cause point, with its data."""

    def q(value: float) -> str:
        return format_quantity(value, series.unit)

    def point(i: int) -> str:
        return f"{q(series.values[offset + i])} on {format_date(series.dates[offset + i])}"

    above = cause.side > 0
    if cause.rule == signals.OUTSIDE_LIMITS:
        which, limit = (
            ("above the upper", limits.upper) if above else ("below the lower", limits.lower)
        )
        return (
            f"{point(cause.index)} is {which} limit of {q(limit)} "
            f"(baseline mean {q(limits.mean)} from {limits.baseline_size} points)"
        )
    if cause.rule == signals.SHIFT:
        return (
            f"{cause.run_length} points in a row {'above' if above else 'below'} the baseline "
            f"mean of {q(limits.mean)} since {format_date(series.dates[offset + cause.first])}, "
            f"latest {point(cause.last)}"
        )
    if cause.rule == signals.TREND:
        return (
            f"{cause.run_length} points in a row {'rising' if above else 'falling'}, from "
            f"{point(cause.first)} to {point(cause.last)}"
        )
    side, line = ("upper", limits.upper_two_thirds) if above else ("lower", limits.lower_two_thirds)
    beyond = [
        point(i)
        for i in range(cause.first, cause.last + 1)
        if signals.side_of(series.values[offset + i], line) == cause.side
    ]
    return (
        f"{len(beyond)} of 3 points beyond two-thirds of the way to the {side} limit "
        f"({q(line)}): {' and '.join(beyond)}"
    )
