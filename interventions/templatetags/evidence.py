"""A template filter for naming evidence the way the trajectory method words it."""

from django import template

from interventions.models import evidence_words

register = template.Library()


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
