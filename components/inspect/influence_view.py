"""Which inputs the output uses: the task's own input, each step coloured by
||dy_t/dx_k||, for a chosen sample and output step. The engine is designer.inside.influence."""

from __future__ import annotations

import streamlit as st

from components.inspect.probe_source import Weights
from designer import Experiment, get_task
from designer.figures.influence import influence_figure
from designer.i18n import _
from designer.inside.influence import Influence, input_influence
from designer.inside.probes import listed
from designer.training.model import RecurrentStack


@st.cache_data(max_entries=16, show_spinner=False)
def _influence(key: str, _exp: Experiment, _model: RecurrentStack) -> Influence:
    """Computed once per link and weights (`key` stands for both, unhashed), shared
    by every session that looks at the same weights."""
    return input_influence(_model, get_task(_exp.task), seed=_exp.train.seed)


def show_influence(exp: Experiment, weights: Weights, key: str = "", brief: bool = False) -> None:
    """The influence picture with its controls. `key` tells several apart on one page
    (Compare); `brief` leaves out the explanation."""
    task = get_task(exp.task)
    with st.spinner(_("Pushing back each output step to the input…"), show_time=True):
        influence = _influence(weights.key, exp, weights.model)
    if not brief:
        what = (
            _("the whole output vector y_t (the norm of the Jacobian ∂y_t/∂x_k)")
            if influence.regression
            else _("the logit of the class the model picks at step t")
        )
        st.caption(
            _(
                "How much each input step k can move the output at step t: ‖∂y_t/∂x_k‖, "
                "exact by autograd, for {what}. Colour is each step's share of the largest. "
                "Weights {source}. A network that has learned the task draws on the steps "
                "that matter to it: on the adding problem, the two marked values."
            ).format(what=what, source=weights.source)
        )
    samples = len(influence.influence)
    c1, c2 = st.columns([1, 3])
    sample = c1.number_input(_("Sample"), 0, samples - 1, 0, key=f"{key}influence_sample")
    steps = influence.output_steps
    if len(steps) > 1:
        step = c2.select_slider(
            _("Output step t"), steps, value=steps[-1], key=f"{key}influence_step"
        )
    else:
        step = steps[0]
    figure = influence_figure(task, influence, int(sample), int(step))
    st.plotly_chart(figure, key=f"{key}influence", width="stretch")
    row = influence.row(int(sample), int(step))
    total = sum(row) or 1.0
    top = sorted(range(len(row)), key=row.__getitem__, reverse=True)[:3]
    if len(steps) == 1:
        cost = _("One output step, in one backward pass, {seconds} s.")
    elif influence.passes == 1:
        cost = _("{n} output steps, all in one backward pass, {seconds} s.")
    else:
        cost = _("{n} output steps in {passes} backward passes, {seconds} s.")
    st.caption(
        _("Most influential input steps: {steps}.").format(
            steps=listed([f"{k} ({row[k] / total:.0%})" for k in top])
        )
        + " "
        + cost.format(n=len(steps), passes=influence.passes, seconds=f"{influence.seconds:.2f}")
    )
