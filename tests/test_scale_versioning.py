"""A rating scale that inspections use is never edited in place: a change makes a new
version, so past ratings keep the meaning they were given."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from institutions.models import Grade, RatingScale
from tests.factories import make_inspection, make_institution, scale

pytestmark = pytest.mark.django_db

D = datetime.date


def change_url(rating_scale: RatingScale) -> str:
    return reverse("admin:institutions_ratingscale_change", args=[rating_scale.pk])


def new_version_url(rating_scale: RatingScale) -> str:
    return reverse("admin:institutions_ratingscale_new_version", args=[rating_scale.pk])


def grade_rows(rating_scale: RatingScale) -> list[tuple]:
    return [
        (g.area.slug if g.area else None, g.position, g.label, g.band)
        for g in rating_scale.grades.select_related("area").order_by("area__slug", "position")
    ]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def change_form_data(rating_scale: RatingScale) -> dict:
    """What the admin's change form posts back for the scale as it is stored."""
    data = {
        "inspectorate": rating_scale.inspectorate_id,
        "name": rating_scale.name,
        "slug": rating_scale.slug,
        "effective_from": rating_scale.effective_from or "",
        "effective_to": rating_scale.effective_to or "",
    }
    if rating_scale.has_overall_grade:
        data["has_overall_grade"] = "on"
    for prefix, rows, fields in [
        ("areas", list(rating_scale.areas.all()), ["position", "name", "slug"]),
        ("grades", list(rating_scale.grades.all()), ["position", "label", "band", "area"]),
    ]:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": len(rows),
                f"{prefix}-INITIAL_FORMS": len(rows),
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-scale"] = rating_scale.pk
            for field in fields:
                value = getattr(row, f"{field}_id" if field == "area" else field)
                data[f"{prefix}-{i}-{field}"] = "" if value is None else value
    return data


def with_edits(rating_scale: RatingScale) -> dict:
    """Rename the scale, relabel its best grade and add a grade, in one post."""
    data = change_form_data(rating_scale)
    data["name"] = "Renamed scale"
    data["grades-0-label"] = "Superb"
    n = data["grades-TOTAL_FORMS"]
    data.update(
        {
            "grades-TOTAL_FORMS": n + 1,
            f"grades-{n}-scale": rating_scale.pk,
            f"grades-{n}-position": 9,
            f"grades-{n}-label": "Dire",
            f"grades-{n}-band": "failing",
            f"grades-{n}-area": "",
        }
    )
    return data


# The model method -----------------------------------------------------------------


def test_a_new_version_copies_grades_areas_and_area_grades():
    report_card = scale("ofsted-report-card-2025")

    successor = report_card.new_version(D(2027, 9, 1))

    assert grade_rows(successor) == grade_rows(report_card)
    assert ("safeguarding", 2, "Not met", "failing") in grade_rows(successor)
    assert list(successor.areas.values_list("slug", "name", "position")) == list(
        report_card.areas.values_list("slug", "name", "position")
    )
    safeguarding = successor.areas.get(slug="safeguarding")
    assert set(safeguarding.own_grades.values_list("label", flat=True)) == {"Met", "Not met"}
    assert not Grade.objects.filter(scale=successor, area__scale=report_card).exists()
    assert successor.has_overall_grade is False


def test_a_new_version_closes_the_old_one_the_day_before_and_bumps_version_and_slug():
    cqc = scale("cqc-2014")

    successor = cqc.new_version(D(2024, 4, 1))

    cqc.refresh_from_db()
    assert cqc.effective_to == D(2024, 3, 31)
    assert successor.effective_from == D(2024, 4, 1)
    assert successor.effective_to is None
    assert (successor.version, successor.slug) == (2, "cqc-2014-v2")
    assert successor.previous_version == cqc
    assert successor.inspectorate == cqc.inspectorate
    assert successor.new_version(D(2026, 1, 1)).slug == "cqc-2014-v3"


# Editing in the admin ---------------------------------------------------------------


def test_the_admin_changes_nothing_when_a_scale_in_use_is_posted(admin_client):
    cqc = scale("cqc-2014")
    make_inspection(make_institution(), scale_slug="cqc-2014", overall="Good")
    before = grade_rows(cqc)

    admin_client.post(change_url(cqc), with_edits(cqc))

    cqc.refresh_from_db()
    assert cqc.name == "CQC ratings (2014)"
    assert grade_rows(cqc) == before


def test_the_admin_edits_a_scale_no_inspection_uses(admin_client):
    cqc = scale("cqc-2014")

    response = admin_client.post(change_url(cqc), with_edits(cqc))

    assert response.status_code == 302, response.context["errors"]
    cqc.refresh_from_db()
    assert cqc.name == "Renamed scale"
    labels = [label for _, _, label, _ in grade_rows(cqc)]
    assert "Superb" in labels
    assert "Dire" in labels
    assert "Outstanding" not in labels


def test_a_scale_in_use_shows_read_only_with_a_new_version_link(admin_client):
    cqc = scale("cqc-2014")
    make_inspection(make_institution(), scale_slug="cqc-2014", overall="Good")

    response = admin_client.get(change_url(cqc))

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 inspection uses this scale" in page
    assert new_version_url(cqc) in page
    assert 'name="name"' not in page
    assert 'name="grades-0-label"' not in page
    assert 'name="grades-TOTAL_FORMS"' in page  # shown, read-only
    assert reverse("admin:institutions_ratingscale_delete", args=[cqc.pk]) not in page
    assert 'name="_save"' not in page


def test_a_scale_not_in_use_has_editable_grades(admin_client):
    response = admin_client.get(change_url(scale("cqc-2014")))

    page = response.content.decode()
    assert 'name="grades-0-label"' in page
    assert 'name="grades-4-label"' in page  # a blank row to add a grade
    assert 'name="_save"' in page


def test_deleting_a_scale_in_use_explains_and_keeps_it(admin_client):
    cqc = scale("cqc-2014")
    make_inspection(make_institution(), scale_slug="cqc-2014", overall="Good")
    delete_url = reverse("admin:institutions_ratingscale_delete", args=[cqc.pk])

    response = admin_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 302
    assert response.url == change_url(cqc)
    assert "cannot be deleted: it is used by 1 inspection." in messages_of(response)[0]
    assert RatingScale.objects.filter(pk=cqc.pk).exists()


def test_bulk_deleting_a_scale_in_use_lists_what_protects_it(admin_client):
    cqc = scale("cqc-2014")
    make_inspection(make_institution(), scale_slug="cqc-2014", overall="Good")

    response = admin_client.post(
        reverse("admin:institutions_ratingscale_changelist"),
        {"action": "delete_selected", "_selected_action": [cqc.pk], "post": "yes"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in page
    assert "CQC ratings (2014): used by 1 inspection; create a new version instead" in page
    assert RatingScale.objects.filter(pk=cqc.pk).exists()


def test_a_scale_not_in_use_can_be_deleted(admin_client):
    draft = scale("cqc-2014").new_version(D(2030, 1, 1))

    response = admin_client.post(
        reverse("admin:institutions_ratingscale_delete", args=[draft.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not RatingScale.objects.filter(pk=draft.pk).exists()


# The "new version" flow --------------------------------------------------------------


def test_the_new_version_page_suggests_the_next_slug(admin_client):
    response = admin_client.get(new_version_url(scale("cqc-2014")))

    assert response.status_code == 200
    assert response.context["form"]["slug"].value() == "cqc-2014-v2"


def test_creating_a_new_version_in_the_admin_copies_and_opens_it(admin_client):
    cqc = scale("cqc-2014")
    make_inspection(make_institution(), scale_slug="cqc-2014", overall="Good")

    response = admin_client.post(
        new_version_url(cqc), {"effective_from": "2024-04-01", "slug": "cqc-2024"}
    )

    successor = RatingScale.objects.get(slug="cqc-2024")
    assert response.status_code == 302
    assert response.url == change_url(successor)
    assert "Created" in messages_of(response)[0]
    assert successor.previous_version == cqc
    assert successor.version == 2
    assert grade_rows(successor) == grade_rows(cqc)
    cqc.refresh_from_db()
    assert cqc.effective_to == D(2024, 3, 31)
    # The copy is not in use yet, so it can be changed before anyone rates with it.
    page = admin_client.get(change_url(successor)).content.decode()
    assert 'name="grades-0-label"' in page


def test_the_new_version_action_leads_to_the_new_version_page(admin_client):
    cqc = scale("cqc-2014")

    response = admin_client.post(
        reverse("admin:institutions_ratingscale_changelist"),
        {"action": "create_new_version", "_selected_action": [cqc.pk]},
    )

    assert response.status_code == 302
    assert response.url == new_version_url(cqc)


def test_the_new_version_action_wants_exactly_one_scale(admin_client):
    response = admin_client.post(
        reverse("admin:institutions_ratingscale_changelist"),
        {
            "action": "create_new_version",
            "_selected_action": [scale("cqc-2014").pk, scale("nhs-oversight-2016").pk],
        },
        follow=True,
    )

    assert "Choose exactly one scale" in response.content.decode()


@pytest.mark.parametrize("day", ["2014-09-30", "2014-10-01"])
def test_a_new_version_must_start_after_the_old_one(admin_client, day):
    cqc = scale("cqc-2014")
    assert cqc.effective_from == D(2014, 10, 1)

    response = admin_client.post(new_version_url(cqc), {"effective_from": day, "slug": "cqc-x"})

    assert response.status_code == 200
    assert response.context["form"].errors["effective_from"] == [
        "The new version must start after CQC ratings (2014) did (1 October 2014)."
    ]
    assert not RatingScale.objects.filter(slug="cqc-x").exists()
    cqc.refresh_from_db()
    assert cqc.effective_to is None


def test_a_new_version_needs_a_free_slug(admin_client):
    response = admin_client.post(
        new_version_url(scale("cqc-2014")),
        {"effective_from": "2024-04-01", "slug": "ofsted-overall-2012"},
    )

    assert response.context["form"].errors["slug"] == [
        "A scale with the slug “ofsted-overall-2012” already exists."
    ]


def test_a_scale_with_a_newer_version_sends_you_to_that_one(admin_client):
    cqc = scale("cqc-2014")
    successor = cqc.new_version(D(2024, 4, 1))

    response = admin_client.get(new_version_url(cqc))

    assert response.status_code == 302
    assert response.url == change_url(successor)
    assert "already has a newer version" in messages_of(response)[0]
