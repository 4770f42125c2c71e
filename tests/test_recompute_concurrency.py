"""The pipeline stays correct when workers race, Redis is down, or a real worker runs it."""

import datetime
import threading
import time
from unittest import mock

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction

from failwell.celery import app
from institutions.models import Institution
from interventions import services
from interventions.models import TrajectoryAssessment
from tests.factories import make_inspection, make_institution

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TODAY = datetime.date(2026, 11, 26)


def in_thread(target, results):
    def run():
        try:
            results.append(target())
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.postgres
def test_two_workers_on_the_same_institution_leave_one_correct_result():
    school = make_institution()
    make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
    # Flagged, as after a write whose own recompute has not run yet.
    Institution.objects.filter(pk=school.pk).update(needs_recompute=True)
    version = Institution.objects.get(pk=school.pk).status_version
    both_have_read = threading.Barrier(2, timeout=10)
    load_histories = services.load_histories

    def read_then_wait(ids):
        histories = load_histories(ids)
        both_have_read.wait()
        return histories

    results = []
    with mock.patch.object(services, "load_histories", read_then_wait):
        workers = [in_thread(lambda: services.recompute(school.pk, TODAY), results) for _ in "ab"]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)

    assert sorted(result.written for result in results) == [False, True]
    school.refresh_from_db()
    assert school.status == "failing"
    assert school.status_version == version + 1
    assert list(TrajectoryAssessment.objects.values_list("status", flat=True)) == ["failing"]


@pytest.mark.postgres
def test_a_sweeping_worker_skips_institutions_another_worker_has_locked():
    locked, free = make_institution(), make_institution()
    Institution.objects.update(needs_recompute=True)
    holding, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            Institution.objects.select_for_update().get(pk=locked.pk)
            holding.set()
            release.wait(timeout=10)

    other_worker = in_thread(hold_lock, [])
    other_worker.start()
    holding.wait(timeout=10)
    try:
        assert services.sweep_dirty() == 1
    finally:
        release.set()
        other_worker.join(timeout=10)
    assert not Institution.objects.get(pk=free.pk).needs_recompute
    assert Institution.objects.get(pk=locked.pk).needs_recompute


def reset_broker_connections():
    # Forget the cached pools so the next publish uses the current broker_url;
    # kombu keeps one pool per URL, so the real broker's pool stays usable.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def unreachable_broker():
    """Celery pointed at a port nothing listens on, as when Redis is down."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.task_always_eager = False
    reset_broker_connections()
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    reset_broker_connections()


def test_a_write_succeeds_with_redis_down_and_the_sweep_recomputes_it_later(
    unreachable_broker,
):
    school = make_institution()
    Institution.objects.update(needs_recompute=False)

    with transaction.atomic():
        make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))

    school.refresh_from_db()
    assert school.inspections.count() == 1
    assert school.needs_recompute and school.status == "unknown"

    assert services.sweep_dirty() == 1
    school.refresh_from_db()
    assert school.status == "failing" and not school.needs_recompute


@pytest.mark.redis
@pytest.mark.postgres
def test_a_real_worker_on_real_redis_updates_the_status_end_to_end():
    app.conf.task_always_eager = False
    app.control.purge()
    school = make_institution()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        with transaction.atomic():
            make_inspection(school, overall="Inadequate", on=datetime.date(2016, 3, 1))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            school.refresh_from_db()
            if school.status == "failing":
                break
            time.sleep(0.2)
    assert school.status == "failing"
    assert not school.needs_recompute
    assert TrajectoryAssessment.objects.filter(institution=school).exists()
