"""Inside the compared runs: one of Inspect's deeper views (the time and depth
paths, the credit matrix, memory) for each run, side by side, so that what a design
choice does inside the network shows next to what it does to the loss."""

from __future__ import annotations

import streamlit as st

from components.inspect.credit_view import show_credit, show_paths
from components.inspect.influence_view import show_influence
from components.inspect.memory_view import show_memory
from components.inspect.probe_source import Weights, run_weights
from components.shell.state import escape_markdown
from designer.i18n import N_, _
from designer.serving.runstore import Link
from designer.training.checkpoints import CheckpointError
from designer.training.compare import LETTERS

VIEWS = {
    "paths": N_("Time and depth"),
    "credit": N_("Credit by step"),
    "inputs": N_("Which inputs"),
    "memory": N_("Memory"),
}
SHOW = {"paths": show_paths, "credit": show_credit, "inputs": show_influence, "memory": show_memory}
KEPT = "compare_inside_weights"  # run id -> Weights of a kept run, read once per session


def _weights(link: Link, run_id: str) -> Weights | None:
    """A run on show is read live; a kept one from disk, once per session (the last
    few kept)."""
    runner = link.find(run_id)
    if runner is not None:
        return run_weights(runner)
    kept: dict[str, Weights] = st.session_state.setdefault(KEPT, {})
    if run_id not in kept:
        try:
            kept[run_id] = run_weights(link.load(run_id))
        except CheckpointError:
            return None  # the digests above already said it could not be read
        while len(kept) > len(LETTERS):
            del kept[next(iter(kept))]
    return kept[run_id]


def show_inside(link: Link, ids: list[str], names: dict[str, str]) -> None:
    """The chosen view for each run in `ids` (their names in `names`), one column each."""
    st.subheader(_("Inside the runs"))
    view = st.segmented_control(
        _("Inside the runs"),
        list(VIEWS),
        format_func={key: _(words) for key, words in VIEWS.items()}.get,
        key="compare_inside",
        label_visibility="collapsed",
    )
    if view is None:
        st.caption(
            _(
                "Pick a view to see it for each run side by side, from the weights of its "
                "latest evaluation: how the gradient travels (through time, up, around a "
                "residual connection), what each loss step asks of each earlier state, which "
                "input steps the output uses, or how far back each layer remembers its input. "
                "The Inspect page explains each one."
            )
        )
        return
    for letter, run_id, column in zip(LETTERS, ids, st.columns(len(ids)), strict=False):
        with column:
            st.markdown(f"**{letter}**: {escape_markdown(names.get(run_id, ''))}")
            weights = _weights(link, run_id)
            if weights is None:
                st.caption(_("This run could not be read."))
                continue
            st.caption(_("Weights {source}.").format(source=weights.source))
            SHOW[view](weights.exp, weights, key=f"compare_{letter}_", brief=True)
