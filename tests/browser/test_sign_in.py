"""Signing in, in a real browser: it works, fails clearly, is accessible and keyboard-only."""

import re

import pytest
from django.contrib import admin

from tests.factories import make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a long and unguessable pass phrase"


def words(text: str) -> str:
    """Text as a screen reader reads it, visually hidden parts included."""
    return " ".join(text.split())


def make_staff_user():
    return make_user(
        username="jane", password=PASSWORD, first_name="Jane", last_name="Okoro", is_staff=True
    )


def test_signing_in_lands_on_the_next_page(page, live_server):
    make_staff_user()
    page.goto("/accounts/login/?next=/admin/")
    page.get_by_label("Username").fill("jane")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    # The admin index, not the admin's own sign-in page, so the session is real.
    assert page.title().startswith(admin.site.index_title)


def test_wrong_password_shows_the_error_summary_with_focus_on_it(page, axe):
    make_staff_user()
    page.goto("/accounts/login/?next=/admin/")
    page.get_by_label("Username").fill("jane")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert page.title() == "Error: Sign in - failwell"
    assert "Enter the username and password of a failwell account" in summary.inner_text()
    page.wait_for_function("document.activeElement.classList.contains('govuk-error-summary')")
    assert axe() == []

    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "id_username"


def test_the_sign_in_page_has_no_serious_accessibility_violations(page, axe):
    page.goto("/accounts/login/")
    assert page.title() == "Sign in - failwell"
    assert axe() == []


def test_empty_fields_are_flagged_next_to_each_field_accessibly(page, axe):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".govuk-error-summary").wait_for()
    assert [words(text) for text in page.locator(".govuk-error-message").all_text_contents()] == [
        "Error: Enter your username",
        "Error: Enter your password",
    ]
    assert axe() == []


def test_keyboard_only_skip_link_first_then_fields_then_enter_signs_in(page, live_server):
    make_staff_user()
    page.goto("/accounts/login/?next=/admin/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "failwell"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type("jane")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_the_skip_link_moves_focus_to_the_main_content(page):
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_username"


def test_signed_in_pages_show_who_and_sign_out_works(page, sign_in, live_server, axe):
    sign_in(make_staff_user())
    page.goto("/page-that-does-not-exist/")
    navigation = page.get_by_role("region", name="Service information")
    assert words(navigation.locator(".failwell-account__name").text_content()) == (
        "Signed in as Jane Okoro"
    )
    assert axe() == []

    navigation.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))
    assert page.get_by_role("alert").inner_text().endswith("You have signed out.")
    assert page.get_by_role("region", name="Service information").count() == 0
