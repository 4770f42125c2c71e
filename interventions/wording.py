"""How the trajectory method writes dates and quantities in its reasons.

Reasons are stored and compared word for word (a new status-history row only when
they change), so these must never depend on the locale or the clock.
"""

from __future__ import annotations

import datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_formatted: dict[datetime.date, str] = {}


def format_date(day: datetime.date) -> str:
    """12 Mar 2010, whatever the locale."""
    # Kept, as replaying England writes a few thousand distinct dates millions of times.
    text = _formatted.get(day)
    if text is None:
        text = _formatted[day] = f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return text


def format_number(value: float) -> str:
    """At most two decimals, no trailing zeros: 4.2, 12.5, 0.33, 1250."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_quantity(value: float, unit: str) -> str:
    """4.2%, 12 pupils, 0.8: a percent sign sits on the number, other units after a space."""
    number = format_number(value)
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def lower_first(text: str) -> str:
    """'Special measures' read mid-sentence: 'special measures'."""
    return text[:1].lower() + text[1:]
