"""The trajectory method's status table, one rule at a time, from History objects.

Indicator figures and exact days are illustrative; the cases follow CASES.md.
"""

import datetime
import json

import pytest

from institutions.models import BAND_RANKS as MODEL_BAND_RANKS
from institutions.models import TrajectoryStatus
from interventions import models as intervention_models
from interventions import trajectory
from interventions.trajectory import (
    History,
    IndicatorPoint,
    InspectionFact,
    InterventionFact,
    MilestoneFact,
    ObservationFact,
    Reason,
    Thresholds,
    assess,
    replay,
)

D = datetime.date
FAILED_ON = D(2010, 3, 12)  # special measures, grace window until 12 Sep 2011


def inspected(on, band, grade, inspectorate="Ofsted", category="", institution=""):
    return InspectionFact(on, inspectorate, band, grade, category, institution)


def special_measures_inspection(on=FAILED_ON, institution=""):
    return inspected(
        on, "failing", "Inadequate", category="Special measures", institution=institution
    )


def good(on, institution=""):
    return inspected(on, "at_standard", "Good", institution=institution)


def requires_improvement(on):
    return inspected(on, "below_standard", "Requires improvement")


def special_measures(on=FAILED_ON, grace_months=18, **fields):
    return InterventionFact(
        started_on=on, type_name="Special measures", grace_months=grace_months, **fields
    )


def monthly_exclusions(values, start=None):
    """Exclusion rate (lower is better) on the 1st of each month from `start`."""
    start = start or D(2008, 9, 1)
    points = []
    for n, value in enumerate(values):
        month_index = start.month - 1 + n
        on = D(start.year + month_index // 12, month_index % 12 + 1, 1)
        points.append(IndicatorPoint("exclusions", "Exclusion rate", False, on, value, "%"))
    return tuple(points)


# Nineteen months around 4.5% before special measures (the 19th, 1 Mar 2010, exactly
# 4.5%): mean moving range 17.5 / 18, so limits 1.91% and 7.09%.
BASELINE = [4, 5] * 9 + [4.5]
DIP = [6.5, 8, 9, 8.5, 7.5, 6]  # Apr to Sep 2010: the implementation dip
RECOVERY = [5, 4, 3.5, 3, 2.5, 2, 1.5, 1.4, 1.6, 1.4, 1.6]  # Oct 2010 to Aug 2011


def failing_school(*more_inspections, points=(), observations=(), **intervention):
    return History(
        inspections=(special_measures_inspection(), *more_inspections),
        interventions=(special_measures(**intervention),),
        points=points,
        observations=observations,
    )


def texts(assessment):
    return [reason.text for reason in assessment.reasons]


def rules(assessment):
    return [reason.rule for reason in assessment.reasons]


def statuses(assessments):
    """The distinct statuses in order, as an overseer would read the history."""
    result = []
    for assessment in assessments:
        if not result or result[-1] != assessment.status:
            result.append(assessment.status)
    return result


# The interface agrees with the models.


def test_status_values_are_the_models_trajectory_statuses_in_table_order():
    assert list(trajectory.STATUSES) == list(TrajectoryStatus.values)


def test_band_ranks_are_the_models_band_ranks():
    assert trajectory.BAND_RANKS == MODEL_BAND_RANKS


@pytest.mark.parametrize(
    ("day", "months"),
    [(D(2010, 1, 31), 1), (D(2012, 1, 31), 1), (D(2010, 8, 31), 18), (D(2010, 3, 12), 0)],
)
def test_add_months_agrees_with_the_models(day, months):
    assert trajectory.add_months(day, months) == intervention_models.add_months(day, months)


def test_reasons_serialise_to_json():
    assessment = assess(failing_school(), D(2010, 6, 1))
    encoded = json.dumps([reason.as_dict() for reason in assessment.reasons])
    assert json.loads(encoded)[0] == {
        "rule": "latest_inspection",
        "text": "Latest Ofsted inspection 12 Mar 2010: Inadequate, special measures",
    }


def test_bad_thresholds_and_dates_get_clear_errors():
    with pytest.raises(ValueError, match="p_value"):
        Thresholds(p_value=1.5)
    with pytest.raises(ValueError, match="baseline_points"):
        Thresholds(baseline_points=1)
    with pytest.raises(TypeError, match="as_of must be a date"):
        assess(History(), datetime.datetime(2010, 1, 1))
    with pytest.raises(ValueError, match="Unknown band 'failng'"):
        assess(History(inspections=(inspected(FAILED_ON, "failng", "Inadequate"),)), FAILED_ON)


# unknown


def test_nothing_recorded_is_unknown():
    assessment = assess(History(), D(2015, 1, 1))
    assert assessment.status == "unknown"
    assert assessment.reasons == (Reason("no_data", "No inspection and no intervention recorded"),)
    assert assessment.method_version == trajectory.METHOD_VERSION == 1


def test_only_ungraded_inspections_is_not_failing_as_unknown_needs_no_inspection_at_all():
    history = History(
        inspections=(inspected(D(2014, 5, 1), None, "Not graded"),),
        points=monthly_exclusions([4, 5, 4]),
    )
    assessment = assess(history, D(2015, 1, 1))
    assert assessment.status == "not_failing"
    assert "Ofsted inspection 1 May 2014 (Not graded)" in " ".join(texts(assessment))


def test_facts_after_as_of_do_not_count():
    assert assess(failing_school(), D(2010, 3, 11)).status == "unknown"


# not_failing


def test_good_inspections_only_is_not_failing():
    history = History(inspections=(good(D(2012, 1, 10)), good(D(2016, 2, 3))))
    assessment = assess(history, D(2017, 1, 1))
    assert assessment.status == "not_failing"
    assert texts(assessment) == [
        "Latest Ofsted inspection 3 Feb 2016: Good",
        "Never in a failure episode",
    ]


def test_requires_improvement_without_a_failure_is_not_failing():
    history = History(inspections=(requires_improvement(D(2013, 1, 10)),))
    assert assess(history, D(2014, 1, 1)).status == "not_failing"


def test_an_intervention_that_has_not_started_yet_does_not_count():
    history = History(
        inspections=(good(D(2012, 1, 10)),), interventions=(special_measures(D(2014, 1, 1)),)
    )
    assert assess(history, D(2013, 12, 31)).status == "not_failing"


# failing


def test_a_failing_inspection_with_no_intervention_is_failing():
    history = History(inspections=(special_measures_inspection(),))
    assessment = assess(history, D(2010, 6, 1))
    assert assessment.status == "failing"
    assert "No intervention has started since 12 Mar 2010" in texts(assessment)


def test_a_report_card_with_safeguarding_not_met_is_failing():
    history = History(inspections=(inspected(D(2025, 12, 1), "failing", "Safeguarding: Not met"),))
    assessment = assess(history, D(2026, 1, 15))
    assert assessment.status == "failing"
    assert texts(assessment)[0] == "Latest Ofsted inspection 1 Dec 2025: Safeguarding: Not met"
    assert (
        "In a failure episode since 1 Dec 2025, begun by the Ofsted inspection 1 Dec 2025 "
        "(Safeguarding: Not met)" in texts(assessment)
    )


def test_a_new_failure_after_recovery_is_a_new_episode_without_an_intervention():
    history = failing_school(good(D(2013, 5, 1)), special_measures_inspection(D(2016, 2, 1)))
    assert assess(history, D(2016, 3, 1)).status == "failing"


# early_recovery


def test_a_dip_inside_the_grace_window_is_early_recovery_not_decline():
    history = failing_school(points=monthly_exclusions(BASELINE + DIP))
    assessment = assess(history, D(2010, 10, 1))
    assert assessment.status == "early_recovery"
    assert (
        "Inside the 18-month grace window of Special measures started 12 Mar 2010 "
        "(until 12 Sep 2011): a dip is expected" in texts(assessment)
    )
    assert (
        "Exclusion rate: 7.5% on 1 Aug 2010 is above the upper limit of 7.09% (baseline mean "
        "4.5% from 19 points) (worse; a dip is expected inside the grace window)"
        in texts(assessment)
    )


def test_an_intervention_with_no_failing_inspection_begins_an_episode_in_its_grace_window():
    history = History(
        inspections=(inspected(D(2009, 11, 1), "below_standard", "Concerns", "Audit Commission"),),
        interventions=(InterventionFact(D(2010, 1, 5), "Improvement board", 12),),
    )
    assessment = assess(history, D(2010, 6, 1))
    assert assessment.status == "early_recovery"
    assert (
        "In a failure episode since 5 Jan 2010, begun by the start of Improvement board"
        in texts(assessment)
    )


def test_a_later_intervention_in_the_episode_opens_a_new_grace_window():
    history = History(
        inspections=(special_measures_inspection(),),
        interventions=(
            special_measures(),
            InterventionFact(D(2012, 1, 9), "Leadership change", 12),
        ),
    )
    assert assess(history, D(2011, 12, 1)).status == "stalled"
    assessment = assess(history, D(2012, 6, 1))
    assert assessment.status == "early_recovery"
    assert (
        "Inside the 12-month grace window of Leadership change started 9 Jan 2012 "
        "(until 9 Jan 2013): a dip is expected" in texts(assessment)
    )


# deteriorating


def test_the_same_dip_after_the_grace_window_is_deteriorating():
    history = failing_school(points=monthly_exclusions(BASELINE + DIP))
    assessment = assess(history, D(2011, 10, 1))
    assert assessment.status == "deteriorating"
    assert (
        "The 18-month grace window of Special measures started 12 Mar 2010 ended 12 Sep 2011"
        in texts(assessment)
    )
    assert any(text.endswith("(worse)") for text in texts(assessment))


def test_a_worse_headline_band_than_at_the_start_is_deteriorating():
    history = History(
        inspections=(
            requires_improvement(D(2011, 2, 1)),
            inspected(D(2012, 9, 1), "failing", "Inadequate", category="Serious weaknesses"),
        ),
        interventions=(InterventionFact(D(2011, 3, 1), "Leadership change", 12),),
    )
    assessment = assess(history, D(2012, 10, 1))
    assert assessment.status == "deteriorating"
    assert (
        "Headline band worse than when the episode began on 1 Mar 2011 (below standard): "
        "failing at the Ofsted inspection 1 Sep 2012 (Inadequate, serious weaknesses)"
        in texts(assessment)
    )


def test_deteriorating_wins_over_improving_when_both_hold():
    # The band is better (failing to below standard) but exclusions have shot up.
    history = failing_school(
        requires_improvement(D(2011, 10, 20)),
        points=monthly_exclusions(BASELINE + DIP),
    )
    assessment = assess(history, D(2011, 11, 1))
    assert assessment.status == "deteriorating"
    assert any(text.startswith("Headline band better") for text in texts(assessment))


# improving


def test_west_sussex_reads_the_change_of_scale_as_no_change_of_band():
    history = History(
        inspections=(
            inspected(D(2010, 6, 14), "failing", "Inadequate"),
            inspected(D(2010, 6, 14), "failing", "Inadequate", inspectorate="CQC"),
            inspected(D(2013, 2, 4), "below_standard", "Adequate"),
            inspected(D(2013, 11, 4), "below_standard", "Requires improvement to be good"),
        ),
        interventions=(InterventionFact(D(2010, 7, 1), "Improvement notice", 12),),
    )
    after_adequate = assess(history, D(2013, 3, 1))
    after_requires_improvement = assess(history, D(2013, 12, 1))
    assert after_adequate.status == after_requires_improvement.status == "improving"
    assert (
        "Headline band better than when the episode began on 14 Jun 2010 (failing): "
        "below standard at the Ofsted inspection 4 Nov 2013 (Requires improvement to be good)"
        in texts(after_requires_improvement)
    )
    assert not any("worse" in text for text in texts(after_requires_improvement))
    history_rows = replay(history, D(2014, 1, 1))
    assert statuses(history_rows) == ["failing", "early_recovery", "stalled", "improving"]


def test_an_improving_signal_with_milestones_on_track_is_improving():
    history = failing_school(
        points=monthly_exclusions(BASELINE + DIP + RECOVERY),
        milestones=(
            MilestoneFact("Appoint a new headteacher", D(2010, 9, 1), "met", D(2010, 8, 20)),
            MilestoneFact("New behaviour policy", D(2011, 1, 31), "missed"),
            MilestoneFact("Balance the budget", D(2011, 9, 1), "in_progress"),
        ),
    )
    assessment = assess(history, D(2011, 10, 1))
    assert assessment.status == "improving"
    assert (
        "Milestones on track: 1 of 3 due missed (New behaviour policy, due 31 Jan 2011)"
        in texts(assessment)
    )
    assert "Exclusion rate: 1.6% on 1 Aug 2011 is below the lower limit of 1.91%" in " ".join(
        texts(assessment)
    )


def test_more_positive_than_negative_observations_is_improving():
    history = failing_school(
        observations=(
            ObservationFact(D(2011, 10, 3), "positive", "Behaviour calmer in lessons"),
            ObservationFact(D(2011, 11, 7), "positive", "Staff retention up"),
            ObservationFact(D(2011, 11, 8), "negative", "Governors missed a meeting"),
            ObservationFact(D(2011, 11, 9), "neutral", "New timetable"),
        )
    )
    assessment = assess(history, D(2012, 1, 1))
    assert assessment.status == "improving"
    assert (
        "Observations since 12 Mar 2010: 2 positive (3 Oct 2011, 7 Nov 2011) and "
        "1 negative (8 Nov 2011)" in texts(assessment)
    )


# stalled


def test_no_signal_and_an_unchanged_band_after_the_grace_window_is_stalled():
    assessment = assess(failing_school(), D(2012, 1, 1))
    assert assessment.status == "stalled"
    assert "Headline band unchanged since the episode began on 12 Mar 2010: failing" in texts(
        assessment
    )


def test_a_better_band_with_half_the_due_milestones_missed_is_stalled():
    history = failing_school(
        requires_improvement(D(2011, 11, 1)),
        milestones=(
            MilestoneFact("Appoint a new headteacher", D(2010, 9, 1), "missed"),
            MilestoneFact("New behaviour policy", D(2011, 1, 31), "met", D(2011, 1, 20)),
            MilestoneFact("Dropped plan", D(2011, 2, 1), "dropped"),
            MilestoneFact("Future milestone", D(2013, 1, 1), "missed"),
        ),
    )
    assessment = assess(history, D(2012, 1, 1))
    assert assessment.status == "stalled"
    assert (
        "Milestones off track: 1 of 2 due missed (Appoint a new headteacher, due 1 Sep 2010)"
        in texts(assessment)
    )


def test_a_due_milestone_still_in_progress_is_late_not_missed():
    history = failing_school(
        requires_improvement(D(2011, 11, 1)),
        milestones=(
            MilestoneFact("Appoint a new headteacher", D(2010, 9, 1), "missed"),
            MilestoneFact("New behaviour policy", D(2011, 1, 31), "in_progress"),
            MilestoneFact("Balance the budget", D(2011, 6, 30), "planned"),
        ),
    )
    assert assess(history, D(2012, 1, 1)).status == "improving"


def test_a_tie_between_improving_and_concern_is_no_signal():
    history = failing_school(
        observations=(
            ObservationFact(D(2011, 10, 3), "positive"),
            ObservationFact(D(2011, 11, 8), "negative"),
        )
    )
    assessment = assess(history, D(2012, 1, 1))
    assert assessment.status == "stalled"
    assert (
        "Evidence since 12 Mar 2010: improving in 1, concern in 1, so no overall signal (a tie)"
        in texts(assessment)
    )


# recovered


def test_doncaster_recovers_by_intervention_outcome_with_no_later_inspection():
    history = History(
        inspections=(inspected(D(2010, 4, 20), "failing", "Failing", "Audit Commission"),),
        interventions=(
            InterventionFact(
                D(2010, 6, 1), "Commissioners monitoring", 12, D(2014, 7, 31), "succeeded"
            ),
        ),
    )
    assert assess(history, D(2014, 7, 30)).status == "stalled"
    assessment = assess(history, D(2015, 1, 1))
    assert assessment.status == "recovered"
    assert (
        "Failure episode from 20 Apr 2010 ended 31 Jul 2014 by Commissioners monitoring "
        "started 1 Jun 2010 ending with outcome succeeded" in texts(assessment)
    )
    assert assess(history, D(2016, 7, 31)).status == "sustained"


def test_a_good_inspection_ends_the_episode_and_the_school_has_recovered():
    history = failing_school(good(D(2013, 5, 1)))
    assessment = assess(history, D(2014, 1, 1))
    assert assessment.status == "recovered"
    assert (
        "Recovery since 1 May 2013 is sustained after 24 months (on 1 May 2015) or 2 "
        "consecutive inspections at or above standard (1 so far)" in texts(assessment)
    )


def test_a_succeeded_intervention_ending_after_as_of_is_still_running():
    history = failing_school(ended_on=D(2014, 7, 31), outcome="succeeded")
    assert assess(history, D(2014, 7, 30)).status == "stalled"
    assert assess(history, D(2014, 7, 31)).status == "recovered"


def test_an_academy_conversion_carries_the_predecessors_failure_to_the_successor():
    history = History(
        inspections=(
            special_measures_inspection(institution="Eltham Foundation School"),
            good(D(2012, 6, 20), institution="Harris Academy Greenwich"),
            good(D(2014, 3, 5), institution="Harris Academy Greenwich"),
        ),
        interventions=(special_measures(institution="Eltham Foundation School"),),
    )
    assert assess(history, D(2011, 1, 1)).status == "early_recovery"
    recovered = assess(history, D(2013, 1, 1))
    assert recovered.status == "recovered"
    assert (
        "Failure episode from 12 Mar 2010 ended 20 Jun 2012 by the Ofsted inspection of "
        "Harris Academy Greenwich on 20 Jun 2012 (Good)" in texts(recovered)
    )
    sustained = assess(history, D(2014, 4, 1))
    assert sustained.status == "sustained"
    assert (
        "2 consecutive inspections at or above standard since the recovery: the Ofsted "
        "inspection of Harris Academy Greenwich on 20 Jun 2012 (Good); the Ofsted inspection "
        "of Harris Academy Greenwich on 5 Mar 2014 (Good)" in texts(sustained)
    )


# sustained


def test_a_recovery_held_for_24_months_is_sustained():
    history = failing_school(good(D(2013, 5, 1)))
    assert assess(history, D(2015, 4, 30)).status == "recovered"
    assessment = assess(history, D(2015, 5, 1))
    assert assessment.status == "sustained"
    assert "Recovery held for 24 months from 1 May 2013 (on 1 May 2015)" in texts(assessment)


def test_two_consecutive_inspections_at_standard_are_sustained():
    history = failing_school(
        good(D(2013, 5, 1)), inspected(D(2014, 6, 1), "above_standard", "Outstanding")
    )
    assert assess(history, D(2014, 6, 1)).status == "sustained"


def test_administrators_can_shorten_the_recovery_period():
    history = failing_school(good(D(2013, 5, 1)))
    assert assess(history, D(2014, 5, 1), Thresholds(recovery_months=12)).status == "sustained"
    assert assess(history, D(2013, 5, 1), Thresholds(recovery_inspections=1)).status == "sustained"


def test_a_recovery_that_slipped_has_held_only_since_it_was_regained():
    history = failing_school(
        good(D(2013, 5, 1)), requires_improvement(D(2014, 2, 1)), good(D(2015, 3, 1))
    )
    assessment = assess(history, D(2015, 6, 1))
    assert assessment.status == "recovered"
    assert "Recovery since 1 Mar 2015 is sustained after 24 months (on 1 Mar 2017)" in (
        " ".join(texts(assessment))
    )


# relapsing


def test_a_below_standard_inspection_after_recovery_is_relapsing():
    history = failing_school(good(D(2013, 5, 1)), requires_improvement(D(2014, 2, 1)))
    assessment = assess(history, D(2014, 3, 1))
    assert assessment.status == "relapsing"
    assert (
        "Below standard since the recovery on 1 May 2013: the Ofsted inspection 1 Feb 2014 "
        "(Requires improvement)" in texts(assessment)
    )


def test_a_concern_signal_after_recovery_is_relapsing():
    # Twenty low months before the Good inspection, then exclusions climb again.
    values = [1.4, 1.6] * 10 + [1.5, 2.8]
    history = failing_school(
        good(D(2013, 5, 1)), points=monthly_exclusions(values, start=D(2011, 9, 1))
    )
    assert assess(history, D(2013, 5, 1)).status == "recovered"
    assessment = assess(history, D(2013, 6, 1))
    assert assessment.status == "relapsing"
    assert any(
        text.startswith("Exclusion rate: 2.8% on 1 Jun 2013 is above the upper limit")
        for text in texts(assessment)
    )


# Same-day facts


def test_a_good_and_a_below_standard_inspection_on_one_day_do_not_end_the_episode():
    history = failing_school(
        good(D(2013, 5, 1)),
        inspected(D(2013, 5, 1), "below_standard", "Requires improvement", "CQC"),
    )
    assessment = assess(history, D(2013, 6, 1))
    assert assessment.status == "improving"
    assert texts(assessment)[:2] == [
        "Latest CQC inspection 1 May 2013: Requires improvement",
        "Latest Ofsted inspection 1 May 2013: Good",
    ]


def test_a_failing_inspection_on_the_day_an_intervention_succeeds_starts_a_new_episode():
    history = failing_school(
        inspected(D(2014, 7, 31), "failing", "Inadequate"),
        ended_on=D(2014, 7, 31),
        outcome="succeeded",
    )
    assert assess(history, D(2014, 8, 1)).status == "failing"


def test_an_inspection_and_its_intervention_on_one_day_begin_one_episode():
    assessment = assess(failing_school(), D(2010, 4, 1))
    assert (
        "In a failure episode since 12 Mar 2010, begun by the Ofsted inspection 12 Mar 2010 "
        "(Inadequate, special measures) and the start of Special measures" in texts(assessment)
    )


# Replay


def test_replay_of_a_j_curve_holds_its_nerve_through_the_dip():
    low = [1.4, 1.6] * 20  # Sep 2011 to Dec 2014
    history = failing_school(
        requires_improvement(D(2011, 11, 15)),
        good(D(2013, 5, 1)),
        good(D(2015, 3, 2)),
        points=monthly_exclusions(BASELINE + DIP + RECOVERY + low),
    )
    history_rows = replay(history, D(2016, 1, 1))
    assert statuses(history_rows) == [
        "unknown",
        "early_recovery",
        "improving",
        "recovered",
        "sustained",
    ]
    first_of = {}
    for row in history_rows:
        first_of.setdefault(row.status, row.as_of)
    assert first_of == {
        "unknown": D(2008, 9, 1),
        "early_recovery": FAILED_ON,
        "improving": D(2011, 9, 12),
        "recovered": D(2013, 5, 1),
        "sustained": D(2015, 3, 2),
    }
    final = assess(history, D(2016, 1, 1))
    assert (final.status, final.reasons) == (history_rows[-1].status, history_rows[-1].reasons)


def test_replay_keeps_a_row_only_when_the_status_or_reasons_change():
    history = failing_school(good(D(2013, 5, 1)))
    history_rows = replay(history, D(2016, 1, 1))
    assert [(row.as_of, row.status) for row in history_rows] == [
        (FAILED_ON, "early_recovery"),
        (D(2011, 9, 12), "stalled"),
        (D(2013, 5, 1), "recovered"),
        (D(2015, 5, 1), "sustained"),
    ]


def test_replay_of_an_empty_history_is_one_unknown_row():
    history_rows = replay(History(), D(2016, 1, 1))
    assert [(row.as_of, row.status) for row in history_rows] == [(D(2016, 1, 1), "unknown")]


def test_replay_starts_unknown_on_the_first_evidence_logged_before_any_inspection():
    # Before the first failure episode only inspection days change a status, so
    # replay skips the other dates there - but not the first, where the history begins.
    observed = ObservationFact(D(2009, 6, 1), "positive", "New head appointed")
    history = History(
        inspections=(good(D(2009, 9, 1)),),
        observations=(observed, ObservationFact(D(2009, 7, 1), "negative", "Staff left")),
    )
    history_rows = replay(history, D(2010, 1, 1))
    assert [(row.as_of, row.status) for row in history_rows] == [
        (D(2009, 6, 1), "unknown"),
        (D(2009, 9, 1), "not_failing"),
    ]
