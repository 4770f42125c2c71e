"""The report of bench/pages.py: markdown for stdout and for its own section of
docs/BENCHMARKS.md, with the machine, the date, the command and the verdicts."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.load import LoadResult
    from bench.pages import ExportMemory, Longest, Measured

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
RECOMPUTE_START = "<!-- bench/recompute.py: start -->"
RECOMPUTE_END = "<!-- bench/recompute.py: end -->"
# Issue 7's targets: p95 server time in milliseconds, and the ratio to the floor.
DASHBOARD_P95_MS, INSTITUTION_P95_MS, FLOOR_RATIO = 60.0, 100.0, 3.0


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    memory = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return (
        f"{os.cpu_count()} CPUs ({model.group(1).strip() if model else 'unknown CPU'}), "
        f"{int(memory.group(1)) / 2**20:.1f} GiB memory, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version.split()[0]} on {connection.settings_dict['HOST'] or 'localhost'}"


def dataset() -> str:
    from institutions.models import Inspection, Institution
    from interventions.models import Evidence, Intervention, TrajectoryAssessment

    return (
        f"{Institution.objects.count():,} institutions, {Inspection.objects.count():,} "
        f"inspections, {Intervention.objects.count():,} interventions, "
        f"{Evidence.objects.count():,} evidence rows, "
        f"{TrajectoryAssessment.objects.count():,} stored assessments"
    )


def command_line(args: argparse.Namespace, defaults: argparse.Namespace) -> str:
    """The command as run: the options that differ from their defaults."""
    parts = ["uv run python bench/pages.py"]
    for name, value in vars(args).items():
        if value != getattr(defaults, name, None):
            flag = "--" + name.replace("_", "-")
            parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


def verdict(result: Measured, by_key: dict[str, Measured]) -> str:
    """Each of the page's targets, met or missed."""
    page = result.page
    if page.target_ms is None:
        return ""
    checks = [
        f"p95 under {page.target_ms:.0f} ms "
        + ("met" if result.p95_ms < page.target_ms else "**missed**"),
        f"{FLOOR_RATIO:.0f}x floor " + ("met" if result.ratio < FLOOR_RATIO else "**missed**"),
    ]
    rival = by_key.get(page.rival or "")
    if rival is not None:
        beats = result.p50_ms < rival.p50_ms
        checks.append("faster than the admin " + ("met" if beats else "**missed**"))
    return "; ".join(checks)


def loads(averages: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.1f}" for value in averages)


def render(
    args: argparse.Namespace,
    defaults: argparse.Namespace,
    started: datetime.datetime,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    longest: Longest,
    measured: list[Measured],
    memory: list[ExportMemory],
    loaded: list[LoadResult],
    pending: list[str],
    autovacuum: str,
) -> str:
    database_name = re.sub(r".*/", "", os.environ["DATABASE_URL"])
    held = ", ".join(f"{n:,} {kind}" for kind, n in longest.rows.items())
    members = f"{longest.members} lineage member{'s' if longest.members != 1 else ''}"
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M %Z} on {machine()}; {database()}. "
        f"Load average (1 / 5 / 15 min) {loads(load_before)} at the start, "
        f"{loads(load_after)} at the end: other work on the machine inflates every "
        "wall time below.",
        "",
        f"    DATABASE_URL=postgres://…/{database_name} {command_line(args, defaults)}",
        "",
        f"Dataset: {dataset()}. The longest history is `{longest.slug}`'s ({members}: "
        f"{held}). The script runs VACUUM (ANALYZE) first, as autovacuum would have "
        f"(autovacuum is {autovacuum} on this server).",
    ]
    if pending:
        lines += ["", f"Migrations not applied to this database: {', '.join(pending)}."]
    if measured:
        lines += measured_table(args, measured)
    if memory:
        lines += [
            "",
            "CSV export memory: the peak of Python's allocations (tracemalloc) while the "
            "streamed response is read to its end. Streaming in constant memory means "
            "the peak does not grow with the rows.",
            "",
            "| export | rows | file | peak memory | largest chunk |",
            "|---|---:|---:|---:|---:|",
        ]
        for case in memory:
            lines.append(
                f"| {case.label} | {case.rows:,} | {case.megabytes:.1f} MB "
                f"| {case.peak_mb:.1f} MB | {case.largest_chunk:,} B |"
            )
    if loaded:
        lines += load_table(args, loaded)
    lines += ["", recompute_summary()]
    return "\n".join(lines)


def measured_table(args: argparse.Namespace, measured: list[Measured]) -> list[str]:
    by_key = {result.page.key: result for result in measured}
    lines = [
        "",
        "Server time in this process through django.test.Client with DEBUG=0, signed in "
        "as an oversight officer (the admin as a superuser), each response read to its "
        f"last byte: {args.warmup} warm-ups, then {args.requests} rounds in which every "
        f"page is requested once ({args.export_requests} for the CSV export), so that "
        "other work on the machine weighs on all pages alike. Python CPU is this "
        "process's CPU time per request (median). Floor: the same request's statements "
        "sent straight to psycopg, rows fetched, right after each timed request (the "
        "median of those runs); the ratio is p50 over the floor.",
        "",
        "| page | p50 | p95 | Python CPU | queries | SQL floor | p50 / floor | size | targets |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in measured:
        lines.append(
            f"| {result.page.label} | {result.p50_ms:.1f} ms | {result.p95_ms:.1f} ms "
            f"| {result.cpu_ms:.1f} ms | {result.queries} | {result.floor_ms:.1f} ms "
            f"| {result.ratio:.1f} | {result.size / 1024:,.0f} KiB "
            f"| {verdict(result, by_key)} |"
        )
    lines += [
        "",
        f"Targets: dashboard p95 under {DASHBOARD_P95_MS:.0f} ms, institution page and "
        f"its status partial under {INSTITUTION_P95_MS:.0f} ms; each under "
        f"{FLOOR_RATIO:.0f}x its floor and faster (p50) than the admin changelist doing "
        "the same job.",
    ]
    return lines


def load_table(args: argparse.Namespace, loaded: list[LoadResult]) -> list[str]:
    kind = "gthread" if args.threads > 1 else "sync"
    threads = f" x {args.threads} threads" if args.threads > 1 else ""
    lines = [
        "",
        f"Under load: gunicorn ({args.workers} {kind} workers{threads}, DEBUG=0) on "
        f"127.0.0.1, wrk with {args.connections} connections for {args.load_seconds} s per "
        "page, sending the officer's session cookie, and X-Forwarded-Proto: https as "
        "the TLS proxy in front would. wrk runs on the same two CPUs, and with more "
        "connections than workers a request also waits for others: these are the "
        "latencies of a saturated server.",
        "",
        "| page | requests/s | p50 | p95 | p99 | max | errors | load before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in loaded:
        lines.append(
            f"| {result.label} | {result.per_second:,.1f} | {result.p50_ms:.0f} ms "
            f"| {result.p95_ms:.0f} ms | {result.p99_ms:.0f} ms | {result.max_ms:.0f} ms "
            f"| {result.status_errors + result.socket_errors} | {result.load_average:.1f} |"
        )
    return lines


def recompute_summary() -> str:
    """bench/recompute.py's verdict, quoted from its own section."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else ""
    if RECOMPUTE_START not in text:
        return "Recompute throughput: not measured yet (bench/recompute.py --worker)."
    section = text.split(RECOMPUTE_START, 1)[1].split(RECOMPUTE_END, 1)[0]
    measured = re.search(r"Measured (\S+ \S+)", section)
    when = f", measured {measured.group(1)}" if measured else ""
    # Its verdicts are the lines that say whether the worker meets the target.
    verdicts = [
        line.strip().removeprefix("- ")
        for line in section.splitlines()
        if "worker" in line and ("**meets**" in line or "**misses**" in line)
    ]
    if not verdicts:
        return f"Recompute-all (bench/recompute.py's section{when}): no worker figure in it."
    quoted = "\n".join(f"- {verdict}" for verdict in verdicts)
    return f"Recompute-all through a real worker (bench/recompute.py's section{when}):\n\n{quoted}"


def write_section(report: str) -> None:
    from bench import benchmarks_doc

    benchmarks_doc.write_section("bench/pages.py", "Pages", report)
