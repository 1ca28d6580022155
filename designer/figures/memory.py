"""Figures of a stack's memory (designer.inside.memory): how well each recurrent layer's state
h_t still holds the input k steps back, and how that changes with the spectral radius
of a layer's recurrent weights."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from designer.figures.style import GREY, SERIES_COLORS, laid_out
from designer.i18n import N_, _
from designer.inside.memory import MemoryCurve

SCORE_TITLE = {
    "features": N_("R² of x(t−k) read from h_t"),
    "tokens": N_("accuracy of x(t−k) read from h_t"),
}
TOTAL_TITLE = {"features": N_("memory capacity Σₖ R²ₖ"), "tokens": N_("steps held above chance")}
DELAY_TITLE = N_("delay k (steps back)")
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"}


def _shown(values: list[float]) -> list[float | None]:
    """NaN (states that blew up) as a gap in the line."""
    return [None if math.isnan(v) else v for v in values]


def _layer_name(curve: MemoryCurve) -> str:
    return f"{curve.layer_index} {curve.layer_type}".strip()


def _chance_line(fig: go.Figure, curves: list[MemoryCurve], **where: int) -> None:
    """The accuracy of always guessing the most common token (token inputs only)."""
    if curves and curves[0].kind == "tokens" and not math.isnan(curves[0].chance):
        fig.add_hline(
            y=curves[0].chance,
            line={"dash": "dash", "color": GREY, "width": 1},
            annotation_text=_("chance"),
            annotation_position="bottom right",
            **where,
        )


def memory_figure(curves: list[MemoryCurve], height: int = 320) -> go.Figure:
    """Score against delay k, one line per recurrent layer (its memory capacity in the
    legend); for token inputs the chance level as a dashed line."""
    fig = go.Figure()
    for i, curve in enumerate(curves):
        if curve.kind == "features":
            name = _("layer {layer} (MC {total})")
        else:
            name = _("layer {layer} (above chance {total})")
        fig.add_trace(
            go.Scatter(
                x=curve.delays,
                y=_shown(curve.scores),
                mode="lines+markers",
                marker={"size": 4},
                name=name.format(layer=_layer_name(curve), total=f"{curve.total:.1f}"),
                line={"color": SERIES_COLORS[i % len(SERIES_COLORS)]},
                hovertemplate="k %{x}<br>%{y:.3f}<extra></extra>",
            )
        )
    _chance_line(fig, curves)
    kind = curves[0].kind if curves else "features"
    return laid_out(
        fig,
        _("Memory: how well each layer's state still holds the input k steps back"),
        height,
        top=70,
        bottom=40,
        xaxis_title=_(DELAY_TITLE),
        yaxis={"title": _(SCORE_TITLE[kind]), "range": [0, 1.02]},
        legend=LEGEND,
        plot_bgcolor="white",
    )


def sweep_figure(sweep: list[tuple[float, MemoryCurve]], height: int = 340) -> go.Figure:
    """Left: the layer's memory curve for each spectral radius, dark (small radius) to
    light (large). Right: its memory capacity against the radius, with radius 1 marked:
    memory grows as the radius nears 1, and breaks down past it."""
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.12,
        subplot_titles=[_("memory curve at each radius"), _("memory against the radius")],
    )
    fig.update_annotations(font_size=12)  # the subplot titles, smaller than the figure's
    colors = sample_colorscale("Viridis", [i / max(len(sweep) - 1, 1) for i in range(len(sweep))])
    for (radius, curve), color in zip(sweep, colors, strict=True):
        fig.add_trace(
            go.Scatter(
                x=curve.delays,
                y=_shown(curve.scores),
                mode="lines",
                name=f"ρ = {radius:g}",
                line={"color": color},
                hovertemplate=f"ρ {radius:g}<br>k %{{x}}<br>%{{y:.3f}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    totals = [curve.total for _, curve in sweep]
    fig.add_trace(
        go.Scatter(
            x=[radius for radius, _ in sweep],
            y=_shown(totals),
            mode="lines+markers",
            marker={"color": colors, "size": 9},
            line={"color": GREY},
            showlegend=False,
            hovertemplate="ρ %{x:g}<br>%{y:.2f}<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.add_vline(x=1.0, line={"dash": "dash", "color": GREY, "width": 1}, row=1, col=2)
    curves = [curve for _, curve in sweep]
    _chance_line(fig, curves, row=1, col=1)
    kind = curves[0].kind if curves else "features"
    layer = _layer_name(curves[0]) if curves else ""
    fig.update_xaxes(title_text=_(DELAY_TITLE), row=1, col=1)
    fig.update_yaxes(title_text=_(SCORE_TITLE[kind]), range=[0, 1.02], row=1, col=1)
    fig.update_xaxes(title_text=_("spectral radius ρ of W_hh"), row=1, col=2)
    fig.update_yaxes(title_text=_(TOTAL_TITLE[kind]), rangemode="tozero", row=1, col=2)
    return laid_out(
        fig,
        _("Layer {layer}: memory against the spectral radius of its recurrent weights").format(
            layer=layer
        ),
        height,
        top=80,
        bottom=40,
        plot_bgcolor="white",
    )
