"""Which probe a page shows: the latest one of the session's training run when it
belongs to the current experiment, else a probe of the untrained model."""

from __future__ import annotations

import streamlit as st

from components.runs import current_run, run_matches
from designer import Experiment, build_model, get_task
from designer.probes import ProbeResult, probe


@st.cache_resource(max_entries=4, show_spinner=False)
def _initial_probe(token: str) -> ProbeResult:
    """A probe of the freshly initialised model; the same for everyone with this link."""
    exp = Experiment.from_url(token)
    task = get_task(exp.task)
    return probe(build_model(exp, task), task, seed=exp.train.seed)


def current_probe(exp: Experiment) -> tuple[ProbeResult, str]:
    """(probe, where it comes from, in words)."""
    run = current_run()
    if run is not None:
        last = run.record.last_probe
        same = run_matches(run, exp)
        if last is not None and same:
            return last, f"from training, step {last.step}"
    with st.spinner("Probing the untrained model step by step…"):
        return _initial_probe(exp.to_url()), "of the untrained model (at initialisation)"
