"""Lesson 7: depth needs a path for the gradient (residual connections; He et al. 2016)."""

from designer.i18n import N_, _
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

DEPTH = 8  # the texts below say so in words ("8 LSTM layers", "eight squashing layers")
TASK = {"name": "adding", "seq_len": 30}
TRAIN = {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 600, "clip_norm": 1.0}


def _stack(residual: bool) -> dict:
    """DEPTH LSTM layers of 32 units; with `residual`, every layer but the first adds
    its input to its output (the first changes the width, so it has nothing to add)."""
    layers = [
        {"type": "lstm", "hidden_size": 32, **({"residual": True} if residual and i else {})}
        for i in range(DEPTH)
    ]
    return {"task": TASK, "model": {"layers": layers}, "train": TRAIN}


PLAIN = LessonRun("A", N_("8 LSTM layers, plain"), _stack(residual=False))
RESIDUAL = LessonRun("B", N_("8 LSTM layers, residual"), _stack(residual=True))


def bottom_gradient(result: RunResult) -> float:
    """||dL/dh|| at the last step of the bottom layer, before any training."""
    profile = result.gradient_profile("first", layer=0)
    return profile[-1] if profile else float("nan")


def check(runs: dict[str, RunResult]) -> Verdict:
    plain, residual = runs["A"], runs["B"]
    g_plain, g_residual = bottom_gradient(plain), bottom_gradient(residual)
    passed = (
        residual.ratio_to_baseline() < 0.3
        and plain.ratio_to_baseline() > 0.7
        and g_residual > 100 * g_plain
    )
    text = _(
        "Before training, the gradient reaching the bottom layer is {plain_gradient} "
        "without residual connections and {residual_gradient} with them. After {steps} "
        "steps, the plain stack: {plain}; the residual stack: {residual}."
    ).format(
        plain_gradient=short(g_plain),
        residual_gradient=short(g_residual),
        steps=plain.steps,
        plain=loss_words(plain),
        residual=loss_words(residual),
    )
    return Verdict(
        passed,
        text,
        {
            "plain_val_mse": plain.val_metric,
            "residual_val_mse": residual.val_metric,
            "plain_bottom_grad": g_plain,
            "residual_bottom_grad": g_residual,
        },
    )


LESSON = Lesson(
    name="residual-depth",
    number=7,
    needs=(2,),
    title=N_("Depth needs a path for the gradient"),
    source=N_(
        "He, Zhang, Ren & Sun (2016), Deep residual learning; for recurrent stacks, "
        "Wu et al. (2016), Google's neural machine translation system"
    ),
    summary=N_(
        "Stack 8 LSTM layers and the gradient must cross all of them to reach "
        "the bottom; a residual connection gives it a way around each layer."
    ),
    prediction=Prediction(
        question=N_(
            "Two stacks of 8 LSTM layers on the adding problem. One adds each "
            "layer's input to its output (residual connections); the other does not. Which "
            "one learns in 600 steps?"
        ),
        choices=(N_("the plain stack"), N_("the residual stack"), N_("both"), N_("neither")),
        answer=1,
        why=N_(
            "Through depth the gradient is multiplied by one layer's Jacobian per layer, "
            "as through time it is multiplied by one per step: across eight squashing layers "
            "it shrinks to almost nothing before it reaches the layers that see the input. "
            "With out = layer(x) + x the Jacobian is (d layer/dx + I): the identity term "
            "carries the gradient down unchanged."
        ),
    ),
    runs=(PLAIN, RESIDUAL),
    steps=(
        Step(
            N_("The loss"),
            N_("The plain stack stays on the baseline; the residual one leaves it."),
            "curves",
        ),
        Step(
            N_("Gradient per layer"),
            N_(
                "||dL/dh_t|| of every layer, counted back from the last step. In the plain "
                "stack each layer down gets orders of magnitude less; with residual "
                "connections every layer gets a share."
            ),
            "gradients",
        ),
        Step(
            N_("The deep stack unrolled"),
            N_("8 layers by 30 steps, each node coloured by its gradient."),
            "graph",
            run="A",
        ),
        Step(N_("The numbers"), N_("Final validation error and the baseline."), "table"),
    ),
    check=check,
    try_next=N_(
        "Make the plain stack two layers deep: does it learn now? Depth is not what "
        "helps here: lesson 1's single LSTM already learns. Depth needs a path for the "
        "gradient before it can help."
    ),
    seeds=(0, 1, 2),
)
