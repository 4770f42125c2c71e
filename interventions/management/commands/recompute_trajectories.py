"""Recompute trajectory statuses now: all institutions, some, or only flagged ones."""

import datetime
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from institutions.models import Institution, TrajectoryStatus
from interventions import services
from interventions.tasks import recompute_batch


class Command(BaseCommand):
    help = (
        "Recompute recovery-trajectory statuses and status histories. By default every "
        "institution, inline; --queue sends batches to the Celery workers instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--institution",
            action="append",
            default=[],
            metavar="SLUG",
            help="Only this institution (repeat for more).",
        )
        parser.add_argument(
            "--dirty", action="store_true", help="Only institutions flagged for recompute."
        )
        parser.add_argument(
            "--queue", action="store_true", help="Queue batches for the workers, don't wait."
        )
        parser.add_argument(
            "--as-of",
            type=datetime.date.fromisoformat,
            help="Evaluate at this date (YYYY-MM-DD) instead of today. Inline only.",
        )

    def handle(self, *args, institution, dirty, queue, as_of, **options):
        if queue and as_of:
            raise CommandError("--as-of works inline only; drop --queue.")
        institutions = Institution.objects.order_by("pk")
        if institution:
            institutions = institutions.filter(slug__in=institution)
            missing = set(institution) - set(institutions.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No institution with slug: {', '.join(sorted(missing))}")
        if dirty:
            institutions = institutions.needing_recompute()
        ids = list(institutions.values_list("pk", flat=True))

        if queue:
            for start in range(0, len(ids), services.BATCH_SIZE):
                recompute_batch.delay(ids[start : start + services.BATCH_SIZE])
            self.stdout.write(f"Queued {len(ids)} institutions for recompute.")
            return

        changes: Counter = Counter()
        with tqdm(total=len(ids), unit="inst", file=self.stderr, disable=not ids) as bar:
            for start in range(0, len(ids), services.BATCH_SIZE):
                batch = ids[start : start + services.BATCH_SIZE]
                for result in services.recompute_many(batch, as_of):
                    if result.old_status != result.new_status:
                        changes[(result.old_status, result.new_status)] += 1
                bar.update(len(batch))

        labels = dict(TrajectoryStatus.choices)
        self.stdout.write(f"Recomputed {len(ids)} institutions; {sum(changes.values())} changed.")
        for (old, new), count in sorted(changes.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {labels[old]} -> {labels[new]}: {count}")
