"""The probe's own views on the Inspect page: the gradient reaching each layer and
step, the hidden states and gates, and how both changed over training (from the
probes a run recorded, which a slider scrubs through)."""

from __future__ import annotations

import streamlit as st

from components.inspect.probe_source import current_probe
from components.train.runs import current_run, run_matches
from designer import Experiment
from designer.figures.probes import (
    gradient_heatmap,
    gradient_lines,
    param_grad_figure,
    pca_figure,
    spectral_figure,
    state_heatmap,
)
from designer.i18n import _
from designer.inside.whatif import gate_label


def show_probe(exp: Experiment) -> None:
    runner = current_run()
    probes = runner.snapshot().probes if runner is not None and run_matches(runner, exp) else []
    if probes:
        st.caption(
            _(
                "{n} probes recorded while training: scrub through them to watch the "
                "gradient picture change as the model learns."
            ).format(n=len(probes))
        )
        index = st.select_slider(
            _("Probe taken at step"),
            range(len(probes)),
            value=len(probes) - 1,
            format_func=lambda i: f"{probes[i].step:,}",
            key="inspect_probe",
        )
        summary = probes[index]
    else:
        result, source = current_probe(exp)
        summary = result.summary()
        st.caption(
            _(
                "A probe {source}. Train the model on the Train page to record probes over "
                "training."
            ).format(source=source)
        )

    if not summary.layers:
        st.info(
            _(
                "This stack has no recurrent layer: there is no state carried through time to "
                "inspect. Add an RNN, LSTM or GRU layer on the Design page."
            )
        )
        return

    samples = summary.layers[0]["hidden"].shape[2]
    st.plotly_chart(gradient_heatmap(summary), key="inspect_grad_heatmap", width="stretch")
    st.plotly_chart(gradient_lines(summary), key="inspect_grad_lines", width="stretch")

    st.subheader(_("Hidden states and gates"))
    c1, c2 = st.columns(2)
    sample = c1.number_input(
        _("Sample of the probe batch"), 0, samples - 1, 0, key="inspect_sample"
    )
    names = [f"{layer['index']} {layer['type']}" for layer in summary.layers]
    which = c2.selectbox(
        _("Layer"), range(len(names)), format_func=names.__getitem__, key="inspect_layer"
    )
    layer = summary.layers[which]
    views = [("h_t", {"what": "hidden"})]
    if layer["cell"] is not None:
        views.append(("c_t", {"what": "cell"}))
    views += [(gate_label(gate), {"gate": gate}) for gate in layer["gates"]]
    # Only the open tab's heatmap is built and sent (a click on another tab reruns).
    tabs = st.tabs([name for name, _view in views], key="inspect_state_tab", on_change="rerun")
    for i, (tab, (_name, view)) in enumerate(zip(tabs, views, strict=True)):
        if tab.open:
            tab.plotly_chart(
                state_heatmap(layer, sample, **view), key=f"inspect_view_{i}", width="stretch"
            )

    st.plotly_chart(pca_figure(summary, sample), key="inspect_pca", width="stretch")

    st.subheader(_("Over training"))
    if len(probes) < 2:
        st.caption(
            _(
                "Gradient norms and spectral radii over training appear once a run has "
                "recorded two probes or more."
            )
        )
    else:
        left, right = st.columns(2)
        left.plotly_chart(param_grad_figure(probes), key="inspect_param_grads", width="stretch")
        right.plotly_chart(spectral_figure(probes), key="inspect_spectral", width="stretch")
