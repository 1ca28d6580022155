"""The learning rate at a step, under an experiment's schedule: one plain function
that the trainer uses and the exported training script carries as it is (codegen
copies it with inspect.getsource), so the two follow the same schedule bit for bit."""

from __future__ import annotations

import math


def lr_at(step: int, lr: float, schedule: str, steps: int, decay: float, decay_every: int) -> float:
    """The learning rate of step `step` (1-based). It depends on the step number alone
    (no state kept between steps), so a run continued from a checkpoint goes on where
    it was. "constant": `lr`; "step": `lr` times `decay` every `decay_every` steps;
    "cosine": from `lr` down to 0 along half a cosine over `steps` steps (a run
    continued past them stays at the end, 0)."""
    if schedule == "step":
        return lr * decay ** ((step - 1) // decay_every)
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * min(step - 1, steps) / steps))
    return lr
