"""An evidence item's dates read as the date filter would write them, in UK time.

The timeline tag formats them in Python (failwell.dates.DateFormats, which
tests/test_dates.py checks against the filter) because the filter is the dearest
part of an item and a page shows dozens of them.
"""

import datetime

import pytest

from tests.factories import make_evidence

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def test_an_items_dates_are_in_uk_time_where_the_clock_has_moved(client, officer, institution):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (British Summer Time).
    evidence = make_evidence(
        institution,
        observed_on=datetime.date(2024, 3, 3),
        logged_at=datetime.datetime(2024, 6, 30, 23, 30, tzinfo=UTC),
        retracted_at=datetime.datetime(2024, 7, 31, 23, 5, tzinfo=UTC),
        retraction_reason="Logged against the wrong school",
    )
    client.force_login(officer)
    html = client.get(f"/institutions/{institution.slug}/").content.decode()
    item = html[html.index(f'id="evidence-{evidence.pk}"') :]
    assert '<time datetime="2024-03-03">3 March 2024</time>' in item
    assert "Logged 1 Jul 2024, 00:30" in item
    assert "Retracted 1 Aug 2024" in item
