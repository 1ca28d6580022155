"""The equations of every layer type in the stack (and of the residual and
bidirectional wiring when used), from designer.document.equations."""

from __future__ import annotations

import streamlit as st

from designer import Experiment
from designer.document.equations import TITLES as EQUATION_TITLES
from designer.document.equations import bidirectional_equation, equations, residual_equation
from designer.i18n import _
from designer.tasks import Task


def _block(lines: list[str]) -> str:
    return r"\begin{gathered}" + r" \\[2pt] ".join(lines) + r"\end{gathered}"


def _title(name: str) -> str:
    title = EQUATION_TITLES[name]
    return _(title)


def layer_equations(exp: Experiment, task: Task) -> None:
    layers = exp.model.layers
    if not layers:
        st.caption(_("The stack is empty: the head reads the input directly."))
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
        _(
            "What each layer computes at every time step t. x_t is the layer's input (the "
            "output of the layer above it), h_t its output; W and b are the learned weights."
        )
    )
    for layer_type, nonlinearity, activation, leak_rate in seen:
        extra = f" ({nonlinearity})" if layer_type == "rnn" else ""
        if leak_rate < 1.0:
            extra += _(" (leak rate {rate})").format(rate=f"{leak_rate:g}")
        extra += f" ({activation})" if layer_type == "linear" else ""
        st.markdown(f"**{_title(layer_type)}**{extra}")
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
        st.markdown(f"**{_title('bidirectional')}**")
        st.latex(bidirectional_equation())
    residual = [str(i) for i, layer in enumerate(layers) if getattr(layer, "residual", False)]
    if residual:
        title = _title("residual")
        if len(residual) == 1:
            heading = _("**{title}** (layer {layers})")
        else:
            heading = _("**{title}** (layers {layers})")
        st.markdown(heading.format(title=title, layers=_(", ").join(residual)))
        st.latex(residual_equation())
