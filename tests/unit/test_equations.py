"""The LaTeX equations of each layer type: present, with PyTorch's conventions."""

import pytest

from designer.document.equations import RESIDUAL, TITLES, equations
from designer.document.spec import LAYER_TYPES


@pytest.mark.parametrize("layer_type", LAYER_TYPES)
def test_every_layer_type_has_equations_and_a_title(layer_type):
    lines = equations(layer_type)
    assert lines and all(isinstance(line, str) and "=" in line for line in lines)
    assert layer_type in TITLES
    assert equations(layer_type, residual=True) == [*lines, RESIDUAL]
    for line in lines:  # balanced braces: KaTeX would refuse the block otherwise
        assert line.count("{") == line.count("}")


def test_lstm_gates_in_pytorch_order_then_cell_and_hidden_state():
    lines = equations("lstm")
    assert [line.split("=")[0].strip() for line in lines] == [
        "i_t",
        "f_t",
        "g_t",
        "o_t",
        "c_t",
        "h_t",
    ]
    assert r"W_{if}\,x_t" in lines[1] and r"W_{hf}\,h_{t-1}" in lines[1]
    assert lines[4] == r"c_t = f_t \odot c_{t-1} + i_t \odot g_t"


def test_gru_applies_the_reset_gate_after_the_recurrent_product():
    r, z, n, h = equations("gru")
    assert n.startswith(r"n_t = \tanh") and r"r_t \odot \left(W_{hn}\,h_{t-1} + b_{hn}\right)" in n
    assert h == r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"


def test_variants():
    assert r"\operatorname{ReLU}" in equations("rnn", nonlinearity="relu")[0]
    assert r"\tanh" in equations("rnn")[0]
    assert equations("linear") == [r"h_t = W\,x_t + b"]
    assert r"\operatorname{GELU}" in equations("linear", activation="gelu")[0]
    assert r"s \le t" in equations("attention", causal=True)[1]
    with pytest.raises(ValueError):
        equations("transformer")


def test_a_leaky_rnn_shows_its_leak():
    cell, leak = equations("rnn", leak_rate=0.25)
    assert cell.startswith(r"\tilde h_t = \tanh") and r"W_{hh}\,h_{t-1}" in cell
    assert leak == r"h_t = (1 - a)\,h_{t-1} + a\,\tilde h_t \quad (a = 0.25)"
    assert equations("rnn", leak_rate=1.0) == equations("rnn")  # 1: the plain RNN
