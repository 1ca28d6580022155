"""The equations of every layer type in the stack (and of the residual and
bidirectional wiring when used), from designer.equations."""

from __future__ import annotations

import streamlit as st

from designer import Experiment
from designer.equations import BIDIRECTIONAL, RESIDUAL, equations
from designer.equations import TITLES as EQUATION_TITLES
from designer.tasks import Task


def _block(lines: list[str]) -> str:
    return r"\begin{gathered}" + r" \\[2pt] ".join(lines) + r"\end{gathered}"


def layer_equations(exp: Experiment, task: Task) -> None:
    layers = exp.model.layers
    if not layers:
        st.caption("The stack is empty: the head reads the input directly.")
        return
    seen: list[tuple] = []
    for layer in layers:
        variant = (
            layer.type,
            getattr(layer, "nonlinearity", "tanh"),
            getattr(layer, "activation", "none"),
            getattr(layer, "leak_rate", 1.0),
        )
        if variant not in seen:
            seen.append(variant)
    st.caption(
        "What each layer computes at every time step t. x_t is the layer's input (the "
        "output of the layer above it), h_t its output; W and b are the learned weights."
    )
    for layer_type, nonlinearity, activation, leak_rate in seen:
        extra = f" ({nonlinearity})" if layer_type == "rnn" else ""
        extra += f" (leak rate {leak_rate:g})" if leak_rate < 1.0 else ""
        extra += f" ({activation})" if layer_type == "linear" else ""
        st.markdown(f"**{EQUATION_TITLES[layer_type]}**{extra}")
        st.latex(
            _block(
                equations(
                    layer_type,
                    nonlinearity=nonlinearity,
                    activation=activation,
                    causal=task.per_step,
                    leak_rate=leak_rate,
                )
            )
        )
    if any(getattr(layer, "bidirectional", False) for layer in layers):
        st.markdown(f"**{EQUATION_TITLES['bidirectional']}**")
        st.latex(BIDIRECTIONAL)
    residual = [str(i) for i, layer in enumerate(layers) if getattr(layer, "residual", False)]
    if residual:
        which = f"layer{'s' * (len(residual) > 1)} {', '.join(residual)}"
        st.markdown(f"**{EQUATION_TITLES['residual']}** ({which})")
        st.latex(RESIDUAL)
