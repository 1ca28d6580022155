"""Browser tests: `streamlit run` on a free loopback port, driven by Debian's Chromium
through Playwright. Nothing talks to any address but 127.0.0.1: Chromium's own
network features are switched off, and every page request to another host is
blocked and recorded (a test can assert that there were none)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"the browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    """The app served by `streamlit run` on 127.0.0.1; stopped after the tests."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.headless=true", f"--server.port={port}",
            "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None:
                raise RuntimeError(f"streamlit exited: {server.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy within 60 s")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh tab (1400x1000, a projector-sized window). Requests to any host but
    127.0.0.1 are aborted and listed in `page.external_requests`;
    `page.wait_for_app()` waits for the current script run to finish."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
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
    yield page
    context.close()


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector(READY, timeout=timeout)
