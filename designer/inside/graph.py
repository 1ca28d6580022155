"""The network unrolled over time as a networkx DiGraph: the picture textbooks draw
by hand, every layer at every time step.

Nodes (every node has `kind`, `layer`, `t`, `direction`):
    ("x", t)                 kind "input", layer None
    (l, t, direction)        kind = the layer's type; direction "forward"/"backward"
                             for recurrent layers, None for per-step layers
    ("y", t), ("loss", t)    kind "output" / "loss", layer None; at every step, or at
                             the last step only, as the task scores it
Edges carry `kind`: input, depth, recurrent (t-1 -> t), backward (t+1 -> t, the
backward direction of a bidirectional layer), residual, attention, loss.

Long sequences can be unrolled over a subset of steps (`steps`): the first k and the
last k, say. Recurrent edges that jump over the hidden middle carry `gap=True`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import networkx as nx

from designer.document.spec import AttentionLayer, Experiment
from designer.document.summary import GATES, summarize
from designer.tasks import Task, get_task


def visible_steps(seq_len: int, max_steps: int = 24) -> list[int]:
    """All steps if they fit, else the first and last max_steps // 2 (a gap between)."""
    if seq_len <= max_steps:
        return list(range(seq_len))
    k = max_steps // 2
    return list(range(k)) + list(range(seq_len - k, seq_len))


def directions(spec) -> list[str | None]:
    if spec.type in GATES:
        return ["forward", "backward"] if spec.bidirectional else ["forward"]
    return [None]


def unroll(
    exp: Experiment,
    task: Task | None = None,
    seq_len: int | None = None,
    steps: Iterable[int] | None = None,
) -> nx.MultiDiGraph:
    """The unrolled graph of an experiment's model over `seq_len` steps (default:
    the task's), optionally over a subset `steps` of them."""
    task = task if task is not None else get_task(exp.task)
    T = task.seq_len if seq_len is None else seq_len
    shown = sorted(set(range(T) if steps is None else steps))
    if not shown or shown[0] < 0 or shown[-1] >= T:
        raise ValueError(f"steps must lie in 0..{T - 1}")
    summary = summarize(exp, task)
    # A multigraph: a residual edge and a depth edge may join the same two nodes.
    G = nx.MultiDiGraph(seq_len=T, steps=shown, per_step=task.per_step, task=task.name)
    gap_after = {a for a, b in zip(shown, shown[1:], strict=False) if b != a + 1}
    previous = dict(zip(shown[1:], shown, strict=False))  # t -> the shown step before it
    following = dict(zip(shown, shown[1:], strict=False))

    first = summary.rows[0]  # the input row: one-hot, embedding or features
    for t in shown:
        _add(G, ("x", t), "input", None, t, None, f"x{t}", first.width, first.parameters)
    below = [("x", None)]  # the nodes feeding the next layer, by (layer, direction)
    for index, spec in enumerate(exp.model.layers):
        row = summary.rows[index + 1]
        dirs = directions(spec)
        for t in shown:
            for d in dirs:
                label = f"{spec.type} {index}"
                _add(G, (index, t, d), spec.type, index, t, d, label, row.width, row.parameters)
                for source in _sources(below, t):
                    if isinstance(spec, AttentionLayer):
                        continue  # attention reads every step: below
                    G.add_edge(source, (index, t, d), kind="input" if source[0] == "x" else "depth")
                if d == "forward" and t in previous:
                    before = previous[t]
                    G.add_edge(
                        (index, before, d), (index, t, d), kind="recurrent", gap=before in gap_after
                    )
                elif d == "backward" and t in following:
                    G.add_edge(
                        (index, following[t], d), (index, t, d), kind="backward", gap=t in gap_after
                    )
                if isinstance(spec, AttentionLayer):
                    causal = task.per_step
                    for s in shown:
                        if causal and s > t:
                            break
                        for source in _sources(below, s):
                            G.add_edge(source, (index, t, d), kind="attention")
                if getattr(spec, "residual", False):
                    for source in _sources(below, t):
                        G.add_edge(source, (index, t, d), kind="residual")
        below = [(index, d) for d in dirs]

    head = summary.rows[-1]
    scored = shown if task.per_step else [T - 1] if T - 1 in shown else []
    for t in scored:
        _add(G, ("y", t), "output", None, t, None, f"y{t}", head.width, head.parameters)
        _add(G, ("loss", t), "loss", None, t, None, f"L{t}", 1, 0)
        for source in _sources(below, t):
            G.add_edge(source, ("y", t), kind="input" if source[0] == "x" else "depth")
        G.add_edge(("y", t), ("loss", t), kind="loss")
    return G


def forward_order(G: nx.MultiDiGraph) -> list[list[tuple]]:
    """The drawn nodes in the order the forward pass computes them, as groups of nodes
    computed together: the inputs; then each layer in turn, a recurrent layer one step
    at a time (the two directions of a bidirectional layer side by side: → at the i-th
    drawn step with ← at the i-th from the end, since neither waits for the other),
    a per-step layer (linear, layernorm, dropout, attention) at all steps at once, as
    the model applies it to the whole sequence; then the outputs y, then the losses.

    Every edge runs from an earlier group to a later one, so read backwards the list
    is the order in which backpropagation through time completes each node's total
    gradient dL/dh_t."""

    def of(kind: str) -> list[tuple]:
        return sorted((n for n, d in G.nodes(data=True) if d["kind"] == kind), key=lambda n: n[1])

    by_layer: dict[int, dict[str | None, list[tuple]]] = {}
    for n, d in G.nodes(data=True):
        if d["layer"] is not None:
            by_layer.setdefault(d["layer"], {}).setdefault(d["direction"], []).append(n)
    groups = [of("input")]
    for layer in sorted(by_layer):
        lanes = by_layer[layer]
        if None in lanes:  # a per-step layer: every step at once
            groups.append(sorted(lanes[None], key=lambda n: n[1]))
            continue
        forward = sorted(lanes.get("forward", []), key=lambda n: n[1])
        backward = sorted(lanes.get("backward", []), key=lambda n: n[1], reverse=True)
        for i in range(max(len(forward), len(backward))):
            groups.append(forward[i : i + 1] + backward[i : i + 1])
    groups += [of("output"), of("loss")]
    return [group for group in groups if group]


def _add(
    G: nx.MultiDiGraph,
    node: tuple,
    kind: str,
    layer: int | None,
    t: int,
    direction: str | None,
    label: str,
    width: int,
    params: int,
) -> None:
    """One node; `shape` is the width of its vector at one step (the loss: 1)."""
    G.add_node(
        node,
        kind=kind,
        layer=layer,
        t=t,
        direction=direction,
        label=label,
        shape=str(width),
        params=params,
    )


def _sources(below: list[tuple[Any, str | None]], t: int) -> list[tuple]:
    return [("x", t) if layer == "x" else (layer, t, d) for layer, d in below]


def to_node_link(G: nx.MultiDiGraph) -> dict[str, Any]:
    """networkx node-link data, with node ids made JSON-friendly strings."""
    data = nx.node_link_data(G, edges="edges")
    names = {n: node_id(n) for n in G.nodes}
    for node in data["nodes"]:
        node["id"] = names[node["id"]]
    for edge in data["edges"]:
        edge["source"], edge["target"] = names[edge["source"]], names[edge["target"]]
    return data


def node_id(node: tuple) -> str:
    """('x', 3) -> 'x:3'; (2, 5, 'backward') -> '2:5:backward'."""
    return ":".join("" if part is None else str(part) for part in node)


def write_json(G: nx.MultiDiGraph, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_node_link(G), f)
