"""Lesson 5: the echo state network (Jaeger 2001)."""

import math

from designer.lessons.base import (
    Lesson,
    LessonRun,
    Prediction,
    RunResult,
    Step,
    Verdict,
    loss_words,
    short,
)

TASK = {"name": "sine", "seq_len": 100}
RESERVOIR = {
    "type": "rnn",
    "hidden_size": 200,
    "freeze": True,
    "spectral_radius": 0.9,
    "input_scaling": 1.0,
}
TRAIN = {
    "optimizer": "adam",
    "lr": 0.003,
    "batch_size": 64,
    "steps": 500,
    "clip_norm": 1.0,
    "eval_every": 20,
}
GRADIENT = LessonRun(
    "A",
    "frozen reservoir, read-out trained by gradient",
    {"task": TASK, "model": {"layers": [RESERVOIR]}, "train": TRAIN},
)
RIDGE = LessonRun(
    "B",
    "the same reservoir, read-out fitted in closed form",
    {"task": TASK, "model": {"layers": [RESERVOIR]}, "train": {**TRAIN, "ridge_readout": 1e-4}},
)


def first_eval(result: RunResult) -> tuple[int, float]:
    """The step of the run's first evaluation, and its validation metric."""
    return (
        (result.evals[0]["step"], result.evals[0]["val_metric"]) if result.evals else (0, math.inf)
    )


def check(runs: dict[str, RunResult]) -> Verdict:
    gradient, ridge = runs["A"], runs["B"]
    at, early = first_eval(ridge)
    passed = (
        gradient.ratio_to_baseline() < 0.3
        and ridge.ratio_to_baseline() < 0.3
        and early < 0.3 * ridge.baseline_metric
    )
    text = (
        f"Only the read-out learned, and it was enough. Trained by gradient: "
        f"{loss_words(gradient)}. Fitted in closed form: {loss_words(ridge)}, and "
        f"already {short(early)} at step {at}, its first evaluation."
    )
    return Verdict(
        passed,
        text,
        {
            "gradient_val_mse": gradient.val_metric,
            "ridge_val_mse": ridge.val_metric,
            "ridge_first_eval_mse": early,
            "persistence_mse": gradient.baseline_metric,
        },
    )


LESSON = Lesson(
    name="echo-state",
    number=5,
    title="Echo state network: train only the read-out",
    source="Jaeger (2001), The echo state approach to analysing and training recurrent "
    "neural networks",
    summary="A large random recurrent layer that is never trained, scaled to the edge of "
    "stability, holds an echo of the recent input; a linear read-out learns the rest.",
    prediction=Prediction(
        question="A layer of 200 tanh units with random weights that are NEVER trained "
        "(frozen), and a linear read-out on top, forecasting a noisy sine wave. Can it "
        "beat 'tomorrow equals today'?",
        choices=("no: an untrained layer is noise", "yes, clearly", "only just"),
        answer=1,
        why="With its recurrent weights scaled to a spectral radius below 1, the random "
        "layer's state is a fading echo of the recent inputs: many different nonlinear "
        "mixes of them. Forecasting needs only a weighted sum of those mixes, which a "
        "linear read-out can learn, by gradient or in one step by ridge regression, "
        "W = (HᵀH + λI)⁻¹ HᵀY.",
    ),
    runs=(GRADIENT, RIDGE),
    steps=(
        Step(
            "The loss",
            "Both runs train only the read-out. The closed-form fit starts where gradient "
            "descent ends up; the dashed line is persistence (tomorrow = today).",
            "curves",
        ),
        Step(
            "The echoes",
            "The reservoir's 200 states over a sequence: each unit a different, fading "
            "echo of the input wave.",
            "states",
            run="B",
        ),
        Step("The numbers", "Final validation error and persistence's.", "table"),
    ),
    check=check,
    try_next="In Design, set the reservoir's spectral radius to 1.5: the echoes no longer "
    "fade, the state turns chaotic and the fit gets worse. Then try 0.5.",
)
