"""generate_fixture builds a seeded, repeatable synthetic dataset that keeps every
model rule, and refuses to mix itself into a database that already has data."""

import datetime
import hashlib
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from failwell.synthetic import Planner, Size
from failwell.synthetic.rules import AT, FAILING
from institutions.models import (
    BAND_RANKS,
    Identifier,
    Inspection,
    Institution,
    Judgement,
    LineageLink,
)
from interventions.models import Evidence, Indicator, Intervention, Milestone
from tests.factories import make_institution

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 11, 26)
SMALL = {"schools": 60, "councils": 3, "trusts": 3}


def generate(seed: int = 1, *extra: str) -> str:
    out = StringIO()
    call_command(
        "generate_fixture",
        f"--seed={seed}",
        *(f"--{name}={value}" for name, value in SMALL.items()),
        f"--end-date={END}",
        *extra,
        stdout=out,
        stderr=StringIO(),
    )
    return out.getvalue()


class Rollback(Exception):
    pass


def digest() -> str:
    """Everything generated, by natural keys (ids and creation times differ per run)."""
    rows = [
        Institution.objects.values_list(
            "slug",
            "name",
            "sector",
            "region",
            "local_authority",
            "phase",
            "establishment_type",
            "parent__slug",
        ),
        Identifier.objects.values_list("institution__slug", "scheme", "value"),
        LineageLink.objects.values_list(
            "predecessor__slug", "successor__slug", "kind", "linked_on"
        ),
        Inspection.objects.values_list(
            "institution__slug",
            "scale__slug",
            "inspected_on",
            "published_on",
            "reference",
            "overall_grade__label",
            "category_of_concern",
        ),
        Judgement.objects.values_list(
            "inspection__institution__slug",
            "inspection__reference",
            "area__slug",
            "grade__label",
        ),
        Intervention.objects.values_list(
            "institution__slug",
            "type__slug",
            "intensity",
            "started_on",
            "ended_on",
            "outcome",
            "grace_months",
        ),
        Milestone.objects.values_list(
            "intervention__institution__slug",
            "intervention__started_on",
            "title",
            "due_on",
            "status",
            "achieved_on",
        ),
        Evidence.objects.values_list(
            "institution__slug",
            "observed_on",
            "indicator__slug",
            "value",
            "direction",
            "summary",
            "intervention__started_on",
            "logged_at",
        ),
    ]
    text = repr([sorted(query, key=repr) for query in rows])
    return hashlib.sha256(text.encode()).hexdigest()


def digest_of_a_fresh_run(seed: int) -> str:
    """Generate into the empty database, take the digest, and roll it all back."""
    try:
        with transaction.atomic():
            generate(seed)
            result = digest()
            raise Rollback
    except Rollback:
        pass
    assert not Institution.objects.exists()
    return result


@pytest.fixture(scope="class")
def small_run(django_db_setup, django_db_blocker):
    """One small run, shared by the tests that only read it and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        generate()
        yield
        transaction.set_rollback(True)


@pytest.mark.usefixtures("small_run")
class TestASmallRun:
    def test_it_creates_every_sector_with_synthetic_identifiers(self):
        sectors = Counter(Institution.objects.values_list("sector", flat=True))
        assert sectors == {
            "school": 60,
            "local_authority": 3,
            "childrens_services": 3,
            "nhs_trust": 3,
        }
        assert not Institution.objects.exclude(name__endswith=" (synthetic)").exists()
        for children in Institution.objects.filter(sector="childrens_services"):
            assert children.parent.sector == "local_authority"
        urns = [
            int(value)
            for value in Identifier.objects.filter(scheme="urn").values_list("value", flat=True)
        ]
        assert len(urns) == 60 and min(urns) >= 900000
        assert Identifier.objects.filter(scheme="laestab").count() == 60
        assert set(
            Identifier.objects.filter(institution__sector="nhs_trust").values_list(
                "scheme", flat=True
            )
        ) == {"ods"}

    def test_inspections_use_the_scale_of_their_date_and_grade_from_it(self):
        inspections = list(Inspection.objects.with_grades().select_related("institution"))
        assert len(inspections) > 200
        for inspection in inspections:
            if inspection.overall_grade is not None:
                assert inspection.overall_grade.scale_id == inspection.scale_id
                assert inspection.overall_grade.area_id is None
            for judgement in inspection.judgements.all():
                assert judgement.grade.scale_id == judgement.area.scale_id == inspection.scale_id
                assert judgement.grade.area_id in (None, judgement.area_id)
            if inspection.institution.sector == "school":
                expected = (
                    "ofsted-report-card-2025"
                    if inspection.inspected_on >= datetime.date(2025, 11, 10)
                    else "ofsted-overall-2012"
                )
                assert inspection.scale.slug == expected
            if inspection.scale.slug == "ofsted-report-card-2025":
                assert inspection.overall_grade is None
                assert "safeguarding" in {j.area.slug for j in inspection.judgements.all()}
            assert inspection.headline_band is not None
        bands = Counter(inspection.headline_band for inspection in inspections)
        assert set(bands) == {"failing", "below_standard", "at_standard", "above_standard"}
        assert bands["at_standard"] > bands["failing"]

    def test_headline_bands_are_the_ones_planned(self):
        """The writer maps each planned band to a grade (or the judgements) that computes back
        to it: a category of concern, the overall grade, or the lowest judgement."""
        planner = Planner(1, Size(**SMALL), END, 10)
        expected = defaultdict(list)
        for plan in planner.plans():
            for inspection in plan.inspections:
                if inspection.category:
                    rank = FAILING
                elif inspection.overall is not None:
                    rank = inspection.overall
                else:
                    rank = min(rank for _, rank in inspection.judgements)
                if inspection.scale == "governance-finding":
                    rank = min(rank, AT)  # Sound is the best finding there is
                expected[(plan.slug, inspection.reference)].append(rank)
        computed = defaultdict(list)
        for inspection in Inspection.objects.with_grades().select_related("institution"):
            computed[(inspection.institution.slug, inspection.reference)].append(
                BAND_RANKS[inspection.headline_band]
            )
        assert {key: sorted(ranks) for key, ranks in computed.items()} == {
            key: sorted(ranks) for key, ranks in expected.items()
        }

    def test_interventions_have_milestones_and_keep_the_model_rules(self):
        interventions = list(Intervention.objects.prefetch_related("milestones"))
        assert interventions
        assert {i.outcome for i in interventions} >= {"ongoing", "succeeded"}
        for intervention in interventions:
            intervention.clean()
            assert (intervention.outcome == "ongoing") == (intervention.ended_on is None)
            assert len(intervention.milestones.all()) >= 3
            for milestone in intervention.milestones.all():
                milestone.clean()
                assert milestone.due_on > intervention.started_on
                if milestone.achieved_on:
                    assert milestone.achieved_on <= END
        assert Milestone.objects.filter(status="met").exists()
        assert Milestone.objects.filter(status="missed").exists()

    def test_evidence_is_indicator_values_and_observations_at_their_own_institution(self):
        values = Evidence.objects.filter(indicator__isnull=False)
        assert values.count() > 500
        assert not values.filter(value__isnull=True).exists()
        assert Evidence.objects.filter(indicator__isnull=True).exclude(direction="").exists()
        assert not Evidence.objects.filter(observed_on__gt=END).exists()
        linked = Evidence.objects.filter(intervention__isnull=False).select_related("intervention")
        assert linked.exists()
        for evidence in linked:
            assert evidence.intervention.institution_id == evidence.institution_id
        indicator = Indicator.objects.get(slug="attendance")
        assert (indicator.unit, indicator.higher_is_better) == ("%", True)
        assert Indicator.objects.get(slug="exclusion-rate").higher_is_better is False

    def test_an_academy_conversion_splits_the_history_across_a_new_urn(self):
        link = LineageLink.objects.select_related("predecessor", "successor").get()
        assert link.kind == "academy_conversion"
        old_urn = link.predecessor.identifiers.get(scheme="urn").value
        new_urn = link.successor.identifiers.get(scheme="urn").value
        assert old_urn != new_urn
        before = link.predecessor.inspections.values_list("inspected_on", flat=True)
        after = link.successor.inspections.values_list("inspected_on", flat=True)
        assert before and after
        assert max(before) < link.linked_on <= min(after)

    def test_every_generated_institution_is_flagged_for_recompute(self):
        assert not Institution.objects.filter(needs_recompute=False).exists()
        assert not Institution.objects.filter(marked_dirty_at__isnull=True).exists()


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    first = digest_of_a_fresh_run(seed=1)
    assert digest_of_a_fresh_run(seed=1) == first
    assert digest_of_a_fresh_run(seed=2) != first


def test_it_refuses_a_database_with_institutions_unless_appending():
    existing = make_institution(name="Real School")
    with pytest.raises(CommandError, match="--append"):
        generate()
    assert Institution.objects.count() == 1
    generate(1, "--append")
    assert Institution.objects.count() == 70
    assert Institution.objects.filter(pk=existing.pk, name="Real School").exists()


def test_it_never_generates_twice_into_the_same_database():
    generate()
    with pytest.raises(CommandError, match="already has synthetic"):
        generate(2, "--append")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--end-date=2999-01-01"], "in the future"),
        (["--end-date=26/11/2026"], "YYYY-MM-DD"),
        (["--years=1"], "between 3 and 30"),
        (["--councils=0"], "--councils 1 or more"),
        (["--schools=-1"], "cannot be negative"),
        (["--councils=500"], "At most 199 councils"),
    ],
)
def test_bad_arguments_get_a_clear_error(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "generate_fixture", "--schools=60", *arguments, stdout=StringIO(), stderr=StringIO()
        )
    assert not Institution.objects.exists()
