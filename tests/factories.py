"""Plain factory functions: each test states only the data it depends on."""

import datetime
import itertools

from django.contrib.auth import get_user_model

from institutions.models import (
    Grade,
    Identifier,
    ImportRun,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    LeadAssignment,
    LineageLink,
    RatingScale,
)
from interventions.models import (
    Evidence,
    Indicator,
    Intervention,
    InterventionType,
    Milestone,
    TrajectoryAssessment,
)

_counter = itertools.count(1)


def make_institution(**overrides) -> Institution:
    n = next(_counter)
    fields = {"name": f"Institution {n}", "slug": f"institution-{n}", "sector": "school"}
    fields.update(overrides)
    return Institution.objects.create(**fields)


def make_identifier(institution: Institution, scheme: str = "urn", value: str = "") -> Identifier:
    return Identifier.objects.create(
        institution=institution, scheme=scheme, value=value or str(100000 + next(_counter))
    )


def scale(slug: str) -> RatingScale:
    return RatingScale.objects.get(slug=slug)


def grade(scale_slug: str, label: str, area: str | None = None) -> Grade:
    rating_scale = scale(scale_slug)
    area_obj = rating_scale.areas.get(slug=area) if area else None
    return rating_scale.grade_for(label, area_obj)


def make_inspection(
    institution: Institution,
    scale_slug: str = "ofsted-overall-2012",
    overall: str | None = "Good",
    on: datetime.date = datetime.date(2015, 1, 1),
    judgements: dict[str, str] | None = None,
    **overrides,
) -> Inspection:
    rating_scale = scale(scale_slug)
    inspection = Inspection.objects.create(
        institution=institution,
        inspectorate=rating_scale.inspectorate,
        scale=rating_scale,
        inspected_on=on,
        overall_grade=rating_scale.grade_for(overall) if overall else None,
        **overrides,
    )
    for area_slug, label in (judgements or {}).items():
        area = rating_scale.areas.get(slug=area_slug)
        Judgement.objects.create(
            inspection=inspection, area=area, grade=rating_scale.grade_for(label, area)
        )
    return inspection


def make_intervention(
    institution: Institution,
    type_slug: str = "special-measures",
    started_on: datetime.date = datetime.date(2015, 1, 1),
    **overrides,
) -> Intervention:
    return Intervention.objects.create(
        institution=institution,
        type=InterventionType.objects.get(slug=type_slug),
        started_on=started_on,
        **overrides,
    )


def make_milestone(intervention: Intervention, **overrides) -> Milestone:
    fields = {"title": f"Milestone {next(_counter)}", "due_on": datetime.date(2015, 6, 1)}
    fields.update(overrides)
    return Milestone.objects.create(intervention=intervention, **fields)


def make_indicator(**overrides) -> Indicator:
    n = next(_counter)
    fields = {"slug": f"indicator-{n}", "name": f"Indicator {n}", "unit": "%"}
    fields.update(overrides)
    return Indicator.objects.create(**fields)


def make_evidence(institution: Institution, **overrides) -> Evidence:
    fields = {"observed_on": datetime.date(2015, 3, 1)}
    if "indicator" not in overrides and "direction" not in overrides:
        fields.update(direction="positive", summary="Observed improvement")
    fields.update(overrides)
    return Evidence.objects.create(institution=institution, **fields)


def make_link(predecessor: Institution, successor: Institution, **overrides) -> LineageLink:
    fields = {"kind": "academy_conversion", "linked_on": datetime.date(2012, 9, 1)}
    fields.update(overrides)
    return LineageLink.objects.create(predecessor=predecessor, successor=successor, **fields)


def make_inspectorate(slug: str = "ofsted") -> Inspectorate:
    return Inspectorate.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


def make_user(**overrides):
    n = next(_counter)
    fields = {"username": f"user{n}", "email": f"user{n}@example.org"}
    fields.update(overrides)
    return get_user_model().objects.create_user(**fields)


def make_lead_assignment(institution: Institution, lead=None, **overrides) -> LeadAssignment:
    fields = {"starts_on": datetime.date(2015, 1, 1)}
    fields.update(overrides)
    return LeadAssignment.objects.create(
        institution=institution, lead=lead or make_user(), **fields
    )


def make_assessment(institution: Institution, **overrides) -> TrajectoryAssessment:
    fields = {
        "as_of": datetime.date(2015, 6, 1),
        "status": "early_recovery",
        "reasons": [{"rule": "grace", "text": "Inside the grace window of special measures."}],
        "method_version": 1,
    }
    fields.update(overrides)
    return TrajectoryAssessment.objects.create(institution=institution, **fields)


def make_member(role: str, **overrides):
    """A user holding one of the roles in failwell/roles.py."""
    from django.contrib.auth.models import Group

    user = make_user(**overrides)
    user.groups.add(Group.objects.get(name=role))
    return user


def make_import_run(**overrides) -> ImportRun:
    """A finished import run; its file is only a name (tests that run the import
    save a real file, see tests/test_import_upload.py)."""
    fields = {
        "kind": "ofsted_mi",
        "file": f"imports/test-{next(_counter)}.csv",
        "filename": "inspections.csv",
        "status": "finished",
        "report": {"rows": 1, "created": 1, "updated": 0, "unchanged": 0, "rejected": []},
    }
    fields.update(overrides)
    if "uploaded_by" not in fields:
        fields["uploaded_by"] = make_user()
    return ImportRun.objects.create(**fields)
