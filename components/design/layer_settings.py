"""The selected layer's settings as ordinary widgets; each change updates the stack at once.

Each widget is bound to its field of the layer by components.shell.binding: its value is set
from the experiment before it is drawn (so Undo, presets and other layers show
correctly), and its change is written through components.shell.state, which refuses an
invalid result."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.design.stack_edit import HINTS, TITLES
from components.shell.binding import bind
from designer import Experiment
from designer.document.spec import (
    MAX_WIDTH,
    RECURRENT_TYPES,
    LinearLayer,
    RNNLayer,
    field_choices,
    field_range,
)
from designer.i18n import N_, _

PREFIX = "layer_"
INITS = field_choices(RNNLayer, "init")
INIT_WORDS = {  # the document's names in the reader's words
    "default": N_("default"),
    "orthogonal": N_("orthogonal"),
    "xavier": "Xavier",
    "identity": N_("identity"),
}
INIT_HELP = N_(
    "How the weights start. default: PyTorch's uniform init; orthogonal: each recurrent "
    "gate matrix orthogonal (keeps signal norms); xavier: Glorot uniform; identity: the "
    "recurrent matrix starts as I (Le et al. 2015, for ReLU RNNs)."
)
ACTIVATIONS = field_choices(LinearLayer, "activation")
NONLINEARITIES = field_choices(RNNLayer, "nonlinearity")


def key(name: str) -> str:
    return PREFIX + name


def _widget(kind, label: str, name: str, index: int, current: Any, **kwargs) -> None:
    """A widget of `kind` bound to field `name` of layer `index`."""
    to_doc = int if name in ("hidden_size", "out_features") else None
    path = ("model", "layers", index, name)
    kind(label, **bind(key(name), path, current, to_doc=to_doc, layer=index), **kwargs)


def _bounded(kind, label: str, name: str, index: int, current: Any, **kwargs: Any) -> None:
    """A widget of `kind` for a recurrent layer's field `name`, offering no more than the
    document allows (its upper bound, from RNNLayer)."""
    _low, high = field_range(RNNLayer, name)
    _widget(kind, label, name, index, current, max_value=high, **kwargs)


def _drop_slider(label: str, name: str, index: int, current: float, **kwargs: Any) -> None:
    """A share of outputs dropped while training, from 0 to 0.9."""
    _widget(
        st.slider,
        label,
        name,
        index,
        float(current),
        min_value=0.0,
        max_value=0.9,
        step=0.05,
        **kwargs,
    )


def _reservoir_settings(layer: Any, index: int) -> None:
    """The echo state network knobs of a recurrent layer (Jaeger 2001), for a frozen
    layer above all: the scale of its recurrence and of its input, and (rnn only) its
    leak rate. Open when one is set or the layer is frozen."""
    in_use = (
        layer.freeze
        or layer.spectral_radius is not None
        or layer.input_scaling != 1.0
        or layer.leak_rate != 1.0
    )
    with st.expander(_("Reservoir (echo state network)"), expanded=in_use):
        left, right = st.columns(2)
        with left:
            _bounded(
                st.number_input,
                _("spectral radius"),
                "spectral_radius",
                index,
                layer.spectral_radius,
                min_value=0.05,
                step=0.05,
                format="%.2f",
                value=None,
                placeholder=_("as initialised"),
                help=_(
                    "After the init (and the recurrent gain), each gate's recurrent matrix "
                    "W_hh is rescaled so its largest |eigenvalue| is this. Below 1 the echo of "
                    "an input fades step after step; near 1 the reservoir remembers longest. "
                    "Empty: the init's own scale."
                ),
            )
        with right:
            _bounded(
                st.number_input,
                _("input scaling"),
                "input_scaling",
                index,
                layer.input_scaling,
                min_value=0.01,
                step=0.1,
                format="%.2f",
                help=_(
                    "The input weights W_ih times this after their init: how hard the "
                    "input drives the layer (small: nearly linear, large: saturated)."
                ),
            )
        if layer.type == "rnn":
            _bounded(
                st.slider,
                _("leak rate"),
                "leak_rate",
                index,
                float(layer.leak_rate),
                min_value=0.01,
                step=0.01,
                help=_(
                    "Leaky integration: h_t = (1 − a)·h_(t−1) + a·f(...). 1 is the plain "
                    "RNN; smaller keeps more of the last state, a slower layer for slow "
                    "signals. Below 1 the layer runs step by step (slower to train)."
                ),
            )
        st.caption(
            _(
                "With the layer frozen, fit the read-out in closed form (the Train page's "
                "settings: ridge read-out), as an echo state network does."
            )
        )


def layer_settings(exp: Experiment, index: int | None) -> None:
    """The settings of layer `index` (or a hint when no layer is selected)."""
    if index is None:
        st.info(
            _("Click a layer in the stack to change its settings."), icon=":material/touch_app:"
        )
        return
    layer = exp.model.layers[index]
    t = layer.type
    st.markdown(_("#### Layer {index} · {title}").format(index=index, title=_(TITLES[t])))
    hint = _(HINTS[t])
    st.caption(_("{hint}.").format(hint=hint[0].upper() + hint[1:]))
    if t in RECURRENT_TYPES or t == "linear":
        _width_and_dropout(layer, index)
    if t in RECURRENT_TYPES:
        _recurrent_settings(layer, index)
        _reservoir_settings(layer, index)
    else:
        _other_settings(layer, index)


def _width_and_dropout(layer: Any, index: int) -> None:
    """The width of a recurrent or linear layer, and the dropout after it."""
    recurrent = layer.type in RECURRENT_TYPES
    name = "hidden_size" if recurrent else "out_features"
    left, right = st.columns(2)
    with left:
        _widget(
            st.number_input,
            _("hidden size") if recurrent else _("output features"),
            name,
            index,
            getattr(layer, name),
            min_value=1,
            max_value=MAX_WIDTH,
            step=8,
            help=_("Units in this layer (per direction).")
            if recurrent
            else _("Features this layer outputs at each step."),
        )
    with right:
        _drop_slider(
            _("dropout"),
            "dropout",
            index,
            layer.dropout,
            help=_("Share of this layer's outputs zeroed at random while training."),
        )


def _recurrent_settings(layer: Any, index: int) -> None:
    """A recurrent layer's switches, its init and gain, and its type's own setting."""
    _recurrent_switches(layer, index)
    _recurrent_start(layer, index)


def _recurrent_switches(layer: Any, index: int) -> None:
    """Bidirectional, frozen (a reservoir) and residual."""
    left, right = st.columns(2)
    with left:
        _widget(
            st.toggle,
            _("bidirectional"),
            "bidirectional",
            index,
            layer.bidirectional,
            help=_(
                "A second pass reads the sequence backwards; outputs are concatenated "
                "(twice the width)."
            ),
        )
        _widget(
            st.toggle,
            _("freeze"),
            "freeze",
            index,
            layer.freeze,
            help=_(
                "Keep the input and recurrent weights at their random start: a "
                "reservoir, as in an echo state network."
            ),
        )
    with right:
        _widget(
            st.toggle,
            _("residual"),
            "residual",
            index,
            layer.residual,
            help=_(
                "Add the layer's input to its output (through a learned projection "
                "when the widths differ)."
            ),
        )


def _recurrent_start(layer: Any, index: int) -> None:
    """How the weights start (init, recurrent gain) and the type's own setting: an RNN's
    nonlinearity, an LSTM's forget-gate bias."""
    t = layer.type
    left, right = st.columns(2)
    with left:
        _widget(
            st.selectbox,
            _("init"),
            "init",
            index,
            layer.init,
            options=INITS,
            # words fixed now: a format_func is also called outside this run (AppTest)
            format_func={name: _(INIT_WORDS.get(name, name)) for name in INITS}.get,
            help=_(INIT_HELP),
        )
        _bounded(
            st.number_input,
            _("recurrent gain"),
            "gain",
            index,
            layer.gain,
            min_value=0.05,
            step=0.1,
            format="%.2f",
            help=_(
                "The recurrent weights W_hh times this after their init. Above 1 the "
                "signal and the gradient grow step after step (they explode), below 1 "
                "they fade (they vanish)."
            ),
        )
    with right:
        if t == "rnn":
            _widget(
                st.radio,
                _("nonlinearity"),
                "nonlinearity",
                index,
                layer.nonlinearity,
                options=NONLINEARITIES,
                horizontal=True,
            )
        elif t == "lstm":
            _widget(
                st.number_input,
                _("forget-gate bias"),
                "forget_bias",
                index,
                layer.forget_bias,
                min_value=-10.0,
                max_value=10.0,
                step=0.5,
                value=None,
                placeholder=_("default"),
                help=_(
                    "The forget gate's total bias at the start; 1.0 keeps the memory "
                    "open early in training (Jozefowicz et al. 2015). Empty: PyTorch's init."
                ),
            )


def _other_settings(layer: Any, index: int) -> None:
    """The settings of a linear, dropout, attention or layer-norm layer."""
    t = layer.type
    if t == "linear":
        left, right = st.columns(2)
        with left:
            _widget(
                st.selectbox,
                _("activation"),
                "activation",
                index,
                layer.activation,
                options=ACTIVATIONS,
            )
        with right:
            _widget(st.toggle, _("residual"), "residual", index, layer.residual)
    elif t == "dropout":
        _drop_slider(_("drop probability p"), "p", index, layer.p)
    elif t == "attention":
        _widget(
            st.toggle,
            _("residual"),
            "residual",
            index,
            layer.residual,
            help=_("Add the layer's input to its output."),
        )
        st.caption(
            _(
                "Each step looks at every step (only earlier ones when the task predicts at "
                "every step) and takes a weighted mix of their values."
            )
        )
    elif t == "layernorm":
        st.caption(_("Nothing to set: it rescales each step's features to mean 0, variance 1."))
