"""The drag-and-drop layer stack: a Streamlit custom component (components v2).

Its HTML, CSS and JavaScript are the files beside this one, read once at import (no
build step). Python owns the stack: the component draws the view it is given and
sends one event per user action (see components.design.stack_edit for the event shapes),
delivered to the `on_event` callback before the page script runs again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from designer.i18n import _

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


def labels() -> dict[str, str]:
    """The component's own words, in the reader's language ({name} parts are filled
    in by the JavaScript)."""
    return {
        "palette": _("Layer palette"),
        "add_heading": _("Add a layer"),
        "add_note": _("drag it into the stack, or click to add it below the selected layer"),
        "types": _("Layer types"),
        "main": _("Layer stack, input at the top"),
        "keys": _("Keys on a card:"),
        "key_select": _("select"),
        "key_move": _("move"),
        "key_width": _("width"),
        "key_remove": _("remove"),
        "trash": _("drop here to remove"),
        "empty": _("The stack is empty: drag a layer here."),
        "chip_title": _(
            "{title}: {hint}. Drag into the stack, or press to add it below the selected layer."
        ),
        "chip_label": _("Add {title} below the selected layer"),
        "residual": _("Residual: this layer's input is added to its output"),
        "units": _("units"),
        "features": _("features"),
        "keeps_width": _("keeps width {width}"),
        "up": _("Move layer {i} up (Alt+↑)"),
        "down": _("Move layer {i} down (Alt+↓)"),
        "remove": _("Remove layer {i} (Delete)"),
        "handle": _("Drag to change the width"),
        "end_label": _("{title}: {detail}, shape {shape}"),
        "card_label": _("Layer {i}: {title}{flags}, output {shape}"),
        "card_label_width": _("Layer {i}: {title}, {width} {unit}{flags}, output {shape}"),
        "list_sep": _(", "),
        "selected": _("selected"),
        "problem": _(". Problem: {error}"),
    }


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
    """Draw the stack described by `view` (components.design.stack_edit.stack_view) with
    layer `selected` highlighted; each user action calls `on_event(event)`."""

    def _callback() -> None:
        event = read_event(key)
        if event:
            on_event(event)

    _component(
        key=key,
        data={**view, "selected": selected, "text": labels()},
        height="content",
        **{f"on_{TRIGGER}_change": _callback},
    )
