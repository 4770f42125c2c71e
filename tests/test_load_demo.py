import datetime
import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from failwell.roles import ADMINISTRATOR, OVERSIGHT_OFFICER, TURNAROUND_LEAD
from institutions.models import Institution, LeadAssignment, LineageLink
from interventions.history import load_histories
from interventions.models import Evidence, Intervention
from interventions.services import thresholds
from interventions.trajectory import STATUSES, assess
from tests.rows import all_rows

pytestmark = pytest.mark.django_db

REAL_CASES = {
    "eltham-foundation-school",
    "harris-academy-greenwich",
    "doncaster-council",
    "rotherham-council",
    "west-sussex-childrens-services",
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The demo users' password is checked and hashed on every load; MD5 keeps it quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def load_demo(**options) -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_loading_the_demo_twice_gives_exactly_the_same_rows(debug):
    load_demo()
    before = all_rows()

    output = load_demo()

    assert all_rows() == before
    assert "0 institutions queued for recompute." in output


def test_the_demo_users_are_created_in_their_groups(debug):
    output = load_demo()

    groups = {
        user.username: [g.name for g in user.groups.all()]
        for user in User.objects.filter(username__in=["officer", "lead", "admin"])
    }
    assert groups == {
        "officer": [OVERSIGHT_OFFICER],
        "lead": [TURNAROUND_LEAD],
        "admin": [ADMINISTRATOR],
    }
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not User.objects.get(username="officer").is_staff
    assert User.objects.get(username="lead").check_password("failwell-demo")
    assert "password 'failwell-demo'" in output


def test_the_demo_lead_leads_eltham_harris_and_west_sussex(debug):
    load_demo()
    lead = User.objects.get(username="lead")

    assigned = set(
        LeadAssignment.objects.filter(lead=lead).values_list("institution__slug", flat=True)
    )
    assert assigned == {
        "eltham-foundation-school",
        "harris-academy-greenwich",
        "west-sussex-childrens-services",
    }
    led = Intervention.objects.filter(institution__slug__in=assigned)
    assert led.exists()
    assert set(led.values_list("lead__username", flat=True)) == {"lead"}
    assert not Intervention.objects.filter(institution__slug="doncaster-council", lead=lead)


def test_load_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="runs only with DEBUG on"):
        load_demo()

    assert Institution.objects.count() == 0
    assert not User.objects.exists()


def test_force_loads_the_demo_with_debug_off(settings):
    settings.DEBUG = False

    load_demo(force=True)

    assert Institution.objects.filter(slug__in=REAL_CASES).count() == len(REAL_CASES)


def test_eltham_became_harris_academy_greenwich_by_academy_conversion(debug):
    load_demo()

    link = LineageLink.objects.get(predecessor__slug="eltham-foundation-school")
    assert link.successor.name == "Harris Academy Greenwich"
    assert link.kind == "academy_conversion"
    inspection = Institution.objects.get(slug="eltham-foundation-school").inspections.get()
    assert inspection.inspected_on.year == 2010
    assert inspection.category_of_concern == "special_measures"


def test_eltham_exclusions_go_through_the_roof_then_fall(debug):
    load_demo()
    special_measures = datetime.date(2010, 3, 10)
    rates = [
        (e.observed_on, e.value)
        for e in Evidence.objects.filter(indicator__slug="exclusion-rate").order_by("observed_on")
    ]
    before = [value for day, value in rates if day < special_measures]
    first_year = [
        value
        for day, value in rates
        if special_measures <= day < special_measures + datetime.timedelta(days=500)
    ]
    later = [value for day, value in rates if day >= datetime.date(2013, 1, 1)]

    assert max(first_year) > 1.5 * max(before)
    assert max(later) < min(before)


def test_doncaster_and_rotherham_show_hands_off_and_hands_on_commissioners(debug):
    load_demo()

    doncaster = Intervention.objects.get(institution__slug="doncaster-council")
    assert doncaster.type.slug == "commissioners-monitoring"
    assert doncaster.intensity == "monitoring"
    assert doncaster.outcome == "withdrawn"
    assert (doncaster.ended_on.year, doncaster.ended_on.month) == (2014, 7)
    finding = Institution.objects.get(slug="doncaster-council").inspections.get()
    assert (finding.scale.slug, finding.overall_grade.label) == ("governance-finding", "Failing")
    assert finding.inspectorate.slug == "audit-commission"
    rotherham = Intervention.objects.get(institution__slug="rotherham-council")
    assert (rotherham.type.slug, rotherham.intensity) == ("commissioners-direct", "takeover")


def test_west_sussex_moves_from_adequate_to_requires_improvement_as_the_scale_changes(debug):
    load_demo()

    inspections = [
        (i.inspected_on.year, i.inspectorate.slug, i.scale.slug, i.overall_grade.label)
        for i in Institution.objects.get(slug="west-sussex-childrens-services")
        .inspections.select_related("inspectorate", "scale", "overall_grade")
        .order_by("inspected_on", "inspectorate__slug")
    ]
    assert inspections == [
        (2010, "cqc", "cqc-safeguarding-lac-2009", "Inadequate"),
        (2010, "ofsted", "ofsted-childrens-services-2009", "Inadequate"),
        (2013, "ofsted", "ofsted-childrens-services-2009", "Adequate"),
        (2013, "ofsted", "ofsted-childrens-services-2013", "Requires improvement to be good"),
    ]
    review = Intervention.objects.get(
        institution__slug="west-sussex-childrens-services"
    ).milestones.get(title="Review of progress")
    assert review.achieved_on.year == 2011


def test_invented_figures_and_dates_say_so_in_the_data(debug):
    load_demo()

    for institution in Institution.objects.filter(slug__in=REAL_CASES):
        objectives = " ".join(institution.interventions.values_list("objectives", flat=True))
        assert "illustrative" in objectives, institution.slug
    for evidence in Evidence.objects.filter(indicator__isnull=False):
        assert "Illustrative figure, not a published statistic." in evidence.summary
    for institution in Institution.objects.exclude(slug__in=REAL_CASES):
        assert institution.name.endswith("(fictional)"), institution.name


def test_the_demo_covers_every_status_and_sector(debug):
    load_demo()
    institutions = list(Institution.objects.all())
    histories = load_histories(i.pk for i in institutions)
    on = datetime.date(2026, 11, 26)

    statuses = {assess(histories[i.pk], on, thresholds()).status for i in institutions}

    assert statuses == set(STATUSES) - {"unknown"}
    assert {"nhs_trust", "police_force", "prison"} <= {i.sector for i in institutions}
