"""Lesson 4: identity-initialised ReLU RNN (Le, Jaitly & Hinton 2015)."""

from designer.i18n import N_, _
from designer.lessons.base import (
    Lesson,
    LessonRun,
    Prediction,
    RunResult,
    Step,
    Verdict,
    ending,
)

TASK = {"name": "adding", "seq_len": 50}
TRAIN = {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "steps": 3000, "clip_norm": 1.0}
TANH = LessonRun(
    "A",
    N_("tanh RNN, default init"),
    {"task": TASK, "model": {"layers": [{"type": "rnn", "hidden_size": 64}]}, "train": TRAIN},
)
IRNN = LessonRun(
    "B",
    N_("ReLU RNN, identity init (IRNN)"),
    {
        "task": TASK,
        "model": {
            "layers": [
                {"type": "rnn", "hidden_size": 64, "nonlinearity": "relu", "init": "identity"}
            ]
        },
        "train": TRAIN,
    },
)

# What the check says, by (the IRNN diverged, the tanh RNN diverged).
SAYS = {
    (False, False): N_(
        "The identity-initialised ReLU RNN: validation {irnn_metric} {irnn}, against "
        "{irnn_baseline} for the baseline. The tanh RNN: validation {tanh_metric} {tanh}, "
        "against {tanh_baseline} for the baseline."
    ),
    (False, True): N_(
        "The identity-initialised ReLU RNN: validation {irnn_metric} {irnn}, against "
        "{irnn_baseline} for the baseline. The tanh RNN: diverged at step {tanh_step}."
    ),
    (True, False): N_(
        "The identity-initialised ReLU RNN: diverged at step {irnn_step}. The tanh RNN: "
        "validation {tanh_metric} {tanh}, against {tanh_baseline} for the baseline."
    ),
    (True, True): N_(
        "The identity-initialised ReLU RNN: diverged at step {irnn_step}. The tanh RNN: "
        "diverged at step {tanh_step}."
    ),
}


def check(runs: dict[str, RunResult]) -> Verdict:
    tanh, irnn = runs["A"], runs["B"]
    # the IRNN learns; the tanh RNN stays near the baseline (on some seeds it learns a
    # little: far less than the IRNN)
    ratio = irnn.ratio_to_baseline()
    passed = ratio < 0.3 and tanh.ratio_to_baseline() > max(0.5, 5 * ratio)
    said = SAYS[irnn.state == "diverged", tanh.state == "diverged"]
    text = _(said).format(**ending(irnn, "irnn"), **ending(tanh, "tanh"))
    return Verdict(
        passed,
        text,
        {"irnn_val_mse": irnn.val_metric, "tanh_val_mse": tanh.val_metric},
    )


LESSON = Lesson(
    name="irnn",
    number=4,
    needs=(1, 2),
    title=N_("A plain RNN that remembers: identity initialisation"),
    source=N_(
        "Le, Jaitly & Hinton (2015), A simple way to initialize recurrent networks of "
        "rectified linear units"
    ),
    summary=N_(
        "Start W_hh at the identity and use ReLU: at the start the state is copied "
        "unchanged from step to step, and so is the gradient."
    ),
    prediction=Prediction(
        question=N_(
            "Two plain RNNs with no gates at all. One is tanh with the usual random "
            "weights; the other is ReLU with W_hh starting as the identity matrix. Which one "
            "learns the adding problem in 3,000 steps?"
        ),
        choices=(N_("the tanh RNN"), N_("the IRNN"), N_("neither: only gates can")),
        answer=1,
        why=N_(
            "With W_hh = I, b = 0 and ReLU, h_t = relu(h_(t-1) + W_ih x_t): a positive "
            "state passes through unchanged, and the Jacobian dh_t/dh_(t-1) is the identity "
            "on the active units: the gradient neither shrinks nor grows through time. Tanh "
            "squashes at every step, and its random W_hh shrinks what it carries (on some "
            "seeds it learns a little, far less than the IRNN). The IRNN is fragile: at "
            "lr 3e-3 it fails, which is why this result is checked on three seeds."
        ),
    ),
    runs=(TANH, IRNN),
    steps=(
        Step(
            N_("The loss"),
            N_(
                "The tanh RNN stays on the baseline. The IRNN sits there too for a while, "
                "then finds the marked numbers."
            ),
            "curves",
        ),
        Step(
            N_("The gradient through time"),
            N_(
                "||dL/dh_t|| counted back from the last step. The IRNN's is nearly level: "
                "the identity passes it back intact."
            ),
            "gradients",
        ),
        Step(N_("The numbers"), N_("Final validation error and the baseline."), "table"),
    ),
    check=check,
    try_next=N_(
        "Open the IRNN in Design and raise the learning rate to 0.003: it fails. "
        "Then lower its recurrent gain to 0.9, so that the state fades a little each step."
    ),
    seeds=(0, 1, 2),
)
