"""Training in a separate process: start, pause, resume, step and stop; the history,
probes and weights mirrored back; divergence reported; the server's slots respected."""

import time
from functools import partial

import pytest
import torch

from designer import Experiment, SpecError
from designer.serving.slots import TrainingSlots
from designer.training.runner import ProcessRunner
from tests import helpers
from tests.helpers import diverging_experiment


def experiment(**train) -> Experiment:
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 12},
            "model": {"layers": [{"type": "lstm", "hidden_size": 8}]},
            "train": {"batch_size": 16, "eval_every": 10, "probe_every": 15, **train},
        }
    )


wait_for = partial(helpers.wait_for, timeout=60.0)


def test_controls_and_mirrored_history():
    runner = ProcessRunner(experiment(steps=100_000))
    try:
        runner.start()
        assert wait_for(lambda: len(runner.history.step) >= 20)
        runner.pause()
        assert wait_for(lambda: runner.state == "paused")
        time.sleep(0.5)
        paused_at = len(runner.history.step)
        time.sleep(0.5)
        assert len(runner.history.step) == paused_at
        runner.step_once()
        assert wait_for(lambda: len(runner.history.step) == paused_at + 1)
        time.sleep(0.4)
        assert len(runner.history.step) == paused_at + 1
        runner.resume()
        assert wait_for(lambda: len(runner.history.step) > paused_at + 10)
        assert runner.history.evals and runner.history.probes
        assert runner.record.last_probe is not None
        assert runner.busy_seconds > 0
    finally:
        runner.stop()
    assert wait_for(lambda: not runner.alive) and runner.state == "stopped"
    steps = runner.snapshot().step
    assert steps == list(range(1, len(steps) + 1))
    lowest = min(runner.history.evals, key=lambda e: e["val_loss"])
    assert runner.record.best_step == lowest["step"]  # sent as it stopped


def test_finishes_with_the_weights_of_the_last_evaluation():
    done = []
    runner = ProcessRunner(experiment(steps=30), on_finish=done.append)
    before = {k: v.clone() for k, v in runner.record.model.state_dict().items()}
    runner.start()
    assert wait_for(lambda: not runner.alive)
    assert runner.state == "finished" and done == [runner]
    assert runner.history.step[-1] == 30 and runner.history.evals[-1]["step"] == 30
    assert runner.history.probes[-1].step == 30
    after = runner.record.model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # trained weights arrived
    # the best evaluation's weights arrive as the run ends, and a kept run's checkpoint has them
    lowest = min(runner.history.evals, key=lambda e: e["val_loss"])
    best = runner.record.best
    assert (best["step"], best["val_loss"]) == (lowest["step"], lowest["val_loss"])
    assert set(best["state_dict"]) == set(after)
    assert runner.record.checkpoint().best is best


def test_divergence_is_reported():
    data = diverging_experiment().to_dict()
    data["train"]["eval_every"] = 1
    runner = ProcessRunner(Experiment.from_dict(data))
    runner.start()
    assert wait_for(lambda: not runner.alive)
    assert runner.state == "diverged" and "diverged at step" in runner.error
    # what it had before it blew up: the weights of its first evaluation, the lowest loss
    assert runner.record.best["step"] == 1 == runner.history.evals[0]["step"]


def test_slots_cap_concurrent_runs_first_come_first_served():
    slots = TrainingSlots(limit=1)
    runners = [ProcessRunner(experiment(steps=100_000), slots=slots) for _ in range(3)]
    try:
        for runner in runners:
            runner.start()
            time.sleep(0.05)
        assert wait_for(lambda: len(runners[0].history.step) > 0)
        assert wait_for(lambda: [r.queue_position() for r in runners] == [None, 1, 2])
        assert [r.state for r in runners[1:]] == ["queued", "queued"]
        assert slots.running == 1 and slots.waiting == 2
        assert runners[1].history.step == []  # waiting runs do not train
        runners[1].stop()  # leaving the queue moves the others up
        assert runners[1].state == "stopped" and runners[2].queue_position() == 1
        runners[0].stop()  # its slot goes to the next in line
        assert wait_for(lambda: len(runners[2].history.step) > 2)
    finally:
        for runner in runners:
            runner.stop()
    assert slots.running == 0 and slots.waiting == 0


def finished(runner: ProcessRunner) -> ProcessRunner:
    runner.start()
    assert wait_for(lambda: not runner.alive)
    assert runner.state == "finished", runner.error
    return runner


def test_a_variant_trains_from_the_original_start_on_the_same_data():
    """Clipping at a threshold no gradient reaches changes nothing the model sees:
    trained from the original's initial weights on the same batches, the variant's
    curve is the original's, bit for bit."""
    original = finished(ProcessRunner(experiment(steps=30, clip_norm=None)))
    variant_exp = experiment(steps=30, clip_norm=1e6)
    variant = finished(ProcessRunner(variant_exp, start=original.record.exp))
    assert variant.history.loss == original.history.loss
    # from its own seed's weights it would differ: the start is what made them equal
    other = finished(ProcessRunner(experiment(steps=30, clip_norm=1e6, seed=1)))
    assert other.history.loss != original.history.loss


def test_a_continued_run_draws_the_curve_of_an_uninterrupted_one():
    whole = finished(ProcessRunner(experiment(steps=60)))
    first = finished(ProcessRunner(experiment(steps=60), steps=25))
    assert first.record.resume_state["optimizer"]  # sent as the run ended
    checkpoint = first.record.checkpoint(run={"busy_seconds": first.busy_seconds})
    more = ProcessRunner(experiment(steps=60), steps=60, start=checkpoint)
    assert more.history.step == first.history.step  # the mirror starts with the run so far
    assert more.busy_seconds == first.busy_seconds
    finished(more)
    assert more.history.loss == whole.history.loss
    # the same evaluations, and one more where the first part ended (step 25)
    evals = {e["step"]: e["val_loss"] for e in more.history.evals}
    assert evals == {25: evals[25], **{e["step"]: e["val_loss"] for e in whole.history.evals}}
    assert more.busy_seconds > first.busy_seconds  # the clock goes on from where it was


def spied(runner: ProcessRunner) -> list[tuple[str, dict]]:
    """The messages the training process sends, as the parent receives them."""
    seen = []
    receive = runner._receive

    def spy(kind, payload):
        seen.append((kind, payload))
        receive(kind, payload)

    runner._receive = spy
    return seen


def test_the_learning_rate_and_clipping_change_while_it_trains():
    runner = ProcessRunner(experiment(steps=100_000, optimizer="sgd", lr=0.01, clip_norm=1e-4))
    seen = spied(runner)
    try:
        runner.start()
        assert wait_for(lambda: len(runner.history.step) >= 3)
        runner.pause()
        assert wait_for(lambda: runner.state == "paused")
        with pytest.raises(SpecError, match="train.lr: input should be greater than 0"):
            runner.change(lr=0)
        assert runner.change(lr=0.05, clip_norm=None)
        assert wait_for(lambda: runner.history.changes)  # applied while paused
        (change,) = runner.history.changes
        at = change["step"]
        assert change == {"step": at, "lr": 0.05, "clip_norm": None}
        assert at == runner.history.step[-1]  # after the last step it took
        assert (runner.record.spec.lr, runner.record.spec.clip_norm) == (0.05, None)
        assert runner.record.exp.train.lr == 0.01  # the document it started from
        runner.resume()
        assert wait_for(lambda: len(runner.history.step) >= at + 3)
    finally:
        runner.stop()
    assert wait_for(lambda: not runner.alive)
    steps = [payload for kind, payload in seen if kind == "step"]
    assert {(p["lr"], p["clipped"]) for p in steps if p["step"] <= at} == {(0.01, True)}
    assert {(p["lr"], p["clipped"]) for p in steps if p["step"] > at} == {(0.05, False)}
    order = [(kind, p.get("step")) for kind, p in seen if kind in ("change", "step")]
    assert order.index(("change", at)) == order.index(("step", at)) + 1  # between two steps
    # a run that has ended takes no change
    assert runner.change(lr=0.1) is False and len(runner.history.changes) == 1
    assert runner.record.checkpoint().history["changes"] == runner.history.changes


def test_a_change_for_a_queued_run_is_applied_as_it_starts():
    slots = TrainingSlots(limit=1)
    first = ProcessRunner(experiment(steps=100_000), slots=slots)
    queued = ProcessRunner(experiment(steps=5, lr=0.01), slots=slots)
    seen = spied(queued)
    try:
        first.start()
        assert wait_for(lambda: first.state == "running")
        queued.start()
        assert wait_for(lambda: queued.state == "queued")
        assert queued.change(lr=0.02)
        first.stop()
        assert wait_for(lambda: not queued.alive) and queued.state == "finished"
    finally:
        first.stop()
        queued.stop()
    assert queued.history.changes == [{"step": 0, "lr": 0.02, "clip_norm": 1.0}]
    assert [p["lr"] for kind, p in seen if kind == "step"] == [0.02] * 5
