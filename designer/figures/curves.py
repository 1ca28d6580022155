"""Training curves (the Train page), from a run's history: loss (train and
validation, with the task's baseline), the task's metric, and the gradient norm with
the steps where clipping acted. Where the learning rate or clipping was changed
while the run trained (History.changes), the loss chart has a dotted vertical line.

Each curve is first described as a plain `Chart` (a JSON-ready dict: series of
points, horizontal reference lines, axis settings). While a run trains, the Train
page draws these on a canvas (components.train.live_chart), which costs the browser a
few milliseconds a redraw where a plotly figure costs a hundred; `figure(chart)`
turns the same description into a plotly figure, to zoom and hover once the run
has ended.

Every redraw sends the whole chart, so long histories are reduced to at most
MAX_POINTS points (means over equal buckets of steps; for the gradient norm the
bucket's largest value, so that spikes stay visible)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import plotly.graph_objects as go

from designer.figures.style import BLUE, GREEN, GREY, ORANGE, PALE_GREY, PURPLE, RED, laid_out
from designer.i18n import _, ngettext

MAX_POINTS = 600
TRAIN_COLOR = BLUE
VAL_COLOR = ORANGE
BASELINE_COLOR = GREY
CLIP_COLOR = RED
GRAD_COLOR = PURPLE
CHANGE_COLOR = GREEN
MAX_CHANGE_LABELS = 3  # changes named one by one in the legend; earlier ones share a line

Chart = dict[str, Any]


def term(word: str) -> str:
    """A task's metric name or loss unit ('accuracy', 'bits per char') in the reader's
    language (an empty one stays empty: gettext's empty message is its catalog header)."""
    return _(word) if word else word


class TrainingHistory(Protocol):
    """What the charts read of a run's history (designer.training.trainer.History has it, and so
    does its snapshot): per training step its number, loss, gradient norm before
    clipping and whether clipping acted; and the evaluations, each a mapping with
    'step', 'val_loss' and 'val_metric'."""

    @property
    def step(self) -> Sequence[int]: ...

    @property
    def loss(self) -> Sequence[float]: ...

    @property
    def grad_norm(self) -> Sequence[float]: ...

    @property
    def clipped(self) -> Sequence[bool]: ...

    @property
    def evals(self) -> Sequence[Mapping[str, float]]: ...

    # and, when it has them, `changes`: the settings changed while training, each a
    # mapping with 'step', 'lr' and 'clip_norm' (designer.training.trainer.History.changes)


def downsample(
    steps: Sequence[int], values: Sequence[float], reduce: str = "mean", points: int = MAX_POINTS
) -> tuple[list[float], list[float]]:
    """At most `points` points: each bucket of consecutive steps becomes one point
    at its mean step, with the bucket's mean (or max) value."""
    if len(values) <= points:
        return list(steps), list(values)
    edges = np.linspace(0, len(values), points + 1).astype(int)
    s, v = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    fold = np.maximum.reduceat if reduce == "max" else np.add.reduceat
    counts = np.diff(edges)
    x = np.add.reduceat(s, edges[:-1]) / counts
    y = fold(v, edges[:-1]) / (counts if reduce == "mean" else 1)
    return x.tolist(), y.tolist()


def _finite(values: Sequence[float]) -> list[float | None]:
    """JSON has no NaN or infinity (a diverging run ends with them): gaps instead."""
    return [v if v is not None and math.isfinite(v) else None for v in values]


def series(
    name: str,
    x: Sequence[float],
    y: Sequence[float],
    color: str,
    mode: str = "lines",
    width: float = 1.5,
    dash: str = "solid",
    symbol: str = "circle",
    size: float = 6,
) -> dict[str, Any]:
    """One series of a Chart. mode: lines, markers or lines+markers; dash: solid,
    dash or dot; symbol: circle or x."""
    return {
        "name": name,
        "x": list(x),
        "y": _finite(y),
        "color": color,
        "mode": mode,
        "width": width,
        "dash": dash,
        "symbol": symbol,
        "size": size,
    }


def chart(
    title: str,
    y_title: str,
    lines: list[dict[str, Any]],
    log: bool = False,
    height: int = 260,
    hlines: list[dict[str, Any]] | None = None,
    x_title: str | None = None,
) -> Chart:
    """A chart over training steps or seconds (the x axis starts at 0); the x axis
    is titled "step" unless `x_title` says otherwise."""
    return {
        "title": title,
        "x_title": _("step") if x_title is None else x_title,
        "y_title": y_title,
        "log": log,
        "height": height,
        "series": lines,
        "hlines": hlines or [],
    }


def loss_chart(
    history: TrainingHistory,
    baseline: float | None = None,
    log: bool = True,
    height: int = 320,
    unit: str = "",
    started_with: tuple[float, float | None] | None = None,
) -> Chart:
    """Training loss (per step, bucket means), validation loss, and the baseline;
    `unit` (the task's loss_unit, e.g. bits per char) names the y axis's unit. Each
    change of settings made while training is a dotted vertical line at its step,
    named by what changed ("lr 0.01 → 0.003"); `started_with`, the run's first
    (lr, clip_norm), gives the first change's "before"."""
    x, y = downsample(history.step, history.loss)
    lines = [series(_("train loss"), x, y, TRAIN_COLOR)]
    if history.evals:
        lines.append(
            series(
                _("validation loss"),
                [e["step"] for e in history.evals],
                [e["val_loss"] for e in history.evals],
                VAL_COLOR,
                mode="lines+markers",
                width=2,
            )
        )
    hlines = []
    if baseline is not None:
        hlines.append(
            {"y": baseline, "color": BASELINE_COLOR, "dash": "dash", "label": _("baseline")}
        )
    changes = getattr(history, "changes", ())
    if changes:
        lines += change_lines(changes, lines, hlines, log, started_with)
    y_title = _("loss ({unit})").format(unit=term(unit)) if unit else _("loss")
    return chart(_("Loss"), y_title, lines, log, height, hlines)


def _setting(value: float | None) -> str:
    return _("off") if value is None else f"{value:g}"


def change_label(
    change: Mapping[str, Any], before: tuple[float, float | None] | None
) -> str | None:
    """What a change of settings did, in short: "lr 0.01 → 0.003", "clip 1 → off",
    both joined by a comma; without `before` (the settings it replaced), the new ones
    ("lr 0.003, clip off"). None when it changed nothing."""
    after = (change["lr"], change["clip_norm"])
    if before is None:
        return _("lr {lr}, clip {clip}").format(lr=_setting(after[0]), clip=_setting(after[1]))
    lr = {"lr_old": _setting(before[0]), "lr_new": _setting(after[0])}
    clip = {"clip_old": _setting(before[1]), "clip_new": _setting(after[1])}
    lr_changed, clip_changed = before[0] != after[0], before[1] != after[1]
    if lr_changed and clip_changed:
        return _("lr {lr_old} → {lr_new}, clip {clip_old} → {clip_new}").format(**lr, **clip)
    if lr_changed:
        return _("lr {lr_old} → {lr_new}").format(**lr)
    if clip_changed:
        return _("clip {clip_old} → {clip_new}").format(**clip)
    return None


def change_lines(
    changes: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    hlines: Sequence[Mapping[str, Any]],
    log: bool,
    started_with: tuple[float, float | None] | None = None,
) -> list[dict[str, Any]]:
    """Dotted vertical lines at the steps where settings changed, spanning the values
    the chart's `lines` and `hlines` show (a few numbers per change: cheap at every
    redraw of the live chart). The last MAX_CHANGE_LABELS each have a legend entry
    "step s: lr a → b"; earlier ones share one. A change at step s was made after
    step s and acted from step s + 1.

    Each line is [gap, low, high, gap]: the canvas chart's hover read-out (the point
    nearest the pointer, the first of equal steps) finds the gap there and reads no
    value off the line, and its description skips a series that ends in one."""
    values = [
        y
        for y in [*(v for s in lines for v in s["y"]), *(h["y"] for h in hlines)]
        if y is not None and math.isfinite(y) and (y > 0 or not log)
    ]
    if not values:
        return []
    low, high = min(values), max(values)
    marks = []
    before = started_with
    for change in changes:
        label = change_label(change, before)
        before = (change["lr"], change["clip_norm"])
        if label is not None:
            marks.append(
                (
                    change["step"],
                    _("step {step}: {change}").format(step=f"{change['step']:,}", change=label),
                )
            )
    earlier, named = marks[:-MAX_CHANGE_LABELS], marks[-MAX_CHANGE_LABELS:]
    out = []
    if earlier:
        x = [s for s, _label in earlier for _copy in range(4)]
        y = [None, low, high, None] * len(earlier)
        name = ngettext(
            "{n} earlier change of settings", "{n} earlier changes of settings", len(earlier)
        ).format(n=len(earlier))
        out.append(series(name, x, y, CHANGE_COLOR, width=1.2, dash="dot"))
    for x, name in named:
        out.append(
            series(name, [x] * 4, [None, low, high, None], CHANGE_COLOR, width=1.2, dash="dot")
        )
    return out


def metric_chart(
    history: TrainingHistory, metric: str, baseline: float | None = None, height: int = 260
) -> Chart:
    """The validation metric, with the reference predictor's (the task's baseline)."""
    hlines = []
    if baseline is not None:
        hlines.append(
            {"y": baseline, "color": BASELINE_COLOR, "dash": "dash", "label": _("baseline")}
        )
    line = series(
        _("validation {metric}").format(metric=term(metric)),
        [e["step"] for e in history.evals],
        [e["val_metric"] for e in history.evals],
        VAL_COLOR,
        mode="lines+markers",
        width=2,
    )
    title = _("Validation {metric}").format(metric=term(metric))
    return chart(title, term(metric), [line], False, height, hlines)


def grad_norm_chart(
    history: TrainingHistory, clip_norm: float | None = None, log: bool = True, height: int = 260
) -> Chart:
    """The gradient norm before clipping (bucket maxima), the clipping threshold,
    and a mark at every step where clipping acted."""
    x, y = downsample(history.step, history.grad_norm, reduce="max")
    lines = [series(_("gradient norm"), x, y, GRAD_COLOR, width=1.3)]
    clipped = [
        (s, g)
        for s, g, c in zip(history.step, history.grad_norm, history.clipped, strict=True)
        if c
    ]
    if clipped:
        cx, cy = downsample([s for s, _ in clipped], [g for _, g in clipped], reduce="max")
        lines.append(
            series(
                _("clipped ({n} steps)").format(n=f"{len(clipped):,}"),
                cx,
                cy,
                CLIP_COLOR,
                mode="markers",
                symbol="x",
                size=5,
            )
        )
    hlines = []
    if clip_norm is not None:
        hlines.append(
            {"y": clip_norm, "color": CLIP_COLOR, "dash": "dot", "label": _("clip threshold")}
        )
    return chart(_("Gradient norm (before clipping)"), "‖∇‖", lines, log, height, hlines)


def figure(spec: Chart) -> go.Figure:
    """The chart as a plotly figure (zoom, hover, download)."""
    fig = go.Figure()
    for s in spec["series"]:
        fig.add_trace(
            go.Scatter(
                x=s["x"],
                y=s["y"],
                mode=s["mode"],
                name=html.escape(s["name"]),  # a run's name is the visitor's text
                line={"color": s["color"], "width": s["width"], "dash": s["dash"]},
                marker={"color": s["color"], "size": s["size"], "symbol": s["symbol"]},
            )
        )
    for h in spec["hlines"]:
        # named in the legend, not by an annotation (plotly places those wrongly on
        # a log axis)
        fig.add_hline(y=h["y"], line={"color": h["color"], "dash": h["dash"], "width": 1.5})
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=f"{h['label']} {h['y']:.3g}",
                line={"color": h["color"], "dash": h["dash"]},
            )
        )
    laid_out(
        fig,
        # the title, then the legend on a line of its own (as on the canvas)
        spec["title"],
        spec["height"],
        top=64,
        bottom=40,
        title_size=15,
        title_at={"y": 0.98, "yanchor": "top"},
        xaxis_title=spec["x_title"],
        yaxis={"title": spec["y_title"], "type": "log" if spec["log"] else "linear"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"},
        plot_bgcolor="white",
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=True, gridcolor=PALE_GREY, rangemode="tozero")
    fig.update_yaxes(showgrid=True, gridcolor=PALE_GREY)
    return fig
