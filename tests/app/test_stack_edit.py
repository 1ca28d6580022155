"""Stack editing without Streamlit: the component's events, widths, undo history."""

import pytest

from components.design.stack_edit import (
    EditError,
    UndoStack,
    apply_event,
    new_layer,
    stack_view,
)
from designer import Experiment, get_task, summarize
from designer.document.presets import preset_experiment
from designer.document.spec import LAYER_TYPES

STACK = [
    {"type": "lstm", "hidden_size": 8},
    {"type": "gru", "hidden_size": 16},
    {"type": "layernorm"},
]


def test_insert_at_any_position():
    out, selected = apply_event(STACK, {"inserted": {"type": "rnn", "at": 1}})
    assert [layer["type"] for layer in out] == ["lstm", "rnn", "gru", "layernorm"]
    assert selected == 1 and out[1] == new_layer("rnn")
    out, selected = apply_event(STACK, {"inserted": {"type": "attention", "at": 99}})
    assert out[-1] == {"type": "attention"} and selected == 3
    assert apply_event([], {"inserted": {"type": "gru", "at": 0}})[0] == [new_layer("gru")]
    assert STACK[1]["type"] == "gru"  # the input list is not changed


def test_move_remove_select_resize():
    out, selected = apply_event(STACK, {"moved": {"from": 0, "to": 2}})
    assert [layer["type"] for layer in out] == ["gru", "layernorm", "lstm"] and selected == 2
    out, selected = apply_event(STACK, {"moved": {"from": 2, "to": 0}})
    assert [layer["type"] for layer in out] == ["layernorm", "lstm", "gru"] and selected == 0
    out, selected = apply_event(STACK, {"removed": 2})
    assert len(out) == 2 and selected == 1
    out, selected = apply_event(STACK[:1], {"removed": 0})
    assert out == [] and selected is None
    assert apply_event(STACK, {"selected": 1}) == (STACK, 1)
    out, selected = apply_event(STACK, {"resized": {"index": 1, "width": 96}})
    assert out[1]["hidden_size"] == 96 and selected == 1
    linear = [{"type": "linear", "out_features": 4}]
    assert (
        apply_event(linear, {"resized": {"index": 0, "width": 5000}})[0][0]["out_features"] == 1024
    )


@pytest.mark.parametrize(
    "event",
    [
        {"moved": {"from": 0, "to": 3}},
        {"moved": {"from": -1, "to": 0}},
        {"removed": 3},
        {"removed": True},
        {"selected": "1"},
        {"resized": {"index": 2, "width": 8}},  # a layernorm has no width of its own
        {"resized": {"index": 0, "width": "wide"}},
        {"inserted": {"type": "transformer", "at": 0}},
        {"inserted": "gru"},
        {"exploded": 1},
        {"removed": 0, "selected": 1},
        "removed",
    ],
)
def test_malformed_events_raise_edit_error(event):
    with pytest.raises(EditError):
        apply_event(STACK, event)


def test_every_palette_type_makes_a_valid_layer():
    exp = Experiment.from_dict({"version": 1})
    layers = [new_layer(t) for t in LAYER_TYPES]
    assert [layer.type for layer in exp.with_layers(layers).model.layers] == list(LAYER_TYPES)


def test_history_undo_redo():
    h = UndoStack(limit=3)
    assert not h.can_undo and not h.can_redo
    for doc in "abcd":
        h.record(doc)
    assert h.undo_stack == ["b", "c", "d"]  # the oldest fell off
    assert h.undo("e") == "d" and h.can_redo
    assert h.redo("d") == "e"
    h.undo("e")
    h.record("x")  # a new edit after an undo: nothing left to redo
    assert not h.can_redo


def test_stack_view_matches_the_engine_summary():
    exp = preset_experiment("bi_gru_tagger")
    task = get_task(exp.task)
    view = stack_view(exp, task, {1: "too wide"})
    rows = summarize(exp, task).rows
    assert [card["shape"] for card in view["layers"]] == [row.output_shape for row in rows[1:-1]]
    assert [card["params"] for card in view["layers"]] == [row.parameters for row in rows[1:-1]]
    gru, linear = view["layers"]
    assert gru["width"] == 32 and gru["out_width"] == 64 and "bi" in gru["flags"]
    assert linear["in_width"] == 64 and linear["error"] == "too wide" and gru["error"] is None
    assert (
        view["input"]["detail"] == "3 tokens, one-hot"
        and view["head"]["shape"] == rows[-1].output_shape
    )
    assert [item["type"] for item in view["palette"]] == list(LAYER_TYPES)
    esn = stack_view(
        preset_experiment("echo_state"), get_task(preset_experiment("echo_state").task)
    )
    assert esn["layers"][0]["frozen"] and "frozen" in esn["layers"][0]["flags"]
    residual = stack_view(
        preset_experiment("residual_gru"), get_task(preset_experiment("residual_gru").task)
    )
    assert [card["residual"] for card in residual["layers"]] == [False] + [True] * 5


def test_the_component_never_parses_markup_from_data():
    from pathlib import Path

    js = (
        Path(__file__).resolve().parents[2] / "components/design/layer_stack/layer_stack.js"
    ).read_text()
    for unsafe in (".innerHTML", ".outerHTML", ".insertAdjacentHTML", "document.write"):
        assert unsafe not in js
    assert "textContent" in js
