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

from institutions.models import BAND_RANKS, Institution, lineages
from interventions.history import load_histories
from interventions.models import MethodSettings, TrajectoryAssessment
from interventions.trajectory import (
    METHOD_VERSION,
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


# A stored assessment: (as_of, status, reasons as dicts, method_version). Reasons
# are None in rows read only to carry a history forward (see _stored_histories).
Row = tuple


def _rows(assessments: list[Assessment]) -> list[Row]:
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


def status_since(rows: list[Row]) -> datetime.date:
    """When the current status began: rows whose reasons changed but not the status
    (an indicator signalling month after month) don't restart it."""
    since = rows[-1]
    for row in reversed(rows):
        if row[1] != since[1]:
            break
        since = row
    return since[0]


def replay_for(institution_id: int, as_of: datetime.date | None = None) -> list[Assessment]:
    """The institution's status history as the method gives it today, without storing it."""
    history = load_histories([institution_id])[institution_id]
    return _replay(history, as_of or timezone.localdate(), thresholds())


@dataclass(frozen=True)
class _Snapshot:
    """What a recompute read of the institution: to compare against, and to
    compare-and-set with."""

    status: str
    version: int
    dirty_at: datetime.datetime | None
    needs_recompute: bool
    shown: tuple  # the denormalised fields the recompute writes, as stored


SHOWN_FIELDS = (
    "status",
    "status_since",
    "latest_inspection_on",
    "latest_inspectorate",
    "latest_headline_band",
    "latest_headline_grade",
)


def recompute_many(
    institution_ids: Iterable[int], as_of: datetime.date | None = None
) -> list[RecomputeResult]:
    """Recompute and store the status and status history of these institutions.

    Idempotent: replaying the same data writes nothing. Compare-and-set on
    `status_version` means a slower task that read older data never overwrites a
    newer result; the dirty flag is cleared only if no write re-flagged the
    institution after this recompute read it. Each batch is one transaction.
    """
    as_of = as_of or timezone.localdate()
    method_thresholds = thresholds()
    results: list[RecomputeResult] = []
    ids = list(institution_ids)
    for start in range(0, len(ids), BATCH_SIZE):
        with transaction.atomic():
            results += _recompute_batch(ids[start : start + BATCH_SIZE], as_of, method_thresholds)
    return results


def _recompute_batch(
    batch: list[int], as_of: datetime.date, method_thresholds: Thresholds
) -> list[RecomputeResult]:
    snapshots = {
        pk: _Snapshot(shown[0], version, dirty_at, dirty, tuple(shown))
        for pk, version, dirty_at, dirty, *shown in Institution.objects.filter(
            pk__in=batch
        ).values_list("pk", "status_version", "marked_dirty_at", "needs_recompute", *SHOWN_FIELDS)
    }
    histories = load_histories(snapshots)
    stored = _stored_histories(snapshots, as_of)

    results: list[RecomputeResult] = []
    writes: list[_Write] = []
    new_assessments: list[TrajectoryAssessment] = []
    for pk, history in histories.items():
        snapshot, old_rows = snapshots[pk], stored[pk]
        rows = _status_history(history, as_of, method_thresholds, snapshot, old_rows)
        latest = latest_inspection(history, as_of)
        shown = (
            rows[-1][1],
            status_since(rows),
            latest.inspected_on if latest else None,
            latest.inspectorate if latest else "",
            (latest.band or "") if latest else "",
            latest.grade if latest else "",
        )
        if rows == old_rows and shown == snapshot.shown and not snapshot.needs_recompute:
            results.append(RecomputeResult(pk, snapshot.status, snapshot.status, False))
            continue
        writes.append(_Write(pk, snapshot.version, snapshot.dirty_at, shown, rows, old_rows))
    claimed = _write_statuses(writes)
    for write in writes:
        if write.institution_id in claimed:
            new_assessments += _replace_history(write)
        results.append(
            RecomputeResult(
                write.institution_id,
                snapshots[write.institution_id].status,
                write.rows[-1][1],
                write.institution_id in claimed,
            )
        )
    TrajectoryAssessment.objects.bulk_create(new_assessments)
    return results


def _replays_all(snapshot: _Snapshot, last: Row | None, as_of: datetime.date) -> bool:
    """Whether the whole history is replayed, rather than the stored one carried forward.

    When nothing recorded has changed since the stored history was made (not
    flagged, same method version), only time has passed - a grace window or a
    recovery period may have run out - so only the days after the last stored row
    need assessing.
    """
    return (
        snapshot.needs_recompute
        or last is None
        or last[3] != METHOD_VERSION
        or last[0] > as_of  # evaluating an earlier date: replay it all
    )


_ORDER = ("institution_id", "as_of", "computed_at", "pk")


def _stored_histories(
    snapshots: dict[int, _Snapshot], as_of: datetime.date
) -> dict[int, list[Row]]:
    """Each institution's stored status history, read as lightly as its recompute allows.

    A full replay compares every stored row with the new ones, reasons included.
    Carrying a history forward compares only its last row's, so the other rows
    are read without their reasons (None in the row; they are neither compared nor
    written): the nightly re-evaluation of England then decodes 22,000 lists of
    reasons rather than 300,000.
    """
    # Flagged institutions are replayed whatever they have stored.
    outline: dict[int, list[tuple]] = {
        pk: [] for pk, snapshot in snapshots.items() if not snapshot.needs_recompute
    }
    for pk, row_pk, *row in (
        TrajectoryAssessment.objects.filter(institution_id__in=outline)
        .order_by(*_ORDER)
        .values_list("institution_id", "pk", "as_of", "status", "method_version")
    ):
        outline[pk].append((row_pk, *row))

    def as_row(light: tuple, reasons: list | None) -> Row:
        _, row_as_of, status, method_version = light
        return (row_as_of, status, reasons, method_version)

    replayed = {pk for pk in snapshots if pk not in outline} | {
        pk
        for pk, rows in outline.items()
        if _replays_all(snapshots[pk], as_row(rows[-1], None) if rows else None, as_of)
    }
    stored: dict[int, list[Row]] = {pk: [] for pk in replayed}
    for pk, *row in (
        TrajectoryAssessment.objects.filter(institution_id__in=replayed)
        .order_by(*_ORDER)
        .values_list("institution_id", "as_of", "status", "reasons", "method_version")
    ):
        stored[pk].append(tuple(row))
    carried = {pk: rows for pk, rows in outline.items() if pk not in replayed}
    last_reasons = dict(
        TrajectoryAssessment.objects.filter(
            pk__in=[rows[-1][0] for rows in carried.values()]
        ).values_list("pk", "reasons")
    )
    for pk, rows in carried.items():
        *earlier, last = rows
        stored[pk] = [as_row(light, None) for light in earlier]
        stored[pk].append(as_row(last, last_reasons[last[0]]))
    return stored


def _status_history(
    history: History,
    as_of: datetime.date,
    method_thresholds: Thresholds,
    snapshot: _Snapshot,
    old_rows: list[Row],
) -> list[Row]:
    """The institution's status history up to as_of: the whole history replayed, or
    the stored one carried forward (see _replays_all)."""
    if _replays_all(snapshot, old_rows[-1] if old_rows else None, as_of):
        return _rows(_replay(history, as_of, method_thresholds))
    rows = list(old_rows)
    for row in _rows(replay(history, as_of, method_thresholds, after=old_rows[-1][0])):
        if row[1:3] != rows[-1][1:3]:
            rows.append(row)
    return rows


@dataclass(frozen=True)
class _Write:
    """A recomputed institution to store, if its version is still the one read."""

    institution_id: int
    version: int
    dirty_at: datetime.datetime | None
    shown: tuple  # SHOWN_FIELDS' new values
    rows: list[Row]
    old_rows: list[Row]


def _write_statuses(writes: list[_Write]) -> set[int]:
    """Compare-and-set the new statuses; returns the ids written.

    An institution is written only if its status_version is still the one the
    recompute read, so a slower task that read older data never overwrites a newer
    result, and its dirty flag is cleared only if no write re-flagged it since. On
    PostgreSQL the whole batch is one UPDATE ... FROM (VALUES ...), which the
    benchmark showed matters at national scale; elsewhere one UPDATE each.
    """
    if not writes:
        return set()
    if connection.vendor == "postgresql":
        return _write_statuses_in_one_statement(writes)
    written = set()
    for write in writes:
        status, since, latest_on, latest_inspectorate, latest_band, latest_grade = write.shown
        dirty_unchanged = (
            Q(marked_dirty_at=write.dirty_at) if write.dirty_at else Q(marked_dirty_at__isnull=True)
        )
        if Institution.objects.filter(pk=write.institution_id, status_version=write.version).update(
            status=status,
            status_since=since,
            status_changed_at=Case(
                When(status=status, then=F("status_changed_at")), default=Value(timezone.now())
            ),
            latest_inspection_on=latest_on,
            latest_inspectorate=latest_inspectorate,
            latest_headline_band=latest_band,
            latest_headline_grade=latest_grade,
            status_version=F("status_version") + 1,
            needs_recompute=Case(
                When(dirty_unchanged, then=Value(False)), default=F("needs_recompute")
            ),
        ):
            written.add(write.institution_id)
    return written


def _write_statuses_in_one_statement(writes: list[_Write]) -> set[int]:
    table = connection.ops.quote_name(Institution._meta.db_table)
    row = (
        "(%s::bigint, %s::integer, %s::timestamptz, %s::varchar, %s::date, %s::date,"
        " %s::varchar, %s::varchar, %s::varchar)"
    )
    params: list = []
    for write in writes:
        params += [write.institution_id, write.version, write.dirty_at, *write.shown]
    now = timezone.now()
    sql = f"""
        UPDATE {table} AS i SET
            status = v.status,
            status_since = v.since,
            status_changed_at = CASE WHEN i.status = v.status
                THEN i.status_changed_at ELSE %s END,
            latest_inspection_on = v.latest_on,
            latest_inspectorate = v.inspectorate,
            latest_headline_band = v.band,
            latest_headline_grade = v.grade,
            status_version = i.status_version + 1,
            needs_recompute = CASE WHEN i.marked_dirty_at IS NOT DISTINCT FROM v.dirty_at
                THEN false ELSE i.needs_recompute END
        FROM (VALUES {", ".join([row] * len(writes))})
            AS v(id, version, dirty_at, status, since, latest_on, inspectorate, band, grade)
        WHERE i.id = v.id AND i.status_version = v.version
        RETURNING i.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        return {pk for (pk,) in cursor.fetchall()}


def _replace_history(write: _Write) -> list[TrajectoryAssessment]:
    """Delete the stored status history from where it differs; return the rows to add."""
    rows, old_rows = write.rows, write.old_rows
    same = 0
    while same < min(len(old_rows), len(rows)) and old_rows[same] == rows[same]:
        same += 1
    if same < len(old_rows):
        # The history changed from this point on (a backdated inspection, a
        # retraction): what follows is replaced by the replay.
        TrajectoryAssessment.objects.filter(
            institution_id=write.institution_id, as_of__gte=old_rows[same][0]
        ).delete()
    return [
        TrajectoryAssessment(
            institution_id=write.institution_id,
            as_of=row_as_of,
            status=row_status,
            reasons=reasons,
            method_version=method_version,
        )
        for row_as_of, row_status, reasons, method_version in rows[same:]
    ]


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
