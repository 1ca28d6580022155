"""The forward and backward sweep, animated (the Graph page's Play): nodes light up in
the order the forward pass computes them, then the gradient spreads back from the
loss, each node taking the colour of its exact ||dL/dh_t|| from a probe.

How the frames stay light enough to play smoothly with hundreds of nodes: a frame
never carries per-node arrays. Every node trace is drawn once; the top one gives each
node a number, the index of its group in the forward order (designer.inside.graph.
forward_order), and a frame changes only that trace's colour scale: a step function
of the group index that paints the groups computed so far in their layer's colour and
the others pale. In the backward pass the scale turns the groups the gradient has
reached transparent, uncovering a trace beneath that holds every node's log10
||dL/dh_t|| on one fixed Viridis scale. A frame's other updates are small: the edges
of its own nodes, and its caption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import plotly.graph_objects as go

from designer.figures.graph import (
    TYPE_COLORS,
    TYPE_NAMES,
    Values,
    edge_path,
    edge_traces,
    framed,
    hover_text,
    log_colorbar,
    node_size,
    positions,
    probe_values,
)
from designer.i18n import _
from designer.inside.graph import forward_order, node_id
from designer.inside.probes import ProbeResult

MAX_FRAMES = 250  # groups are merged into frames beyond this (both passes and the start)
FRAME_MS = 60  # per frame while playing
PALE = "#e8ebee"  # not computed yet
CLEAR = "rgba(0,0,0,0)"  # reached by the gradient: the gradient trace beneath shows
FADE = 0.7  # computed, gradient not back yet: the layer colour this far towards white
FORWARD_EDGES = "#f39c12"
BACKWARD_EDGES = "#e84393"
CONTROLS_HEIGHT = 90  # the Play/Pause buttons and the slider, below the plot

Pass = Literal["forward", "backward"]


@dataclass(frozen=True)
class SweepFrame:
    """One frame: which pass, and the groups (indices into the forward order) whose
    nodes it computes, in the order that pass handles them."""

    name: str
    direction: Pass | None  # None: the start, before anything is computed
    groups: tuple[int, ...]


def sweep_frames(groups: int, max_frames: int = MAX_FRAMES) -> list[SweepFrame]:
    """The start, the forward frames and the backward frames (the forward ones in
    reverse) over `groups` groups; consecutive groups share a frame when one each
    would make more than `max_frames` frames in all."""
    per = max(1, math.ceil(2 * groups / max(1, max_frames - 1)))
    chunks = [tuple(range(i, min(i + per, groups))) for i in range(0, groups, per)]
    frames = [SweepFrame("start", None, ())]
    frames += [SweepFrame(f"f{i}", "forward", c) for i, c in enumerate(chunks, 1)]
    frames += [SweepFrame(f"b{i}", "backward", c[::-1]) for i, c in enumerate(reversed(chunks), 1)]
    return frames


def group_colors(types: list[str], frame: SweepFrame) -> list[str]:
    """The top trace's colour of each group once `frame` has been drawn."""
    if frame.direction is None:
        return [PALE] * len(types)
    if frame.direction == "forward":
        done = max(frame.groups)
        return [TYPE_COLORS[kind] if g <= done else PALE for g, kind in enumerate(types)]
    reached = min(frame.groups)
    return [CLEAR if g >= reached else faded(TYPE_COLORS[kind]) for g, kind in enumerate(types)]


def step_colorscale(colors: list[str]) -> list[list[Any]]:
    """A plotly colour scale that gives group g (its value g, on cmin = -0.5 to
    cmax = n - 0.5) the colour colors[g]: one flat band per run of equal colours."""
    n = len(colors)
    scale: list[list[Any]] = []
    start = 0
    for g in range(1, n + 1):
        if g == n or colors[g] != colors[start]:
            scale += [[round(start / n, 6), colors[start]], [round(g / n, 6), colors[start]]]
            start = g
    return scale


def faded(color: str, amount: float = FADE) -> str:
    """A '#rrggbb' colour moved `amount` of the way to white, still opaque (the
    gradient trace beneath must not show through)."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def sweep_figure(G: nx.MultiDiGraph, probe: ProbeResult, height: int | None = None) -> go.Figure:
    """The unrolled graph `G` with Play/Pause buttons and a step slider that animate
    the forward pass, then the backward pass coloured by the probe's ||dL/dh_t||
    (mean over the probe batch, log10, one Viridis scale for the whole animation).
    Each node's customdata is its id (designer.inside.graph.node_id)."""
    pos, xs, gaps, lane = positions(G)
    order = forward_order(G)
    types = [G.nodes[group[0]]["kind"] for group in order]
    values = probe_values(probe)
    size = node_size(xs)
    focus = G.graph["steps"][-1]  # attention edges are drawn into the last step only
    frames = sweep_frames(len(order))

    fig = go.Figure()
    fig.add_traces(list(edge_traces(G, pos, focus, go.Scatter, webgl=False)))
    fig.add_traces(
        [
            _frame_edges_trace(),  # beneath every node
            *_gradient_traces(G, pos, values, size),
            _top_trace(G, pos, order, values, size, group_colors(types, frames[0])),
            _caption_trace(
                (min(xs.values()) - 0.5, max(y for y, _ in lane.values()) + 0.9),
                _caption(G, order, frames[0], values),
            ),
        ]
    )
    # what the frames change (the same order as in each frame's data)
    traces = [i for i, t in enumerate(fig.data) if t.name in ("frame edges", "nodes", "caption")]
    # plain dicts: plotly validates them once here (go.Frame objects would be twice)
    fig.frames = [
        {
            "name": frame.name,
            "traces": traces,
            "data": [
                _frame_edges(G, pos, order, frame, focus),
                {
                    "type": "scatter",
                    "marker": {"colorscale": step_colorscale(group_colors(types, frame))},
                },
                {"type": "scatter", "text": [_caption(G, order, frame, values)]},
            ],
        }
        for frame in frames
    ]
    framed(fig, xs, gaps, lane, None, None)
    plot_height = height or fig.layout.height
    fig.update_layout(
        height=plot_height + CONTROLS_HEIGHT,
        margin={"b": 40 + CONTROLS_HEIGHT},
        updatemenus=[_buttons()],
        sliders=[_slider(frames)],
    )
    return fig


# --- traces --------------------------------------------------------------------------------
def _frame_edges_trace() -> go.Scatter:
    """The edges of the frame's nodes, thick; each frame gives their lines."""
    return go.Scatter(
        x=[],
        y=[],
        name="frame edges",
        mode="lines",
        line={"color": FORWARD_EDGES, "width": 3.5},
        showlegend=False,
        hoverinfo="skip",
    )


def _top_trace(
    G: nx.MultiDiGraph,
    pos: dict,
    order: list[list[tuple]],
    values: Values,
    size: int,
    colors: list[str],
) -> go.Scatter:
    """Every node, valued by its group in the forward order; the frames colour it
    through its colour scale alone (see the module's docstring). It is the trace the
    pointer reads: hover text and node ids."""
    nodes = [n for group in order for n in group]
    group_of = {n: g for g, group in enumerate(order) for n in group}
    return go.Scatter(
        x=[pos[n][0] for n in nodes],
        y=[pos[n][1] for n in nodes],
        mode="markers",
        name="nodes",
        showlegend=False,
        marker={
            "size": size,
            "color": [group_of[n] for n in nodes],
            "cmin": -0.5,
            "cmax": len(order) - 0.5,
            "colorscale": step_colorscale(colors),
            "showscale": False,
            "line": {"width": 0},  # the outline beneath shows; one style less per frame
        },
        customdata=[node_id(n) for n in nodes],
        hovertext=[hover_text(n, G.nodes[n], values) for n in nodes],
        hoverinfo="text",
    )


def _caption_trace(at: tuple[float, float], text: str) -> go.Scatter:
    """The frame's caption, above the top lane: a text trace, which a frame can change
    without redrawing the whole figure (a title or an annotation would need that)."""
    return go.Scatter(
        x=[at[0]],
        y=[at[1]],
        mode="text",
        name="caption",
        text=[text],
        textposition="middle right",
        textfont={"size": 13},
        cliponaxis=False,
        showlegend=False,
        hoverinfo="skip",
    )


def _gradient_traces(G: nx.MultiDiGraph, pos: dict, values: Values, size: int) -> list[go.Scatter]:
    """Beneath the top trace, uncovered as the gradient reaches them: the nodes with a
    probe value on the log10 Viridis scale, and the others (outputs, losses, per-step
    layers) in their layer's colour."""
    valued = [n for n in G.nodes if "gradient" in values.get(n, {})]
    others = [n for n in G.nodes if "gradient" not in values.get(n, {})]
    logs = [math.log10(max(values[n]["gradient"], 1e-30)) for n in valued]
    common = {"mode": "markers", "showlegend": False, "hoverinfo": "skip"}
    line = {"width": 1, "color": "white"}
    return [
        go.Scatter(
            x=[pos[n][0] for n in valued],
            y=[pos[n][1] for n in valued],
            name="‖dL/dh_t‖",
            customdata=[node_id(n) for n in valued],
            marker={
                "size": size,
                "color": logs,
                "colorscale": "Viridis",
                "cmin": min(logs, default=0.0),
                "cmax": max(logs, default=1.0),
                "showscale": bool(logs),
                "colorbar": log_colorbar("‖dL/dh_t‖", logs),
                "line": line,
            },
            **common,
        ),
        go.Scatter(
            x=[pos[n][0] for n in others],
            y=[pos[n][1] for n in others],
            name=_("no probe value"),
            customdata=[node_id(n) for n in others],
            marker={
                "size": size,
                "color": [TYPE_COLORS[G.nodes[n]["kind"]] for n in others],
                "line": line,
            },
            **common,
        ),
    ]


def _frame_edges(
    G: nx.MultiDiGraph, pos: dict, order: list[list[tuple]], frame: SweepFrame, focus: int
) -> dict[str, Any]:
    """The edges of the frame's nodes: in the forward pass the ones into them (what
    they read), in the backward pass the ones out of them (the way the gradient came
    back to them from the nodes that read them)."""
    x: list[float | None] = []
    y: list[float | None] = []
    nodes = [n for g in frame.groups for n in order[g]]
    if frame.direction == "forward":
        edges = G.in_edges(nodes, data=True)
    else:
        edges = G.out_edges(nodes, data=True)
    for u, v, data in edges:
        if data["kind"] == "attention" and G.nodes[v]["t"] != focus:
            continue
        ex, ey, _ = edge_path(data["kind"], pos[u], pos[v])
        x += [*ex, None]
        y += [*ey, None]
    color = BACKWARD_EDGES if frame.direction == "backward" else FORWARD_EDGES
    return {"type": "scatter", "x": x, "y": y, "line": {"color": color}}


# --- captions --------------------------------------------------------------------------------
def _caption(
    G: nx.MultiDiGraph, order: list[list[tuple]], frame: SweepFrame, values: Values
) -> str:
    """What the frame shows, e.g. 'backward: layer 2 (lstm), t = 17, ‖dL/dh_t‖ = 3.1e-4';
    the groups of one layer that share a frame are listed after one heading."""
    if frame.direction is None:
        return _("▶ Play: the forward pass, then the backward pass")
    parts: list[tuple[str, str]] = []
    for g in frame.groups:
        head, detail = _describe(G, order[g], values, frame.direction == "backward")
        if parts and parts[-1][0] == head and detail:
            parts[-1] = (head, f"{parts[-1][1]}{_('; ')}{detail}")
        else:
            parts.append((head, detail))
    text = " · ".join(
        _("{head}, {detail}").format(head=head, detail=detail) if detail else head
        for head, detail in parts
    )
    if frame.direction == "forward":
        return _("forward: {text}").format(text=text)
    return _("backward: {text}").format(text=text)


def _describe(
    G: nx.MultiDiGraph, group: list[tuple], values: Values, backward: bool
) -> tuple[str, str]:
    """A group as (heading, detail): the layer, and its steps with their gradients."""
    data = G.nodes[group[0]]
    kind = data["kind"]
    grads = [values.get(n, {}).get("gradient") for n in group]
    if kind == "input":
        known = [v for v in grads if v is not None]
        if backward and known:
            low, high = _sci(min(known)), _sci(max(known))
            return _("inputs x_t"), _("‖dL/dx_t‖ from {low} to {high}").format(low=low, high=high)
        return _("inputs x_t"), ""
    if kind == "output":
        if len(group) > 1:
            return _("outputs y_t"), ""
        return _("output y at t = {t}").format(t=data["t"]), ""
    if kind == "loss":
        if len(group) == 1:
            return (_("the loss: the gradient starts here") if backward else _("the loss")), ""
        return (_("the losses: the gradient starts here") if backward else _("the losses")), ""
    name = _(TYPE_NAMES.get(kind, kind))
    head = _("layer {layer} ({kind})").format(layer=data["layer"], kind=name)
    if data["direction"] is None:
        return head, _("every step at once")
    details = []
    for n, grad in zip(group, grads, strict=True):
        arrow = (
            {"forward": "→ ", "backward": "← "}[G.nodes[n]["direction"]] if len(group) > 1 else ""
        )
        detail = f"{arrow}t = {G.nodes[n]['t']}"
        if backward and grad is not None:
            detail += f", ‖dL/dh_t‖ = {_sci(grad)}"
        details.append(detail)
    return head, _("; ").join(details)


def _sci(value: float) -> str:
    """3.1e-4, not 3.1e-04."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


# --- controls ------------------------------------------------------------------------------
def _animate(frames: list[str] | None, duration: int) -> list[Any]:
    """The arguments of a plotly 'animate' call: frames drawn without a full redraw
    (only the traces they name change) and with no tweening between them."""
    return [
        frames,
        {
            "frame": {"duration": duration, "redraw": False},
            "transition": {"duration": 0},
            "mode": "immediate",
            "fromcurrent": True,
        },
    ]


def _buttons() -> dict[str, Any]:
    return {
        "type": "buttons",
        "direction": "left",
        "x": 0,
        "xanchor": "left",
        "y": 0,
        "yanchor": "top",
        "pad": {"t": 45, "r": 10},
        "showactive": False,
        "buttons": [
            {"label": _("▶ Play"), "method": "animate", "args": _animate(None, FRAME_MS)},
            {"label": _("❚❚ Pause"), "method": "animate", "args": _animate([None], 0)},
        ],
    }


def _slider(frames: list[SweepFrame]) -> dict[str, Any]:
    """One step per frame. The steps' own labels are hidden (hundreds would overlap);
    the current one is written above the slider."""
    counts = {"forward": 0, "backward": 0}
    total = sum(1 for f in frames if f.direction == "forward")
    steps = []
    for frame in frames:
        if frame.direction is None:
            label = _("start")
        else:
            counts[frame.direction] += 1
            label = (
                _("forward {k} of {total}")
                if frame.direction == "forward"
                else _("backward {k} of {total}")
            ).format(k=counts[frame.direction], total=total)
        steps.append({"label": label, "method": "animate", "args": _animate([frame.name], 0)})
    return {
        "active": 0,
        "steps": steps,
        "x": 0.2,
        "len": 0.8,
        "y": 0,
        "yanchor": "top",
        "pad": {"t": 35},
        "ticklen": 0,
        "minorticklen": 0,
        "font": {"color": CLEAR},
        "currentvalue": {
            "prefix": "",
            "xanchor": "right",  # clear of the buttons on the left
            "font": {"size": 12, "color": "#555"},
        },
    }
