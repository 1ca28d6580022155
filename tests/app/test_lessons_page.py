"""The Lessons page through AppTest: the list, a lesson's prediction before training,
its runs shared by every session, the verdict with the numbers, the steps' views,
and classroom mode. A tiny lesson stands in for the shipped ones (those train for
half a minute; `tests/unit/test_lessons.py` checks them). In Chinese: the list, a
lesson's prediction, training a tiny lesson, its verdict, each of its steps, a result
that did not appear, and classroom mode keeping `lang=zh`, with no English sentence
shown (names, code and units aside)."""

import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.lessons.lesson_runs import shared_runs
from designer import lessons
from designer.i18n import _, using
from designer.lessons.base import Lesson, LessonRun, Step, Verdict, loss_words
from tests.helpers import english_left, open_lessons_page, query_param, wait_for

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
LESSONS = "app_pages/lessons.py"

TINY_TASK = {"name": "adding", "seq_len": 8}
TINY_TRAIN = {"steps": 40, "batch_size": 16, "eval_every": 20, "clip_norm": 1.0}


def _trained_all(runs) -> Verdict:
    """The result a tiny lesson looks for: both runs trained all their steps."""
    return Verdict(
        all(r.state == "finished" and r.steps == TINY_TRAIN["steps"] for r in runs.values()),
        "; ".join(f"{label}: {loss_words(r)}" for label, r in runs.items()),
    )


WHY_GATES, BIDIRECTIONAL = lessons.LESSONS["why-gates"], lessons.LESSONS["bidirectional"]
TINY = replace(
    WHY_GATES,
    name="tiny-gates",
    runs=(
        LessonRun(
            "A",
            "tanh RNN, 4 units",
            {
                "task": TINY_TASK,
                "model": {"layers": [{"type": "rnn", "hidden_size": 4}]},
                "train": TINY_TRAIN,
            },
        ),
        LessonRun(
            "B",
            "LSTM, 4 units",
            {
                "task": TINY_TASK,
                "model": {"layers": [{"type": "lstm", "hidden_size": 4}]},
                "train": TINY_TRAIN,
            },
        ),
    ),
    check=_trained_all,
    steps=(
        *WHY_GATES.steps,
        Step("The graph", "The unrolled graph.", "graph", run="A"),
        Step("The map", "The gradient map.", "gradient-map", run="A"),
    ),
)


# Lesson 6's texts, with tiny runs and steps drawn from lessons 6-9 (every view but the
# sample, which needs the character task): only texts this part translates.
TINY_ZH = replace(
    BIDIRECTIONAL,
    name="tiny-zh",
    runs=(
        LessonRun(
            "A",
            BIDIRECTIONAL.runs[0].title,
            {
                "task": TINY_TASK,
                "model": {"layers": [{"type": "gru", "hidden_size": 4}]},
                "train": TINY_TRAIN,
            },
        ),
        LessonRun(
            "B",
            BIDIRECTIONAL.runs[1].title,
            {
                "task": TINY_TASK,
                "model": {"layers": [{"type": "gru", "hidden_size": 2, "bidirectional": True}]},
                "train": TINY_TRAIN,
            },
        ),
    ),
    check=_trained_all,
    steps=(
        *lessons.LESSONS["feedforward-vs-recurrent"].steps,  # graph, curves, table
        lessons.LESSONS["residual-depth"].steps[1],  # gradients
        replace(lessons.LESSONS["char-rnn"].steps[2], run="B"),  # states
    ),
)


def with_own_runs(lesson: Lesson, monkeypatch, request, seeds_from: int) -> Iterator[Lesson]:
    """`lesson` with runs of its own for each test (shared runs outlive a test: the
    server keeps them), stopped when the test ends."""
    seed = zlib.crc32(request.node.name.encode()) % 10_000 + seeds_from
    lesson = replace(
        lesson,
        runs=tuple(
            replace(run, document={**run.document, "train": {**TINY_TRAIN, "seed": seed}})
            for run in lesson.runs
        ),
    )
    monkeypatch.setitem(lessons.LESSONS, lesson.name, lesson)
    yield lesson
    for run in lesson.runs:
        runner = shared_runs().get(run.experiment())
        if runner is not None:
            runner.stop(wait=5)


@pytest.fixture
def tiny(monkeypatch, request):
    """The tiny lesson, with runs of its own."""
    yield from with_own_runs(TINY, monkeypatch, request, seeds_from=0)


@pytest.fixture
def tiny_zh(monkeypatch, request, chinese_thread):
    """The tiny lesson of Chinese texts, with runs of its own; the test's own thread
    reads Chinese too (a format_func that translates when called, on any page the app
    opens first, would otherwise give English there and Chinese in the page)."""
    yield from with_own_runs(TINY_ZH, monkeypatch, request, seeds_from=20_000)


def open_lesson(name: str | None, lang: str | None = None, **params: str) -> AppTest:
    """The Lessons page on lesson `name` (None: the list), in `lang`."""
    return open_lessons_page(lang, **({"lesson": name} if name else {}), **params)


def started_runs(at: AppTest, lesson: Lesson) -> list:
    """Train the lesson's runs from its page: the shared runs it started."""
    next(b for b in at.button if b.key == "lesson_train").click().run()
    runners = [shared_runs().get(run.experiment()) for run in lesson.runs]
    assert all(r is not None for r in runners)
    return runners


def finished(at: AppTest, runners: list) -> None:
    """Wait for every run to finish, then show the page again."""
    assert wait_for(lambda: all(not r.alive and r.state == "finished" for r in runners), 60)
    at.run()
    assert not at.exception, at.exception


def test_the_list_names_every_lesson():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(LESSONS).run()
    text = " ".join(m.value for m in at.markdown)
    for lesson in lessons.LESSONS.values():
        assert lesson.title in text
    assert len([b for b in at.button if b.key.startswith("open_")]) == len(lessons.LESSONS)


def test_predict_train_and_see_the_verdict(tiny):
    at = open_lesson(tiny.name)
    train = next(b for b in at.button if b.key == "lesson_train")
    assert train.disabled  # a prediction comes first
    at.radio(key=f"guess_{tiny.name}").set_value(1).run()
    assert at.query_params["guess"] in ("1", ["1"])
    runners = started_runs(at, tiny)
    finished(at, runners)
    (verdict,) = at.success
    assert "A: validation mse" in verdict.value and "B: validation mse" in verdict.value
    assert any("You predicted right" in m.value for m in at.markdown)
    # every step's view draws
    for i, step in enumerate(tiny.steps):
        at.radio(key=f"step_{tiny.name}").set_value(f"{i + 1}. {step.title}").run()
        assert not at.exception, (step.view, at.exception)
    assert at.query_params["step"] in (str(len(tiny.steps) - 1), [str(len(tiny.steps) - 1)])


def test_a_second_session_shares_the_runs(tiny):
    first = open_lesson(tiny.name, guess="0")
    next(b for b in first.button if b.key == "lesson_train").click().run()
    started = shared_runs().started
    second = open_lesson(tiny.name, guess="2")
    # the runs exist: no Train button, the same runners, nothing trained anew
    assert not [b for b in second.button if b.key == "lesson_train"]
    assert shared_runs().started == started
    runners = [shared_runs().get(run.experiment()) for run in tiny.runs]
    assert wait_for(lambda: all(not r.alive for r in runners), 60)
    third = open_lesson(tiny.name)  # no prediction yet: the result stays hidden
    assert any("Make your prediction" in i.value for i in third.info)
    assert not third.success and not third.warning
    second.run()
    assert any("The result says otherwise" in m.value for m in second.markdown)


def test_classroom_mode_shows_the_lesson_only(tiny):
    at = open_lesson(tiny.name, classroom="1", guess="1")
    assert not [b for b in at.button if b.key in ("lesson_back", "design_A")]
    assert not at.expander  # no share links
    assert not at.sidebar.button  # no presets


@pytest.mark.parametrize("value", ["²", "9" * 5000, "-1", "7", " 1", "1.0"])
def test_a_crafted_prediction_or_step_in_the_address_is_ignored(tiny, value):
    at = open_lesson(tiny.name, guess=value, step=value)
    assert not at.exception
    assert next(b for b in at.button if b.key == "lesson_train").disabled


def test_classroom_mode_at_the_root_address_opens_the_lesson(tiny):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lesson"] = tiny.name
    at.query_params["classroom"] = "1"
    at.run()
    assert not at.exception
    assert any(tiny.title in t.value for t in at.title)


def _class_links(at: AppTest) -> tuple[dict, dict]:
    """The query of the students' link and of the teacher's, as the share panel shows."""
    from urllib.parse import parse_qsl, urlsplit

    links = [c.value for c in at.code if "class=" in c.value]
    student, teacher = (dict(parse_qsl(urlsplit(link).query)) for link in links)
    return student, teacher


def open_link(query: dict) -> AppTest:
    """A screen opened from a link's query."""
    rest = {k: v for k, v in query.items() if k != "lesson"}
    return open_lesson(query["lesson"], **rest)


def test_a_class_link_counts_the_predictions_and_shows_them_with_the_verdict(tiny):
    # the teacher makes a class link from the share panel
    at = open_lesson(tiny.name)
    next(b for b in at.button if b.key == "tally_make").click().run()
    assert not at.exception, at.exception
    student_link, teacher_link = _class_links(at)
    assert student_link["classroom"] == "1" and "teacher" not in student_link
    assert teacher_link["class"] == student_link["class"] and teacher_link["teacher"]

    # three students predict; one of them changes their mind, one reloads
    screens = [open_link(student_link) for _ in range(3)]
    assert any("counted for the class" in c.value for c in screens[0].caption)
    for screen, choice in zip(screens, [1, 0, 0], strict=True):
        screen.radio(key=f"guess_{tiny.name}").set_value(choice).run()
    # a reload opens a new session on the same address: it changes the same vote
    address = {k: v[0] if isinstance(v, list) else v for k, v in screens[2].query_params.items()}
    assert address["guess"] == "0" and address["voter"]
    reloaded = open_link(address)
    reloaded.radio(key=f"guess_{tiny.name}").set_value(1).run()

    # the teacher's screen asks the question and counts, without answering it
    teacher = open_link(teacher_link)
    assert not teacher.exception, teacher.exception
    assert not [r for r in teacher.radio if r.key == f"guess_{tiny.name}"]
    assert any("Predictions so far: 3." in i.value for i in teacher.info)
    assert not teacher.get("progress")  # what they predicted stays hidden until asked
    train = next(b for b in teacher.button if b.key == "lesson_train")
    assert not train.disabled  # the teacher trains without predicting
    train.click().run()
    runners = [shared_runs().get(run.experiment()) for run in tiny.runs]
    assert wait_for(lambda: all(not r.alive and r.state == "finished" for r in runners), 60)
    teacher.run()
    assert not teacher.exception, teacher.exception
    bars = [p.proto.text for p in teacher.get("progress")]
    right = tiny.prediction.choices[tiny.prediction.answer]
    assert f"✓ 2 of 3 predicted: {right}" in bars
    assert f"1 of 3 predicted: {tiny.prediction.choices[0]}" in bars
    assert any("**The result:" in m.value for m in teacher.markdown)

    # a student who has not predicted sees neither the verdict nor the class's answers
    late = open_link(student_link)
    assert not late.get("progress") and not late.success
    late.radio(key=f"guess_{tiny.name}").set_value(2).run()
    late.run()
    assert any("1 of 4 predicted" in p.proto.text for p in late.get("progress"))


@pytest.mark.parametrize("class_id", ["../../etc/passwd", "nonexistentclass", "x" * 500])
def test_an_unknown_or_crafted_class_link_says_so_and_counts_nothing(tiny, class_id):
    at = open_lesson(tiny.name, classroom="1", **{"class": class_id, "teacher": "y" * 30})
    assert not at.exception, at.exception
    assert any("not known to this server" in w.value for w in at.warning)
    assert [r for r in at.radio if r.key == f"guess_{tiny.name}"]  # a plain lesson


# --- in Chinese ------------------------------------------------------------------------------
param = query_param


def zh(message: str) -> str:
    with using("zh"):
        return _(message)


@pytest.mark.usefixtures("chinese_thread")
def test_the_list_is_in_chinese():
    at = open_lesson(None, lang="zh")
    assert not english_left(at), english_left(at)
    text = " ".join(m.value for m in at.markdown)
    for lesson in lessons.LESSONS.values():
        assert zh(lesson.title) in text
    assert any(t.value == "课例" for t in at.title)


@pytest.mark.usefixtures("chinese_thread")
def test_opening_a_lesson_and_going_back_keep_the_language():
    at = open_lesson(None, lang="zh")
    next(b for b in at.button if b.key == "open_bidirectional").click().run()
    assert not at.exception, at.exception
    assert param(at, "lesson") == "bidirectional" and param(at, "lang") == "zh"
    assert any(zh(BIDIRECTIONAL.title) in t.value for t in at.title)
    assert not english_left(at), english_left(at)
    next(b for b in at.button if b.key == "lesson_back").click().run()
    assert param(at, "lang") == "zh" and param(at, "lesson") is None
    assert any(t.value == "课例" for t in at.title)


def test_a_lesson_before_training_is_in_chinese(tiny_zh):
    at = open_lesson(tiny_zh.name, lang="zh")
    assert not english_left(at), english_left(at)
    assert any(t.value.startswith("第 6 课：") for t in at.title)
    assert any(zh(tiny_zh.prediction.question) in m.value for m in at.markdown)
    train = next(b for b in at.button if b.key == "lesson_train")
    assert train.disabled and train.label == "两个都训练" and train.help == "请先作出预测。"
    # the share links open the lesson in Chinese
    links = [c.value for c in at.code]
    assert links and all("lang=zh" in link for link in links)


def test_predict_train_see_the_verdict_and_every_step_in_chinese(tiny_zh, monkeypatch):
    at = open_lesson(tiny_zh.name, lang="zh")
    at.radio(key=f"guess_{tiny_zh.name}").set_value(1).run()
    runners = started_runs(at, tiny_zh)
    assert not english_left(at), english_left(at)  # while training
    finished(at, runners)
    (verdict,) = at.success
    assert "A: 验证 MSE 为" in verdict.value and "B: 验证 MSE 为" in verdict.value
    assert any("你预测对了" in m.value for m in at.markdown)
    assert any(zh(tiny_zh.prediction.why) in m.value for m in at.markdown)
    assert any(zh(tiny_zh.try_next) in m.value for m in at.markdown)
    assert not english_left(at), english_left(at)
    for i, step in enumerate(tiny_zh.steps):
        at.radio(key=f"step_{tiny_zh.name}").set_value(f"{i + 1}. {zh(step.title)}").run()
        assert not at.exception, (step.view, at.exception)
        assert any(zh(step.text) in m.value for m in at.markdown), step.view
        assert not english_left(at), (step.view, english_left(at))
    assert param(at, "lang") == "zh"

    # the same runs, a check whose result did not appear: a Chinese warning, and the
    # classic result named in a whole Chinese sentence
    failing = replace(tiny_zh, check=lambda runs: replace(_trained_all(runs), passed=False))
    monkeypatch.setitem(lessons.LESSONS, tiny_zh.name, failing)
    at.run()
    (warning,) = at.warning
    assert warning.value.startswith("这一次没有出现本课要展示的结果。A: 验证 MSE 为")
    assert any("**经典结果是：双向 GRU；" in m.value for m in at.markdown)
    assert not english_left(at), english_left(at)


def test_a_second_session_without_a_prediction_is_told_in_chinese(tiny_zh):
    first = open_lesson(tiny_zh.name, lang="zh", guess="0")
    next(b for b in first.button if b.key == "lesson_train").click().run()
    runners = [shared_runs().get(run.experiment()) for run in tiny_zh.runs]
    assert wait_for(lambda: all(not r.alive for r in runners), 60)
    second = open_lesson(tiny_zh.name, lang="zh")
    assert any(i.value.startswith("这些运行已训练完毕") for i in second.info)
    assert not english_left(second), english_left(second)
    first.run()
    assert any("**结果并非如此：双向 GRU。**" in m.value for m in first.markdown)


def test_classroom_mode_keeps_the_language(tiny_zh):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lesson"] = tiny_zh.name
    at.query_params["classroom"] = "1"
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    assert param(at, "lang") == "zh" and param(at, "classroom") == "1"
    assert any(zh(tiny_zh.title) in t.value for t in at.title)
    assert not english_left(at), english_left(at)
    at.radio(key=f"guess_{tiny_zh.name}").set_value(0).run()
    assert param(at, "lang") == "zh" and param(at, "guess") == "0"
    assert not english_left(at), english_left(at)
