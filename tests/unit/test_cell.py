"""One cell's forward and backward step against PyTorch's own nn.RNNCell, nn.LSTMCell
and nn.GRUCell (forward values, and the vector-Jacobian product by autograd), against
the probe, and against the time path of designer.inside.credit (what travels back through
the step is exactly the gradient's path through time)."""

import pytest
import torch
import torch.nn as nn

from designer import Experiment, build_model, get_task
from designer.inside.cell import CellError, cell_step
from designer.inside.credit import gradient_paths
from designer.inside.probes import _weights, probe

STACK = {
    "task": {"name": "sine", "seq_len": 7},
    "model": {
        "layers": [
            {"type": "gru", "hidden_size": 4, "bidirectional": True},
            {"type": "lstm", "hidden_size": 3, "residual": True, "forget_bias": 1.0},
            {"type": "linear", "out_features": 3, "activation": "tanh"},
            {"type": "rnn", "hidden_size": 3, "residual": True},
            {"type": "rnn", "hidden_size": 3, "nonlinearity": "relu", "leak_rate": 0.5},
        ]
    },
}
CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


@pytest.fixture(scope="module")
def stack():
    exp = Experiment.from_dict(STACK)
    task = get_task(exp.task)
    model = build_model(exp, task).double()
    return model, task


def torch_cell(layer, direction):
    """PyTorch's own cell with the fused layer's weights for one direction."""
    cell = layer.cell
    kind = layer.spec.type
    args = {"nonlinearity": cell.nonlinearity} if kind == "rnn" else {}
    own = CELLS[kind](cell.input_size, cell.hidden_size, **args).double()
    w_ih, w_hh, b_ih, b_hh = _weights(cell, reverse=direction == 1)
    with torch.no_grad():
        own.weight_ih.copy_(w_ih)
        own.weight_hh.copy_(w_hh)
        own.bias_ih.copy_(b_ih)
        own.bias_hh.copy_(b_hh)
    return own


CASES = [
    (0, 3, 0),  # bidirectional GRU, forward direction
    (0, 3, 1),  # its backward direction: the previous step is t + 1
    (0, 6, 1),  # the backward direction's first step: no previous state
    (1, 0, 0),  # LSTM at its first step: h_-1 = c_-1 = 0
    (1, 4, 0),
    (1, 6, 0),  # the last step: nothing arrives from c_(t+1)
    (3, 5, 0),  # tanh RNN
    (4, 2, 0),  # leaky relu RNN
]


@pytest.mark.parametrize(("layer", "step", "direction"), CASES)
def test_each_number_agrees_with_pytorch_and_the_probe(stack, layer, step, direction):
    model, task = stack
    sample = 2
    got = cell_step(model, task, layer, step, sample=sample, direction=direction)
    module = model.layers[layer]
    result = probe(model, task)
    probed = next(p for p in result.layers if p.index == layer)
    d, b, t = direction, sample, step

    # forward: the state (and memory) the probe saw, and its gates
    torch.testing.assert_close(got.h, probed.hidden[d, t, b])
    if got.c is not None:
        torch.testing.assert_close(got.c, probed.cell[d, t, b])
    names = {"i": "input", "f": "forget", "g": "cell", "o": "output"}
    names.update({"r": "reset", "z": "update", "n": "new"})
    for letter, value in got.gates.items():
        torch.testing.assert_close(value, probed.gates[names[letter]][d, t, b])
    torch.testing.assert_close(got.grad_h, probed.grad_hidden[d, t, b])

    # PyTorch's own cell from the same inputs gives the same outputs ...
    x = got.x.clone().requires_grad_(True)
    h_prev = got.h_prev.clone().requires_grad_(True)
    own = torch_cell(module, direction)
    leak = module.spec.leak_rate
    if got.type == "lstm":
        c_prev = got.c_prev.clone().requires_grad_(True)
        h, c = own(x[None], (h_prev[None], c_prev[None]))
        torch.testing.assert_close(c[0], got.c)
        outputs, cotangents = (h[0], c[0]), (got.grad_h, got.grad_c_later)
        inputs = (x, h_prev, c_prev)
    else:
        h = own(x[None], h_prev[None])[0]
        h = (1 - leak) * h_prev + leak * h
        outputs, cotangents, inputs = (h,), (got.grad_h,), (x, h_prev)
    torch.testing.assert_close(outputs[0], got.h)
    # ... and autograd's backward step through it is the one written out by hand
    grads = torch.autograd.grad(outputs, inputs, cotangents)
    torch.testing.assert_close(got.grad_x, grads[0])
    torch.testing.assert_close(got.grad_h_prev, grads[1])
    if got.type == "lstm":
        torch.testing.assert_close(got.grad_c_prev, grads[2])
        torch.testing.assert_close(got.grad_c, probed.grad_cell[d, t, b])


@pytest.mark.parametrize(("layer", "step", "direction"), [c for c in CASES if c[1] not in (0,)])
def test_what_travels_back_is_the_path_through_time(stack, layer, step, direction):
    """The part of dL/dh_(t-1) that this step sends back is the time path of
    designer.inside.credit at t - 1, and the probe's total is that plus the rest."""
    model, task = stack
    got = cell_step(model, task, layer, step, sample=1, direction=direction)
    if got.grad_h_prev_total is None:
        assert step == (task.seq_len - 1 if direction else 0)
        return
    prev = step - 1 if direction == 0 else step + 1
    paths = next(p for p in gradient_paths(model, task) if p.index == layer)
    torch.testing.assert_close(got.grad_h_prev, paths.paths["time"][direction, prev, 1])
    torch.testing.assert_close(got.grad_h_prev_total, paths.total[direction, prev, 1])


def test_the_factor_is_the_one_that_repeats(stack):
    model, task = stack
    rnn = cell_step(model, task, 3, 4)
    w_hh = _weights(model.layers[3].cell, False)[1].detach()
    factor = w_hh.T @ torch.diag(1 - rnn.h**2)
    assert rnn.factor_norm == pytest.approx(float(torch.linalg.matrix_norm(factor, ord=2)))
    torch.testing.assert_close(rnn.grad_h_prev, factor @ rnn.grad_h)
    lstm = cell_step(model, task, 1, 4)
    torch.testing.assert_close(lstm.grad_c_prev, lstm.gates["f"] * lstm.grad_c)
    assert lstm.gain == pytest.approx(float(lstm.grad_c_prev.norm() / lstm.grad_c.norm()))


def test_the_record_names_every_part(stack):
    model, task = stack
    lstm = cell_step(model, task, 1, 3).to_dict()
    for key in ("type", "x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h"):
        assert key in lstm
    assert {"grad_h", "grad_h_prev"} <= set(lstm)
    gru = cell_step(model, task, 0, 3, direction=1).to_dict()
    assert {"r", "z", "n"} <= set(gru) and gru["direction"] == "backward"
    assert "c" not in gru


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((2, 0), "not a recurrent layer"),
        ((9, 0), "not a recurrent layer"),
        ((1, 7), "outside the sequence (0 to 6)"),
        ((1, -1), "outside the sequence"),
        ((1, 0, 0, 1), "one direction only"),
        ((1, 0, 99), "outside the probe batch"),
    ],
)
def test_a_bad_request_is_a_sentence(stack, args, words):
    model, task = stack
    layer, step, *rest = args
    sample = rest[0] if rest else 0
    direction = rest[1] if len(rest) > 1 else 0
    with pytest.raises(CellError) as err:
        cell_step(model, task, layer, step, sample=sample, direction=direction)
    assert words in str(err.value)
