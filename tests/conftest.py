"""Shared fixtures: the personas of STYLE.md and the service gates.

Tests marked postgres, redis or browser need a real service. On a laptop they skip
with the reason; with FAILWELL_REQUIRE_SERVICES=1 (CI) a missing service fails them.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

REQUIRE_SERVICES = os.environ.get("FAILWELL_REQUIRE_SERVICES", "") == "1"
CHROMIUM = "/usr/bin/chromium"


def _missing_service(marker: str) -> str | None:
    """Why the service a marker names is not available, or None if it is."""
    if marker == "postgres":
        if connection.vendor != "postgresql":
            return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    elif marker == "redis":
        url = os.environ.get("CELERY_BROKER_URL", "")
        if not url.startswith("redis://"):
            return "needs Redis: set CELERY_BROKER_URL=redis://..."
        parts = urlparse(url)
        try:
            socket.create_connection((parts.hostname, parts.port or 6379), timeout=2).close()
        except OSError as error:
            return f"needs Redis at {parts.hostname}:{parts.port or 6379}: {error}"
    elif marker == "browser":
        if not shutil.which(CHROMIUM):
            return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs the playwright package"
    return None


@pytest.fixture(autouse=True)
def celery_inline(request):
    """Run tasks inline unless a test talks to a real worker (marked redis).

    CI sets CELERY_BROKER_URL for the worker tests; without this every other test's
    writes would queue tasks that no worker runs.
    """
    from failwell.celery import app

    if request.node.get_closest_marker("redis"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


# The personas of STYLE.md item 9. "institution" is the one the lead is assigned to.


@pytest.fixture
def institution(db):
    from tests.factories import make_institution

    return make_institution(name="Eltham Foundation School", slug="eltham")


@pytest.fixture
def officer(db):
    from failwell.roles import OVERSIGHT_OFFICER
    from tests.factories import make_member

    return make_member(OVERSIGHT_OFFICER, username="officer", first_name="Olu")


@pytest.fixture
def officer_client(client, officer):
    """The test client, signed in as the officer."""
    client.force_login(officer)
    return client


@pytest.fixture
def lead(db, institution):
    """A turnaround lead assigned to `institution`."""
    from failwell.roles import TURNAROUND_LEAD
    from tests.factories import make_lead_assignment, make_member

    user = make_member(TURNAROUND_LEAD, username="lead", first_name="Lena")
    make_lead_assignment(institution, lead=user)
    return user


@pytest.fixture
def other_lead(db):
    """A turnaround lead with no assignment to `institution`."""
    from failwell.roles import TURNAROUND_LEAD
    from tests.factories import make_member

    return make_member(TURNAROUND_LEAD, username="other-lead")


@pytest.fixture
def administrator(db):
    from failwell.roles import ADMINISTRATOR
    from tests.factories import make_member

    return make_member(ADMINISTRATOR, username="administrator", is_staff=True)


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing_service(marker)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"FAILWELL_REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)
