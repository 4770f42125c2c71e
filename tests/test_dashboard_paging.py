"""The dashboard's pages at scale: a page is read as "these ids, in order" and the total
comes from the status counts (failwell/dashboard.py, DashboardPaginator), so every
page must still list exactly its share of the whole ordered list, and the totals
must match what is listed."""

import datetime

import pytest

from failwell.dashboard import PAGE_SIZE
from institutions.models import Institution, TrajectoryStatus
from tests.factories import make_identifier, make_institution

pytestmark = pytest.mark.django_db


def pks(response) -> list[int]:
    return [institution.pk for institution in response.context["page_obj"].object_list]


def every_page(client, query: str) -> list[int]:
    found, page = [], 1
    while True:
        response = client.get(f"/?{query}&page={page}")
        found += pks(response)
        if not response.context["page_obj"].has_next():
            return found
        page += 1


@pytest.fixture
def ties():
    """Three pages of institutions with many equal names, dates and statuses, some
    never inspected, so that only the tie-breaks decide the order."""
    statuses = [TrajectoryStatus.FAILING, TrajectoryStatus.IMPROVING, TrajectoryStatus.STALLED]
    for n in range(PAGE_SIZE * 2 + 13):
        make_institution(
            name=f"School {n % 7}",
            sector="school" if n % 2 else "nhs_trust",
            region=f"Region {n // 3 % 2}",
            status=statuses[n % 3],
            status_since=datetime.date(2020, 1, 1 + n % 5),
            latest_inspection_on=None if n % 4 == 0 else datetime.date(2019, 1, 1 + n % 6),
        )


@pytest.mark.parametrize(
    "sort, key",
    [
        ("name", lambda i: (i.name, i.pk)),
        ("-name", lambda i: (tuple(-ord(c) for c in i.name), i.pk)),
        ("sector", lambda i: (i.sector, i.name, i.pk)),
        ("since", lambda i: (i.status_since, i.name, i.pk)),
        (
            "inspected",
            lambda i: (i.latest_inspection_on is None, i.latest_inspection_on or 0, i.name, i.pk),
        ),
        (
            "status",
            lambda i: (TrajectoryStatus.values.index(i.status), i.name, i.pk),
        ),
    ],
)
def test_the_pages_together_list_every_institution_once_in_order(officer_client, ties, sort, key):
    expected = [i.pk for i in sorted(Institution.objects.all(), key=key)]
    assert every_page(officer_client, f"sort={sort}") == expected


def test_a_filtered_list_pages_the_same_way(officer_client, ties):
    expected = list(
        Institution.objects.filter(status__in=["failing", "stalled"])
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    query = "status=failing&status=stalled&sort=name"
    assert every_page(officer_client, query) == expected
    response = officer_client.get(f"/?{query}")
    assert response.context["page_obj"].paginator.count == len(expected)
    assert f"Showing 1 to 50 of {len(expected)} institutions" in response.content.decode()


def test_the_total_is_the_sum_of_the_picked_statuses_counts(officer_client, ties):
    response = officer_client.get("/?status=failing&status=improving&region=Region+1")
    counts = {shown.status: shown.count for shown in response.context["counts"]}
    total = response.context["page_obj"].paginator.count
    assert total == counts[TrajectoryStatus.FAILING] + counts[TrajectoryStatus.IMPROVING]
    assert (
        total
        == Institution.objects.filter(
            status__in=["failing", "improving"], region="Region 1"
        ).count()
    )


def test_a_search_matching_by_name_and_by_identifier_lists_the_institution_once(
    officer_client,
):
    both = make_institution(name="Trust RDD Hospitals")
    make_identifier(both, scheme="ods", value="RDD")
    by_identifier = make_institution(name="Basildon and Thurrock")
    make_identifier(by_identifier, scheme="ods", value="RDDX")
    make_identifier(make_institution(name="Elsewhere"), scheme="ods", value="RDE")
    response = officer_client.get("/?q=rdd")
    assert pks(response) == [both.pk]
    assert response.context["page_obj"].paginator.count == 1
    assert [i.pk for i in officer_client.get("/?q=rddx").context["page_obj"]] == [by_identifier.pk]
