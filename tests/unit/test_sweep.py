"""The animated forward and backward sweep: the computation order, the frames, and
what each frame shows, read back from the figure as plotly would draw it."""

import math

import pytest

from designer import Experiment, build_model, get_task
from designer.figures.graph import TYPE_COLORS
from designer.figures.sweep import (
    CLEAR,
    FRAME_MS,
    MAX_FRAMES,
    PALE,
    faded,
    group_colors,
    step_colorscale,
    sweep_figure,
    sweep_frames,
)
from designer.inside.graph import forward_order, node_id, unroll, visible_steps
from designer.inside.probes import probe

MIXED = [
    {"type": "lstm", "hidden_size": 6, "bidirectional": True},
    {"type": "gru", "hidden_size": 5, "residual": True},
    {"type": "attention", "residual": True},
    {"type": "linear", "out_features": 4},
    {"type": "rnn", "hidden_size": 4, "bidirectional": True, "residual": True},
]
STACKS = [
    [{"type": "lstm", "hidden_size": 4}],
    MIXED,
    [{"type": "gru", "hidden_size": 4, "bidirectional": True}, {"type": "layernorm"}],
    [],
]


def experiment(layers, task) -> Experiment:
    return Experiment.from_dict({"task": task, "model": {"layers": layers}})


def probed(layers, task, steps=None):
    """(graph, probe) of an untrained model."""
    exp = experiment(layers, task)
    t = get_task(exp.task)
    G = unroll(exp, t, steps=steps)
    return G, probe(build_model(exp, t), t)


@pytest.mark.parametrize("layers", STACKS)
@pytest.mark.parametrize("task", ["sine", "adding"])  # loss at every step / at the last
@pytest.mark.parametrize("steps", [None, [0, 1, 2, 8, 9]])  # all steps, or with a gap
def test_forward_order_covers_every_node_once_and_respects_every_edge(layers, task, steps):
    G = unroll(experiment(layers, {"name": task, "seq_len": 10}), steps=steps)
    order = forward_order(G)
    flat = [n for group in order for n in group]
    assert sorted(flat, key=str) == sorted(G.nodes, key=str)  # every node, once
    group = {n: g for g, nodes in enumerate(order) for n in nodes}
    kinds = set()
    for u, v, kind in G.edges(data="kind"):
        assert group[u] < group[v], (u, v, kind)  # never before its inputs
        kinds.add(kind)
    if layers is MIXED:
        assert {"recurrent", "backward", "depth", "residual", "attention"} <= kinds
    assert order[0][0][0] == "x" and order[-1][0][0] == "loss"


def test_forward_order_runs_the_two_directions_side_by_side():
    G = unroll(experiment(MIXED[:1], {"name": "sine", "seq_len": 5}))
    order = forward_order(G)
    assert order[1] == [(0, 0, "forward"), (0, 4, "backward")]
    assert order[5] == [(0, 4, "forward"), (0, 0, "backward")]


@pytest.mark.parametrize("groups", [1, 3, 124, 125, 203, 1000])
def test_backward_frames_are_the_forward_ones_reversed_and_bounded(groups):
    frames = sweep_frames(groups)
    assert frames[0].direction is None and len(frames) <= MAX_FRAMES
    forward = [f.groups for f in frames if f.direction == "forward"]
    backward = [f.groups for f in frames if f.direction == "backward"]
    assert [g for chunk in forward for g in chunk] == list(range(groups))
    assert backward == [chunk[::-1] for chunk in reversed(forward)]
    if 2 * groups + 1 <= MAX_FRAMES:
        assert all(len(chunk) == 1 for chunk in forward)  # one group a frame when it fits


def test_step_colorscale_gives_each_group_its_colour():
    colors = ["#111111", "#111111", "#222222", PALE, PALE]
    scale = step_colorscale(colors)
    assert scale[0][0] == 0 and scale[-1][0] == 1
    assert [colour_at(scale, g, 5) for g in range(5)] == colors


def colour_at(scale, value: float, groups: int) -> str:
    """What plotly draws for `value` on cmin = -0.5, cmax = groups - 0.5 (a step
    scale: the band the value falls in)."""
    p = (value + 0.5) / groups
    return [colour for position, colour in scale if position <= p][-1]


def trace(fig, name):
    (found,) = [t for t in fig.data if t.name == name]
    return found


def shown(fig, k: int) -> dict[str, object]:
    """Node id -> what frame k shows: a colour, or the log10 gradient of the trace
    beneath where the top trace is transparent."""
    top = trace(fig, "nodes")
    frame = fig.frames[k]
    index = [i for i, t in enumerate(fig.data) if t.name == "nodes"][0]
    scale = frame.data[frame.traces.index(index)].marker.colorscale
    groups = round(top.marker.cmax + 0.5)
    beneath = {}
    for name in ("‖dL/dh_t‖", "no probe value"):
        t = trace(fig, name)
        colours = t.marker.color if t.marker.color is not None else []
        beneath.update(zip(t.customdata or [], colours, strict=True))
    out = {}
    for n, g in zip(top.customdata, top.marker.color, strict=True):
        colour = colour_at(scale, g, groups)
        out[n] = beneath[n] if colour == CLEAR else colour
    return out


@pytest.fixture(scope="module")
def mixed():
    G, result = probed(MIXED, {"name": "sine", "seq_len": 12})
    return G, result, sweep_figure(G, result)


def test_forward_frames_light_nodes_only_after_their_inputs(mixed):
    G, _, fig = mixed
    frames = sweep_frames(len(forward_order(G)))
    lit_before: set = set()
    for k, frame in enumerate(frames):
        if frame.direction != "forward":
            continue
        state = shown(fig, k)
        lit = {n for n in G.nodes if state[node_id(n)] == TYPE_COLORS[G.nodes[n]["kind"]]}
        assert all(state[node_id(n)] == PALE for n in set(G.nodes) - lit)
        assert lit_before < lit  # something new lights up every frame
        for n in lit:
            assert set(G.predecessors(n)) <= lit, n
        lit_before = lit
    assert lit_before == set(G.nodes)


def test_backward_frames_show_the_probe_gradient_in_reverse_order(mixed):
    G, result, fig = mixed
    frames = sweep_frames(len(forward_order(G)))
    # the probe's value, computed here: mean over the batch of ||dL/dh_t||, per direction
    expected = {}
    for layer in result.layers:
        for d, name in enumerate(("forward", "backward")[: layer.directions]):
            norms = layer.grad_hidden[d].norm(dim=-1).mean(dim=-1)  # (T,)
            for t, value in enumerate(norms.tolist()):
                expected[node_id((layer.index, t, name))] = math.log10(value)
    for t, value in enumerate(result.input_grad.norm(dim=2).mean(dim=1).tolist()):
        expected[node_id(("x", t))] = math.log10(value)
    reached_before: set = set()
    backward = [k for k, f in enumerate(frames) if f.direction == "backward"]
    for k in backward:
        state = shown(fig, k)
        reached = {n for n in G.nodes if state[node_id(n)] != _pale_shade(G, n)}
        assert reached_before < reached
        for n in reached:  # complete only once everything that reads it is
            assert set(G.successors(n)) <= reached, n
            if node_id(n) in expected:
                assert state[node_id(n)] == pytest.approx(expected[node_id(n)], abs=1e-9)
        reached_before = reached
    assert reached_before == set(G.nodes)
    probed_nodes = [n for n, d in G.nodes(data=True) if d["direction"] or d["kind"] == "input"]
    assert set(expected) == {node_id(n) for n in probed_nodes}  # all checked above
    # one fixed colour scale, with a colour bar, for the whole animation
    bar = trace(fig, "‖dL/dh_t‖").marker
    assert bar.showscale and bar.colorscale[0][1] != bar.colorscale[-1][1]
    assert bar.cmin == pytest.approx(min(expected.values()))
    assert bar.cmax == pytest.approx(max(expected.values()))


def _pale_shade(G, n) -> str:
    """The faded layer colour of a node the gradient has not reached yet."""
    return faded(TYPE_COLORS[G.nodes[n]["kind"]])


def test_consecutive_frames_differ_and_carry_no_per_node_arrays(mixed):
    G, _, fig = mixed
    states = [shown(fig, k) for k in range(len(fig.frames))]
    assert all(a != b for a, b in zip(states, states[1:], strict=False))
    for frame in fig.frames:
        assert [fig.data[i].name for i in frame.traces] == ["frame edges", "nodes", "caption"]
        top = frame.data[1].marker
        assert top.color is None and len(top.colorscale) <= 4 * (len(MIXED) + 4)


def test_captions_and_the_edges_of_each_frame(mixed):
    G, result, fig = mixed
    captions = [f.data[2].text[0] for f in fig.frames]
    assert captions[0].startswith("▶ Play")
    assert "forward: layer 0 (lstm), → t = 0; ← t = 11" in captions
    layer = result.layers[1]  # the gru, index 1
    value = layer.grad_hidden[0, 7].norm(dim=-1).mean().item()
    mantissa, exponent = f"{value:.1e}".split("e")
    assert f"backward: layer 1 (gru), t = 7, ‖dL/dh_t‖ = {mantissa}e{int(exponent)}" in captions
    assert captions[-1].startswith("backward: inputs x_t, ‖dL/dx_t‖ from")
    edges = [f.data[0] for f in fig.frames]
    # none at the start, into the inputs (forward) or out of the losses (backward)
    assert {f.name for f, e in zip(fig.frames, edges, strict=True) if not e.x} == {
        "start",
        "f1",
        "b1",
    }


def test_controls_play_pause_and_a_slider_step_per_frame(mixed):
    _, _, fig = mixed
    (menu,) = fig.layout.updatemenus
    play, pause = menu.buttons
    assert "Play" in play.label and play.method == "animate" and play.args[0] is None
    assert 40 <= play.args[1]["frame"]["duration"] == FRAME_MS <= 80
    assert play.args[1]["transition"]["duration"] == 0
    assert "Pause" in pause.label and list(pause.args[0]) == [None]
    (slider,) = fig.layout.sliders
    assert [s.args[0][0] for s in slider.steps] == [f.name for f in fig.frames]


def test_a_long_stack_stays_within_the_frame_budget():
    layers = [{"type": "lstm", "hidden_size": 4, "bidirectional": True}] * 6
    G, result = probed(layers, {"name": "sine", "seq_len": 100}, steps=visible_steps(100, 60))
    fig = sweep_figure(G, result)
    assert len(forward_order(G)) * 2 > MAX_FRAMES  # so groups share frames
    assert len(fig.frames) <= MAX_FRAMES
    end = shown(fig, -1)  # every node reached, every value shown
    assert all(isinstance(end[node_id(n)], float) for n in G.nodes if n[0] not in ("y", "loss"))


def test_group_colors_start_pale():
    assert group_colors(["input", "lstm"], sweep_frames(2)[0]) == [PALE, PALE]
