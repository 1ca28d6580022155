"""The task's own input, each step coloured by its influence on one output,
||dy_t/dx_k|| (designer.inside.influence): the characters of a text or the words of a
sentence as cells in lines of text, a series as its curve with coloured markers and
the influence as bars beneath, the adding problem's marked values as stars."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from designer.figures.style import GREY, RED, SERIES_COLORS, laid_out
from designer.i18n import _
from designer.inside.influence import Influence
from designer.tasks import Task

COLORS = [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.6, "#4292c6"], [1, "#08306b"]]
LINE = 32  # tokens per line of text


def _share(row: list[float]) -> list[float]:
    """Each step's share of the largest influence in the row (0..1)."""
    top = max(row) if row else 0.0
    return [v / top if top > 0 else 0.0 for v in row]


def influence_figure(task: Task, influence: Influence, sample: int, step: int) -> go.Figure:
    """Sample `sample`'s input with each step k coloured by ||dy_t/dx_k||, t = `step`."""
    row = influence.row(sample, step)
    if task.token_input:
        return _tokens(task, influence, sample, step, row)
    return _series(task, influence, sample, step, row)


def _title(task: Task, step: int) -> str:
    if task.per_step:
        return _("Which input steps the output at step {t} uses (darker: more)").format(t=step)
    return _("Which input steps the answer uses (darker: more)")


def _tokens(task: Task, influence: Influence, sample: int, step: int, row: list[float]):
    """Lines of LINE cells, the first line on top, like a page of text."""
    ids = influence.x[sample].tolist()
    labels = task.token_labels(ids)
    share = _share(row)
    lines = (len(ids) + LINE - 1) // LINE
    z, text, hover = [], [], []
    for line in range(lines):
        cut = slice(line * LINE, (line + 1) * LINE)
        pad = LINE - len(labels[cut])
        z.append(share[cut] + [None] * pad)
        marks = [
            f"[{label}]" if line * LINE + k == step and task.per_step else label
            for k, label in enumerate(labels[cut])
        ]
        text.append(marks + [""] * pad)
        hover.append(
            [
                _("step {k}: {token}, influence {value}").format(
                    k=line * LINE + k, token=label, value=f"{row[line * LINE + k]:.3g}"
                )
                for k, label in enumerate(labels[cut])
            ]
            + [""] * pad
        )
    fig = go.Figure(
        go.Heatmap(
            z=z[::-1],
            text=text[::-1],
            customdata=hover[::-1],
            texttemplate="%{text}",
            textfont={"size": 13},
            colorscale=COLORS,
            zmin=0,
            zmax=1,
            xgap=2,
            ygap=2,
            hovertemplate="%{customdata}<extra></extra>",
            colorbar={"title": {"text": _("share of the largest")}, "thickness": 10},
        )
    )
    fig.update_yaxes(
        tickvals=list(range(lines)),
        ticktext=[str((lines - 1 - i) * LINE) for i in range(lines)],
        fixedrange=True,
        title_text=_("from step"),
    )
    fig.update_xaxes(showticklabels=False, fixedrange=True)
    return laid_out(fig, _title(task, step), 90 + 34 * lines, top=44, plot_bgcolor="white")


def _series(task: Task, influence: Influence, sample: int, step: int, row: list[float]):
    """The input curve(s) above, the influence as bars below, on one time axis."""
    x = influence.x[sample]  # (T, F)
    T = x.shape[0]
    steps = list(range(T))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.6, 0.4])
    names = task.input_names()
    share = _share(row)
    for f in range(x.shape[1]):
        name = names[f] if f < len(names) else _("input {f}").format(f=f)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=x[:, f].tolist(),
                mode="lines+markers",
                name=name,
                line={"color": SERIES_COLORS[f % len(SERIES_COLORS)], "width": 1},
                marker={
                    "color": share,
                    "colorscale": COLORS,
                    "cmin": 0,
                    "cmax": 1,
                    "size": 8,
                    "line": {"width": 0.5, "color": GREY},
                },
            ),
            row=1,
            col=1,
        )
    marked = task.marked_steps(x)
    if marked:
        fig.add_trace(
            go.Scatter(
                x=marked,
                y=[float(x[k, 0]) for k in marked],
                mode="markers",
                name=_("marked"),
                marker={
                    "size": 15,
                    "color": "rgba(0,0,0,0)",
                    "symbol": "star",
                    "line": {"width": 2, "color": RED},
                },
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Bar(
            x=steps,
            y=row,
            name="‖∂y_t/∂x_k‖",
            marker={"color": share, "colorscale": COLORS, "cmin": 0, "cmax": 1},
            hovertemplate=_("step %{x}: influence %{y:.3g}") + "<extra></extra>",
        ),
        row=2,
        col=1,
    )
    if task.per_step:
        fig.add_vline(x=step, line={"color": RED, "dash": "dot", "width": 1})
    fig.update_xaxes(title_text=_("input step k"), row=2, col=1)
    fig.update_yaxes(title_text=_("input"), row=1, col=1)
    fig.update_yaxes(title_text=_("influence"), row=2, col=1)
    return laid_out(
        fig,
        _title(task, step),
        380,
        top=64,
        bottom=40,
        plot_bgcolor="white",
        bargap=0.1,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
