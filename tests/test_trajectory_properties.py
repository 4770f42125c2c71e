"""Properties of the trajectory method that must hold for any well-formed history."""

import datetime
import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from interventions import trajectory
from interventions.trajectory import (
    History,
    IndicatorPoint,
    InspectionFact,
    InterventionFact,
    MilestoneFact,
    ObservationFact,
    assess,
    change_dates,
    replay,
)

START = datetime.date(2009, 1, 1)
MODEST = settings(max_examples=200, deadline=None)

# Facts fall within four years, on a few fixed days as well as any day, so same-day
# facts turn up often; the date assessed is often later, so episodes play out.
days = st.one_of(
    st.integers(0, 4 * 365).map(lambda n: START + datetime.timedelta(days=n)),
    st.sampled_from(
        [datetime.date(2010, 3, 12), datetime.date(2011, 9, 12), datetime.date(2013, 5, 1)]
    ),
)
# Counted back from the end: Hypothesis favours small numbers, and late dates are
# the ones where episodes have played out.
as_ofs = st.integers(0, 7 * 365).map(lambda n: START + datetime.timedelta(days=7 * 365 - n))
BANDS = [None, "failing", "below_standard", "at_standard", "above_standard"]
INDICATORS = {
    "exclusions": ("Exclusion rate", False, "%"),
    "attendance": ("Attendance", True, "%"),
    "complaints": ("Complaints", False, ""),
}

inspections = st.builds(
    InspectionFact,
    inspected_on=days,
    inspectorate=st.sampled_from(["Ofsted", "CQC"]),
    band=st.sampled_from(BANDS),
    grade=st.sampled_from(["Good", "Inadequate", "Requires improvement", "Not graded"]),
    category_of_concern=st.sampled_from(["", "Special measures"]),
    institution=st.sampled_from(["", "Eltham Foundation School", "Harris Academy Greenwich"]),
)


@st.composite
def milestones(draw):
    status = draw(st.sampled_from(["planned", "in_progress", "met", "missed", "dropped"]))
    due_on = draw(days)
    achieved_on = draw(days) if status == "met" else None
    return MilestoneFact(
        draw(st.sampled_from(["Appoint head", "Budget"])), due_on, status, achieved_on
    )


@st.composite
def interventions(draw):
    started_on = draw(days)
    outcome = draw(
        st.sampled_from(["ongoing", "succeeded", "escalated", "withdrawn", "superseded"])
    )
    ended_on = None
    if outcome != "ongoing":
        ended_on = started_on + datetime.timedelta(days=draw(st.integers(0, 4 * 365)))
    return InterventionFact(
        started_on=started_on,
        type_name=draw(st.sampled_from(["Special measures", "Leadership change"])),
        grace_months=draw(st.integers(0, 36)),
        ended_on=ended_on,
        outcome=outcome,
        institution=draw(st.sampled_from(["", "Eltham Foundation School"])),
        milestones=tuple(draw(st.lists(milestones(), max_size=4))),
    )


values = st.one_of(
    st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 8.0]),
    st.floats(-1000, 1000, allow_nan=False, allow_infinity=False),
)


@st.composite
def points(draw):
    """Regular series (so baselines and trends occur), some days holding two values."""
    found = []
    for slug in sorted(INDICATORS)[: draw(st.sampled_from(range(len(INDICATORS) + 1)))]:
        name, higher_is_better, unit = INDICATORS[slug]
        step = draw(st.sampled_from([1, 30, 91]))
        first = draw(days) - datetime.timedelta(days=step * draw(st.integers(0, 12)))
        count = draw(st.sampled_from(range(31)))
        for n, value in enumerate(draw(st.lists(values, min_size=count, max_size=count))):
            on = first + datetime.timedelta(days=step * n)
            found.append(IndicatorPoint(slug, name, higher_is_better, on, value, unit))
            if draw(st.integers(0, 9)) == 0:
                found.append(IndicatorPoint(slug, name, higher_is_better, on, draw(values), unit))
    return tuple(found)


observations = st.builds(
    ObservationFact,
    observed_on=days,
    direction=st.sampled_from(["positive", "negative", "neutral"]),
    summary=st.sampled_from(["", "Calmer corridors"]),
)


def some(strategy, most):
    """A tuple of 0 to `most` items, its length drawn evenly (lists alone run short)."""
    return st.sampled_from(range(most + 1)).flatmap(
        lambda n: st.lists(strategy, min_size=n, max_size=n).map(tuple)
    )


histories = st.builds(
    History,
    inspections=some(inspections, 8),
    interventions=some(interventions(), 3),
    points=points(),
    observations=some(observations, 5),
)


@MODEST
@given(histories, as_ofs)
def test_assess_never_raises_and_always_gives_a_status_and_reasons(history, as_of):
    assessment = assess(history, as_of)
    assert assessment.status in trajectory.STATUSES
    assert assessment.reasons
    assert assessment.as_of == as_of
    json.dumps([reason.as_dict() for reason in assessment.reasons])


@MODEST
@given(histories, as_ofs, inspections, st.integers(1, 2000))
def test_an_inspection_after_as_of_changes_nothing(history, as_of, inspection, days_later):
    later = InspectionFact(
        as_of + datetime.timedelta(days=days_later),
        inspection.inspectorate,
        inspection.band,
        inspection.grade,
        inspection.category_of_concern,
        inspection.institution,
    )
    with_later = History(
        (*history.inspections, later),
        history.interventions,
        history.points,
        history.observations,
    )
    assert assess(with_later, as_of) == assess(history, as_of)


@MODEST
@given(histories, as_ofs, st.data())
def test_the_order_of_the_input_changes_nothing(history, as_of, data):
    shuffled = History(
        tuple(data.draw(st.permutations(history.inspections))),
        tuple(
            InterventionFact(
                i.started_on,
                i.type_name,
                i.grace_months,
                i.ended_on,
                i.outcome,
                i.institution,
                tuple(data.draw(st.permutations(i.milestones))),
            )
            for i in data.draw(st.permutations(history.interventions))
        ),
        tuple(data.draw(st.permutations(history.points))),
        tuple(data.draw(st.permutations(history.observations))),
    )
    assert assess(shuffled, as_of) == assess(history, as_of)


@MODEST
@given(histories, as_ofs)
def test_replay_ends_where_assess_does(history, until):
    rows = replay(history, until)
    final = assess(history, until)
    assert (rows[-1].status, rows[-1].reasons) == (final.status, final.reasons)
    for before, after in zip(rows, rows[1:], strict=False):
        assert before.as_of < after.as_of
        assert (before.status, before.reasons) != (after.status, after.reasons)


@settings(max_examples=100, deadline=None)
@given(histories, as_ofs, st.data())
def test_between_change_dates_nothing_changes(history, until, data):
    """The change dates are complete: on any day, assess agrees with the replay row in force."""
    dates = change_dates(history, until)
    if not dates:
        return
    on = data.draw(
        st.integers(0, (until - dates[0]).days).map(lambda n: dates[0] + datetime.timedelta(days=n))
    )
    in_force = [row for row in replay(history, until) if row.as_of <= on][-1]
    assessment = assess(history, on)
    assert (assessment.status, assessment.reasons) == (in_force.status, in_force.reasons)


@MODEST
@given(histories, as_ofs, st.integers(1, 4000))
def test_carrying_a_history_forward_gives_the_same_as_replaying_it_all(history, then, days):
    """What the nightly re-evaluation relies on: the history stored at an earlier date,
    carried forward with replay(after=its last row), equals a full replay now."""
    # With nothing dated by `then`, its one "unknown" row is dated `then` itself.
    assume(change_dates(history, then))
    now = then + datetime.timedelta(days=days)
    carried = replay(history, then)
    for row in replay(history, now, after=carried[-1].as_of):
        if (row.status, row.reasons) != (carried[-1].status, carried[-1].reasons):
            carried.append(row)
    full = replay(history, now)
    assert [(r.as_of, r.status, r.reasons) for r in carried] == [
        (r.as_of, r.status, r.reasons) for r in full
    ]
