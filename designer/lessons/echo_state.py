"""Lesson 5: the echo state network (Jaeger 2001)."""

import math

from designer.i18n import N_, _
from designer.lessons.base import (
    Lesson,
    LessonRun,
    Prediction,
    RunResult,
    Step,
    Verdict,
    ending,
    number,
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
    N_("frozen reservoir, read-out trained by gradient"),
    {"task": TASK, "model": {"layers": [RESERVOIR]}, "train": TRAIN},
)
RIDGE = LessonRun(
    "B",
    N_("the same reservoir, read-out fitted in closed form"),
    {"task": TASK, "model": {"layers": [RESERVOIR]}, "train": {**TRAIN, "ridge_readout": 1e-4}},
)


def first_eval(result: RunResult) -> tuple[int, float]:
    """The step of the run's first evaluation, and its validation metric."""
    return (
        (result.evals[0]["step"], result.evals[0]["val_metric"]) if result.evals else (0, math.inf)
    )


# What the check says, by (the gradient-trained run diverged, the fitted run diverged).
SAYS = {
    (False, False): N_(
        "Only the read-out learned, and it was enough. Trained by gradient: validation "
        "{gradient_metric} {gradient}, against {gradient_baseline} for the baseline. Fitted "
        "in closed form: validation {ridge_metric} {ridge}, against {ridge_baseline} for the "
        "baseline, and already {early} at step {at}, its first evaluation."
    ),
    (True, False): N_(
        "Only the read-out learned, and it was enough. Trained by gradient: diverged at step "
        "{gradient_step}. Fitted in closed form: validation {ridge_metric} {ridge}, against "
        "{ridge_baseline} for the baseline, and already {early} at step {at}, its first "
        "evaluation."
    ),
    (False, True): N_(
        "Only the read-out learned, and it was enough. Trained by gradient: validation "
        "{gradient_metric} {gradient}, against {gradient_baseline} for the baseline. Fitted "
        "in closed form: diverged at step {ridge_step}, and already {early} at step {at}, its "
        "first evaluation."
    ),
    (True, True): N_(
        "Only the read-out learned, and it was enough. Trained by gradient: diverged at step "
        "{gradient_step}. Fitted in closed form: diverged at step {ridge_step}, and already "
        "{early} at step {at}, its first evaluation."
    ),
}


def check(runs: dict[str, RunResult]) -> Verdict:
    gradient, ridge = runs["A"], runs["B"]
    at, early = first_eval(ridge)
    passed = (
        gradient.ratio_to_baseline() < 0.3
        and ridge.ratio_to_baseline() < 0.3
        and early < 0.3 * ridge.baseline_metric
    )
    said = SAYS[gradient.state == "diverged", ridge.state == "diverged"]
    text = _(said).format(
        **ending(gradient, "gradient"), **ending(ridge, "ridge"), early=number(early), at=at
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
    needs=(2,),
    title=N_("Echo state network: train only the read-out"),
    source=N_(
        "Jaeger (2001), The echo state approach to analysing and training recurrent neural networks"
    ),
    summary=N_(
        "A large random recurrent layer that is never trained, scaled to the edge of "
        "stability, holds an echo of the recent input; a linear read-out learns the rest."
    ),
    prediction=Prediction(
        question=N_(
            "A layer of 200 tanh units with random weights that are NEVER trained "
            "(frozen), and a linear read-out on top, forecasting a noisy sine wave. Can it "
            "beat 'tomorrow equals today'?"
        ),
        choices=(N_("no: an untrained layer is noise"), N_("yes, clearly"), N_("only just")),
        answer=1,
        why=N_(
            "With its recurrent weights scaled to a spectral radius below 1, the random "
            "layer's state is a fading echo of the recent inputs: many different nonlinear "
            "mixes of them. Forecasting needs only a weighted sum of those mixes, which a "
            "linear read-out can learn, by gradient or in one step by ridge regression, "
            "W = (HᵀH + λI)⁻¹ HᵀY."
        ),
    ),
    runs=(GRADIENT, RIDGE),
    steps=(
        Step(
            N_("The loss"),
            N_(
                "Both runs train only the read-out. The closed-form fit starts where gradient "
                "descent ends up; the dashed line is persistence (tomorrow = today)."
            ),
            "curves",
        ),
        Step(
            N_("The echoes"),
            N_(
                "The reservoir's 200 states over a sequence: each unit a different, fading "
                "echo of the input wave."
            ),
            "states",
            run="B",
        ),
        Step(N_("The numbers"), N_("Final validation error and persistence's."), "table"),
    ),
    check=check,
    try_next=N_(
        "In Design, set the reservoir's spectral radius to 1.5: the echoes no longer "
        "fade, the state turns chaotic and the fit gets worse. Then try 0.5."
    ),
)
