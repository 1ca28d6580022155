"""Both languages in Chromium: the switch on every page, no English sentence left on a
Chinese page (names, code, units and equations aside, and Streamlit's own words: its
hidden "skip to main content" link and the file uploader's "200MB per file"), the
Chinese font there to draw it, and a screenshot of every page in Chinese
(artifacts/zh/; the Design page's also in docs/ for the README, beside the English
one)."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers import artifact, english_sentences

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["design", "graph", "train", "inspect", "compare", "lessons"]
NAVIGATION = {"design": "设计", "train": "训练", "lessons": "课例"}

pytestmark = pytest.mark.e2e


def shown_text(page) -> str:
    """What the page shows: its text (code blocks aside: a link is not English) and the
    text drawn inside its figures."""
    return page.evaluate(
        """() => {
            const main = document.querySelector('[data-testid="stApp"]').cloneNode(true);
            const skipped = '[data-testid="stCode"], .hoverlayer, style, script, .katex, '
                + '[data-testid="stFileUploaderDropzoneInstructions"], a[href="#stMain"], '
                + '[data-testid="stSkipToContent"], code';
            main.querySelectorAll(skipped).forEach(e => e.remove());
            const figures = [...document.querySelectorAll('.js-plotly-plot .main-svg text')]
                .map(t => t.textContent);
            return main.innerText + '\\n' + figures.join('\\n');
        }"""
    )


def test_every_page_speaks_chinese_and_switches_back(page, app_url):
    for name in PAGES:
        path = "" if name == "design" else name  # the default page lives at the root
        page.goto(f"{app_url}/{path}?lang=zh")
        page.wait_for_app()
        page.wait_for_timeout(1500)  # figures drawn
        page.wait_for_app()
        assert page.locator('[data-testid="stException"]').count() == 0, name
        left = english_sentences(shown_text(page))
        assert not left, f"{name}: English left on the Chinese page: {left[:10]}"
        assert page.evaluate("() => document.fonts.check('16px \"Noto Sans CJK SC\"', '中文')")
        page.screenshot(path=str(artifact(f"zh/{name}.png")))
        if name == "design":  # for the README: once every widget and the stack have drawn
            page.locator('[data-testid="ls-card"]').first.wait_for(state="visible")
            page.locator('[data-testid="stSkeleton"]').first.wait_for(state="detached")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(artifact("design_zh.png")))  # the README's
        # the switch: English, and the link says so; then Chinese again
        page.get_by_text("English", exact=True).click()
        page.wait_for_app()
        page.wait_for_function("() => location.search.includes('lang=en')")
        # the navigation is redrawn by the rerun the click starts: wait for it, as a user does
        expect(page.get_by_test_id("stSidebarNav").get_by_text("Design")).to_have_count(1)
        page.get_by_text("中文", exact=True).click()
        page.wait_for_app()
        page.wait_for_function("() => location.search.includes('lang=zh')")
        for title in NAVIGATION.values():
            expect(page.get_by_test_id("stSidebarNav").get_by_text(title)).to_have_count(1)


def test_the_browser_s_language_picks_the_first_visit_s(browser, app_url):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{app_url}/lessons")
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        page.wait_for_function("() => location.search.includes('lang=zh')")
        expect(page.get_by_test_id("stSidebarNav").get_by_text("课例")).to_have_count(1)
    finally:
        context.close()
