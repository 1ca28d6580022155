"""Exercises: the student computes one thing by hand (a parameter count, one step of
an RNN, an LSTM's cell state, one step of backpropagation through time), types the
answer, and the app checks it.

An exercise is made from a seed, `make(name, seed)`: the numbers it shows are drawn
from that seed and rounded as they are shown, and the expected answer is computed
from the shown numbers, so a student working by hand gets it to the last digit. The
worked solution carries the real intermediate numbers. `check(exercise, text)` reads
what the student typed and says what was off, without giving the answer away (the
solution, shown after an answer, does that). Every sentence is a Text, rendered in
the reader's language when it is shown.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from designer.document.spec import Experiment
from designer.i18n import N_, Text, TextError, unknown_name
from designer.tasks import get_task
from designer.training.model import build_model

MAX_SEED = 999_999  # a seed is the visitor's own text in a link: a bounded whole number
MAX_ANSWER = 200  # characters: an answer is a few numbers
EXAMPLE = ("0.12", "-0.5", "0.3")  # what an answer looks like, entry by entry

Vector = tuple[float, ...]
Matrix = tuple[Vector, ...]


# --- what an exercise is ---------------------------------------------------------------
@dataclass(frozen=True)
class Shown:
    """A vector or matrix the exercise shows, its values as shown (already rounded)."""

    symbol: str  # LaTeX
    values: Matrix  # rows; a vector is shown as one column
    decimals: int

    def latex(self) -> str:
        return rf"{self.symbol} = {_bmatrix(self.values, self.decimals)}"


@dataclass(frozen=True)
class ReadMore:
    """The matching section of Dive into Deep Learning (《动手学深度学习》)."""

    section: str  # its title, marked with N_ (the Chinese edition's title in the catalog)
    page: str  # the same path on d2l.ai and zh.d2l.ai

    def url(self, lang: str) -> str:
        return f"https://{'zh.d2l.ai' if lang == 'zh' else 'd2l.ai'}/{self.page}"


@dataclass(frozen=True)
class Exercise:
    """One exercise with the numbers of one seed: all that a page (or a notebook) shows
    of it and needs to check an answer."""

    name: str
    seed: int
    title: str  # N_-marked
    summary: str  # N_-marked, one line for the list
    task: Text  # what to compute and how to type it (markdown with LaTeX)
    shown: tuple[Shown, ...]
    labels: tuple[str | Text, ...]  # the answer's entries as the feedback names them: "h_1[2]"
    expected: Vector  # from the shown numbers
    tolerance: float  # per entry; 0: exact (a count)
    decimals: int  # how the solution writes the expected answer
    solution: tuple[Text, ...]  # steps (markdown with LaTeX), the real numbers in them
    read_more: ReadMore
    experiment: dict[str, Any] | None = None  # the design a count exercise shows

    @property
    def example(self) -> str:
        """An answer of the right form (not the answer): '0.12, -0.5'."""
        if self.tolerance == 0:
            return "1234"
        return ", ".join(EXAMPLE[i % len(EXAMPLE)] for i in range(len(self.expected)))

    def answer_words(self) -> Text:
        """What the answer is: 'one whole number' or '2 numbers'."""
        if self.tolerance == 0:
            return Text("one whole number")
        if len(self.expected) == 1:
            return Text("one number")
        return Text("{count} numbers", count=len(self.expected))

    def answer_latex(self) -> str:
        """The expected answer, as the solution's last line writes it."""
        if self.tolerance == 0:
            return str(round(self.expected[0]))
        return _column(self.expected, self.decimals)


@dataclass(frozen=True)
class Feedback:
    """What check() says: right (True), wrong (False) or not an answer (None), in lines."""

    right: bool | None
    lines: tuple[Text, ...]


@dataclass(frozen=True)
class Kind:
    """One exercise: its texts, and how it draws its numbers from a random generator."""

    name: str
    title: str
    summary: str
    read_more: ReadMore
    draw: Callable[[random.Random], dict[str, Any]]


# --- numbers and LaTeX ---------------------------------------------------------------------
def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _fmt(value: float, decimals: int) -> str:
    """A number as a solution writes it: negative ones in brackets inside a product."""
    text = _number(value, decimals)
    return f"({text})" if text.startswith("-") else text


def _bmatrix(rows: Matrix, decimals: int) -> str:
    body = r" \\ ".join(" & ".join(_number(v, decimals) for v in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _column(values: Vector, decimals: int) -> str:
    return _bmatrix(tuple((v,) for v in values), decimals)


def _draw(rng: random.Random, n: int, low: int, high: int, scale: int) -> Vector:
    """n numbers drawn as whole multiples of 1/scale (none zero, which would leave a
    product out of the exercise): the rounded values that are shown."""
    choices = [k for k in range(low, high + 1) if k != 0]
    return tuple(rng.choice(choices) / scale for _ in range(n))


def _matrix(rng: random.Random, n: int, m: int, low: int, high: int, scale: int) -> Matrix:
    return tuple(_draw(rng, m, low, high, scale) for _ in range(n))


def _rounded(values: Vector) -> Vector:
    """Float noise off (0.1 * 0.3 is 0.030000000000000002), far below any tolerance."""
    return tuple(round(v, 12) + 0.0 for v in values)


def _matvec(matrix: Matrix, vector: Vector) -> Vector:
    return tuple(sum(a * b for a, b in zip(row, vector, strict=True)) for row in matrix)


def _transpose(matrix: Matrix) -> Matrix:
    return tuple(zip(*matrix, strict=True))


def _stack(entries: list[str]) -> str:
    """LaTeX expressions stacked in a column: one row each."""
    return r"\begin{bmatrix} " + r" \\ ".join(entries) + r" \end{bmatrix}"


def _products(matrix: Matrix, vector: Vector, dm: int, dv: int) -> str:
    """Each row of a matrix-vector product written out: 0.3 \\cdot 0.5 + (-0.2) \\cdot 0.7."""
    return _stack(
        [
            " + ".join(
                rf"{_fmt(a, dm)} \cdot {_fmt(b, dv)}" for a, b in zip(row, vector, strict=True)
            )
            for row in matrix
        ]
    )


def _numbers(
    task: Text, shown: tuple[Shown, ...], labels: tuple[str, ...], expected: Vector, **rest: Any
) -> dict[str, Any]:
    """The fields an exercise of a few numbers draws: checked to ± 0.01 per entry."""
    fields = {"shown": shown, "labels": labels, "expected": _rounded(expected), **rest}
    return {"task": task, "tolerance": 0.01, **fields}


def _vector(symbol: str, values: Vector, decimals: int) -> Shown:
    return Shown(symbol, tuple((v,) for v in values), decimals)


# --- parameter-count -------------------------------------------------------------------
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
CELLS = {"rnn": "tanh RNN", "gru": "GRU", "lstm": "LSTM"}
BLOCKS = {
    "rnn": N_("one block: the layer itself"),
    "gru": N_("the reset gate, the update gate and the candidate state"),
    "lstm": N_("the input, forget, cell and output gates"),
}


def _layer_count(number: int, inputs: int, units: int, gates: int) -> tuple[int, Text]:
    n = gates * (units * (inputs + units) + 2 * units)
    equation = rf"${gates} \cdot ({units} \cdot ({inputs} + {units}) + 2 \cdot {units}) = {n}$"
    said = Text(
        "Layer {number}: I = {inputs}, H = {units}: {equation}.",
        number=number,
        inputs=inputs,
        units=units,
        equation=equation,
    )
    return n, said


def _parameter_count(rng: random.Random) -> dict[str, Any]:
    cell = rng.choice(sorted(GATES))
    channels, first, second = rng.randint(2, 5), rng.randint(3, 8), rng.randint(2, 6)
    layers = [{"type": cell, "hidden_size": first}, {"type": cell, "hidden_size": second}]
    document = {"task": {"name": "multivariate", "channels": channels}, "model": {"layers": layers}}
    exp = Experiment.from_dict(document)
    model = build_model(exp, get_task(exp.task))
    counted = sum(p.numel() for p in model.parameters())  # the app's own model, counted
    gates = GATES[cell]
    n1, step1 = _layer_count(1, channels, first, gates)
    n2, step2 = _layer_count(2, first, second, gates)
    head = second * channels + channels
    steps = (
        Text(
            "Each {cell} layer has {gates} weight blocks ({blocks}). Each block has input "
            "weights $W_{{ih}}$ (H × I), recurrent weights $W_{{hh}}$ (H × H) and two bias "
            "vectors, $b_{{ih}}$ and $b_{{hh}}$, of H each: PyTorch keeps two biases per gate "
            "where the textbook writes one. So a layer of H units reading I inputs has "
            "{gates} · (H · (I + H) + 2H) parameters. Layer 1 reads the {channels} channels; "
            "layer 2 reads layer 1's {first} units.",
            cell=CELLS[cell],
            gates=gates,
            blocks=Text(BLOCKS[cell]),
            channels=channels,
            first=first,
        ),
        step1,
        step2,
        Text(
            "The read-out: a linear layer from layer 2's {units} units to the {channels} "
            "channels, a weight matrix and a bias: {equation}.",
            units=second,
            channels=channels,
            equation=rf"${second} \cdot {channels} + {channels} = {head}$",
        ),
        Text("In all: {equation}.", equation=f"${n1} + {n2} + {head} = {n1 + n2 + head}$"),
    )
    task = Text(
        "The experiment below predicts the {channels} channels of the weather station task "
        "one step ahead: two {cell} layers of {first} and {second} units and a linear "
        "read-out at every step. How many parameters does the model have? Type one whole "
        "number.",
        channels=channels,
        cell=CELLS[cell],
        first=first,
        second=second,
    )
    return {
        "task": task,
        "shown": (),
        "labels": (Text("Number of parameters"),),
        "expected": (float(counted),),
        "tolerance": 0.0,
        "decimals": 0,
        "solution": steps,
        "experiment": document,  # as written: the fields that matter, defaults left out
    }


# --- rnn-step ------------------------------------------------------------------------------
def _rnn_step(rng: random.Random) -> dict[str, Any]:
    while True:  # pre-activations tanh does not flatten to ±1, so the step is worth doing
        W, U = _matrix(rng, 2, 2, -9, 9, 10), _matrix(rng, 2, 2, -9, 9, 10)
        x, h0, b = _draw(rng, 2, -9, 9, 10), _draw(rng, 2, -9, 9, 10), _draw(rng, 2, -5, 5, 10)
        wx, uh = _matvec(W, x), _matvec(U, h0)
        a = tuple(p + q + c for p, q, c in zip(wx, uh, b, strict=True))
        if all(0.05 < abs(v) < 1.5 for v in a):
            break
    h1 = tuple(math.tanh(v) for v in a)
    tanh = _stack([rf"\tanh({_number(v, 2)})" for v in a])
    steps = (
        Text(
            "The input's part: {equation}",
            equation=rf"$$W x_1 = {_products(W, x, 1, 1)} = {_column(wx, 2)}$$",
        ),
        Text(
            "The recurrent part, from the previous hidden state: {equation}",
            equation=rf"$$U h_0 = {_products(U, h0, 1, 1)} = {_column(uh, 2)}$$",
        ),
        Text(
            "Add them and the bias: {equation}",
            equation=rf"$$W x_1 + U h_0 + b = {_column(a, 2)}$$",
        ),
        Text(
            "Squash each entry with tanh: {equation}",
            equation=rf"$$h_1 = {tanh} = {_column(h1, 3)}$$",
        ),
    )
    task = Text(
        "A tanh RNN with 2 units reads its first input $x_1$, starting from the hidden state "
        "$h_0$. W holds its input weights ($W_{{ih}}$ in PyTorch), U its recurrent weights "
        "($W_{{hh}}$) and "
        "b its bias. Compute the new hidden state {equation} and type its 2 entries, "
        "separated by a comma.",
        equation=r"$h_1 = \tanh(W x_1 + U h_0 + b)$",
    )
    shown = (Shown("W", W, 1), _vector("x_1", x, 1), Shown("U", U, 1), _vector("h_0", h0, 1))
    labels = ("$h_1[1]$", "$h_1[2]$")
    return _numbers(task, (*shown, _vector("b", b, 1)), labels, h1, decimals=3, solution=steps)


# --- lstm-cell -----------------------------------------------------------------------------
def _lstm_cell(rng: random.Random) -> dict[str, Any]:
    f, i = _draw(rng, 3, 5, 95, 100), _draw(rng, 3, 5, 95, 100)
    g, c0 = _draw(rng, 3, -95, 95, 100), _draw(rng, 3, -20, 20, 10)
    kept = tuple(a * b for a, b in zip(f, c0, strict=True))
    written = tuple(a * b for a, b in zip(i, g, strict=True))
    c1 = tuple(a + b for a, b in zip(kept, written, strict=True))

    def products(p: Vector, q: Vector, dq: int) -> str:
        return _stack([rf"{_fmt(a, 2)} \cdot {_fmt(b, dq)}" for a, b in zip(p, q, strict=True)])

    steps = (
        Text(
            "What the forget gate keeps of the old cell state: {equation}",
            equation=rf"$$f_t \odot c_{{t-1}} = {products(f, c0, 1)} = {_column(kept, 3)}$$",
        ),
        Text(
            "What the input gate writes of the candidate cell state: {equation}",
            equation=rf"$$i_t \odot g_t = {products(i, g, 2)} = {_column(written, 4)}$$",
        ),
        Text(
            "Their sum is the new cell state: {equation}",
            equation=rf"$$c_t = {_column(kept, 3)} + {_column(written, 4)} = {_column(c1, 4)}$$",
        ),
    )
    task = Text(
        "One step of an LSTM with 3 units. Its gates have been computed: the forget gate "
        "$f_t$, the input gate $i_t$ and the candidate cell state $g_t$; $c_{{t-1}}$ is the "
        "previous cell "
        "state. Compute the new cell state {equation} (⊙: entry by entry) and type its 3 "
        "entries, separated by commas.",
        equation=r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$",
    )
    gates = (_vector("f_t", f, 2), _vector("i_t", i, 2), _vector("g_t", g, 2))
    labels = ("$c_t[1]$", "$c_t[2]$", "$c_t[3]$")
    shown = (*gates, _vector("c_{t-1}", c0, 1))
    return _numbers(task, shown, labels, c1, decimals=4, solution=steps)


# --- bptt-step -----------------------------------------------------------------------------
GRAD = r"\frac{\partial L}{\partial h_t}"  # the gradient reaching h_t, as it is shown


def _bptt_step(rng: random.Random) -> dict[str, Any]:
    while True:  # forgetting the transpose must give a wrong answer
        grad = _draw(rng, 2, -9, 9, 10)
        W, h = _matrix(rng, 2, 2, -9, 9, 10), _draw(rng, 2, -9, 9, 10)
        slope = tuple(1 - v * v for v in h)
        through = tuple(s * d for s, d in zip(slope, grad, strict=True))
        back = _matvec(_transpose(W), through)
        untransposed = _matvec(W, through)
        if max(abs(p - q) for p, q in zip(back, untransposed, strict=True)) > 0.05 and any(grad):
            break
    before, after = math.hypot(*grad), math.hypot(*back)
    lengths = {"before": f"{before:.3f}", "after": f"{after:.3f}", "ratio": f"{after / before:.2f}"}
    if after < before:
        closing = Text(
            "This is the step that makes gradients vanish. The gradient's length went from "
            "{before} to {after} (× {ratio}) in one step back: each factor $1 - h_t^2$ is below "
            "1, and repeated over many time steps such factors shrink it towards zero.",
            **lengths,
        )
    else:
        closing = Text(
            "Here the gradient's length grew from {before} to {after} (× {ratio}): $W_{{hh}}$ "
            "is large enough to outweigh the factors $1 - h_t^2$, which are all below 1. Repeated "
            "over many time steps, growth like this makes the gradient explode; where the "
            "factors win, the same step makes it vanish.",
            **lengths,
        )
    squares = _stack([rf"1 - {_fmt(v, 1)}^2" for v in h])
    steps = (
        Text(
            "The slope of tanh at each unit: {equation}",
            equation=rf"$$1 - h_t^2 = {squares} = "
            rf"{_column(slope, 2)}$$",
        ),
        Text(
            "Back through tanh, entry by entry: {equation}",
            equation=rf"$$(1 - h_t^2) \odot \frac{{\partial L}}{{\partial h_t}} = "
            rf"{_column(through, 3)}$$",
        ),
        Text(
            "Back through the recurrent weights, transposed: {equation}",
            equation=rf"$$W_{{hh}}^\top {_column(through, 3)} = "
            rf"{_products(_transpose(W), through, 1, 3)} = {_column(back, 4)}$$",
        ),
        closing,
    )
    task = Text(
        "Backpropagation through time, one step back in a tanh RNN with 2 units: "
        "{forward}. The gradient of the loss reaching $h_t$ and the numbers of that step are "
        "below. Compute {equation} and type its 2 entries, separated by a comma.",
        forward=r"$h_t = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b)$",
        equation=r"$\frac{\partial L}{\partial h_{t-1}} = W_{hh}^\top \left((1 - h_t^2) "
        r"\odot \frac{\partial L}{\partial h_t}\right)$",
    )
    shown = (_vector(GRAD, grad, 1), Shown("W_{hh}", W, 1), _vector("h_t", h, 1))
    labels = tuple(rf"$\partial L / \partial h_{{t-1}}[{k}]$" for k in (1, 2))
    return _numbers(task, shown, labels, back, decimals=4, solution=steps)


EXERCISES: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "parameter-count",
            N_("Count the parameters"),
            N_("How many weights and biases a two-layer stack holds, counted as PyTorch does."),
            ReadMore(
                N_("Deep Recurrent Neural Networks"), "chapter_recurrent-modern/deep-rnn.html"
            ),
            _parameter_count,
        ),
        Kind(
            "rnn-step",
            N_("One step of an RNN"),
            N_("The new hidden state of a 2-unit tanh RNN, from its weights and input."),
            ReadMore(N_("Recurrent Neural Networks"), "chapter_recurrent-neural-networks/rnn.html"),
            _rnn_step,
        ),
        Kind(
            "lstm-cell",
            N_("An LSTM's cell state"),
            N_("The new cell state from the gates: what is kept and what is written."),
            ReadMore(N_("Long Short-Term Memory (LSTM)"), "chapter_recurrent-modern/lstm.html"),
            _lstm_cell,
        ),
        Kind(
            "bptt-step",
            N_("One step of backpropagation through time"),
            N_("The gradient one time step earlier, and why it shrinks."),
            ReadMore(
                N_("Backpropagation Through Time"), "chapter_recurrent-neural-networks/bptt.html"
            ),
            _bptt_step,
        ),
    )
}


UNKNOWN = (
    N_("There is no exercise '{name}'. Did you mean '{hint}'?"),
    N_("There is no exercise '{name}'. The exercises: {known}."),
)


def make(name: str, seed: int) -> Exercise:
    """The exercise `name` with the numbers of `seed` (the same seed, the same numbers)."""
    kind = EXERCISES.get(name)
    if kind is None:
        known = ", ".join(EXERCISES)
        raise TextError(unknown_name(name, EXERCISES, *UNKNOWN, name=name, known=known))
    if not 0 <= seed <= MAX_SEED:
        raise TextError(Text("The seed is a whole number from 0 to {most}.", most=MAX_SEED))
    drawn = kind.draw(random.Random(f"{name}:{seed}"))  # a string seeds the same everywhere
    return Exercise(
        name=name,
        seed=seed,
        title=kind.title,
        summary=kind.summary,
        read_more=kind.read_more,
        **drawn,
    )


# --- checking an answer ----------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s,;，；、]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")


def _quoted(token: str) -> str:
    """What the student typed, as code: shown literally, never as markdown."""
    token = token.replace("`", "'")
    return f"`{token[:24]}{'…' if len(token) > 24 else ''}`"


def _tokens(exercise: Exercise, text: str) -> list[str]:
    text = text.strip().replace("−", "-").replace("－", "-")
    if text[:1] in "[(" and text[-1:] in "])":
        text = text[1:-1].strip()
    return [t for t in _SEPARATORS.split(text) if t]


def read_answer(exercise: Exercise, text: str) -> tuple[list[tuple[str, float]], Feedback | None]:
    """The numbers in the student's text (as typed, and their values), or the Feedback
    that says why the text is not an answer."""
    words = {"what": exercise.answer_words(), "example": exercise.example}
    if len(text) > MAX_ANSWER:
        return [], Feedback(
            None, (Text("That answer is too long: type {what}, e.g. {example}.", **words),)
        )
    tokens = _tokens(exercise, text)
    if not tokens:
        return [], Feedback(
            None, (Text("Type your answer first: {what}, e.g. {example}.", **words),)
        )
    numbers = []
    for token in tokens:
        if not _NUMBER.fullmatch(token) or not math.isfinite(float(token)):
            said = (
                Text(
                    "{text} is not a number: type {what}, e.g. {example}.",
                    text=_quoted(token),
                    **words,
                )
                if len(exercise.expected) == 1
                else Text(
                    "{text} is not a number: type {what}, separated by commas or spaces, e.g. "
                    "{example}.",
                    text=_quoted(token),
                    **words,
                )
            )
            return [], Feedback(None, (said,))
        numbers.append((token, float(token)))
    if len(numbers) != len(exercise.expected):
        if len(numbers) == 1:
            said = Text("Your answer is one number; type {what}, e.g. {example}.", **words)
        else:
            said = Text(
                "Your answer has {got} numbers; type {what}, e.g. {example}.",
                got=len(numbers),
                **words,
            )
        return [], Feedback(None, (said,))
    if exercise.tolerance == 0 and not numbers[0][1].is_integer():
        said = Text("A count is a whole number: {text} is not.", text=_quoted(numbers[0][0]))
        return [], Feedback(None, (said,))
    return numbers, None


def check(exercise: Exercise, text: str) -> Feedback:
    """Whether the student's text is the answer: right when every entry is within the
    tolerance; otherwise, for each entry that is off, what they typed and by how much
    (the expected value itself is left to the worked solution)."""
    numbers, refused = read_answer(exercise, text)
    if refused is not None:
        return refused
    tolerance = exercise.tolerance
    off = [abs(value - want) for (_, value), want in zip(numbers, exercise.expected, strict=True)]
    wrong = [i for i, d in enumerate(off) if d > tolerance + 1e-9]
    if not wrong:
        if tolerance == 0:
            return Feedback(True, (Text("Right: that is the exact count."),))
        return Feedback(
            True, (Text("Right: every number is within ± {tolerance}.", tolerance=tolerance),)
        )
    lines = []
    if len(exercise.expected) > 1:
        lines.append(
            Text(
                "Not yet: {wrong} of {count} numbers are off by more than ± {tolerance}.",
                wrong=len(wrong),
                count=len(exercise.expected),
                tolerance=tolerance,
            )
        )
    for i in wrong:
        parts = {"label": exercise.labels[i], "got": _quoted(numbers[i][0])}
        if tolerance == 0:
            said = Text(
                "{label}: you have {got}, off by {off}; it must be exact.",
                off=round(off[i]),
                **parts,
            )
        else:
            said = Text(
                "{label}: you have {got}, off by {off}; the tolerance is ± {tolerance}.",
                off=f"{off[i]:.3f}",
                tolerance=tolerance,
                **parts,
            )
        lines.append(said)
    return Feedback(False, tuple(lines))
