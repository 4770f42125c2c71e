"""Form widgets that the GOV.UK Design System patterns need and Django lacks."""

import datetime

from django import forms


class DateInputs(forms.MultiWidget):
    """A date as three text boxes (day, month, year), the GOV.UK date input.

    Use it with a plain ``forms.DateField(widget=DateInputs())``: the three parts
    reach the field as one "year-month-day" string, so the field's own parsing and
    its "Enter a valid date." error apply, and a 31 February or a two-digit year is
    rejected there. The parts the person typed are kept and shown again beside the
    error. The inputs are named ``<field>_day``, ``<field>_month`` and ``<field>_year``.
    """

    template_name = "django/forms/widgets/multiwidget.html"
    parts = ("day", "month", "year")

    def __init__(self, attrs: dict | None = None) -> None:
        text = {"inputmode": "numeric"}
        super().__init__({part: forms.TextInput(attrs=text) for part in self.parts}, attrs)

    def decompress(self, value: object) -> list[str | None]:
        if isinstance(value, datetime.date):
            return [str(value.day), str(value.month), str(value.year)]
        if isinstance(value, str) and value.count("-") == 2:
            year, month, day = value.split("-")
            return [day, month, year]
        return [None, None, None]

    def value_from_datadict(self, data, files, name: str) -> str:
        day, month, year = (
            (data.get(f"{name}_{part}") or "").strip().replace("-", "") for part in self.parts
        )
        if not (day or month or year):
            return ""
        return f"{year}-{month}-{day}"

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return all(f"{name}_{part}" not in data for part in self.parts)
