"""Query counts of the benchmarked pages that their own test files do not cover:
a deep page of the dashboard, in every order, and the status refresh partial.

The dashboard's first page, its filters and its htmx update are counted in
tests/test_dashboard.py, the CSV export in tests/test_dashboard_export.py, and the
institution page in tests/test_institution_page.py; docs/BENCHMARKS.md has the
timings at England's size.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from failwell.dashboard import PAGE_SIZE
from institutions.models import Institution
from tests.factories import make_assessment
from tests.test_dashboard import DASHBOARD_QUERIES, HTMX, make_many

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    return [institution.name for institution in response.context["page_obj"].object_list]


@pytest.mark.parametrize("sort", ["name", "-name", "-inspected", "status", "since"])
def test_a_deep_page_makes_the_same_queries_as_the_first(
    officer_client, django_assert_num_queries, sort
):
    make_many(PAGE_SIZE * 4 + 7)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        first = officer_client.get(f"/?sort={sort}")
    with django_assert_num_queries(DASHBOARD_QUERIES):
        last = officer_client.get(f"/?sort={sort}&page=5")
    assert len(shown(first)) == PAGE_SIZE and len(shown(last)) == 7
    assert "Showing 201 to 207 of 207 institutions" in last.content.decode()


def test_a_deep_page_filtered_and_searched_makes_the_same_queries(
    officer_client, django_assert_num_queries
):
    make_many(PAGE_SIZE * 3)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = officer_client.get("/?q=bulk&status=failing&status=improving&page=1", **HTMX)
    assert len(shown(response)) == 30


def count_status_queries(client, institution, query: str = "") -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/institutions/{institution.slug}/status/{query}", **HTMX)
    return response.status_code, len(queries)


def test_the_status_partial_makes_the_same_queries_however_long_the_status_history(
    officer_client, institution
):
    make_assessment(institution, as_of=datetime.date(2010, 1, 1))
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=False)
    small = count_status_queries(officer_client, institution)
    for n in range(120):
        make_assessment(
            institution,
            as_of=datetime.date(2010, 1, 2) + datetime.timedelta(days=n),
            status="improving" if n % 2 else "stalled",
        )
    assert count_status_queries(officer_client, institution) == small
    assert small[0] == 200


def test_a_poll_with_nothing_new_makes_the_same_queries_however_long_the_history(
    officer_client, institution
):
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=True, status_version=3)
    make_assessment(institution)
    small = count_status_queries(officer_client, institution, "?since=3")
    for n in range(120):
        make_assessment(institution, as_of=datetime.date(2016, 1, 1) + datetime.timedelta(days=n))
    assert count_status_queries(officer_client, institution, "?since=3") == small
    assert small[0] == 204
