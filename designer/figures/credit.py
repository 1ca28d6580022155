"""Figures of where the gradient comes from (designer.inside.credit): the credit matrix of
each recurrent layer, and dL/dh_k divided into its three paths."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from designer.figures.style import BLUE, GREEN, GREY, ORANGE, SERIES_COLORS, laid_out
from designer.i18n import N_, _
from designer.inside.credit import Credit, LayerPaths

FLOOR = 1e-30  # log10 of exact zeros (above the diagonal of a causal layer) stays finite
PATH_STYLE = {
    # path: (legend, colour)
    "time": (N_("through time (its own next step)"), BLUE),
    "up": (N_("up through the layer above"), ORANGE),
    "skip": (N_("around the layer above (residual)"), GREEN),
}


def _log_ticks(low: float, high: float) -> dict[str, list]:
    """Colour bar ticks at the powers of ten from `low` to `high` (log10 values)."""
    low, high = math.floor(low), math.ceil(high)
    ticks = list(range(low, high + 1, max(1, (high - low) // 6)))
    return {"tickvals": ticks, "ticktext": [f"1e{k}" for k in ticks]}


def credit_figure(credit: Credit) -> go.Figure:
    """One heatmap per recurrent layer: loss step t up, state step k across, colour
    log10 ||dL_t/dh_k||. Zeros (no path: a state after the loss step in a causal
    layer) are left blank, so the causal triangle shows as it is. A task scored at
    its last step draws its one row."""
    layers = credit.layers
    rows = credit.rows
    cols = min(len(layers), 3)
    grid = math.ceil(len(layers) / cols)
    fig = make_subplots(
        rows=grid,
        cols=cols,
        subplot_titles=[
            _("layer {index} {kind}").format(index=layer.index, kind=layer.type) for layer in layers
        ],
        horizontal_spacing=0.06,
        vertical_spacing=0.12 if grid > 1 else 0.0,
    )
    values = np.array(
        [[layer.matrix[t] for t in rows] for layer in layers], dtype=float
    )  # (layers, rows, T)
    positive = values[values > 0]
    shown = np.where(values > 0, np.log10(np.maximum(values, FLOOR)), np.nan)  # blank: no path
    low = float(np.log10(positive.min())) if positive.size else -1.0
    high = float(np.log10(positive.max())) if positive.size else 0.0
    ticks = _log_ticks(low, high)
    for i in range(len(layers)):
        fig.add_trace(
            go.Heatmap(
                z=shown[i],
                x=list(range(credit.seq_len)),
                y=rows,
                zmin=low,
                zmax=high,
                colorscale="Viridis",
                showscale=i == 0,
                colorbar={"title": {"text": "‖dL_t/dh_k‖"}, "thickness": 12, **ticks},
                customdata=values[i],
                hovertemplate=_(
                    "loss step t %{y}, state step k %{x}<br>‖dL_t/dh_k‖ = %{customdata:.3g}"
                )
                + "<extra></extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(title_text=_("state step k"))
    fig.update_yaxes(title_text=_("loss step t"), col=1)
    per_row = 170 if len(rows) == 1 else min(420, 120 + 5 * len(rows))
    height = per_row * grid + 60
    return laid_out(fig, None, height, top=40, bottom=40, plot_bgcolor="white")


def credit_reach_figure(credit: Credit, height: int = 300) -> go.Figure:
    """The last computed row of each layer's matrix, as lines on a log scale: how
    much the last loss step asks of each earlier state (a straight falling line is an
    exponential decay through time)."""
    fig = go.Figure()
    t = credit.rows[-1]
    for i, layer in enumerate(credit.layers):
        row = layer.matrix[t] or []
        fig.add_trace(
            go.Scatter(
                x=list(range(len(row))),
                y=[v if v > 0 else None for v in row],
                mode="lines",
                name=_("layer {index} {kind}").format(index=layer.index, kind=layer.type),
                line={"width": 2, "color": SERIES_COLORS[i % len(SERIES_COLORS)]},
            )
        )
    return laid_out(
        fig,
        _("What the loss at step {t} asks of each state").format(t=t),
        height,
        bottom=40,
        xaxis_title=_("state step k"),
        yaxis={"type": "log", "exponentformat": "power", "title": f"‖dL_{t}/dh_k‖"},
        plot_bgcolor="white",
        hovermode="x unified",
    )


def paths_figure(paths: list[LayerPaths]) -> go.Figure:
    """Per recurrent layer, two rows: the share of dL/dh_k that arrives by each path
    (stacked bars adding up to 1 at each step), and the size of each path and of the
    total on a log scale."""
    n = len(paths)
    titles = []
    for layer in paths:
        parts = {"index": layer.index, "kind": layer.type}
        titles += [
            _("layer {index} {kind}: share of dL/dh_k by path").format(**parts),
            _("layer {index} {kind}: size of each path (log)").format(**parts),
        ]
    fig = make_subplots(
        rows=n, cols=2, subplot_titles=titles, horizontal_spacing=0.08, vertical_spacing=0.1
    )
    for i, layer in enumerate(paths):
        shares, norms = layer.shares(), layer.norms()
        steps = list(range(len(norms["total"])))
        for name, (words, colour) in PATH_STYLE.items():
            if name == "skip" and not layer.residual_above:
                continue
            legend = _(words)
            fig.add_trace(
                go.Bar(
                    x=steps,
                    y=shares[name],
                    name=legend,
                    legendgroup=name,
                    showlegend=i == 0,
                    marker={"color": colour},
                    hovertemplate=f"{legend}<br>k %{{x}}: %{{y:.0%}}<extra></extra>",
                ),
                row=i + 1,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=[v if v > 0 else None for v in norms[name]],
                    mode="lines",
                    name=legend,
                    legendgroup=name,
                    showlegend=False,
                    line={"color": colour, "width": 2},
                    hovertemplate=f"{legend}<br>k %{{x}}: %{{y:.3g}}<extra></extra>",
                ),
                row=i + 1,
                col=2,
            )
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=[v if v > 0 else None for v in norms["total"]],
                mode="lines",
                name=_("total ‖dL/dh_k‖"),
                legendgroup="total",
                showlegend=i == 0,
                line={"color": GREY, "width": 1.5, "dash": "dash"},
                hovertemplate=_("total") + "<br>k %{x}: %{y:.3g}<extra></extra>",
            ),
            row=i + 1,
            col=2,
        )
        fig.update_yaxes(tickformat=".0%", row=i + 1, col=1)
        fig.update_yaxes(type="log", exponentformat="power", row=i + 1, col=2)
    fig.update_xaxes(title_text=_("state step k"), row=n, col=1)
    fig.update_xaxes(title_text=_("state step k"), row=n, col=2)
    return laid_out(
        fig,
        None,
        230 * n + 90,
        top=60,
        bottom=40,
        barmode="relative",
        bargap=0.05,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
