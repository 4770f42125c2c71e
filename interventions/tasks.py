"""Celery tasks of the recompute pipeline. Each takes ids, re-reads the database and
delegates to services, so a duplicate or late task is harmless."""

from celery import shared_task

from institutions.models import Institution
from interventions import services

# Tasks are retried with backoff on database hiccups; acks_late and prefetch 1
# (settings) mean a worker killed mid-task leaves the message for another worker.
RETRYING = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


SWEEP_ROUNDS = 100


@shared_task(**RETRYING)
def recompute_trajectory(institution_id: int) -> str | None:
    result = services.recompute(institution_id)
    return result.new_status if result else None


@shared_task(**RETRYING)
def recompute_batch(institution_ids: list[int]) -> int:
    return len(services.recompute_many(institution_ids))


@shared_task(**RETRYING)
def sweep_dirty_institutions() -> int:
    """Every minute: pick up flagged institutions whose fast-path task was lost."""
    total = 0
    # Bounded, so an institution that keeps being re-flagged cannot hold a worker.
    for _ in range(SWEEP_ROUNDS):
        swept = services.sweep_dirty()
        total += swept
        if swept < services.BATCH_SIZE:
            break
    return total


@shared_task(**RETRYING)
def reevaluate_all() -> int:
    """Nightly: grace windows and recovery periods expire with time alone, so every
    institution is re-evaluated, in batches that several workers can share."""
    ids = list(Institution.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), services.BATCH_SIZE):
        recompute_batch.delay(ids[start : start + services.BATCH_SIZE])
    return len(ids)
