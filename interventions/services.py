"""The recompute pipeline: mark institutions dirty, enqueue, recompute, store.

A write that can change a status calls `mark_dirty` inside its transaction. That
sets a flag committed with the write, and queues one recompute task for after the
commit. The task is only a speed-up: the beat sweep finds every flagged
institution, so a lost task (Redis down, worker killed) delays a status, never
loses it.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from institutions.models import BAND_RANKS, Institution
from interventions.history import lineages, load_histories
from interventions.models import MethodSettings, TrajectoryAssessment
from interventions.trajectory import (
    Assessment,
    History,
    InspectionFact,
    Thresholds,
    assess,
    replay,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def thresholds() -> Thresholds:
    settings = MethodSettings.current()
    return Thresholds(
        recovery_months=settings.recovery_months,
        recovery_inspections=settings.recovery_inspections,
        baseline_points=settings.baseline_points,
        trend_points=settings.trend_points,
        p_value=settings.p_value,
    )


# Marking dirty -------------------------------------------------------------


class _EnqueueRecompute:
    """An on-commit callback that queues one institution's recompute.

    A class rather than a lambda so `mark_dirty` can see which institutions
    already have a callback pending in this transaction: saving an inspection and
    its six judgements then queues one task, not seven.
    """

    def __init__(self, institution_id: int) -> None:
        self.institution_id = institution_id

    def __call__(self) -> None:
        from interventions.tasks import recompute_trajectory

        try:
            recompute_trajectory.delay(self.institution_id)
        except Exception:
            # The write has committed and the flag with it; the sweep will catch up.
            logger.warning(
                "Could not queue the recompute of institution %s; the sweep will do it.",
                self.institution_id,
                exc_info=True,
            )


def _pending_recomputes() -> set[int]:
    """Institutions this transaction has already queued a recompute for."""
    pending: set[int] = set()
    for _, callback, _ in connection.run_on_commit:
        if isinstance(callback, _EnqueueRecompute):
            pending.add(callback.institution_id)
        elif isinstance(callback, _EnqueueBatches):
            pending.update(callback.institution_ids)
    return pending


_batching = threading.local()

# Above this many institutions in one write, recomputes are queued as batch tasks
# rather than one task each: an import must not flood the queue (or, with no
# broker, recompute thousands of institutions one call at a time).
BATCH_THRESHOLD = 20


@contextlib.contextmanager
def recompute_in_batches() -> Iterator[None]:
    """Collect the institutions every write inside this block flags, and flag and
    queue them once at the end, in batches.

    For imports that save row by row (each save sends a signal). Enter it inside
    the import's transaction, so the flags commit with the rows.
    """
    if getattr(_batching, "ids", None) is not None:  # already batching: join it
        yield
        return
    _batching.ids = set()
    try:
        yield
        ids = _batching.ids
    finally:
        _batching.ids = None
    mark_dirty(ids)


class _EnqueueBatches:
    """An on-commit callback that queues recompute batch tasks."""

    def __init__(self, institution_ids: list[int]) -> None:
        self.institution_ids = institution_ids

    def __call__(self) -> None:
        from interventions.tasks import recompute_batch

        ids = self.institution_ids
        try:
            for start in range(0, len(ids), BATCH_SIZE):
                recompute_batch.delay(ids[start : start + BATCH_SIZE])
        except Exception:
            logger.warning(
                "Could not queue recompute batches; the sweep will do them.", exc_info=True
            )


def mark_dirty(institution_ids: Iterable[int], *, with_lineage: bool = True) -> list[int]:
    """Flag institutions (and, by default, everyone in their lineages) for recompute.

    Call it inside the transaction of the write. Returns the ids flagged. Their
    recomputes are queued for after the commit (one task each for a few, batch
    tasks for many), and nothing is queued if the transaction rolls back.
    """
    ids = {pk for pk in institution_ids if pk is not None}
    if not ids:
        return []
    if getattr(_batching, "ids", None) is not None:
        _batching.ids |= ids
        return sorted(ids)
    if with_lineage:
        ids = set().union(*lineages(ids).values())
    Institution.objects.filter(pk__in=ids).update(
        needs_recompute=True, marked_dirty_at=timezone.now()
    )
    new = sorted(ids - _pending_recomputes())
    if len(new) > BATCH_THRESHOLD:
        transaction.on_commit(_EnqueueBatches(new))
    else:
        for pk in new:
            transaction.on_commit(_EnqueueRecompute(pk))
    return sorted(ids)


def mark_all_dirty() -> int:
    """Flag every institution, e.g. after a threshold changed. No tasks: the sweep does it."""
    return Institution.objects.update(needs_recompute=True, marked_dirty_at=timezone.now())


# Recomputing ---------------------------------------------------------------


@dataclass(frozen=True)
class RecomputeResult:
    institution_id: int
    old_status: str
    new_status: str
    written: bool  # False when a newer result had already been written


def _rows(assessments: list[Assessment]) -> list[tuple]:
    return [
        (a.as_of, a.status, [r.as_dict() for r in a.reasons], a.method_version) for a in assessments
    ]


def _replay(history, as_of: datetime.date, method_thresholds: Thresholds) -> list[Assessment]:
    # An empty history still has a status ("unknown"), so never an empty list.
    return replay(history, as_of, method_thresholds) or [assess(history, as_of, method_thresholds)]


def latest_inspection(history: History, as_of: datetime.date) -> InspectionFact | None:
    """The lineage's most recent inspection on or before as_of.

    On a day with several, a graded one before an ungraded one and then the worst
    band, as the method reads a day (episodes.py).
    """
    inspections = [i for i in history.inspections if i.inspected_on <= as_of]
    return max(
        inspections,
        key=lambda i: (
            i.inspected_on,
            i.band is not None,
            -BAND_RANKS.get(i.band, 0),
            i.inspectorate,
            i.grade,
        ),
        default=None,
    )


def status_since(assessments: list[Assessment]) -> datetime.date:
    """When the current status began: rows whose reasons changed but not the status
    (an indicator signalling month after month) don't restart it."""
    since = assessments[-1]
    for assessment in reversed(assessments):
        if assessment.status != since.status:
            break
        since = assessment
    return since.as_of


def replay_for(institution_id: int, as_of: datetime.date | None = None) -> list[Assessment]:
    """The institution's status history as the method gives it today, without storing it."""
    history = load_histories([institution_id])[institution_id]
    return _replay(history, as_of or timezone.localdate(), thresholds())


def recompute_many(
    institution_ids: Iterable[int], as_of: datetime.date | None = None
) -> list[RecomputeResult]:
    """Recompute and store the status and status history of these institutions.

    Idempotent: replaying the same data writes nothing new. Compare-and-set on
    `status_version` means a slower task that read older data never overwrites a
    newer result; the dirty flag is cleared only if no write re-flagged the
    institution after this recompute read it.
    """
    as_of = as_of or timezone.localdate()
    method_thresholds = thresholds()
    results: list[RecomputeResult] = []
    ids = list(institution_ids)
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        snapshot = {
            pk: (status, version, dirty_at)
            for pk, status, version, dirty_at in Institution.objects.filter(
                pk__in=batch
            ).values_list("pk", "status", "status_version", "marked_dirty_at")
        }
        histories = load_histories(snapshot)
        stored: dict[int, list[tuple]] = {pk: [] for pk in snapshot}
        for row in (
            TrajectoryAssessment.objects.filter(institution_id__in=snapshot)
            .order_by("institution_id", "as_of", "computed_at", "pk")
            .values_list("institution_id", "as_of", "status", "reasons", "method_version")
        ):
            stored[row[0]].append(row[1:])
        for pk, history in histories.items():
            old_status, version, dirty_at = snapshot[pk]
            assessments = _replay(history, as_of, method_thresholds)
            latest = latest_inspection(history, as_of)
            written = _store(pk, version, dirty_at, assessments, stored[pk], latest)
            results.append(RecomputeResult(pk, old_status, assessments[-1].status, written))
    return results


@transaction.atomic
def _store(
    institution_id: int,
    version: int,
    dirty_at: datetime.datetime | None,
    assessments: list[Assessment],
    stored: list[tuple],
    latest: InspectionFact | None = None,
) -> bool:
    current = assessments[-1]
    claimed = Institution.objects.filter(pk=institution_id, status_version=version).update(
        status=current.status,
        status_since=status_since(assessments),
        status_changed_at=Case(
            When(status=current.status, then=F("status_changed_at")), default=Value(timezone.now())
        ),
        latest_inspection_on=latest.inspected_on if latest else None,
        latest_inspectorate=latest.inspectorate if latest else "",
        latest_headline_band=(latest.band or "") if latest else "",
        latest_headline_grade=latest.grade if latest else "",
        status_version=F("status_version") + 1,
        needs_recompute=Case(
            When(
                Q(marked_dirty_at=dirty_at) if dirty_at else Q(marked_dirty_at__isnull=True),
                then=Value(False),
            ),
            default=F("needs_recompute"),
        ),
    )
    if not claimed:
        return False
    new_rows = _rows(assessments)
    same = 0
    while same < min(len(stored), len(new_rows)) and stored[same] == new_rows[same]:
        same += 1
    if same < len(stored):
        # The history changed from this point on (a backdated inspection, a
        # retraction): what follows is replaced by the replay.
        first_changed = stored[same][0]
        TrajectoryAssessment.objects.filter(
            institution_id=institution_id, as_of__gte=first_changed
        ).delete()
    TrajectoryAssessment.objects.bulk_create(
        TrajectoryAssessment(
            institution_id=institution_id,
            as_of=as_of,
            status=status,
            reasons=reasons,
            method_version=method_version,
        )
        for as_of, status, reasons, method_version in new_rows[same:]
    )
    return True


def recompute(institution_id: int, as_of: datetime.date | None = None) -> RecomputeResult | None:
    results = recompute_many([institution_id], as_of)
    return results[0] if results else None


def sweep_dirty(limit: int = BATCH_SIZE) -> int:
    """Recompute up to `limit` flagged institutions that no other worker is on.

    SKIP LOCKED lets several workers sweep at once without waiting on each other
    or doing the same institution twice. Returns how many were recomputed.
    """
    with transaction.atomic():
        ids = list(
            Institution.objects.needing_recompute()
            .order_by("marked_dirty_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        recompute_many(ids)
    return len(ids)
