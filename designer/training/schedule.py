"""How a step updates the weights: the optimizer, the learning rate at a step under an
experiment's schedule, and the step itself (take_step: forward, loss, backward, the
gradient's norm, clipping, the update). Plain functions that the trainer uses and the
exported training script carries as they are (codegen copies them with
inspect.getsource), so the two make the same optimizer, follow the same schedule and
take the same steps, bit for bit."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
import torch.nn as nn

if TYPE_CHECKING:
    from designer.tasks import Task


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


def take_step(
    model: nn.Module,
    params: list[nn.Parameter],
    optimizer: torch.optim.Optimizer,
    task: Task,
    batch: tuple[torch.Tensor, torch.Tensor],
    lr: float,
    clip_norm: float | None,
) -> tuple[float, float, bool]:
    """One step of training on `batch`: forward, the task's loss, backward, the norm of
    the gradient of `params`, clipping it to `clip_norm` (None: never), the learning rate
    `lr`, the optimizer's update. Returns (loss, gradient norm before clipping, clipped).

    Under DistributedDataParallel (torchrun) the gradients are averaged over the
    processes in backward, and the loss returned is the mean of theirs. When the loss
    or the norm is not a finite number, the weights are left as they were: the caller
    stops the run (the trainer raises TrainingDiverged)."""
    x, y = batch
    loss = task.loss(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    mean_loss = loss.detach()
    if dist.is_available() and dist.is_initialized():  # the loss over all processes' batches
        dist.all_reduce(mean_loss)
        mean_loss /= dist.get_world_size()
    grads = [p.grad for p in params if p.grad is not None]
    total_norm = nn.utils.get_total_norm(grads) if grads else torch.tensor(0.0)
    loss_value, grad_norm = float(mean_loss), float(total_norm)
    if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
        return loss_value, grad_norm, False
    clipped = clip_norm is not None and grad_norm > clip_norm
    if clipped:
        nn.utils.clip_grads_with_norm_(params, clip_norm, total_norm)
    for group in optimizer.param_groups:  # the learning-rate schedule, set before each update
        group["lr"] = lr
    optimizer.step()
    return loss_value, grad_norm, clipped
