"""Lessons 1 to 5 in Chinese: every text a lesson shows (its title, source, summary,
question and choices, explanation, runs, steps and what to try next) and every
sentence its check says, whatever the runs did, read as Chinese with no English
sentence left, while the English stays as it was."""

import itertools
import re

import pytest

from designer.i18n import _, using
from designer.lessons import LESSONS
from designer.lessons.base import RunResult
from designer.probes import ProbeSummary
from tests.helpers import english_sentences

NAMES = ["why-gates", "vanishing-gradients", "exploding-gradients", "irnn", "echo-state"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def texts(lesson) -> list[str]:
    """Each text field of a lesson, as marked (the English message ids)."""
    question = lesson.prediction
    found = [lesson.title, lesson.source, lesson.summary, lesson.try_next]
    found += [question.question, *question.choices, question.why]
    found += [run.title for run in lesson.runs]
    for step in lesson.steps:
        found += [step.title, step.text]
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_text_of_the_lesson_reads_in_chinese(name):
    for english in texts(LESSONS[name]):
        with using("zh"):
            chinese = _(english)
        assert chinese != english, f"no translation: {english!r}"
        assert not english_sentences(chinese), (english, chinese)
        assert _(english) == english  # English is itself


def result(label, val, state="finished", grads=None, evals=None):
    """A made-up run result (as in test_lessons.py), for the checks' sentences."""
    probe = ProbeSummary(0, 0.0, [{"grad_norm": grads}], [], {}) if grads else None
    return RunResult(
        label=label,
        title=label,
        state=state,
        error=None,
        steps=100,
        seconds=1.0,
        val_loss=val,
        val_metric=val,
        baseline_loss=0.16,
        baseline_metric=0.16,
        metric_name="mse",
        grad_norms=[1.0, 350.0, float("nan")],
        evals=[{"step": 20, "val_metric": val}] if evals is None else evals,
        first_probe=probe,
        last_probe=probe,
    )


VALUES = [0.16, 0.0009, 5.0, None, float("nan")]
STATES = ["finished", "diverged"]
PROFILES = [[1e-8, 1e-4, 1.0], [0.2, 0.5, 1.0], [0.0, 1e-4, 1.0], None]


def every_outcome():
    """The lesson's check on runs that learned, did not, diverged, or have no number."""
    for a, b, state_a, state_b, profile_a, profile_b in itertools.product(
        VALUES, VALUES, STATES, STATES, PROFILES, PROFILES[:2]
    ):
        runs = {
            "A": result("A", a, state_a, grads=profile_a),
            "B": result("B", b, state_b, grads=profile_b),
        }
        yield runs


@pytest.mark.parametrize("name", NAMES)
def test_every_verdict_of_the_lesson_is_a_chinese_sentence(name):
    lesson = LESSONS[name]
    outcomes = set()
    for runs in every_outcome():
        english = lesson.check(runs)
        with using("zh"):
            verdict = lesson.check(runs)
        assert verdict.passed == english.passed and verdict.numbers.keys() == english.numbers.keys()
        assert CHINESE.search(verdict.text), verdict.text
        assert not english_sentences(verdict.text), (english.text, verdict.text)
        assert verdict.text.endswith("。") and verdict.text != english.text
        outcomes.add(verdict.passed)
    assert outcomes == {True, False}  # the sentences of both a result and none


def test_the_checks_numbers_appear_in_the_chinese_sentence():
    runs = {"A": result("A", 0.16), "B": result("B", 0.0009)}
    with using("zh"):
        verdict = LESSONS["why-gates"].judge(runs)
    assert verdict.passed
    assert verdict.text == (
        "LSTM 学会了加法：验证 MSE 为 0.0009，基线为 0.16。tanh RNN 没有学会：验证 MSE 为 "
        "0.16，基线为 0.16，停在始终回答均值所能达到的水平。"
    )
    exploding = {"A": result("A", None, state="diverged"), "B": result("B", 0.01)}
    with using("zh"):
        verdict = LESSONS["exploding-gradients"].judge(exploding)
    assert verdict.passed and "在第 101 步发散" in verdict.text and "350" in verdict.text


def test_a_gradient_that_does_not_reach_the_first_step_is_worded_in_chinese():
    check = LESSONS["vanishing-gradients"].check
    runs = {"A": result("A", 0.16, grads=[0.0, 1.0]), "B": result("B", 0.001, grads=[0.2, 1.0])}
    with using("zh"):
        verdict = check(runs)
    assert verdict.passed and "RNN 完全没有传回" in verdict.text
    no_probe = {"A": result("A", 0.16), "B": result("B", 0.001)}
    with using("zh"):
        verdict = check(no_probe)
    assert not verdict.passed and "非数值" in verdict.text and "本课" in verdict.text
