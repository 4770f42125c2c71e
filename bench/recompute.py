"""Recompute throughput: how fast failwell re-evaluates every institution.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/failwell_bench \
        uv run python bench/recompute.py --institutions 22000 --worker

Builds N synthetic institutions with `manage.py generate_fixture` (in a child
process, so its memory does not count here) in an empty database, then measures:

- inline: `interventions.services.recompute_many` over every institution in
  batches - first with no stored status history (every history is written), then
  again with nothing changed (the nightly re-evaluation's case);
- worker: a real `celery worker` child process runs `reevaluate_all`, timed from
  queueing until the worker's own counters show every batch it queued has run:
  one process (`--pool=solo`), and the worker as docker-compose runs it (prefork,
  `--concurrency=2`, one process per CPU); `--worker-processes` chooses.

Peak memory is the process's maximum RSS and, for a few batches re-run under
tracemalloc (which slows Python several times, so it is never timed), the peak
Python allocation per batch. The figures go to stdout and to the "Recompute"
section of docs/BENCHMARKS.md. The target (DESIGN issue 3): 22,000 institutions in
under 30 s through one worker.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import platform
import pstats
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
DEFAULT_BROKER = "redis://127.0.0.1:6379/5"
TARGET_INSTITUTIONS, TARGET_SECONDS = 22000, 30.0
# England's shape, which --institutions scales: 150 councils (each with children's
# services) and 210 trusts for every 22,510 institutions; the rest are schools.
ENGLAND = {"councils": 150, "trusts": 210, "total": 22510}
LOG = ROOT / "bench" / "out" / "worker.log"


def main() -> int:
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print(
            "Set DATABASE_URL=postgres://... : the benchmark runs on PostgreSQL.", file=sys.stderr
        )
        return 2
    sys.path.insert(0, str(ROOT))
    from bench import load

    # Production settings, here and in the worker: with DEBUG on, Django keeps the
    # text of every query, and a recompute's queries carry thousands of ids.
    os.environ.update(load.production_environment(os.environ["DATABASE_URL"]))
    if args.worker:
        # Read by settings at start-up: tasks go to Redis rather than running inline.
        os.environ["CELERY_BROKER_URL"] = args.broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failwell.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from institutions.models import Institution

    call_command("migrate", verbosity=0)
    existing = Institution.objects.count()
    figures: dict[str, str | float | int] = {}
    if existing and not args.reuse:
        print(
            f"The database already has {existing:,} institutions. Use an empty database, "
            "or --reuse to measure on what is there.",
            file=sys.stderr,
        )
        return 2
    if not existing:
        figures["generate_seconds"] = generate(args.institutions, args.seed)

    ids = list(Institution.objects.order_by("pk").values_list("pk", flat=True))
    rows = measure_inline(ids, args.trace_batches, args.profile)
    if args.worker:
        for processes in args.worker_processes:
            rows += measure_worker(ids, args.broker, args.worker_timeout, processes)

    report = render(ids, rows, figures, args)
    print(report)
    if not args.no_write:
        write_section(report)
        print(f"Updated {BENCHMARKS.relative_to(ROOT)}.")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--institutions", type=positive, default=22000, help="How many to build (default 22000)."
    )
    parser.add_argument("--worker", action="store_true", help="Also measure a real worker.")
    parser.add_argument("--reuse", action="store_true", help="Measure the data already there.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--broker", default=DEFAULT_BROKER, help=f"Default {DEFAULT_BROKER}.")
    parser.add_argument(
        "--worker-processes",
        type=positive,
        nargs="+",
        default=[1, 2],
        help="Worker sizes to measure: 1 is the solo pool, more a prefork pool (default 1 2).",
    )
    parser.add_argument(
        "--worker-timeout", type=positive, default=1800, help="Seconds to wait for the worker."
    )
    parser.add_argument(
        "--trace-batches", type=positive, default=4, help="Batches re-run under tracemalloc."
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="cProfile the first inline pass into FILE and print where the time goes.",
    )
    parser.add_argument("--no-write", action="store_true", help="Leave docs/BENCHMARKS.md alone.")
    return parser.parse_args()


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


# Building ------------------------------------------------------------------------


def shape(institutions: int) -> dict[str, int]:
    """generate_fixture's arguments for this many institutions, England's proportions."""
    scale = institutions / ENGLAND["total"]
    councils = max(1, round(ENGLAND["councils"] * scale))
    trusts = max(1, round(ENGLAND["trusts"] * scale))
    schools = institutions - 2 * councils - trusts
    if schools < 0:
        raise SystemExit(f"--institutions {institutions} is too small; give at least 3.")
    return {"schools": schools, "councils": councils, "trusts": trusts}


def generate(institutions: int, seed: int) -> float:
    arguments = [f"--{name}={value}" for name, value in shape(institutions).items()]
    command = [sys.executable, "manage.py", "generate_fixture", f"--seed={seed}", *arguments]
    print("$ " + " ".join(command[1:]), file=sys.stderr)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return time.perf_counter() - started


# Measuring -----------------------------------------------------------------------


def batches(ids: list[int]):
    from interventions.services import BATCH_SIZE

    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def inline_pass(ids: list[int], label: str, profile_path: str | None = None) -> dict:
    """recompute_many over every institution, batch by batch, as the command does."""
    from django.db import connection

    from interventions.services import recompute_many

    profiler = cProfile.Profile() if profile_path else None
    timer = QueryTimer()
    load = os.getloadavg()[0]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        if profiler:
            profiler.enable()
        for batch in batches(ids):
            recompute_many(batch)
        if profiler:
            profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{label}: {elapsed:.1f} s", file=sys.stderr)
    if profiler:
        report_profile(profiler, timer, profile_path, elapsed)
    return {
        "phase": label + (" (profiled)" if profiler else ""),
        "seconds": elapsed,
        "cpu": cpu_seconds() - cpu_before,
        "load": load,
        "queries": sum(timer.counts.values()),
        "rate": len(ids) / elapsed,
        "memory": f"max RSS {max_rss_mb():.0f} MB",
    }


def measure_inline(ids: list[int], trace_batches: int, profile_path: str | None) -> list[dict]:
    """Three cases: as found (after generation: all flagged, nothing stored), the
    nightly re-evaluation (nothing flagged: only time has passed), and everything
    flagged with histories stored (a threshold changed)."""
    from institutions.models import Institution
    from interventions.models import TrajectoryAssessment
    from interventions.services import mark_all_dirty

    flagged = Institution.objects.needing_recompute().count()
    if TrajectoryAssessment.objects.exists():
        first = f"inline, as found ({flagged:,} flagged)"
    else:
        first = "inline, first recompute (all flagged, nothing stored)"
    rows = [inline_pass(ids, first, profile_path)]
    rows.append(inline_pass(ids, "inline, nothing flagged (nightly)"))
    mark_all_dirty()
    rows.append(measure_tracemalloc(ids, trace_batches))
    mark_all_dirty()
    rows.append(inline_pass(ids, "inline, everything flagged"))
    return rows


def measure_tracemalloc(ids: list[int], count: int) -> dict:
    """Peak Python allocation of recompute_many per batch, everything flagged."""
    from interventions.services import recompute_many

    peaks = []
    for batch in list(batches(ids))[:count]:
        tracemalloc.start()
        recompute_many(batch)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return {
        "phase": f"tracemalloc, {len(peaks)} flagged batches (not timed)",
        "seconds": None,
        "cpu": None,
        "load": None,
        "queries": None,
        "rate": None,
        "memory": f"peak {max(peaks) / 2**20:.0f} MB per batch",
    }


def measure_worker(ids: list[int], broker: str, timeout: int, processes: int) -> list[dict]:
    """A real worker's `reevaluate_all`, nothing flagged and then everything flagged."""
    from bench.load import stop
    from failwell.celery import app
    from interventions.services import mark_all_dirty

    app.control.purge()  # leftovers of an interrupted run would be counted
    name = f"bench-{os.getpid()}@{platform.node()}"
    LOG.parent.mkdir(exist_ok=True)
    log = LOG.open("w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "failwell",
            "worker",
            f"--concurrency={processes}",
            # One process: the solo pool. More: prefork, as docker-compose.yml runs it.
            *(["--pool=solo"] if processes == 1 else ["--pool=prefork", "-O", "fair"]),
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            f"--hostname={name}",
        ],
        cwd=ROOT,
        env={**os.environ, "CELERY_BROKER_URL": broker},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_worker(app, name, worker)
        pool = "solo pool" if processes == 1 else f"prefork, {processes} processes"
        rows = [worker_pass(ids, app, name, worker, timeout, pool, "nothing flagged (nightly)")]
        mark_all_dirty()
        rows.append(worker_pass(ids, app, name, worker, timeout, pool, "everything flagged"))
    finally:
        stop(worker, timeout=30)
        log.close()
    return rows


def worker_pass(ids, app, name, worker, timeout: int, pool: str, case: str) -> dict:
    """Queue `reevaluate_all` and time it until the worker has run every batch it queued.

    Done means: the worker's own counters (`inspect stats`) show it took
    `reevaluate_all` and every `recompute_batch` it queued, it runs and holds none
    (`inspect active` and `reserved`: a prefork worker counts a task when a child
    starts it), and no institution is still flagged. A solo-pool worker answers
    only between tasks, so the answer can come late by one batch, never early. The
    checks are cheap on purpose: they share the machine with the worker.
    """
    from institutions.models import Institution
    from interventions.services import BATCH_SIZE
    from interventions.tasks import recompute_batch, reevaluate_all

    inspector = app.control.inspect(destination=[name], timeout=1.0)
    batches_queued = -(-len(ids) // BATCH_SIZE)

    def finished() -> dict[str, int]:
        stats = (inspector.stats() or {}).get(name)
        return stats["total"] if stats else {}

    def done(before: dict[str, int]) -> bool:
        now = finished()
        ran = {task: now.get(task, 0) - before.get(task, 0) for task in now}
        return (
            ran.get(reevaluate_all.name, 0) >= 1
            and ran.get(recompute_batch.name, 0) >= batches_queued
            and not (inspector.active() or {}).get(name, True)
            and not (inspector.reserved() or {}).get(name, True)
            and not Institution.objects.needing_recompute().exists()
        )

    before = finished()
    load = os.getloadavg()[0]
    cpu_before = worker_cpu_seconds(worker.pid)
    started = time.perf_counter()
    reevaluate_all.delay()
    while not done(before):
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"The worker did not finish in {timeout} s; see {LOG}")
        if worker.poll() is not None:
            raise SystemExit(f"The worker stopped; see {LOG}")
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    print(f"worker, {case}: {elapsed:.1f} s", file=sys.stderr)
    return {
        "phase": f"worker ({pool}), {case}",
        "seconds": elapsed,
        "cpu": worker_cpu_seconds(worker.pid) - cpu_before,
        "load": load,
        "queries": None,
        "rate": len(ids) / elapsed,
        "memory": f"worker peak RSS {worker_peak_mb(worker.pid):.0f} MB",
    }


def wait_for_worker(app, name: str, worker: subprocess.Popen, timeout: float = 60) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if worker.poll() is not None:
            raise SystemExit("The worker failed to start; see bench/out/worker.log")
        if app.control.ping(destination=[name], timeout=1.0):
            return
    raise SystemExit("The worker did not answer a ping within a minute; see bench/out/worker.log")


def worker_processes(pid: int) -> list[int]:
    """The worker and its pool's child processes (a prefork pool forks them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def worker_cpu_seconds(pid: int) -> float:
    """User and system CPU time of the worker's processes so far, from /proc."""
    total = 0
    for process in worker_processes(pid):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_peak_mb(pid: int) -> float:
    """The largest peak RSS among the worker's processes."""
    peaks = []
    for process in worker_processes(pid):
        match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{process}/status").read_text())
        if match:
            peaks.append(int(match.group(1)) / 1024)
    return max(peaks, default=float("nan"))


class QueryTimer:
    """Time spent in SQL by statement shape: verb and first table."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def __call__(self, execute, sql, params, many, context):
        verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
        key = f"{verb} {table.group(1) if table else ''}".strip()
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds[key] += time.perf_counter() - started
            self.counts[key] += 1


def report_profile(profiler: cProfile.Profile, timer: QueryTimer, path: str, total: float) -> None:
    profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"interventions|institutions|psycopg", 25)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue(), file=sys.stderr)
    print(f"SQL by statement (of {total:.1f} s, profiled):", file=sys.stderr)
    for key, seconds in sorted(timer.seconds.items(), key=lambda item: -item[1]):
        print(f"  {seconds:8.2f} s {timer.counts[key]:>8,}x  {key}", file=sys.stderr)


# Reporting -----------------------------------------------------------------------


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    meminfo = Path("/proc/meminfo").read_text()
    memory = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    return (
        f"{os.cpu_count()} CPUs ({model.group(1).strip() if model else 'unknown CPU'}), "
        f"{int(memory.group(1)) / 2**20:.1f} GiB memory, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def code_version() -> str:
    def git(*arguments: str) -> str:
        result = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "failwell", "institutions", "interventions")
    return f"{commit}" + (" with uncommitted changes" if changed else "")


def database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version.split()[0]} on {connection.settings_dict['HOST'] or 'localhost'}"


def render(ids: list[int], rows: list[dict], figures: dict, args) -> str:
    from django.db.models import Count

    from institutions.models import Inspection, Institution
    from interventions.models import Evidence, Intervention, TrajectoryAssessment

    n = len(ids)
    lines = [
        f"Measured {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {machine()}; "
        f"{database()}; code at {code_version()}.",
        "",
        "    " + command_line(args),
        "",
        f"{n:,} institutions ({sectors(Institution, Count)}); "
        f"{Inspection.objects.count():,} inspections, {Intervention.objects.count():,} "
        f"interventions, {Evidence.objects.count():,} evidence rows, "
        f"{TrajectoryAssessment.objects.count():,} stored assessments after the run.",
        "",
        "| phase | wall time | institutions/s | Python CPU | SQL queries | load before | memory |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    if "generate_seconds" in figures:
        lines.append(
            f"| generate_fixture (child process) | {figures['generate_seconds']:.1f} s | | | | | |"
        )
    for row in rows:
        cells = [
            f"{row['seconds']:.1f} s" if row["seconds"] is not None else "",
            f"{row['rate']:,.0f}" if row["rate"] is not None else "",
            f"{row['cpu']:.1f} s" if row["cpu"] is not None else "",
            f"{row['queries']:,}" if row["queries"] is not None else "",
            f"{row['load']:.1f}" if row["load"] is not None else "",
        ]
        lines.append(f"| {row['phase']} | {' | '.join(cells)} | {row['memory']} |")
    lines += [
        "",
        "Python CPU is the measuring process's (inline) or the worker's own CPU time; the "
        "rest of the wall time is PostgreSQL, round trips and commits, or other work on "
        "the machine (the 1-minute load average before each phase says how busy it was; "
        "the machine has 2 CPUs).",
        "",
    ]
    workers = [row for row in rows if row["phase"].startswith("worker")]
    for row in workers:
        scaled = row["seconds"] * TARGET_INSTITUTIONS / n
        verdict = "meets" if scaled < TARGET_SECONDS else "misses"
        lines.append(
            f"- {row['phase']}: {TARGET_INSTITUTIONS:,} institutions at this rate take "
            f"{scaled:.1f} s, which **{verdict}** the target of {TARGET_SECONDS:.0f} s."
        )
    if not workers:
        lines.append("No worker measured (run with --worker).")
    return "\n".join(lines)


def sectors(model, count) -> str:
    by_sector = model.objects.values_list("sector").annotate(n=count("pk")).order_by("-n")
    return ", ".join(f"{n:,} {sector}" for sector, n in by_sector)


def command_line(args) -> str:
    parts = ["uv run python bench/recompute.py", f"--institutions {args.institutions}"]
    if args.worker:
        parts.append("--worker")
    if args.reuse:
        parts.append("--reuse")
    return " ".join(parts)


def write_section(report: str) -> None:
    from bench import benchmarks_doc  # the project root is on sys.path by now

    benchmarks_doc.write_section("bench/recompute.py", "Recompute throughput", report)


if __name__ == "__main__":
    sys.exit(main())
