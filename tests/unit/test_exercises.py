"""The exercises: each expected answer against PyTorch's own modules or autograd, fed
the numbers the exercise shows, for several seeds; the same seed gives the same numbers;
check() says right, wrong (and by how much), or why the text is not an answer."""

import math

import pytest
import torch
from torch import nn

from designer import Experiment, build_model, get_task
from designer.i18n import TextError, using
from designer.lessons.exercises import EXERCISES, GRAD, MAX_SEED, Exercise, check, make

SEEDS = range(6)
RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def shown(exercise: Exercise) -> dict[str, torch.Tensor]:
    """The numbers the exercise shows, by symbol (a vector as a 1-D tensor), in float64."""
    found = {}
    for quantity in exercise.shown:
        values = torch.tensor(quantity.values, dtype=torch.float64)
        found[quantity.symbol] = values[:, 0] if values.shape[1] == 1 else values
    return found


def expected(exercise: Exercise) -> torch.Tensor:
    return torch.tensor(exercise.expected, dtype=torch.float64)


def written(value: float, decimals: int = 3) -> str:
    return f"{value:.{decimals}f}"


# --- the expected answers, against PyTorch ---------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_the_parameter_count_is_that_of_pytorch_s_own_modules(seed):
    exercise = make("parameter-count", seed)
    document = exercise.experiment
    channels = document["task"]["channels"]
    (first, second) = document["model"]["layers"]
    cell = RECURRENT[first["type"]]
    assert second["type"] == first["type"]
    modules = [
        cell(channels, first["hidden_size"]),
        cell(first["hidden_size"], second["hidden_size"]),
        nn.Linear(second["hidden_size"], channels),
    ]
    count = sum(p.numel() for m in modules for p in m.parameters())
    assert exercise.expected == (count,)
    exp = Experiment.from_dict(document)  # the app's own model, as Design would build it
    assert sum(p.numel() for p in build_model(exp, get_task(exp.task)).parameters()) == count
    # the worked solution adds up to it, with two biases per gate
    assert str(exercise.solution[-1]).endswith(f"= {count}$.")
    assert "two bias vectors" in str(exercise.solution[0])
    assert exercise.tolerance == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_the_rnn_step_is_that_of_an_rnn_cell_with_the_shown_weights(seed):
    exercise = make("rnn-step", seed)
    n = shown(exercise)
    cell = nn.RNNCell(2, 2, nonlinearity="tanh").double()
    with torch.no_grad():
        cell.weight_ih.copy_(n["W"])
        cell.weight_hh.copy_(n["U"])
        cell.bias_ih.copy_(n["b"])
        cell.bias_hh.zero_()
        h1 = cell(n["x_1"][None], n["h_0"][None])[0]
    assert torch.allclose(h1, expected(exercise), atol=1e-9)
    assert all(written(v) in str(exercise.solution[-1]) for v in exercise.expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_lstm_cell_state_is_that_of_an_lstm_cell_whose_gates_are_the_shown_ones(seed):
    exercise = make("lstm-cell", seed)
    n = shown(exercise)
    f, i, g, c0 = n["f_t"], n["i_t"], n["g_t"], n["c_{t-1}"]
    cell = nn.LSTMCell(1, 3).double()
    with torch.no_grad():  # no weights: each gate is its bias through its activation
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        cell.bias_hh.zero_()
        cell.bias_ih.copy_(torch.cat([torch.logit(i), torch.logit(f), torch.atanh(g), f]))
        _, c1 = cell(torch.ones(1, 1, dtype=torch.float64), (torch.zeros(1, 3).double(), c0[None]))
    assert torch.allclose(c1[0], expected(exercise), atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_bptt_step_is_autograd_s_through_the_shown_tanh_step(seed):
    exercise = make("bptt-step", seed)
    n = shown(exercise)
    grad, W, h = n[GRAD], n["W_{hh}"], n["h_t"]
    torch.manual_seed(seed)
    h_prev = torch.randn(2, dtype=torch.float64, requires_grad=True)
    x, W_xh = torch.randn(3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    b = torch.atanh(h) - W @ h_prev.detach() - W_xh @ x  # so that the step lands on h_t
    h_t = torch.tanh(W @ h_prev + W_xh @ x + b)
    assert torch.allclose(h_t, h, atol=1e-12)
    (dh_prev,) = torch.autograd.grad(h_t, h_prev, grad_outputs=grad)
    assert torch.allclose(dh_prev, expected(exercise), atol=1e-9)
    # forgetting the transpose gives an answer the check calls wrong
    untransposed = W @ ((1 - h**2) * grad)
    assert check(exercise, ", ".join(written(v, 4) for v in untransposed)).right is False
    said = str(exercise.solution[-1])
    assert "vanish" in said


# --- the numbers shown -------------------------------------------------------------------
@pytest.mark.parametrize("name", EXERCISES)
def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(name):
    assert make(name, 3) == make(name, 3)
    others = {(make(name, seed).shown, make(name, seed).expected) for seed in range(5)}
    assert len(others) == 5


@pytest.mark.parametrize("name", EXERCISES)
def test_the_numbers_are_short_decimals_as_shown(name):
    for seed in SEEDS:
        for quantity in make(name, seed).shown:
            assert quantity.decimals <= 2
            for value in (v for row in quantity.values for v in row):
                assert value == round(value, quantity.decimals) and value != 0
                assert f"{value:.{quantity.decimals}f}" in quantity.latex()


@pytest.mark.parametrize("name", EXERCISES)
def test_every_exercise_reads_in_both_languages_and_names_its_book_section(name):
    exercise = make(name, 0)
    with using("zh"):
        chinese = [str(exercise.task), *(str(s) for s in exercise.solution)]
        assert "动手学深度学习" not in chinese[0]  # the section's title stands alone
    english = [str(exercise.task), *(str(s) for s in exercise.solution)]
    assert all(zh != en for zh, en in zip(chinese, english, strict=True))
    assert exercise.read_more.url("zh").startswith("https://zh.d2l.ai/chapter_")
    assert exercise.read_more.url("en").startswith("https://d2l.ai/chapter_")


def test_an_unknown_exercise_or_seed_is_a_sentence():
    with pytest.raises(TextError, match="Did you mean 'rnn-step'"):
        make("rnn-stp", 0)
    with pytest.raises(TextError, match="from 0 to 999999"):
        make("rnn-step", MAX_SEED + 1)


# --- checking an answer --------------------------------------------------------------------
def lines(feedback) -> str:
    return " / ".join(str(line) for line in feedback.lines)


@pytest.mark.parametrize("name", ["rnn-step", "lstm-cell", "bptt-step"])
@pytest.mark.parametrize("seed", [0, 1])
def test_an_answer_within_the_tolerance_is_right_and_one_past_it_wrong(name, seed):
    exercise = make(name, seed)
    values = exercise.expected
    assert check(exercise, ", ".join(written(v) for v in values)).right is True
    assert check(exercise, " ".join(written(v + 0.009, 4) for v in values)).right is True
    near = [values[0] + 0.0115, *values[1:]]
    feedback = check(exercise, ", ".join(written(v, 4) for v in near))
    assert feedback.right is False
    said = lines(feedback)
    typed = written(near[0], 4)
    off = written(abs(float(typed) - values[0]))
    assert f"{exercise.labels[0]}: you have `{typed}`, off by {off}; " in said
    assert "the tolerance is ± 0.01" in said and "1 of" in said
    assert written(values[0], exercise.decimals) not in said  # the answer is not given away


def test_a_wrong_answer_names_every_entry_that_is_off_in_the_reader_s_language():
    exercise = make("lstm-cell", 2)
    feedback = check(exercise, "9, 9, 9")
    assert feedback.right is False
    assert lines(feedback).startswith("Not yet: 3 of 3 numbers are off")
    with using("zh"):
        said = lines(feedback)
    assert said.startswith("还不对：3 个数中有 3 个") and "$c_t[2]$：你填的是 `9`" in said


def test_the_count_is_exact():
    exercise = make("parameter-count", 1)
    count = int(exercise.expected[0])
    assert check(exercise, str(count)).right is True
    feedback = check(exercise, str(count + 8))
    assert feedback.right is False
    assert (
        lines(feedback)
        == f"Number of parameters: you have `{count + 8}`, off by 8; it must be exact."
    )
    refused = check(exercise, f"{count}.5")
    assert refused.right is None and "whole number" in lines(refused)


@pytest.mark.parametrize(
    "text",
    ["0.12 -0.5", "0.12, -0.5", "[0.12, -0.5]", "(0.12; -0.5)", "0.12，−0.5", " .12  -.5 "],
)
def test_two_numbers_are_read_however_they_are_separated(text):
    exercise = make("rnn-step", 0)
    feedback = check(exercise, text)
    assert feedback.right is not None, lines(feedback)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Type your answer first: 2 numbers, e.g. 0.12, -0.5."),
        ("abc, 0.5", "`abc` is not a number: type 2 numbers, separated by commas or spaces"),
        ("0.1, nan", "`nan` is not a number"),
        ("1e999 0", "`1e999` is not a number"),
        ("0.1, 0.2, 0.3", "Your answer has 3 numbers; type 2 numbers, e.g. 0.12, -0.5."),
        ("0.1", "Your answer is one number; type 2 numbers"),
        ("`x` [link](http://a)", "`'x'` is not a number"),
        ("1" * 500, "That answer is too long"),
    ],
)
def test_text_that_is_not_an_answer_says_why(text, says):
    feedback = check(make("rnn-step", 0), text)
    assert feedback.right is None
    assert says in lines(feedback)


def test_every_exercise_s_example_answer_has_the_right_form():
    for name in EXERCISES:
        exercise = make(name, 0)
        assert check(exercise, exercise.example).right is not None
        assert math.isfinite(sum(exercise.expected))
