"""Lesson 1: why gates (Hochreiter & Schmidhuber 1997)."""

from designer.i18n import N_, _
from designer.lessons.base import (
    Lesson,
    Prediction,
    RunResult,
    Step,
    Verdict,
    ending,
)
from designer.lessons.shared import ADDING, ADDING_LSTM, ADDING_RNN, ADDING_TRAIN

# The adding problem (designer.lessons.shared): two of fifty numbers are marked; the
# answer is their sum, asked for at the last step. The first mark can be 49 steps back.
TASK, TRAIN, RNN, LSTM = ADDING, ADDING_TRAIN, ADDING_RNN, ADDING_LSTM


# What the check says, by (passed, the LSTM diverged, the RNN diverged): whole sentences.
SAYS = {
    (True, False, False): N_(
        "The LSTM learned to add: validation {lstm_metric} {lstm}, against {lstm_baseline} "
        "for the baseline. The tanh RNN did not: validation {rnn_metric} {rnn}, against "
        "{rnn_baseline} for the baseline, where always answering the mean ends."
    ),
    (True, False, True): N_(
        "The LSTM learned to add: validation {lstm_metric} {lstm}, against {lstm_baseline} "
        "for the baseline. The tanh RNN did not: diverged at step {rnn_step}, where always "
        "answering the mean ends."
    ),
    (True, True, False): N_(
        "The LSTM learned to add: diverged at step {lstm_step}. The tanh RNN did not: "
        "validation {rnn_metric} {rnn}, against {rnn_baseline} for the baseline, where "
        "always answering the mean ends."
    ),
    (True, True, True): N_(
        "The LSTM learned to add: diverged at step {lstm_step}. The tanh RNN did not: "
        "diverged at step {rnn_step}, where always answering the mean ends."
    ),
    (False, False, False): N_(
        "LSTM: validation {lstm_metric} {lstm}, against {lstm_baseline} for the baseline; "
        "tanh RNN: validation {rnn_metric} {rnn}, against {rnn_baseline} for the baseline."
    ),
    (False, False, True): N_(
        "LSTM: validation {lstm_metric} {lstm}, against {lstm_baseline} for the baseline; "
        "tanh RNN: diverged at step {rnn_step}."
    ),
    (False, True, False): N_(
        "LSTM: diverged at step {lstm_step}; tanh RNN: validation {rnn_metric} {rnn}, "
        "against {rnn_baseline} for the baseline."
    ),
    (False, True, True): N_(
        "LSTM: diverged at step {lstm_step}; tanh RNN: diverged at step {rnn_step}."
    ),
}


def check(runs: dict[str, RunResult]) -> Verdict:
    rnn, lstm = runs["A"], runs["B"]
    passed = lstm.ratio_to_baseline() < 0.1 and rnn.ratio_to_baseline() > 0.5
    said = SAYS[bool(passed), lstm.state == "diverged", rnn.state == "diverged"]
    text = _(said).format(**ending(lstm, "lstm"), **ending(rnn, "rnn"))
    numbers = {
        "rnn_val_mse": rnn.val_metric,
        "lstm_val_mse": lstm.val_metric,
        "baseline_mse": rnn.baseline_metric,
    }
    return Verdict(passed, text, numbers)


LESSON = Lesson(
    name="why-gates",
    number=1,
    title=N_("Why gates"),
    source=N_("Hochreiter & Schmidhuber (1997), Long short-term memory"),
    summary=N_(
        "A plain RNN cannot carry a number across fifty steps; an LSTM, with the same "
        "width, learns to."
    ),
    prediction=Prediction(
        question=N_(
            "Two networks of the same width see sequences of 50 numbers, two of them "
            "marked. At the last step each must give the sum of the two marked numbers. "
            "Which one will learn it in 1,500 steps?"
        ),
        choices=(N_("the tanh RNN"), N_("the LSTM"), N_("both"), N_("neither")),
        answer=1,
        why=N_(
            "The first marked number can be 49 steps back. The RNN's only memory is "
            "h_t = tanh(W_hh h_(t-1) + W_ih x_t): every step multiplies what it remembers by "
            "W_hh and squashes it, so both the number and the gradient that should teach the "
            "network to keep it fade. The LSTM's cell state is updated by addition, "
            "c_t = f_t * c_(t-1) + i_t * g_t, and a forget gate near 1 keeps it for as long as "
            "needed."
        ),
    ),
    runs=(RNN, LSTM),
    steps=(
        Step(
            N_("Watch the loss"),
            N_(
                "Both start at the baseline: always answering the mean sum gives a mean "
                "squared error of about 0.16. The dashed line marks it. The curve that leaves "
                "that line has found the two marked numbers; the one that stays on it has not."
            ),
            "curves",
        ),
        Step(
            N_("Where the gradient goes"),
            N_(
                "Each line is ||dL/dh_t||: how much the loss can still change through the "
                "hidden state at step t, counted back from the last step. The RNN's falls by "
                "orders of magnitude within a few steps: nothing that happened early can teach "
                "it. The LSTM's stays level."
            ),
            "gradients",
        ),
        Step(
            N_("Inside the LSTM"),
            N_(
                "The LSTM's cell state, unit by unit (rows) over the 50 steps of one sequence. "
                "Look for units that jump at a marked step and then hold their value to the "
                "end: that is the memory the plain RNN lacks."
            ),
            "states",
            run="B",
        ),
        Step(
            N_("What the answer reads"),
            N_(
                "Each input step coloured by how much it can move the answer, ||dy/dx_k||. "
                "The trained LSTM draws on the two marked steps (the stars) and hardly on the "
                "rest. Switch the run to A: the RNN's answer leans on the last few steps, "
                "whatever is marked."
            ),
            "inputs",
            run="B",
        ),
        Step(
            N_("The numbers"),
            N_("Final validation error and the baseline, side by side."),
            "table",
        ),
    ),
    check=check,
    try_next=N_(
        "Open the RNN in Design and make the sequences shorter (seq_len 10): at what "
        "length does the RNN start to learn? Or give it orthogonal initial weights."
    ),
)
