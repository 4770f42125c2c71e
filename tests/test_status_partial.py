"""The status partial shows the latest assessment's reasons: the latest as of, then the
latest computed, then the last stored; and says so when there is none yet."""

import datetime

import pytest
from django.utils import timezone

from institutions.models import Institution
from tests.factories import make_assessment

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOON = timezone.make_aware(datetime.datetime(2015, 7, 1, 12, 0))


def status_area(client, institution) -> str:
    response = client.get(f"/institutions/{institution.slug}/status/", **HTMX)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def assessed(institution):
    Institution.objects.filter(pk=institution.pk).update(needs_recompute=False)
    return institution


def reasons(text: str) -> list[dict]:
    return [{"rule": "test", "text": text}]


def test_the_latest_as_of_wins_over_a_later_computation(officer_client, assessed):
    make_assessment(
        assessed, as_of=datetime.date(2015, 6, 1), computed_at=NOON, reasons=reasons("June")
    )
    make_assessment(
        assessed,
        as_of=datetime.date(2015, 5, 1),
        computed_at=NOON + datetime.timedelta(days=1),
        reasons=reasons("May"),
        method_version=2,
    )

    html = status_area(officer_client, assessed)

    assert "<li>June</li>" in html and "May" not in html
    assert "Assessed as of 1 June 2015 by trajectory method version 1." in html


def test_on_the_same_day_the_later_computation_wins(officer_client, assessed):
    day = datetime.date(2015, 6, 1)
    make_assessment(assessed, as_of=day, computed_at=NOON, reasons=reasons("Later"))
    make_assessment(
        assessed,
        as_of=day,
        computed_at=NOON - datetime.timedelta(hours=1),
        reasons=reasons("Earlier"),
    )

    html = status_area(officer_client, assessed)

    assert "<li>Later</li>" in html and "Earlier" not in html


def test_computed_together_the_last_stored_wins(officer_client, assessed):
    day = datetime.date(2015, 6, 1)
    make_assessment(assessed, as_of=day, computed_at=NOON, reasons=reasons("First stored"))
    make_assessment(assessed, as_of=day, computed_at=NOON, reasons=reasons("Last stored"))

    html = status_area(officer_client, assessed)

    assert "<li>Last stored</li>" in html and "First stored" not in html


def test_without_an_assessment_it_says_none_has_been_made(officer_client, assessed):
    html = status_area(officer_client, assessed)

    assert "failwell has not assessed this institution yet." in html
    assert "Why" not in html
