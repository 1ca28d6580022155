"""A first visit's way in: the start panel on a session that arrived with nothing in
its link, its three doors, and none of it for a shared link; the lessons' path."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.design.welcome import shared_link
from designer import Experiment
from designer.lessons import LESSONS, runs_from_earlier
from tests.helpers import raw_markdown

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
GRU = Experiment.from_dict({"model": {"layers": [{"type": "gru", "hidden_size": 7}]}})


def first_visit(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def panel_shown(at: AppTest) -> bool:
    return any("builds deep recurrent networks" in m.value for m in at.markdown)


def test_a_first_visit_gets_the_start_and_designing_puts_it_away():
    at = first_visit()
    assert panel_shown(at) and not raw_markdown(at)
    assert at.query_params["x"]  # the editor below it works as before
    at.button(key="welcome_design").click().run()
    assert not panel_shown(at)
    at.run()  # and it stays away for the session
    assert not panel_shown(at)


def test_the_lessons_door_opens_lesson_1_in_the_link_s_language():
    at = first_visit(lang="zh")
    assert any("按顺序学习课例" in m.value for m in at.markdown)
    at.button(key="welcome_lessons").click().run()
    assert not at.exception, at.exception
    assert at.query_params["lesson"] == "why-gates" and at.query_params["lang"] == "zh"
    assert any("第 1 课" in t.value for t in at.title)


def test_a_shared_link_opens_straight_on_what_it_carries():
    for params in ({"x": GRU.to_url()}, {"lesson": "irnn"}):
        at = first_visit(**params)
        assert not panel_shown(at)


def test_a_pasted_link_opens_its_page_and_design():
    at = first_visit()
    link = f"https://class.example.org/course/graph?x={GRU.to_url()}&evil=1"
    at.text_input(key="welcome_link").input(link).run()
    assert not at.exception, at.exception
    assert at.session_state["experiment"] == GRU
    assert any(t.value == "Unrolled graph" for t in at.title)


def test_a_pasted_text_that_opens_nothing_says_so_and_quotes_none_of_it():
    at = first_visit()
    at.text_input(key="welcome_link").input("<b>hello</b> /etc/passwd").run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert "not a link of this app" in error.value and "passwd" not in error.value
    assert panel_shown(at)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://127.0.0.1:8501/?x=abc", ("app_pages/design.py", {"x": "abc"})),
        (
            "/lessons?lesson=irnn&lang=zh",
            ("app_pages/lessons.py", {"lesson": "irnn", "lang": "zh"}),
        ),
        (
            "localhost:8501/inspect?x=a&view=credit",
            ("app_pages/inspect.py", {"x": "a", "view": "credit"}),
        ),
        ("https://h/?view=credit", None),  # opens nothing
        ("https://h/?evil=1", None),
        ("", None),
        ("https://h/?x=" + "a" * 30_000, None),  # longer than any link of the app
    ],
)
def test_what_a_pasted_link_opens(text, expected):
    assert shared_link(text) == expected


def test_the_lessons_say_what_they_build_on_and_whose_runs_they_reuse():
    assert [n for n in LESSONS["vanishing-gradients"].needs] == [1]
    assert {k: v.number for k, v in runs_from_earlier(LESSONS["vanishing-gradients"]).items()} == {
        "A": 1,
        "B": 1,
    }
    at = first_visit()
    at.switch_page("app_pages/lessons.py").run()
    captions = " ".join(c.value for c in at.caption)
    assert "Start here." in captions and "Builds on lesson 1." in captions
    assert "Builds on lessons 1 and 2." in captions  # the IRNN lesson
    at.query_params["lesson"] = "vanishing-gradients"
    at.run()
    assert any("These runs come from lesson 1 (Why gates)" in c.value for c in at.caption)
