"""The session's one experiment, kept in st.session_state and mirrored in the URL,
with an undo/redo history, the selected layer and one-shot messages for the page.

The whole document travels in one compressed, URL-safe query parameter (`x`), so a
reload loses nothing and a copied link opens the same experiment for a classmate.
Every page reads and edits the same experiment through these functions. Edits that
would make it invalid are refused: the experiment stays the last valid one, and the
problems are kept for the page to show (on the layer's card and as a message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.design.stack_edit import EditError, UndoStack, apply_event
from components.shell.links import WARNING, owns_upload, sync_link_id, warn
from designer import Experiment, SpecError
from designer.document.presets import default_experiment
from designer.document.spec import Problem
from designer.i18n import Text, _

PARAM = "x"
KEY = "experiment"
HISTORY = "history"
SELECTED = "selected_layer"
LAYER_ERRORS = "layer_errors"
NOTICES = "notices"
URL_TOKEN = "url_token"  # the token this session last wrote to the URL
PENDING = "pending_upload"  # a link's experiment waiting for its uploaded CSV file


ARRIVED_WITH = "arrived_with"  # the names in the link the session started from


def get_experiment() -> Experiment:
    """The session's experiment; on first use, the one in the link (if any).

    A link that changes during the session (another experiment's token pasted into
    the address) is opened too; a damaged one leaves the current experiment as it is."""
    token = st.query_params.get(PARAM)
    if KEY not in st.session_state:
        st.session_state[ARRIVED_WITH] = tuple(st.query_params)  # before the link is written
        exp = default_experiment()
        if token:
            try:
                exp = _from_link(token)
            except SpecError as err:
                _warn_link(err, kept=False)
        st.session_state[KEY] = exp
        st.session_state[SELECTED] = 0 if exp.model.layers else None
    elif token and token != st.session_state.get(URL_TOKEN):
        try:
            set_experiment(_from_link(token))
        except SpecError as err:
            _warn_link(err, kept=True)
    sync_url(st.session_state[KEY])
    return st.session_state[KEY]


def _from_link(token: str) -> Experiment:
    """The link's experiment. One that trains on a CSV file uploaded from another
    browser waits for this visitor to bring the same file (the Design page asks)."""
    exp = Experiment.from_url(token)
    digest = exp.task.params.get("upload")
    if digest and not owns_upload(digest):
        name = exp.task.params.get("upload_name") or ""
        st.session_state[PENDING] = {"token": token, "digest": digest, "name": name}
        problem = _("it trains on an uploaded CSV file: upload that file on the Design page")
        raise SpecError([Problem("task.upload", problem)])
    return exp


def _warn_link(err: SpecError, kept: bool) -> None:
    problems = escape_markdown("; ".join(str(p) for p in err.problems))
    if kept:
        message = Text(
            "The link's experiment could not be opened ({problems}); the current experiment "
            "is kept.",
            problems=problems,
        )
    else:
        message = Text(
            "The link's experiment could not be opened ({problems}); showing the default "
            "experiment instead.",
            problems=problems,
        )
    warn(message)


def set_experiment(exp: Experiment, record: bool = True) -> None:
    """Make `exp` the session's experiment; `record` lets Undo bring the old one back."""
    current = st.session_state.get(KEY)
    if current is not None and exp == current:
        return
    if record and current is not None:
        history().record(current)
    st.session_state[KEY] = exp
    st.session_state.pop(LAYER_ERRORS, None)
    clamp_selection(exp)
    sync_url(exp)


def sync_url(exp: Experiment) -> None:
    token = exp.to_url()
    st.session_state[URL_TOKEN] = token
    if st.query_params.get(PARAM) != token:
        st.query_params[PARAM] = token
    sync_link_id()


def show_url_warning() -> None:
    message = st.session_state.pop(WARNING, None)
    if message:
        st.warning(str(message), icon=":material/link_off:")


# --- undo / redo -----------------------------------------------------------------------
def history() -> UndoStack[Experiment]:
    if HISTORY not in st.session_state:
        st.session_state[HISTORY] = UndoStack()
    return st.session_state[HISTORY]


def undo() -> None:
    if history().can_undo:
        _restore(history().undo(st.session_state[KEY]))


def redo() -> None:
    if history().can_redo:
        _restore(history().redo(st.session_state[KEY]))


def _restore(exp: Experiment) -> None:
    st.session_state[KEY] = exp
    st.session_state.pop(LAYER_ERRORS, None)
    clamp_selection(exp)
    sync_url(exp)


# --- the selected layer ------------------------------------------------------------------
def selected_layer() -> int | None:
    exp = st.session_state.get(KEY)
    index = st.session_state.get(SELECTED)
    if exp is None or index is None or not 0 <= index < len(exp.model.layers):
        return None
    return index


def select_layer(index: int | None) -> None:
    st.session_state[SELECTED] = index


def clamp_selection(exp: Experiment) -> None:
    n = len(exp.model.layers)
    index = st.session_state.get(SELECTED)
    if n == 0:
        st.session_state[SELECTED] = None
    elif index is None or index >= n:
        st.session_state[SELECTED] = n - 1 if index is not None else 0


# --- edits that may be refused -----------------------------------------------------------
def try_edit(change: Callable[[Experiment], Experiment], layer: int | None = None) -> bool:
    """Apply `change` to the experiment; if the result is invalid, keep the experiment,
    remember each problem for its layer's card (problems of the whole model go to
    `layer`, the one being edited) and post an error message. True if applied."""
    try:
        new = change(st.session_state[KEY])
    except SpecError as err:
        errors: dict[int, str] = {}
        for problem in err.problems:
            index = problem.layer if problem.layer is not None else layer
            if index is not None:
                errors.setdefault(index, problem.message)
        st.session_state[LAYER_ERRORS] = errors
        notify("error", Text("That change was not applied:"), [str(p) for p in err.problems])
        return False
    set_experiment(new)
    return True


def layer_errors() -> dict[int, str]:
    return dict(st.session_state.get(LAYER_ERRORS) or {})


def apply_stack_event(event: dict[str, Any]) -> None:
    """One event from the layer stack component: edit the stack, or select a layer."""
    exp = st.session_state[KEY]
    layers = [layer.model_dump(mode="json") for layer in exp.model.layers]
    try:
        new_layers, select = apply_event(layers, event)
    except EditError as err:
        notify("error", Text("The stack could not do that: {error}", error=str(err)))
        return
    # a selection changes nothing else; an edit selects its layer only if it is applied
    if "selected" in event or try_edit(lambda e: e.with_layers(new_layers), layer=select):
        select_layer(select)


# --- one-shot messages -------------------------------------------------------------------
def notify(kind: str, text: str | Text, items: list[str] | None = None) -> None:
    """A message for the next page run: kind is 'error', 'success' or 'info'; a Text
    is rendered in the reader's language when it is shown."""
    st.session_state.setdefault(NOTICES, []).append((kind, text, list(items or [])))


MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-!|~$:")


def escape_markdown(text: str) -> str:
    """Text shown literally by st.markdown and friends (no links, images, maths,
    colour directives)."""
    return "".join("\\" + c if c in MARKDOWN_SPECIALS else c for c in str(text))


def show_notices() -> None:
    for kind, text, items in st.session_state.pop(NOTICES, []):
        body = str(text) + "".join(f"\n- {escape_markdown(item)}" for item in items)
        if kind == "error":
            st.error(body, icon=":material/error:")
        elif kind == "success":
            st.success(body, icon=":material/check_circle:")
        else:
            st.info(body)
