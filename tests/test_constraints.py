"""What must never be stored is refused by PostgreSQL itself, not only by clean().

Every write here goes around model validation (objects.create, bulk_create,
QuerySet.update), as an import or a bug would. Each test names the constraint it
expects, so a row refused for some other reason does not pass. The composite
foreign keys are DEFERRABLE INITIALLY DEFERRED (so a scale and its grades can be
written in any order within a transaction); `SET CONSTRAINTS ALL IMMEDIATE`
checks them on the spot instead of at the commit the test never reaches.
"""

import datetime
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from institutions.models import (
    EvaluationArea,
    Grade,
    Identifier,
    Inspection,
    Judgement,
    RatingScale,
)
from interventions.models import Evidence, Intervention, Milestone
from tests.factories import (
    grade,
    make_evidence,
    make_identifier,
    make_indicator,
    make_inspection,
    make_institution,
    make_intervention,
    make_lead_assignment,
    make_link,
    make_milestone,
    scale,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

D = datetime.date


def check_deferred_constraints_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@contextmanager
def rejected_by(constraint: str):
    """The block's writes must fail on exactly this constraint."""
    with pytest.raises(IntegrityError, match=f'"{constraint}"'), transaction.atomic():
        yield
        check_deferred_constraints_now()


# Grades and scales -------------------------------------------------------------


def test_a_consistent_inspection_and_judgement_pass_the_deferred_checks():
    inspection = make_inspection(
        make_institution(), overall="Good", judgements={"quality-of-education": "Good"}
    )
    check_deferred_constraints_now()
    assert inspection.judgements.count() == 1


def test_an_overall_grade_from_another_scale_is_refused():
    inspection = make_inspection(make_institution(), overall="Good")
    with rejected_by("institutions_inspection_scale_id_overall_grade_id_composite_fk"):
        Inspection.objects.filter(pk=inspection.pk).update(
            overall_grade=grade("ofsted-overall-2005", "Satisfactory")
        )


def test_an_overall_grade_from_another_scale_is_refused_on_create():
    rating_scale = scale("ofsted-overall-2012")
    with rejected_by("institutions_inspection_scale_id_overall_grade_id_composite_fk"):
        Inspection.objects.create(
            institution=make_institution(),
            inspectorate=rating_scale.inspectorate,
            scale=rating_scale,
            inspected_on=D(2015, 1, 1),
            overall_grade=grade("cqc-2014", "Good"),
        )


def test_a_judgement_grade_from_another_scale_is_refused():
    inspection = make_inspection(make_institution(), overall="Good")
    area = inspection.scale.areas.get(slug="quality-of-education")
    with rejected_by("institutions_judgement_scale_id_grade_id_composite_fk"):
        Judgement.objects.create(
            inspection=inspection, area=area, grade=grade("ofsted-overall-2005", "Good")
        )


def test_a_judgement_area_from_another_scale_is_refused():
    inspection = make_inspection(make_institution(), overall="Good")
    other_area = scale("ofsted-report-card-2025").areas.get(slug="achievement")
    with rejected_by("institutions_judgement_scale_id_area_id_composite_fk"):
        Judgement.objects.create(
            inspection=inspection, area=other_area, grade=grade("ofsted-overall-2012", "Good")
        )


def test_a_judgement_on_another_scale_than_its_inspection_is_refused():
    inspection = make_inspection(make_institution(), overall="Good")
    report_card = scale("ofsted-report-card-2025")
    with rejected_by("institutions_judgement_inspection_id_scale_id_composite_fk"):
        Judgement.objects.bulk_create(
            [
                Judgement(
                    inspection=inspection,
                    scale=report_card,
                    area=report_card.areas.get(slug="achievement"),
                    grade=grade("ofsted-report-card-2025", "Strong standard"),
                )
            ]
        )


def test_a_grade_for_an_area_of_another_scale_is_refused():
    other_area = scale("ofsted-report-card-2025").areas.get(slug="safeguarding")
    with rejected_by("institutions_grade_scale_id_area_id_composite_fk"):
        Grade.objects.create(
            scale=scale("cqc-2014"), area=other_area, label="Met", band="at_standard", position=9
        )


def test_a_duplicate_grade_label_in_a_scale_is_refused_whatever_its_case():
    with rejected_by("grade_label_unique_overall"):
        Grade.objects.create(scale=scale("cqc-2014"), label="GOOD", band="at_standard", position=9)


def test_a_duplicate_grade_label_for_one_area_is_refused_whatever_its_case():
    report_card = scale("ofsted-report-card-2025")
    safeguarding = report_card.areas.get(slug="safeguarding")
    with rejected_by("grade_label_unique_in_scale"):
        Grade.objects.create(
            scale=report_card, area=safeguarding, label="not MET", band="failing", position=9
        )


def test_the_same_grade_label_on_another_scale_is_fine():
    Grade.objects.create(
        scale=scale("cqc-2014"), label="Exceptional", band="above_standard", position=0
    )
    check_deferred_constraints_now()


def test_a_duplicate_area_slug_in_a_scale_is_refused():
    with rejected_by("evaluation_area_unique_slug"):
        EvaluationArea.objects.create(
            scale=scale("ofsted-report-card-2025"), slug="achievement", name="Achievement again"
        )


def test_an_invalid_band_is_refused():
    with rejected_by("grade_band_valid"):
        Grade.objects.filter(scale__slug="cqc-2014", label="Good").update(band="fine")


def test_a_scale_that_ends_before_it_starts_is_refused():
    with rejected_by("rating_scale_ends_after_start"):
        RatingScale.objects.filter(slug="cqc-2014").update(
            effective_from=D(2014, 10, 1), effective_to=D(2014, 9, 30)
        )


# Inspections ---------------------------------------------------------------------


def test_an_inspection_published_before_it_took_place_is_refused():
    with rejected_by("inspection_published_after_inspected"):
        make_inspection(make_institution(), on=D(2015, 3, 10), published_on=D(2015, 3, 9))


def test_an_invalid_category_of_concern_is_refused():
    inspection = make_inspection(make_institution())
    with rejected_by("inspection_category_valid"):
        Inspection.objects.filter(pk=inspection.pk).update(category_of_concern="doomed")


def test_a_second_judgement_of_the_same_area_is_refused():
    inspection = make_inspection(make_institution(), judgements={"quality-of-education": "Good"})
    area = inspection.scale.areas.get(slug="quality-of-education")
    with rejected_by("judgement_one_per_area"):
        Judgement.objects.create(
            inspection=inspection, area=area, grade=grade("ofsted-overall-2012", "Outstanding")
        )


# Institutions, identifiers and lineage ---------------------------------------------


def test_a_duplicate_identifier_within_a_scheme_is_refused():
    make_identifier(make_institution(), scheme="urn", value="100001")
    with rejected_by("identifier_unique_in_scheme"):
        make_identifier(make_institution(), scheme="urn", value="100001")


def test_the_same_identifier_value_in_another_scheme_is_fine():
    make_identifier(make_institution(), scheme="urn", value="100001")
    make_identifier(make_institution(), scheme="ukprn", value="100001")
    check_deferred_constraints_now()
    assert Identifier.objects.filter(value="100001").count() == 2


def test_a_blank_identifier_is_refused():
    with rejected_by("identifier_value_not_blank"):
        Identifier.objects.create(institution=make_institution(), scheme="urn", value="")


def test_a_lineage_link_from_an_institution_to_itself_is_refused():
    school = make_institution()
    with rejected_by("lineage_link_not_self"):
        make_link(school, school)


def test_a_second_link_between_the_same_two_institutions_is_refused():
    school, academy = make_institution(), make_institution()
    make_link(school, academy)
    with rejected_by("lineage_link_unique_pair"):
        make_link(school, academy, kind="rename")


def test_a_lead_assignment_that_ends_before_it_starts_is_refused():
    with rejected_by("lead_assignment_ends_after_start"):
        make_lead_assignment(make_institution(), starts_on=D(2015, 1, 1), ends_on=D(2014, 12, 31))


# Interventions and milestones -------------------------------------------------------


def test_an_intervention_that_ends_before_it_starts_is_refused():
    with rejected_by("intervention_ends_after_start"):
        make_intervention(
            make_institution(),
            started_on=D(2015, 1, 1),
            ended_on=D(2014, 1, 1),
            outcome="succeeded",
        )


def test_an_ended_intervention_still_ongoing_is_refused():
    with rejected_by("intervention_outcome_matches_end"):
        make_intervention(make_institution(), ended_on=D(2016, 1, 1), outcome="ongoing")


def test_an_intervention_with_an_outcome_but_no_end_is_refused():
    with rejected_by("intervention_outcome_matches_end"):
        make_intervention(make_institution(), outcome="succeeded")


def test_an_invalid_outcome_is_refused():
    intervention = make_intervention(
        make_institution(), ended_on=D(2016, 1, 1), outcome="succeeded"
    )
    with rejected_by("intervention_outcome_valid"):
        Intervention.objects.filter(pk=intervention.pk).update(outcome="triumphed")


def test_an_invalid_intensity_is_refused():
    intervention = make_intervention(make_institution())
    with rejected_by("intervention_intensity_valid"):
        Intervention.objects.filter(pk=intervention.pk).update(intensity="gentle")


def test_a_milestone_achieved_date_without_met_is_refused():
    intervention = make_intervention(make_institution())
    with rejected_by("milestone_achieved_only_when_met"):
        make_milestone(intervention, status="in_progress", achieved_on=D(2015, 5, 1))


def test_a_met_milestone_without_an_achieved_date_is_refused():
    intervention = make_intervention(make_institution())
    with rejected_by("milestone_achieved_only_when_met"):
        make_milestone(intervention, status="met")


def test_an_invalid_milestone_status_is_refused():
    milestone = make_milestone(make_intervention(make_institution()))
    with rejected_by("milestone_status_valid"):
        Milestone.objects.filter(pk=milestone.pk).update(status="abandoned")


# Evidence ------------------------------------------------------------------------------


def test_an_indicator_value_without_an_indicator_is_refused():
    with rejected_by("evidence_value_or_observation"):
        make_evidence(make_institution(), value=12.5, direction="")


def test_an_indicator_without_a_value_is_refused():
    with rejected_by("evidence_value_or_observation"):
        make_evidence(make_institution(), indicator=make_indicator(), direction="")


def test_an_observation_without_a_direction_is_refused():
    with rejected_by("evidence_value_or_observation"):
        make_evidence(make_institution(), direction="", summary="Something happened")


def test_an_invalid_direction_is_refused():
    with rejected_by("evidence_value_or_observation"):
        make_evidence(make_institution(), direction="sideways")


def test_both_an_indicator_value_and_a_direction_are_refused():
    with rejected_by("evidence_value_or_observation"):
        make_evidence(
            make_institution(), indicator=make_indicator(), value=3.0, direction="positive"
        )


def test_evidence_for_an_intervention_at_another_institution_is_refused():
    elsewhere = make_intervention(make_institution())
    with rejected_by("interventions_evidence_institution_id_intervention_id_composite"):
        make_evidence(make_institution(), intervention=elsewhere)


def test_evidence_for_a_milestone_of_another_intervention_is_refused():
    school = make_institution()
    first, second = make_intervention(school), make_intervention(school, started_on=D(2017, 1, 1))
    with rejected_by("interventions_evidence_intervention_id_milestone_id_composite_f"):
        make_evidence(school, intervention=first, milestone=make_milestone(second))


def test_evidence_for_a_milestone_without_its_intervention_is_refused():
    school = make_institution()
    milestone = make_milestone(make_intervention(school))
    with rejected_by("evidence_milestone_needs_intervention"):
        make_evidence(school, milestone=milestone)


def test_evidence_tied_to_its_own_intervention_and_milestone_is_fine():
    school = make_institution()
    intervention = make_intervention(school)
    make_evidence(school, intervention=intervention, milestone=make_milestone(intervention))
    check_deferred_constraints_now()


def test_a_retraction_without_a_reason_is_refused():
    evidence = make_evidence(make_institution())
    with rejected_by("evidence_retraction_has_reason"):
        Evidence.objects.filter(pk=evidence.pk).update(retracted_at=timezone.now())


def test_a_retraction_reason_without_a_retraction_is_refused():
    evidence = make_evidence(make_institution())
    with rejected_by("evidence_retraction_has_reason"):
        Evidence.objects.filter(pk=evidence.pk).update(retraction_reason="Typed in error")


# Enumerations and the inspectorate of a scale -----------------------------------


@pytest.mark.parametrize(
    "constraint, write",
    [
        (
            "institution_sector_valid",
            lambda: make_institution(sector="hospital"),
        ),
        (
            "institution_status_valid",
            lambda: make_institution(status="doing_fine"),
        ),
        (
            "identifier_scheme_valid",
            lambda: make_identifier(make_institution(), scheme="passport"),
        ),
        (
            "lineage_link_kind_valid",
            lambda: make_link(make_institution(), make_institution(), kind="takeover"),
        ),
    ],
)
def test_a_value_outside_its_enumeration_is_refused(constraint, write):
    with rejected_by(constraint):
        write()


def test_an_inspection_on_another_inspectorates_scale_is_refused():
    inspection = make_inspection(make_institution(), overall="Good")
    with rejected_by("institutions_inspection_inspectorate_id_scale_id_composite_fk"):
        Inspection.objects.filter(pk=inspection.pk).update(
            inspectorate=scale("cqc-2014").inspectorate
        )
