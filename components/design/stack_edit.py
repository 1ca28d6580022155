"""Editing a layer stack: the events the layer stack component sends, applied to a
plain list of layer dicts, plus an undo/redo history. No Streamlit here, so all of
it is unit-tested directly.

Events (each a dict with one key):
    {"inserted": {"type": "gru", "at": k}}     a new layer becomes layer k
    {"moved": {"from": i, "to": j}}             layer i ends up at position j
    {"removed": i}
    {"selected": i}
    {"resized": {"index": i, "width": w}}       hidden size / output features := w
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from designer.document.spec import LAYER_TYPES, MAX_LAYERS, MAX_WIDTH, RECURRENT_TYPES
from designer.document.summary import summarize
from designer.i18n import N_, _

# The widths a drag snaps to: powers of two and the halves between them.
SNAP_WIDTHS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)

# Shown through _() where they are drawn.
TITLES = {
    "rnn": "RNN",
    "lstm": "LSTM",
    "gru": "GRU",
    "linear": N_("Linear"),
    "layernorm": N_("LayerNorm"),
    "dropout": N_("Dropout"),
    "attention": N_("Attention"),
}
HINTS = {
    "rnn": N_("plain recurrent layer (Elman)"),
    "lstm": N_("gated memory cell: long memory"),
    "gru": N_("lighter gated memory"),
    "linear": N_("dense layer at every step"),
    "layernorm": N_("normalise each step's features"),
    "dropout": N_("randomly zero features while training"),
    "attention": N_("look back at every step"),
}


class EditError(ValueError):
    """An event that cannot be applied (unknown kind, index out of range)."""


def new_layer(layer_type: str) -> dict[str, Any]:
    """A fresh layer of a type, as the palette adds it."""
    if layer_type not in LAYER_TYPES:
        raise EditError(f"unknown layer type {layer_type!r}")
    if layer_type in RECURRENT_TYPES:
        return {"type": layer_type, "hidden_size": 64}
    if layer_type == "linear":
        return {"type": "linear", "out_features": 64, "activation": "relu"}
    if layer_type == "dropout":
        return {"type": "dropout", "p": 0.1}
    return {"type": layer_type}


def width_field(layer: dict[str, Any]) -> str | None:
    """The field that holds a layer's own width, if it has one."""
    if layer.get("type") in RECURRENT_TYPES:
        return "hidden_size"
    if layer.get("type") == "linear":
        return "out_features"
    return None


def _index(value: Any, size: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < size:
        raise EditError(f"{what} must be a layer index from 0 to {size - 1}, got {value!r}")
    return value


def apply_event(
    layers: list[dict[str, Any]], event: dict[str, Any]
) -> tuple[list[dict[str, Any]], int | None]:
    """The layer list after `event`, and the layer to select afterwards.

    The input list is not changed. EditError for an event that makes no sense."""
    if not isinstance(event, dict) or len(event) != 1:
        raise EditError(f"an event is a dict with one key, got {event!r}")
    ((kind, value),) = event.items()
    out = [dict(layer) for layer in layers]
    n = len(out)
    if kind == "inserted":
        if not isinstance(value, dict):
            raise EditError(f"'inserted' needs a type and a position, got {value!r}")
        at = value.get("at", n)
        if isinstance(at, bool) or not isinstance(at, int):
            raise EditError(f"'at' must be a position, got {at!r}")
        at = min(max(at, 0), n)
        out.insert(at, new_layer(value.get("type")))
        return out, at
    if kind == "moved":
        if not isinstance(value, dict):
            raise EditError(f"'moved' needs 'from' and 'to', got {value!r}")
        source = _index(value.get("from"), n, "'from'")
        target = _index(value.get("to"), n, "'to'")
        out.insert(target, out.pop(source))
        return out, target
    if kind == "removed":
        index = _index(value, n, "'removed'")
        del out[index]
        return out, (min(index, len(out) - 1) if out else None)
    if kind == "selected":
        return out, _index(value, n, "'selected'")
    if kind == "resized":
        if not isinstance(value, dict):
            raise EditError(f"'resized' needs an index and a width, got {value!r}")
        index = _index(value.get("index"), n, "'index'")
        name = width_field(out[index])
        if name is None:
            raise EditError(f"a {out[index]['type']} layer has no width of its own")
        width = value.get("width")
        if isinstance(width, bool) or not isinstance(width, (int, float)):
            raise EditError(f"'width' must be a number, got {width!r}")
        out[index][name] = int(min(max(round(width), 1), MAX_WIDTH))
        return out, index
    raise EditError(f"unknown event {kind!r}")


T = TypeVar("T")


@dataclass
class UndoStack(Generic[T]):
    """Undo and redo stacks of whole documents (the newest last)."""

    undo_stack: list[T] = field(default_factory=list)
    redo_stack: list[T] = field(default_factory=list)
    limit: int = 100

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)

    def record(self, previous: T) -> None:
        """A new edit replaced `previous`: it can be undone, and nothing can be redone."""
        self.undo_stack.append(previous)
        del self.undo_stack[: -self.limit]
        self.redo_stack.clear()

    def undo(self, current: T) -> T:
        """The document before the last edit (IndexError when there is none)."""
        previous = self.undo_stack.pop()
        self.redo_stack.append(current)
        return previous

    def redo(self, current: T) -> T:
        """The document the last undo left (IndexError when there is none)."""
        following = self.redo_stack.pop()
        self.undo_stack.append(current)
        return following


def _flags(layer: Any, causal: bool) -> list[str]:
    """Short labels of what is switched on in a layer (for its card)."""
    flags = []
    if getattr(layer, "bidirectional", False):
        flags.append("bi")
    if getattr(layer, "residual", False):
        flags.append("residual")
    if getattr(layer, "freeze", False):
        flags.append("frozen")
    if getattr(layer, "dropout", 0):
        flags.append(f"dropout {layer.dropout:g}")
    if layer.type == "rnn":
        flags.append(layer.nonlinearity)
    if layer.type == "linear" and layer.activation != "none":
        flags.append(layer.activation)
    if layer.type == "dropout":
        flags.append(f"p = {layer.p:g}")
    if layer.type == "attention" and causal:
        flags.append("causal")
    if getattr(layer, "init", "default") != "default":
        flags.append(f"{layer.init} init")
    if getattr(layer, "forget_bias", None) is not None:
        flags.append(f"forget bias {layer.forget_bias:g}")
    return flags


def _flag_label(flag: str, layer: Any) -> str:
    """A card's flag (from _flags) in the reader's language."""
    if flag == "bi":
        return _("bi")
    if flag == "residual":
        return _("residual")
    if flag == "frozen":
        return _("frozen")
    if flag == "causal":
        return _("causal")
    if flag.startswith("dropout "):
        return _("dropout {p}").format(p=f"{layer.dropout:g}")
    if flag.endswith(" init"):
        return _("{init} init").format(init=layer.init)
    if flag.startswith("forget bias "):
        return _("forget bias {bias}").format(bias=f"{layer.forget_bias:g}")
    return flag  # p = 0.1, tanh, relu: the same in every language


def stack_view(exp: Any, task: Any, errors: dict[int, str] | None = None) -> dict[str, Any]:
    """What the layer stack component draws: one plain dict per card, the input and
    head ends, the palette. Shapes and parameter counts come from the engine's summary."""

    errors = errors or {}
    summary = summarize(exp, task)
    first, head = summary.rows[0], summary.rows[-1]
    layers = []
    for row, layer in zip(summary.layers, exp.model.layers, strict=True):
        own = width_field({"type": layer.type})
        flags = _flags(layer, task.per_step)
        layers.append(
            {
                "type": layer.type,
                "title": _(TITLES[layer.type]),
                "width": getattr(layer, own) if own else None,
                "in_width": row.in_width,
                "out_width": row.width,
                "flags": flags,
                "flag_labels": [_flag_label(flag, layer) for flag in flags],
                "shape": row.output_shape,
                "params": row.parameters,
                "residual": bool(getattr(layer, "residual", False)),
                "frozen": bool(getattr(layer, "freeze", False)),
                "error": errors.get(row.index),
            }
        )
    if task.token_input and exp.model.embedding_dim:
        detail = _("{n} tokens, embedding").format(n=task.vocab_size)
    elif task.token_input:
        detail = _("{n} tokens, one-hot").format(n=task.vocab_size)
    else:
        detail = (
            _("1 feature per step")
            if task.input_size == 1
            else _("{n} features per step").format(n=task.input_size)
        )
    return {
        "layers": layers,
        "input": {"title": _("Input"), "detail": detail, "shape": first.output_shape},
        "head": {
            "title": _("Head"),
            "detail": head.description.replace("->", " → "),
            "shape": head.output_shape,
        },
        "palette": [{"type": t, "title": _(TITLES[t]), "hint": _(HINTS[t])} for t in LAYER_TYPES],
        "snaps": list(SNAP_WIDTHS),
        "max_width": MAX_WIDTH,
        "max_layers": MAX_LAYERS,
    }
