"""failwell.dates writes dates as the date filter would, in the active language and
time zone: DateFormats, which reads them once for a page, and the functions that read
them per date."""

import datetime

import pytest
from django.utils import dateformat, timezone, translation

from failwell.dates import DateFormats, long_date, short_date

UTC = datetime.UTC

MOMENTS = [
    datetime.datetime(2024, 1, 9, 9, 5, tzinfo=UTC),
    datetime.datetime(2024, 3, 31, 0, 59, tzinfo=UTC),  # the last minute of GMT
    datetime.datetime(2024, 3, 31, 1, 0, tzinfo=UTC),  # the first of BST
    datetime.datetime(2024, 6, 30, 23, 30, tzinfo=UTC),  # 1 July in London
    datetime.datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
    datetime.datetime(987, 5, 1, 12, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("language", ["en-gb", "fr", "de"])
@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_pages_date_formats_write_what_the_date_filter_writes(moment, zone, language):
    with translation.override(language), timezone.override(zone):
        dates = DateFormats()
        day, local = moment.date(), timezone.localtime(moment)
        assert dates.short(day) == dateformat.format(day, "j M Y") == short_date(day)
        assert dates.long(day) == dateformat.format(day, "j F Y") == long_date(day)
        assert dates.local_day(moment) == dateformat.format(local, "j M Y")
        assert dates.local_day_and_time(moment) == dateformat.format(local, "j M Y, H:i")
