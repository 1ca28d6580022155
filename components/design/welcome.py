"""A first visit's way in: what the app is, in two sentences, and three doors (the
lessons in order, a design of one's own, a link someone shared). It shows on the
Design page of a session that arrived with nothing in its link, once: a shared link
or a returning session's own state opens straight on what it carries."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import streamlit as st

from components.shell import language
from components.shell.state import ARRIVED_WITH
from designer.i18n import _

SEEN = "welcome_seen"
# What a link of this app may carry (everything else in a pasted link is dropped)
LINK_PARAMS = ("x", "r", "lesson", "classroom", "view", "whatif", "step", "guess", "lang")
CARRIES_STATE = ("x", "r", "lesson", "classroom")  # a link that opens something
PAGES = {
    "": "app_pages/design.py",
    "graph": "app_pages/graph.py",
    "train": "app_pages/train.py",
    "inspect": "app_pages/inspect.py",
    "compare": "app_pages/compare.py",
    "lessons": "app_pages/lessons.py",
}
MAX_LINK = 20_000  # characters: a design's link is at most a few thousand


def shared_link(text: str) -> tuple[str, dict[str, str]] | None:
    """(page file, query parameters) of a pasted link of this app, from its path and
    its query string alone (the host is not looked at: the link may name another
    server of the same app); None if it opens nothing."""
    text = text.strip()
    if not text or len(text) > MAX_LINK:
        return None
    try:
        parts = urlsplit(text if "://" in text or text.startswith("/") else "/" + text)
    except ValueError:
        return None
    last = parts.path.strip("/").split("/")[-1]  # the app may be served under a prefix
    page = PAGES.get(last, PAGES[""])
    params = {k: v for k, v in parse_qsl(parts.query) if k in LINK_PARAMS}
    if not any(k in params for k in CARRIES_STATE):
        return None
    return page, params


def _open(text: str) -> None:
    found = shared_link(text)
    if found is None:
        st.error(
            _(
                "That is not a link of this app that opens something: paste the whole link "
                "you were sent (it holds x= for a design, r= for runs or lesson= for a lesson)."
            ),
            icon=":material/link_off:",
        )
        return
    st.session_state[SEEN] = True
    page, params = found
    st.switch_page(page, query_params=params)


def welcome() -> None:
    """The start panel, on a first visit only."""
    if st.session_state.get(SEEN):
        return
    arrived_with = st.session_state.get(ARRIVED_WITH, ())
    if any(name in arrived_with for name in CARRIES_STATE):
        st.session_state[SEEN] = True  # a shared link: open on what it carries
        return
    lang = st.query_params.get(language.PARAM)
    with st.container(border=True, key="welcome"):
        st.markdown(
            _(
                "**Deep RNN Designer** builds deep recurrent networks (RNN, LSTM, GRU) layer "
                "by layer and trains them live with PyTorch. It shows what happens inside: the "
                "hidden states, the gates, and the gradient that reaches every layer at every "
                "time step."
            )
        )
        lessons, design, link = st.columns(3, gap="medium")
        with lessons:
            st.markdown(
                _(
                    "**Take the lessons in order**: nine classic results, each one "
                    "predicted, trained and explained."
                )
            )
            if st.button(
                _("Start lesson 1"), key="welcome_lessons", type="primary", icon=":material/school:"
            ):
                st.session_state[SEEN] = True
                params = {"lesson": "why-gates", **({language.PARAM: lang} if lang else {})}
                st.switch_page(PAGES["lessons"], query_params=params)
        with design:
            st.markdown(
                _(
                    "**Design your own network**: the editor below, starting from a "
                    "preset of the sidebar."
                )
            )
            if st.button(_("Design a network"), key="welcome_design", icon=":material/stacks:"):
                st.session_state[SEEN] = True
                st.rerun()
        with link:
            st.markdown(
                _("**Open a shared link**: paste the link your teacher or a classmate sent.")
            )
            pasted = st.text_input(
                _("Shared link"),
                key="welcome_link",
                placeholder="https://…/?x=…",
                label_visibility="collapsed",
            )
            if pasted:
                _open(pasted)
