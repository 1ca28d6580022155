"""Figures of a task: one sample sequence of it (what the network reads and what it
must answer), and what the model does on it now. Pure plotly, no Streamlit.

A sample: token tasks show their tokens decoded, one cell per step (input row, target
row); forecasting tasks their series; the adding problem its values with the two
marked steps highlighted; parity its bits.

What the model does: predicted against true series for forecasting, predictions
against targets for the adding problem, the recalled symbols and bracket tags step by
step, and answers for sequence classification. `model_view(task, x, y, pred)` takes a
few validation samples and the model's prediction for them (computed by the caller,
who knows when the model is safe to run) and returns a small plotly figure.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from designer.figures.style import BLUE, GREY, PALE_GREY, SERIES_COLORS, laid_out
from designer.i18n import _
from designer.tasks import IGNORE, Task

# --- a sample of the task -------------------------------------------------------------
MAX_TOKEN_STEPS = 40  # more cells than this do not fit a small figure legibly
HEIGHT = 250
FONT = dict(size=13)
INPUT_COLOR = "#4C78A8"
TARGET_COLOR = "#F58518"
MARK_COLOR = "#E45756"


def token_labels(task: Task, ids: list[int]) -> list[str]:
    """One short label per token id of the task's input (padding shows as '·')."""
    return task.token_labels(ids)


def target_labels(task: Task, classes: list[int]) -> list[str]:
    """One label per per-step class target ('' where the step is not scored)."""
    return ["" if c == IGNORE else task.class_label(c) for c in classes]


def _sample_frame(fig: go.Figure, title: str) -> go.Figure:
    """A task sample's frame: the title at the top left, the legend at the top right."""
    laid_out(
        fig,
        title,
        HEIGHT,
        top=64,
        title_at=dict(x=0, xanchor="left", y=0.97, yanchor="top"),
        font=FONT,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(title_text=_("time step t"), title_standoff=4, title_font=dict(size=12))
    return fig


def token_grid(
    z: list[list[float]],
    text: list[list[str]],
    rows: list[str],
    colorscale: list,
    font_size: int | None = None,
) -> go.Figure:
    """Rows of labelled cells, one per time step (z in 0..2 picks each cell's colour),
    drawn top row first: the picture of token sequences in a sample and in the
    model's answers."""
    return go.Figure(
        go.Heatmap(
            z=z[::-1],
            text=text[::-1],
            y=rows[::-1],
            x=list(range(len(z[0]) if z else 0)),
            texttemplate="%{text}",
            textfont=dict(size=font_size) if font_size else None,
            colorscale=colorscale,
            zmin=0,
            zmax=2,
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate=_("step %{x}: %{text}") + "<extra>%{y}</extra>",
        )
    )


def _token_figure(task: Task, x: list[int], y: list[int] | int) -> go.Figure:
    steps = min(len(x), MAX_TOKEN_STEPS)
    rows = [token_labels(task, x[:steps])]
    names = [_("input")]
    values = [[0.0 if i == 0 else 1.0 for i in x[:steps]]]
    if isinstance(y, list):
        rows.append(target_labels(task, y[:steps]))
        names.append(_("target"))
        values.append([0.0 if c == IGNORE else 2.0 for c in y[:steps]])
    fig = token_grid(
        values, rows, names, [[0, "#f0f2f6"], [0.5, "#d6e4f5"], [1, "#fde2c4"]], font_size=13
    )
    fig.update_yaxes(fixedrange=True)
    return fig


def sample_figure(task: Task, seed: int = 0) -> go.Figure:
    """One sample of the task, drawn with `seed`, as a small figure."""
    x, y = task.batch(1, seed)
    if task.token_input:
        return _token_sample(task, x[0], y[0])
    fig = go.Figure()
    colors = {"input": INPUT_COLOR, "target": TARGET_COLOR, "mark": MARK_COLOR}
    title = task.draw_sample(fig, x[0], y[0], colors)
    if title is None:
        title = _draw_features(task, fig, x[0], y[0])
    return _sample_frame(fig, title)


def _token_sample(task: Task, x0: torch.Tensor, y0: torch.Tensor) -> go.Figure:
    """A token task's sample: its tokens decoded, with the answer at each scored step
    or, for an answer after the last step, in the title."""
    ids = [int(i) for i in x0]
    cut = task.seq_len > MAX_TOKEN_STEPS
    shown = {"shown": MAX_TOKEN_STEPS, "steps": task.seq_len}
    if task.per_step:
        fig = _token_figure(task, ids, [int(c) for c in y0])
        title = (
            _(
                "One sample: the input tokens and the answer at each scored step "
                "(first {shown} of {steps} steps)"
            ).format(**shown)
            if cut
            else _("One sample: the input tokens and the answer at each scored step")
        )
    else:
        label = task.class_label(int(y0))
        fig = _token_figure(task, ids, int(y0))
        title = (
            _(
                "One sample, answer after the last word: {answer} (first {shown} of {steps} steps)"
            ).format(answer=label, **shown)
            if cut
            else _("One sample, answer after the last word: {answer}").format(answer=label)
        )
    return _sample_frame(fig, title)


def _draw_features(task: Task, fig: go.Figure, x0: torch.Tensor, y0: torch.Tensor) -> str:
    """The picture of a continuous sample that the task leaves to the figures: a
    forecast's series (the input and the next value, or each channel), else the
    input features. Returns its title."""
    t = list(range(task.seq_len))
    if not (task.forecasts and task.kind == "regression"):
        for k in range(x0.shape[-1]):
            fig.add_trace(go.Scatter(x=t, y=x0[:, k].tolist(), name=_("feature {k}").format(k=k)))
        return _("One sample of the input")
    if x0.shape[-1] == 1:
        fig.add_trace(
            go.Scatter(x=t, y=x0[:, 0].tolist(), name=_("input x_t"), line_color=INPUT_COLOR)
        )
        fig.add_trace(
            go.Scatter(
                x=t,
                y=y0[:, 0].tolist(),
                name=_("target x_(t+1)"),
                line=dict(color=TARGET_COLOR, dash="dot"),
            )
        )
        return _("One sample: forecast the next value at every step")
    names = task.input_names()
    for k in range(x0.shape[-1]):
        name = names[k] if k < len(names) else _("channel {k}").format(k=k)
        fig.add_trace(go.Scatter(x=t, y=x0[:, k].tolist(), name=name, mode="lines"))
    return _("One sample: {n} channels, each forecast one step ahead").format(n=x0.shape[-1])


# --- what the model does on it ----------------------------------------------------------
TRUE_COLOR = GREY
PRED_COLOR = BLUE
CHANNEL_COLORS = SERIES_COLORS[:3]
RIGHT, WRONG, UNSCORED = 2.0, 0.0, 1.0


def _answer_frame(fig: go.Figure, title: str, height: int = 300) -> go.Figure:
    """The frame of what the model does: the legend at the top right."""
    return laid_out(
        fig,
        title,
        height,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 1, "xanchor": "right"},
    )


def _series(task: Task, y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """Forecasting: the first sample's true next values and the predictions."""
    names = task.output_names()
    fig = go.Figure()
    t = list(range(y.shape[1]))
    for k in range(min(y.shape[2], 3)):
        if k < len(names):
            name = names[k]
        else:
            name = _("value") if y.shape[2] == 1 else _("channel {k}").format(k=k)
        true_colour, pred_colour = (
            (TRUE_COLOR, PRED_COLOR) if y.shape[2] == 1 else (CHANNEL_COLORS[k],) * 2
        )
        fig.add_trace(
            go.Scatter(
                x=t,
                y=y[0, :, k].tolist(),
                name=_("true {name}").format(name=name),
                line={"color": true_colour, "width": 2},
                legendgroup=str(k),
            )
        )
        fig.add_trace(
            go.Scatter(
                x=t,
                y=pred[0, :, k].tolist(),
                name=_("predicted {name}").format(name=name),
                line={"color": pred_colour, "dash": "dot", "width": 2},
                legendgroup=str(k),
            )
        )
    fig.update_xaxes(title_text=_("time step t"))
    title = (
        _("Next-step forecast on a validation sequence (first 3 of {n} channels)").format(
            n=y.shape[2]
        )
        if y.shape[2] > 3
        else _("Next-step forecast on a validation sequence")
    )
    return _answer_frame(fig, title)


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
                name=_("perfect"),
                line={"color": TRUE_COLOR, "dash": "dash"},
            ),
            go.Scatter(
                x=true,
                y=guess,
                mode="markers",
                name=_("validation samples"),
                marker={"color": PRED_COLOR, "size": 7, "opacity": 0.7},
            ),
        ]
    )
    fig.update_xaxes(title_text=_("target"))
    fig.update_yaxes(title_text=_("prediction"))
    return _answer_frame(fig, _("Predictions against targets (validation samples)"), 320)


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
        rows.append(_("sample {b} predicted").format(b=b))
        z.append([UNSCORED] * steps)
        text.append(token_labels(task, x[b, :steps].tolist()))
        rows.append(_("sample {b} input").format(b=b))
    fig = token_grid(z, text, rows, [[0, "#f5b7b1"], [0.5, "#f0f2f6"], [1, "#abebc6"]])
    fig.update_xaxes(title_text=_("time step t"))
    title = (
        _("Predictions step by step: green right, red wrong (first {shown} of {steps} steps)")
        if x.shape[1] > steps
        else _("Predictions step by step: green right, red wrong")
    ).format(shown=steps, steps=x.shape[1])
    return _answer_frame(fig, title, 120 + 34 * len(rows))


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
    marks = ["✓" if t == g else "✗" for t, g in zip(truth, guess, strict=True)]
    fig = go.Figure(
        go.Table(
            columnwidth=[6, 1.3, 1.3, 1, 0.5],
            header={
                "values": [_("input"), _("answer"), _("model"), _("sure"), ""],
                "align": "left",
                "fill_color": PALE_GREY,
            },
            cells={
                "values": [
                    inputs,
                    [task.class_label(c) for c in truth],
                    [task.class_label(c) for c in guess],
                    confidence,
                    marks,
                ],
                "align": "left",
                "height": 26,
            },
        )
    )
    return _answer_frame(fig, _("Answers on validation samples"), 90 + 28 * samples)


def model_view(task: Task, x: torch.Tensor, y: torch.Tensor, pred: torch.Tensor) -> go.Figure:
    """The figure that shows best what the model does now on this task."""
    x, y, pred = x.cpu(), y.cpu(), pred.detach().float().cpu()
    if task.kind == "regression":
        return _series(task, y, pred) if task.per_step else _scatter(y, pred)
    if task.per_step:
        return _tokens(task, x, y, pred)
    return _answers(task, x, y, pred)
