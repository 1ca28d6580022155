"""The lessons: well-formed data, checks that can fail, the command line, the shared
runs a class trains once, (slow) each lesson's result appearing with the shipped
settings, on three seeds for the fragile ones, and every lesson in Chinese: each text
it shows and each sentence its check says, whatever the runs did, with no English
sentence left, while the English stays as it was and --json output stays English."""

import itertools
import json
import math
import re
from dataclasses import replace

import pytest

from designer.__main__ import main
from designer.document.spec import Experiment
from designer.i18n import Translated, _, using
from designer.lessons import LESSONS
from designer.lessons.base import VIEWS, RunResult, loss_words, short
from designer.lessons.check import Outcome, check_lesson
from designer.serving.shared_runs import SharedRuns, run_key
from designer.training.runner import ProcessRunner
from tests.helpers import english_sentences, lesson_texts, run_result

TINY = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 6},
        "model": {"layers": [{"type": "rnn", "hidden_size": 4}]},
        "train": {"steps": 30, "batch_size": 8, "eval_every": 10},
    }
)


# --- the lessons as data ------------------------------------------------------------------
@pytest.mark.parametrize("lesson", LESSONS.values(), ids=list(LESSONS))
def test_a_lesson_is_complete(lesson):
    labels = [run.label for run in lesson.runs]
    assert len(set(labels)) == len(labels) >= 1
    for run in lesson.runs:
        run.experiment()  # a valid document
    assert 0 <= lesson.prediction.answer < len(lesson.prediction.choices)
    assert lesson.steps
    for step in lesson.steps:
        assert step.view in VIEWS
        assert step.run is None or step.run in labels
    assert lesson.try_next and lesson.prediction.why and lesson.read_more
    assert lesson.check.passed and lesson.check.failed  # sentences of its own, with numbers


def test_why_gates_passes_only_when_the_lstm_learns_and_the_rnn_does_not():
    check = LESSONS["why-gates"].check
    assert check({"A": run_result("A", 0.16), "B": run_result("B", 0.0009)}).passed
    assert not check({"A": run_result("A", 0.16), "B": run_result("B", 0.15)}).passed
    assert not check({"A": run_result("A", 0.001), "B": run_result("B", 0.0009)}).passed
    verdict = check({"A": run_result("A", 0.16), "B": run_result("B", 0.0009)})
    assert "0.0009" in verdict.text and "0.16" in verdict.text


def test_vanishing_gradients_compares_how_far_the_gradient_reaches():
    check = LESSONS["vanishing-gradients"].check
    vanishing = [[1e-8, 1e-4, 1.0]]
    kept = [[0.2, 0.5, 1.0]]
    ok = check(
        {"A": run_result("A", 0.16, last=vanishing[0]), "B": run_result("B", 0.001, last=kept[0])}
    )
    assert ok.passed and math.isclose(ok.numbers["A.grad_reach"], 1e-8)
    same = check(
        {"A": run_result("A", 0.16, last=kept[0]), "B": run_result("B", 0.001, last=kept[0])}
    )
    assert not same.passed


def test_exploding_needs_the_unclipped_run_to_blow_up():
    check = LESSONS["exploding-gradients"].check
    assert check({"A": run_result("A", None, state="diverged"), "B": run_result("B", 0.01)}).passed
    assert not check({"A": run_result("A", 0.02), "B": run_result("B", 0.01)}).passed


def test_residual_depth_needs_the_gradient_to_reach_the_bottom():
    check = LESSONS["residual-depth"].check
    runs = {
        "A": run_result("A", 0.159, first=[1e-8]),
        "B": run_result("B", 0.006, first=[0.17]),
    }
    assert check(runs).passed
    runs["A"] = run_result("A", 0.159, first=[0.1])
    assert not check(runs).passed


def test_char_rnn_looks_at_the_best_evaluation():
    check = LESSONS["char-rnn"].check
    evals = [{"val_metric": 3.5}, {"val_metric": 2.6}, {"val_metric": 2.9}]
    assert check({"A": run_result("A", 2.9, baseline=4.24, evals=evals)}).passed
    worse = [{"val_metric": 3.5}, {"val_metric": 3.2}]
    assert not check({"A": run_result("A", 3.2, baseline=4.24, evals=worse)}).passed


# --- the command line -----------------------------------------------------------------------
def test_lessons_lists_each_with_its_name(capsys):
    assert main(["lessons", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [lesson["name"] for lesson in listed] == list(LESSONS)
    first = listed[0]  # in English, with its rule, its reading and what it builds on
    assert first["rule"] == "val_loss: B < 0.1 * baseline and A > 0.5 * baseline"
    assert first["read_more"] == "Dive into Deep Learning: Long Short-Term Memory (LSTM)"
    assert [lesson["needs"] for lesson in listed[:2]] == [[], [1]]


def test_lessons_show_says_what_to_read_and_when_the_result_appears(capsys):
    assert main(["lessons", "show", "vanishing-gradients"]) == 0
    out = capsys.readouterr().out
    assert "Read more: Dive into Deep Learning: Backpropagation Through Time" in out
    assert out.rstrip().endswith(
        "Its result appears when: grad_reach: A < 0.001 and B > 0.01 and B > 100 * A"
    )
    assert main(["--lang", "zh", "lessons", "show", "vanishing-gradients"]) == 0
    out = capsys.readouterr().out
    assert "《用梯度下降学习长期依赖是困难的》" in out  # the source, in Chinese too
    assert "延伸阅读：《动手学深度学习》：通过时间反向传播" in out
    assert "本课的结果在以下条件成立时出现：grad_reach: A < 0.001" in out


def test_lessons_show_prints_documents_ready_for_train(capsys, tmp_path):
    assert main(["lessons", "show", "why-gates", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    types = [Experiment.from_json(line).model.layers[0].type for line in lines]
    assert types == ["rnn", "lstm"]
    spec = tmp_path / "b.json"
    spec.write_text(lines[1])
    assert main(["validate", str(spec)]) == 0


def test_an_unknown_lesson_is_one_line_naming_the_lessons(capsys):
    assert main(["lessons", "show", "no-such"]) == 2
    err = capsys.readouterr().err
    assert "no lesson is called 'no-such'" in err and "why-gates" in err


# --- runs shared by a class ---------------------------------------------------------------------
def make(exp, on_finish):
    return ProcessRunner(exp, on_finish=on_finish)


def wait(runner, timeout=60.0):
    runner._thread.join(timeout)
    assert not runner.alive


LONG = TINY.model_copy(update={"train": TINY.train.model_copy(update={"steps": 100_000})})


def stopped_long_run(store: SharedRuns) -> ProcessRunner:
    """A long shared run started in `store` and stopped before it ends."""
    runner = store.start(LONG)
    runner.stop(wait=10)
    wait(runner)
    assert store.error(LONG) == "the run stopped"
    return runner


def test_identical_experiments_share_one_run_and_it_is_kept(tmp_path):
    store = SharedRuns(tmp_path, make)
    assert store.get(TINY) is None
    first = store.start(TINY)
    assert store.start(Experiment.from_json(TINY.to_json())) is first  # the same document
    assert store.started == 1
    wait(first)
    assert first.state == "finished"
    assert (tmp_path / f"{run_key(TINY)}.pt").is_file()
    # a server started later reads it back, with its curve, instead of training
    later = SharedRuns(tmp_path, make)
    kept = later.start(TINY)
    assert later.started == 0 and not kept.alive
    assert kept.record.history.loss == first.record.history.loss
    # anything different trains anew
    other = TINY.model_copy(update={"train": TINY.train.model_copy(update={"seed": 1})})
    assert later.start(other) is not kept and later.started == 1
    later.get(other).stop(wait=5)


def test_a_stopped_shared_run_is_not_kept(tmp_path):
    store = SharedRuns(tmp_path, make)
    stopped_long_run(store)
    assert store.get(LONG) is None
    assert not list(tmp_path.glob("*.pt"))


# --- the results themselves (each trains for up to a minute) ------------------------------------
CASES = [(lesson, seed) for lesson in LESSONS.values() for seed in lesson.seeds]


@pytest.mark.slow
@pytest.mark.parametrize(
    "lesson,seed", CASES, ids=[f"{lesson.name}-seed{s}" for lesson, s in CASES]
)
def test_the_lesson_shows_its_result(lesson, seed):
    outcome = check_lesson(lesson, seed=seed)
    assert outcome.verdict.passed, outcome.verdict.text


# --- a run heading for divergence is reported before it gets there ------------------------------
def test_an_explosion_is_reported_before_the_loss_is_infinite():
    from designer.training.health import explosion_warning
    from designer.training.trainer import History

    calm = History(step=list(range(60)), loss=[0.1] * 60, grad_norm=[1.0] * 60)
    assert explosion_warning(calm, baseline_loss=0.16) is None
    spike = History(step=list(range(60)), loss=[0.1] * 60, grad_norm=[1.0] * 59 + [500.0])
    assert "500" in explosion_warning(spike, baseline_loss=0.16)
    soaring = History(step=list(range(20)), loss=[0.1] * 10 + [5.0] * 10, grad_norm=[1.0] * 20)
    assert "times the baseline" in explosion_warning(soaring, baseline_loss=0.16)


def test_train_warns_once_then_reports_the_divergence(capsys, tmp_path):
    spec = tmp_path / "explode.json"
    spec.write_text(LESSONS["exploding-gradients"].run("A").experiment().to_json())
    assert main(["train", str(spec), "--json"]) == 1
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds.count("warning") == 1 and kinds[-1] == "diverged"
    warned = next(e for e in events if e["event"] == "warning")
    assert warned["step"] < events[-1]["step"]


def test_a_run_that_failed_stopped_or_diverged_unexpectedly_shows_nothing():
    lesson = LESSONS["why-gates"]
    good = {"A": run_result("A", 0.16), "B": run_result("B", 0.0009)}
    assert lesson.judge(good).passed
    for state in ("failed", "stopped", "diverged"):
        runs = {**good, "A": run_result("A", None, state=state)}
        verdict = lesson.judge(runs)
        assert not verdict.passed and f"Run A (tanh RNN, 64 units) {state}" in verdict.text
    # where divergence is the result, it is the check's to judge
    exploding = LESSONS["exploding-gradients"]
    runs = {"A": run_result("A", None, state="diverged"), "B": run_result("B", 0.01)}
    assert exploding.judge(runs).passed
    runs["B"] = run_result("B", None, state="diverged")
    assert not exploding.judge(runs).passed


def test_no_gradient_at_all_reaching_the_first_step_is_worded_not_divided():
    check = LESSONS["vanishing-gradients"].check
    verdict = check(
        {
            "A": run_result("A", 0.16, last=[0.0, 1e-4, 1.0]),
            "B": run_result("B", 0.001, last=[0.2, 1.0]),
        }
    )
    assert verdict.passed and "the RNN passes 0 back to the first step" in verdict.text


def test_a_diverged_shared_run_is_kept_as_it_always_ends(tmp_path):
    from tests.helpers import diverging_experiment

    store = SharedRuns(tmp_path, make)
    runner = store.start(diverging_experiment())
    wait(runner)
    assert runner.state == "diverged"
    kept = SharedRuns(tmp_path, make).start(diverging_experiment())
    assert kept.state == "diverged" and not kept.alive
    assert kept.error == runner.error


def test_a_failed_shared_run_says_why_and_trains_again_when_asked(tmp_path):
    store = SharedRuns(tmp_path, make)
    first = stopped_long_run(store)
    again = store.start(LONG)
    assert again is not first and store.error(LONG) is None
    again.stop(wait=10)


# --- the lessons in Chinese -------------------------------------------------------------------
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def zh(message: str) -> str:
    with using("zh"):
        return _(message)


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_text_of_the_lesson_reads_in_chinese(name):
    for english in lesson_texts(LESSONS[name]):
        assert isinstance(english, Translated) and set(english.texts) == {"en", "zh"}
        chinese = zh(english)
        assert chinese != english, f"no translation: {english!r}"
        assert not english_sentences(chinese), (english, chinese)
        assert _(english) == english  # English is itself


# Lessons 1 to 5: the check's sentence for every outcome of the runs.
FIRST_FIVE = ["why-gates", "vanishing-gradients", "exploding-gradients", "irnn", "echo-state"]
VALUES = [0.16, 0.0009, 5.0, None, float("nan")]
STATES = ["finished", "diverged"]
PROFILES = [[1e-8, 1e-4, 1.0], [0.2, 0.5, 1.0], [0.0, 1e-4, 1.0], None]


def probed(label: str, val: float | None, state: str = "finished", grads=None) -> RunResult:
    """A run whose probes saw `grads`, with a gradient norm that blew up once."""
    return run_result(
        label, val, state=state, first=grads, last=grads,
        grad_norms=(1.0, 350.0, float("nan")), evals=[{"step": 20, "val_metric": val}],
    )  # fmt: skip


def every_outcome():
    """The lesson's check on runs that learned, did not, diverged, or have no number."""
    for a, b, state_a, state_b, profile_a, profile_b in itertools.product(
        VALUES, VALUES, STATES, STATES, PROFILES, PROFILES[:2]
    ):
        yield {"A": probed("A", a, state_a, profile_a), "B": probed("B", b, state_b, profile_b)}


@pytest.mark.parametrize("name", FIRST_FIVE)
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
    runs = {"A": probed("A", 0.16), "B": probed("B", 0.0009)}
    with using("zh"):
        verdict = LESSONS["why-gates"].judge(runs)
    assert verdict.passed
    assert verdict.text == (
        "LSTM 学会了加法：验证 MSE 为 0.0009，基线为 0.16。tanh RNN 没有学会：验证 MSE 为 "
        "0.16，基线为 0.16，停在始终回答均值所能达到的水平。"
    )
    exploding = {"A": probed("A", None, state="diverged"), "B": probed("B", 0.01)}
    with using("zh"):
        verdict = LESSONS["exploding-gradients"].judge(exploding)
    assert verdict.passed and "在第 101 步发散" in verdict.text and "350" in verdict.text


def test_a_gradient_that_does_not_reach_the_first_step_is_worded_in_chinese():
    check = LESSONS["vanishing-gradients"].check
    runs = {"A": probed("A", 0.16, grads=[0.0, 1.0]), "B": probed("B", 0.001, grads=[0.2, 1.0])}
    with using("zh"):
        verdict = check(runs)
    assert verdict.passed and "RNN 传回第一步的比例为 0；" in verdict.text
    no_probe = {"A": probed("A", 0.16), "B": probed("B", 0.001)}
    with using("zh"):
        verdict = check(no_probe)
    assert not verdict.passed and "非数值" in verdict.text and "本课" in verdict.text


# Lessons 6 to 9: results each check passes and fails, and runs that ended badly.
def judged(label: str, val: float | None, baseline: float = 0.16, **more) -> RunResult:
    """A run whose first and last probes saw `first` (evaluated unless it has no value)."""
    first = more.pop("first", None)
    evals = None if val is not None else []
    return run_result(label, val, baseline=baseline, first=first, last=first, evals=evals, **more)


# For each lesson: results its check passes, and results it fails.
RESULTS = {
    "bidirectional": (
        {
            "A": judged("A", 0.85, 0.6, metric="accuracy"),
            "B": judged("B", 0.99, 0.6, metric="accuracy"),
        },
        {
            "A": judged("A", 0.85, 0.6, metric="accuracy"),
            "B": judged("B", 0.86, 0.6, metric="accuracy"),
        },
    ),
    "residual-depth": (
        {"A": judged("A", 0.159, first=[1e-8]), "B": judged("B", 0.006, first=[0.17])},
        {"A": judged("A", 0.159, first=[0.1]), "B": judged("B", 0.006, first=[0.17])},
    ),
    "char-rnn": (
        {"A": judged("A", 2.6, 4.24, metric="bits per char")},
        {"A": judged("A", 3.4, 4.24, metric="bits per char")},
    ),
    "feedforward-vs-recurrent": (
        {"A": judged("A", 0.16), "B": judged("B", 0.001)},
        {"A": judged("A", 0.16), "B": judged("B", 0.15)},
    ),
}


@pytest.mark.parametrize("name", list(RESULTS))
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


@pytest.mark.parametrize("name", list(RESULTS))
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
    assert text.startswith(f"运行 {label}（{zh(lesson.runs[0].title)}）")
    assert text.endswith("。") and not english_sentences(text.replace(error or "", ""))


def test_loss_words_name_each_metric_in_chinese():
    cases = {
        "mse": "验证 MSE 为 0.01，基线为 0.16",
        "accuracy": "验证准确率为 0.01，基线为 0.16",
        "bits per char": "验证每字符比特数为 0.01，基线为 0.16",
    }
    for metric, words in cases.items():
        run = judged("A", 0.01, metric=metric)
        assert loss_words(run) == f"validation {metric} 0.01, against 0.16 for the baseline"
        with using("zh"):
            assert loss_words(run) == words
    with using("zh"):
        assert loss_words(judged("A", None, state="diverged")) == "在第 101 步发散"
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
