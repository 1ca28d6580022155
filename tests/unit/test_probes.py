"""The probe against an independent reference: PyTorch's own nn.*Cell modules stepped
by hand with the fused layers' weights, and autograd on that graph."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from designer import Experiment, Trainer, build_model, get_task
from designer.inside.probes import PROBE_SEED, probe, run_recurrent
from designer.training.model import Recurrent
from designer.training.trainer import PROBE_BUDGET
from tests.helpers import experiment_doc, layer_doc

CELLS = {nn.RNN: nn.RNNCell, nn.LSTM: nn.LSTMCell, nn.GRU: nn.GRUCell}


def reference_cell(fused: nn.RNNBase, reverse: bool) -> nn.RNNCellBase:
    """An nn.*Cell holding one direction of a fused layer's weights."""
    kwargs = {"nonlinearity": fused.nonlinearity} if isinstance(fused, nn.RNN) else {}
    cell = CELLS[type(fused)](fused.input_size, fused.hidden_size, **kwargs)
    suffix = "_reverse" if reverse else ""
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(fused, f"{name}_l0{suffix}"))
    return cell


def reference_gates(fused: nn.RNNBase, reverse: bool, x_t, h_prev) -> dict[str, torch.Tensor]:
    """Gate values from the textbook equations (PyTorch's conventions)."""
    suffix = "_reverse" if reverse else ""
    w_ih, w_hh, b_ih, b_hh = (
        getattr(fused, f"{n}_l0{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    gi, gh = F.linear(x_t, w_ih, b_ih), F.linear(h_prev, w_hh, b_hh)
    if isinstance(fused, nn.LSTM):
        i, f, g, o = (gi + gh).chunk(4, 1)
        return {
            "input": i.sigmoid(),
            "forget": f.sigmoid(),
            "cell": g.tanh(),
            "output": o.sigmoid(),
        }
    if isinstance(fused, nn.GRU):
        (ir, iz, in_), (hr, hz, hn) = gi.chunk(3, 1), gh.chunk(3, 1)
        r = (ir + hr).sigmoid()
        return {"reset": r, "update": (iz + hz).sigmoid(), "new": (in_ + r * hn).tanh()}
    return {}


def reference(model, task, x, y):
    """Forward with nn.*Cell modules; returns loss and per-layer lists of h_t, c_t, gates."""
    model.eval()
    h = model.encode(x)
    if not h.requires_grad:
        h = h.detach().requires_grad_(True)
    inputs = h
    traces = []
    for layer in model.layers:
        if not isinstance(layer, Recurrent):
            h = layer(h)
            continue
        B, T, _ = h.shape
        outs, dirs = [], []
        for reverse in (False, True)[: 1 + layer.cell.bidirectional]:
            cell = reference_cell(layer.cell, reverse)
            state_h = h.new_zeros(B, layer.cell.hidden_size)
            state_c = h.new_zeros(B, layer.cell.hidden_size)
            hs, cs, gates = [None] * T, [None] * T, [None] * T
            leak = layer.spec.leak_rate  # an rnn's leaky integration (1: none)
            for t in range(T - 1, -1, -1) if reverse else range(T):
                gates[t] = reference_gates(layer.cell, reverse, h[:, t], state_h)
                if isinstance(cell, nn.LSTMCell):
                    state_h, state_c = cell(h[:, t], (state_h, state_c))
                    cs[t] = state_c
                elif leak < 1.0:
                    state_h = (1 - leak) * state_h + leak * cell(h[:, t], state_h)
                else:
                    state_h = cell(h[:, t], state_h)
                hs[t] = state_h
            dirs.append((hs, cs if isinstance(cell, nn.LSTMCell) else None, gates))
            outs.append(torch.stack(hs, 1))
        out = torch.cat(outs, -1)
        h = out + layer.skip(h) if layer.skip is not None else out
        traces.append(dirs)
    if not model.per_step:
        h = h[:, -1]
    loss = task.loss(model.head(h), y)
    return loss, inputs, traces


STACKS = {
    "tanh rnn": ({"name": "adding", "seq_len": 15}, [{"type": "rnn", "hidden_size": 12}], None),
    "3-layer lstm with residual": (
        {"name": "sine", "seq_len": 12},
        [
            {"type": "lstm", "hidden_size": 10},
            {"type": "lstm", "hidden_size": 10, "residual": True, "dropout": 0.3},
            {"type": "layernorm"},
            {"type": "lstm", "hidden_size": 6, "residual": True, "forget_bias": 1.0},
        ],
        None,
    ),
    "bidirectional gru under a linear layer": (
        {"name": "brackets", "seq_len": 14},
        [
            {"type": "gru", "hidden_size": 7, "bidirectional": True},
            {"type": "linear", "out_features": 9, "activation": "tanh"},
            {"type": "attention", "residual": True},
        ],
        None,
    ),
    "frozen reservoir": (
        {"name": "sentiment", "seq_len": 10},
        [
            {"type": "rnn", "hidden_size": 20, "freeze": True, "nonlinearity": "relu"},
            {"type": "dropout", "p": 0.5},
            {"type": "gru", "hidden_size": 6, "residual": True},
        ],
        5,
    ),
    "leaky reservoirs": (
        {"name": "sine", "seq_len": 11},
        [
            {
                "type": "rnn",
                "hidden_size": 9,
                "freeze": True,
                "bidirectional": True,
                "spectral_radius": 0.9,
                "leak_rate": 0.3,
            },
            {"type": "rnn", "hidden_size": 6, "nonlinearity": "relu", "leak_rate": 0.6},
        ],
        None,
    ),
}


@pytest.mark.parametrize("name", list(STACKS))
def test_probe_matches_step_by_step_autograd_reference(name):
    task_spec, layers, embedding_dim = STACKS[name]
    exp = Experiment.from_dict(
        {"task": task_spec, "model": {"layers": layers, "embedding_dim": embedding_dim}}
    )
    task = get_task(exp.task)
    model = build_model(exp, task)
    result = probe(model, task, seed=3, batch_size=5)

    x, y = task.batch(5, PROBE_SEED + 3, split="val")
    assert torch.equal(result.x, x)
    loss, inputs, traces = reference(model, task, x, y)
    states = [inputs]
    for dirs in traces:
        for hs, cs, _ in dirs:
            states += hs + (cs or [])
    grads = iter(torch.autograd.grad(loss, states))
    assert result.loss == pytest.approx(loss.item(), rel=1e-5)
    torch.testing.assert_close(result.input_grad, next(grads).transpose(0, 1), rtol=1e-4, atol=1e-7)
    assert len(result.layers) == len(traces)
    for probed, dirs in zip(result.layers, traces, strict=True):
        assert probed.directions == len(dirs)
        for d, (hs, cs, gates) in enumerate(dirs):
            torch.testing.assert_close(
                probed.hidden[d], torch.stack(hs).detach(), rtol=1e-5, atol=1e-6
            )
            dh = torch.stack([next(grads) for _ in hs])
            torch.testing.assert_close(probed.grad_hidden[d], dh, rtol=1e-4, atol=1e-7)
            if cs is not None:
                torch.testing.assert_close(probed.cell[d], torch.stack(cs).detach())
                dc = torch.stack([next(grads) for _ in cs])
                torch.testing.assert_close(probed.grad_cell[d], dc, rtol=1e-4, atol=1e-7)
            for gate, values in probed.gates.items():
                expected = torch.stack([g[gate] for g in gates]).detach()
                torch.testing.assert_close(values[d], expected, rtol=1e-5, atol=1e-6)


def test_step_by_step_forward_reproduces_fused_modules():
    exp = Experiment.from_dict(
        experiment_doc(
            "multivariate", 40,
            layer_doc("lstm", 16, bidirectional=True), layer_doc("gru", 8, residual=True),
            layer_doc("rnn", 8, nonlinearity="relu", residual=True),
            layer_doc("rnn", 8, bidirectional=True, leak_rate=0.2),
        )
    )  # fmt: skip
    task = get_task(exp.task)
    model = build_model(exp, task).eval()
    x, _ = task.batch(6, seed=0)
    h = x
    for layer in model.layers:
        step_by_step, _ = run_recurrent(layer, h)
        torch.testing.assert_close(step_by_step, layer(h), rtol=1e-5, atol=1e-5)
        h = layer(h)
    # and the probe's loss is the model's own, leaky layer included
    x, y = task.batch(5, PROBE_SEED + 1, split="val")
    with torch.no_grad():
        loss = task.loss(model(x), y).item()
    assert probe(model, task, seed=1, batch_size=5).loss == pytest.approx(loss, rel=1e-5)


def test_probe_leaves_the_model_untouched():
    exp = Experiment.from_dict(
        {"model": {"layers": [{"type": "lstm", "hidden_size": 8, "dropout": 0.5}]}}
    )
    trainer = Trainer(exp, probes=False)
    trainer.train_step()  # gradients and optimizer state exist now
    model = trainer.model
    params = {k: v.clone() for k, v in model.state_dict().items()}
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    optim_state = {
        k: {n: t.clone() for n, t in v.items() if torch.is_tensor(t)}
        for k, v in trainer.optimizer.state.items()
    }
    assert model.training
    result = probe(model, trainer.task)
    assert model.training
    assert all(torch.equal(params[k], v) for k, v in model.state_dict().items())
    assert all(torch.equal(grads[n], p.grad) for n, p in model.named_parameters())
    for k, v in trainer.optimizer.state.items():
        assert all(torch.equal(optim_state[k][n], t) for n, t in v.items() if torch.is_tensor(t))
    # dropout is off while probing: two probes agree exactly
    again = probe(model, trainer.task)
    assert torch.equal(result.layers[0].hidden, again.layers[0].hidden)
    assert set(result.param_grad_norms) == {n for n, _ in model.named_parameters()}


def test_frozen_parameters_have_no_gradient_entry():
    exp = Experiment.from_dict(
        {"model": {"layers": [{"type": "rnn", "hidden_size": 8, "freeze": True}]}}
    )
    task = get_task(exp.task)
    result = probe(build_model(exp, task), task)
    assert not any(name.startswith("layers.0.cell") for name in result.param_grad_norms)
    assert result.layers[0].grad_norm[0] > 0


def test_spectral_radius_per_gate_block():
    exp = Experiment.from_dict(
        {
            "model": {
                "layers": [
                    {"type": "rnn", "hidden_size": 6, "init": "orthogonal"},
                    {"type": "lstm", "hidden_size": 5, "init": "identity", "bidirectional": True},
                ]
            }
        }
    )
    task = get_task(exp.task)
    result = probe(build_model(exp, task), task)
    rnn, lstm = result.layers
    assert rnn.spectral_radius["recurrent"] == [pytest.approx(1.0, abs=1e-5)]  # orthogonal
    assert set(lstm.spectral_radius) == {"input", "forget", "cell", "output"}
    assert all(r == [pytest.approx(1.0), pytest.approx(1.0)] for r in lstm.spectral_radius.values())


def adding(kind: str, seq_len: int = 30, **layer) -> Experiment:
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": seq_len},
            "model": {"layers": [{"type": kind, "hidden_size": 32, **layer}]},
            "train": {"lr": 0.003, "batch_size": 64, "clip_norm": 1.0, "eval_every": 250},
        }
    )


def first_to_last(values: list[float]) -> float:
    return values[0] / values[-1]


def test_fused_retain_grad_sees_only_the_last_step_but_the_probe_sees_bptt():
    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 30},
            "model": {"layers": [{"type": "rnn", "hidden_size": 32}] * 2},
        }
    )
    task = get_task(exp.task)
    model = build_model(exp, task)
    x, y = task.batch(8, PROBE_SEED, split="val")
    lower = model.layers[0](x)
    out, _ = model.layers[1].cell(lower)
    out.retain_grad()
    task.loss(model.head(out[:, -1]), y).backward()
    assert torch.count_nonzero(out.grad[:, :-1]) == 0  # the fused output's gradient
    top = probe(model, task).layers[1].grad_norm
    assert all(g > 0 for g in top)  # the total derivative reaches every step
    # a tanh RNN at initialisation: it fades with distance from the loss
    assert top[0] < top[10] < top[20] < top[-1]
    assert first_to_last(top) < 1e-3


def test_at_default_init_lstm_fades_like_tanh_rnn_and_forget_bias_changes_it():
    ratios = {}
    for name, exp in {
        "rnn": adding("rnn"),
        "lstm": adding("lstm"),
        "lstm forget bias 1": adding("lstm", forget_bias=1.0),
    }.items():
        task = get_task(exp.task)
        result = probe(build_model(exp, task), task)
        ratios[name] = first_to_last(result.layers[0].grad_norm)
    # measured: about 1e-6 for both at PyTorch's default initialisation
    assert ratios["rnn"] < 1e-3 and ratios["lstm"] < 1e-3
    # a forget gate that starts open lets far more gradient through
    assert ratios["lstm forget bias 1"] > 100 * ratios["lstm"]


@pytest.mark.slow
def test_after_training_lstm_keeps_gradient_at_the_first_step_and_tanh_rnn_does_not():
    """Adding problem, seq_len 30, 1500 Adam steps, fixed seeds."""
    results = {}
    for kind in ("lstm", "rnn"):
        exp = adding(kind)
        trainer = Trainer(exp, probes=False)
        evals = [r["val_loss"] for r in trainer.run(1500) if r["event"] == "eval"]
        result = probe(trainer.model, trainer.task)
        results[kind] = (evals[-1], result)
    lstm_loss, lstm = results["lstm"]
    rnn_loss, rnn = results["rnn"]
    assert lstm_loss < 0.01  # the LSTM solved it
    lstm_x = first_to_last(lstm.input_grad_norm)
    rnn_x = first_to_last(rnn.input_grad_norm)
    assert 0.1 < lstm_x < 10  # within an order of magnitude of the last step
    assert rnn_x < lstm_x / 10  # the tanh RNN keeps at least ten times less
    # the LSTM's cell state carries it
    cell = lstm.layers[0].cell_grad_norm
    assert first_to_last(cell) > 0.1


def test_trainer_probes_on_a_time_budget_and_at_start_and_end():
    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 20},
            "model": {"layers": [{"type": "gru", "hidden_size": 16}]},
            "train": {"batch_size": 16},
        }
    )
    trainer = Trainer(exp)
    records = list(trainer.run(200))
    probes = [r for r in records if r["event"] == "probe"]
    assert probes[0]["step"] == 0 and probes[-1]["step"] == 200
    assert len(trainer.history.probes) == len(probes)
    # each probe waits until the training since the last one pays for it (jitter aside)
    budget = 1.5 * PROBE_BUDGET * trainer.train_time
    assert trainer.probe_time <= budget + 2 * max(p["seconds"] for p in probes)
    fixed = Trainer(
        exp.model_copy(update={"train": exp.train.model_copy(update={"probe_every": 50})})
    )
    steps = [r["step"] for r in fixed.run(120) if r["event"] == "probe"]
    assert steps == [0, 50, 100, 120]
    summary = trainer.history.probes[-1]
    assert summary.step == 200 and len(summary.layers[0]["grad_norm"]) == 20


def test_history_keeps_probes_within_a_memory_budget(monkeypatch):
    import designer.training.trainer as train

    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 10},
            "model": {"layers": [{"type": "lstm", "hidden_size": 8}]},
            "train": {"batch_size": 8, "probe_every": 1},
        }
    )
    trainer = Trainer(exp)
    list(trainer.run(1))
    one = trainer.history.probes[0].elements
    assert one == 8 * 10 * 1 * 8 * 6  # h, c and four gates of (T, B, H) half floats
    monkeypatch.setattr(train, "PROBE_HISTORY_ELEMENTS", 10 * one)
    list(trainer.run(40))
    probes = trainer.history.probes
    assert len(probes) <= 10
    assert probes[0].step == 0 and probes[-1].step == 41
    steps = [p.step for p in probes]
    assert steps == sorted(steps)
    assert probes[-1].layers[0]["hidden"].dtype == torch.float16
