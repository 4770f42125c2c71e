"""Recomputing stores the current status and the status history, idempotently,
and never lets an older result overwrite a newer one."""

import datetime

import pytest

from institutions.models import Institution
from interventions import services
from interventions.models import TrajectoryAssessment
from tests.factories import make_inspection, make_institution, make_intervention

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 26)


def statuses(institution) -> list[tuple[datetime.date, str]]:
    return list(
        TrajectoryAssessment.objects.filter(institution=institution)
        .order_by("as_of")
        .values_list("as_of", "status")
    )


def test_an_institution_with_no_history_is_unknown():
    school = make_institution()
    services.recompute(school.pk, TODAY)
    school.refresh_from_db()
    assert school.status == "unknown"
    assert not school.needs_recompute


def test_recompute_stores_the_status_and_its_history():
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    services.recompute(school.pk, TODAY)
    school.refresh_from_db()
    assert school.status == "failing"
    assert school.status_since == datetime.date(2016, 3, 1)
    assert statuses(school) == [
        (datetime.date(2012, 1, 10), "not_failing"),
        (datetime.date(2016, 3, 1), "failing"),
    ]


def test_recomputing_unchanged_data_writes_no_new_rows():
    school = make_institution()
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    services.recompute(school.pk, TODAY)
    rows = list(TrajectoryAssessment.objects.values_list("pk", "as_of", "status", "reasons"))
    services.recompute(school.pk, TODAY)
    services.recompute(school.pk, TODAY)
    assert (
        list(TrajectoryAssessment.objects.values_list("pk", "as_of", "status", "reasons")) == rows
    )


def test_a_backdated_inspection_rewrites_the_history_from_its_date_only():
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    services.recompute(school.pk, TODAY)
    first_row = TrajectoryAssessment.objects.get(as_of=datetime.date(2012, 1, 10))
    make_intervention(school, started_on=datetime.date(2016, 4, 1))
    services.recompute(school.pk, TODAY)
    assert statuses(school)[:2] == [
        (datetime.date(2012, 1, 10), "not_failing"),
        (datetime.date(2016, 3, 1), "failing"),
    ]
    assert statuses(school)[2][0] == datetime.date(2016, 4, 1)
    assert TrajectoryAssessment.objects.filter(pk=first_row.pk).exists()


def write_computed_earlier(school, snapshot: Institution) -> bool:
    """Store what a recompute that read `snapshot` (and the history now) would store."""
    rows = services._rows(services.replay_for(school.pk, TODAY))
    shown = (rows[-1][1], services.status_since(rows), None, "", "", "")
    write = services._Write(
        school.pk, snapshot.status_version, snapshot.marked_dirty_at, shown, rows, []
    )
    return school.pk in services._write_statuses([write])


def test_a_late_result_computed_from_older_data_is_not_written():
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    stale = Institution.objects.get(pk=school.pk)
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    services.recompute(school.pk, TODAY)

    assert write_computed_earlier(school, stale) is False
    school.refresh_from_db()
    assert school.status == "failing"


def test_a_write_during_a_recompute_keeps_the_institution_flagged():
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    snapshot = Institution.objects.get(pk=school.pk)
    services.mark_dirty([school.pk])  # a write lands while the recompute is running

    assert write_computed_earlier(school, snapshot) is True
    school.refresh_from_db()
    assert school.status == "not_failing"
    assert school.needs_recompute


def test_the_sweep_recomputes_flagged_institutions_only():
    flagged_school, quiet_school = make_institution(), make_institution()
    make_inspection(flagged_school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    Institution.objects.filter(pk=quiet_school.pk).update(needs_recompute=False)
    Institution.objects.filter(pk=flagged_school.pk).update(needs_recompute=True, status="unknown")
    assert services.sweep_dirty() == 1
    flagged_school.refresh_from_db()
    quiet_school.refresh_from_db()
    assert flagged_school.status == "failing"
    assert not flagged_school.needs_recompute
    assert quiet_school.status == "unknown"


def test_the_nightly_reevaluation_covers_everyone():
    from interventions.tasks import reevaluate_all

    schools = [make_institution() for _ in range(3)]
    for school in schools:
        make_inspection(school, overall="Good", on=datetime.date(2020, 1, 1))
    Institution.objects.update(needs_recompute=False, status="unknown")
    assert reevaluate_all() == 3
    assert set(Institution.objects.values_list("status", flat=True)) == {"not_failing"}


def test_recompute_keeps_the_latest_inspection_and_when_the_status_changed_on_the_institution():
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    services.recompute(school.pk, TODAY)
    school.refresh_from_db()
    first_change = school.status_changed_at
    assert (school.latest_inspection_on, school.latest_headline_grade) == (
        datetime.date(2012, 1, 10),
        "Good",
    )
    assert school.latest_inspectorate == "Ofsted"
    assert school.latest_headline_band == "at_standard"

    services.recompute(school.pk, TODAY)
    school.refresh_from_db()
    assert school.status_changed_at == first_change

    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    services.recompute(school.pk, TODAY)
    school.refresh_from_db()
    assert school.status_changed_at > first_change
    assert school.latest_headline_band == "failing"


def test_status_since_is_when_the_status_began_not_when_its_reasons_last_changed():
    def row(day, status, text):
        return (datetime.date(2020, 1, day), status, [{"rule": "rule", "text": text}], 1)

    rows = [
        row(1, "not_failing", "a"),
        row(2, "failing", "b"),
        row(3, "failing", "c"),
        row(4, "failing", "d"),
    ]
    assert services.status_since(rows) == datetime.date(2020, 1, 2)


def test_a_recompute_with_nothing_new_writes_nothing():
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    services.recompute(school.pk, TODAY)
    version = Institution.objects.get(pk=school.pk).status_version

    result = services.recompute(school.pk, TODAY)

    assert result.written is False
    assert Institution.objects.get(pk=school.pk).status_version == version


def test_time_alone_carries_a_stored_history_forward_past_the_grace_window():
    school = make_institution()
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    make_intervention(school, started_on=datetime.date(2016, 3, 1))  # 18-month grace
    services.recompute(school.pk, datetime.date(2016, 6, 1))
    assert Institution.objects.get(pk=school.pk).status == "early_recovery"
    Institution.objects.filter(pk=school.pk).update(needs_recompute=False)

    services.recompute(school.pk, datetime.date(2018, 1, 1))

    school.refresh_from_db()
    assert school.status == "stalled"
    assert school.status_since == datetime.date(2017, 9, 1)
    full = services._rows(services.replay_for(school.pk, datetime.date(2018, 1, 1)))
    stored = list(
        TrajectoryAssessment.objects.filter(institution=school)
        .order_by("as_of")
        .values_list("as_of", "status", "reasons", "method_version")
    )
    assert stored == full


def test_carrying_a_longer_history_forward_keeps_its_earlier_rows_as_stored():
    # The earlier rows are read without their reasons when a history is carried
    # forward; they must stay in the database untouched, reasons and all.
    school = make_institution()
    make_inspection(school, overall="Good", on=datetime.date(2012, 1, 10))
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    make_intervention(school, started_on=datetime.date(2016, 3, 1))  # 18-month grace
    services.recompute(school.pk, datetime.date(2016, 6, 1))
    Institution.objects.filter(pk=school.pk).update(needs_recompute=False)
    before = list(
        TrajectoryAssessment.objects.filter(institution=school)
        .order_by("as_of")
        .values_list("pk", "as_of", "status", "reasons")
    )
    assert [row[2] for row in before] == ["not_failing", "early_recovery"]

    services.recompute(school.pk, datetime.date(2018, 1, 1))

    after = list(
        TrajectoryAssessment.objects.filter(institution=school)
        .order_by("as_of")
        .values_list("pk", "as_of", "status", "reasons")
    )
    assert after[:2] == before
    assert [row[2] for row in after] == ["not_failing", "early_recovery", "stalled"]
    full = services._rows(services.replay_for(school.pk, datetime.date(2018, 1, 1)))
    assert [(a, s, r) for _, a, s, r in after] == [(a, s, r) for a, s, r, _ in full]
    school.refresh_from_db()
    assert (school.status, school.status_since) == ("stalled", datetime.date(2017, 9, 1))
