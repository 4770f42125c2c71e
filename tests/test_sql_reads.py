"""failwell/sql_reads.py: a row read with SQL written once is the same model instance
the ORM would give, its fields converted as the ORM converts them."""

import datetime

import pytest

from failwell import sql_reads
from interventions.models import TrajectoryAssessment
from tests.factories import make_assessment, make_institution

pytestmark = pytest.mark.django_db

REASONS = [{"rule": "grace", "text": "Inside the grace window"}, "A reason as plain text"]


def latest(institution_id: int) -> TrajectoryAssessment | None:
    return sql_reads.first(
        TrajectoryAssessment, "WHERE institution_id = %s ORDER BY id DESC LIMIT 1", [institution_id]
    )


def test_a_row_is_the_instance_the_orm_reads():
    assessment = make_assessment(make_institution(), reasons=REASONS)

    found = latest(assessment.institution_id)

    orm = TrajectoryAssessment.objects.get(pk=assessment.pk)
    assert [getattr(found, f.attname) for f in TrajectoryAssessment._meta.concrete_fields] == [
        getattr(orm, f.attname) for f in TrajectoryAssessment._meta.concrete_fields
    ]
    assert found.reasons == REASONS
    assert type(found.as_of) is datetime.date
    assert found.computed_at.tzinfo is not None


def test_a_row_read_is_saved_as_an_update_not_an_insert():
    assessment = make_assessment(make_institution(), method_version=1)

    found = latest(assessment.institution_id)
    found.method_version = 2
    found.save(update_fields=["method_version"])

    assert TrajectoryAssessment.objects.get().method_version == 2


def test_no_row_is_none():
    assert latest(make_institution().pk) is None
