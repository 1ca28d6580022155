"""The experiment document: defaults, round trips, and every kind of problem."""

import json

import pytest

from designer.document.spec import (
    MAX_BATCH,
    MAX_LAYERS,
    MAX_PARAMETERS,
    MAX_STEPS,
    MAX_WIDTH,
    Experiment,
    SpecError,
    TrainSpec,
    field_choices,
    field_range,
)

FULL = {
    "version": 1,
    "task": {"name": "adding", "seq_len": 50},
    "model": {
        "embedding_dim": None,
        "layers": [
            {"type": "lstm", "hidden_size": 64},
            {"type": "lstm", "hidden_size": 64, "residual": True, "dropout": 0.1},
            {"type": "gru", "hidden_size": 32, "bidirectional": True},
            {"type": "linear", "out_features": 32, "activation": "relu"},
        ],
    },
    "train": {
        "optimizer": "adam",
        "lr": 0.003,
        "batch_size": 64,
        "steps": 1500,
        "clip_norm": 1.0,
        "seed": 0,
        "eval_every": 100,
    },
}


def problems(data) -> list[str]:
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data)
    return [str(p) for p in info.value.problems]


def test_version_alone_is_a_sensible_experiment():
    exp = Experiment.from_dict({"version": 1})
    assert exp.task.name == "adding"
    assert [layer.type for layer in exp.model.layers] == ["lstm"]
    assert exp.train.optimizer == "adam" and exp.train.steps > 0


def test_design_example_parses_and_round_trips_exactly():
    exp = Experiment.from_dict(FULL)
    again = Experiment.from_dict(exp.to_dict())
    assert again == exp
    assert again.to_dict() == exp.to_dict()
    assert Experiment.from_json(exp.to_json()).to_dict() == exp.to_dict()
    # every key given is kept with its value
    full = exp.to_dict()
    for section in ("train",):
        for key, value in FULL[section].items():
            assert full[section][key] == value
    assert full["model"]["layers"][1]["dropout"] == 0.1


def test_compact_form_and_url_round_trip():
    exp = Experiment.from_dict(FULL)
    compact = exp.to_dict(compact=True)
    assert compact["model"]["layers"][0] == {"type": "lstm"}  # 64 is the default
    assert Experiment.from_dict(compact) == exp
    token = exp.to_url()
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token
    assert Experiment.from_url(token) == exp


def test_damaged_url_is_a_spec_error():
    token = Experiment.from_dict(FULL).to_url()
    for bad in (token[: len(token) // 2], "!!!", "", "aGVsbG8"):
        with pytest.raises(SpecError):
            Experiment.from_url(bad)


def test_task_params_round_trip():
    exp = Experiment.from_dict({"version": 1, "task": {"name": "copy", "lag": 20}})
    assert exp.task.params == {"lag": 20}
    assert Experiment.from_dict(exp.to_dict()).task.params == {"lag": 20}


def test_unknown_layer_field_names_layer_and_suggests():
    (message,) = problems(
        {"model": {"layers": [{"type": "lstm"}, {"type": "gru", "hiden_size": 8}]}}
    )
    assert "layer 1 (gru)" in message and "hiden_size" in message
    assert "did you mean 'hidden_size'" in message


def test_field_of_another_layer_type_is_unknown():
    (message,) = problems({"model": {"layers": [{"type": "lstm", "nonlinearity": "relu"}]}})
    assert "layer 0 (lstm)" in message and "nonlinearity" in message


def test_a_leak_rate_on_an_lstm_or_gru_is_refused_with_a_sentence():
    layers = [
        {"type": "rnn", "hidden_size": 8, "leak_rate": 0.3},  # the one kind it applies to
        {"type": "lstm", "leak_rate": 0.5},
        {"type": "gru", "leak_rate": 0.5, "spectral_radius": 0.9},
    ]
    with pytest.raises(SpecError) as info:
        Experiment.from_dict({"model": {"layers": layers}})
    lstm, gru = info.value.problems
    assert str(lstm) == (
        "layer 1 (lstm) leak_rate: a leak rate applies to rnn layers only, not to an LSTM; "
        "set it to 1 or make the layer an rnn, got 0.5"
    )
    assert lstm.path == "model.layers[1].leak_rate" and lstm.layer == 1
    assert gru.path == "model.layers[2].leak_rate" and "not to a GRU" in gru.message
    # a leak rate of 1 (the default) is no leak: any recurrent layer may say it
    exp = Experiment.from_dict({"model": {"layers": [{**layers[1], "leak_rate": 1.0}]}})
    assert exp.model.layers[0].leak_rate == 1.0


def test_reservoir_and_ridge_fields_have_ranges():
    found = problems(
        {
            "model": {"layers": [{"type": "rnn", "spectral_radius": 0, "input_scaling": 11}]},
            "train": {"ridge_readout": -1},
        }
    )
    assert len(found) == 3
    assert any("spectral_radius" in m and "greater than 0" in m for m in found)
    assert any("input_scaling" in m and "less than or equal to 10" in m for m in found)
    assert any("train.ridge_readout" in m and "greater than 0" in m for m in found)


def test_unknown_top_level_and_section_keys():
    found = problems({"version": 1, "modle": {}, "train": {"lrr": 0.1}})
    assert any("modle" in m and "did you mean 'model'" in m for m in found)
    assert any("train" in m and "lrr" in m and "did you mean 'lr'" in m for m in found)


def test_every_problem_is_reported_at_once():
    found = problems(
        {
            "model": {
                "layers": [
                    {"type": "lstm", "hidden_size": 0},
                    {"type": "rnn", "nonlinearity": "sigmoid"},
                    {"type": "linear", "activation": "softmax"},
                    {"type": "convolution"},
                ]
            },
            "train": {"lr": -1, "optimizer": "lbfgs"},
        }
    )
    assert len(found) == 6, found
    assert any(m.startswith("layer 0 (lstm) hidden_size") for m in found)
    assert any(m.startswith("layer 1 (rnn) nonlinearity") for m in found)
    assert any(m.startswith("layer 2 (linear) activation") for m in found)
    assert any("layer 3" in m and "unknown layer type 'convolution'" in m for m in found)
    assert any(m.startswith("train.lr") for m in found)
    assert any(m.startswith("train.optimizer") for m in found)


def test_problem_carries_layer_index_and_path():
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(
            {"model": {"layers": [{"type": "gru"}, {"type": "gru", "dropout": 2}]}}
        )
    (problem,) = info.value.problems
    assert problem.layer == 1
    assert problem.path == "model.layers[1].dropout"
    assert problem.to_dict()["layer"] == 1


def test_missing_layer_type():
    (message,) = problems({"model": {"layers": [{"hidden_size": 3}]}})
    assert "layer 0" in message and "needs a 'type'" in message


@pytest.mark.parametrize(
    "data, needle",
    [
        (
            {"model": {"layers": [{"type": "gru"}] * (MAX_LAYERS + 1)}},
            f"at most {MAX_LAYERS} layers",
        ),
        ({"model": {"layers": [{"type": "gru", "hidden_size": MAX_WIDTH + 1}]}}, "width limit"),
        ({"model": {"layers": [{"type": "linear", "out_features": 2000}]}}, "width limit"),
        ({"train": {"batch_size": MAX_BATCH + 1}}, "batch size limit"),
        ({"train": {"steps": 10**7}}, "step limit"),
        ({"task": {"name": "adding", "seq_len": 1001}}, "1000"),
        (
            {"model": {"layers": [{"type": "lstm", "hidden_size": 1024}] * 3}},
            f"at most {MAX_PARAMETERS:,} are allowed",
        ),
    ],
)
def test_limits_are_errors_naming_the_limit(data, needle):
    found = problems(data)
    assert any(needle in m for m in found), found


def test_task_problems():
    assert any("did you mean 'adding'" in m for m in problems({"task": {"name": "addding"}}))
    found = problems({"task": {"name": "adding", "seq_lenn": 5}})
    assert any("task.seq_lenn" in m and "did you mean 'seq_len'" in m for m in found)
    found = problems({"task": {"name": "adding", "seq_len": "long"}})
    assert any("task.seq_len" in m and "whole number" in m for m in found)


def test_bad_json_and_not_an_object():
    with pytest.raises(SpecError, match="not valid JSON"):
        Experiment.from_json("{ nope")
    with pytest.raises(SpecError, match="JSON object"):
        Experiment.from_json("[1, 2]")
    with pytest.raises(SpecError, match="version"):
        Experiment.from_json(json.dumps({"version": 2}))


def test_wrong_types_are_worded():
    found = problems({"train": {"batch_size": "many"}, "model": {"layers": "lstm"}})
    assert any(m.startswith("train.batch_size") for m in found)
    assert any(m.startswith("model.layers") for m in found)


def test_json_schema_is_available():
    schema = Experiment.json_schema()
    assert "properties" in schema and "model" in schema["properties"]
    json.dumps(schema)


def test_with_layers_checks_the_new_stack():
    exp = Experiment.from_dict({"version": 1})
    two = exp.with_layers([{"type": "gru", "hidden_size": 8}, {"type": "layernorm"}])
    assert [layer.type for layer in two.model.layers] == ["gru", "layernorm"]
    with pytest.raises(SpecError):
        exp.with_layers([{"type": "gru", "hidden_size": -1}])


def test_momentum_and_schedule_defaults_leave_documents_and_links_as_they_were():
    exp = Experiment.from_dict(FULL)
    train = exp.train
    assert (train.momentum, train.lr_schedule) == (0.9, "constant")
    assert (train.lr_decay, train.lr_decay_every) == (0.1, 500)
    assert "train" not in exp.to_dict(compact=True)  # every train setting is a default
    # a document that sets them keeps them, in its compact form and its link
    data = {"train": {"optimizer": "momentum", "momentum": 0.5, "lr_schedule": "step"}}
    data["train"].update(lr_decay=0.5, lr_decay_every=200)
    tuned = Experiment.from_dict(data)
    assert tuned.to_dict(compact=True)["train"] == data["train"]
    assert Experiment.from_url(tuned.to_url()) == tuned


@pytest.mark.parametrize(
    "train, field",
    [
        ({"momentum": 1.0}, "train.momentum"),
        ({"momentum": -0.1}, "train.momentum"),
        ({"lr_schedule": "linear"}, "train.lr_schedule"),
        ({"lr_decay": 0.0}, "train.lr_decay"),
        ({"lr_decay": 1.5}, "train.lr_decay"),
        ({"lr_decay_every": 0}, "train.lr_decay_every"),
    ],
)
def test_momentum_and_schedule_out_of_range_are_errors(train, field):
    found = problems({"train": train})
    assert len(found) == 1 and found[0].startswith(field), found


def test_schedule_ranges_and_choices_for_the_widgets():
    assert field_choices(TrainSpec, "lr_schedule") == ["constant", "step", "cosine"]
    assert field_range(TrainSpec, "momentum") == (0.0, 1.0)
    assert field_range(TrainSpec, "lr_decay") == (0.0, 1.0)
    assert field_range(TrainSpec, "lr_decay_every") == (1, MAX_STEPS)
