"""The Lessons page in Chinese through AppTest: the list, a lesson's prediction,
training a tiny lesson (as tests/app/test_lessons_page.py does), its verdict, each of
its steps, a result that did not appear, and classroom mode keeping `lang=zh`. A
Chinese page shows no English sentence (names, code and units aside)."""

import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.lesson_runs import shared_runs
from designer import lessons
from designer.i18n import _, using
from designer.lessons import bidirectional, char_rnn, feedforward_vs_recurrent, residual_depth
from designer.lessons.base import LessonRun, Verdict, loss_words
from tests.helpers import english_sentences, visible_texts, wait_for

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
LESSONS = "app_pages/lessons.py"

TINY_TASK = {"name": "adding", "seq_len": 8}
TINY_TRAIN = {"steps": 40, "batch_size": 16, "eval_every": 20, "clip_norm": 1.0}


def _trained_all(runs) -> Verdict:
    """The result the tiny lesson looks for: both runs trained all their steps."""
    return Verdict(
        all(r.state == "finished" and r.steps == TINY_TRAIN["steps"] for r in runs.values()),
        "; ".join(f"{label}: {loss_words(r)}" for label, r in runs.items()),
    )


# Lesson 6's texts, with tiny runs and steps drawn from lessons 6-9 (every view but the
# sample, which needs the character task): only texts this part translates.
TINY = replace(
    bidirectional.LESSON,
    name="tiny-zh",
    runs=(
        LessonRun(
            "A",
            bidirectional.ONE_WAY.title,
            {
                "task": TINY_TASK,
                "model": {"layers": [{"type": "gru", "hidden_size": 4}]},
                "train": TINY_TRAIN,
            },
        ),
        LessonRun(
            "B",
            bidirectional.BOTH_WAYS.title,
            {
                "task": TINY_TASK,
                "model": {"layers": [{"type": "gru", "hidden_size": 2, "bidirectional": True}]},
                "train": TINY_TRAIN,
            },
        ),
    ),
    check=_trained_all,
    steps=(
        *feedforward_vs_recurrent.LESSON.steps,  # graph, curves, table
        residual_depth.LESSON.steps[1],  # gradients
        replace(char_rnn.LESSON.steps[2], run="B"),  # states
    ),
)


@pytest.fixture(autouse=True)
def chinese_here():
    """The test's own thread reads Chinese too: AppTest formats widgets' values again
    in the test's thread (a format_func that translates when called, on any page the
    app opens first, would otherwise give English there and Chinese in the page)."""
    with using("zh"):
        yield


@pytest.fixture
def tiny(monkeypatch, request):
    """The tiny lesson, with runs of its own for each test (shared runs outlive a
    test: the server keeps them)."""
    seed = zlib.crc32(request.node.name.encode()) % 10_000 + 20_000
    lesson = replace(
        TINY,
        runs=tuple(
            replace(run, document={**run.document, "train": {**TINY_TRAIN, "seed": seed}})
            for run in TINY.runs
        ),
    )
    monkeypatch.setitem(lessons.LESSONS, lesson.name, lesson)
    yield lesson
    for run in lesson.runs:
        runner = shared_runs().get(run.experiment())
        if runner is not None:
            runner.stop(wait=5)


def open_lesson(name: str | None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    for key, value in {**({"lesson": name} if name else {}), **params}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(LESSONS).run()
    assert not at.exception, at.exception
    return at


def english_left(at: AppTest) -> list[str]:
    return [s for text in visible_texts(at) for s in english_sentences(text)]


def param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def zh(message: str) -> str:
    with using("zh"):
        return _(message)


def test_the_list_is_in_chinese():
    at = open_lesson(None)
    assert not english_left(at), english_left(at)
    text = " ".join(m.value for m in at.markdown)
    for lesson in lessons.LESSONS.values():
        assert zh(lesson.title) in text
    assert any(t.value == "课例" for t in at.title)


def test_opening_a_lesson_and_going_back_keep_the_language():
    at = open_lesson(None)
    next(b for b in at.button if b.key == "open_bidirectional").click().run()
    assert not at.exception, at.exception
    assert param(at, "lesson") == "bidirectional" and param(at, "lang") == "zh"
    assert any(zh(bidirectional.LESSON.title) in t.value for t in at.title)
    assert not english_left(at), english_left(at)
    next(b for b in at.button if b.key == "lesson_back").click().run()
    assert param(at, "lang") == "zh" and param(at, "lesson") is None
    assert any(t.value == "课例" for t in at.title)


def test_a_lesson_before_training_is_in_chinese(tiny):
    at = open_lesson(tiny.name)
    assert not english_left(at), english_left(at)
    assert any(t.value.startswith("第 6 课：") for t in at.title)
    assert any(zh(tiny.prediction.question) in m.value for m in at.markdown)
    train = next(b for b in at.button if b.key == "lesson_train")
    assert train.disabled and train.label == "两个都训练" and train.help == "请先作出预测。"
    # the share links open the lesson in Chinese
    links = [c.value for c in at.code]
    assert links and all("lang=zh" in link for link in links)


def test_predict_train_see_the_verdict_and_every_step_in_chinese(tiny, monkeypatch):
    at = open_lesson(tiny.name)
    at.radio(key=f"guess_{tiny.name}").set_value(1).run()
    next(b for b in at.button if b.key == "lesson_train").click().run()
    runners = [shared_runs().get(run.experiment()) for run in tiny.runs]
    assert all(r is not None for r in runners)
    assert not english_left(at), english_left(at)  # while training
    assert wait_for(lambda: all(not r.alive and r.state == "finished" for r in runners), 60)
    at.run()
    assert not at.exception, at.exception
    (verdict,) = at.success
    assert "A: 验证 MSE 为" in verdict.value and "B: 验证 MSE 为" in verdict.value
    assert any("你预测对了" in m.value for m in at.markdown)
    assert any(zh(tiny.prediction.why) in m.value for m in at.markdown)
    assert any(zh(tiny.try_next) in m.value for m in at.markdown)
    assert not english_left(at), english_left(at)
    for i, step in enumerate(tiny.steps):
        at.radio(key=f"step_{tiny.name}").set_value(f"{i + 1}. {zh(step.title)}").run()
        assert not at.exception, (step.view, at.exception)
        assert any(zh(step.text) in m.value for m in at.markdown), step.view
        assert not english_left(at), (step.view, english_left(at))
    assert param(at, "lang") == "zh"

    # the same runs, a check whose result did not appear: a Chinese warning, and the
    # classic result named in a whole Chinese sentence
    failing = replace(tiny, check=lambda runs: replace(_trained_all(runs), passed=False))
    monkeypatch.setitem(lessons.LESSONS, tiny.name, failing)
    at.run()
    (warning,) = at.warning
    assert warning.value.startswith("这一次没有出现本课要展示的结果。A: 验证 MSE 为")
    assert any("**经典结果是：双向 GRU；" in m.value for m in at.markdown)
    assert not english_left(at), english_left(at)


def test_a_second_session_without_a_prediction_is_told_in_chinese(tiny):
    first = open_lesson(tiny.name, guess="0")
    next(b for b in first.button if b.key == "lesson_train").click().run()
    runners = [shared_runs().get(run.experiment()) for run in tiny.runs]
    assert wait_for(lambda: all(not r.alive for r in runners), 60)
    second = open_lesson(tiny.name)
    assert any(i.value.startswith("这些运行已训练完毕") for i in second.info)
    assert not english_left(second), english_left(second)
    first.run()
    assert any("**结果并非如此：双向 GRU。**" in m.value for m in first.markdown)


def test_classroom_mode_keeps_the_language(tiny):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lesson"] = tiny.name
    at.query_params["classroom"] = "1"
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    assert param(at, "lang") == "zh" and param(at, "classroom") == "1"
    assert any(zh(tiny.title) in t.value for t in at.title)
    assert not english_left(at), english_left(at)
    at.radio(key=f"guess_{tiny.name}").set_value(0).run()
    assert param(at, "lang") == "zh" and param(at, "guess") == "0"
    assert not english_left(at), english_left(at)
