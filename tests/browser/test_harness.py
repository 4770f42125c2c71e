"""The browser harness itself: axe must be able to fail a page."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_axe_reports_serious_and_critical_violations(page, axe):
    page.goto("/accounts/login/")
    # An unlabelled text box and an empty button: both critical in axe.
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML(
            "beforeend", '<input type="text" id="unlabelled"><button id="empty"></button>')"""
    )
    violations = axe()
    assert any(line.startswith("label (critical)") and "#unlabelled" in line for line in violations)
    assert any(
        line.startswith("button-name (critical)") and "#empty" in line for line in violations
    )
