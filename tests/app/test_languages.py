"""Every page in both languages through AppTest: the link's `lang=` picks it, the
switch changes it and writes it back to the link, and a Chinese page shows no English
sentence (names, code and units aside)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from designer.i18n import using
from tests.helpers import english_sentences, raw_markdown, visible_texts

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGES = ["design", "graph", "train", "inspect", "compare", "lessons"]


def opened(page: str, lang: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_a_chinese_page_shows_no_english_sentence(page):
    # AppTest formats a widget's options again in the test's own thread: it reads
    # Chinese too, as the page's own thread did
    with using("zh"):
        at = opened(page, "zh")
        left = [s for text in visible_texts(at) for s in english_sentences(text)]
    assert not left, f"English left on the Chinese {page} page: {left[:15]}"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_no_markdown_shows_literally(page, lang):
    with using(lang):
        at = opened(page, lang)
    assert not raw_markdown(at), raw_markdown(at)


@pytest.mark.parametrize("page", PAGES)
def test_an_english_page_is_in_english(page):
    at = opened(page, "en")
    assert at.query_params["lang"] == "en"
    assert not any("课" in text or "训练" in text for text in visible_texts(at))


def test_the_switch_changes_the_language_and_the_link():
    at = opened("design", None)
    assert at.session_state["language"] == "en"  # no link, no browser language: English
    at.segmented_control(key="language_switch").set_value("zh").run()
    assert at.query_params["lang"] == "zh"
    assert at.session_state["language"] == "zh"
    at.segmented_control(key="language_switch").set_value("en").run()
    assert at.query_params["lang"] == "en"


def test_a_link_s_language_wins_over_the_session_s():
    at = opened("lessons", "zh")
    at.query_params["lang"] = "en"
    at.run()
    assert at.session_state["language"] == "en"
    at.query_params["lang"] = "fr"  # not a language of the app: the session's stays
    at.run()
    assert at.session_state["language"] == "en" and at.query_params["lang"] == "en"
