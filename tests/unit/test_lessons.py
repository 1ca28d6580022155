"""The lessons: well-formed data, checks that can fail, the command line, the shared
runs a class trains once, and (slow) each lesson's result appearing with the shipped
settings, on three seeds for the fragile ones."""

import json
import math

import pytest

from designer.__main__ import main
from designer.lessons import LESSONS
from designer.lessons.base import VIEWS, RunResult
from designer.lessons.check import check_lesson
from designer.probes import ProbeSummary
from designer.runner import ProcessRunner
from designer.shared_runs import SharedRuns, run_key
from designer.spec import Experiment

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
        assert "clip_norm" in run.document["train"], "every lesson states its clipping"
    assert 0 <= lesson.prediction.answer < len(lesson.prediction.choices)
    assert lesson.steps
    for step in lesson.steps:
        assert step.view in VIEWS
        assert step.run is None or step.run in labels
    assert lesson.try_next and lesson.prediction.why


def test_the_lessons_are_numbered_one_to_nine():
    assert [lesson.number for lesson in LESSONS.values()] == list(range(1, 10))


def result(label, val, baseline=0.16, state="finished", grads=None, first=None, evals=None):
    """A made-up run result, for checking the checks."""

    def probe(norms):  # one recurrent layer with these ||dL/dh_t||
        return ProbeSummary(0, 0.0, [{"grad_norm": norms}], [], {}) if norms else None

    return RunResult(
        label=label,
        title=label,
        state=state,
        error=None,
        steps=100,
        seconds=1.0,
        val_loss=val,
        val_metric=val,
        baseline_loss=baseline,
        baseline_metric=baseline,
        metric_name="mse",
        grad_norms=[1.0],
        evals=evals or [{"val_metric": val}],
        first_probe=probe(first),
        last_probe=probe(grads),
    )


def test_why_gates_passes_only_when_the_lstm_learns_and_the_rnn_does_not():
    check = LESSONS["why-gates"].check
    assert check({"A": result("A", 0.16), "B": result("B", 0.0009)}).passed
    assert not check({"A": result("A", 0.16), "B": result("B", 0.15)}).passed
    assert not check({"A": result("A", 0.001), "B": result("B", 0.0009)}).passed
    verdict = check({"A": result("A", 0.16), "B": result("B", 0.0009)})
    assert "0.0009" in verdict.text and "0.16" in verdict.text


def test_vanishing_gradients_compares_how_far_the_gradient_reaches():
    check = LESSONS["vanishing-gradients"].check
    vanishing = [[1e-8, 1e-4, 1.0]]
    kept = [[0.2, 0.5, 1.0]]
    ok = check({"A": result("A", 0.16, grads=vanishing[0]), "B": result("B", 0.001, grads=kept[0])})
    assert ok.passed and math.isclose(ok.numbers["rnn_reach"], 1e-8)
    same = check({"A": result("A", 0.16, grads=kept[0]), "B": result("B", 0.001, grads=kept[0])})
    assert not same.passed


def test_exploding_needs_the_unclipped_run_to_blow_up():
    check = LESSONS["exploding-gradients"].check
    assert check({"A": result("A", None, state="diverged"), "B": result("B", 0.01)}).passed
    assert not check({"A": result("A", 0.02), "B": result("B", 0.01)}).passed


def test_residual_depth_needs_the_gradient_to_reach_the_bottom():
    check = LESSONS["residual-depth"].check
    runs = {
        "A": result("A", 0.159, first=[1e-8]),
        "B": result("B", 0.006, first=[0.17]),
    }
    assert check(runs).passed
    runs["A"] = result("A", 0.159, first=[0.1])
    assert not check(runs).passed


def test_char_rnn_looks_at_the_best_evaluation():
    check = LESSONS["char-rnn"].check
    evals = [{"val_metric": 3.5}, {"val_metric": 2.6}, {"val_metric": 2.9}]
    assert check({"A": result("A", 2.9, baseline=4.24, evals=evals)}).passed
    worse = [{"val_metric": 3.5}, {"val_metric": 3.2}]
    assert not check({"A": result("A", 3.2, baseline=4.24, evals=worse)}).passed


# --- the command line -----------------------------------------------------------------------
def test_lessons_lists_each_with_its_name(capsys):
    assert main(["lessons", "--json"]) == 0
    names = [json.loads(line)["name"] for line in capsys.readouterr().out.splitlines()]
    assert names == list(LESSONS)


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
    long = TINY.model_copy(update={"train": TINY.train.model_copy(update={"steps": 100_000})})
    runner = store.start(long)
    runner.stop(wait=10)
    wait(runner)
    assert store.get(long) is None
    assert not list(tmp_path.glob("*.pt"))
    assert store.error(long) == "the run stopped"


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
    from designer.health import explosion_warning
    from designer.trainer import History

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
    good = {"A": result("A", 0.16), "B": result("B", 0.0009)}
    assert lesson.judge(good).passed
    for state in ("failed", "stopped", "diverged"):
        runs = {**good, "A": result("A", None, state=state)}
        verdict = lesson.judge(runs)
        assert not verdict.passed and f"Run A (tanh RNN, 64 units) {state}" in verdict.text
    # where divergence is the result, it is the check's to judge
    exploding = LESSONS["exploding-gradients"]
    runs = {"A": result("A", None, state="diverged"), "B": result("B", 0.01)}
    assert exploding.judge(runs).passed
    runs["B"] = result("B", None, state="diverged")
    assert not exploding.judge(runs).passed


def test_no_gradient_at_all_reaching_the_first_step_is_worded_not_divided():
    check = LESSONS["vanishing-gradients"].check
    verdict = check(
        {"A": result("A", 0.16, grads=[0.0, 1e-4, 1.0]), "B": result("B", 0.001, grads=[0.2, 1.0])}
    )
    assert verdict.passed and "the RNN none at all" in verdict.text


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
    long = TINY.model_copy(update={"train": TINY.train.model_copy(update={"steps": 100_000})})
    first = store.start(long)
    first.stop(wait=10)
    wait(first)
    assert store.error(long) == "the run stopped"
    again = store.start(long)
    assert again is not first and store.error(long) is None
    again.stop(wait=10)
