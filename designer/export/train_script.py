"""Train adding problem: LSTM 6. From Deep RNN Designer.

Run it as a plain script, or on N processes with DistributedDataParallel (gloo on CPU,
nccl where CUDA is present; each process draws its own batches, only the first one
prints and saves):

    python train.py [--steps N] [--out checkpoint.pt]
    torchrun --nproc_per_node=2 train.py

It trains as the app does (the same initial weights, batches, optimizer, learning rates,
clipping and evaluation: alone, the same curve as the app's run) and writes
checkpoint.pt beside itself, which the app opens (Train, Runs kept: open a checkpoint
file).
"""

# This file is the template of the exported training script's training part: a real
# module that imports and runs as it is (python -m designer.export.train_script trains
# its small experiment). Its docstring is the script's, with the experiment's title in
# the first line. training_code copies the rest into the script: the block between the
# settings markers is replaced by the experiment's values, the stand-ins of the model
# and the task by the app's own code of them, and the functions are copied as they are
# (inspect.getsource), without the lines of a learning-rate schedule or a closed-form
# read-out the experiment does not use. Alone, it trains as the app does: the same
# curve as the app's run.

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from designer.document.spec import Experiment
from designer.tasks import get_task
from designer.training.model import build_model
from designer.training.schedule import lr_at, make_optimizer, take_step
from designer.training.trainer import fit_readout, readout_batches

# --- settings ---
NAME = "Adding problem: LSTM 6"
METRIC = "mse"
OPTIMIZER = "adam"
LR = 0.003
WEIGHT_DECAY = 0.0
MOMENTUM = 0.9  # of SGD with momentum (OPTIMIZER "momentum")
# the learning rate of each step (see lr_at): with the schedule "step", LR times
# LR_DECAY every LR_DECAY_EVERY steps; "cosine", from LR to 0 along half a cosine
LR_SCHEDULE = "constant"
LR_DECAY = 0.1
LR_DECAY_EVERY = 500
BATCH_SIZE = 8
STEPS = 12
CLIP_NORM = 0.5
SEED = 0
EVAL_EVERY = 5
# the read-out fitted by ridge regression with this penalty first (see fit_readout)
RIDGE_READOUT = None
# the experiment document, for the checkpoint
EXPERIMENT = {
    "task": {"name": "adding", "seq_len": 10},
    "model": {"layers": [{"type": "lstm", "hidden_size": 6}]},
    "train": {"steps": 12, "batch_size": 8, "eval_every": 5, "clip_norm": 0.5},
}
# --- end of settings ---


# --- stand-ins: in the script, the app's own code of the model and the task ---
TASK = get_task(Experiment.from_dict(EXPERIMENT).task)


def Model() -> nn.Module:
    """The experiment's model, as the app builds it from the global random state."""
    return build_model(Experiment.from_dict(EXPERIMENT), TASK, seed=torch.initial_seed())


# --- end of stand-ins ---


# --- the tasks' sentences ---
# The app shows the tasks' sentences in the reader's language (designer.i18n); the
# exported script, which needs no part of the app, keeps them in English.
def N_(message: str) -> str:
    """A sentence the app translates; in this script, the English itself."""
    return message


_ = N_


class Text(str):
    """A sentence with named parts, in English."""

    def __new__(cls, message: str, **parts: object) -> str:
        return super().__new__(cls, message.format(**parts))


class TextError(ValueError):
    """An error whose message is a sentence for a person."""

    def __init__(self, message: str):
        self.text = message
        super().__init__(message)


# --- end of the tasks' sentences ---


# --- training, as the app trains -----------------------------------------------------------
VAL_BATCH = 256  # the fixed validation batch
VAL_SEED_OFFSET = 10**12  # validation data never shares a seed with a training step
RANK_SEED_OFFSET = 1_000_000_007  # each process (rank) draws its own batches


@torch.no_grad()
def evaluate(model, val_x, val_y):
    """Loss and metric on the validation batch (dropout off)."""
    model.eval()
    pred = model(val_x)
    model.train()
    return float(TASK.loss(pred, val_y)), TASK.metric(pred, val_y)


def start_processes():
    """Under torchrun, each process is one rank of a DistributedDataParallel group:
    gloo on CPU, nccl where CUDA is present. Alone, rank 0 of 1. Returns (distributed,
    rank, world, device)."""
    distributed = "RANK" in os.environ
    cuda = torch.cuda.is_available()
    rank, world = 0, 1
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")
    return distributed, rank, world, device


def save_checkpoint(out, model, optimizer, history, clipped_steps, world):
    """A checkpoint the app opens (Runs kept: open a checkpoint file)."""
    done = history["step"][-1] if history["step"] else 0
    torch.save(
        {
            "format": 1,
            "experiment": EXPERIMENT,
            "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
            "history": history,
            "step": done,
            "run": {"name": NAME, "clipped_steps": clipped_steps},
            "optimizer": optimizer.state_dict(),
            "rng": torch.get_rng_state(),
        },
        out,
    )
    print(f"wrote {out} ({done} steps, {world} process{'es' if world > 1 else ''})")


def train(steps=STEPS, out="checkpoint.pt"):
    """Train for `steps` steps and write the checkpoint to `out`. Alone, this is the
    plain loop; under torchrun, one rank of DistributedDataParallel (start_processes)."""
    distributed, rank, world, device = start_processes()
    torch.manual_seed(SEED)
    model = Model().to(device)  # the same initial weights on every rank
    if RIDGE_READOUT is not None:  # the read-out fitted in closed form first, as the app does
        fit_readout(model, TASK, readout_batches(TASK, BATCH_SIZE, SEED, device), RIDGE_READOUT)
    net = model
    if distributed:  # gradients are averaged over the ranks at each backward pass
        net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, OPTIMIZER, LR, WEIGHT_DECAY, MOMENTUM)
    torch.manual_seed(SEED + rank)  # dropout masks
    val_x, val_y = (t.to(device) for t in TASK.batch(VAL_BATCH, VAL_SEED_OFFSET + SEED, "val"))

    history = {"step": [], "loss": [], "grad_norm": [], "clipped": [], "time": [], "evals": []}
    losses, clipped_steps, started = [], 0, time.perf_counter()
    for step in range(1, steps + 1):
        seed = SEED * 1_000_003 + step + rank * RANK_SEED_OFFSET
        batch = tuple(t.to(device) for t in TASK.batch(BATCH_SIZE, seed))
        lr = lr_at(step, LR, LR_SCHEDULE, STEPS, LR_DECAY, LR_DECAY_EVERY)  # the schedule's
        # the app's step; under DDP the gradients and the loss are averaged over the ranks
        loss_value, grad_norm, clipped = take_step(
            net, params, optimizer, TASK, batch, lr, CLIP_NORM
        )
        if not (math.isfinite(loss_value) and math.isfinite(grad_norm)):
            if rank == 0:
                print(f"training diverged at step {step}: lower the learning rate or clip")
            break
        clipped_steps += clipped  # True counts 1
        losses.append(loss_value)
        for key, value in zip(
            ("step", "loss", "grad_norm", "clipped", "time"),
            (step, loss_value, grad_norm, clipped, time.perf_counter() - started),
            strict=True,
        ):
            history[key].append(value)
        if rank == 0 and (step % EVAL_EVERY == 0 or step == steps):
            val_loss, val_metric = evaluate(model, val_x, val_y)
            history["evals"].append(
                {
                    "event": "eval",
                    "step": step,
                    "train_loss": sum(losses) / len(losses),
                    "val_loss": val_loss,
                    "val_metric": val_metric,
                    "clipped_steps": clipped_steps,
                    "time": history["time"][-1],
                }
            )
            losses = []
            print(
                f"step {step:>6}  train loss {history['evals'][-1]['train_loss']:.4g}  "
                f"validation loss {val_loss:.4g}  {METRIC} {val_metric:.4g}",
                flush=True,
            )

    if rank == 0:  # a checkpoint the app opens
        save_checkpoint(out, model, optimizer, history, clipped_steps, world)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", default=str(Path(__file__).with_name("checkpoint.pt")))
    args = parser.parse_args()
    train(args.steps, args.out)


if __name__ == "__main__":
    main()
