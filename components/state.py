"""The session's one experiment, kept in st.session_state and mirrored in the URL.

The whole document travels in one compressed, URL-safe query parameter (`x`), so a
reload loses nothing and a copied link opens the same experiment for a classmate."""

from __future__ import annotations

import streamlit as st

from designer import Experiment, SpecError

PARAM = "x"
KEY = "experiment"


def default_experiment() -> Experiment:
    return Experiment.from_dict({"version": 1})


def get_experiment() -> Experiment:
    """The session's experiment; on first use, the one in the link (if any)."""
    if KEY not in st.session_state:
        exp = default_experiment()
        token = st.query_params.get(PARAM)
        if token:
            try:
                exp = Experiment.from_url(token)
            except SpecError as err:
                st.session_state["url_warning"] = (
                    f"The link's experiment could not be opened ({err}); "
                    "showing the default experiment instead."
                )
        st.session_state[KEY] = exp
    sync_url(st.session_state[KEY])
    return st.session_state[KEY]


def set_experiment(exp: Experiment) -> None:
    st.session_state[KEY] = exp
    sync_url(exp)


def sync_url(exp: Experiment) -> None:
    token = exp.to_url()
    if st.query_params.get(PARAM) != token:
        st.query_params[PARAM] = token


def show_url_warning() -> None:
    message = st.session_state.pop("url_warning", None)
    if message:
        st.warning(message, icon=":material/link_off:")
