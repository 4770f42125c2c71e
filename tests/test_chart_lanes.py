"""The chart's lanes (failwell/chart_lanes.py) write what Django's helpers would."""

import pytest
from django.utils.text import Truncator

from failwell.chart_lanes import glance

SUMMARIES = [
    "Calm corridors at lunch.",
    "x" * 120,
    "x" * 121,
    " ".join(f"word{n}" for n in range(40)),
    "e\u0301" * 50,  # decomposed: 100 characters, composed as Truncator returns them
    "e\u0301" * 100,  # 200 characters, 100 once composed
    "q\u0301" * 100,  # no composed form: 200 characters, 100 of them combining marks
    "q\u0301" * 130,
]


@pytest.mark.parametrize("summary", SUMMARIES)
def test_an_observations_tooltip_cuts_its_summary_as_truncatechars_does(summary):
    assert glance(summary, 120) == Truncator(summary).chars(120)
