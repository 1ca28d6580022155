"""Lesson 9: the multi-layer network of the course, and what recurrence adds."""

from designer.i18n import N_, _
from designer.lessons.base import (
    Lesson,
    LessonRun,
    Prediction,
    RunResult,
    Step,
    Verdict,
    loss_words,
)
from designer.lessons.shared import ADDING, ADDING_LSTM, ADDING_TRAIN

# Lesson 1's adding problem and its LSTM (the same shared run).
TASK, TRAIN, LSTM = ADDING, ADDING_TRAIN, ADDING_LSTM

MLP = LessonRun(
    "A",
    N_("2 dense layers of 64, sigmoid (no recurrence)"),
    {
        "task": TASK,
        "model": {
            "layers": [
                {"type": "linear", "out_features": 64, "activation": "sigmoid"},
                {"type": "linear", "out_features": 64, "activation": "sigmoid"},
            ]
        },
        "train": TRAIN,
    },
)


def check(runs: dict[str, RunResult]) -> Verdict:
    mlp, lstm = runs["A"], runs["B"]
    passed = mlp.ratio_to_baseline() > 0.8 and lstm.ratio_to_baseline() < 0.1
    text = _(
        "The multi-layer network: {mlp}; it sees only the last step. The LSTM: {lstm}."
    ).format(mlp=loss_words(mlp), lstm=loss_words(lstm))
    return Verdict(passed, text, {"mlp_val_mse": mlp.val_metric, "lstm_val_mse": lstm.val_metric})


LESSON = Lesson(
    name="feedforward-vs-recurrent",
    number=9,
    needs=(1,),
    title=N_("The multi-layer network, and what recurrence adds"),
    source=N_(
        "Rumelhart, Hinton & Williams (1986), Learning representations by back-propagating errors"
    ),
    summary=N_(
        "A multi-layer network of sigmoid units, trained by backpropagation, maps one "
        "input to one output. Applied to a sequence, it sees each step alone."
    ),
    prediction=Prediction(
        question=N_(
            "A two-layer network of sigmoid units (the classic multi-layer network) "
            "against a one-layer LSTM, on the adding problem. Which learns it?"
        ),
        choices=(
            N_("the multi-layer network: it has more layers"),
            N_("the LSTM"),
            N_("both"),
        ),
        answer=1,
        why=N_(
            "The dense layers are applied at every step with the same weights, but nothing "
            "passes from one step to the next: the answer, given at the last step, is "
            "computed from the last input alone. The sum of two numbers seen earlier is not "
            "in it, so the best it can do is the mean: the baseline. Recurrence is what lets "
            "a network carry information along the sequence."
        ),
    ),
    runs=(MLP, LSTM),
    steps=(
        Step(
            N_("Where the network looks"),
            N_(
                "The multi-layer network unrolled: every step's column is computed on its "
                "own, and only the last one reaches the loss."
            ),
            "graph",
            run="A",
        ),
        Step(
            N_("The loss"),
            N_(
                "The multi-layer network sits on the baseline from the first steps on; the "
                "LSTM leaves it."
            ),
            "curves",
        ),
        Step(N_("The numbers"), N_("Final validation error and the baseline."), "table"),
    ),
    check=check,
    try_next=N_(
        "Give the multi-layer network 4 layers, or 256 units: nothing changes, because "
        "what it lacks is not capacity but a path from earlier steps. Then add one RNN "
        "layer below the dense ones."
    ),
)
