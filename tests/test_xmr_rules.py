"""Making Data Count XmR rules, each on its own, and how they become an indicator's signal.

The baseline used throughout is 10, 12, 10, 12, 10, 12: mean 11, mean moving range
2, so the limits are 11 +/- 5.32 (5.68 and 16.32) and the two-thirds lines are
11 +/- 3.5467 (7.4533 and 14.5467).
"""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interventions import signals
from interventions.evidence_signal import CONCERN, IMPROVING, NO_SIGNAL, Evidence
from interventions.trajectory import IndicatorPoint, Thresholds

BASELINE = [10, 12, 10, 12, 10, 12]
LIMITS = signals.xmr_limits(BASELINE)
REFERENCE = datetime.date(2010, 1, 1)


def latest(after):
    return signals.latest_special_cause(after, LIMITS)


def test_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges():
    assert LIMITS.mean == 11
    assert LIMITS.mean_moving_range == 2
    assert LIMITS.upper == pytest.approx(16.32)
    assert LIMITS.lower == pytest.approx(5.68)
    assert LIMITS.upper_two_thirds == pytest.approx(14.54667, abs=1e-5)
    assert LIMITS.lower_two_thirds == pytest.approx(7.45333, abs=1e-5)


def test_a_point_above_the_upper_limit_is_a_high_special_cause():
    cause = latest([11.5, 16.4])
    assert (cause.rule, cause.side, cause.index) == (signals.OUTSIDE_LIMITS, 1, 1)


def test_a_point_below_the_lower_limit_is_a_low_special_cause():
    cause = latest([11.5, 5.6])
    assert (cause.rule, cause.side, cause.index) == (signals.OUTSIDE_LIMITS, -1, 1)


def test_a_point_exactly_on_a_limit_is_not_outside_it():
    assert latest([11.5, 11 + 2.66 * 2]) is None


def test_seven_points_in_a_row_above_the_mean_are_a_shift():
    cause = latest([12, 11.5, 13, 12, 11.2, 12.5, 12])
    assert (cause.rule, cause.side, cause.first, cause.last) == (signals.SHIFT, 1, 0, 6)


def test_seven_points_in_a_row_below_the_mean_are_a_low_shift():
    cause = latest([10, 10.5, 9, 10, 10.8, 9.5, 10])
    assert (cause.rule, cause.side) == (signals.SHIFT, -1)


def test_six_points_on_one_side_of_the_mean_are_not_enough():
    assert latest([12, 11.5, 13, 12, 11.2, 12.5]) is None


def test_a_point_exactly_on_the_mean_breaks_the_run():
    assert latest([12, 11.5, 13, 11, 12, 11.2, 12.5, 12]) is None


def test_a_shift_longer_than_seven_names_the_whole_run():
    cause = latest([12] * 9)
    assert cause.run_length == 9


def test_seven_points_strictly_rising_are_a_trend():
    cause = latest([8, 9, 10, 11.5, 12, 13, 14])
    assert (cause.rule, cause.side, cause.first, cause.last) == (signals.TREND, 1, 0, 6)


def test_seven_points_strictly_falling_are_a_falling_trend():
    cause = latest([14, 13, 12, 11.5, 10, 9, 8])
    assert (cause.rule, cause.side) == (signals.TREND, -1)


def test_an_equal_pair_breaks_a_trend():
    assert latest([8, 9, 10, 10, 12, 13, 14]) is None


def test_six_points_rising_are_not_a_trend():
    assert latest([9, 10, 11.5, 12, 13, 14]) is None


def test_two_of_three_points_beyond_two_thirds_on_the_same_side_are_a_special_cause():
    cause = latest([15, 11.2, 15.1])
    assert (cause.rule, cause.side, cause.first, cause.last) == (signals.TWO_OF_THREE, 1, 0, 2)


def test_two_of_three_below_the_lower_two_thirds_line_is_a_low_special_cause():
    cause = latest([11, 7.2, 7.3])
    assert (cause.rule, cause.side) == (signals.TWO_OF_THREE, -1)


def test_two_of_three_beyond_two_thirds_on_opposite_sides_is_not_a_special_cause():
    assert latest([15, 11, 7]) is None


def test_one_of_three_beyond_two_thirds_is_not_a_special_cause():
    assert latest([15, 11, 11.5]) is None


def test_the_most_recent_special_cause_decides_the_direction():
    assert latest([16.5, 11, 5.5]).side == -1
    assert latest([5.5, 11, 16.5]).side == 1


def test_a_rule_about_the_level_names_a_point_before_a_trend_through_it():
    # Exclusions shot up and are now falling back, but still sit above the mean.
    cause = latest([18, 17.5, 17, 16.5, 16, 15.5, 15])
    assert (cause.rule, cause.side) == (signals.SHIFT, 1)


def test_an_all_equal_baseline_has_no_spread_so_a_small_departure_is_not_outside():
    flat = signals.xmr_limits([5, 5, 5, 5, 5, 5])
    assert not flat.has_spread
    assert signals.latest_special_cause([5.01, 5.02], flat) is None


def test_an_all_equal_baseline_still_sees_a_shift_of_seven():
    flat = signals.xmr_limits([5, 5, 5, 5, 5, 5])
    cause = signals.latest_special_cause([6] * 7, flat)
    assert (cause.rule, cause.side) == (signals.SHIFT, 1)
    assert signals.latest_special_cause([5] * 7, flat) is None


def test_limits_need_two_baseline_points():
    with pytest.raises(ValueError, match="at least 2"):
        signals.xmr_limits([5])


# Through the indicator: good or bad, and which points count.


def monthly(values, start=datetime.date(2009, 1, 1), slug="exclusions", higher_is_better=False):
    points = []
    for n, value in enumerate(values):
        year, month = start.year + (start.month - 1 + n) // 12, (start.month - 1 + n) % 12 + 1
        points.append(
            IndicatorPoint(
                indicator=slug,
                name="Exclusion rate" if slug == "exclusions" else slug.title(),
                higher_is_better=higher_is_better,
                observed_on=datetime.date(year, month, 1),
                value=value,
                unit="%",
            )
        )
    return points


def signal_of(points, reference=REFERENCE, as_of=datetime.date(2012, 1, 1), **thresholds):
    return Evidence(points, ()).signal(reference, as_of, Thresholds(**thresholds))


def test_a_high_point_is_concern_when_lower_is_better():
    result = signal_of(monthly([4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 9]))
    assert result.direction == CONCERN
    assert any(
        "9% on 1 Jan 2010 is above the upper limit of 7.16%" in text and text.endswith("(worse)")
        for _, text in result.findings
    )


def test_a_high_point_is_improving_when_higher_is_better():
    points = monthly([4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 9], higher_is_better=True)
    assert signal_of(points).direction == IMPROVING


def test_a_low_point_is_improving_when_lower_is_better_and_concern_when_higher_is():
    values = [4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 1]
    assert signal_of(monthly(values)).direction == IMPROVING
    assert signal_of(monthly(values, higher_is_better=True)).direction == CONCERN


def test_the_latest_special_cause_decides_the_indicator_signal():
    rose_then_fell = [4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 9, 4.5, 0.5]
    assert signal_of(monthly(rose_then_fell)).direction == IMPROVING
    fell_then_rose = [4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 0.5, 4.5, 9]
    assert signal_of(monthly(fell_then_rose)).direction == CONCERN


def test_a_shift_reason_names_the_run_the_mean_and_the_date():
    result = signal_of(monthly([4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 5, 5, 6, 5, 5, 5, 6]))
    texts = [text for rule, text in result.findings if rule == "evidence_signal"]
    assert (
        "Exclusion rate: 7 points in a row above the baseline mean of 4.5% since 1 Jan 2010, "
        "latest 6% on 1 Jul 2010 (worse)" in texts
    )


def test_with_fewer_than_six_baseline_points_a_trend_test_is_used_instead():
    rising = [4, 5, 4, 5, 4, 6, 7, 8, 9, 10, 11]
    # Reference 1 Jun 2009: five points before it, six after.
    five_before = signal_of(monthly(rising), reference=datetime.date(2009, 6, 1))
    assert five_before.direction == CONCERN
    assert any("Theil-Sen slope" in text for _, text in five_before.findings)
    # One more baseline point (reference 1 Jul 2009) and XmR decides instead.
    six_before = signal_of(monthly(rising), reference=datetime.date(2009, 7, 1))
    assert not any("Theil-Sen" in text for _, text in six_before.findings)


def test_the_baseline_is_every_point_before_the_reference_date():
    # Ten old points at 50, then twenty around 4.5: DESIGN takes all thirty, so the
    # mean is high and 9% reads as below it (better, when lower is better).
    values = [50] * 10 + [4, 5] * 10 + [9]
    result = signal_of(monthly(values, start=datetime.date(2007, 7, 1)))
    assert any("from 30 points" in text for _, text in result.findings)


def test_an_administrator_may_cap_the_baseline_to_the_latest_points():
    values = [50] * 10 + [4, 5] * 10 + [9]
    result = signal_of(monthly(values, start=datetime.date(2007, 7, 1)), baseline_max_points=20)
    assert result.direction == CONCERN
    assert any("baseline mean 4.5% from 20 points" in text for _, text in result.findings)


def test_a_point_on_the_reference_date_counts_after_it():
    points = monthly([4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 9])
    assert points[-1].observed_on == REFERENCE
    assert signal_of(points).direction == CONCERN


def test_a_trend_must_lie_wholly_after_the_reference_date():
    # Four rises before the reference date and three after: seven rising in all,
    # but the change began before it, so it is not a signal since it.
    values = [5, 4.5, 5, 4.5, 5, 4.5, 4.6, 4.7, 4.8, 4.9, 4.95, 4.97]
    points = monthly(values, start=datetime.date(2009, 4, 1))
    assert points[9].observed_on == REFERENCE
    assert signal_of(points).direction == NO_SIGNAL


def test_points_after_as_of_are_ignored():
    points = monthly([4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4.5, 9])
    assert signal_of(points, as_of=datetime.date(2010, 1, 31)).direction == NO_SIGNAL
    assert signal_of(points, as_of=datetime.date(2010, 2, 1)).direction == CONCERN


def _latest_by_flagging_the_prefix(points, limits):
    """The reference answer: every rule run over the prefix alone."""
    causes = [cause for cause in signals.special_causes(points, limits) if cause is not None]
    return causes[-1] if causes else None


@settings(max_examples=300, deadline=None)
@given(
    baseline=st.lists(st.integers(0, 6), min_size=2, max_size=8),
    after=st.lists(st.integers(0, 6), max_size=30),
)
def test_the_finder_answers_every_prefix_as_flagging_that_prefix_would(baseline, after):
    # Small integers make ties, points on the mean and flat baselines common.
    limits = signals.xmr_limits(baseline)
    finder = signals.SpecialCauseFinder(after, limits)
    for count in range(len(after) + 1):
        expected = _latest_by_flagging_the_prefix(after[:count], limits)
        assert finder.latest(count) == expected
