"""Generate an England-sized synthetic dataset for benchmarks and load testing."""

import argparse
import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from failwell.synthetic import SYNTHETIC_MARK, Planner, Size
from failwell.synthetic.rules import MAX_COUNCILS, MAX_SCHOOLS, SCHOOLS_PER_COUNCIL
from failwell.synthetic.writer import MissingReferenceData, Writer
from institutions.models import Institution
from interventions.models import Indicator

# Institutions planned and written per round: bounded memory, few round trips.
CHUNK = 1000


class Command(BaseCommand):
    help = (
        "Generate a seeded synthetic dataset the size of England (22,000 schools, 150 "
        "councils with their children's services, 210 NHS trusts, ten years of history) "
        "with bulk inserts. The same seed and end date give the same data. Every name "
        "ends in '(synthetic)'. Refuses if the database has institutions, unless --append."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--schools", type=int, default=22000, help="Default 22000.")
        parser.add_argument(
            "--councils",
            type=int,
            default=150,
            help="Local authorities, each with its children's services (default 150).",
        )
        parser.add_argument("--trusts", type=int, default=210, help="NHS trusts (default 210).")
        parser.add_argument("--years", type=int, default=10, help="Years of history (default 10).")
        parser.add_argument(
            "--end-date",
            type=_date,
            help="Last day of the history, YYYY-MM-DD (default today).",
        )
        parser.add_argument(
            "--append",
            action="store_true",
            help="Add to a database that already has (non-synthetic) institutions.",
        )

    def handle(self, *args, seed, schools, councils, trusts, years, end_date, append, **options):
        today = timezone.localdate()
        end = end_date or today
        size = Size(schools=schools, councils=councils, trusts=trusts)
        _check_size(size, years, end, today)
        _check_database(append)

        started = time.monotonic()
        try:
            with transaction.atomic():
                writer = Writer(end)
                planner = Planner(
                    seed,
                    size,
                    end,
                    years,
                    dict(Indicator.objects.values_list("slug", "higher_is_better")),
                )
                with tqdm(total=size.institutions, unit="inst", file=_Raw(self.stderr)) as bar:
                    chunk = []
                    for plan in planner.plans():
                        chunk.append(plan)
                        if len(chunk) >= CHUNK:
                            writer.write(chunk)
                            bar.update(len(chunk))
                            chunk = []
                    writer.write(chunk)
                    bar.update(len(chunk))
                # bulk_create sends no signals, so flag everything generated in one go.
                flagged = Institution.objects.filter(name__endswith=SYNTHETIC_MARK).update(
                    needs_recompute=True, marked_dirty_at=timezone.now()
                )
        except MissingReferenceData as error:
            raise CommandError(
                f"The database lacks the shipped reference data ({error}); run migrate first."
            ) from None

        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Generated {flagged:,} synthetic institutions (seed {seed}, {years} years to "
            f"{end}) in {elapsed:.1f} s:"
        )
        for name, count in writer.counts.items():
            self.stdout.write(f"  {name:16} {count:>10,}")
        self.stdout.write(
            "All are flagged for recompute: run `manage.py recompute_trajectories` "
            "(or let the beat sweep pick them up)."
        )


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD.") from None


def _check_size(size: Size, years: int, end: datetime.date, today: datetime.date) -> None:
    if min(size.schools, size.councils, size.trusts) < 0:
        raise CommandError("--schools, --councils and --trusts cannot be negative.")
    if size.institutions == 0:
        raise CommandError("Nothing to generate: give at least one school, council or trust.")
    if size.councils > MAX_COUNCILS:
        raise CommandError(f"At most {MAX_COUNCILS} councils (England has 153).")
    if size.schools > MAX_SCHOOLS:
        raise CommandError(f"At most {MAX_SCHOOLS:,} schools (their URNs run out).")
    if size.schools and size.schools > size.councils * SCHOOLS_PER_COUNCIL:
        raise CommandError(
            f"Every school belongs to a council, at most {SCHOOLS_PER_COUNCIL:,} each: "
            f"give --councils {-(-size.schools // SCHOOLS_PER_COUNCIL)} or more."
        )
    if not 3 <= years <= 30:
        raise CommandError("--years must be between 3 and 30.")
    if end > today:
        raise CommandError(f"--end-date {end} is in the future; history cannot be.")


def _check_database(append: bool) -> None:
    if Institution.objects.filter(name__endswith=SYNTHETIC_MARK).exists():
        raise CommandError(
            "This database already has synthetic institutions. Generate into a new "
            "database (create it, then migrate); synthetic evidence, like all evidence, "
            "is never deleted."
        )
    existing = Institution.objects.count()
    if existing and not append:
        raise CommandError(
            f"The database already has {existing:,} institutions. Use --append to add the "
            "synthetic ones beside them, or generate into an empty database."
        )


class _Raw:
    """The command's stderr without the newline Django adds to every write, for tqdm."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")

    def flush(self) -> None:
        self.wrapper.flush()
