"""How a step updates the weights: the optimizer, and the learning rate at a step under
an experiment's schedule. Plain functions that the trainer uses and the exported
training script carries as they are (codegen copies them with inspect.getsource), so
the two make the same optimizer and follow the same schedule, bit for bit."""

from __future__ import annotations

import math

import torch


def make_optimizer(
    params: list[torch.nn.Parameter], name: str, lr: float, weight_decay: float, momentum: float
) -> torch.optim.Optimizer:
    """The optimizer `name` over `params` ("momentum": SGD with `momentum`)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)


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
