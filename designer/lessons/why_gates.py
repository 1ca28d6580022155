"""Lesson 1: why gates (Hochreiter & Schmidhuber 1997)."""

from designer.lessons.base import (
    Lesson,
    LessonRun,
    Prediction,
    RunResult,
    Step,
    Verdict,
    loss_words,
)

# The adding problem: two of fifty numbers are marked; the answer is their sum, asked
# for at the last step. The first mark can be 49 steps back.
TASK = {"name": "adding", "seq_len": 50}
TRAIN = {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1500, "clip_norm": 1.0}
RNN = LessonRun(
    "A",
    "tanh RNN, 64 units",
    {"task": TASK, "model": {"layers": [{"type": "rnn", "hidden_size": 64}]}, "train": TRAIN},
)
LSTM = LessonRun(
    "B",
    "LSTM, 64 units",
    {"task": TASK, "model": {"layers": [{"type": "lstm", "hidden_size": 64}]}, "train": TRAIN},
)


def check(runs: dict[str, RunResult]) -> Verdict:
    rnn, lstm = runs["A"], runs["B"]
    passed = lstm.ratio_to_baseline() < 0.1 and rnn.ratio_to_baseline() > 0.5
    if passed:
        text = (
            f"The LSTM learned to add: {loss_words(lstm)}. The tanh RNN did not: "
            f"{loss_words(rnn)}, where always answering the mean ends."
        )
    else:
        text = f"LSTM: {loss_words(lstm)}; tanh RNN: {loss_words(rnn)}."
    numbers = {
        "rnn_val_mse": rnn.val_metric,
        "lstm_val_mse": lstm.val_metric,
        "baseline_mse": rnn.baseline_metric,
    }
    return Verdict(passed, text, numbers)


LESSON = Lesson(
    name="why-gates",
    number=1,
    title="Why gates",
    source="Hochreiter & Schmidhuber (1997), Long short-term memory",
    summary="A plain RNN cannot carry a number across fifty steps; an LSTM, with the same "
    "width, learns to.",
    prediction=Prediction(
        question="Two networks of the same width see sequences of 50 numbers, two of them "
        "marked. At the last step each must give the sum of the two marked numbers. "
        "Which one will learn it in 1,500 steps?",
        choices=("the tanh RNN", "the LSTM", "both", "neither"),
        answer=1,
        why="The first marked number can be 49 steps back. The RNN's only memory is "
        "h_t = tanh(W_hh h_(t-1) + W_ih x_t): every step multiplies what it remembers by "
        "W_hh and squashes it, so both the number and the gradient that should teach the "
        "network to keep it fade. The LSTM's cell state is updated by addition, "
        "c_t = f_t * c_(t-1) + i_t * g_t, and a forget gate near 1 keeps it for as long as "
        "needed.",
    ),
    runs=(RNN, LSTM),
    steps=(
        Step(
            "Watch the loss",
            "Both start at the baseline: always answering the mean sum gives a mean squared "
            "error of about 0.16. The dashed line marks it. The curve that leaves that line "
            "has found the two marked numbers; the one that stays on it has not.",
            "curves",
        ),
        Step(
            "Where the gradient goes",
            "Each line is ||dL/dh_t||: how much the loss can still change through the hidden "
            "state at step t, counted back from the last step. The RNN's falls by orders of "
            "magnitude within a few steps: nothing that happened early can teach it. The "
            "LSTM's stays level.",
            "gradients",
        ),
        Step(
            "Inside the LSTM",
            "The LSTM's cell state, unit by unit (rows) over the 50 steps of one sequence. "
            "Look for units that jump at a marked step and then hold their value to the "
            "end: that is the memory the plain RNN lacks.",
            "states",
            run="B",
        ),
        Step(
            "The numbers",
            "Final validation error and the baseline, side by side.",
            "table",
        ),
    ),
    check=check,
    try_next="Open the RNN in Design and make the sequences shorter (seq_len 10): at what "
    "length does the RNN start to learn? Or give it orthogonal initial weights.",
)
