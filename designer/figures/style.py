"""The frame every figure shares, and the colours.

`laid_out` sets a figure's title (small, so that several figures fit side by side on
a projector), its height and its margins (narrow at the sides), then any further
layout settings in the order given. The colours are named here once; each module
gives them the role they play there (the truth, a prediction, a layer)."""

from __future__ import annotations

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
    return fig
