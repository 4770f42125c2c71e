"""Browser test harness: Playwright driving the system Chromium against live_server.

Every test here is marked

    pytestmark = [
        pytest.mark.browser,
        pytest.mark.django_db(transaction=True, serialized_rollback=True),
    ]

transaction=True because the live server runs in another thread and must see
committed rows; serialized_rollback=True because such a test empties every table
when it ends, and the reference data the migrations load (rating scales,
intervention types, groups) must come back for the tests after it. A test missing
either stops the run at collection with a message saying so.

Fixtures:

    page       a fresh Playwright page whose relative URLs go to the live server.
               The test fails if the page logs a JavaScript error or a static
               file is missing (a 4xx/5xx page itself is fine).
    sign_in    sign_in(user) signs that user in (session cookie, no form).
    axe        axe() runs axe-core on the current page and returns its serious
               and critical violations as readable lines: assert axe() == [].

Chromium comes from Debian (/usr/bin/chromium), never from Playwright's
downloader; axe-core is the copy `make assets` takes from the pinned npm package.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from tests.conftest import CHROMIUM

# Playwright's sync API keeps an event loop running in the test thread, and Django
# refuses ORM calls from a thread with a running loop unless told this is safe.
# It is here: the loop only drives the browser, and the ORM calls are the test's own.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_SOURCE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_IMPACTS = ("serious", "critical")
# WCAG 2.2 AA, the UK public-sector target, plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here not in Path(item.path).parents:
            continue
        db = item.get_closest_marker("django_db")
        if (
            item.get_closest_marker("browser") is None
            or db is None
            or not db.kwargs.get("transaction")
            or not db.kwargs.get("serialized_rollback")
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: browser tests need @pytest.mark.browser and "
                "@pytest.mark.django_db(transaction=True, serialized_rollback=True); "
                "see tests/browser/conftest.py."
            )


@pytest.fixture
def browser(transactional_db, live_server) -> Iterator:
    """A Chromium for one test, started after the test's database is set up.

    Not shared across tests: while Playwright's sync API is running, its event
    loop runs in this thread, and Django then keeps a *separate* set of database
    connections for the thread. Tests after a browser test would get those, which
    lack the saved copy of the reference data that serialized_rollback restores
    from, and would find the tables empty. So Playwright runs only during the test,
    and the connections opened under it are closed before it stops.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            connections.close_all()
            browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message) -> None:
        # GOV.UK Frontend reports a component that failed to start with console.log.
        failed_load = message.text.startswith("Failed to load resource")  # seen as a response
        if (message.type == "error" and not failed_load) or "Error: " in message.text:
            problems.append(f"console {message.type}: {message.text}")

    def on_response(response) -> None:
        # A page may be a 404 or 403 on purpose; what it loads may not be missing.
        # Chromium asks for /favicon.ico on pages that name no icon (the admin's).
        if (
            response.status >= 400
            and response.request.resource_type != "document"
            and not response.url.endswith("/favicon.ico")
        ):
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    yield page
    context.close()
    if problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def sign_in(page, live_server) -> Callable:
    """Sign a user in by giving the browser a session made by Django's test client.

    Quicker than the sign-in form, which tests/browser/test_sign_in.py covers.
    """

    def sign_in_as(user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in_as


@pytest.fixture
def axe(page) -> Callable[[], list[str]]:
    def run() -> list[str]:
        # evaluate() goes through the DevTools protocol, so it works under a
        # Content-Security-Policy that would block an injected <script>.
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(AXE_SOURCE.read_text(encoding="utf-8") + "\n;undefined")
        results = page.evaluate(
            """async (tags) => await window.axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            })""",
            AXE_TAGS,
        )
        return [
            f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
            for violation in results["violations"]
            if violation["impact"] in AXE_IMPACTS
        ]

    return run
