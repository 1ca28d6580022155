"""Browser tests: `streamlit run` on a free loopback port, driven by Debian's Chromium
through Playwright. Nothing talks to any address but 127.0.0.1: Chromium's own
network features are switched off, and every page request to another host is
blocked and recorded (a test can assert that there were none)."""

from __future__ import annotations

import os

import pytest

from bench.served import CHROMIUM, CHROMIUM_ARGS, READY, served_app

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"the browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)",
        allow_module_level=True,
    )


@pytest.fixture(scope="session")
def app_url():
    """The app served by `streamlit run` on 127.0.0.1; stopped after the tests."""
    with served_app() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh tab (1400x1000, a projector-sized window), see `open_page`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield open_page(context)
    context.close()


@pytest.fixture
def new_tab(browser):
    """Open tabs each in a browser of its own (its own cookies): `new_tab()`, or
    `new_tab(cookies=[...])` to set cookies before the first page load; all closed
    after the test."""
    contexts = []

    def make(cookies: list[dict] | None = None):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        if cookies:
            context.add_cookies(cookies)
        return open_page(context)

    yield make
    for context in contexts:
        context.close()


def open_page(context):
    """A new tab in `context`. Requests to any host but 127.0.0.1 are aborted and
    listed in `page.external_requests`; `page.wait_for_app()` waits for the current
    script run to finish."""
    page = context.new_page()
    page.external_requests = []
    page.wait_for_app = lambda timeout=60_000: wait_for_app(page, timeout)

    def guard(route):
        target = route.request.url
        if target.startswith(("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")):
            route.continue_()
        else:
            page.external_requests.append(target)
            route.abort()

    page.route("**/*", guard)
    page.set_default_timeout(30_000)
    return page


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector(READY, timeout=timeout)
