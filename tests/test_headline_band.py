import datetime

import pytest

from institutions.models import Band
from tests.factories import make_inspection, make_institution

pytestmark = pytest.mark.django_db


def test_overall_grade_gives_the_headline_band():
    inspection = make_inspection(make_institution(), overall="Requires improvement")
    assert inspection.headline_band == Band.BELOW_STANDARD


def test_satisfactory_on_the_2005_scale_is_below_standard_like_requires_improvement():
    inspection = make_inspection(
        make_institution(), scale_slug="ofsted-overall-2005", overall="satisfactory"
    )
    assert inspection.headline_band == Band.BELOW_STANDARD


def test_report_card_without_overall_grade_takes_the_lowest_judgement_band():
    inspection = make_inspection(
        make_institution(),
        scale_slug="ofsted-report-card-2025",
        overall=None,
        on=datetime.date(2025, 12, 1),
        judgements={"achievement": "Strong standard", "inclusion": "Needs attention"},
    )
    assert inspection.headline_band == Band.BELOW_STANDARD
    assert inspection.headline_label == "Inclusion: Needs attention"


def test_safeguarding_not_met_makes_a_report_card_failing():
    inspection = make_inspection(
        make_institution(),
        scale_slug="ofsted-report-card-2025",
        overall=None,
        on=datetime.date(2025, 12, 1),
        judgements={"achievement": "Exceptional", "safeguarding": "Not met"},
    )
    assert inspection.headline_band == Band.FAILING


def test_category_of_concern_makes_the_headline_failing_whatever_the_grade():
    inspection = make_inspection(
        make_institution(), overall="Requires improvement", category_of_concern="serious_weaknesses"
    )
    assert inspection.headline_band == Band.FAILING


def test_an_inspection_with_no_grades_has_no_headline_band():
    inspection = make_inspection(make_institution(), overall=None)
    assert inspection.headline_band is None
    assert inspection.headline_label == "Not graded"
