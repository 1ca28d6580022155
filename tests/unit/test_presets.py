"""The presets: each is a valid experiment on a task that fits it, and trains."""

import math

import pytest

from designer import Experiment, Trainer, get_task
from designer.document.presets import (
    DEFAULT_PRESET,
    PRESETS,
    default_experiment,
    matching_preset,
    preset_experiment,
)

EXPECTED = {
    "tanh_rnn", "deep_lstm", "residual_gru", "bi_gru_tagger", "echo_state", "lstm_attention",
}  # fmt: skip


def test_the_six_presets_are_there_with_a_title_and_one_sentence():
    assert set(PRESETS) == EXPECTED
    for preset in PRESETS.values():
        assert preset["title"]
        text = preset["description"]
        assert text.endswith(".") and text.count(". ") == 0  # one sentence


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_preset_validates_and_trains_two_steps(name):
    exp = Experiment.from_dict(PRESETS[name]["experiment"])
    assert exp == preset_experiment(name)
    trainer = Trainer(exp, task=get_task(exp.task))
    for _ in range(2):
        record = trainer.train_step()
        assert math.isfinite(record["loss"])
    assert trainer.step_count == 2


def test_each_preset_is_what_its_title_says():
    layers = {name: preset_experiment(name).model.layers for name in PRESETS}
    assert [(l.type, l.nonlinearity) for l in layers["tanh_rnn"]] == [("rnn", "tanh")]
    assert [(l.type, l.hidden_size) for l in layers["deep_lstm"]] == [("lstm", 64)] * 4
    assert all(l.type == "gru" for l in layers["residual_gru"])
    assert all(l.residual for l in layers["residual_gru"][1:]) and len(layers["residual_gru"]) > 2
    assert layers["bi_gru_tagger"][0].bidirectional
    assert preset_experiment("bi_gru_tagger").task.name == "brackets"
    assert all(l.freeze for l in layers["echo_state"])
    assert preset_experiment("echo_state").task.name in ("sine", "multivariate")
    assert [l.type for l in layers["lstm_attention"]] == ["lstm", "attention"]
    assert preset_experiment("lstm_attention").task.name == "copy"


def test_the_first_screen_is_a_preset():
    assert default_experiment() == preset_experiment(DEFAULT_PRESET)
    assert matching_preset(default_experiment()) == DEFAULT_PRESET
    changed = default_experiment().with_layers([{"type": "gru", "hidden_size": 8}])
    assert matching_preset(changed) is None


def test_a_preset_is_a_fresh_copy():
    exp = preset_experiment("deep_lstm")
    exp.model.layers[0].hidden_size = 3
    assert preset_experiment("deep_lstm").model.layers[0].hidden_size == 64
