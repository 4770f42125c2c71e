"""Page speed at England's size: server time, queries, the SQL floor, and load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/failwell_fixture \
        uv run python bench/pages.py

Runs on a database that `manage.py generate_fixture` filled (it never writes
institutions; it adds two users, "bench-officer" and "bench-admin", if missing).
With the production settings (DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS, collected
static files) it measures, for each page:

- server time: `--requests` GETs after `--warmup` ones, through django.test.Client
  in this process, signed in as an oversight officer (the admin pages as a
  superuser); wall time per request, a streamed response read to its end. The
  pages take turns, one request each per round, so a busy moment on a shared
  machine weighs on all of them alike rather than on whichever ran then;
- queries: the number one request makes (CaptureQueriesContext);
- the floor: that request's own SQL re-run through a raw psycopg cursor, every
  statement executed and its rows fetched, in one transaction, right after each
  timed request, so that a page and its floor meet the same moment of a shared
  machine; the median of those runs. The page's ratio is its median over the
  floor's: what the page costs on top of the database's own work;
- the CSV export's peak Python memory (tracemalloc) for about a thousand rows and
  for every school, which must be the same if the export streams;
- under load: gunicorn with `--workers` processes on 127.0.0.1 and wrk for
  `--load-seconds` per page (`--no-load` to skip).

The figures go to stdout (with each page's slowest statement on stderr) and to
this script's section of docs/BENCHMARKS.md (bench/pages_report.py writes it);
recompute throughput is bench/recompute.py's section, quoted here. The load
average is recorded with the figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The project root on sys.path first: these are the project's own modules.
from bench import load, pages_report  # noqa: E402
from bench.pages_report import DASHBOARD_P95_MS, INSTITUTION_P95_MS  # noqa: E402

OFFICER, ADMIN = "bench-officer", "bench-admin"
HTMX = {"HTTP_HX_REQUEST": "true"}


class BenchError(RuntimeError):
    """The benchmark cannot run as asked; the message says why."""


@dataclass
class Page:
    key: str
    label: str
    url: str
    user: str = OFFICER
    headers: dict = field(default_factory=dict)
    target_ms: float | None = None
    # The admin page doing the same job, which this page must beat.
    rival: str | None = None
    requests: int | None = None  # fewer for the slow CSV exports


@dataclass
class Measured:
    page: Page
    p50_ms: float
    p95_ms: float
    cpu_ms: float  # this process's CPU time, median: Python's part of the wall time
    queries: int
    floor_ms: float
    size: int

    @property
    def ratio(self) -> float:
        return self.p50_ms / self.floor_ms if self.floor_ms else float("inf")


def main() -> int:
    args = parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        print(
            "Set DATABASE_URL=postgres://... : the benchmark runs on PostgreSQL.", file=sys.stderr
        )
        return 2
    os.environ.update(load.production_environment(database_url))
    # django-axes logs every sign-in at INFO; the report is what should be read.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failwell.settings")
    import django

    django.setup()
    try:
        report = run(args, database_url)
    except (BenchError, load.LoadError) as error:
        print(f"bench/pages.py: {error}", file=sys.stderr)
        return 1
    print(report)
    if not args.no_write:
        pages_report.write_section(report)
        print(f"Updated {pages_report.BENCHMARKS.relative_to(ROOT)}.")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=positive, default=40, help="Timed GETs per page.")
    parser.add_argument("--warmup", type=positive, default=5, help="Untimed GETs first.")
    parser.add_argument("--export-requests", type=positive, default=8, help="Timed CSV exports.")
    parser.add_argument("--no-load", action="store_true", help="Skip gunicorn and wrk.")
    parser.add_argument("--load-seconds", type=positive, default=15)
    parser.add_argument("--connections", type=positive, default=6)
    parser.add_argument("--workers", type=positive, default=3, help="gunicorn workers.")
    parser.add_argument("--threads", type=positive, default=1, help="1 = sync workers.")
    parser.add_argument("--port", type=positive, default=8765)
    parser.add_argument("--only", help="Measure only pages whose key contains this text.")
    parser.add_argument("--no-write", action="store_true", help="Leave docs/BENCHMARKS.md alone.")
    return parser.parse_args(argv)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


# Setting up ------------------------------------------------------------------------


def run(args: argparse.Namespace, database_url: str) -> str:
    from django.core.management import call_command

    from institutions.models import Institution

    if not Institution.objects.exists():
        raise BenchError("the database has no institutions: run manage.py generate_fixture")
    pending = unapplied_migrations()
    autovacuum = vacuum_analyze()
    # The production storage needs the hashed manifest, as the Docker image builds it.
    call_command("collectstatic", interactive=False, verbosity=0)
    clients = {OFFICER: signed_in_client(officer()), ADMIN: signed_in_client(superuser())}
    longest = longest_history()
    pages = benchmarked_pages(longest, args)
    if args.only:
        pages = [page for page in pages if args.only in page.key]
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    measured = measure_pages(clients, pages, args)
    memory = export_memory(clients[OFFICER]) if not args.only or "export" in args.only else []
    loaded = []
    if not args.no_load and (not args.only or "load" in args.only):
        loaded = measure_load(args, database_url, clients[OFFICER], longest)
    return pages_report.render(
        args,
        parse_args([]),
        started,
        load_before,
        os.getloadavg(),
        longest,
        measured,
        memory,
        loaded,
        pending,
        autovacuum,
    )


def vacuum_analyze() -> str:
    """Bring the planner's statistics and the visibility map to where autovacuum keeps
    a live database: a freshly generated one has neither, and its plans would be
    those of a database nobody runs. Returns the server's autovacuum setting."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def unapplied_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def officer():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from failwell.roles import OVERSIGHT_OFFICER

    user, _ = get_user_model().objects.get_or_create(
        username=OFFICER, defaults={"first_name": "Bench", "last_name": "Officer"}
    )
    user.groups.add(Group.objects.get(name=OVERSIGHT_OFFICER))
    return user


def superuser():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username=ADMIN, defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def signed_in_client(user):
    from django.test import Client

    # As a browser behind the TLS proxy: production settings redirect plain HTTP.
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    return client


@dataclass(frozen=True)
class Longest:
    """The institution whose page shows the longest history, and what it holds."""

    slug: str
    members: int
    rows: dict[str, int]


def longest_history() -> Longest:
    """The lineage with the most rows of history, and its member with the most of its own
    (status changes are per member, the rest is shown for the whole lineage)."""
    from django.db.models import Count

    from institutions.models import Inspection, Institution, LineageLink
    from interventions.models import Evidence, Intervention, TrajectoryAssessment

    kinds = {
        "inspections": Inspection,
        "interventions": Intervention,
        "evidence": Evidence,
        "assessments": TrajectoryAssessment,
    }
    per_institution: dict[str, dict[int, int]] = {
        kind: dict(model.objects.values_list("institution_id").annotate(n=Count("pk")).order_by())
        for kind, model in kinds.items()
    }
    parent: dict[int, int] = {}

    def root(pk: int) -> int:
        while parent.get(pk, pk) != pk:
            pk = parent[pk]
        return pk

    for predecessor, successor in LineageLink.objects.values_list("predecessor_id", "successor_id"):
        parent[root(predecessor)] = root(successor)
    totals: dict[int, int] = {}
    own: dict[int, int] = {}
    for pk in Institution.objects.values_list("pk", flat=True):
        own[pk] = sum(counts.get(pk, 0) for counts in per_institution.values())
        totals[root(pk)] = totals.get(root(pk), 0) + own[pk]
    lineage = max(totals, key=lambda pk: (totals[pk], -pk))
    members = [pk for pk in own if root(pk) == lineage]
    chosen = max(members, key=lambda pk: (own[pk], -pk))
    rows = {
        kind: sum(counts.get(pk, 0) for pk in members) for kind, counts in per_institution.items()
    }
    slug = Institution.objects.values_list("slug", flat=True).get(pk=chosen)
    return Longest(slug=slug, members=len(members), rows=rows)


def benchmarked_pages(longest: Longest, args: argparse.Namespace) -> list[Page]:
    from django.contrib import admin as django_admin
    from django.urls import reverse

    from failwell.dashboard import PAGE_SIZE
    from institutions.models import Institution, TrajectoryStatus

    dashboard, admin = reverse("dashboard"), reverse("admin:institutions_institution_changelist")
    export = reverse("dashboard-export")
    # A status with a few hundred institutions, as an officer would pick; "academy"
    # matches a few hundred names of the synthetic data and no identifier.
    status, search = TrajectoryStatus.STALLED.value, "academy"
    # The admin's page that starts at the same row as the dashboard's page 200.
    per_page = django_admin.site.get_model_admin(Institution).list_per_page
    admin_page = 199 * PAGE_SIZE // per_page + 1
    institution = reverse("institution", args=[longest.slug])
    status_partial = reverse("institution-status", args=[longest.slug])
    return [
        Page(
            "dashboard", "Dashboard, default", dashboard, target_ms=DASHBOARD_P95_MS, rival="admin"
        ),
        Page(
            "dashboard-status",
            f"Dashboard, status {status}",
            f"{dashboard}?status={status}",
            target_ms=DASHBOARD_P95_MS,
            rival="admin-status",
        ),
        Page(
            "dashboard-search",
            f'Dashboard, search "{search}"',
            f"{dashboard}?q={search}",
            target_ms=DASHBOARD_P95_MS,
            rival="admin-search",
        ),
        Page(
            "dashboard-page-200",
            "Dashboard, page 200",
            f"{dashboard}?page=200",
            target_ms=DASHBOARD_P95_MS,
            rival="admin-deep",
        ),
        Page(
            "dashboard-htmx-status",
            f"Dashboard, htmx filter to {status}",
            f"{dashboard}?status={status}",
            headers=HTMX,
            target_ms=DASHBOARD_P95_MS,
        ),
        Page(
            "institution",
            "Institution page, longest history",
            institution,
            target_ms=INSTITUTION_P95_MS,
        ),
        Page(
            "status-partial",
            "Status refresh partial (htmx)",
            status_partial,
            headers=HTMX,
            target_ms=INSTITUTION_P95_MS,
        ),
        Page(
            "export-schools",
            "CSV export, every school",
            f"{export}?sector=school",
            requests=args.export_requests,
        ),
        Page("admin", "Admin changelist, default", admin, user=ADMIN),
        Page(
            "admin-status",
            f"Admin changelist, status {status}",
            f"{admin}?status__exact={status}",
            user=ADMIN,
        ),
        Page(
            "admin-search",
            f'Admin changelist, search "{search}"',
            f"{admin}?q={search}",
            user=ADMIN,
        ),
        Page(
            "admin-deep",
            f"Admin changelist, page {admin_page} (same first row)",
            f"{admin}?p={admin_page}",
            user=ADMIN,
        ),
    ]


# Measuring -------------------------------------------------------------------------


def fetch(client, page: Page) -> int:
    """One GET, read to its last byte; returns the body's size."""
    response = client.get(page.url, secure=True, **page.headers)
    if response.status_code != 200:
        raise BenchError(f"{page.url} answered {response.status_code}, not 200")
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def percentile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def measure_pages(clients: dict, pages: list[Page], args: argparse.Namespace) -> list[Measured]:
    """Every page in turn, round after round, so that whatever else the machine is
    doing weighs on all of them alike; each request followed by its floor."""
    for page in pages:
        for _ in range(args.warmup):
            fetch(clients[page.user], page)
    statements = {page.key: page_statements(clients[page.user], page) for page in pages}
    wall: dict[str, list[float]] = {page.key: [] for page in pages}
    cpu: dict[str, list[float]] = {page.key: [] for page in pages}
    floor_runs: dict[str, list[tuple[float, tuple[float, str]]]] = {page.key: [] for page in pages}
    sizes: dict[str, int] = {}
    for round_number in range(args.requests):
        for page in pages:
            if page.requests is not None and round_number >= page.requests:
                continue
            started, processor = time.perf_counter(), time.process_time()
            sizes[page.key] = fetch(clients[page.user], page)
            wall[page.key].append((time.perf_counter() - started) * 1000)
            cpu[page.key].append((time.process_time() - processor) * 1000)
            floor_runs[page.key].append(sql_floor_run(statements[page.key]))
    results = []
    for page in pages:
        runs = sorted(floor_runs[page.key], key=lambda run: run[0])
        floor, slowest = runs[len(runs) // 2]
        result = Measured(
            page=page,
            p50_ms=statistics.median(wall[page.key]),
            p95_ms=percentile(wall[page.key], 95),
            cpu_ms=statistics.median(cpu[page.key]),
            queries=len(statements[page.key]),
            floor_ms=floor,
            size=sizes[page.key],
        )
        print(
            f"{page.label}: p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, "
            f"{result.queries} queries, floor {floor:.1f} ms (x{result.ratio:.1f}); "
            f"slowest statement {slowest[0]:.1f} ms: {slowest[1][:200]}",
            file=sys.stderr,
        )
        results.append(result)
    return results


def page_statements(client, page: Page) -> list[str]:
    """The SQL one request for the page sends, as sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fetch(client, page)
    return [query["sql"] for query in captured.captured_queries]


def sql_floor_run(page_sql: list[str]) -> tuple[float, tuple[float, str]]:
    """One run of a page's statements straight on the database driver, rows fetched:
    their total time, and the slowest statement with its time.

    One transaction, as the request's own, so its savepoints are valid; rolled back,
    so nothing is written.
    """
    from django.db import connection, transaction

    each = []
    with transaction.atomic():
        with connection.connection.cursor() as cursor:
            for sql in page_sql:
                started = time.perf_counter()
                # No parameters: psycopg sends the text as it is, % signs and all.
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
                each.append(((time.perf_counter() - started) * 1000, sql))
        transaction.set_rollback(True)
    return sum(ms for ms, _ in each), max(each, default=(0.0, ""))


@dataclass(frozen=True)
class ExportMemory:
    label: str
    rows: int
    megabytes: float
    peak_mb: float
    largest_chunk: int


def export_memory(client) -> list[ExportMemory]:
    """Peak Python memory while streaming the CSV export of some schools, then all."""
    from django.urls import reverse

    export = reverse("dashboard-export")
    cases = [
        ("schools in sustained recovery", f"{export}?sector=school&status=sustained"),
        ("schools in one region", f"{export}?sector=school&region={busiest_region()}"),
        ("every school", f"{export}?sector=school"),
    ]
    found = []
    for label, url in cases:
        tracemalloc.start()
        try:
            response = client.get(url, secure=True)
            if response.status_code != 200 or not response.streaming:
                raise BenchError(f"{url} answered {response.status_code}, not a streamed 200")
            size = lines = largest = 0
            for chunk in response.streaming_content:
                size += len(chunk)
                lines += chunk.count(b"\n")
                largest = max(largest, len(chunk))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        found.append(ExportMemory(label, lines - 1, size / 2**20, peak / 2**20, largest))
        print(f"export of {label}: {lines - 1} rows, peak {peak / 2**20:.1f} MB", file=sys.stderr)
    return found


def busiest_region() -> str:
    from django.db.models import Count

    from institutions.models import Institution

    return (
        Institution.objects.filter(sector="school")
        .exclude(region="")
        .values_list("region")
        .annotate(n=Count("pk"))
        .order_by("-n")[0][0]
    )


def measure_load(
    args: argparse.Namespace, database_url: str, client, longest: Longest
) -> list[load.LoadResult]:
    from django.conf import settings
    from django.urls import reverse

    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    # What the TLS proxy in front of gunicorn adds; without it production settings
    # redirect to https.
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
        "X-Forwarded-Proto": "https",
    }
    targets = [
        ("Dashboard, default", reverse("dashboard"), {}),
        ("Institution page, longest history", reverse("institution", args=[longest.slug]), {}),
        (
            "Status refresh partial (htmx)",
            reverse("institution-status", args=[longest.slug]),
            {"HX-Request": "true"},
        ),
    ]
    results = []
    with load.gunicorn(database_url, args.port, args.workers, args.threads):
        for label, path, extra in targets:
            result = load.wrk(
                label,
                args.port,
                path,
                {**headers, **extra},
                args.load_seconds,
                args.connections,
                threads=min(2, args.connections),
            )
            print(
                f"load {label}: {result.per_second:.0f}/s, p95 {result.p95_ms:.0f} ms",
                file=sys.stderr,
            )
            results.append(result)
    return results


if __name__ == "__main__":
    sys.exit(main())
