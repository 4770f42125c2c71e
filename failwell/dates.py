"""Dates in page text, as Django's date filter writes them, without the filter's cost.

The filter looks up its format and parses it again for every date, which costs
more than the rest of a table row or timeline entry; pages that show dozens of
dates (the dashboard, the institution page's timeline) write them with these.
Month names come from django.utils.dates in the active language, as the filter's do.
"""

from __future__ import annotations

import datetime
import functools

from django.utils import timezone, translation
from django.utils.dates import MONTHS, MONTHS_3


@functools.cache
def _month_names(language: str, abbreviated: bool) -> tuple[str, ...]:
    """The twelve month names (at 1 to 12) as the "M" or "F" format writes them."""
    with translation.override(language):
        if abbreviated:
            return ("", *(MONTHS_3[month].title() for month in range(1, 13)))
        return ("", *(str(MONTHS[month]) for month in range(1, 13)))


def short_date(day: datetime.date, space: str = " ") -> str:
    """3 Mar 2010: the date filter's "j M Y". `space` may be a no-break space."""
    if isinstance(day, datetime.datetime):  # its day, not a cache entry per second
        day = day.date()
    return _short_date(day, space, translation.get_language())


# The dashboard writes two dates a row, fifty rows a page, and its pages share days.
@functools.lru_cache(maxsize=4096)
def _short_date(day: datetime.date, space: str, language: str) -> str:
    month = _month_names(language, True)[day.month]
    return f"{day.day}{space}{month}{space}{day.year:04d}"


def long_date(day: datetime.date) -> str:
    """3 March 2010: the date filter's "j F Y"."""
    month = _month_names(translation.get_language(), False)[day.month]
    return f"{day.day} {month} {day.year:04d}"


class DateFormats:
    """The date filter's formats for one page's dozens of dates, with the active
    language (and time zone) read once: each read is a context-local lookup of 3 µs,
    more than writing the date, and a page of the timeline writes a hundred."""

    def __init__(self) -> None:
        language = translation.get_language()
        self._short_months = _month_names(language, True)
        self._long_months = _month_names(language, False)
        self._zone: datetime.tzinfo | None = None

    def short(self, day: datetime.date) -> str:
        """3 Mar 2010: "j M Y", as short_date(day)."""
        return f"{day.day} {self._short_months[day.month]} {day.year:04d}"

    def long(self, day: datetime.date) -> str:
        """3 March 2010: "j F Y", as long_date(day)."""
        return f"{day.day} {self._long_months[day.month]} {day.year:04d}"

    def local_day(self, moment: datetime.datetime) -> str:
        """3 Mar 2010 in local time: "j M Y" of a moment."""
        return self.short(self._local(moment))

    def local_day_and_time(self, moment: datetime.datetime) -> str:
        """3 Mar 2010, 14:05 in local time: "j M Y, H:i"."""
        moment = self._local(moment)
        return f"{self.short(moment)}, {moment.hour:02}:{moment.minute:02}"

    def _local(self, moment: datetime.datetime) -> datetime.datetime:
        if self._zone is None:
            self._zone = timezone.get_current_timezone()
        return timezone.localtime(moment, self._zone)
