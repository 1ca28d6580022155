"""A/B variants: the menu of classic contrasts, what changed between two experiments
in words, and the same start (initial weights and data order) a variant shares with
its original."""

import torch

from designer import Experiment, Trainer, get_task
from designer.document.variants import differences, initial_model, variants
from designer.training.model import build_model


def experiment(layers=None, task=None, **train) -> Experiment:
    return Experiment.from_dict(
        {
            "task": task or {"name": "adding", "seq_len": 10},
            "model": {
                "layers": layers
                or [{"type": "rnn", "hidden_size": 8}, {"type": "rnn", "hidden_size": 8}]
            },
            "train": {"batch_size": 8, "eval_every": 5, "probe_every": 10, **train},
        }
    )


def by_key(exp: Experiment) -> dict:
    return {v.key: v for v in variants(exp)}


def test_each_variant_changes_one_thing_and_is_valid():
    exp = experiment()
    menu = by_key(exp)
    assert set(menu) == {
        "cell:lstm",
        "cell:gru",
        "add-layer",
        "remove-layer",
        "residual",
        "bidirectional",
        "clip",
        "seed",
        "lr-up",
        "lr-down",
    }
    expected = {
        "cell:lstm": ["layers 0, 1: RNN → LSTM"],
        "cell:gru": ["layers 0, 1: RNN → GRU"],
        "add-layer": ["depth: 2 → 3 layers", "layer 2 added: RNN 8"],
        "remove-layer": ["depth: 2 → 1 layer", "layer 1 removed: RNN 8"],
        "residual": ["layer 1: residual off → on"],
        "bidirectional": ["layers 0, 1: bidirectional off → on"],
        "clip": ["gradient clipping: at 1 → off"],
        "seed": ["seed: 0 → 1"],
        "lr-up": ["learning rate: 0.003 → 0.03"],
        "lr-down": ["learning rate: 0.003 → 0.0003"],
    }
    for key, variant in menu.items():
        assert differences(exp, variant.experiment) == expected[key], key
        assert variant.label


def test_the_menu_follows_the_experiment():
    # an LSTM stack with residual connections and no clipping, on a forecasting task
    exp = experiment(
        layers=[
            {"type": "lstm", "hidden_size": 8, "forget_bias": 1.0},
            {"type": "lstm", "hidden_size": 8, "residual": True},
        ],
        task={"name": "sine", "seq_len": 20},
        clip_norm=None,
        lr=5.0,
    )
    menu = by_key(exp)
    assert "cell:lstm" not in menu and {"cell:rnn", "cell:gru"} <= set(menu)
    # a forecast's answer is the next input: a bidirectional layer would read it
    assert "bidirectional" not in menu
    assert menu["residual"].label == "Residual connections off"
    assert menu["clip"].experiment.train.clip_norm == 1.0
    assert "lr-up" not in menu  # 50 is past the learning rate's limit
    # fields only one cell type has are dropped when swapping
    gru = menu["cell:gru"].experiment.model.layers[0]
    assert gru.type == "gru" and not hasattr(gru, "forget_bias")
    # a feedforward stack is offered a recurrent layer
    ff = experiment(layers=[{"type": "linear", "out_features": 8, "activation": "sigmoid"}])
    added = by_key(ff)["add-layer"].experiment.model.layers
    assert [layer.type for layer in added] == ["lstm", "linear"]


def test_differences_match_layers_like_a_diff_and_group_them():
    a = experiment(
        layers=[
            {"type": "rnn", "hidden_size": 8},
            {"type": "rnn", "hidden_size": 8},
            {"type": "rnn", "hidden_size": 8},
        ]
    )
    b = experiment(
        layers=[
            {"type": "gru", "hidden_size": 8},
            {"type": "gru", "hidden_size": 8},
            {"type": "gru", "hidden_size": 16},
            {"type": "linear", "out_features": 4, "activation": "relu"},
        ],
        task={"name": "adding", "seq_len": 20},
        clip_norm=0.5,
    )
    assert differences(a, b) == [
        "task: adding (seq_len 10) → adding (seq_len 20)",
        "depth: 3 → 4 layers",
        "layers 0–2: RNN → GRU",
        "layer 2: width 8 → 16",
        "layer 3 added: linear 4 relu",
        "gradient clipping: at 1 → at 0.5",
    ]
    # one layer inserted in the middle is one change, not a cascade
    c = experiment(
        layers=[
            {"type": "rnn", "hidden_size": 8},
            {"type": "layernorm"},
            {"type": "rnn", "hidden_size": 8},
            {"type": "rnn", "hidden_size": 8},
        ]
    )
    assert differences(a, c) == ["depth: 3 → 4 layers", "layer 1 added: layer norm"]
    assert differences(a, a) == []


def test_a_variant_starts_from_the_original_weights_where_shapes_match():
    exp = experiment()
    task = get_task(exp.task)
    original = build_model(exp, task).state_dict()
    deeper = by_key(exp)["add-layer"].experiment
    model = initial_model(deeper, like=exp).state_dict()
    shared = [k for k in model if k in original and torch.equal(model[k], original[k])]
    assert shared == list(original)  # every weight of the original, the new layer aside
    assert any(k.startswith("layers.2.") for k in model)
    # RNN -> LSTM: the recurrent blocks differ in shape, the read-out is shared
    lstm = initial_model(by_key(exp)["cell:lstm"].experiment, like=exp).state_dict()
    assert torch.equal(lstm["head.weight"], original["head.weight"])
    # another seed is another start: nothing shared
    seeded = initial_model(by_key(exp)["seed"].experiment, like=exp).state_dict()
    assert not torch.equal(seeded["head.weight"], original["head.weight"])


def test_a_variant_that_changes_nothing_the_data_sees_trains_the_same_curve():
    """Clipping at a threshold no gradient reaches changes nothing: with the same
    initial weights and the same data order, the two curves are equal bit for bit."""
    exp = experiment(clip_norm=None)
    variant = experiment(clip_norm=1e6)
    a = Trainer(exp, probes=False)
    b = Trainer(variant, model=initial_model(variant, like=exp), probes=False)
    list(a.run(15))
    list(b.run(15))
    assert a.history.loss == b.history.loss


def test_differences_name_momentum_and_the_schedule_where_they_act():
    a = experiment(optimizer="momentum")
    b = experiment(optimizer="momentum", momentum=0.5, lr_schedule="step", lr_decay=0.5)
    assert differences(a, b) == [
        "momentum: 0.9 → 0.5",
        "learning-rate schedule: constant → step",
        "learning-rate decay: 0.1 → 0.5",
    ]
    c = experiment(lr_schedule="step", lr_decay_every=100)
    assert differences(experiment(lr_schedule="step"), c) == ["decay every: 500 → 100"]
    # settings that act in neither experiment change nothing about the run
    assert differences(experiment(), experiment(momentum=0.5, lr_decay=0.5)) == []
    assert differences(experiment(), experiment(lr_schedule="cosine", lr_decay_every=9)) == [
        "learning-rate schedule: constant → cosine"
    ]
    assert differences(
        experiment(optimizer="sgd"), experiment(optimizer="momentum", momentum=0.5)
    ) == [
        "optimizer: sgd → momentum",
        "momentum: 0.9 → 0.5",
    ]
