"""Theil-Sen slope and Kendall tau test: the trend signal for indicators without a baseline.

Exact p-values below are counted by hand: with n distinct values in order there are
n! equally likely orderings, and a two-sided test counts both perfect orderings
(and, for one swap, the n-1 orderings one adjacent swap away, each way).
"""

import datetime
import itertools
import math
import random

import pytest

from interventions import signals
from interventions.evidence_signal import CONCERN, IMPROVING, NO_SIGNAL, Evidence
from interventions.trajectory import IndicatorPoint, Thresholds


def test_four_points_in_perfect_order_have_an_exact_p_of_one_in_twelve():
    test = signals.kendall_tau_test([1, 2, 3, 4], [10, 20, 30, 40])
    assert (test.s, test.tau, test.exact) == (6, 1.0, True)
    assert test.p_value == pytest.approx(2 / 24)


def test_five_points_in_perfect_order_have_an_exact_p_of_one_in_sixty():
    assert signals.kendall_tau_test(range(5), [5, 4, 3, 2, 1]).p_value == pytest.approx(2 / 120)


def test_one_adjacent_swap_in_five_points_gives_p_of_ten_in_120():
    # S = 10 - 2 x 1 inversion = 8; orderings with at most one inversion: 1 + 4, each way.
    test = signals.kendall_tau_test(range(5), [1, 2, 3, 5, 4])
    assert test.s == 8
    assert test.p_value == pytest.approx(10 / 120)


def test_three_points_can_never_be_significant():
    assert signals.kendall_tau_test([1, 2, 3], [1, 2, 3]).p_value == pytest.approx(2 / 6)


def test_ties_use_the_normal_approximation_with_the_tie_corrected_variance():
    # y = 1, 1, 2, 3: one tied pair, S = 5; Var(S) = (4*3*13 - 2*1*9) / 18 = 138 / 18.
    test = signals.kendall_tau_test([1, 2, 3, 4], [1, 1, 2, 3])
    assert (test.s, test.exact) == (5, False)
    z = (5 - 1) / math.sqrt(138 / 18)
    assert test.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert test.tau == pytest.approx(5 / math.sqrt(6 * 5))


def test_all_values_equal_has_no_association():
    test = signals.kendall_tau_test([1, 2, 3, 4, 5], [7, 7, 7, 7, 7])
    assert (test.s, test.tau, test.p_value) == (0, 0.0, 1.0)


def test_the_exact_p_value_counts_every_ordering_as_extreme_as_the_one_seen():
    ys = [3, 1, 4, 7, 5, 2, 6]
    observed = signals.kendall_tau_test(range(7), ys)
    as_extreme = sum(
        abs(signals.kendall_tau_test(range(7), ordering).s) >= abs(observed.s)
        for ordering in itertools.permutations(range(7))
    )
    assert observed.exact
    assert observed.p_value == pytest.approx(as_extreme / math.factorial(7))


def test_exact_and_normal_p_values_agree_for_forty_points():
    rng = random.Random(1)
    ys = [i + rng.uniform(-60, 60) for i in range(40)]
    test = signals.kendall_tau_test(range(40), ys)
    variance = 40 * 39 * 85 / 18
    normal = math.erfc((abs(test.s) - 1) / math.sqrt(variance) / math.sqrt(2))
    assert test.exact
    assert 0.05 < test.p_value < 0.5
    assert test.p_value == pytest.approx(normal, abs=0.005)


def test_theil_sen_is_the_median_of_pairwise_slopes():
    # Slopes 1, 1, 10/3, 1, 4.5, 8: median (1 + 10/3) / 2.
    assert signals.theil_sen_slope([0, 1, 2, 3], [0, 1, 2, 10]) == pytest.approx(13 / 6)


def test_theil_sen_ignores_pairs_on_the_same_x_and_needs_two_distinct_x():
    assert signals.theil_sen_slope([0, 0, 1], [0, 5, 1]) == pytest.approx((1 - 4) / 2)
    assert signals.theil_sen_slope([3, 3], [1, 2]) is None


# Through the indicator: no baseline before the reference date, so the trend decides.

REFERENCE = datetime.date(2012, 1, 1)


def quarterly(values, higher_is_better=True):
    return [
        IndicatorPoint(
            indicator="attendance",
            name="Attendance",
            higher_is_better=higher_is_better,
            observed_on=datetime.date(2012 + n // 4, 3 * (n % 4) + 1, 15),
            value=value,
            unit="%",
        )
        for n, value in enumerate(values)
    ]


def signal_of(points, **thresholds):
    return Evidence(points, ()).signal(
        REFERENCE, datetime.date(2016, 1, 1), Thresholds(**thresholds)
    )


def test_a_clear_rise_in_a_higher_is_better_indicator_is_improving():
    result = signal_of(quarterly([88, 89.5, 89, 90.5, 91, 90.8, 92, 93]))
    assert result.direction == IMPROVING
    text = next(text for rule, text in result.findings if text.startswith("Attendance"))
    assert text.startswith("Attendance: rising over 8 points since 1 Jan 2012, Theil-Sen slope")
    assert text.endswith("(better)")


def test_a_clear_fall_in_a_higher_is_better_indicator_is_concern():
    assert signal_of(quarterly([93, 92, 92.5, 91, 90, 90.2, 89])).direction == CONCERN


def test_a_clear_rise_in_a_lower_is_better_indicator_is_concern():
    rising = quarterly([88, 89.5, 89, 90.5, 91, 90.8, 92, 93], higher_is_better=False)
    assert signal_of(rising).direction == CONCERN


def test_noise_is_no_signal():
    result = signal_of(quarterly([90, 92, 89, 91.5, 88.5, 92, 90, 89.8]))
    assert result.direction == NO_SIGNAL
    assert (
        "evidence_none",
        "Attendance: no clear trend since 1 Jan 2012 (Kendall tau test p not below 0.1)",
    ) in result.findings


def test_four_points_are_too_few_for_a_trend():
    result = signal_of(quarterly([88, 90, 92, 94]))
    assert result.direction == NO_SIGNAL
    assert (
        "evidence_none",
        "Attendance: too few points to judge since 1 Jan 2012 (6 before it or 5 after it needed)",
    ) in result.findings


def test_five_points_in_order_are_significant_at_the_default_threshold_only():
    # Exact two-sided p = 2/120 = 0.0167.
    points = quarterly([88, 89, 90, 91, 92])
    assert signal_of(points).direction == IMPROVING
    assert signal_of(points, p_value=0.01).direction == NO_SIGNAL


def test_more_trend_points_can_be_required():
    points = quarterly([88, 89, 90, 91, 92])
    assert signal_of(points, trend_points=6).direction == NO_SIGNAL
