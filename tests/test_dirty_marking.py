"""Every write that can change a status flags the institution in the same
transaction and queues exactly one recompute, after commit only."""

import datetime
from unittest import mock

import pytest
from django.db import transaction

from institutions.models import Institution
from interventions.models import MethodSettings
from tests.factories import (
    make_evidence,
    make_inspection,
    make_institution,
    make_intervention,
    make_link,
    make_milestone,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def queued():
    with mock.patch("interventions.tasks.recompute_trajectory.delay") as delay:
        yield delay


def flagged(institution) -> bool:
    return Institution.objects.get(pk=institution.pk).needs_recompute


def clear_flags():
    Institution.objects.update(needs_recompute=False, marked_dirty_at=None)


def test_an_inspection_with_judgements_queues_one_recompute_after_commit(queued):
    school = make_institution()
    clear_flags()
    queued.reset_mock()
    with transaction.atomic():
        make_inspection(
            school,
            scale_slug="ofsted-report-card-2025",
            overall=None,
            on=datetime.date(2025, 12, 1),
            judgements={"achievement": "Strong standard", "safeguarding": "Met"},
        )
        assert flagged(school)
        queued.assert_not_called()
    queued.assert_called_once_with(school.pk)


def test_a_rolled_back_write_queues_nothing_and_leaves_no_flag(queued):
    school = make_institution()
    clear_flags()
    queued.reset_mock()
    with pytest.raises(RuntimeError), transaction.atomic():
        make_inspection(school, overall="Inadequate")
        raise RuntimeError("the form failed after the save")
    queued.assert_not_called()
    assert not flagged(school)
    assert not school.inspections.exists()


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda s: make_intervention(s), id="intervention"),
        pytest.param(lambda s: make_milestone(make_intervention(s)), id="milestone"),
        pytest.param(lambda s: make_evidence(s), id="evidence"),
        pytest.param(lambda s: make_inspection(s).delete(), id="inspection deleted"),
    ],
)
def test_each_kind_of_write_flags_its_institution(queued, write):
    school = make_institution()
    clear_flags()
    with transaction.atomic():
        write(school)
    assert flagged(school)
    assert queued.call_args_list == [mock.call(school.pk)]


def test_retracting_evidence_flags_the_institution(queued):
    school = make_institution()
    evidence = make_evidence(school)
    clear_flags()
    evidence.retract(by=None, reason="Logged against the wrong school")
    assert flagged(school)


def test_a_write_to_a_predecessor_flags_the_whole_lineage(queued):
    school, academy = make_institution(), make_institution()
    make_link(school, academy)
    clear_flags()
    queued.reset_mock()
    with transaction.atomic():
        make_inspection(school, overall="Inadequate")
    assert flagged(school) and flagged(academy)
    assert sorted(call.args[0] for call in queued.call_args_list) == sorted([school.pk, academy.pk])


def test_changing_a_threshold_flags_everyone_without_a_task_each(queued):
    schools = [make_institution() for _ in range(3)]
    clear_flags()
    queued.reset_mock()
    MethodSettings.objects.create(recovery_months=18)
    assert all(flagged(school) for school in schools)
    queued.assert_not_called()


def test_writes_in_a_batch_block_are_flagged_and_queued_once_at_the_end(queued):
    from interventions import services

    schools = [make_institution() for _ in range(3)]
    clear_flags()
    queued.reset_mock()
    with services.recompute_in_batches(), transaction.atomic():
        for school in schools:
            make_inspection(school, overall="Inadequate")
            make_inspection(school, overall="Inadequate", on=datetime.date(2016, 1, 1))
        assert not any(flagged(school) for school in schools)
    assert all(flagged(school) for school in schools)
    assert sorted(call.args[0] for call in queued.call_args_list) == [s.pk for s in schools]


def test_many_institutions_flagged_at_once_are_queued_as_batch_tasks(queued):
    from interventions import services

    schools = [make_institution() for _ in range(services.BATCH_THRESHOLD + 1)]
    with mock.patch("interventions.tasks.recompute_batch.delay") as batch, transaction.atomic():
        Institution.objects.filter(pk__in=[s.pk for s in schools]).mark_dirty()
        batch.assert_not_called()
    queued.assert_not_called()
    batch.assert_called_once_with(sorted(school.pk for school in schools))
    assert all(flagged(school) for school in schools)
