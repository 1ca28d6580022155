"""The details of one node of the unrolled graph: what it holds at its time step,
its gates, and its layer's equations with that step's numbers put in."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from components.graph.cell_walk import show_cell_walk
from designer.document.equations import equations
from designer.document.spec import Experiment
from designer.i18n import N_, _
from designer.inside.probes import LayerProbe, ProbeResult

GATE_SYMBOLS = {
    "input": "i",
    "forget": "f",
    "cell": "g",
    "output": "o",
    "reset": "r",
    "update": "z",
    "new": "n",
}
GATE_NAMES = {  # a gate's name and symbol, as its heat map's row says it
    "input": N_("input (i)"),
    "forget": N_("forget (f)"),
    "cell": N_("cell (g)"),
    "output": N_("output (o)"),
    "reset": N_("reset (r)"),
    "update": N_("update (z)"),
    "new": N_("new (n)"),
}


def parse_node_id(text: str) -> tuple:
    """'x:3' -> ('x', 3); '2:5:backward' -> (2, 5, 'backward'); '1:4:' -> (1, 4, None)."""
    parts = text.split(":")
    if parts[0] in ("x", "y", "loss"):
        return (parts[0], int(parts[1]))
    return (int(parts[0]), int(parts[1]), parts[2] or None)


def _vector_heatmap(rows: dict[str, list[float]], title: str) -> go.Figure:
    names = list(rows)
    fig = go.Figure(
        go.Heatmap(
            z=[rows[n] for n in names],
            y=names,
            colorscale="RdBu",
            zmid=0,
            colorbar={"thickness": 10},
            hovertemplate=_("unit {x}<br>{row}: {z}").format(x="%{x}", row="%{y}", z="%{z:.3f}")
            + "<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        height=90 + 28 * len(names),
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        xaxis_title=_("unit"),
    )
    return fig


def _layer_probe(result: ProbeResult, index: int) -> LayerProbe | None:
    return next((layer for layer in result.layers if layer.index == index), None)


def show_node_details(node: tuple, exp: Experiment, result: ProbeResult, source: str) -> None:
    """The node picked in the unrolled graph: an input, output or loss step, or a layer
    at one step with its probed state, gradient, gates and equations."""
    if node[0] in ("x", "y", "loss"):
        _input_output_node(*node, result)
        return
    index, t, direction = node
    spec = exp.model.layers[index]
    if direction == "forward":
        label = _("Layer {index}: {type}, forward, t = {t}")
    elif direction == "backward":
        label = _("Layer {index}: {type}, backward, t = {t}")
    else:
        label = _("Layer {index}: {type}, t = {t}")
    st.subheader(label.format(index=index, type=spec.type, t=t))
    lines = equations(
        spec.type,
        getattr(spec, "residual", False),
        nonlinearity=getattr(spec, "nonlinearity", "tanh"),
        activation=getattr(spec, "activation", "none"),
        leak_rate=getattr(spec, "leak_rate", 1.0),
    )
    layer = _layer_probe(result, index)
    if layer is None:  # a per-step layer: no state of its own is probed
        for line in lines:
            st.latex(line)
        st.caption(
            _(
                "This layer works on each time step on its own; probes record the "
                "recurrent layers' states."
            )
        )
        return

    d = 0 if direction in (None, "forward") else 1
    sample = _state_at_step(layer, d, t, result.x.shape[0], source)
    walk = st.toggle(
        _("Step through this cell, forward and back"),
        key="cell_walk",
        help=_(
            "Each operation of the cell at this step with the model's numbers, then how the "
            "gradient at h_t becomes the gradient at the step before and at the layer below."
        ),
    )
    if walk:
        show_cell_walk(exp, index, t, d, int(sample))
        return
    _equations_with_gates(lines, layer, d, t, sample)


def _input_output_node(kind: str, t: int, result: ProbeResult) -> None:
    """An input, output or loss node: what it is, and for an input how much it matters."""
    heading = {
        "x": _("Input at t = {t}"),
        "y": _("Output at t = {t}"),
        "loss": _("Loss at t = {t}"),
    }
    st.subheader(heading[kind].format(t=t))
    if kind == "x":
        st.metric(_("‖dL/dx_t‖ (mean over the probe batch)"), f"{result.input_grad_norm[t]:.3g}")
        st.caption(
            _(
                "How much this input step matters to the loss: the gradient that "
                "reaches it through every layer and every later step."
            )
        )
    elif kind == "loss":
        st.caption(
            _(
                "The loss is scored here; gradients start at this node and flow back "
                "down and to the left."
            )
        )
    else:
        st.caption(
            _(
                "The task's head (a linear layer) turns the top layer's vector into "
                "the prediction at this step."
            )
        )


def _state_at_step(layer: LayerProbe, d: int, t: int, samples: int, source: str) -> int:
    """The probed state, its gradient and its gates at step `t` of one chosen sample
    (returned) of the probe batch."""
    sample = st.number_input(_("Sample of the probe batch"), 0, samples - 1, 0, key="node_sample")
    st.caption(_("Probe {source}.").format(source=source))
    h = layer.hidden[d, t, sample]
    dh = layer.grad_hidden[d, t, sample]
    c1, c2 = st.columns(2)
    c1.metric("‖h_t‖", f"{float(h.norm()):.3g}")
    c2.metric(_("‖dL/dh_t‖ (total, through time)"), f"{float(dh.norm()):.3g}")
    rows = {"h_t": h.tolist(), "dL/dh_t": dh.tolist()}
    if layer.cell is not None:
        rows["c_t"] = layer.cell[d, t, sample].tolist()
    st.plotly_chart(_vector_heatmap(rows, _("State at this step")), width="stretch")
    if layer.gates:
        gates = {
            _(GATE_NAMES[name]): layer.gates[name][d, t, sample].tolist() for name in layer.gates
        }
        st.plotly_chart(_vector_heatmap(gates, _("Gates at this step")), width="stretch")
    return sample


def _equations_with_gates(lines: list[str], layer: LayerProbe, d: int, t: int, sample: int) -> None:
    """The layer's equations, with each gate's mean over the units at this step."""
    means = {
        GATE_SYMBOLS[name]: float(values[d, t, sample].mean())
        for name, values in layer.gates.items()
    }
    for line in lines:
        st.latex(line)
    if means:
        pairs = [rf"\overline{{{symbol}_{{{t}}}}} = {value:.2f}" for symbol, value in means.items()]
        rows = [r",\quad ".join(pairs[i : i + 2]) for i in range(0, len(pairs), 2)]
        st.latex(r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}")  # fits a column
        st.caption(
            _(
                "Bars are means over the units of this sample at this step: a forget gate "
                "near 1 keeps the cell's memory, near 0 erases it."
            )
        )
