"""Inspect: what each layer holds, where the gradient at each step comes from and by
which path, which input steps the output uses, how far back each layer remembers, and what-if."""

import streamlit as st

from components.inspect.credit_view import show_credit, show_paths
from components.inspect.influence_view import show_influence
from components.inspect.memory_view import show_memory
from components.inspect.probe_source import current_weights
from components.inspect.probe_views import show_probe
from components.inspect.whatif_view import show_what_if
from components.shell.state import get_experiment, show_url_warning
from components.shell.timing import mark
from designer.i18n import N_, _

VIEWS = {
    "probe": N_("States and gradients"),
    "credit": N_("Credit by step"),
    "inputs": N_("Which inputs"),
    "paths": N_("Time and depth"),
    "memory": N_("Memory"),
    "whatif": N_("What-if"),
}
DEEPER = {
    "credit": show_credit,
    "inputs": show_influence,
    "paths": show_paths,
    "memory": show_memory,
    "whatif": show_what_if,
}

exp = get_experiment()
show_url_warning()  # a damaged link, or runs no longer kept, opened on this page

st.title(_("Inspect"))
# The view is kept in the link (view=credit, ...), so a reload or a shared link opens it.
wanted = st.query_params.get("view", "probe")
st.session_state["inspect_view"] = wanted if wanted in VIEWS else "probe"


def remember_view() -> None:
    st.query_params["view"] = st.session_state["inspect_view"]


view = st.segmented_control(
    _("Look at"),
    list(VIEWS),
    required=True,
    format_func={key: _(words) for key, words in VIEWS.items()}.get,
    key="inspect_view",
    on_change=remember_view,
    label_visibility="collapsed",
)
mark("header")
if view in DEEPER:
    weights = current_weights(exp)
    mark("weights")
    DEEPER[view](weights.exp, weights)  # the settings the weights were trained with (seed)
else:
    show_probe(exp)
mark(view)
