"""Template filters for showing evidence the way the trajectory method words it."""

from django import template

from interventions.models import evidence_words
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
    indicator = evidence.indicator if evidence.indicator_id is not None else None
    return evidence_words(
        indicator and indicator.name,
        evidence.value,
        indicator and indicator.unit,
        evidence.direction,
    )
