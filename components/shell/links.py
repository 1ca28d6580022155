"""The link's own things kept on the server: its runs and its uploaded files
(designer.serving.runstore), found by an unguessable id in the address (`r=`).

The experiment travels in the link itself (`x=`, components.shell.state); what is too big
for a link (trained weights, probes, a large CSV file) stays on the server under
the link's id. A reload, a second tab or the copied link opens the same id, so it
shows the same runs. The store knows how many sessions show each link, so that a
link nobody shows any more stops its run in progress (after a grace period long
enough for a reload)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from designer.i18n import Text
from designer.serving import deployment
from designer.serving.runstore import Link, RunStore
from designer.tasks.datafiles import prune_uploads

LINK_PARAM = "r"
LINK_KEY = "link_id"
WARNING = "url_warning"  # a warning about the link, shown once at the top of a page


@st.cache_resource(show_spinner=False)
def run_store() -> RunStore:
    """Every link's runs, for the whole server (on disk under DESIGNER_STORE_DIR).
    Made once per server start, which also removes runs and uploads past their age.
    With DESIGNER_REDIS_URL, the indexes live in Redis, shared by every replica."""
    prune_uploads()
    redis = deployment.redis_client()
    return RunStore(redis=redis)


def _release(box: dict[str, Any]) -> None:
    if box["link"] is not None:
        run_store().detach(box["link"])


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _session_box() -> dict[str, Any]:
    """The link this session shows, so the store knows when nobody shows it."""
    return {"link": None}


def link_id() -> str | None:
    """The id in the address (a link pasted during the session wins), else the one
    this session made."""
    in_url = st.query_params.get(LINK_PARAM)
    if in_url and in_url != st.session_state.get(LINK_KEY):
        st.session_state[LINK_KEY] = in_url
    return st.session_state.get(LINK_KEY)


def set_link_id(value: str | None) -> None:
    st.session_state[LINK_KEY] = value
    if value:
        st.query_params[LINK_PARAM] = value
    elif LINK_PARAM in st.query_params:
        del st.query_params[LINK_PARAM]


def sync_link_id() -> None:
    """Put the id back in the address (moving to another page clears it)."""
    value = st.session_state.get(LINK_KEY)
    if value and st.query_params.get(LINK_PARAM) != value:
        st.query_params[LINK_PARAM] = value


def warn(message: str | Text) -> None:
    """A warning about the link for the top of the next page drawn (a Text is rendered
    in the reader's language then)."""
    st.session_state[WARNING] = message


def current_link(create: bool = False) -> Link | None:
    """This page's link on the server (made, with a new id in the address, if
    `create`). An id the server does not know (expired, or from another server) says
    so once and is dropped from the address."""
    box = _session_box()
    wanted = link_id()
    link = box["link"]
    if link is None or link.id != wanted:
        found = run_store().get(wanted) if wanted else None
        if wanted and found is None:
            warn(
                Text(
                    "The runs of this link are no longer on this server (runs are kept "
                    "{days} days after their last use); the experiment is still here.",
                    days=f"{run_store().keep_days:g}",
                )
            )
            set_link_id(None)
        _show(box, found)
        link = found
    if link is None and create:
        link = run_store().create()
        set_link_id(link.id)
        _show(box, link)
    return link


def _show(box: dict[str, Any], link: Link | None) -> None:
    if box["link"] is not None:
        run_store().detach(box["link"])
    box["link"] = link
    if link is not None:
        run_store().attach(link)


def owns_upload(digest: str) -> bool:
    """Whether this link's visitor uploaded the file with this SHA-256 (a link opened
    elsewhere must bring the file again)."""
    link = current_link()
    return link is not None and link.has_upload(digest)
