"""What the model does now, drawn for its task: predicted against true series for
forecasting, predictions against targets for the adding problem, the recalled
symbols and bracket tags step by step, and answers for sequence classification.

`model_view(task, x, y, pred)` takes a few validation samples and the model's
prediction for them (computed by the caller, who knows when the model is safe to
run) and returns a small plotly figure."""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from designer.preview import MAX_TOKEN_STEPS, target_labels, token_grid, token_labels
from designer.tasks import IGNORE, Task

TRUE_COLOR = "#7f8c8d"
PRED_COLOR = "#2e86de"
CHANNEL_COLORS = ("#2e86de", "#e67e22", "#10ac84")
RIGHT, WRONG, UNSCORED = 2.0, 0.0, 1.0


def _layout(fig: go.Figure, title: str, height: int = 300) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 1, "xanchor": "right"},
    )
    return fig


def _series(task: Task, y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """Forecasting: the first sample's true next values and the predictions."""
    names = list(
        getattr(task, "target_columns", None) or getattr(task, "channel_names", None) or []
    )
    fig = go.Figure()
    t = list(range(y.shape[1]))
    for k in range(min(y.shape[2], 3)):
        name = names[k] if k < len(names) else ("value" if y.shape[2] == 1 else f"channel {k}")
        true_colour, pred_colour = (
            (TRUE_COLOR, PRED_COLOR) if y.shape[2] == 1 else (CHANNEL_COLORS[k],) * 2
        )
        fig.add_trace(
            go.Scatter(
                x=t,
                y=y[0, :, k].tolist(),
                name=f"true {name}",
                line={"color": true_colour, "width": 2},
                legendgroup=str(k),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=t,
                y=pred[0, :, k].tolist(),
                name=f"predicted {name}",
                line={"color": pred_colour, "dash": "dot", "width": 2},
                legendgroup=str(k),
            )
        )
    fig.update_xaxes(title_text="time step t")
    more = f" (first 3 of {y.shape[2]} channels)" if y.shape[2] > 3 else ""
    return _layout(fig, "Next-step forecast on a validation sequence" + more)


def _scatter(y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """Last-step regression: each validation sample's prediction against its target."""
    true, guess = y[:, 0].tolist(), pred[:, 0].tolist()
    low, high = min(true + guess), max(true + guess)
    fig = go.Figure(
        [
            go.Scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                name="perfect",
                line={"color": TRUE_COLOR, "dash": "dash"},
            ),
            go.Scatter(
                x=true,
                y=guess,
                mode="markers",
                name="validation samples",
                marker={"color": PRED_COLOR, "size": 7, "opacity": 0.7},
            ),
        ]
    )
    fig.update_xaxes(title_text="target")
    fig.update_yaxes(title_text="prediction")
    return _layout(fig, "Predictions against targets (validation samples)", 320)


def _tokens(task: Task, x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """Per-step classification: for a few samples, the predicted label at each step,
    green where right, red where wrong, grey where the step is not scored."""
    samples = min(4, x.shape[0])
    steps = min(x.shape[1], MAX_TOKEN_STEPS)
    guesses = pred.argmax(-1)
    z, text, rows = [], [], []
    for b in range(samples):
        truth = y[b, :steps].tolist()
        guess = guesses[b, :steps].tolist()
        z.append(
            [
                UNSCORED if c == IGNORE else RIGHT if c == g else WRONG
                for c, g in zip(truth, guess, strict=True)
            ]
        )
        text.append(
            target_labels(
                task, [g if c != IGNORE else IGNORE for c, g in zip(truth, guess, strict=True)]
            )
        )
        rows.append(f"sample {b} predicted")
        z.append([UNSCORED] * steps)
        text.append(token_labels(task, x[b, :steps].tolist()))
        rows.append(f"sample {b} input")
    fig = token_grid(z, text, rows, [[0, "#f5b7b1"], [0.5, "#f0f2f6"], [1, "#abebc6"]])
    fig.update_xaxes(title_text="time step t")
    cut = f" (first {steps} of {x.shape[1]} steps)" if x.shape[1] > steps else ""
    return _layout(
        fig, "Predictions step by step: green right, red wrong" + cut, 120 + 34 * len(rows)
    )


def _answers(task: Task, x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """Sequence classification: a few samples, their answer and the model's."""
    samples = min(6, x.shape[0])
    probs = pred.softmax(-1)
    inputs, truth, guess, confidence = [], [], [], []
    for b in range(samples):
        if task.token_input:
            words = [w for w in token_labels(task, x[b].tolist()) if w != "·"]
            inputs.append(" ".join(words))
        else:
            inputs.append("".join(str(int(v)) for v in x[b, :, 0].tolist()))
        truth.append(int(y[b]))
        guess.append(int(probs[b].argmax()))
        confidence.append(f"{float(probs[b].max()):.0%}")
    names = {"sentiment": ("negative", "positive"), "parity": ("even", "odd")}.get(task.name)

    def label(c: int) -> str:
        return names[c] if names else str(c)

    marks = ["✓" if t == g else "✗" for t, g in zip(truth, guess, strict=True)]
    fig = go.Figure(
        go.Table(
            columnwidth=[6, 1.3, 1.3, 1, 0.5],
            header={
                "values": ["input", "answer", "model", "sure", ""],
                "align": "left",
                "fill_color": "#eef0f2",
            },
            cells={
                "values": [
                    inputs,
                    [label(c) for c in truth],
                    [label(c) for c in guess],
                    confidence,
                    marks,
                ],
                "align": "left",
                "height": 26,
            },
        )
    )
    return _layout(fig, "Answers on validation samples", 90 + 28 * samples)


def model_view(task: Task, x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """The figure that shows best what the model does now on this task."""
    x, y, pred = x.cpu(), y.cpu(), pred.detach().float().cpu()
    if task.kind == "regression":
        return _series(task, y, pred) if task.per_step else _scatter(y, pred)
    if task.per_step:
        return _tokens(task, x, y, pred)
    return _answers(task, x, y, pred)
