"""The frame every figure shares, and the colours.

`laid_out` sets a figure's title (small, so that several figures fit side by side on
a projector), its height and its margins (narrow at the sides), then any further
layout settings in the order given. The colours are named here once; each module
gives them the role they play there (the truth, a prediction, a layer)."""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

GREY = "#7f8c8d"
BLUE = "#2e86de"
ORANGE = "#e67e22"
GREEN = "#10ac84"
PURPLE = "#8e44ad"
RED = "#e74c3c"
DARK_RED = "#c0392b"
LIGHT_GREY = "#bdc3c7"
PALE_GREY = "#eef0f2"  # grid lines, table headers
# one colour per layer, channel or series, in this order
SERIES_COLORS = (BLUE, ORANGE, GREEN, PURPLE, DARK_RED, "#16a085", "#d35400")

TITLE_SIZE = 14
SIDE_MARGIN = 10


def laid_out(
    fig: go.Figure,
    title: str | None,
    height: int,
    top: int = 40,
    bottom: int = 30,
    title_size: int = TITLE_SIZE,
    title_at: dict[str, Any] | None = None,
    **layout: Any,
) -> go.Figure:
    """The common frame: a `title_size` title (placed by `title_at`, e.g.
    {"x": 0, "xanchor": "left"}; no title when `title` is None), the height, margins
    of `top` and `bottom` pixels and narrow ones at the sides, then `layout`."""
    frame: dict[str, Any] = {}
    if title is not None:
        frame["title"] = {"text": title, "font": {"size": title_size}, **(title_at or {})}
    fig.update_layout(
        **frame,
        height=height,
        margin={"l": SIDE_MARGIN, "r": SIDE_MARGIN, "t": top, "b": bottom},
        **layout,
    )
    return in_decades(fig)


DECADE_TICKS = 6  # labels on a log axis, at most


def in_decades(fig: go.Figure) -> go.Figure:
    """Every log y axis labelled at powers of ten only, written 10^k (every second or
    fifth power when the values span many): plotly's own labels fill a small log axis
    with the digits 2..9 of each decade ("1 9 8 7 6 5 4 3 2 0.1"), or mix "100T" with
    10^35. Reads the span from the traces drawn on each axis."""
    spans: dict[str, tuple[float, float]] = {}
    for trace in fig.data:
        values = getattr(trace, "y", None)
        if values is None or trace.type in ("heatmap", "table"):
            continue
        positive = [
            float(v)
            for v in values
            if isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and v > 0
        ]
        if positive:
            axis = getattr(trace, "yaxis", None) or "y"
            low, high = spans.get(axis, (math.inf, 0.0))
            spans[axis] = (min(low, min(positive)), max(high, max(positive)))
    for axis, (low, high) in spans.items():
        layout_axis = fig.layout["yaxis" + axis[1:]]
        if layout_axis.type != "log":
            continue
        decades = max(1, math.ceil(math.log10(high)) - math.floor(math.log10(low)))
        layout_axis.update(
            dtick=math.ceil(decades / DECADE_TICKS),
            tick0=0,
            exponentformat="power",
            showexponent="all",
            minor={"showgrid": False, "ticks": ""},
        )
    return fig
