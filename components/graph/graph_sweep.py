"""The Graph page's animation of the forward and backward pass: the figure of
designer.figures.sweep, and a caption saying what plays and where its numbers come
from."""

from __future__ import annotations

import networkx as nx
import plotly.graph_objects as go
import streamlit as st

from designer import Experiment
from designer.figures.sweep import sweep_figure
from designer.i18n import _, language
from designer.inside.probes import ProbeResult


@st.cache_resource(max_entries=8, show_spinner=False)
def _figure(
    link: str,
    steps: tuple[int, ...],
    probe_id: int,
    lang: str,
    _G: nx.MultiDiGraph,
    _result: ProbeResult,
) -> tuple[ProbeResult, go.Figure]:
    """The figure, built once (a few tenths of a second) for everyone who opens the same
    link with the same probe in the same language (`lang`: its words): a class opening
    one link shares its untrained model's probe. The probe is kept with it, so that its
    id names no other probe meanwhile."""
    return _result, sweep_figure(_G, _result)


def show_sweep(exp: Experiment, G: nx.MultiDiGraph, result: ProbeResult, source: str) -> None:
    """The animated graph of `exp` drawn as `G` (Play/Pause and a step slider, all in
    the browser: no rerun per frame) and its caption. `result` is the probe whose
    ||dL/dh_t|| the backward pass shows; `source` says where it comes from, in words."""
    steps = tuple(G.graph["steps"])
    figure = _figure(exp.to_url(), steps, id(result), language(), G, result)[1]
    st.plotly_chart(figure, key="graph_sweep_plot", width="stretch")
    st.caption(
        _(
            "▶ Play lights up the nodes in the order the forward pass computes them: the "
            "inputs, then each layer in turn, a recurrent layer one time step after another "
            "(a bidirectional layer's ← direction runs from the last step at the same time "
            "as its → direction runs from the first), then the output and the loss. Then the "
            "backward pass runs the same order in reverse, the order in which backpropagation "
            "through time completes each node's gradient: each node takes the colour of its "
            "‖dL/dh_t‖ (log scale), measured by a probe {source} as the mean over a fixed "
            "batch of {n} sequences. The edges the gradient arrives by are highlighted; the "
            "slider steps through the frames by hand."
        ).format(source=source, n=result.x.shape[0])
    )
