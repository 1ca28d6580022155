"""One cell, step by step, both ways: the forward arithmetic of a node of the Graph one
operation at a time (the operation being computed highlighted in its layer's
equations), then the backward step, with the factor that shrinks or grows the
gradient. The engine is designer.inside.cell."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.inspect.probe_source import current_weights
from designer import Experiment, get_task
from designer.i18n import N_, _
from designer.inside.cell import CellError, CellStep, cell_step
from designer.training.model import RecurrentStack

SHOWN_UNITS = 12  # columns of the numbers table; wider layers show their first units
PHASES = {"forward": N_("Forward"), "backward": N_("Backward")}


@st.cache_data(max_entries=32, show_spinner=False)
def _step(
    key: str, layer: int, t: int, sample: int, direction: int, _exp: Experiment, _model
) -> CellStep:
    """Once per weights (`key`), node and sample, for every session."""
    model: RecurrentStack = _model
    return cell_step(model, get_task(_exp.task), layer, t, sample, direction, seed=_exp.train.seed)


def _table(values: dict[str, list[float]]) -> pd.DataFrame:
    """One column per vector of the operation, one row per unit (the first units of a
    wide layer): narrow enough for the details column. Three significant digits, as a
    gradient may be 1e-9 and still matter."""
    units = min(max(len(v) for v in values.values()), SHOWN_UNITS)
    columns = {
        name: [f"{v:.3g}" for v in vector[:units]] + [""] * (units - len(vector[:units]))
        for name, vector in values.items()
    }
    table = pd.DataFrame(columns)
    table.index = [_("unit {u}").format(u=u) for u in range(units)]
    return table


def show_cell_walk(exp: Experiment, layer: int, t: int, direction: int, sample: int) -> None:
    """The walk-through of the cell of `layer` at step `t` for one probe sample."""
    weights = current_weights(exp)
    try:
        step = _step(weights.key, layer, t, sample, direction, weights.exp, weights.model)
    except CellError as err:
        st.info(str(err))
        return
    st.caption(_("Weights {source}.").format(source=weights.source))
    phase = st.segmented_control(
        _("Direction of the pass"),
        list(PHASES),
        default="forward",
        format_func=lambda p: _(PHASES[p]),
        key="cell_phase",
        label_visibility="collapsed",
    )
    operations = step.forward if phase != "backward" else step.backward
    n = len(operations)
    at = st.select_slider(
        _("Operation"),
        list(range(n)),
        value=0,
        format_func=lambda i: _("{i} of {n}").format(i=i + 1, n=n),
        key=f"cell_operation_{phase}",
    )
    for i, operation in enumerate(operations):
        color = "#E45756" if i == at else "#95a5a6"
        st.latex(rf"{{\color{{{color}}} {operation.equation}}}")
    current = operations[at]
    st.markdown(f"**{_(current.words)}**")
    if current.norm is not None:
        st.metric(f"‖{current.norm[0]}‖", f"{current.norm[1]:.3g}")
    table = _table(current.values)
    st.dataframe(table, width="stretch", height=36 * (len(table) + 1) + 4)
    width = max(len(v) for v in current.values.values())
    if width > SHOWN_UNITS:
        st.caption(
            _("The first {n} of {width} entries of each vector.").format(n=SHOWN_UNITS, width=width)
        )
    if phase == "backward":
        _factor(step)


def _factor(step: CellStep) -> None:
    """What one step back does to the gradient's size, and the probe's total."""
    if step.type == "lstm":
        words = _(
            "On the cell state's path one step back multiplies the gradient by the forget gate, "
            "diag(f_t): ‖dL/dc_(t-1)‖ / ‖dL/dc_t‖ = {gain} (largest f_t: {factor}). "
            "Over many steps these factors multiply: below 1 the gradient vanishes."
        )
    elif step.type == "gru":
        words = _(
            "One step back multiplies the gradient by {gain} here (the update gate's direct "
            "path diag(z_t) at most {factor}). Over many steps these factors multiply."
        )
    else:
        words = _(
            "One step back multiplies the gradient by W_hhᵀ diag(1 − h_t²): here its size "
            "changes by {gain}, and the factor stretches a vector by {factor} at most. "
            "Below 1 at every step, the gradient vanishes geometrically."
        )
    st.info(words.format(gain=f"{step.gain:.3g}", factor=f"{step.factor_norm:.3g}"))
    if step.grad_h_prev_total is not None:
        st.caption(
            _(
                "Through this step {part} reaches h_(t-1); with what arrives there from the "
                "layer above, the probe's total ‖dL/dh_(t-1)‖ is {total}."
            ).format(
                part=f"{float(step.grad_h_prev.norm()):.3g}",
                total=f"{float(step.grad_h_prev_total.norm()):.3g}",
            )
        )
