"""The Content-Security-Policy breaks nothing: failwell's pages and the admin, used in
a real browser, raise no violation.

Chromium fires `securitypolicyviolation` for everything the policy blocks (an inline
script or style, eval, a foreign source); a script added through DevTools, outside
the policy, collects them. The `page` fixture would also fail the test on the
console error each violation logs.
"""

import datetime

import pytest

from tests.factories import (
    make_evidence,
    make_inspection,
    make_institution,
    make_intervention,
    make_milestone,
    make_user,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

COLLECT_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
      ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def watched(page):
    page.add_init_script(COLLECT_VIOLATIONS)
    return page


def violations(page) -> list[str]:
    return page.evaluate("() => window.cspViolations")


@pytest.fixture
def superuser(db):
    return make_user(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def school(db):
    school = make_institution(name="Eltham Foundation School", slug="eltham")
    make_inspection(school, overall="Inadequate", on=datetime.date(2010, 3, 10))
    intervention = make_intervention(school, started_on=datetime.date(2010, 3, 10))
    make_milestone(intervention, title="New head teacher in post")
    make_evidence(school, summary="Attendance up")
    return school


def test_the_admin_works_under_the_policy(watched, sign_in, superuser, school):
    page = watched
    sign_in(superuser)

    for path in [
        "/admin/",
        "/admin/institutions/institution/",
        f"/admin/institutions/institution/{school.pk}/change/",
        f"/admin/institutions/institution/{school.pk}/history/",
        "/admin/institutions/inspection/",
        f"/admin/institutions/inspection/{school.inspections.get().pk}/change/",
        "/admin/interventions/evidence/?retracted=no",
        "/admin/institutions/ratingscale/",
        f"/admin/auth/user/{superuser.pk}/change/",
    ]:
        page.goto(path)
        assert violations(page) == [], path

    # The scripts that build the admin's widgets: the slug filled from the name,
    # an inline row added, the date picker opened, the autocomplete opened.
    page.goto("/admin/institutions/institution/add/")
    page.locator("#id_name").press_sequentially("Westmoor High School")
    page.locator("#id_sector").select_option("school")
    assert page.locator("#id_slug").input_value() == "westmoor-high-school"
    rows = page.locator("#identifiers-group tr.form-row").count()
    page.locator("#identifiers-group .add-row a").click()
    assert page.locator("#identifiers-group tr.form-row").count() == rows + 1
    page.locator(".select2-selection").first.click()
    page.keyboard.press("Escape")
    page.goto("/admin/institutions/inspection/add/")
    page.locator(".datetimeshortcuts a", has_text="Today").first.click()
    page.locator("#calendarlink0").click()
    assert page.locator("#calendarbox0").is_visible()
    assert violations(page) == []


def test_failwell_pages_work_under_the_policy(watched, sign_in, superuser, school):
    page = watched
    sign_in(superuser)

    for path in ["/", f"/institutions/{school.slug}/", f"/institutions/{school.slug}/history/"]:
        page.goto(path)
        assert violations(page) == [], path
