"""Memory capacity: the curve against the closed form of a linear reservoir, through the
engine on a frozen near-linear tanh rnn, token tasks, the spectral radius sweep."""

import math

import pytest
import torch

from designer import Experiment, build_model, get_task
from designer.inside.memory import (
    layer_states,
    memory_capacity,
    memory_curve,
    memory_sweep,
    random_inputs,
)
from designer.training.model import leaky_rnn


def built(layers, task):
    exp = Experiment.from_dict({"version": 1, "task": task, "model": {"layers": layers}})
    task = get_task(exp.task)
    return task, build_model(exp, task)


def closed_form(W: torch.Tensor, w: torch.Tensor, max_delay: int) -> list[float]:
    """R²_k of the best linear read-out of u_(t-k) from h_t for the linear reservoir
    h_t = W h_(t-1) + w u_t driven by i.i.d. u of variance 1, in its stationary state:

        C = sum_j W^j w wᵀ (W^j)ᵀ   (the states' covariance)
        r_k = W^k w                 (the covariance of h_t with u_(t-k))
        R²_k = r_kᵀ C⁻¹ r_k / var(u)

    R² does not depend on the scale of u or of w, nor on u's mean (the read-out has a
    bias), so it holds for any i.i.d. input."""
    W, w = W.double(), w.double()
    C = torch.zeros(len(w), len(w), dtype=torch.float64)
    term = w.clone()
    for _ in range(2000):  # |W^j| ~ 0.9^j: the sum has converged far below 1e-40
        C += torch.outer(term, term)
        term = W @ term
    scores, r = [], w.clone()
    for _ in range(max_delay):
        r = W @ r
        scores.append(float(r @ torch.linalg.solve(C, r)))
    return scores


# Tolerance. The read-out is fitted on about 10,000 rows and scored on about 10,000
# others (N/2 sequences x ~1000 steps). An R² estimated from n rows has a standard
# deviation of about 2 sqrt(R²) (1 - R²) / sqrt(n), at most 0.008 for n = 10,000 (at
# R² = 1/3); fitting 11 numbers on 10,000 rows lowers the held-out score by about
# 11/10,000 = 0.001. So 0.03 is about 4 standard deviations. Measured: at most 0.006
# (pure), 0.010 (engine, 20 sequences). The memory capacities (sums of 30 of them) agree
# to 0.03 and 0.001; their tolerance is 0.2.
TOLERANCE = 0.03
TOTAL_TOLERANCE = 0.2


def test_memory_curve_matches_the_closed_form_of_a_linear_reservoir():
    gen = torch.Generator().manual_seed(0)
    H, N, T, washout, K = 10, 20, 1000, 200, 30
    W = torch.randn(H, H, generator=gen, dtype=torch.float64) / math.sqrt(H)
    W *= 0.9 / torch.linalg.eigvals(W).abs().max()  # spectral radius 0.9
    w = torch.randn(H, generator=gen, dtype=torch.float64)
    u = torch.randn(N, washout + T, generator=gen, dtype=torch.float64)  # i.i.d. N(0, 1)
    h = torch.zeros(N, H, dtype=torch.float64)
    states = []
    for t in range(washout + T):
        h = h @ W.T + u[:, t : t + 1] * w  # (N, H)
        states.append(h)
    # the first steps are dropped: from h = 0 the states are not yet stationary
    states = torch.stack(states, dim=1)[:, washout:]  # (N, T, H)
    curve = memory_curve(states, u[:, washout:], K)
    expected = closed_form(W, w, K)
    assert curve.delays == list(range(1, K + 1))
    assert curve.kind == "features" and curve.chance == 0.0
    for k, (got, want) in enumerate(zip(curve.scores, expected, strict=True), start=1):
        assert got == pytest.approx(want, abs=TOLERANCE), f"delay {k}"
    assert curve.total == pytest.approx(sum(expected), abs=TOTAL_TOLERANCE)
    assert expected[0] > 0.9 and expected[-1] < 0.01  # the curve spans high to nothing


def test_a_frozen_tanh_rnn_through_the_engine_matches_the_same_closed_form():
    # parity's input is i.i.d. bits, one per step. With zero biases (init "xavier") and
    # an input scaled by 1e-4 the states stay below ~1e-3, where tanh(z) = z - z³/3 is
    # linear to ~1e-7: the layer is the linear reservoir of its own W_hh and W_ih.
    layer = {
        "type": "rnn",
        "hidden_size": 10,
        "freeze": True,
        "init": "xavier",
        "spectral_radius": 0.9,
        "input_scaling": 1e-4,
    }
    task, model = built([layer], {"name": "parity", "seq_len": 1000})
    [curve] = memory_capacity(model, task, max_delay=30, sequences=20)
    cell = model.layers[0].cell
    expected = closed_form(cell.weight_hh_l0, cell.weight_ih_l0[:, 0], 30)
    assert (curve.layer_index, curve.layer_type, curve.sequences) == (0, "rnn", 20)
    for k, (got, want) in enumerate(zip(curve.scores, expected, strict=True), start=1):
        assert got == pytest.approx(want, abs=TOLERANCE), f"delay {k}"
    assert curve.total == pytest.approx(sum(expected), abs=TOTAL_TOLERANCE)
    assert curve.seconds > 0


def test_a_wide_layer_on_few_rows_does_not_fake_memory():
    # 256 units of noise, 8 sequences of 20 steps: fitted on its own rows the read-out
    # would reach R² = 1; scored on held-out sequences it knows nothing (clamped at 0)
    gen = torch.Generator().manual_seed(1)
    states = torch.randn(8, 20, 256, generator=gen)
    inputs = torch.randn(8, 20, 3, generator=gen)
    curve = memory_curve(states, inputs, 5)
    assert curve.scores == [0.0] * 5


def test_layer_states_are_each_cells_output_in_eval_mode_and_the_mode_is_restored():
    layers = [
        {"type": "lstm", "hidden_size": 6, "dropout": 0.5},
        {"type": "linear", "out_features": 5},
        {"type": "gru", "hidden_size": 5, "bidirectional": True, "residual": True},
        {"type": "rnn", "hidden_size": 4, "leak_rate": 0.3},
        {"type": "linear", "out_features": 3},
    ]
    task, model = built(layers, {"name": "adding", "seq_len": 7})
    x, _ = task.batch(3, seed=0)
    model.train()
    kept = layer_states(model, x)
    assert model.training
    assert [index for index, _ in kept] == [0, 2, 3]
    assert [tuple(states.shape) for _, states in kept] == [(3, 7, 6), (3, 7, 10), (3, 7, 4)]
    with torch.no_grad():
        model.eval()
        h0, _ = model.layers[0].cell(x)  # dropout off: the layer's output is its cell's
        h1 = model.layers[1](h0)
        h2, _ = model.layers[2].cell(h1)  # before the residual skip is added
        h3 = leaky_rnn(model.layers[3].cell, model.layers[2](h1), 0.3)
    for (_, got), want in zip(kept, (h0, h2, h3), strict=True):
        torch.testing.assert_close(got, want)


def test_token_tasks_score_accuracies_above_a_chance_level():
    layers = [{"type": "lstm", "hidden_size": 16}, {"type": "linear", "out_features": 8}]
    task, model = built(layers, {"name": "brackets", "seq_len": 20})
    [curve] = memory_capacity(model, task, max_delay=6)
    assert curve.kind == "tokens" and curve.delays == list(range(1, 7))
    assert 0.3 < curve.chance < 0.7  # '(' or ')', padding left out
    assert all(0.0 <= score <= 1.0 for score in curve.scores)
    assert curve.scores[0] > curve.chance + 0.2  # the last bracket is in plain view
    assert 0.0 <= curve.total <= 6.0


def test_the_sweep_gives_a_curve_per_radius_and_leaves_the_model_alone():
    layer = {
        "type": "rnn",
        "hidden_size": 20,
        "freeze": True,
        "init": "xavier",
        "spectral_radius": 0.9,
        "input_scaling": 1e-4,
    }
    task, model = built([{"type": "linear", "out_features": 2}, layer], {"name": "parity"})
    before = {name: value.clone() for name, value in model.state_dict().items()}
    sweep = memory_sweep(model, task, 1, radii=[0.5, 0.9, 1.5], sequences=16)
    assert [radius for radius, _ in sweep] == [0.5, 0.9, 1.5]
    assert all(curve.layer_index == 1 and len(curve.scores) == 19 for _, curve in sweep)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    totals = {radius: curve.total for radius, curve in sweep}
    # memory grows as the radius nears 1 and breaks down past it
    assert totals[0.5] < totals[0.9] and totals[1.5] < totals[0.9]
    with pytest.raises(ValueError, match="not a recurrent layer"):
        memory_sweep(model, task, 0, radii=[0.9])


def test_a_stack_without_a_recurrent_layer_has_no_curves():
    task, model = built([{"type": "linear", "out_features": 4}], {"name": "sine"})
    assert layer_states(model, task.batch(2, seed=0)[0]) == []
    assert memory_capacity(model, task) == []


def test_memory_curve_refuses_what_it_cannot_score_and_marks_blown_up_states():
    states, inputs = torch.zeros(4, 10, 3), torch.zeros(4, 10, 1)
    with pytest.raises(ValueError, match="between 1 and 9"):
        memory_curve(states, inputs, 10)
    with pytest.raises(ValueError, match="2 sequences"):
        memory_curve(states[:1], inputs[:1], 3)
    with pytest.raises(ValueError, match="do not match"):
        memory_curve(states, inputs[:, :5], 3)
    states[0, 3, 1] = float("inf")
    curve = memory_curve(states, torch.randn(4, 10), 3)
    assert all(math.isnan(score) for score in curve.scores) and math.isnan(curve.total)


def test_random_inputs_keep_the_scale_and_the_tokens_but_not_the_order():
    sine = get_task(Experiment.from_dict({"task": {"name": "sine", "seq_len": 40}}).task)
    x, _ = sine.batch(64, 0, split="val")
    noise = random_inputs(x, token_input=False, seed=0)
    assert noise.shape == x.shape
    assert torch.allclose(noise.mean(dim=(0, 1)), x.mean(dim=(0, 1)), atol=0.05)
    assert torch.allclose(noise.std(dim=(0, 1)), x.std(dim=(0, 1)), rtol=0.05)
    step_to_step = torch.corrcoef(
        torch.stack([noise[:, 1:, 0].flatten(), noise[:, :-1, 0].flatten()])
    )
    assert abs(float(step_to_step[0, 1])) < 0.05  # the wave's steps follow each other; these do not
    brackets = get_task(Experiment.from_dict({"task": {"name": "brackets", "seq_len": 20}}).task)
    ids, _ = brackets.batch(16, 0, split="val")
    drawn = random_inputs(ids, token_input=True, seed=0)
    assert set(drawn.unique().tolist()) <= set(ids[ids != 0].unique().tolist())
    assert torch.equal(drawn, random_inputs(ids, token_input=True, seed=0))  # fixed


def test_a_predictable_input_makes_every_layer_seem_to_remember_and_noise_does_not():
    exp = Experiment.from_dict(
        {
            "task": {"name": "sine", "seq_len": 40},
            "model": {"layers": [{"type": "rnn", "hidden_size": 16}]},
        }
    )
    task = get_task(exp.task)
    model = build_model(exp, task)
    (own,) = memory_capacity(model, task, max_delay=20)
    (noise,) = memory_capacity(model, task, max_delay=20, noise=True)
    assert own.scores[-1] > 0.8  # x(t-20) read off a wave's recent steps
    assert noise.scores[-1] < 0.2 < noise.scores[0]
