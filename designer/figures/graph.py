"""The unrolled graph (the Graph page): time to the right and depth upwards, one lane
per direction of each layer. Node colours show the layer type, ||h_t||, or ||dL/dh_t||
on a log scale (from a probe), so vanishing gradients appear as colour fading away
from the loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from designer.figures.style import (
    BLUE,
    DARK_RED,
    GREEN,
    GREY,
    LIGHT_GREY,
    ORANGE,
    PURPLE,
    RED,
    laid_out,
)
from designer.i18n import N_, _
from designer.inside.graph import node_id
from designer.inside.probes import ProbeResult

TYPE_COLORS = {
    "input": GREY,
    "rnn": ORANGE,
    "lstm": BLUE,
    "gru": GREEN,
    "linear": PURPLE,
    "layernorm": "#95a5a6",
    "dropout": LIGHT_GREY,
    "attention": DARK_RED,
    "output": "#34495e",
    "loss": RED,
}
# the legend names of node kinds that are words (layer types such as lstm stay as they are)
TYPE_NAMES = {
    "input": N_("input"),
    "linear": N_("linear"),
    "layernorm": N_("layernorm"),
    "dropout": N_("dropout"),
    "attention": N_("attention"),
    "output": N_("output"),
    "loss": N_("loss"),
}
EDGE_STYLES = {
    # kind: (legend name, translated where drawn; colour, dash, width, arrow symbol)
    "input": (N_("input"), "#95a5a6", "solid", 1.2, "triangle-up"),
    "depth": (N_("up through depth"), "#95a5a6", "solid", 1.2, "triangle-up"),
    "recurrent": (N_("recurrent: t-1 → t"), BLUE, "solid", 2.0, "triangle-right"),
    "backward": (N_("backward direction: t+1 → t"), ORANGE, "solid", 2.0, "triangle-left"),
    "residual": (N_("residual skip"), "#27ae60", "dash", 1.4, "triangle-up"),
    "attention": (N_("attention (into the chosen step)"), DARK_RED, "dot", 1.0, None),
    "loss": (N_("loss"), RED, "solid", 1.6, "triangle-up"),
    "gap": (N_("steps not drawn"), LIGHT_GREY, "dot", 1.5, None),
}
WEBGL_NODES = 1500  # beyond this many nodes, draw with WebGL
ColorBy = Literal["type", "hidden", "gradient"]

Position = dict[tuple, tuple[float, float]]
Values = dict[tuple, dict[str, float]]
Lanes = dict[tuple[Any, Any], tuple[float, str]]  # (layer, direction) -> (y, label)


def lanes(G: nx.MultiDiGraph) -> Lanes:
    """(layer, direction) -> (y, label), bottom to top: input, layers, output, loss.
    A bidirectional layer gets two lanes, marked → and ←."""
    kinds = {
        (d["layer"], d["direction"]): d["kind"]
        for _, d in G.nodes(data=True)
        if d["layer"] is not None
    }
    bidirectional = {layer for layer, direction in kinds if direction == "backward"}
    labels = {("x", None): _("input x")}
    for layer, direction in sorted(kinds, key=lambda k: (k[0], k[1] == "backward")):
        arrow = {"forward": " →", "backward": " ←"}[direction] if layer in bidirectional else ""
        labels[(layer, direction)] = f"{layer} {kinds[(layer, direction)]}{arrow}"
    labels[("y", None)] = _("output y")
    labels[("loss", None)] = _("loss")
    return {key: (float(i), label) for i, (key, label) in enumerate(labels.items())}


def _lane_key(node: tuple, data: dict[str, Any]) -> tuple[Any, Any]:
    if data["layer"] is None:
        return (node[0], None)
    return (data["layer"], data["direction"])


def columns(G: nx.MultiDiGraph) -> tuple[dict[int, float], list[tuple[float, int]]]:
    """t -> x position, and the gaps as (x, number of hidden steps)."""
    shown = G.graph["steps"]
    x, gaps, position = {}, [], 0.0
    for i, t in enumerate(shown):
        if i and t != shown[i - 1] + 1:
            gaps.append((position, t - shown[i - 1] - 1))
            position += 1.0
        x[t] = position
        position += 1.0
    return x, gaps


def positions(
    G: nx.MultiDiGraph,
) -> tuple[Position, dict[int, float], list[tuple[float, int]], Lanes]:
    """Where everything goes: node -> (x, y), then columns(G) and lanes(G), which the
    axes and the gap notes need too. Shared by every figure of the unrolled graph."""
    xs, gaps = columns(G)
    lane = lanes(G)
    pos = {n: (xs[d["t"]], lane[_lane_key(n, d)][0]) for n, d in G.nodes(data=True)}
    return pos, xs, gaps, lane


def node_size(xs: dict[int, float]) -> int:
    """Marker size: smaller when many steps are drawn, so that neighbours stay apart."""
    return 15 if len(xs) <= 30 else 10


def probe_values(result: ProbeResult) -> Values:
    """Node -> {'hidden': ||h_t||, 'gradient': ||dL/dh_t||}, means over the probe batch,
    per direction; input nodes get ||dL/dx_t||."""
    values: Values = {}
    for layer in result.layers:
        hidden = layer.hidden.norm(dim=3).mean(dim=2)  # (D, T)
        grad = layer.grad_hidden.norm(dim=3).mean(dim=2)
        for d, name in enumerate(("forward", "backward")[: layer.directions]):
            for t in range(hidden.shape[1]):
                values[(layer.index, t, name)] = {
                    "hidden": float(hidden[d, t]),
                    "gradient": float(grad[d, t]),
                }
    for t, g in enumerate(result.input_grad_norm):
        values[("x", t)] = {"gradient": g}
    return values


def graph_figure(
    G: nx.MultiDiGraph,
    probe: ProbeResult | None = None,
    color_by: ColorBy = "type",
    highlight_t: int | None = None,
    height: int | None = None,
) -> go.Figure:
    """The unrolled graph as a plotly figure; each node's customdata is its id
    (designer.inside.graph.node_id), so a click can be mapped back to the node."""
    pos, xs, gaps, lane = positions(G)
    webgl = G.number_of_nodes() > WEBGL_NODES
    Scatter = go.Scattergl if webgl else go.Scatter
    values = probe_values(probe) if probe is not None else {}
    focus = highlight_t if highlight_t is not None else G.graph["steps"][-1]

    fig = go.Figure()
    for trace in edge_traces(G, pos, focus, Scatter, webgl):
        fig.add_trace(trace)
    for trace in _node_traces(G, pos, values, color_by, node_size(xs), Scatter):
        fig.add_trace(trace)
    return framed(fig, xs, gaps, lane, highlight_t, height)


# --- edges, one trace per kind (so the legend explains them) ------------------------------
def edge_path(
    kind: str, start: tuple[float, float], end: tuple[float, float]
) -> tuple[list[float], list[float], tuple[float, float]]:
    """One edge's line (x and y, without the None that ends it) and where its arrow
    head sits. A residual edge arcs to the left, clear of the depth edge it doubles."""
    (x0, y0), (x1, y1) = start, end
    if kind == "residual":
        bend = np.linspace(0, 1, 9)
        xs = [float(x) for x in x0 - 0.32 * np.sin(np.pi * bend)]
        ys = [float(y) for y in y0 + (y1 - y0) * bend]
        return xs, ys, (x0 - 0.32, (y0 + y1) / 2)
    return [x0, x1], [y0, y1], (x0 + 0.62 * (x1 - x0), y0 + 0.62 * (y1 - y0))


def edge_traces(
    G: nx.MultiDiGraph, pos: Position, focus: int, Scatter: type, webgl: bool
) -> Iterator[go.Scatter]:
    """Per edge kind, its lines and (for most kinds) a trace of arrow heads. Attention
    edges are drawn only into the step `focus`."""
    segments: dict[str, tuple[list, list]] = {kind: ([], []) for kind in EDGE_STYLES}
    arrows: dict[str, tuple[list, list]] = {kind: ([], []) for kind in EDGE_STYLES}
    for u, v, data in G.edges(data=True):
        kind = "gap" if data.get("gap") else data["kind"]
        if kind == "attention" and G.nodes[v]["t"] != focus:
            continue
        xs, ys, (ax, ay) = edge_path(kind, pos[u], pos[v])
        segments[kind][0].extend([*xs, None])
        segments[kind][1].extend([*ys, None])
        arrows[kind][0].append(ax)
        arrows[kind][1].append(ay)
    for kind, (ex, ey) in segments.items():
        if not ex:
            continue
        name, colour, dash, width, symbol = EDGE_STYLES[kind]
        line = {"color": colour, "width": width}
        if not webgl:
            line["dash"] = dash
        yield Scatter(
            x=ex, y=ey, mode="lines", line=line, name=_(name), legendgroup=kind, hoverinfo="skip"
        )
        if symbol and arrows[kind][0]:
            yield Scatter(
                x=arrows[kind][0],
                y=arrows[kind][1],
                mode="markers",
                marker={"symbol": symbol, "size": 7, "color": colour},
                legendgroup=kind,
                showlegend=False,
                hoverinfo="skip",
            )


# --- nodes -----------------------------------------------------------------------------------
def hover_text(node: tuple, data: dict[str, Any], values: Values) -> str:
    """A node's hover text: what it is, its step, width and parameters, and the probe's
    ||h_t|| and ||dL/dh_t|| where `values` has them."""
    if data["layer"] is None:
        head = f"<b>{data['label']}</b>"
    elif data["direction"] == "forward":
        head = _("<b>layer {layer}: {kind}</b> (forward)")
    elif data["direction"] == "backward":
        head = _("<b>layer {layer}: {kind}</b> (backward)")
    else:
        head = _("<b>layer {layer}: {kind}</b>")
    head = head.format(layer=data["layer"], kind=_(TYPE_NAMES.get(data["kind"], data["kind"])))
    lines = [
        head,
        _("time step t = {t}").format(t=data["t"]),
        _("vector width {width}").format(width=data["shape"]),
        _("layer parameters {n}").format(n=f"{data['params']:,}"),
    ]
    probed = values.get(node, {})
    if "hidden" in probed:
        lines.append(f"‖h_t‖ = {probed['hidden']:.3g}")
    if "gradient" in probed:
        symbol = "x_t" if data["kind"] == "input" else "h_t"
        lines.append(f"‖dL/d{symbol}‖ = {probed['gradient']:.3g}")
    return "<br>".join(lines)


def _node_trace(
    Scatter: type,
    group: list[tuple[tuple, dict[str, Any]]],
    pos: Position,
    values: Values,
    name: str,
    marker: dict[str, Any],
    **extra: Any,
) -> go.Scatter:
    """One trace of nodes; each point's customdata is its node id."""
    return Scatter(
        x=[pos[n][0] for n, _ in group],
        y=[pos[n][1] for n, _ in group],
        mode="markers",
        name=name,
        **extra,
        marker=marker,
        customdata=[node_id(n) for n, _ in group],
        hovertext=[hover_text(n, d, values) for n, d in group],
        hoverinfo="text",
    )


def _node_traces(
    G: nx.MultiDiGraph, pos: Position, values: Values, color_by: ColorBy, size: int, Scatter: type
) -> Iterator[go.Scatter]:
    """Coloured by layer type (one trace per type), or by a probe value: the nodes
    without one in pale grey, the others on a colour scale (log10 for the gradient)."""
    nodes = list(G.nodes(data=True))
    if color_by == "type" or not values:
        for kind, colour in TYPE_COLORS.items():
            group = [(n, d) for n, d in nodes if d["kind"] == kind]
            if not group:
                continue
            yield _node_trace(
                Scatter,
                group,
                pos,
                values,
                _(TYPE_NAMES.get(kind, kind)),
                {"size": size, "color": colour, "line": {"width": 1, "color": "white"}},
                legendgroup=f"node-{kind}",
            )
        return
    with_value = [(n, d) for n, d in nodes if color_by in values.get(n, {})]
    without = [(n, d) for n, d in nodes if color_by not in values.get(n, {})]
    raw = [values[n][color_by] for n, _ in with_value]
    log = color_by == "gradient"
    shown = [math.log10(max(v, 1e-30)) for v in raw] if log else raw
    title = "‖dL/dh_t‖" if log else "‖h_t‖"
    colorbar = log_colorbar(title, shown) if log else colorbar_frame(title)
    yield _node_trace(
        Scatter,
        without,
        pos,
        values,
        _("no probe value"),
        {"size": size * 0.7, "color": "#dfe4ea", "line": {"width": 1, "color": "#a4b0be"}},
    )
    yield _node_trace(
        Scatter,
        with_value,
        pos,
        values,
        title,
        {
            "size": size,
            "color": shown,
            "colorscale": "Viridis" if log else "Blues",
            "showscale": True,
            "line": {"width": 1, "color": "white"},
            "colorbar": colorbar,
        },
    )


def colorbar_frame(title: str) -> dict[str, Any]:
    """The colour bar beside a graph: titled, narrow, and shorter than the plot."""
    return {"title": {"text": title}, "thickness": 14, "len": 0.6}


def log_colorbar(title: str, exponents: list[float]) -> dict[str, Any]:
    """A colour bar over log10 values, ticked at the powers of ten as 1e-3, 1e-2, ...
    so that it reads as the values themselves."""
    bar = colorbar_frame(title)
    if exponents:
        ticks = list(range(math.floor(min(exponents)), math.ceil(max(exponents)) + 1))
        bar["tickvals"] = ticks
        bar["ticktext"] = [f"1e{k}" for k in ticks]
    return bar


# --- axes, gaps, the highlighted column ------------------------------------------------------
def framed(
    fig: go.Figure,
    xs: dict[int, float],
    gaps: list[tuple[float, int]],
    lane: Lanes,
    highlight_t: int | None,
    height: int | None,
) -> go.Figure:
    """The steps not drawn (a note in each gap), the highlighted step's column, the
    axes (steps along x, lanes up y) and the frame."""
    for x, hidden in gaps:
        fig.add_annotation(
            x=x,
            y=(len(lane) - 1) / 2,
            text=_("… {n} steps …").format(n=hidden),
            showarrow=False,
            textangle=-90,
            font={"color": GREY},
        )
    if highlight_t is not None and highlight_t in xs:
        fig.add_vrect(
            x0=xs[highlight_t] - 0.45,
            x1=xs[highlight_t] + 0.45,
            fillcolor="#f9e79f",
            opacity=0.35,
            line_width=0,
            layer="below",
        )
    ticks = sorted(xs.items(), key=lambda item: item[1])
    return laid_out(
        fig,
        None,
        height or int(120 + 46 * len(lane)),
        top=70,
        bottom=40,
        plot_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
        xaxis={
            "title": _("time step t →"),
            "tickvals": [x for _, x in ticks],
            "ticktext": [str(t) for t, _ in ticks],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "tickvals": [y for y, _ in lane.values()],
            "ticktext": [label for _, label in lane.values()],
            "showgrid": False,
            "zeroline": False,
        },
        dragmode="pan",
        hoverlabel={"align": "left"},
    )
