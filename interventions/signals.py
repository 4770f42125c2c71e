"""The statistics behind the evidence signal, as plain functions of numbers.

Two tools, as DESIGN.md's trajectory method names them:

- NHS England's *Making Data Count* XmR rules: natural process limits from a
  baseline (mean +/- 2.66 x mean moving range) and four special-cause rules applied
  to the points that follow it;
- a Theil-Sen slope with a Kendall tau test, for an indicator too new to have a
  baseline.

Nothing here knows about dates, indicators or institutions; the trajectory method
(interventions/trajectory.py) feeds numbers in and words the answer. No scipy: the
Kendall test's exact null distribution is small enough to compute here, which keeps
the method a dependency-free pure function.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Making Data Count's constants: limits sit 2.66 mean moving ranges from the mean
# (3 sigma, with sigma estimated as mean moving range / 1.128), and the 2-of-3 rule
# looks beyond two-thirds of the way from the mean to a limit.
LIMIT_FACTOR = 2.66
RUN_LENGTH = 7

OUTSIDE_LIMITS = "outside_limits"
SHIFT = "shift"
TREND = "trend"
TWO_OF_THREE = "two_of_three"

# special_causes applies the rules in this order, and a point flagged by several
# keeps the first: a rule about the point's own level (outside the limits, a shift,
# two-of-three) says more about where the process is now than a run of rises or
# falls, which can still sit on the other side of the mean (exclusions falling back
# towards a baseline they are still above).
RULE_PRIORITY = (OUTSIDE_LIMITS, SHIFT, TWO_OF_THREE, TREND)

# Floating-point sums make "exactly on the mean" fragile (0.1 + 0.2 != 0.3), so a
# point within this relative distance of a line counts as on it, neither side.
_RELATIVE_TOLERANCE = 1e-9

# Exact Kendall null distribution up to this many points (when nothing is tied);
# by then the normal approximation is within about 0.002 of the exact p-value,
# close enough for a threshold like 0.10, and the exact counts grow as n!.
EXACT_KENDALL_MAX_N = 50


def _bounds(line: float) -> tuple[float, float]:
    """The band around a line within which a value counts as on it."""
    tolerance = _RELATIVE_TOLERANCE * max(1.0, abs(line))
    return line - tolerance, line + tolerance


def side_of(value: float, line: float) -> int:
    """+1 above the line, -1 below, 0 on it (within floating-point rounding)."""
    low, high = _bounds(line)
    return 1 if value > high else -1 if value < low else 0


def _sides(points: Sequence[float], upper_line: float, lower_line: float) -> list[int]:
    """+1 for each point above the upper line, -1 below the lower one, else 0."""
    high, low = _bounds(upper_line)[1], _bounds(lower_line)[0]
    return [1 if value > high else -1 if value < low else 0 for value in points]


@dataclass(frozen=True)
class Limits:
    """XmR natural process limits computed from a baseline."""

    mean: float
    mean_moving_range: float
    baseline_size: int

    @property
    def upper(self) -> float:
        return self.mean + LIMIT_FACTOR * self.mean_moving_range

    @property
    def lower(self) -> float:
        return self.mean - LIMIT_FACTOR * self.mean_moving_range

    @property
    def upper_two_thirds(self) -> float:
        return self.mean + LIMIT_FACTOR * self.mean_moving_range * 2 / 3

    @property
    def lower_two_thirds(self) -> float:
        return self.mean - LIMIT_FACTOR * self.mean_moving_range * 2 / 3

    @property
    def has_spread(self) -> bool:
        """False when every baseline point was equal, so the limits collapse onto the mean.

        Then there is no estimate of ordinary variation: calling any departure,
        however small, "outside the limits" would turn one rounding of a measure
        into a special cause. The limit rules are skipped; the run rules (shift,
        trend), which need only the mean and the order, still apply.
        """
        return side_of(self.upper, self.mean) != 0


def xmr_limits(baseline: Sequence[float]) -> Limits:
    """Mean and mean moving range of the baseline points, in time order."""
    if len(baseline) < 2:
        raise ValueError("XmR limits need at least 2 baseline points for a moving range.")
    mean = math.fsum(baseline) / len(baseline)
    moving_ranges = [abs(b - a) for a, b in zip(baseline, baseline[1:], strict=False)]
    return Limits(
        mean=mean,
        mean_moving_range=math.fsum(moving_ranges) / len(moving_ranges),
        baseline_size=len(baseline),
    )


@dataclass(frozen=True)
class SpecialCause:
    """One point the XmR rules flag, with the run or window that flagged it.

    `side` is +1 for high or rising, -1 for low or falling; `first` and `last` are the
    indexes (into the points given) of the whole run, or of the points beyond the
    two-thirds line in the window, or just this point for a point outside the limits.
    """

    index: int
    rule: str
    side: int
    first: int
    last: int

    @property
    def run_length(self) -> int:
        return self.last - self.first + 1


def _maximal_runs(keys: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first, last, key) of each maximal stretch of equal non-zero keys."""
    runs = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if keys[start] != 0:
                runs.append((start, i - 1, keys[start]))
            start = i
    return runs


def _flags(points: Sequence[float], limits: Limits) -> list[tuple[int, int, int, int] | None]:
    """Per point, (rule's place in RULE_PRIORITY, side, first, last) of what flags it.

    Plain tuples, not SpecialCause objects: this runs for every indicator at every
    date replayed, and most flagged points are never reported.
    """
    flagged: list[tuple[int, int, int, int] | None] = [None] * len(points)

    def flag(rank: int, side: int, first: int, last: int, index: int) -> None:
        held = flagged[index]
        if held is None or (
            held[0] == rank and (last - first, last) > (held[3] - held[2], held[3])
        ):
            flagged[index] = (rank, side, first, last)

    outside, shift, two_of_three, trend = range(4)
    if limits.has_spread:
        for i, side in enumerate(_sides(points, limits.upper, limits.lower)):
            if side:
                flag(outside, side, i, i, i)

    for first, last, side in _maximal_runs(_sides(points, limits.mean, limits.mean)):
        if last - first + 1 >= RUN_LENGTH:
            for i in range(first, last + 1):
                flag(shift, side, first, last, i)

    if limits.has_spread:
        beyond = _sides(points, limits.upper_two_thirds, limits.lower_two_thirds)
        for end in range(2, len(points)):
            window = beyond[end - 2 : end + 1]
            for side in (1, -1):
                if window.count(side) >= 2:
                    hits = [end - 2 + k for k in range(3) if window[k] == side]
                    for i in hits:
                        flag(two_of_three, side, hits[0], hits[-1], i)

    # A trend is a run of strict rises (or falls): step i compares point i with i-1,
    # and n points in a row make n-1 steps. An equal pair breaks the run.
    steps = [0] + [side_of(b, a) for a, b in zip(points, points[1:], strict=False)]
    for first_step, last, side in _maximal_runs(steps):
        first = first_step - 1
        if last - first + 1 >= RUN_LENGTH:
            for i in range(first, last + 1):
                flag(trend, side, first, last, i)
    return flagged


def special_causes(points: Sequence[float], limits: Limits) -> list[SpecialCause | None]:
    """For each point, the special cause that flags it, or None.

    The rules are applied to `points` only (the points after the reference date):
    a run of 7 must lie wholly among them, since the question is whether something
    changed since that date; a rise already under way before it belongs to the
    baseline's own behaviour. A point flagged by several rules carries the first in
    RULE_PRIORITY, and of that rule's windows the widest (then latest), so a
    reason names the whole run.
    """
    return [
        None if found is None else SpecialCause(i, RULE_PRIORITY[found[0]], *found[1:])
        for i, found in enumerate(_flags(points, limits))
    ]


def latest_special_cause(points: Sequence[float], limits: Limits) -> SpecialCause | None:
    """The most recent flagged point: Making Data Count's "current" signal."""
    return SpecialCauseFinder(points, limits).latest(len(points))


def _run_extents(keys: Sequence[int]) -> tuple[list[int], list[int]]:
    """For each index, where the maximal stretch of equal keys holding it starts and ends."""
    starts, ends = [0] * len(keys), [0] * len(keys)
    for first, last, _ in _maximal_runs(keys):
        for i in range(first, last + 1):
            starts[i], ends[i] = first, last
    return starts, ends


class SpecialCauseFinder:
    """The latest special cause among the first k points, for any k, cheaply.

    Replaying a history asks the same question of one indicator at every new
    point: the first k points after the reference date, then k + 1, and so on.
    Running `_flags` on each prefix costs the whole prefix each time. A prefix's
    flags are the full sequence's with runs and windows cut at the prefix's end, so
    they are a subset of the full sequence's; this works out each point's sides and
    runs once, and answers for a prefix by checking, latest first, only the points
    flagged in the full sequence. tests/test_xmr_rules.py checks it against `_flags`
    on every prefix of random sequences.
    """

    def __init__(self, points: Sequence[float], limits: Limits) -> None:
        self.spread = limits.has_spread
        self.outside = _sides(points, limits.upper, limits.lower)
        self.level = _sides(points, limits.mean, limits.mean)
        self.level_starts, self.level_ends = _run_extents(self.level)
        self.beyond = _sides(points, limits.upper_two_thirds, limits.lower_two_thirds)
        # As in _flags: step i compares point i with point i - 1.
        self.steps = [0] + [side_of(b, a) for a, b in zip(points, points[1:], strict=False)]
        self.step_starts, self.step_ends = _run_extents(self.steps)
        self.candidates = [i for i, found in enumerate(_flags(points, limits)) if found]

    def latest(self, count: int) -> SpecialCause | None:
        """The latest flagged point among the first `count` points, as `_flags` would
        flag it on those points alone."""
        for i in reversed(self.candidates[: bisect.bisect_left(self.candidates, count)]):
            found = self._flag(i, count - 1)
            if found is not None:
                rank, side, first, last = found
                return SpecialCause(i, RULE_PRIORITY[rank], side, first, last)
        return None

    def _flag(self, i: int, end: int) -> tuple[int, int, int, int] | None:
        """What flags point i when the points stop at index `end`: the first rule in
        RULE_PRIORITY that does, and of its windows the widest, then latest."""
        outside, shift, two_of_three, trend = range(4)
        if self.spread and self.outside[i]:
            return outside, self.outside[i], i, i
        side = self.level[i]
        if side:
            first, last = self.level_starts[i], min(self.level_ends[i], end)
            if last - first + 1 >= RUN_LENGTH:
                return shift, side, first, last
        side = self.beyond[i] if self.spread else 0
        if side:
            windows = []
            for window_end in range(max(2, i), min(i + 2, end) + 1):
                hits = [j for j in range(window_end - 2, window_end + 1) if self.beyond[j] == side]
                if len(hits) >= 2:
                    windows.append((hits[-1] - hits[0], hits[-1], hits[0]))
            if windows:
                _, last, first = max(windows)
                return two_of_three, side, first, last
        runs = []
        # Point i ends the run of steps holding step i and starts one beginning at i + 1.
        for step in (i, i + 1):
            if step <= end and self.steps[step] and (step == i or self.step_starts[step] == step):
                first, last = self.step_starts[step] - 1, min(self.step_ends[step], end)
                if last - first + 1 >= RUN_LENGTH:
                    runs.append((last - first, last, first, self.steps[step]))
        if runs:
            _, last, first, side = max(runs)
            return trend, side, first, last
        return None


def theil_sen_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The median of the slopes between every pair of points with different x.

    None when fewer than two distinct x values leave no slope at all. Robust to a
    few wild points, which is why it suits messy indicator data.
    """
    slopes = sorted(
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
        if xs[j] != xs[i]
    )
    if not slopes:
        return None
    middle = len(slopes) // 2
    if len(slopes) % 2:
        return slopes[middle]
    return (slopes[middle - 1] + slopes[middle]) / 2


@dataclass(frozen=True)
class KendallTest:
    """Kendall's S, tau-b and the two-sided p-value of "no monotonic association"."""

    n: int
    s: int
    tau: float
    p_value: float
    exact: bool


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _tie_sums(values: Sequence[float]) -> tuple[int, int, int]:
    """Sums over tied groups of t(t-1), t(t-1)(t-2) and t(t-1)(2t+5)."""
    counts: dict[float, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    pairs = triples = variance_term = 0
    for t in counts.values():
        pairs += t * (t - 1)
        triples += t * (t - 1) * (t - 2)
        variance_term += t * (t - 1) * (2 * t + 5)
    return pairs, triples, variance_term


@lru_cache(maxsize=EXACT_KENDALL_MAX_N + 1)
def _inversion_cumulative_counts(n: int) -> tuple[int, ...]:
    """c[k] = how many orderings of n distinct values have at most k inversions.

    Under "no association" every ordering is equally likely, and S = (pairs - 2 x
    inversions), so these counts (Mahonian numbers, summed) give the exact null
    distribution of S. Built one value at a time: adding the i-th value adds 0 to
    i-1 inversions, a sliding-window sum over the previous counts.
    """
    counts = [1]
    for i in range(2, n + 1):
        width = i
        new_length = len(counts) + width - 1
        new = [0] * new_length
        window = 0
        for k in range(new_length):
            if k < len(counts):
                window += counts[k]
            if k - width >= 0:
                window -= counts[k - width]
            new[k] = window
        counts = new
    cumulative = []
    running = 0
    for count in counts:
        running += count
        cumulative.append(running)
    return tuple(cumulative)


def kendall_tau_test(xs: Sequence[float], ys: Sequence[float]) -> KendallTest:
    """Two-sided Kendall tau test of association between xs (time) and ys (values).

    Exact when there are no ties and at most EXACT_KENDALL_MAX_N points: the
    p-value counts the orderings with |S| at least as large as observed. Otherwise
    the normal approximation with the tie-corrected variance of S (Kendall 1975)
    and a continuity correction of 1, as in the Mann-Kendall trend test.
    Two-sided because the method asks about either direction, good or bad.
    """
    n = len(xs)
    if n != len(ys):
        raise ValueError("Kendall's test needs as many x values as y values.")
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += _sign(xs[j] - xs[i]) * _sign(ys[j] - ys[i])
    pairs = n * (n - 1) // 2
    x_pairs, x_triples, x_variance = _tie_sums(xs)
    y_pairs, y_triples, y_variance = _tie_sums(ys)
    untied_x = pairs - x_pairs // 2
    untied_y = pairs - y_pairs // 2
    tau = s / math.sqrt(untied_x * untied_y) if untied_x and untied_y else 0.0
    if n < 2 or not untied_x or not untied_y:
        return KendallTest(n=n, s=s, tau=tau, p_value=1.0, exact=False)

    if x_pairs == 0 and y_pairs == 0 and n <= EXACT_KENDALL_MAX_N:
        cumulative = _inversion_cumulative_counts(n)
        # P(S >= |s|) = P(inversions <= (pairs - |s|) / 2); the distribution is symmetric.
        at_most = cumulative[(pairs - abs(s)) // 2]
        p_value = min(1.0, 2 * at_most / math.factorial(n))
        return KendallTest(n=n, s=s, tau=tau, p_value=p_value, exact=True)

    variance = (n * (n - 1) * (2 * n + 5) - x_variance - y_variance) / 18
    variance += x_triples * y_triples / (9 * n * (n - 1) * (n - 2)) if n > 2 else 0.0
    variance += x_pairs * y_pairs / (2 * n * (n - 1))
    if variance <= 0:
        return KendallTest(n=n, s=s, tau=tau, p_value=1.0, exact=False)
    z = max(abs(s) - 1, 0) / math.sqrt(variance)
    return KendallTest(n=n, s=s, tau=tau, p_value=math.erfc(z / math.sqrt(2)), exact=False)
