"""The Lessons page through AppTest: the list, a lesson's prediction before training,
its runs shared by every session, the verdict with the numbers, the steps' views,
and classroom mode. A tiny lesson stands in for the shipped ones (those train for
half a minute; `tests/unit/test_lessons.py` checks them)."""

import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.lesson_runs import shared_runs
from designer import lessons
from designer.lessons import why_gates
from designer.lessons.base import LessonRun, Step, Verdict, loss_words
from tests.helpers import wait_for

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
LESSONS = "app_pages/lessons.py"

TINY_TASK = {"name": "adding", "seq_len": 8}
TINY_TRAIN = {"steps": 40, "batch_size": 16, "eval_every": 20, "clip_norm": 1.0}
TINY = replace(
    why_gates.LESSON,
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
    # the result this lesson looks for: both runs trained all their steps
    check=lambda runs: Verdict(
        all(r.state == "finished" and r.steps == TINY_TRAIN["steps"] for r in runs.values()),
        "; ".join(f"{label}: {loss_words(r)}" for label, r in runs.items()),
    ),
    steps=(
        *why_gates.LESSON.steps,
        Step("The graph", "The unrolled graph.", "graph", run="A"),
        Step("The map", "The gradient map.", "gradient-map", run="A"),
    ),
)


@pytest.fixture
def tiny(monkeypatch, request):
    """The tiny lesson, with runs of its own for each test (shared runs outlive a
    test: the server keeps them)."""
    seed = zlib.crc32(request.node.name.encode()) % 10_000
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


def open_lesson(name: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"lesson": name, **params}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(LESSONS).run()
    assert not at.exception, at.exception
    return at


def test_the_list_names_every_lesson():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(LESSONS).run()
    text = " ".join(m.value for m in at.markdown)
    for lesson in lessons.LESSONS.values():
        assert lesson.title in text
    assert len([b for b in at.button if b.label == "Open"]) == len(lessons.LESSONS)


def test_predict_train_and_see_the_verdict(tiny):
    at = open_lesson(tiny.name)
    train = next(b for b in at.button if b.key == "lesson_train")
    assert train.disabled  # a prediction comes first
    at.radio(key=f"guess_{tiny.name}").set_value(1).run()
    assert at.query_params["guess"] in ("1", ["1"])
    next(b for b in at.button if b.key == "lesson_train").click().run()
    runners = [shared_runs().get(run.experiment()) for run in tiny.runs]
    assert all(r is not None for r in runners)
    assert wait_for(lambda: all(not r.alive and r.state == "finished" for r in runners), 60)
    at.run()
    assert not at.exception, at.exception
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
