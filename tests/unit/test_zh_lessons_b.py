"""Lessons 6-9 in Chinese: every text a lesson shows (title, summary, source, question,
choices, why, try-next, runs' titles, steps) and every verdict its check or the
lesson's judge words has no English sentence, while English stays as it was; the
--json output stays English in every language."""

from dataclasses import replace

import pytest

from designer.i18n import _, using
from designer.lessons import LESSONS
from designer.lessons.base import RunResult, loss_words, short
from designer.lessons.check import Outcome
from designer.probes import ProbeSummary
from tests.helpers import english_sentences

MINE = ["bidirectional", "residual-depth", "char-rnn", "feedforward-vs-recurrent"]


def texts(lesson) -> list[str]:
    """Every text field of a lesson, as written (the message ids)."""
    found = [lesson.title, lesson.summary, lesson.source, lesson.try_next]
    found += [lesson.prediction.question, lesson.prediction.why, *lesson.prediction.choices]
    found += [run.title for run in lesson.runs]
    for step in lesson.steps:
        found += [step.title, step.text]
    return found


def result(label, val, baseline=0.16, state="finished", first=None, metric="mse", error=None):
    probe = ProbeSummary(0, 0.0, [{"grad_norm": first}], [], {}) if first else None
    return RunResult(
        label=label,
        title=label,
        state=state,
        error=error,
        steps=100,
        seconds=1.0,
        val_loss=val,
        val_metric=val,
        baseline_loss=baseline,
        baseline_metric=baseline,
        metric_name=metric,
        grad_norms=[1.0],
        evals=[{"val_metric": val}] if val is not None else [],
        first_probe=probe,
        last_probe=probe,
    )


# For each lesson: results its check passes, and results it fails.
RESULTS = {
    "bidirectional": (
        {"A": result("A", 0.85, 0.6, metric="accuracy"), "B": result("B", 0.99, 0.6, "accuracy")},
        {"A": result("A", 0.85, 0.6, metric="accuracy"), "B": result("B", 0.86, 0.6, "accuracy")},
    ),
    "residual-depth": (
        {"A": result("A", 0.159, first=[1e-8]), "B": result("B", 0.006, first=[0.17])},
        {"A": result("A", 0.159, first=[0.1]), "B": result("B", 0.006, first=[0.17])},
    ),
    "char-rnn": (
        {"A": result("A", 2.6, 4.24, metric="bits per char")},
        {"A": result("A", 3.4, 4.24, metric="bits per char")},
    ),
    "feedforward-vs-recurrent": (
        {"A": result("A", 0.16), "B": result("B", 0.001)},
        {"A": result("A", 0.16), "B": result("B", 0.15)},
    ),
}


@pytest.mark.parametrize("name", MINE)
def test_every_text_of_the_lesson_reads_in_chinese(name):
    lesson = LESSONS[name]
    with using("zh"):
        for text in texts(lesson):
            shown = _(text)
            assert not english_sentences(shown), (text, shown)
            assert shown != text or not english_sentences(text), f"untranslated: {text!r}"


@pytest.mark.parametrize("name", MINE)
def test_the_verdicts_read_in_chinese_and_stay_english_in_english(name):
    lesson = LESSONS[name]
    passing, failing = RESULTS[name]
    assert lesson.judge(passing).passed and not lesson.judge(failing).passed
    english = lesson.judge(failing).text
    assert english.startswith("The lesson's result did not appear this time. ")
    with using("zh"):
        for runs in (passing, failing):
            verdict = lesson.judge(runs)
            assert not english_sentences(verdict.text), verdict.text
            numbers = [short(r.val_metric) for r in runs.values() if r.state != "diverged"]
            assert all(n in verdict.text for n in numbers), verdict.text
        assert lesson.judge(failing).text.startswith("这一次没有出现本课要展示的结果。")
    assert lesson.judge(failing).text == english  # English again outside the block


@pytest.mark.parametrize("name", MINE)
@pytest.mark.parametrize("state", ["failed", "stopped", "diverged"])
@pytest.mark.parametrize("error", [None, "RuntimeError: boom"])
def test_a_run_that_ended_badly_is_one_chinese_sentence(name, state, error):
    lesson = LESSONS[name]
    passing, _failing = RESULTS[name]
    label = lesson.runs[0].label
    runs = {**passing, label: replace(passing[label], state=state, error=error)}
    if state == "diverged" and label in lesson.may_diverge:
        return
    with using("en"):
        english = lesson.judge(runs).text
    assert english == (
        f"Run {label} ({lesson.runs[0].title}) {state}{f': {error}' if error else ''}."
    )
    with using("zh"):
        text = lesson.judge(runs).text
    assert text.startswith(f"运行 {label}（{_zh(lesson.runs[0].title)}）")
    assert text.endswith("。") and not english_sentences(text.replace(error or "", ""))


def _zh(message: str) -> str:
    with using("zh"):
        return _(message)


def test_loss_words_name_each_metric_in_chinese():
    cases = {
        "mse": "验证 MSE 为 0.01，基线为 0.16",
        "accuracy": "验证准确率为 0.01，基线为 0.16",
        "bits per char": "验证每字符比特数为 0.01，基线为 0.16",
    }
    for metric, words in cases.items():
        run = result("A", 0.01, metric=metric)
        assert loss_words(run) == f"validation {metric} 0.01, against 0.16 for the baseline"
        with using("zh"):
            assert loss_words(run) == words
    with using("zh"):
        assert loss_words(result("A", None, state="diverged")) == "在第 101 步发散"
        assert short(float("nan")) == "非数值" and short(None) == "无"


def test_the_json_outcome_is_english_in_every_language():
    lesson = LESSONS["feedforward-vs-recurrent"]
    _passing, failing = RESULTS[lesson.name]
    with using("zh"):
        outcome = Outcome(lesson, 0, lesson.judge(failing), failing, 1.0)
        assert outcome.verdict.text.startswith("这一次")
        data = outcome.to_dict()
    with using("en"):
        assert data["text"] == lesson.judge(failing).text
    assert data["runs"][0]["title"] == "A"
