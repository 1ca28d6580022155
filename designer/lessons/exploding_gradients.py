"""Lesson 3: exploding gradients and clipping (Pascanu, Mikolov & Bengio 2013)."""

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

TASK = {"name": "sine", "seq_len": 50}
MODEL = {"layers": [{"type": "gru", "hidden_size": 64}]}
TRAIN = {"optimizer": "momentum", "lr": 1.0, "batch_size": 64, "steps": 400}
UNCLIPPED = LessonRun(
    "A",
    N_("GRU, no clipping"),
    {"task": TASK, "model": MODEL, "train": {**TRAIN, "clip_norm": None}},
)
CLIPPED = LessonRun(
    "B",
    N_("GRU, gradient clipped at norm 1"),
    {"task": TASK, "model": MODEL, "train": {**TRAIN, "clip_norm": 1.0}},
)

# What the check says, by (the unclipped run diverged, the clipped run diverged).
SAYS = {
    (True, False): N_(
        "Without clipping: diverged at step {free_step}, after the gradient norm reached "
        "{peak}. Clipped at norm 1, the same run: validation {clipped_metric} {clipped}, "
        "against {clipped_baseline} for the baseline."
    ),
    (False, False): N_(
        "Without clipping: validation {free_metric} {free}, against {free_baseline} for the "
        "baseline, after the gradient norm reached {peak}. Clipped at norm 1, the same run: "
        "validation {clipped_metric} {clipped}, against {clipped_baseline} for the baseline."
    ),
    (True, True): N_(
        "Without clipping: diverged at step {free_step}, after the gradient norm reached "
        "{peak}. Clipped at norm 1, the same run: diverged at step {clipped_step}."
    ),
    (False, True): N_(
        "Without clipping: validation {free_metric} {free}, against {free_baseline} for the "
        "baseline, after the gradient norm reached {peak}. Clipped at norm 1, the same run: "
        "diverged at step {clipped_step}."
    ),
}


def check(runs: dict[str, RunResult]) -> Verdict:
    free, clipped = runs["A"], runs["B"]
    blew_up = free.state == "diverged" or free.ratio_to_baseline() > 10
    passed = blew_up and clipped.state == "finished" and clipped.ratio_to_baseline() < 0.3
    peak = max((g for g in free.grad_norms if g == g and g != float("inf")), default=0.0)
    said = SAYS[free.state == "diverged", clipped.state == "diverged"]
    text = _(said).format(**ending(free, "free"), **ending(clipped, "clipped"), peak=number(peak))
    return Verdict(
        passed,
        text,
        {
            "unclipped_diverged_step": free.steps + 1 if free.state == "diverged" else -1,
            "unclipped_peak_grad_norm": peak,
            "clipped_val_mse": clipped.val_metric,
            "baseline_mse": clipped.baseline_metric,
        },
    )


LESSON = Lesson(
    name="exploding-gradients",
    number=3,
    needs=(2,),
    title=N_("Exploding gradients and clipping"),
    source=N_(
        "Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent neural networks"
    ),
    summary=N_(
        "With a large learning rate, one steep step throws a recurrent network off a "
        "cliff in its loss surface; rescaling the gradient's norm keeps the step bounded."
    ),
    prediction=Prediction(
        question=N_(
            "The same GRU, the same data and the same large learning rate (SGD with "
            "momentum, lr 1.0). One run clips the gradient to norm 1, the other does not. "
            "What happens to the unclipped run?"
        ),
        choices=(
            N_("it learns faster"),
            N_("it learns the same"),
            N_("it blows up: the loss becomes not-a-number"),
        ),
        answer=2,
        why=N_(
            "A recurrent network's loss surface has cliffs: where the product of Jacobians "
            "through time grows, the gradient is huge. One step of lr × gradient there "
            "jumps far away, into a region where the gradient is larger still. Clipping "
            "rescales any gradient longer than the threshold to that length: the direction "
            "is kept, the step is bounded."
        ),
    ),
    runs=(UNCLIPPED, CLIPPED),
    steps=(
        Step(
            N_("The gradient norm"),
            N_(
                "The gradient's norm at every step (log scale). Watch the unclipped run: the "
                "norm spikes by orders of magnitude in a few steps before the loss is lost. "
                "The clipped run's gradient is as large at times, but each step it takes is "
                "not."
            ),
            "curves",
        ),
        Step(
            N_("The numbers"),
            N_(
                "How each run ended. The page of a diverged run says at which step and gives "
                "the last finite gradient norm."
            ),
            "table",
        ),
    ),
    check=check,
    may_diverge=("A",),
    try_next=N_(
        "Open the unclipped run in Design and lower its learning rate by ten: does it "
        "still blow up? Or keep lr 1.0, clip at 1.0 and set the recurrent gain to 3."
    ),
)
