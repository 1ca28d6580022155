"""What-if: silence units or a whole recurrent layer, or hold a gate, and see the
validation metric and the probe change, without retraining (designer.inside.whatif).

The changes live in the link (`whatif=`), so a reload keeps them and a teacher can
share "look what happens without the forget gate". Undo removes the last one."""

from __future__ import annotations

import streamlit as st

from components.inspect.probe_source import Weights
from designer import Experiment, get_task
from designer.figures.curves import term
from designer.figures.probes import gradient_heatmap, state_heatmap
from designer.i18n import N_, _, language
from designer.inside.probes import Edit
from designer.inside.whatif import (
    MAX_EDITS,
    TANH_GATES,
    EditError,
    WhatIf,
    check_edit,
    edits_from_text,
    edits_to_text,
    gate_label,
    what_if,
)
from designer.training.model import GATE_NAMES, Recurrent, RecurrentStack

PARAM = "whatif"
ACTIONS = {"silence": N_("Silence units"), "hold": N_("Hold a gate")}


@st.cache_data(max_entries=8, show_spinner=False)
def _what_if(key: str, edits: str, _exp: Experiment, _model: RecurrentStack) -> WhatIf:
    """Computed once per link, weights and edits (`key` and `edits` stand for them)."""
    return what_if(_model, get_task(_exp.task), edits_from_text(edits), seed=_exp.train.seed)


def _edits(model: RecurrentStack) -> list[Edit]:
    """The link's edits that fit this model; the others are dropped, with a note."""
    try:
        edits = list(edits_from_text(st.query_params.get(PARAM, "")))
    except EditError as error:
        st.warning(_("The what-if changes in this link were ignored: {error}.").format(error=error))
        _save([])
        return []
    fitting = []
    for edit in edits:
        try:
            check_edit(model, edit)
            fitting.append(edit)
        except EditError as error:
            st.warning(
                _("A what-if change in this link does not fit this model: {error}.").format(
                    error=error
                )
            )
    if len(fitting) != len(edits):
        _save(fitting)
    return fitting


def _save(edits: list[Edit]) -> None:
    if edits:
        st.query_params[PARAM] = edits_to_text(edits)
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def _unit_label(layer: Recurrent):
    """Unit numbers as the layer's output has them: → first, then ← for bidirectional."""
    H = layer.cell.hidden_size
    if not layer.cell.bidirectional:
        return str
    return lambda u: f"→{u}" if u < H else f"←{u - H}"


def _new_edit(model: RecurrentStack) -> Edit | None:
    """The controls for one more change; returns it when Apply is pressed."""
    recurrent = [i for i, layer in enumerate(model.layers) if isinstance(layer, Recurrent)]
    c1, c2 = st.columns([1, 2])
    index = c1.selectbox(
        _("Layer"),
        recurrent,
        format_func=lambda i: f"{i} {model.layers[i].spec.type}",
        key="whatif_layer",
    )
    layer = model.layers[index]
    gates = GATE_NAMES[layer.spec.type]
    actions = ["silence"] + (["hold"] if gates else [])
    action = c2.segmented_control(
        _("Change"),
        actions,
        default="silence",
        required=True,
        format_func={key: _(words) for key, words in ACTIONS.items()}.get,
        key="whatif_action",
    )
    units = st.multiselect(
        _("Units"),
        range(layer.units),
        format_func=_unit_label(layer),
        placeholder=_("All units of the layer"),
        key=f"whatif_units_{index}",
        help=_("Leave empty for the whole layer."),
    )
    gate, value = None, 0.0
    if action == "hold":
        g1, g2 = st.columns(2)
        labels = {g: gate_label(g) for g in gates}  # in words now: AppTest formats later
        gate = g1.selectbox(_("Gate"), gates, format_func=labels.get, key=f"whatif_gate_{index}")
        low = -1.0 if gate in TANH_GATES else 0.0
        value = g2.slider(
            _("Hold the {gate} at").format(gate=gate_label(gate)),
            low,
            1.0,
            low,
            0.05,
            key=f"whatif_value_{index}_{gate}",
        )
    if st.button(_("Apply"), key="whatif_apply", icon=":material/science:", type="primary"):
        return Edit(layer=index, units=tuple(units) or None, gate=gate, value=value)
    return None


def _outcome(result: WhatIf, metric_name: str) -> None:
    before, after = result.before, result.after
    c1, c2 = st.columns(2)
    was = _("{change} (was {before})")
    c1.metric(
        _("Validation loss"),
        f"{after.loss:.4g}",
        delta=was.format(change=f"{after.loss - before.loss:+.3g}", before=f"{before.loss:.4g}"),
        delta_color="inverse",
    )
    c2.metric(
        _("Validation {metric}").format(metric=term(metric_name)),
        f"{after.metric:.4g}",
        delta=was.format(
            change=f"{after.metric - before.metric:+.3g}", before=f"{before.metric:.4g}"
        ),
        delta_color="off",
    )


def show_what_if(exp: Experiment, weights: Weights) -> None:
    """The controls, the changes in effect with undo, and what they do."""
    model = weights.model
    if not any(isinstance(layer, Recurrent) for layer in model.layers):
        st.info(
            _(
                "This stack has no recurrent layer to change. Add an RNN, LSTM or GRU layer "
                "on the Design page."
            )
        )
        return
    st.caption(
        _(
            "Change the network for a moment, without retraining, and see what a part of it "
            "was doing: silence units (their h_t is zero at every step, so neither the layer "
            "above nor their own next step sees them) or hold a gate at a constant (an LSTM's "
            "forget gate held at 1 never forgets). Weights {source}; the numbers are "
            "on the run's validation batch."
        ).format(source=weights.source)
    )
    edits = _edits(model)
    new = _new_edit(model)
    if new is not None:
        try:
            check_edit(model, new)
            if len(edits) >= MAX_EDITS:
                raise EditError(
                    _("at most {n} changes at once: undo one first").format(n=MAX_EDITS)
                )
            edits.append(new)
            _save(edits)
        except EditError as error:
            st.error(_("This change cannot be made: {error}.").format(error=error))
    if not edits:
        st.caption(_("No change yet: choose one above and press Apply."))
        return
    in_effect = ("；" if language() == "zh" else "; ").join(edit.describe() for edit in edits)
    st.markdown(_("**In effect:** {edits}").format(edits=in_effect))
    u1, u2, _rest = st.columns([1, 1, 4])
    if u1.button(_("Undo"), key="whatif_undo", icon=":material/undo:"):
        _save(edits[:-1])
        st.rerun()
    if u2.button(_("Clear all"), key="whatif_clear", icon=":material/restart_alt:"):
        _save([])
        st.rerun()
    with st.spinner(_("Running the changed network…")):
        result = _what_if(weights.key, edits_to_text(edits), exp, model)
    _outcome(result, get_task(exp.task).metric_name)
    left, right = st.columns(2)
    left.plotly_chart(
        gradient_heatmap(result.plain.summary()).update_layout(title_text=_("Without the changes")),
        key="whatif_grad_before",
        width="stretch",
    )
    right.plotly_chart(
        gradient_heatmap(result.probe.summary()).update_layout(title_text=_("With the changes")),
        key="whatif_grad_after",
        width="stretch",
    )
    changed = edits[-1].layer
    summary = result.probe.summary()
    layer = next(entry for entry in summary.layers if entry["index"] == changed)
    st.plotly_chart(state_heatmap(layer, 0), key="whatif_states", width="stretch")
    st.caption(
        _(
            "The hidden state of layer {layer} with the changes, first sequence of the probe "
            "batch: silenced units read zero at every step."
        ).format(layer=changed)
    )
