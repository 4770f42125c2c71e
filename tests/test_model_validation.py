"""Model validation refuses what the database would refuse, as a field error a person
can act on, so forms and the admin show a message instead of an IntegrityError (and
SQLite, which lacks the composite foreign keys, is guarded the same way)."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse

from institutions.models import Inspection, Judgement, LeadAssignment, LineageLink
from interventions.models import Evidence, Intervention, InterventionType, Milestone
from tests.factories import (
    grade,
    make_indicator,
    make_inspection,
    make_inspectorate,
    make_institution,
    make_intervention,
    make_milestone,
    make_user,
    scale,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def errors_of(obj) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        obj.full_clean()
    return caught.value.message_dict


def new_inspection(scale_slug: str = "ofsted-overall-2012", **fields) -> Inspection:
    rating_scale = scale(scale_slug)
    values = {
        "institution": make_institution(),
        "inspectorate": rating_scale.inspectorate,
        "scale": rating_scale,
        "inspected_on": D(2015, 1, 1),
    }
    values.update(fields)
    return Inspection(**values)


def new_evidence(**fields) -> Evidence:
    values = {"institution": make_institution(), "observed_on": D(2015, 3, 1)}
    values.update(fields)
    return Evidence(**values)


# Inspections and judgements -----------------------------------------------------------


def test_a_valid_inspection_passes():
    new_inspection(overall_grade=grade("ofsted-overall-2012", "Good")).full_clean()


def test_an_inspection_cannot_be_published_before_it_took_place():
    inspection = new_inspection(inspected_on=D(2015, 3, 10), published_on=D(2015, 3, 9))
    assert errors_of(inspection) == {
        "published_on": ["A report cannot be published before the inspection."]
    }


def test_an_overall_grade_must_come_from_the_inspections_scale():
    inspection = new_inspection(overall_grade=grade("ofsted-overall-2005", "Satisfactory"))
    assert errors_of(inspection) == {
        "overall_grade": [
            "“Satisfactory” is a grade of Ofsted overall effectiveness (2005), "
            "not of Ofsted overall effectiveness (2012)."
        ]
    }


def test_an_area_grade_cannot_be_the_overall_grade():
    inspection = new_inspection(
        "ofsted-report-card-2025",
        inspected_on=D(2025, 12, 1),
        overall_grade=grade("ofsted-report-card-2025", "Not met", area="safeguarding"),
    )
    assert errors_of(inspection) == {
        "overall_grade": ["“Not met” grades Safeguarding only; choose an overall grade."]
    }


def test_a_report_card_has_no_overall_grade():
    inspection = new_inspection(
        "ofsted-report-card-2025",
        inspected_on=D(2025, 12, 1),
        overall_grade=grade("ofsted-report-card-2025", "Strong standard"),
    )
    assert errors_of(inspection) == {
        "overall_grade": [
            "Ofsted report card (2025) has no overall grade: leave it empty and grade the areas."
        ]
    }


def test_the_scale_must_belong_to_the_inspectorate():
    inspection = new_inspection("cqc-2014", inspectorate=make_inspectorate("ofsted"))
    assert errors_of(inspection) == {
        "scale": ["CQC ratings (2014) is a scale of Care Quality Commission, not of Ofsted."]
    }


def test_the_scale_of_a_judged_inspection_cannot_change():
    inspection = make_inspection(
        make_institution(), overall=None, judgements={"quality-of-education": "Good"}
    )
    inspection.scale = scale("ofsted-overall-2005")
    assert errors_of(inspection) == {
        "scale": [
            "This inspection has judgements on its current scale: delete them and save "
            "before changing the scale."
        ]
    }


def test_the_scale_of_an_inspection_without_judgements_can_change():
    inspection = make_inspection(make_institution(), overall=None)
    inspection.scale = scale("ofsted-overall-2005")
    inspection.full_clean()


def judgement(area: str, label: str, *, area_scale: str = "", grade_scale: str = "") -> Judgement:
    inspection = make_inspection(
        make_institution(), "ofsted-report-card-2025", overall=None, on=D(2025, 12, 1)
    )
    area_obj = scale(area_scale or "ofsted-report-card-2025").areas.get(slug=area)
    grade_scale = scale(grade_scale or "ofsted-report-card-2025")
    grade_obj = grade_scale.grades.filter(label=label).first()
    return Judgement(inspection=inspection, scale=inspection.scale, area=area_obj, grade=grade_obj)


def test_a_valid_judgement_passes():
    judgement("achievement", "Strong standard").full_clean()


def test_a_judgement_area_must_come_from_the_inspections_scale():
    wrong = judgement("early-years", "Strong standard", area_scale="ofsted-overall-2012")
    assert errors_of(wrong) == {
        "area": [
            "Early years provision is an area of Ofsted overall effectiveness (2012), "
            "not of this inspection's scale."
        ]
    }


def test_a_judgement_grade_must_come_from_the_inspections_scale():
    wrong = judgement("achievement", "Good", grade_scale="ofsted-overall-2012")
    assert errors_of(wrong) == {
        "grade": [
            "“Good” is a grade of Ofsted overall effectiveness (2012), "
            "not of this inspection's scale."
        ]
    }


def test_a_grade_kept_for_one_area_cannot_grade_another():
    assert errors_of(judgement("achievement", "Not met")) == {
        "grade": ["“Not met” is a grade for Safeguarding only."]
    }


def test_an_area_with_its_own_grades_takes_only_those():
    assert errors_of(judgement("safeguarding", "Strong standard")) == {
        "grade": ["Safeguarding is graded Met, Not met."]
    }


def test_a_judgement_is_checked_against_an_inspection_not_saved_yet():
    # As in the admin's inline on the "add inspection" page.
    report_card = scale("ofsted-report-card-2025")
    inspection = new_inspection("ofsted-report-card-2025", inspected_on=D(2025, 12, 1))
    wrong = Judgement(
        inspection=inspection,
        area=report_card.areas.get(slug="achievement"),
        grade=grade("ofsted-overall-2012", "Good"),
    )
    with pytest.raises(ValidationError) as caught:
        wrong.clean()
    assert list(caught.value.message_dict) == ["grade"]


# Scales, lineage and assignments ------------------------------------------------------------


def test_a_scale_cannot_end_before_it_starts():
    cqc = scale("cqc-2014")
    cqc.effective_to = D(2014, 9, 30)
    assert errors_of(cqc) == {"effective_to": ["A scale cannot stop being used before it starts."]}


def test_a_grade_cannot_be_kept_for_an_area_of_another_scale():
    good = grade("cqc-2014", "Good")
    good.area = scale("ofsted-report-card-2025").areas.get(slug="safeguarding")
    assert errors_of(good) == {"area": ["Safeguarding is an area of Ofsted report card (2025)."]}


def test_an_institution_cannot_be_linked_to_itself():
    school = make_institution()
    link = LineageLink(predecessor=school, successor=school, kind="rename", linked_on=D(2012, 1, 1))
    assert errors_of(link) == {
        "predecessor": ["An institution cannot be its own predecessor."],
        "successor": ["An institution cannot be its own successor."],
    }


def test_a_lead_assignment_cannot_end_before_it_starts():
    assignment = LeadAssignment(
        institution=make_institution(),
        lead=make_user(),
        starts_on=D(2015, 1, 1),
        ends_on=D(2014, 12, 31),
    )
    assert errors_of(assignment) == {"ends_on": ["An assignment cannot end before it starts."]}


# Interventions and milestones -------------------------------------------------------------


def new_intervention(**fields) -> Intervention:
    values = {
        "institution": make_institution(),
        "type": InterventionType.objects.get(slug="special-measures"),
        "started_on": D(2015, 1, 1),
    }
    values.update(fields)
    return Intervention(**values)


def test_an_intervention_cannot_end_before_it_starts():
    intervention = new_intervention(ended_on=D(2014, 12, 31), outcome="succeeded")
    assert errors_of(intervention) == {"ended_on": ["An intervention cannot end before it starts."]}


def test_an_ended_intervention_needs_an_outcome():
    intervention = new_intervention(ended_on=D(2016, 1, 1), outcome="ongoing")
    assert errors_of(intervention) == {
        "outcome": [
            "An intervention that has ended needs its outcome: succeeded, escalated, "
            "withdrawn or superseded."
        ]
    }


def test_an_intervention_with_an_outcome_needs_its_end():
    intervention = new_intervention(outcome="escalated")
    assert errors_of(intervention) == {
        "ended_on": [
            "Give the date it ended, or set the outcome back to ongoing (it is escalated)."
        ]
    }


def test_a_met_milestone_needs_its_achieved_date():
    milestone = Milestone(
        intervention=make_intervention(make_institution()),
        title="New head in post",
        due_on=D(2015, 6, 1),
        status="met",
    )
    assert errors_of(milestone) == {"achieved_on": ["Give the date the milestone was met."]}


def test_only_a_met_milestone_has_an_achieved_date():
    milestone = Milestone(
        intervention=make_intervention(make_institution()),
        title="New head in post",
        due_on=D(2015, 6, 1),
        status="missed",
        achieved_on=D(2015, 7, 1),
    )
    assert errors_of(milestone) == {
        "achieved_on": [
            "Only a met milestone has an achieved date: clear the date or set the status to met."
        ]
    }


# Evidence ---------------------------------------------------------------------------------


def test_valid_evidence_passes():
    new_evidence(indicator=make_indicator(), value=12.5).full_clean()
    new_evidence(direction="negative", summary="Attendance fell").full_clean()


def test_an_indicator_needs_a_value():
    assert errors_of(new_evidence(indicator=make_indicator())) == {
        "value": ["Give the value measured for this indicator."]
    }


def test_a_value_needs_its_indicator():
    assert errors_of(new_evidence(value=12.5)) == {
        "indicator": ["Choose the indicator this value measures."]
    }


def test_an_indicator_value_has_no_direction():
    evidence = new_evidence(indicator=make_indicator(), value=3.0, direction="positive")
    assert errors_of(evidence) == {
        "direction": [
            "An indicator value has no direction: log the observation as separate evidence."
        ]
    }


def test_evidence_needs_a_value_or_a_direction():
    assert errors_of(new_evidence(summary="Something happened")) == {
        "direction": [
            "Give either an indicator and its value, or the direction of this observation."
        ]
    }


def test_evidence_intervention_must_be_at_the_same_institution():
    elsewhere = make_intervention(make_institution(name="Elsewhere School"))
    evidence = new_evidence(
        institution=make_institution(name="Here School"),
        direction="positive",
        intervention=elsewhere,
    )
    assert errors_of(evidence) == {
        "intervention": ["That intervention is at Elsewhere School, not at Here School."]
    }


def test_evidence_milestone_needs_its_intervention():
    school = make_institution()
    milestone = make_milestone(make_intervention(school), title="Governors replaced")
    evidence = new_evidence(institution=school, direction="positive", milestone=milestone)
    assert errors_of(evidence) == {
        "milestone": ["Choose the intervention this milestone belongs to as well."]
    }


def test_evidence_milestone_must_belong_to_its_intervention():
    school = make_institution()
    first = make_intervention(school)
    second = make_intervention(school, started_on=D(2017, 1, 1))
    milestone = make_milestone(second, title="Governors replaced")
    evidence = new_evidence(
        institution=school, direction="positive", intervention=first, milestone=milestone
    )
    errors = errors_of(evidence)
    assert list(errors) == ["milestone"]
    assert errors["milestone"][0].startswith(
        "“Governors replaced” is a milestone of another intervention (Special measures at"
    )


def test_clean_errors_leave_no_generic_constraint_message():
    errors = errors_of(new_evidence(value=12.5, direction="positive"))
    assert NON_FIELD_ERRORS not in errors


# The same rules in the admin: a field error, never a 500 ---------------------------------------


def test_the_admin_shows_a_wrong_scale_overall_grade_as_a_field_error(admin_client):
    cqc = scale("cqc-2014")
    response = admin_client.post(
        reverse("admin:institutions_inspection_add"),
        {
            "institution": make_institution().pk,
            "inspectorate": cqc.inspectorate_id,
            "scale": cqc.pk,
            "inspected_on": "2016-05-01",
            "overall_grade": grade("ofsted-overall-2012", "Good").pk,
            "judgements-TOTAL_FORMS": 0,
            "judgements-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["overall_grade"] == [
        "“Good” is a grade of Ofsted overall effectiveness (2012), not of CQC ratings (2014)."
    ]
    assert not Inspection.objects.exists()


def test_the_admin_shows_a_wrong_scale_judgement_as_a_field_error(admin_client):
    report_card = scale("ofsted-report-card-2025")
    response = admin_client.post(
        reverse("admin:institutions_inspection_add"),
        {
            "institution": make_institution().pk,
            "inspectorate": report_card.inspectorate_id,
            "scale": report_card.pk,
            "inspected_on": "2025-12-01",
            "judgements-TOTAL_FORMS": 1,
            "judgements-INITIAL_FORMS": 0,
            "judgements-0-area": report_card.areas.get(slug="achievement").pk,
            "judgements-0-grade": grade("ofsted-overall-2012", "Good").pk,
        },
    )
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].errors["grade"] == [
        "“Good” is a grade of Ofsted overall effectiveness (2012), not of this inspection's scale."
    ]
    assert not Inspection.objects.exists()


def test_the_admin_saves_a_report_card_with_its_judgements(admin_client):
    report_card = scale("ofsted-report-card-2025")
    response = admin_client.post(
        reverse("admin:institutions_inspection_add"),
        {
            "institution": make_institution().pk,
            "inspectorate": report_card.inspectorate_id,
            "scale": report_card.pk,
            "inspected_on": "2025-12-01",
            "judgements-TOTAL_FORMS": 2,
            "judgements-INITIAL_FORMS": 0,
            "judgements-0-area": report_card.areas.get(slug="achievement").pk,
            "judgements-0-grade": grade("ofsted-report-card-2025", "Strong standard").pk,
            "judgements-1-area": report_card.areas.get(slug="safeguarding").pk,
            "judgements-1-grade": grade("ofsted-report-card-2025", "Met", "safeguarding").pk,
        },
    )
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert {j.scale_id for j in inspection.judgements.all()} == {report_card.pk}
    assert inspection.judgements.count() == 2


def test_the_admin_shows_evidence_with_a_value_and_a_direction_as_a_field_error(admin_client):
    response = admin_client.post(
        reverse("admin:interventions_evidence_add"),
        {
            "institution": make_institution().pk,
            "observed_on": "2015-03-01",
            "indicator": make_indicator().pk,
            "value": "3",
            "direction": "positive",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["direction"] == [
        "An indicator value has no direction: log the observation as separate evidence."
    ]
    assert not Evidence.objects.exists()


def institution_form_data(institution, **extra) -> dict:
    data = {
        "name": institution.name,
        "slug": institution.slug,
        "sector": institution.sector,
    }
    for prefix in ["identifiers", "links_as_successor", "links_as_predecessor", "lead_assignments"]:
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("prefix", "field", "message"),
    [
        ("links_as_successor", "predecessor", "An institution cannot be its own predecessor."),
        ("links_as_predecessor", "successor", "An institution cannot be its own successor."),
    ],
)
def test_the_admin_refuses_a_lineage_link_to_itself_in_either_inline(
    admin_client, prefix, field, message
):
    school = make_institution()
    data = institution_form_data(
        school,
        **{
            f"{prefix}-TOTAL_FORMS": 1,
            f"{prefix}-0-{field}": school.pk,
            f"{prefix}-0-kind": "rename",
            f"{prefix}-0-linked_on": "2012-09-01",
        },
    )

    response = admin_client.post(
        reverse("admin:institutions_institution_change", args=[school.pk]), data
    )

    assert response.status_code == 200
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    assert formsets[prefix].forms[0].errors[field] == [message]
    assert not LineageLink.objects.exists()
