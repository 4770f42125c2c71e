"""An evidence item's dates read as the date filter would write them, in UK time.

The item formats them in Python (EvidenceRow.observed_on_text and the like, with
failwell.dates) because the filter is the dearest part of an item and a page shows
dozens of them.
"""

import datetime

import pytest
from django.utils import dateformat, timezone

from failwell.timeline import EvidenceRow
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


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2024, 1, 9, 9, 5, tzinfo=UTC),
        datetime.datetime(2024, 3, 31, 0, 59, tzinfo=UTC),  # the last minute of GMT
        datetime.datetime(2024, 3, 31, 1, 0, tzinfo=UTC),  # the first of BST
        datetime.datetime(2024, 10, 26, 23, 0, tzinfo=UTC),
        datetime.datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
def test_the_dates_match_the_date_filters_formats(moment):
    evidence = row(observed_on=moment.date(), logged_at=moment, retracted_at=moment)
    local = timezone.localtime(moment)
    assert evidence.observed_on_text == dateformat.format(moment.date(), "j F Y")
    assert evidence.logged_at_text == dateformat.format(local, "j M Y, H:i")
    assert evidence.retracted_on_text == dateformat.format(local, "j M Y")


def test_evidence_not_retracted_has_no_retraction_date():
    assert row(logged_at=timezone.now()).retracted_on_text == ""


def row(**fields) -> EvidenceRow:
    """A piece of evidence as the pages read it, with these values and no others."""
    values = dict.fromkeys(EvidenceRow._fields)
    values.update(fields)
    return EvidenceRow(**values)
