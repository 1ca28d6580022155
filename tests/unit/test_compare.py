"""Runs side by side: the digest of a run, the metrics table, why runs of different
tasks do not compare, and the overlaid figures (one colour per run)."""

from dataclasses import replace

import pytest

from designer import Experiment, Trainer
from designer.figures.compare import (
    grad_norm_overlay,
    loss_overlay,
    metric_overlay,
    profile_figure,
    radius_figure,
    run_color,
)
from designer.figures.curves import figure
from designer.serving.runstore import StoredRun
from designer.training.compare import changes, digest, metrics_rows, why_not_comparable


def kept(layers, task=None, steps=20, name="run") -> StoredRun:
    exp = Experiment.from_dict(
        {
            "task": task or {"name": "adding", "seq_len": 10},
            "model": {"layers": layers},
            "train": {"batch_size": 8, "eval_every": 5, "probe_every": 10},
        }
    )
    trainer = Trainer(exp)
    list(trainer.run(steps))
    return StoredRun(trainer.checkpoint(run={"name": name, "id": name, "busy_seconds": 2.5}))


@pytest.fixture(scope="module")
def pair():
    rnn = kept([{"type": "rnn", "hidden_size": 6}, {"type": "rnn", "hidden_size": 6}], name="rnn")
    lstm = kept(
        [{"type": "lstm", "hidden_size": 6}, {"type": "lstm", "hidden_size": 6}], name="lstm"
    )
    return [digest(rnn), digest(lstm)], (rnn, lstm)


def test_a_digest_holds_the_curves_the_profile_and_the_counters(pair):
    (a, _), (rnn, _) = pair
    assert a.id == "rnn" and a.name == "rnn" and a.state == "finished" and not a.alive
    assert a.history.loss == rnn.history.loss and a.history.probes == []  # no states kept
    assert [layer["index"] for layer in a.profile] == [0, 1]
    assert a.profile[0]["grad_norm"] == rnn.history.probes[-1].layers[0]["grad_norm"]
    assert [step for step, _ in a.radii] == [p.step for p in rnn.history.probes]
    radius = rnn.history.probes[-1].layers[1]["spectral_radius"]["recurrent"][0]
    assert a.radii[-1][1][1] == radius
    assert a.parameters == sum(p.numel() for p in rnn.record.model.parameters())
    assert a.seconds == 2.5 and a.clipped_steps == rnn.record.clipped_steps


def test_the_metrics_table_and_the_changes(pair):
    runs, _ = pair
    rows = metrics_rows(runs)
    assert [r["run"] for r in rows] == ["A: rnn", "B: lstm"]
    assert rows[1]["validation loss"] == runs[1].history.evals[-1]["val_loss"]
    assert rows[0]["steps"] == 20 and rows[0]["parameters"] == runs[0].parameters
    assert changes(runs) == [("B", ["layers 0, 1: RNN → LSTM"])]
    assert why_not_comparable(runs) is None


def test_runs_of_different_tasks_say_why_their_losses_do_not_compare(pair):
    runs, _ = pair
    sine = digest(kept([{"type": "gru", "hidden_size": 4}], task={"name": "sine", "seq_len": 10}))
    reason = why_not_comparable([runs[0], sine])
    assert "different tasks" in reason and "adding (seq_len 10)" in reason and "sine" in reason
    chart = loss_overlay([runs[0], sine])
    assert len(chart["hlines"]) == 2  # each task's own baseline, named
    assert all("baseline, " in h["label"] for h in chart["hlines"])


def test_overlaid_curves_have_one_colour_per_run(pair):
    runs, _ = pair
    chart = loss_overlay(runs)
    assert [s["name"] for s in chart["series"]] == [
        "A: rnn train",
        "A: rnn validation",
        "B: lstm train",
        "B: lstm validation",
    ]
    assert [s["color"] for s in chart["series"]] == [run_color(0)] * 2 + [run_color(1)] * 2
    assert chart["hlines"][0]["label"] == "baseline"
    by_seconds = loss_overlay(runs, against="seconds")
    assert by_seconds["x_title"] == "seconds of training"
    assert by_seconds["series"][0]["x"] == runs[0].history.time
    for spec in (chart, metric_overlay(runs), grad_norm_overlay(runs)):
        figure(spec)  # each also draws as a plotly figure


def test_the_gradient_profile_counts_back_from_the_last_step(pair):
    runs, _ = pair
    fig = profile_figure(runs)
    traces = [t for t in fig.data]
    assert len(traces) == 4  # 2 runs x 2 recurrent layers
    first = traces[0]
    assert list(first.x) == list(range(10))
    assert first.y[0] == max(runs[0].profile[0]["grad_norm"][-1], 1e-30)  # 0 steps back
    assert first.line.color == run_color(0) and traces[2].line.color == run_color(1)
    radius = radius_figure(runs)
    assert len(radius.data) == 4 and radius.data[0].line.color == run_color(0)
    # runs that have just begun, not probed yet: an empty figure, not an error
    begun = [replace(run, profile=[], radii=[]) for run in runs]
    assert not profile_figure(begun).data and not radius_figure(begun).data
