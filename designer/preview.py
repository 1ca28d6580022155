"""A small picture of one sample sequence of a task: what the network reads and what
it must answer. Pure plotly, no Streamlit.

Token tasks show their tokens decoded, one cell per step (input row, target row);
forecasting tasks their series; the adding problem its values with the two marked
steps highlighted; parity its bits.
"""

from __future__ import annotations

import plotly.graph_objects as go

from designer.tasks import IGNORE, Task

MAX_TOKEN_STEPS = 40  # more cells than this do not fit a small figure legibly
HEIGHT = 250
FONT = dict(size=13)
INPUT_COLOR = "#4C78A8"
TARGET_COLOR = "#F58518"
MARK_COLOR = "#E45756"


def token_labels(task: Task, ids: list[int]) -> list[str]:
    """One short label per token id of the task's input (padding shows as '·')."""
    if task.name == "brackets":
        return ["(" if i == 1 else ")" if i == 2 else "·" for i in ids]
    if task.name == "copy":
        names = {0: "·", 1: "_", 2: "go"}
        return [names.get(i, chr(ord("A") + i - 3)) for i in ids]
    if task.name == "sentiment":
        from designer.tasks.sentiment import VOCABULARY

        return [VOCABULARY[i] if i else "·" for i in ids]
    if task.name == "charlm":
        chars = task.chars  # id j+1 is chars[j]
        return [_visible(chars[i - 1]) if i else "·" for i in ids]
    return [str(i) for i in ids]


def target_labels(task: Task, classes: list[int]) -> list[str]:
    """One label per per-step class target ('' where the step is not scored)."""
    out = []
    for c in classes:
        if c == IGNORE:
            out.append("")
        elif task.name == "brackets":
            out.append("✓" if c == 1 else "✗")
        elif task.name == "copy":
            out.append(chr(ord("A") + c))
        elif task.name == "charlm":
            out.append(_visible(task.chars[c]))
        else:
            out.append(str(c))
    return out


def _visible(ch: str) -> str:
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(ch, ch)


def _layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, font=dict(size=14), x=0, xanchor="left", y=0.97, yanchor="top"),
        height=HEIGHT,
        margin=dict(l=10, r=10, t=64, b=30),
        font=FONT,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_xaxes(title_text="time step t", title_standoff=4, title_font=dict(size=12))
    return fig


def token_grid(
    z: list[list[float]],
    text: list[list[str]],
    rows: list[str],
    colorscale: list,
    font_size: int | None = None,
) -> go.Figure:
    """Rows of labelled cells, one per time step (z in 0..2 picks each cell's colour),
    drawn top row first: the picture of token sequences here and in designer.views."""
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
            hovertemplate="step %{x}: %{text}<extra>%{y}</extra>",
        )
    )


def _token_figure(task: Task, x: list[int], y: list[int] | int) -> go.Figure:
    steps = min(len(x), MAX_TOKEN_STEPS)
    rows = [token_labels(task, x[:steps])]
    names = ["input"]
    values = [[0.0 if i == 0 else 1.0 for i in x[:steps]]]
    if isinstance(y, list):
        rows.append(target_labels(task, y[:steps]))
        names.append("target")
        values.append([0.0 if c == IGNORE else 2.0 for c in y[:steps]])
    fig = token_grid(
        values, rows, names, [[0, "#f0f2f6"], [0.5, "#d6e4f5"], [1, "#fde2c4"]], font_size=13
    )
    fig.update_yaxes(fixedrange=True)
    return fig


def sample_figure(task: Task, seed: int = 0) -> go.Figure:
    """One sample of the task, drawn with `seed`, as a small figure."""
    x, y = task.batch(1, seed)
    x0, y0 = x[0], y[0]
    more = f" (first {MAX_TOKEN_STEPS} of {task.seq_len} steps)"
    cut = more if task.token_input and task.seq_len > MAX_TOKEN_STEPS else ""

    if task.token_input:
        ids = [int(i) for i in x0]
        if task.per_step:
            fig = _token_figure(task, ids, [int(c) for c in y0])
            title = "One sample: the input tokens and the answer at each scored step" + cut
        else:
            label = {0: "negative", 1: "positive"}.get(int(y0), str(int(y0)))
            fig = _token_figure(task, ids, int(y0))
            title = f"One sample, answer after the last word: {label}" + cut
        return _layout(fig, title)

    t = list(range(task.seq_len))
    fig = go.Figure()
    if task.name == "adding":
        values, marker = x0[:, 0].tolist(), x0[:, 1].tolist()
        marked = [i for i, m in enumerate(marker) if m > 0.5]
        fig.add_trace(
            go.Scatter(x=t, y=values, mode="lines+markers", name="value", line_color=INPUT_COLOR)
        )
        fig.add_trace(
            go.Scatter(
                x=marked,
                y=[values[i] for i in marked],
                mode="markers",
                name="marked",
                marker=dict(size=14, color=MARK_COLOR, symbol="star"),
            )
        )
        terms = " + ".join(f"{values[i]:.2f}" for i in marked)
        title = f"One sample: target = {terms} = {float(y0[0]):.2f}"
        fig.update_yaxes(range=[-0.05, 1.1])
    elif task.name == "parity":
        bits = x0[:, 0].tolist()
        ones = int(sum(bits))
        fig.add_trace(go.Bar(x=t, y=bits, name="bit", marker_color=INPUT_COLOR))
        answer = "odd (class 1)" if int(y0) == 1 else "even (class 0)"
        title = f"One sample: {ones} ones, so the answer is {answer}"
        fig.update_yaxes(range=[0, 1.2], tickvals=[0, 1])
    elif task.per_step and task.kind == "regression":
        names = list(getattr(task, "channel_names", None) or getattr(task, "columns", ()) or [])
        if x0.shape[-1] == 1:
            fig.add_trace(
                go.Scatter(x=t, y=x0[:, 0].tolist(), name="input x_t", line_color=INPUT_COLOR)
            )
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=y0[:, 0].tolist(),
                    name="target x_(t+1)",
                    line=dict(color=TARGET_COLOR, dash="dot"),
                )
            )
            title = "One sample: forecast the next value at every step"
        else:
            for k in range(x0.shape[-1]):
                name = names[k] if k < len(names) else f"channel {k}"
                fig.add_trace(go.Scatter(x=t, y=x0[:, k].tolist(), name=name, mode="lines"))
            title = f"One sample: {x0.shape[-1]} channels, each forecast one step ahead"
    else:  # any other continuous task: its input features
        for k in range(x0.shape[-1]):
            fig.add_trace(go.Scatter(x=t, y=x0[:, k].tolist(), name=f"feature {k}"))
        title = "One sample of the input"
    return _layout(fig, title)
