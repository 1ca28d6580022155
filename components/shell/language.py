"""The app's language: 中文 or English, switchable at any moment from the sidebar and
kept in the link (`lang=zh` or `lang=en`), so that a teacher shares a Chinese link.
A first visit without one follows the browser's language (st.context.locale).

The engine translates through designer.i18n; this module tells it which language the
session drawing the page reads (designer.i18n.set_provider)."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from designer import i18n
from designer.i18n import LANGUAGES

PARAM = "lang"
KEY = "language"  # the session's language
SWITCH = "language_switch"


def session_language() -> str | None:
    """The language of the session whose script is running in this thread, or None
    (a training thread, the server's own threads)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    try:
        return st.session_state.get(KEY)
    except Exception:  # no session state here (AppTest's bare mode, a closing session)
        return None


def choose_language() -> str:
    """The link's language if it names one, else the session's, else the browser's;
    written back to the link. Called first thing on every page."""
    i18n.set_provider(session_language)
    wanted = i18n.normalize(st.query_params.get(PARAM))
    if wanted:
        st.session_state[KEY] = wanted
    elif KEY not in st.session_state:
        st.session_state[KEY] = i18n.normalize(st.context.locale) or i18n.DEFAULT
    if st.query_params.get(PARAM) != st.session_state[KEY]:
        st.query_params[PARAM] = st.session_state[KEY]
    return st.session_state[KEY]


def _switched() -> None:
    chosen = st.session_state[SWITCH]
    if chosen in LANGUAGES:
        st.session_state[KEY] = chosen
        st.query_params[PARAM] = chosen


def language_switch() -> None:
    """中文 / English in the sidebar, on every page."""
    st.session_state[SWITCH] = st.session_state.get(KEY, i18n.DEFAULT)
    st.sidebar.segmented_control(
        "Language · 语言",
        list(LANGUAGES),
        format_func=LANGUAGES.get,
        required=True,
        key=SWITCH,
        on_change=_switched,
    )
