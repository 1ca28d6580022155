"""Where the gradient at a time step comes from: the credit matrix ||dL_t/dh_k|| of
each recurrent layer, and dL/dh_k divided into the path through time, up through
the layer above and around it. The engine is designer.inside.credit."""

from __future__ import annotations

import streamlit as st

from components.inspect.probe_source import Weights
from designer import Experiment, get_task
from designer.figures.credit import credit_figure, credit_reach_figure, paths_figure
from designer.i18n import _, language
from designer.inside.credit import Credit, LayerPaths, credit_matrix, credit_rows, gradient_paths
from designer.training.model import RecurrentStack


@st.cache_data(max_entries=16, show_spinner=False)
def _credit(key: str, _exp: Experiment, _model: RecurrentStack) -> Credit:
    """Computed once per link and weights (`key` stands for both, unhashed)."""
    return credit_matrix(_model, get_task(_exp.task), seed=_exp.train.seed)


@st.cache_data(max_entries=16, show_spinner=False)
def _paths(key: str, lang: str, _exp: Experiment, _model: RecurrentStack) -> list[LayerPaths]:
    """Per link, weights and language (each layer says in words what sits above it)."""
    return gradient_paths(_model, get_task(_exp.task), seed=_exp.train.seed)


def _no_recurrent_layer() -> None:
    st.info(
        _(
            "This stack has no recurrent layer: no state is carried through time, so no "
            "gradient travels back through it. Add an RNN, LSTM or GRU layer on the Design page."
        )
    )


def show_credit(exp: Experiment, weights: Weights, key: str = "", brief: bool = False) -> None:
    """The credit matrix of every recurrent layer, with what it shows and what it cost.
    `key` tells several apart on one page (Compare); `brief` leaves out the explanation."""
    task = get_task(exp.task)
    T = task.seq_len
    rows = credit_rows(T, task.per_step)
    pushing = _("Pushing back the loss of {n} steps…").format(n=len(rows))
    with st.spinner(pushing, show_time=True):
        credit = _credit(weights.key, exp, weights.model)
    if not credit.layers:
        _no_recurrent_layer()
        return
    if not brief:
        st.caption(
            _(
                "Row t, column k: how much the loss at step t asks of the state at step k, "
                "‖dL_t/dh_k‖ (log colour, mean over the probe batch of "
                "{batch} sequences), weights {source}. Backpropagation through "
                "time one loss step at a time: the diagonal is each step's own loss, and colour "
                "fading to the left is a gradient vanishing on its way back. Blank cells have "
                "no path at all: a causal layer's state cannot change an earlier prediction, "
                "while a bidirectional layer is reached from both sides."
            ).format(batch=credit.batch, source=weights.source)
        )
    if not task.per_step:
        st.info(
            _(
                "{task} is scored at its last step only, so there is one loss term and "
                "one row, t = {t}: the same numbers as the gradient over time."
            ).format(task=_(task.title), t=T - 1),
            icon=":material/info:",
        )
    elif len(rows) < T:
        st.caption(
            _(
                "{n} of the {total} loss steps are computed (evenly spaced, the last one "
                "included): each row costs a backward pass through the whole unrolled network."
            ).format(n=len(rows), total=T)
        )
    st.plotly_chart(credit_figure(credit), key=f"{key}credit_matrix", width="stretch")
    st.plotly_chart(credit_reach_figure(credit), key=f"{key}credit_reach", width="stretch")
    st.caption(
        _(
            "Computed exactly with autograd in {seconds} s: the loss of each of {n} steps "
            "pushed back through the unrolled network."
        ).format(seconds=f"{credit.seconds:.2f}", n=len(credit.rows))
    )


def show_paths(exp: Experiment, weights: Weights, key: str = "", brief: bool = False) -> None:
    """Each recurrent layer's dL/dh_k by route: time, up, around."""
    with st.spinner(_("Dividing the gradient into its paths…")):
        paths = _paths(weights.key, language(), exp, weights.model)
    if not paths:
        _no_recurrent_layer()
        return
    if not brief:
        st.caption(
            _(
                "The gradient dL/dh_k that reaches a layer's state at step k arrives by three "
                "paths: **through time**, from the layer's own next step (an LSTM's cell state "
                "carries it there); **up**, from the layer directly above (or the output "
                "head); and **around** the layer above, by its residual connection. Left: "
                "each path's share of the total at each step (the shares add up to 100 %; a "
                "path that pulls against the others goes below zero). Right: the size of each "
                "path and of the total, log scale. Exact, from autograd on the probe batch, "
                "weights {source}."
            ).format(source=weights.source)
        )
    st.plotly_chart(paths_figure(paths), key=f"{key}paths_figure", width="stretch")
    lines = []
    for layer in paths:
        mean = layer.mean_shares()
        parts = {
            "index": layer.index,
            "kind": layer.type,
            "time": f"{mean['time']:.0%}",
            "above": layer.above,
            "up": f"{mean['up']:.0%}",
        }
        if layer.residual_above:
            line = _(
                "- layer {index} ({kind}): through time {time}, up from {above} {up}, "
                "around it {skip} (of its whole gradient)"
            ).format(skip=f"{mean['skip']:.0%}", **parts)
        else:
            line = _(
                "- layer {index} ({kind}): through time {time}, up from {above} {up} "
                "(of its whole gradient)"
            ).format(**parts)
        lines.append(line)
    st.markdown("\n".join(lines))
