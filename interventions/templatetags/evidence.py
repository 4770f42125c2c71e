"""Template filters for showing evidence the way the trajectory method words it."""

from django import template

from interventions.wording import format_quantity

register = template.Library()


@register.filter
def quantity(value: float | None, unit: str = "") -> str:
    """12.5 with unit "%" -> "12.5%"; the same words the status reasons use."""
    if value is None:
        return ""
    return format_quantity(value, unit or "")


@register.filter
def evidence_title(evidence) -> str:
    """What a piece of evidence says, in a few words: "Attendance: 91.5%", or
    "Positive observation"."""
    if evidence.indicator_id is not None:
        return f"{evidence.indicator.name}: {quantity(evidence.value, evidence.indicator.unit)}"
    return f"{evidence.get_direction_display()} observation"
