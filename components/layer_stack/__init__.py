"""The drag-and-drop layer stack: a Streamlit custom component (components v2).

Its HTML, CSS and JavaScript are the files beside this one, read once at import (no
build step). Python owns the stack: the component draws the view it is given and
sends one event per user action (see components.stack_edit for the event shapes),
delivered to the `on_event` callback before the page script runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

HERE = Path(__file__).parent
NAME = "deep_rnn_designer.layer_stack"
TRIGGER = "action"

_component = st.components.v2.component(
    NAME,
    html=(HERE / "layer_stack.html").read_text(),
    css=(HERE / "layer_stack.css").read_text(),
    js=(HERE / "layer_stack.js").read_text(),
    isolate_styles=True,
)


def read_event(key: str) -> dict[str, Any] | None:
    """The event the component with `key` just sent (inside its callback), without
    the sequence number the component adds to each event."""
    state = st.session_state.get(key) or {}
    value = state.get(TRIGGER) if hasattr(state, "get") else None
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if k != "seq"}


def layer_stack(
    view: dict[str, Any],
    selected: int | None,
    on_event: Callable[[dict[str, Any]], None],
    key: str = "layer_stack",
) -> None:
    """Draw the stack described by `view` (components.stack_edit.stack_view) with
    layer `selected` highlighted; each user action calls `on_event(event)`."""

    def _callback() -> None:
        event = read_event(key)
        if event:
            on_event(event)

    _component(
        key=key,
        data={**view, "selected": selected},
        height="content",
        **{f"on_{TRIGGER}_change": _callback},
    )
