import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from institutions.models import (
    EvaluationArea,
    Grade,
    Identifier,
    Inspection,
    Inspectorate,
    Institution,
    Judgement,
    LineageLink,
    RatingScale,
)
from interventions.bundle import import_bundle
from interventions.models import Evidence, Indicator, Intervention, Milestone
from tests.bundles import school_bundle
from tests.factories import (
    make_evidence,
    make_identifier,
    make_indicator,
    make_inspection,
    make_institution,
    make_intervention,
    make_link,
    make_milestone,
)

pytestmark = pytest.mark.django_db

# Each model's rows by natural keys (slugs, labels, dates), never database ids.
NATURAL_ROWS = {
    Inspectorate: ("slug", "name"),
    RatingScale: (
        "slug",
        "inspectorate__slug",
        "name",
        "effective_from",
        "effective_to",
        "has_overall_grade",
    ),
    EvaluationArea: ("scale__slug", "slug", "name", "position"),
    Grade: ("scale__slug", "area__slug", "label", "band", "position"),
    Indicator: ("slug", "name", "unit", "higher_is_better", "target"),
    Institution: (
        "slug",
        "name",
        "sector",
        "region",
        "local_authority",
        "phase",
        "establishment_type",
        "parent__slug",
    ),
    Identifier: ("institution__slug", "scheme", "value"),
    LineageLink: ("predecessor__slug", "successor__slug", "kind", "linked_on"),
    Inspection: (
        "institution__slug",
        "inspectorate__slug",
        "scale__slug",
        "inspected_on",
        "published_on",
        "report_url",
        "reference",
        "overall_grade__label",
        "category_of_concern",
    ),
    Judgement: (
        "inspection__institution__slug",
        "inspection__inspected_on",
        "area__slug",
        "grade__label",
    ),
    Intervention: (
        "institution__slug",
        "type__slug",
        "intensity",
        "started_on",
        "ended_on",
        "outcome",
        "objectives",
        "grace_months",
    ),
    Milestone: (
        "intervention__institution__slug",
        "intervention__type__slug",
        "title",
        "due_on",
        "status",
        "achieved_on",
        "notes",
    ),
    Evidence: (
        "institution__slug",
        "observed_on",
        "indicator__slug",
        "value",
        "direction",
        "summary",
        "intervention__type__slug",
        "milestone__title",
        "retracted_at",
        "retraction_reason",
    ),
}


def natural_rows() -> dict[str, list[tuple]]:
    return {
        model.__name__: sorted(model.objects.values_list(*fields), key=repr)
        for model, fields in NATURAL_ROWS.items()
    }


def export(**options) -> str:
    out = io.StringIO()
    call_command("export_bundle", stdout=out, **options)
    return out.getvalue()


def wipe_history() -> None:
    """Back to a database as migrations leave it (evidence is never deleted by the app;
    a queryset delete is how a test empties it)."""
    Evidence.objects.all().delete()
    Institution.objects.all().delete()
    RatingScale.objects.filter(slug="peel-2014").delete()
    Inspectorate.objects.filter(slug="hmicfrs").delete()
    Indicator.objects.all().delete()


def build_varied_history() -> None:
    """Every kind of row and optional field the bundle carries, made without import."""
    council = make_institution(slug="greenwich-council", name="Greenwich", sector="local_authority")
    school = make_institution(
        slug="eltham",
        name="Eltham Foundation School",
        region="London",
        parent=council,
        phase="Secondary",
    )
    make_identifier(school, "urn", "100180")
    make_identifier(school, "laestab", "2034001")
    academy = make_institution(slug="harris-greenwich", name="Harris Academy Greenwich")
    make_identifier(academy, "urn", "135999")
    make_link(school, academy, linked_on=datetime.date(2012, 9, 1))
    make_inspection(
        school,
        scale_slug="ofsted-overall-2005",
        overall="Inadequate",
        on=datetime.date(2010, 3, 10),
        published_on=datetime.date(2010, 4, 1),
        category_of_concern="special_measures",
        report_url="https://example.org/report/1",
        reference="INS-1",
    )
    make_inspection(
        academy,
        scale_slug="ofsted-report-card-2025",
        overall=None,
        on=datetime.date(2025, 12, 1),
        judgements={"achievement": "Strong standard", "safeguarding": "Met"},
    )
    measures = make_intervention(
        school,
        started_on=datetime.date(2010, 3, 10),
        ended_on=datetime.date(2012, 8, 31),
        outcome="superseded",
        grace_months=12,
        intensity="directed",
        objectives="Behaviour first",
    )
    head = make_milestone(
        measures,
        title="New headteacher",
        due_on=datetime.date(2010, 9, 1),
        status="met",
        achieved_on=datetime.date(2010, 8, 20),
        notes="Two co-heads",
    )
    make_milestone(measures, title="Behaviour policy", due_on=datetime.date(2011, 1, 1))
    exclusions = make_indicator(
        slug="exclusion-rate", name="Exclusions", higher_is_better=False, target=4.0
    )
    make_evidence(school, observed_on=datetime.date(2010, 6, 30), indicator=exclusions, value=12.5)
    make_evidence(
        school,
        observed_on=datetime.date(2010, 9, 30),
        direction="positive",
        summary="Calmer corridors",
        intervention=measures,
        milestone=head,
    )
    wrong = make_evidence(
        school, observed_on=datetime.date(2010, 7, 1), indicator=exclusions, value=99.0
    )
    wrong.retract(None, "Typed in the wrong column")

    hmicfrs = Inspectorate.objects.create(slug="hmicfrs", name="HMICFRS")
    peel = RatingScale.objects.create(inspectorate=hmicfrs, slug="peel-2014", name="PEEL")
    for position, (label, band) in enumerate(
        [
            ("Good", "at_standard"),
            ("Requires improvement", "below_standard"),
            ("Inadequate", "failing"),
        ],
        start=1,
    ):
        Grade.objects.create(scale=peel, label=label, band=band, position=position)
    force = make_institution(
        slug="northfield-police", name="Northfield Police (fictional)", sector="police_force"
    )
    make_inspection(
        force, scale_slug="peel-2014", overall="Requires improvement", on=datetime.date(2016, 3, 1)
    )


def test_export_then_import_into_an_empty_database_reproduces_the_same_rows():
    build_varied_history()
    before = natural_rows()
    bundle = export(as_of="2026-01-01")
    wipe_history()
    assert Institution.objects.count() == 0

    import_bundle(json.loads(bundle))

    assert natural_rows() == before
    assert export(as_of="2026-01-01") == bundle


def test_export_writes_the_bundle_format_with_each_institutions_trajectory():
    import_bundle(school_bundle())

    bundle = json.loads(export(as_of="2010-06-01"))

    assert bundle["format"] == "failwell.bundle/1"
    eltham = next(i for i in bundle["institutions"] if i["ref"] == "eltham")
    assert eltham["identifiers"] == {"urn": "100180"}
    assert eltham["inspections"][0]["overall"] == "Inadequate"
    trajectory = eltham["trajectory"]
    assert trajectory["status"] == "early_recovery"
    assert trajectory["as_of"] == "2010-06-01"
    assert trajectory["method_version"] >= 1
    assert all(set(reason) >= {"rule", "text"} for reason in trajectory["reasons"])


def test_as_of_evaluates_the_trajectory_at_that_date():
    import_bundle(school_bundle())

    early = json.loads(export(as_of="2010-06-01"))["institutions"][0]["trajectory"]
    later = json.loads(export(as_of="2012-06-01"))["institutions"][0]["trajectory"]

    assert (early["as_of"], later["as_of"]) == ("2010-06-01", "2012-06-01")
    assert early["status"] == "early_recovery"
    assert later["status"] != "early_recovery"


def test_output_is_sorted_and_the_same_every_time():
    bundle = school_bundle()
    bundle["institutions"].reverse()
    bundle["institutions"][1]["evidence"].reverse()
    import_bundle(bundle)

    first, second = export(as_of="2020-01-01"), export(as_of="2020-01-01")

    assert first == second
    institutions = json.loads(first)["institutions"]
    assert [i["ref"] for i in institutions] == ["eltham", "harris-greenwich"]
    assert [e["observed_on"] for e in institutions[0]["evidence"]] == ["2010-06-30", "2011-01-15"]


def test_exporting_one_institution_brings_its_lineage_and_only_what_it_uses():
    import_bundle(school_bundle())
    make_institution(slug="unrelated")

    bundle = json.loads(export(as_of="2020-01-01", institution=["harris-greenwich"]))

    assert [i["ref"] for i in bundle["institutions"]] == ["eltham", "harris-greenwich"]
    assert {s["slug"] for s in bundle["rating_scales"]} == {
        "ofsted-overall-2005",
        "ofsted-overall-2012",
    }
    assert [i["slug"] for i in bundle["inspectorates"]] == ["ofsted"]


def test_out_writes_the_bundle_to_a_file(tmp_path):
    import_bundle(school_bundle())
    path = tmp_path / "out.json"

    call_command("export_bundle", out=str(path), as_of="2020-01-01", stderr=io.StringIO())

    assert len(json.loads(path.read_text())["institutions"]) == 2


def test_an_unknown_institution_slug_is_refused():
    with pytest.raises(CommandError, match="No institution with slug: nowhere"):
        export(institution=["nowhere"])


def test_a_bad_as_of_date_is_refused():
    with pytest.raises(CommandError, match='--as-of "01/06/2010" is not a date'):
        export(as_of="01/06/2010")
