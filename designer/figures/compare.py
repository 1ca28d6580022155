"""Figures of runs side by side (the Compare page, and the Train page while a run and
its variant train): one colour per run everywhere.

The curves over training are Charts (designer.figures.curves), drawn on a canvas while
a run trains and as plotly figures once all have ended; the gradient profiles and
spectral radii are plotly figures."""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from designer.figures.curves import Chart, chart, downsample, series
from designer.figures.style import GREY, PALE_GREY, SERIES_COLORS, laid_out
from designer.i18n import _
from designer.training.compare import RunDigest, label

RUN_COLORS = SERIES_COLORS[:4]  # A, B, C, D
LAYER_DASHES = ("solid", "dash", "dot", "dashdot")


def _name(index: int, run: RunDigest) -> str:
    """A run's label for a plotly figure, which would read HTML tags in it."""
    return html.escape(label(index, run))


def run_color(index: int) -> str:
    return RUN_COLORS[index % len(RUN_COLORS)]


def _x(run: RunDigest, against: str) -> tuple[list[float], list[float]]:
    """Each training step's x (step number or seconds of training) and each
    evaluation's."""
    h = run.history
    if against == "seconds":
        return list(h.time), [e.get("time", 0.0) for e in h.evals]
    return list(h.step), [e["step"] for e in h.evals]


def _baselines(runs: Sequence[RunDigest], metric: bool = False) -> list[dict]:
    """One dashed line per task's baseline loss (or metric); one line when all runs
    share a task."""
    seen: dict[str, float] = {}
    for run in runs:
        value = run.baseline_metric if metric else run.baseline
        if value is not None:
            seen.setdefault(run.task_words, value)
    named = len(seen) > 1
    return [
        {
            "y": value,
            "color": GREY,
            "dash": "dash",
            "label": _("baseline, {task}").format(task=task) if named else _("baseline"),
        }
        for task, value in seen.items()
    ]


def loss_overlay(runs: Sequence[RunDigest], against: str = "step", log: bool = True) -> Chart:
    """Every run's training loss (thin) and validation loss (thick, with markers),
    in the run's colour, with each task's baseline."""
    lines = []
    for i, run in enumerate(runs):
        x, x_eval = _x(run, against)
        sx, sy = downsample(x, run.history.loss)
        name = label(i, run)
        lines.append(series(_("{run} train").format(run=name), sx, sy, run_color(i), width=1.1))
        if run.history.evals:
            lines.append(
                series(
                    _("{run} validation").format(run=name),
                    x_eval,
                    [e["val_loss"] for e in run.history.evals],
                    run_color(i),
                    mode="lines+markers",
                    width=2.4,
                    size=5,
                )
            )
    return chart(_("Loss"), _("loss"), lines, log, 360, _baselines(runs), x_title=_x_title(against))


def metric_overlay(runs: Sequence[RunDigest], against: str = "step") -> Chart:
    metrics = sorted({_(run.metric_name) for run in runs})
    lines = [
        series(
            label(i, run),
            _x(run, against)[1],
            [e["val_metric"] for e in run.history.evals],
            run_color(i),
            mode="lines+markers",
            width=2,
            size=5,
        )
        for i, run in enumerate(runs)
    ]
    title = _("Validation {metric}").format(metric=" / ".join(metrics))
    hlines = _baselines(runs, metric=True)
    return chart(title, " / ".join(metrics), lines, False, 280, hlines, _x_title(against))


def grad_norm_overlay(runs: Sequence[RunDigest], against: str = "step", log: bool = True) -> Chart:
    """The gradient norm before clipping (bucket maxima, so spikes stay visible)."""
    lines = []
    for i, run in enumerate(runs):
        x = _x(run, against)[0]
        sx, sy = downsample(x, run.history.grad_norm, reduce="max")
        lines.append(series(label(i, run), sx, sy, run_color(i), width=1.3))
    return chart(
        _("Gradient norm (before clipping)"), "‖∇‖", lines, log, 280, x_title=_x_title(against)
    )


def _x_title(against: str) -> str:
    return _("seconds of training") if against == "seconds" else _("step")


def _recurrent_depth(runs: Sequence[RunDigest]) -> int:
    return max((len(run.profile) for run in runs), default=0)


def _index(run: RunDigest, k: int) -> int:
    """The stack index of the run's k-th recurrent layer (k itself if it is not probed)."""
    return run.profile[k]["index"] if k < len(run.profile) else k


def profile_figure(runs: Sequence[RunDigest], height: int = 320) -> go.Figure:
    """||dL/dh_t|| of each run's last probe against how many steps before the last
    step t lies, per recurrent layer (bottom first), log scale: a gradient that
    vanishes falls as a straight line; one that is carried stays flat."""
    depth = max(1, _recurrent_depth(runs))
    titles = []  # each recurrent layer by its index in the stack, as everywhere in the app
    for k in range(depth):  # no run probed yet (they have just begun): no titles
        first = next((run.profile[k] for run in runs if k < len(run.profile)), None)
        if first is not None:
            words = _("layer {index} ({type})")
            titles.append(words.format(index=first["index"], type=first["type"]))
    fig = make_subplots(rows=1, cols=depth, subplot_titles=titles, shared_yaxes=True)
    for i, run in enumerate(runs):
        for k, layer in enumerate(run.profile):
            T = len(layer["grad_norm"])
            fig.add_trace(
                go.Scatter(
                    x=list(range(T)),
                    # an exact zero (the gradient underflowed) is left out: log scale
                    y=[v if v > 0 else None for v in reversed(layer["grad_norm"])],
                    mode="lines",
                    name=_name(i, run),
                    legendgroup=str(i),
                    showlegend=k == 0,
                    line={"color": run_color(i), "width": 2},
                    hovertemplate=_(
                        "{run}<br>layer {layer} ({type})<br>{x} steps back: {y}"
                    ).format(
                        run=_name(i, run),
                        layer=layer["index"],
                        type=layer["type"],
                        x="%{x}",
                        y="%{y:.3g}",
                    )
                    + "<extra></extra>",
                ),
                row=1,
                col=k + 1,
            )
    fig.update_yaxes(type="log", exponentformat="power", showgrid=True, gridcolor=PALE_GREY)
    fig.update_yaxes(title_text="‖dL/dh_t‖", row=1, col=1)
    fig.update_xaxes(
        title_text=_("steps back from the last step"), showgrid=True, gridcolor=PALE_GREY
    )
    fig.update_annotations(font_size=12)  # the subplot titles
    return laid_out(
        fig,
        _("How far back the gradient reaches (last probe of each run)"),
        height + 40,
        top=40,
        bottom=100,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0, "xanchor": "left"},
    )


def radius_figure(runs: Sequence[RunDigest], height: int = 300) -> go.Figure:
    """The spectral radius of each recurrent layer's W_hh (the largest over its gate
    blocks and directions) at each probe over training; above 1 a linearised
    recurrence amplifies, below 1 it forgets."""
    fig = go.Figure()
    for i, run in enumerate(runs):
        depth = max((len(radii) for _, radii in run.radii), default=0)
        for k in range(depth):
            points = [(step, radii[k]) for step, radii in run.radii if k < len(radii)]
            fig.add_trace(
                go.Scatter(
                    x=[s for s, _ in points],
                    y=[r for _, r in points],
                    mode="lines+markers",
                    name=_("{run}, layer {k}").format(run=_name(i, run), k=_index(run, k)),
                    line={"color": run_color(i), "dash": LAYER_DASHES[k % len(LAYER_DASHES)]},
                    marker={"size": 5},
                )
            )
    fig.add_hline(y=1.0, line={"dash": "dash", "color": GREY, "width": 1})
    return laid_out(
        fig,
        _("Spectral radius of the recurrent weights over training"),
        height + 60,
        top=40,
        bottom=100,
        xaxis_title=_("step"),
        yaxis_title=_("max |eigenvalue| of W_hh"),
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0, "xanchor": "left"},
    )
