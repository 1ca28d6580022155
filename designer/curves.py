"""Training curves: loss (train and validation, with the task's baseline), the
task's metric, and the gradient norm with the steps where clipping acted.

Every redraw sends the whole figure to the browser, so long histories are reduced
to at most MAX_POINTS points (means over equal buckets of steps; for the gradient
norm the bucket's largest value, so that spikes stay visible)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from designer.train import History

MAX_POINTS = 600
TRAIN_COLOR = "#2e86de"
VAL_COLOR = "#e67e22"
BASELINE_COLOR = "#7f8c8d"
CLIP_COLOR = "#e74c3c"


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


def _layout(fig: go.Figure, title: str, y_title: str, log: bool, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
        xaxis_title="step",
        yaxis={"title": y_title, "type": "log" if log else "linear"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 1, "xanchor": "right"},
        plot_bgcolor="white",
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eef0f2", rangemode="tozero")
    fig.update_yaxes(showgrid=True, gridcolor="#eef0f2")
    return fig


def loss_figure(
    history: History, baseline: float | None = None, log: bool = True, height: int = 320
) -> go.Figure:
    """Training loss (per step, bucket means), validation loss, and the baseline."""
    fig = go.Figure()
    x, y = downsample(history.step, history.loss)
    fig.add_trace(
        go.Scatter(
            x=x, y=y, mode="lines", name="train loss", line={"color": TRAIN_COLOR, "width": 1.5}
        )
    )
    if history.evals:
        fig.add_trace(
            go.Scatter(
                x=[e["step"] for e in history.evals],
                y=[e["val_loss"] for e in history.evals],
                mode="lines+markers",
                name="validation loss",
                line={"color": VAL_COLOR, "width": 2},
                marker={"size": 6},
            )
        )
    if baseline is not None:
        fig.add_hline(
            y=baseline,
            line={"color": BASELINE_COLOR, "dash": "dash", "width": 1.5},
            annotation_text=f"baseline {baseline:.3g}",
            annotation_position="top left",
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name="baseline",
                line={"color": BASELINE_COLOR, "dash": "dash"},
            )
        )
    return _layout(fig, "Loss", "loss", log, height)


def metric_figure(history: History, metric: str, height: int = 260) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=[e["step"] for e in history.evals],
            y=[e["val_metric"] for e in history.evals],
            mode="lines+markers",
            name=f"validation {metric}",
            line={"color": VAL_COLOR, "width": 2},
        )
    )
    return _layout(fig, f"Validation {metric}", metric, False, height)


def grad_norm_figure(
    history: History, clip_norm: float | None = None, log: bool = True, height: int = 260
) -> go.Figure:
    """The gradient norm before clipping (bucket maxima), the clipping threshold,
    and a mark at every step where clipping acted."""
    fig = go.Figure()
    x, y = downsample(history.step, history.grad_norm, reduce="max")
    fig.add_trace(
        go.Scatter(
            x=x, y=y, mode="lines", name="gradient norm", line={"color": "#8e44ad", "width": 1.3}
        )
    )
    clipped = [
        (s, g)
        for s, g, c in zip(history.step, history.grad_norm, history.clipped, strict=True)
        if c
    ]
    if clipped:
        cx, cy = downsample([s for s, _ in clipped], [g for _, g in clipped], reduce="max")
        fig.add_trace(
            go.Scatter(
                x=cx,
                y=cy,
                mode="markers",
                name=f"clipped ({len(clipped):,} steps)",
                marker={"color": CLIP_COLOR, "size": 5, "symbol": "x"},
            )
        )
    if clip_norm is not None:
        fig.add_hline(
            y=clip_norm,
            line={"color": CLIP_COLOR, "dash": "dot", "width": 1},
            annotation_text=f"clip at {clip_norm:g}",
            annotation_position="top left",
        )
    return _layout(fig, "Gradient norm (before clipping)", "‖∇‖", log, height)
