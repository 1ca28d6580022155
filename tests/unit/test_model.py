"""The model builder: every layer option changes the model the way it says, and
the summary's counts equal PyTorch's own."""

import pytest
import torch
import torch.nn as nn

from designer import Experiment, build_model, get_task, summarize
from designer.document.summary import GATES
from designer.training.model import Recurrent


def experiment(layers, task=None, embedding_dim=None, **train):
    data = {"version": 1, "model": {"layers": layers, "embedding_dim": embedding_dim}}
    if task:
        data["task"] = task
    if train:
        data["train"] = train
    return Experiment.from_dict(data)


def built(layers, task=None, **kw):
    exp = experiment(layers, task, **kw)
    task = get_task(exp.task)
    return exp, task, build_model(exp, task)


def count(module: nn.Module, trainable: bool | None = None) -> int:
    return sum(
        p.numel() for p in module.parameters() if trainable is None or p.requires_grad == trainable
    )


def test_three_lstm_layers_count_like_pytorch_num_layers_3():
    # adding: 2 features in, 1 output; three 64-unit LSTM layers
    exp, task, model = built([{"type": "lstm", "hidden_size": 64}] * 3)
    reference = count(nn.LSTM(2, 64, num_layers=3)) + count(nn.Linear(64, 1))
    assert count(model) == reference
    assert summarize(exp, task).total == reference


STACKS = [
    [{"type": "rnn", "hidden_size": 16}],
    [{"type": "gru", "hidden_size": 12, "bidirectional": True}, {"type": "layernorm"}],
    [
        {"type": "lstm", "hidden_size": 8},
        {"type": "lstm", "hidden_size": 8, "residual": True},
        {"type": "lstm", "hidden_size": 5, "residual": True, "bidirectional": True},
        {"type": "linear", "out_features": 7, "residual": True, "activation": "tanh"},
        {"type": "attention", "residual": True},
        {"type": "dropout", "p": 0.2},
    ],
    [{"type": "rnn", "hidden_size": 30, "freeze": True}, {"type": "linear", "out_features": 4}],
    [{"type": "linear", "out_features": 16, "activation": "relu"}, {"type": "linear"}],
]
TASKS = [None, {"name": "copy"}, {"name": "sentiment"}, {"name": "multivariate"}]


@pytest.mark.parametrize("layers", STACKS)
@pytest.mark.parametrize("task", TASKS)
def test_summary_counts_equal_pytorch(layers, task):
    for embedding_dim in (None, 6):
        exp, task_obj, model = built(layers, task, embedding_dim=embedding_dim)
        summary = summarize(exp, task_obj)
        assert summary.total == count(model)
        assert summary.trainable == count(model, trainable=True)
        assert summary.frozen == count(model, trainable=False)
        # one row per layer plus input and head, each row matching its module
        assert len(summary.rows) == len(layers) + 2
        for row, module in zip(summary.rows[1:-1], model.layers, strict=True):
            assert row.parameters == count(module)
        assert summary.rows[-1].parameters == count(model.head)


@pytest.mark.parametrize("task", TASKS)
def test_forward_shapes_match_summary(task):
    exp, task_obj, model = built(STACKS[2], task)
    x, y = task_obj.batch(3, seed=1)
    pred = model(x)
    assert pred.shape[-1] == task_obj.output_size
    if task_obj.per_step:
        assert pred.shape[:2] == x.shape[:2]
    else:
        assert pred.shape == (3, task_obj.output_size)
    assert torch.isfinite(task_obj.loss(pred, y))
    summary = summarize(exp, task_obj)
    width = int(summary.rows[-2].output_shape.strip("()").split(",")[-1])
    assert width == model.head.in_features


def test_each_recurrent_layer_is_one_fused_module():
    _, _, model = built([{"type": t, "hidden_size": 8} for t in ("rnn", "lstm", "gru")])
    kinds = [type(layer.cell) for layer in model.layers]
    assert kinds == [nn.RNN, nn.LSTM, nn.GRU]
    assert all(layer.cell.num_layers == 1 for layer in model.layers)


def test_bidirectional_doubles_width():
    _, _, model = built([{"type": "gru", "hidden_size": 10, "bidirectional": True}])
    x = torch.randn(2, 7, 2)
    assert model.layers[0](x).shape == (2, 7, 20)
    assert model.head.in_features == 20


def test_residual_adds_input_identity_or_projection():
    _, _, model = built(
        [
            {"type": "lstm", "hidden_size": 4},
            {"type": "lstm", "hidden_size": 4, "residual": True},
            {"type": "gru", "hidden_size": 6, "residual": True},
        ]
    )
    same, wider = model.layers[1], model.layers[2]
    x = torch.randn(2, 5, 4)
    assert isinstance(same.skip, nn.Identity)
    assert torch.allclose(same(x), same.cell(x)[0] + x)
    assert isinstance(wider.skip, nn.Linear) and wider.skip.weight.shape == (6, 4)
    assert torch.allclose(wider(x), wider.cell(x)[0] + wider.skip(x))


def test_dropout_acts_only_in_training():
    _, _, model = built([{"type": "gru", "hidden_size": 32, "dropout": 0.5}])
    layer = model.layers[0]
    x = torch.randn(4, 6, 2)
    layer.eval()
    assert torch.equal(layer(x), layer.cell(x)[0])
    layer.train()
    out = layer(x)
    assert (out == 0).float().mean() > 0.3  # about half the activations dropped


def test_freeze_fixes_recurrent_and_input_weights():
    exp, task, model = built(
        [{"type": "rnn", "hidden_size": 20, "freeze": True}, {"type": "lstm", "hidden_size": 4}]
    )
    frozen = model.layers[0].cell
    assert all(not p.requires_grad for p in frozen.parameters())
    assert all(p.requires_grad for p in model.layers[1].parameters())
    before = {k: v.clone() for k, v in frozen.state_dict().items()}
    from designer import Trainer

    trainer = Trainer(exp, task=task, model=model)
    list(trainer.run(3))
    assert all(torch.equal(before[k], v) for k, v in frozen.state_dict().items())


def test_nonlinearity_relu():
    _, _, model = built([{"type": "rnn", "hidden_size": 5, "nonlinearity": "relu"}])
    assert model.layers[0].cell.nonlinearity == "relu"
    out = model.layers[0](torch.randn(3, 9, 2))
    assert (out >= 0).all()


def blocks(weight, h):
    return weight.split(h, dim=0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_init_orthogonal_xavier_identity(kind):
    h = 16
    for init in ("orthogonal", "identity", "xavier"):
        _, _, model = built([{"type": kind, "hidden_size": h, "init": init, "bidirectional": True}])
        cell = model.layers[0].cell
        for suffix in ("", "_reverse"):
            w_hh = getattr(cell, f"weight_hh_l0{suffix}")
            w_ih = getattr(cell, f"weight_ih_l0{suffix}")
            assert w_hh.shape == (GATES[kind] * h, h)
            for block in blocks(w_hh, h):
                if init == "orthogonal":
                    assert torch.allclose(block @ block.T, torch.eye(h), atol=1e-5)
                elif init == "identity":
                    assert torch.equal(block, torch.eye(h))
                else:  # xavier uniform: bound sqrt(6 / (h + h))
                    assert block.abs().max() <= (6 / (2 * h)) ** 0.5 + 1e-6
                    assert not torch.allclose(block @ block.T, torch.eye(h), atol=1e-2)
            if init == "identity":
                assert w_ih.std() < 0.01
            assert torch.count_nonzero(getattr(cell, f"bias_hh_l0{suffix}")) == 0
    # default keeps PyTorch's uniform(-1/sqrt(h), 1/sqrt(h)) with non-zero biases
    _, _, model = built([{"type": kind, "hidden_size": h}])
    assert torch.count_nonzero(model.layers[0].cell.bias_hh_l0) > 0


def test_forget_bias_sets_total_forget_gate_bias():
    h = 8
    _, _, model = built(
        [{"type": "lstm", "hidden_size": h, "forget_bias": 1.0, "bidirectional": True}]
    )
    cell = model.layers[0].cell
    for suffix in ("", "_reverse"):
        b = getattr(cell, f"bias_ih_l0{suffix}") + getattr(cell, f"bias_hh_l0{suffix}")
        forget = b[h : 2 * h]
        assert torch.allclose(forget, torch.ones(h))
        assert not torch.allclose(b[:h], torch.ones(h))  # other gates untouched


def test_linear_activations():
    x = torch.randn(2, 3, 2)
    for activation, check in [
        ("relu", lambda o: (o >= 0).all()),
        ("sigmoid", lambda o: ((o > 0) & (o < 1)).all()),
        ("tanh", lambda o: (o.abs() < 1).all()),
    ]:
        _, _, model = built([{"type": "linear", "out_features": 5, "activation": activation}])
        assert check(model.layers[0](x))


def test_attention_is_causal_for_per_step_tasks():
    _, task, model = built(
        [{"type": "gru", "hidden_size": 8}, {"type": "attention"}], {"name": "sine"}
    )
    attention = model.layers[1]
    assert attention.causal and task.per_step
    w = attention.weights(torch.randn(2, 6, 8))
    assert torch.allclose(w.sum(-1), torch.ones(2, 6))
    assert torch.count_nonzero(w.triu(1)) == 0
    _, _, model = built([{"type": "gru", "hidden_size": 8}, {"type": "attention"}])
    assert not model.layers[1].causal  # adding: last step only, it may look anywhere


def test_stack_without_recurrence_is_a_per_step_feedforward_net():
    _, task, model = built([{"type": "linear", "out_features": 8, "activation": "relu"}])
    assert not any(isinstance(m, Recurrent) for m in model.modules())
    x, _ = task.batch(2, seed=0)
    # the last step's prediction depends on the last input step only
    x2 = x.clone()
    x2[:, :-1] = torch.randn_like(x2[:, :-1])
    assert torch.allclose(model(x), model(x2))


def test_embedding_or_one_hot_for_token_tasks():
    _, task, model = built(
        [{"type": "gru", "hidden_size": 8}], {"name": "sentiment"}, embedding_dim=5
    )
    assert model.embedding.embedding_dim == 5 and model.layers[0].cell.input_size == 5
    _, task, model = built([{"type": "gru", "hidden_size": 8}], {"name": "sentiment"})
    assert model.embedding is None and model.layers[0].cell.input_size == task.vocab_size


def test_build_is_seeded_and_leaves_global_rng_alone():
    exp = experiment([{"type": "lstm", "hidden_size": 8}])
    task = get_task(exp.task)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = build_model(exp, task)
    assert torch.equal(state, torch.get_rng_state())
    b = build_model(exp, task)
    c = build_model(exp, task, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.layers[0].cell.weight_hh_l0, c.layers[0].cell.weight_hh_l0)


def test_the_summary_says_when_no_layer_looks_across_time():
    """A stack without recurrent or attention layers on a task scored at the last
    step sees only that step: the summary says so; a memory layer removes the note."""
    feedforward = Experiment.from_dict(
        {"model": {"layers": [{"type": "linear", "out_features": 8, "activation": "sigmoid"}]}}
    )
    (note,) = summarize(feedforward, get_task(feedforward.task)).notes
    assert "sees the last step's input and nothing before it" in note
    for layers in ([{"type": "lstm"}], [{"type": "attention"}]):
        exp = Experiment.from_dict({"model": {"layers": layers}})
        assert summarize(exp, get_task(exp.task)).notes == []
    per_step = Experiment.from_dict(
        {"task": {"name": "sine"}, "model": {"layers": [{"type": "linear"}]}}
    )
    assert summarize(per_step, get_task(per_step.task)).notes == []


def test_the_recurrent_gain_scales_the_recurrent_weights_only():
    """gain multiplies W_hh after its init (the same init otherwise): above 1 the
    recurrence amplifies, as the spectral radius shows."""
    from designer.inside.probes import spectral_radius

    def cell(gain):
        exp = Experiment.from_dict(
            {"model": {"layers": [{"type": "rnn", "hidden_size": 16, "gain": gain}]}}
        )
        return build_model(exp, get_task(exp.task)).layers[0].cell

    plain, scaled = cell(1.0), cell(3.0)
    assert torch.allclose(scaled.weight_hh_l0, 3.0 * plain.weight_hh_l0)
    assert torch.equal(scaled.weight_ih_l0, plain.weight_ih_l0)
    radius = spectral_radius(scaled)["recurrent"][0]
    assert radius == pytest.approx(3.0 * spectral_radius(plain)["recurrent"][0], rel=1e-4)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_spectral_radius_sets_every_gate_block_and_input_scaling_scales_w_ih(kind):
    """An echo state network's knobs: after the init (and the gain, which then changes
    nothing), each gate's W_hh block has exactly the spectral radius asked for, in
    both directions; input_scaling multiplies W_ih and nothing else."""
    layer = {"type": kind, "hidden_size": 7, "bidirectional": True, "gain": 2.0}
    _, _, plain = built([layer])
    _, _, scaled = built([{**layer, "spectral_radius": 0.6, "input_scaling": 0.25}])
    cell, base = scaled.layers[0].cell, plain.layers[0].cell
    for suffix in ("", "_reverse"):
        w_hh = getattr(cell, f"weight_hh_l0{suffix}").detach()
        for block in w_hh.split(7, dim=0):  # one (H, H) block per gate
            radius = torch.linalg.eigvals(block.double()).abs().max().item()
            assert radius == pytest.approx(0.6, rel=1e-5)
        ih = f"weight_ih_l0{suffix}"
        assert torch.allclose(getattr(cell, ih), 0.25 * getattr(base, ih))
        for bias in (f"bias_ih_l0{suffix}", f"bias_hh_l0{suffix}"):
            assert torch.equal(getattr(cell, bias), getattr(base, bias))
    # the rescaling keeps each block's direction: a multiple of the plain block
    for block, plain_block in zip(
        cell.weight_hh_l0.split(7), base.weight_hh_l0.split(7), strict=True
    ):
        ratio = block / plain_block
        assert torch.allclose(ratio, ratio.flatten()[0].expand_as(ratio), rtol=1e-5)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_a_leaky_rnn_is_the_textbook_loop_on_the_fused_weights(nonlinearity):
    """leak_rate a < 1: h_t = (1 - a) h_(t-1) + a f(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh),
    written here as a plain loop over nn.RNNCell; the backward direction runs from the
    end. The parameters are the fused module's, by the same names."""
    layer = {"type": "rnn", "hidden_size": 5, "bidirectional": True, "nonlinearity": nonlinearity}
    _, task, plain = built([layer], task={"name": "sine", "seq_len": 9})
    _, _, model = built([{**layer, "leak_rate": 0.3}], task={"name": "sine", "seq_len": 9})
    assert model.state_dict().keys() == plain.state_dict().keys()
    fused = model.layers[0].cell
    x, _ = task.batch(4, seed=2)
    out = model.layers[0](x)
    a = 0.3
    for d, suffix in enumerate(("", "_reverse")):
        cell = nn.RNNCell(1, 5, nonlinearity=nonlinearity)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(fused, f"{name}_l0{suffix}"))
        h = torch.zeros(4, 5)
        steps = range(8, -1, -1) if suffix else range(9)
        for t in steps:
            h = (1 - a) * h + a * cell(x[:, t], h)
            torch.testing.assert_close(out[:, t, d * 5 : (d + 1) * 5], h, rtol=1e-5, atol=1e-6)
    # leak rate 1 is the fused module itself; below 1 the layer is another one
    assert not torch.allclose(out, plain.layers[0](x), atol=1e-3)
    out.sum().backward()  # gradients reach the fused module's own parameters
    assert fused.weight_hh_l0.grad is not None and fused.weight_hh_l0.grad.abs().sum() > 0
