"""Export institutions as a failwell bundle, with each one's trajectory."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from institutions.models import Institution
from interventions.bundle import export_bundle


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f'--as-of "{value}" is not a date (yyyy-mm-dd).') from None


class Command(BaseCommand):
    help = (
        "Export every institution (or the named ones, with their lineages and parent "
        "bodies) as a failwell bundle, adding each one's trajectory status as of a date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", type=str, help="Evaluate trajectories at this date (yyyy-mm-dd); today."
        )
        parser.add_argument("--out", metavar="FILE", help="Write here instead of standard output.")
        parser.add_argument(
            "--institution",
            action="extend",
            nargs="+",
            default=[],
            metavar="SLUG",
            help="Only these institutions (and their lineages); repeatable.",
        )

    def handle(self, *args, as_of, out, institution, **options):
        as_of = iso_date(as_of) if as_of else timezone.localdate()
        chosen = None
        if institution:
            chosen = list(Institution.objects.filter(slug__in=institution))
            missing = sorted(set(institution) - {i.slug for i in chosen})
            if missing:
                raise CommandError(f"No institution with slug: {', '.join(missing)}")
        if out is None:
            # Written in pieces as it streams, so no newline after each piece.
            self.stdout.ending = ""
            export_bundle(self.stdout, as_of=as_of, institutions=chosen)
            return
        try:
            with open(out, "w", encoding="utf-8") as handle:
                count = export_bundle(handle, as_of=as_of, institutions=chosen)
        except OSError as error:
            raise CommandError(f"Cannot write {out}: {error.strerror}") from None
        self.stderr.write(f"Wrote {count} institutions to {out} (trajectories as of {as_of}).")
