"""Small bundles for the import and export tests, built fresh for each test."""

import copy
from typing import Any

FORMAT = "failwell.bundle/1"

_SCHOOL: dict[str, Any] = {
    "format": FORMAT,
    "notes": "Test data: every figure here is made up.",
    "indicators": [
        {
            "slug": "exclusion-rate",
            "name": "Fixed-term exclusions",
            "unit": "%",
            "higher_is_better": False,
        }
    ],
    "institutions": [
        {
            "ref": "eltham",
            "name": "Eltham Foundation School",
            "sector": "school",
            "region": "London",
            "identifiers": {"urn": "100180"},
            "inspections": [
                {
                    "inspectorate": "ofsted",
                    "scale": "ofsted-overall-2005",
                    "date": "2010-03-10",
                    "overall": "Inadequate",
                    "category_of_concern": "special_measures",
                }
            ],
            "interventions": [
                {
                    "type": "special-measures",
                    "started_on": "2010-03-10",
                    "ended_on": None,
                    "outcome": "ongoing",
                    "grace_months": 12,
                    "milestones": [
                        {
                            "title": "New headteacher in post",
                            "due_on": "2010-09-01",
                            "status": "met",
                            "achieved_on": "2010-08-20",
                        }
                    ],
                }
            ],
            "evidence": [
                {"observed_on": "2010-06-30", "indicator": "exclusion-rate", "value": 12.5},
                {
                    "observed_on": "2011-01-15",
                    "direction": "positive",
                    "summary": "Calmer corridors",
                },
            ],
        },
        {
            "ref": "harris-greenwich",
            "name": "Harris Academy Greenwich",
            "sector": "school",
            "region": "London",
            "successor_of": [{"ref": "eltham", "kind": "academy_conversion", "on": "2012-09-01"}],
            "inspections": [
                {
                    "scale": "ofsted-overall-2012",
                    "date": "2013-05-01",
                    "overall": "Good",
                    "judgements": {"leadership-and-management": "Outstanding"},
                }
            ],
        },
    ],
}


def school_bundle() -> dict[str, Any]:
    """Eltham in special measures, and the academy that succeeded it."""
    return copy.deepcopy(_SCHOOL)
