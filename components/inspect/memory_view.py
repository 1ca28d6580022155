"""The memory panel: how far back each recurrent layer's state still holds the input
(the memory curve of an echo state network), and how that changes with the spectral
radius of one layer's recurrent weights. The engine is designer.inside.memory."""

from __future__ import annotations

import streamlit as st

from components.inspect.probe_source import Weights
from designer import Experiment, get_task
from designer.figures.memory import memory_figure, sweep_figure
from designer.i18n import N_, _
from designer.inside.memory import SWEEP_RADII, MemoryCurve, memory_capacity, memory_sweep
from designer.training.model import Recurrent, RecurrentStack

SWEEP_SHOWN = "memory_sweep_shown"  # session key: (weights key, layer) of the sweep shown
INPUTS = {
    "noise": N_("Random steps (the classic memory capacity)"),
    "task": N_("The task's own sequences"),
}


@st.cache_data(max_entries=32, show_spinner=False)
def _capacity(key: str, noise: bool, _exp: Experiment, _model: RecurrentStack) -> list[MemoryCurve]:
    """The curves of the model with these weights on the experiment's task (neither is
    hashed: `key`, the link and the weights' digest, stands for both)."""
    return memory_capacity(_model, get_task(_exp.task), noise=noise)


@st.cache_data(max_entries=32, show_spinner=False)
def _sweep(
    key: str, layer_index: int, noise: bool, _exp: Experiment, _model: RecurrentStack
) -> list[tuple[float, MemoryCurve]]:
    return memory_sweep(_model, get_task(_exp.task), layer_index, SWEEP_RADII, noise=noise)


def _table(curves: list[MemoryCurve]) -> list[dict[str, object]]:
    """One row per layer: its memory capacity and where its curve stands."""
    rows = []
    for curve in curves:
        first = curve.scores[0]
        if curve.kind == "features":
            held = [k for k, score in zip(curve.delays, curve.scores, strict=True) if score >= 0.5]
            rows.append(
                {
                    _("layer"): f"{curve.layer_index} {curve.layer_type}",
                    _("memory capacity (Σ R²)"): round(curve.total, 2),
                    _("R² at k = 1"): round(first, 3),
                    _("longest k with R² ≥ 0.5"): max(held) if held else None,
                }
            )
        else:
            rows.append(
                {
                    _("layer"): f"{curve.layer_index} {curve.layer_type}",
                    _("steps held above chance"): round(curve.total, 2),
                    _("accuracy at k = 1"): round(first, 3),
                    _("chance"): round(curve.chance, 3),
                }
            )
    return rows


def show_memory(exp: Experiment, weights: Weights, key: str = "", brief: bool = False) -> None:
    """The memory curves of the model, their numbers, and the spectral radius sweep of
    a chosen layer. `brief` (several runs side by side, told apart by `key`): the
    curves and their numbers only."""
    model, source = weights.model, weights.source
    noise = _recall_noise(brief)
    try:
        with st.spinner(_("Measuring how far back each layer remembers its input…")):
            curves = _capacity(weights.key, noise, exp, model)
    except ValueError as error:  # e.g. sequences of one step: no past to recall
        st.info(_("No memory curve for this experiment: {error}.").format(error=error))
        return
    if not curves:
        st.info(
            _(
                "This stack has no recurrent layer: no state carries the input from one step "
                "to the next, so there is no memory to measure. Add an RNN, LSTM or GRU layer "
                "on the Design page."
            )
        )
        return

    tokens = curves[0].kind == "tokens"
    if brief:
        st.plotly_chart(memory_figure(curves), key=f"{key}memory_figure", width="stretch")
        st.dataframe(_table(curves), hide_index=True, key=f"{key}memory_table")
        return
    caption = _caption(tokens, noise)
    st.caption(caption.format(source=source, n=curves[0].sequences))
    st.plotly_chart(memory_figure(curves), key="memory_figure", width="stretch")
    st.dataframe(_table(curves), hide_index=True, key="memory_table")
    seconds = sum(curve.seconds for curve in curves)
    st.caption(_("Measured in {seconds} s.").format(seconds=f"{seconds:.2f}"))

    _radius_sweep(exp, weights, noise)


def _recall_noise(brief: bool) -> bool:
    """Whether the layers recall random input (True) or the task's own sequences; side by
    side (`brief`) always random: the classic measure, one control fewer per run."""
    return brief or (
        st.segmented_control(
            _("Input to recall"),
            list(INPUTS),
            default="noise",
            required=True,
            format_func={key: _(words) for key, words in INPUTS.items()}.get,
            key="memory_input",
            help=_(
                "Random steps, drawn afresh at every step with the task's scale, leave "
                "nothing to recall but what the state kept. A task's own sequences are often "
                "predictable from their last few steps (a smooth wave), and then every layer "
                "seems to remember far back."
            ),
        )
        == "noise"
    )


def _caption(tokens: bool, noise: bool) -> str:
    """What the curves show: one whole sentence per kind of input and score (their words
    differ by language), with {source} and {n} to fill in."""
    if tokens and noise:
        caption = _(
            "How far back each recurrent layer's state h_t still holds the input, weights "
            "{source}. For each delay k: the accuracy of a linear read-out that picks the "
            "token x(t−k) from h_t (the dashed line is chance: always guessing the most common "
            "token), fitted in closed form (ridge regression) on half of random inputs "
            "({n} sequences) and scored on the other half, which it never saw. The memory "
            "capacity is the sum of the R² over k (for a linear reservoir with random input, "
            "at most its number of units)."
        )
    elif tokens:
        caption = _(
            "How far back each recurrent layer's state h_t still holds the input, weights "
            "{source}. For each delay k: the accuracy of a linear read-out that picks the "
            "token x(t−k) from h_t (the dashed line is chance: always guessing the most common "
            "token), fitted in closed form (ridge regression) on half of a validation batch "
            "({n} sequences) and scored on the other half, which it never saw. The memory "
            "capacity is the sum of the R² over k (for a linear reservoir with random input, "
            "at most its number of units)."
        )
    elif noise:
        caption = _(
            "How far back each recurrent layer's state h_t still holds the input, weights "
            "{source}. For each delay k: the R² of a linear read-out of the input x(t−k) from "
            "h_t, fitted in closed form (ridge regression) on half of random inputs "
            "({n} sequences) and scored on the other half, which it never saw. The memory "
            "capacity is the sum of the R² over k (for a linear reservoir with random input, "
            "at most its number of units)."
        )
    else:
        caption = _(
            "How far back each recurrent layer's state h_t still holds the input, weights "
            "{source}. For each delay k: the R² of a linear read-out of the input x(t−k) from "
            "h_t, fitted in closed form (ridge regression) on half of a validation batch "
            "({n} sequences) and scored on the other half, which it never saw. The memory "
            "capacity is the sum of the R² over k (for a linear reservoir with random input, "
            "at most its number of units)."
        )
    return caption


def _radius_sweep(exp: Experiment, weights: Weights, noise: bool) -> None:
    """The chosen layer's memory as its spectral radius is swept, on request."""
    model = weights.model
    with st.expander(_("Memory against the spectral radius")):
        st.caption(
            _(
                "The chosen layer's recurrent weights rescaled so that the spectral radius "
                "(largest |eigenvalue|) of each gate's block is ρ, for ρ from "
                "{low} to {high}, on a copy of the model; the "
                "read-out is refitted in closed form, nothing is retrained. For a plain RNN, "
                "memory grows as ρ nears 1 (the echo state network's edge of stability) and "
                "breaks down past it, where the state's own dynamics drown the input. Gated "
                "layers (LSTM, GRU) set their memory with their gates and respond less."
            ).format(low=f"{SWEEP_RADII[0]:g}", high=f"{SWEEP_RADII[-1]:g}")
        )
        recurrent = [i for i, layer in enumerate(model.layers) if isinstance(layer, Recurrent)]
        index = st.selectbox(
            _("Layer"),
            recurrent,
            format_func=lambda i: f"{i} {model.layers[i].spec.type}",
            key="memory_sweep_layer",
        )
        wanted = (weights.key, index, noise)
        if st.button(_("Sweep"), key="memory_sweep", icon=":material/tune:"):
            st.session_state[SWEEP_SHOWN] = wanted
        if st.session_state.get(SWEEP_SHOWN) == wanted:
            measuring = _("Measuring layer {index}'s memory at {n} radii…").format(
                index=index, n=len(SWEEP_RADII)
            )
            with st.spinner(measuring):
                sweep = _sweep(weights.key, index, noise, exp, model)
            st.plotly_chart(sweep_figure(sweep), key="memory_sweep_figure", width="stretch")
            # the radius with the most memory (NaN, states that blew up, counts as none)
            best = max(sweep, key=lambda pair: pair[1].total if pair[1].total >= 0 else -1.0)
            seconds = sum(curve.seconds for _, curve in sweep)
            st.caption(
                _("Most memory at ρ = {radius} ({total}); measured in {seconds} s.").format(
                    radius=f"{best[0]:g}", total=f"{best[1].total:.1f}", seconds=f"{seconds:.2f}"
                )
            )
