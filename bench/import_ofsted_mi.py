"""Benchmark: import a synthetic Ofsted management-information file of 22,000 schools.

    DATABASE_URL=postgres://... uv run python bench/import_ofsted_mi.py [--rows 22000]

Writes a file in the published D2 layout (the same row builders as the test
fixtures, invented schools with URNs from 9000001 and predecessors from 8000001),
imports it into the database DATABASE_URL names (migrating it first), imports it
again (every row unchanged), and prints rows per second and peak memory for each
run. The schools it made are deleted at the end unless --keep is given. Not a
test: the figures depend on the machine.

The import flags every school it changes; by default the benchmark keeps the
recompute of those trajectories out of the timing (the sweep or a worker does it),
and --with-recompute lets it run as it would with no Celery broker: inline.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failwell.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import signals  # noqa: E402

from institutions.models import (  # noqa: E402
    Identifier,
    Institution,
    institutions_marked_dirty,
)
from institutions.ofsted_mi import import_ofsted_mi  # noqa: E402
from tests.fixtures.ofsted.build import (  # noqa: E402
    D2_HEADERS,
    EXPECTED,
    oeif,
    report_card,
    school,
    ungraded,
    write,
)

FIRST_URN = 9_000_001
FIRST_PREDECESSOR_URN = 8_000_001
WORDS = ["Outstanding", "Good", "Requires improvement", "Inadequate"]
CARD = ["Exceptional", "Strong standard", "Expected standard", "Needs attention"]


def synthetic_rows(count: int, seed: int = 2025) -> list[dict]:
    """A mix like the real file: most schools have an OEIF grade, a third a report
    card, some an ungraded visit, one in ten an inspection under a predecessor URN."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        urn = str(FIRST_URN + n)
        academy = rng.random() < 0.4
        row = school(
            urn,
            f"Synthetic School {n}",
            f"{900 + n // 10000}{n % 10000:04d}",
            phase=rng.choice(["Primary", "Secondary", "Special"]),
            kind="Academy converter" if academy else "Community school",
        )
        if rng.random() < 0.9:
            year = rng.randint(2008, 2024)
            overall = rng.choice(["1", "2", "3", "4", *WORDS])
            if year <= 2012:  # the 2005 scale until September 2012
                overall = rng.choice(["1", "2", "3", "4"])
            grades = ["NULL"] * 4 if year < 2019 else [rng.choice(WORDS) for _ in range(4)]
            extra = {}
            if academy and rng.random() < 0.25:
                extra = {
                    "Does the latest OEIF graded inspection relate to the URN of the current "
                    "school?": "No",
                    "URN at time of latest OEIF graded inspection": str(FIRST_PREDECESSOR_URN + n),
                    "School name at time of latest OEIF graded inspection": f"Old School {n}",
                    "School type at time of latest OEIF graded inspection": "Community school",
                }
            row |= oeif(
                f"2{n:07d}",
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}",
                "NULL",
                overall,
                *grades,
                "Yes" if year >= 2019 else "NULL",
                **extra,
            )
        if rng.random() < 0.33:
            grades = EXPECTED | {area: rng.choice(CARD) for area in EXPECTED}
            grades["Safeguarding standards"] = "Met" if rng.random() < 0.97 else "Not met"
            row |= report_card(f"3{n:07d}", f"{rng.randint(10, 28)}/11/2025", "NULL", grades)
        if rng.random() < 0.4:
            row |= ungraded(f"4{n:07d}", f"{rng.randint(1, 28):02d}/05/2023", "NULL")
        rows.append(row)
    return rows


@contextlib.contextmanager
def muted(signal):
    """Run without the signal's receivers (the flags are still set by the import)."""
    receivers = signal.receivers
    signal.receivers = []
    signal.sender_receivers_cache.clear()
    try:
        yield
    finally:
        signal.receivers = receivers
        signal.sender_receivers_cache.clear()


def delete_bench_schools() -> int:
    """Delete what an earlier run made, without queueing a recompute for each."""
    ids = list(
        Identifier.objects.filter(scheme="urn", value__regex=r"^[89]\d{6}$").values_list(
            "institution_id", flat=True
        )
    )
    with muted(signals.post_delete):
        return Institution.objects.filter(pk__in=ids).delete()[0]


def timed_import(path: Path, trace: bool, recompute: bool) -> tuple[float, int, object]:
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with contextlib.nullcontext() if recompute else muted(institutions_marked_dirty):
        report = import_ofsted_mi(path)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return seconds, peak, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=22_000)
    parser.add_argument("--keep", action="store_true", help="Keep the imported schools.")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="Also measure Python allocations (slows the import down).",
    )
    parser.add_argument(
        "--with-recompute",
        action="store_true",
        help="Let the import queue the recomputes; without a Celery broker they then run "
        "inside the import. By default only the flags are set, for the sweep to find.",
    )
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    delete_bench_schools()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d2_synthetic.csv"
        write_started = time.perf_counter()
        write(path, D2_HEADERS, synthetic_rows(options.rows))
        print(
            f"Wrote {options.rows} rows ({path.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - write_started:.1f}s; database: {connection.vendor}"
        )
        for label in ("first import (all new)", "second import (unchanged)"):
            seconds, traced, report = timed_import(
                path, options.tracemalloc, options.with_recompute
            )
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{label}: {report.rows} rows in {seconds:.1f}s = {report.rows / seconds:,.0f} "
                f"rows/s; created {report.created}, updated {report.updated}, unchanged "
                f"{report.unchanged}, rejected {len(report.rejected)}; peak RSS {rss_mb:.0f} MB"
                + (f", peak traced {traced / 1e6:.0f} MB" if options.tracemalloc else "")
            )
            if report.rejected:
                print("  first rejections:", *report.rejected[:3], sep="\n  ")
    if not options.keep:
        delete_bench_schools()


if __name__ == "__main__":
    main()
