"""Browser tests: Debian's Chromium driven by Playwright against the live test server."""

import os
import shutil

import pytest
from axe_playwright_python.sync_playwright import Axe

# Playwright's sync API keeps an event loop running in this thread for the whole session;
# the tests still use the ORM here to set up data and to run the task worker, which Django
# allows only when told. Tests that start processes of the hub leave this variable out.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server, serving static files as a deployment does: the collected,
    hashed files in STATIC_ROOT (its default handler looks only at the unhashed sources, so
    pages would lose their stylesheet and axe would check an unstyled page)."""
    from django.test.testcases import _StaticFilesHandler
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    server.thread.static_handler = _StaticFilesHandler
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is needed at {CHROMIUM}: run `make browser`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a fresh browser context (its own cookies), as a separate person."""
    contexts = []

    def make():
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


_axe = Axe()


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical problem on the page as it stands, styled."""
    page.wait_for_load_state("load")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui"), (
        "the stylesheet did not load")
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}:\n" + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(n["html"][:120] for n in v["nodes"][:3]) for v in bad)
