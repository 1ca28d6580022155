"""The unrolled graph: node and edge counts by formula, long-sequence collapse, the
figure and the command line."""

import json
from collections import Counter

import networkx as nx
import pytest

from designer import Experiment, build_model, get_task
from designer.__main__ import main
from designer.figures.graph import graph_figure, lanes
from designer.inside.graph import node_id, to_node_link, unroll, visible_steps
from designer.inside.probes import probe

# the edge kinds the module's docstring promises
EDGE_KINDS = ("input", "depth", "recurrent", "backward", "residual", "attention", "loss")


def experiment(layers, task) -> Experiment:
    return Experiment.from_dict({"task": task, "model": {"layers": layers}})


def expected_counts(layers, T: int, per_step: bool) -> tuple[int, Counter]:
    """Nodes and edges per kind, from the definitions in designer/inside/graph.py."""
    dirs = [2 if layer.get("bidirectional") else 1 for layer in layers]
    below = [1] + dirs  # directions feeding layer l (the input has one)
    scored = T if per_step else 1
    nodes = T + sum(d * T for d in dirs) + 2 * scored
    edges = Counter()
    for l, layer in enumerate(layers):
        pairs = below[l] * dirs[l]
        if layer["type"] == "attention":
            edges["attention"] += pairs * (T * (T + 1) // 2 if per_step else T * T)
        else:
            edges["input" if l == 0 else "depth"] += pairs * T
        if layer["type"] in ("rnn", "lstm", "gru"):
            edges["recurrent"] += T - 1
            if layer.get("bidirectional"):
                edges["backward"] += T - 1
        if layer.get("residual"):
            edges["residual"] += pairs * T
    edges["depth" if layers else "input"] += below[-1] * scored
    edges["loss"] += scored
    return nodes, edges


STACKS = [
    [{"type": "lstm"}],
    [{"type": "gru", "bidirectional": True}, {"type": "lstm", "residual": True}],
    [
        {"type": "rnn", "bidirectional": True},
        {"type": "gru", "bidirectional": True, "residual": True},
        {"type": "attention", "residual": True},
        {"type": "layernorm"},
        {"type": "linear", "out_features": 8, "residual": True},
        {"type": "dropout"},
    ],
    [{"type": "linear", "out_features": 8}],
    [],
]


@pytest.mark.parametrize("layers", STACKS)
@pytest.mark.parametrize("task", [{"name": "sine", "seq_len": 9}, {"name": "adding", "seq_len": 9}])
def test_counts_by_formula(layers, task):
    exp = experiment(layers, task)
    G = unroll(exp)
    assert isinstance(G, nx.DiGraph)
    nodes, edges = expected_counts(layers, 9, per_step=task["name"] == "sine")
    assert G.number_of_nodes() == nodes
    assert Counter(kind for _, _, kind in G.edges(data="kind")) == +edges
    assert set(edges) <= set(EDGE_KINDS)


def test_node_attributes_and_directions():
    exp = experiment(
        [{"type": "gru", "bidirectional": True}, {"type": "linear"}], {"name": "adding"}
    )
    G = unroll(exp, seq_len=4)
    for _, data in G.nodes(data=True):
        assert {"kind", "layer", "t", "direction", "shape", "params"} <= set(data)
    assert G.nodes[(0, 2, "backward")]["direction"] == "backward"
    assert G.nodes[(1, 2, None)]["kind"] == "linear"
    assert G.nodes[("x", 0)]["layer"] is None
    # the backward direction runs from t+1 to t; the loss only at the last step
    assert G.has_edge((0, 3, "backward"), (0, 2, "backward"))
    assert not G.has_edge((0, 2, "backward"), (0, 3, "backward"))
    assert [n for n, d in G.nodes(data=True) if d["kind"] == "loss"] == [("loss", 3)]


def test_attention_is_causal_only_for_per_step_tasks():
    layers = [{"type": "gru"}, {"type": "attention"}]
    causal = unroll(experiment(layers, {"name": "sine"}), seq_len=5)
    assert causal.has_edge((0, 1, "forward"), (1, 3, None))
    assert not causal.has_edge((0, 4, "forward"), (1, 3, None))
    full = unroll(experiment(layers, {"name": "adding"}), seq_len=5)
    assert full.has_edge((0, 4, "forward"), (1, 3, None))


def test_long_sequences_collapse_to_first_and_last_steps():
    assert visible_steps(10, 24) == list(range(10))
    steps = visible_steps(1000, 24)
    assert steps == list(range(12)) + list(range(988, 1000))
    layers = [{"type": "lstm", "bidirectional": True}, {"type": "gru"}]
    exp = experiment(layers, {"name": "sine", "seq_len": 1000})
    G = unroll(exp, steps=steps)
    nodes, _ = expected_counts(layers, 24, per_step=True)
    assert G.number_of_nodes() == nodes
    gaps = [(u, v) for u, v, gap in G.edges(data="gap") if gap]
    assert ((1, 11, "forward"), (1, 988, "forward")) in gaps
    assert ((0, 988, "backward"), (0, 11, "backward")) in gaps
    assert len(gaps) == 3  # one per recurrent direction
    assert G.graph["seq_len"] == 1000
    fig = graph_figure(G)
    texts = [a.text for a in fig.layout.annotations]
    assert "… 976 steps …" in texts
    with pytest.raises(ValueError):
        unroll(exp, steps=[5, 1000])


def test_figure_has_a_trace_per_edge_kind_and_clickable_nodes():
    layers = [
        {"type": "gru", "bidirectional": True},
        {"type": "lstm", "residual": True},
        {"type": "attention"},
    ]
    exp = experiment(layers, {"name": "sine", "seq_len": 6})
    G = unroll(exp)
    fig = graph_figure(G, highlight_t=3)
    names = {trace.name for trace in fig.data if trace.showlegend is not False}
    for name in (
        "recurrent: t-1 → t",
        "backward direction: t+1 → t",
        "residual skip",
        "attention (into the chosen step)",
        "lstm",
        "gru",
        "loss",
    ):
        assert name in names
    ids = {c for trace in fig.data if trace.customdata is not None for c in trace.customdata}
    assert ids == {node_id(n) for n in G.nodes}
    assert fig.layout.shapes  # the highlighted column
    assert len(lanes(G)) == 1 + 2 + 1 + 1 + 2  # input, gru → ←, lstm, attention, y, loss


def test_colour_by_gradient_uses_probe_values_on_a_log_scale():
    exp = experiment([{"type": "rnn", "hidden_size": 16}], {"name": "adding", "seq_len": 20})
    task = get_task(exp.task)
    result = probe(build_model(exp, task), task)
    fig = graph_figure(unroll(exp, task), result, color_by="gradient")
    (coloured,) = [t for t in fig.data if t.name == "‖dL/dh_t‖"]
    values = list(coloured.marker.color)
    # 20 RNN nodes plus 20 input nodes (dL/dx_t), in log10
    assert len(values) == 40
    assert max(values) - min(values) > 2  # fades by orders of magnitude at initialisation
    assert any("1e" in str(text) for text in coloured.marker.colorbar.ticktext)
    hidden = graph_figure(unroll(exp, task), result, color_by="hidden")
    assert any(t.name == "‖h_t‖" for t in hidden.data)


def test_large_figures_switch_to_webgl():
    layers = [{"type": "lstm", "hidden_size": 4}] * 16
    exp = experiment(layers, {"name": "sine", "seq_len": 100})
    fig = graph_figure(unroll(exp))
    assert any(trace.type == "scattergl" for trace in fig.data)
    small = graph_figure(unroll(exp, steps=visible_steps(100)))
    assert all(trace.type == "scatter" for trace in small.data)


def test_node_link_json_and_cli(tmp_path, capsys):
    exp = experiment(
        [{"type": "lstm", "hidden_size": 4, "bidirectional": True}], {"name": "adding"}
    )
    data = to_node_link(unroll(exp, seq_len=3))
    json.dumps(data)
    assert {"x:0", "0:1:backward", "y:2", "loss:2"} <= {n["id"] for n in data["nodes"]}
    spec = tmp_path / "spec.json"
    spec.write_text(exp.to_json())
    out = tmp_path / "graph.json"
    assert main(["graph", str(spec), "--seq-len", "5", "--out", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    written = json.loads(out.read_text())
    assert record["nodes"] == len(written["nodes"]) == 5 + 10 + 2
    for node in written["nodes"]:
        assert {"kind", "layer", "t", "direction"} <= set(node)
    html = tmp_path / "graph.html"
    assert main(["graph", str(spec), "--out", str(html)]) == 0
    assert "plotly" in html.read_text()[:5000].lower()
    assert main(["graph", str(spec), "--out", str(tmp_path / "graph.png")]) == 2
    assert main(["graph", str(spec), "--seq-len", "0", "--out", str(out)]) == 2
