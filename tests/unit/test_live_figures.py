"""Figures of the Train and Inspect pages: curves, task views, probe heatmaps."""

import json
import math

import pytest
import torch

from designer import Experiment, Trainer, build_model, get_task
from designer.figures.curves import (
    MAX_POINTS,
    downsample,
    figure,
    grad_norm_chart,
    loss_chart,
    metric_chart,
)
from designer.figures.probes import (
    MAX_UNITS,
    gradient_heatmap,
    gradient_lines,
    param_grad_figure,
    pca_figure,
    spectral_figure,
    state_heatmap,
)
from designer.figures.tasks import model_view
from designer.tasks import TASKS
from designer.training.trainer import History


def test_downsample_keeps_short_series_and_buckets_long_ones():
    assert downsample([1, 2, 3], [4.0, 5.0, 6.0]) == ([1, 2, 3], [4.0, 5.0, 6.0])
    steps = list(range(1, 10_001))
    values = [float(s % 10) for s in steps]
    x, y = downsample(steps, values)
    assert len(x) == len(y) == MAX_POINTS
    assert x == sorted(x) and all(y_ == pytest.approx(4.5, abs=0.6) for y_ in y)
    spikes = [0.0] * 10_000
    spikes[5_000] = 100.0
    _, peak = downsample(steps, spikes, reduce="max")
    assert max(peak) == 100.0  # a spike survives as the bucket maximum


def trained(steps: int = 30, **train) -> Trainer:
    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 15},
            "model": {
                "layers": [
                    {"type": "lstm", "hidden_size": 8, "bidirectional": True},
                    {"type": "gru", "hidden_size": 6},
                ]
            },
            "train": {
                "batch_size": 16,
                "eval_every": 10,
                "probe_every": 10,
                "clip_norm": 0.05,
                **train,
            },
        }
    )
    trainer = Trainer(exp)
    list(trainer.run(steps))
    return trainer


def test_training_curves_show_train_val_baseline_and_clipping():
    trainer = trained()
    history = trainer.history.snapshot()
    loss = loss_chart(history, trainer.task.baseline_loss(), log=True)
    assert [s["name"] for s in loss["series"]] == ["train loss", "validation loss"]
    assert loss["series"][1]["x"] == [10, 20, 30]
    assert loss["hlines"] == [
        {"y": trainer.task.baseline_loss(), "color": "#7f8c8d", "dash": "dash", "label": "baseline"}
    ]
    assert loss["log"] and not loss_chart(history, None, log=False)["log"]
    grads = grad_norm_chart(history, clip_norm=0.05)
    clipped = [s for s in grads["series"] if s["name"].startswith("clipped")]
    assert clipped and f"({sum(history.clipped)} steps)" in clipped[0]["name"]
    assert grads["hlines"][0]["y"] == 0.05
    metric = metric_chart(history, "mse")
    assert metric["series"][0]["y"] == [e["val_metric"] for e in history.evals]
    empty = loss_chart(History(), 0.1)
    assert empty["series"][0]["x"] == [] and empty["hlines"]  # no steps yet: still a chart


def test_charts_are_json_and_become_the_same_plotly_figures():
    trainer = trained()
    history = trainer.history.snapshot()
    history.loss[-1] = float("nan")  # a diverged last step is a gap, not invalid JSON
    chart = loss_chart(history, trainer.task.baseline_loss(), log=True)
    assert json.loads(json.dumps(chart, allow_nan=False)) == chart
    assert chart["series"][0]["y"][-1] is None
    fig = figure(chart)
    baseline = f"baseline {trainer.task.baseline_loss():.3g}"
    assert [t.name for t in fig.data] == ["train loss", "validation loss", baseline]
    assert list(fig.data[1].x) == [10, 20, 30]
    assert fig.layout.yaxis.type == "log" and fig.layout.title.text == "Loss"
    assert figure(loss_chart(history, None, log=False)).layout.yaxis.type == "linear"
    assert fig.layout.shapes[0].y0 == trainer.task.baseline_loss()


@pytest.mark.parametrize("name", list(TASKS))
def test_model_view_for_every_task(name):
    exp = Experiment.from_dict(
        {"task": {"name": name}, "model": {"layers": [{"type": "gru", "hidden_size": 8}]}}
    )
    task = get_task(exp.task)
    model = build_model(exp, task).eval()
    x, y = task.batch(8, seed=0, split="val")
    with torch.no_grad():
        fig = model_view(task, x, y, model(x))
    kinds = {trace.type for trace in fig.data}
    if task.kind == "regression":
        assert kinds == {"scatter"}
    elif task.per_step:
        assert kinds == {"heatmap"}
        (heat,) = fig.data
        # scored steps are green (2) or red (0); unscored ones grey (1)
        assert {v for row in heat.z for v in row} <= {0.0, 1.0, 2.0}
    else:
        assert kinds == {"table"}
    assert fig.layout.title.text


def test_probe_heatmaps_and_over_training_figures():
    trainer = trained(steps=30)
    probes = trainer.history.probes
    assert [p.step for p in probes] == [0, 10, 20, 30]
    last = probes[-1]
    heat = gradient_heatmap(last)
    assert list(heat.data[0].y) == ["input x", "0 lstm", "1 gru"]
    assert len(heat.data[0].z[0]) == 15
    hidden = state_heatmap(last.layers[0], sample=1)
    assert len(hidden.data[0].y) == 16  # 8 units in each of two directions
    forget = state_heatmap(last.layers[0], sample=0, gate="forget")
    assert forget.data[0].zmin == 0 and forget.data[0].zmax == 1
    cell_gate = state_heatmap(last.layers[0], sample=0, gate="cell")
    assert "cell gate" in cell_gate.layout.title.text
    cell_state = state_heatmap(last.layers[0], sample=0, what="cell")
    assert "cell state" in cell_state.layout.title.text
    lines = gradient_lines(last)
    assert any("cell c_t" in trace.name for trace in lines.data)
    grads = param_grad_figure(probes)
    assert {t.name for t in grads.data} == {"layer 0", "layer 1", "head"}
    assert all(len(t.x) == 4 for t in grads.data)
    spectral = spectral_figure(probes)
    assert len(spectral.data) == 4 * 2 + 3  # lstm gates x 2 directions, gru gates
    assert len(pca_figure(last, sample=0).data) == 2


def test_wide_heatmaps_are_capped():
    exp = Experiment.from_dict(
        {
            "task": {"name": "sine", "seq_len": 20},
            "model": {"layers": [{"type": "rnn", "hidden_size": 300}]},
        }
    )
    trainer = Trainer(exp)
    trainer.take_probe()
    fig = state_heatmap(trainer.history.probes[0].layers[0], 0)
    assert len(fig.data[0].y) <= MAX_UNITS
    assert math.isfinite(float(fig.data[0].z.max()))


def test_changes_of_settings_are_dotted_lines_on_the_loss_chart():
    trainer = trained(steps=10)  # clip_norm 0.05, lr 0.003
    trainer.change(lr=0.01, clip_norm=None)
    list(trainer.run(10))
    history = trainer.history.snapshot()
    chart = loss_chart(history, trainer.task.baseline_loss(), log=True, started_with=(0.003, 0.05))
    assert json.loads(json.dumps(chart, allow_nan=False)) == chart  # what the canvas receives
    *curves, mark = chart["series"]
    assert [s["name"] for s in curves] == ["train loss", "validation loss"]
    assert mark["name"] == "step 10: lr 0.003 → 0.01, clip 0.05 → off"
    assert mark["dash"] == "dot" and mark["mode"] == "lines" and mark["x"] == [10] * 4
    low, high = mark["y"][1:3]
    shown = [y for s in curves for y in s["y"]] + [trainer.task.baseline_loss()]
    assert mark["y"][0] is mark["y"][3] is None and (low, high) == (min(shown), max(shown))
    fig = figure(chart)
    assert fig.data[2].name == mark["name"] and list(fig.data[2].x) == [10] * 4
    # without the settings it started with, the line says those it changed to
    plain = loss_chart(history, None, log=False)
    assert plain["series"][-1]["name"] == "step 10: lr 0.01, clip off"
    # many changes: the last few named, the earlier ones on one line
    for lr in (0.02, 0.03, 0.04, 0.05):
        trainer.change(lr=lr)
        list(trainer.run(1))
    lines = loss_chart(trainer.history, None, started_with=(0.003, 0.05))["series"][2:]
    assert [s["name"] for s in lines] == [
        "2 earlier changes of settings",
        "step 21: lr 0.02 → 0.03",
        "step 22: lr 0.03 → 0.04",
        "step 23: lr 0.04 → 0.05",
    ]
    assert lines[0]["x"] == [10] * 4 + [20] * 4 and lines[0]["y"][4::4] == [None]
