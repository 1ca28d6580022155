"""One way to bind a widget to a place in the experiment document.

A widget holds no state of its own: before it is drawn, its session-state value is
set from the experiment (so Undo, presets, imports and other layers always show
right), and its callback writes the new value into one place of the document
through components.shell.state.try_edit, which refuses an invalid result and shows why.
The optimizer settings, a layer's settings and the task's parameters all bind this
way; only the path and a few small rules differ:

    st.number_input("lr", **bind("train_lr", ("train", "lr"), exp.train.lr))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components.shell.state import notify, try_edit
from designer import Experiment
from designer.i18n import Text

Path = tuple[str | int, ...]  # keys into the document: ("model", "layers", 3, "hidden_size")
_EXPLICIT = object()  # the default of `implicit`: every value is written


def bind(
    key: str,
    path: Path,
    shown: Any,
    *,
    to_doc: Callable[[Any], Any] | None = None,
    implicit: Any = _EXPLICIT,
    layer: int | None = None,
    refusal: Text | None = None,
) -> dict[str, Any]:
    """Show `shown` in the widget `key` and return the widget's key and callback
    arguments. On change the widget's value, through `to_doc` (int, a list parsed from
    text, on/off to a number or None; a ValueError is posted under `refusal` and
    nothing changes), is written at `path`; a value equal to `implicit` is removed
    instead, as a hand-written document leaves a default out. `layer` is the layer
    that the document's problems concern when they name none."""
    st.session_state[key] = shown
    rules = (to_doc, implicit, layer, refusal)
    return {"key": key, "on_change": _write, "args": (key, path, *rules)}


def _write(
    key: str,
    path: Path,
    to_doc: Callable[[Any], Any] | None,
    implicit: Any,
    layer: int | None,
    refusal: Text | None,
) -> None:
    """The callback of a bound widget: its value into the document, if valid."""
    value = st.session_state[key]
    try:
        value = value if to_doc is None else to_doc(value)
    except ValueError as err:
        notify("error", refusal or Text("That change was not applied:"), [str(err)])
        return

    def change(exp: Experiment) -> Experiment:
        data = exp.to_dict()
        *parents, last = path
        place = data
        for step in parents:
            place = place[step]
        if implicit is not _EXPLICIT and value == implicit:
            place.pop(last, None)
        else:
            place[last] = value
        return Experiment.from_dict(data)

    try_edit(change, layer=layer)
