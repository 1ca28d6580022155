"""Training: a Trainer with a step API, and the record of a run (weights, history,
probes) that the app shows and a checkpoint stores.

A step is: draw the step's batch (deterministic from the seed and the step number),
forward, loss, backward, measure the gradient norm, clip, update. The same seed on
the same CPU gives the same loss curve, bit for bit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn as nn

from designer import checkpoints
from designer.checkpoints import Checkpoint, CheckpointError
from designer.model import build_model
from designer.probes import ProbeResult, ProbeSummary, probe
from designer.spec import Experiment, TrainSpec
from designer.tasks import Task, get_task

VAL_BATCH = 256
VIEW_SAMPLES = 8  # validation samples the Train page shows the model on
PROBE_HISTORY_ELEMENTS = 8_000_000  # half-precision values kept over a run (16 MB)
PROBE_BUDGET = 0.02  # automatic probing spends at most this share of the training time
VAL_SEED_OFFSET = 10**12  # validation data never shares a seed with a training step


class TrainingDiverged(RuntimeError):
    """The loss or the gradient stopped being a finite number."""

    def __init__(
        self,
        step: int,
        loss: float,
        grad_norm: float | None,
        clip_norm: float | None,
        bad_grad_norm: float | None = None,
    ):
        """`grad_norm`: the last finite gradient norm; `bad_grad_norm`: the one that
        was not finite, when the gradient (not the loss) blew up."""
        self.step = step
        self.loss = loss
        self.grad_norm = grad_norm
        what = "the loss" if not math.isfinite(loss) else "the gradient norm"
        value = loss if what == "the loss" else bad_grad_norm
        last = f"{grad_norm:.3g}" if grad_norm is not None else "not measured yet"
        advice = "lower the learning rate"
        advice += (
            " or turn on gradient clipping (clip_norm 1.0)"
            if clip_norm is None
            else (f" or clip harder (clip_norm is {clip_norm:g})")
        )
        super().__init__(
            f"training diverged at step {step}: {what} became {value}"
            f" (last finite gradient norm {last}); try to {advice}"
        )


def pick_device(name: str = "cpu") -> torch.device:
    """'cuda' uses the GPU when there is one (CPU otherwise); so does 'auto'."""
    if name in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def make_optimizer(params: list[nn.Parameter], spec: TrainSpec) -> torch.optim.Optimizer:
    lr, wd = spec.lr, spec.weight_decay
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if spec.optimizer == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if spec.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)


@dataclass
class History:
    """Everything recorded while training, as columns, safe to read from another thread."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    time: list[float] = field(default_factory=list)  # seconds of training so far
    evals: list[dict[str, float]] = field(default_factory=list)
    probes: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_step(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.step.append(record["step"])
            self.loss.append(record["loss"])
            self.grad_norm.append(record["grad_norm"])
            self.clipped.append(record["clipped"])
            self.time.append(record["time"])

    def add_eval(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.evals.append(record)

    def add_probe(self, summary: ProbeSummary) -> None:
        """Keep a probe; past the memory budget, drop every other older probe (the
        first and the newest stay), so a long run keeps an even spread over time."""
        with self.lock:
            self.probes.append(summary)
            while (
                len(self.probes) > 3
                and sum(p.elements for p in self.probes) > PROBE_HISTORY_ELEMENTS
            ):
                self.probes[1:-1] = self.probes[2:-1:2]

    def snapshot(self) -> History:
        """A consistent copy for drawing while training goes on."""
        with self.lock:
            return History(
                list(self.step),
                list(self.loss),
                list(self.grad_norm),
                list(self.clipped),
                list(self.time),
                list(self.evals),
                list(self.probes),
            )

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "step": list(self.step),
                "loss": list(self.loss),
                "grad_norm": list(self.grad_norm),
                "clipped": list(self.clipped),
                "time": list(self.time),
                "evals": list(self.evals),
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        keys = ("step", "loss", "grad_norm", "clipped", "time", "evals")
        return cls(*(list(data.get(k, [])) for k in keys))


class RunRecord:
    """What a run has made so far: its model's weights, its history, its latest probe
    and its counters. A Trainer makes it; the app's pages show it (a run training in
    another process is mirrored into one); a checkpoint stores it."""

    def __init__(self, exp: Experiment, task: Task | None = None, model: nn.Module | None = None):
        self.exp = exp
        self.spec = exp.train
        self.task = task if task is not None else get_task(exp.task)
        self.model = model if model is not None else build_model(exp, self.task)
        self.history = History()
        self.last_probe: ProbeResult | None = None
        self.step_count = 0
        self.clipped_steps = 0
        self.train_time = 0.0
        self.probe_time = 0.0
        # What continuing the run needs: the optimizer's and random state, from a
        # checkpoint or as a mirrored run ended (designer.runner). A Trainer has its own.
        self.resume_state: dict[str, Any] | None = None
        self._view: tuple[torch.Tensor, torch.Tensor] | None = None

    def view_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first VIEW_SAMPLES of the validation batch: what the Train page shows the
        model doing."""
        if self._view is None:
            x, y = self.task.batch(VAL_BATCH, VAL_SEED_OFFSET + self.spec.seed, split="val")
            self._view = x[:VIEW_SAMPLES], y[:VIEW_SAMPLES]
        return self._view

    # --- checkpoints ------------------------------------------------------------
    def checkpoint(self, run: dict[str, Any] | None = None) -> Checkpoint:
        """The run so far as a checkpoint (see designer.checkpoints); `run` adds what
        the app knows of it (name, how it ended)."""
        resume = self.resume_state or {}
        counters = {
            "clipped_steps": self.clipped_steps,
            "train_time": self.train_time,
            "probe_time": self.probe_time,
        }
        if "losses_since_eval" in resume:
            counters["losses_since_eval"] = resume["losses_since_eval"]
        return Checkpoint(
            experiment=self.exp,
            state_dict=self.model.state_dict(),
            history=self.history.to_dict(),
            probes=self.history.snapshot().probes,
            last_probe=self.last_probe,
            step=self.step_count,
            run={**counters, **(run or {})},
            optimizer=resume.get("optimizer"),
            rng=resume.get("rng"),
        )

    def save(self, path: str) -> None:
        checkpoints.save(self.checkpoint(), path)

    def restore(self, checkpoint: Checkpoint) -> None:
        """Take the weights, history, probes and counters of a checkpoint (of the same
        experiment)."""
        self.model.load_state_dict(checkpoint.model().state_dict())
        self.history = History.from_dict(checkpoint.history)
        self.history.probes = list(checkpoint.probes)
        self.last_probe = checkpoint.last_probe
        self.step_count = checkpoint.step
        self.clipped_steps = int(checkpoint.run.get("clipped_steps", 0))
        self.train_time = float(checkpoint.run.get("train_time", 0.0))
        self.probe_time = float(checkpoint.run.get("probe_time", 0.0))
        if checkpoint.optimizer is not None:  # what continuing it needs
            self.resume_state = {
                "optimizer": checkpoint.optimizer,
                "rng": checkpoint.rng,
                "losses_since_eval": checkpoint.run.get("losses_since_eval", []),
            }

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, **kwargs: Any) -> RunRecord:
        """A record (or a Trainer, to train on) where the checkpoint left off."""
        record = cls(checkpoint.experiment, **kwargs)
        record.restore(checkpoint)
        return record


class Trainer(RunRecord):
    """Trains an experiment's model on its task, one step at a time.

    `run(steps)` yields a record per step ({"event": "step", ...}) and an
    evaluation record every `eval_every` steps and at the end ({"event": "eval"})."""

    def __init__(
        self,
        exp: Experiment,
        task: Task | None = None,
        model: nn.Module | None = None,
        device: str | None = None,
        probes: bool = True,
    ):
        super().__init__(exp, task, model)
        self.device = pick_device(device or self.spec.device)
        self.model = self.model.to(self.device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(self.params, self.spec)
        self._losses_since_eval: list[float] = []
        self.probes = probes
        self._train_time_at_probe = 0.0
        torch.manual_seed(self.spec.seed)  # dropout masks
        x, y = self.task.batch(VAL_BATCH, VAL_SEED_OFFSET + self.spec.seed, split="val")
        self.val_x, self.val_y = x.to(self.device), y.to(self.device)

    def checkpoint(self, run: dict[str, Any] | None = None) -> Checkpoint:
        """The run so far, with what resuming it needs: the optimizer's state, torch's
        random state (dropout) and the losses since the last evaluation."""
        checkpoint = super().checkpoint(
            {"losses_since_eval": list(self._losses_since_eval), **(run or {})}
        )
        checkpoint.optimizer = self.optimizer.state_dict()
        checkpoint.rng = torch.get_rng_state()
        return checkpoint

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue where the checkpoint left off: the same curve as a run that was
        never interrupted (bit for bit on CPU), when it holds the optimizer's state."""
        super().restore(checkpoint)
        if checkpoint.optimizer is not None:
            self._load_optimizer(checkpoint.optimizer)
        if checkpoint.rng is not None:
            if checkpoint.rng.shape != torch.get_rng_state().shape:
                raise CheckpointError("the checkpoint's random state is damaged")
            torch.set_rng_state(checkpoint.rng)
        self._losses_since_eval = [float(v) for v in checkpoint.run.get("losses_since_eval", [])]

    def _load_optimizer(self, state: dict[str, Any]) -> None:
        """The optimizer's state from a checkpoint, which must fit this model: one
        entry per trainable parameter, each tensor of that parameter's shape. The
        settings (learning rate, weight decay) stay the experiment's."""
        mismatch = CheckpointError("the checkpoint's optimizer state does not match its experiment")
        settings = [
            {k: v for k, v in group.items() if k != "params"}
            for group in self.optimizer.param_groups
        ]
        try:
            self.optimizer.load_state_dict(state)
        except Exception:  # a state from elsewhere fails in many ways
            raise mismatch from None
        for group, own in zip(self.optimizer.param_groups, settings, strict=True):
            group.update(own)
        for param in self.params:
            for value in self.optimizer.state.get(param, {}).values():
                if isinstance(value, torch.Tensor) and value.dim() and value.shape != param.shape:
                    raise mismatch

    def batch_seed(self, step: int) -> int:
        """The seed of the batch drawn at `step` (1-based)."""
        return self.spec.seed * 1_000_003 + step

    def train_step(self) -> dict[str, Any]:
        """One optimisation step; returns its record."""
        start = time.perf_counter()
        step = self.step_count + 1
        x, y = self.task.batch(self.spec.batch_size, self.batch_seed(step))
        x, y = x.to(self.device), y.to(self.device)
        self.model.train()
        loss = self.task.loss(self.model(x), y)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise TrainingDiverged(step, loss_value, self._last_grad_norm(), self.spec.clip_norm)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in self.params if p.grad is not None]
        total_norm = torch.nn.utils.get_total_norm(grads) if grads else torch.tensor(0.0)
        grad_norm = float(total_norm)
        if not math.isfinite(grad_norm):
            raise TrainingDiverged(
                step, loss_value, self._last_grad_norm(), self.spec.clip_norm, grad_norm
            )
        clipped = self.spec.clip_norm is not None and grad_norm > self.spec.clip_norm
        if clipped:
            torch.nn.utils.clip_grads_with_norm_(self.params, self.spec.clip_norm, total_norm)
            self.clipped_steps += 1
        self.optimizer.step()
        self.step_count = step
        self.train_time += time.perf_counter() - start
        self._losses_since_eval.append(loss_value)
        record = {
            "event": "step",
            "step": step,
            "loss": loss_value,
            "grad_norm": grad_norm,
            "clipped": clipped,
            "lr": self.optimizer.param_groups[0]["lr"],
            "time": self.train_time,
        }
        self.history.add_step(record)
        return record

    def _last_grad_norm(self) -> float | None:
        """The last finite gradient norm: what the run saw before it blew up."""
        return next((g for g in reversed(self.history.grad_norm) if math.isfinite(g)), None)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        """Loss and metric on the fixed validation batch (dropout off)."""
        self.model.eval()
        pred = self.model(self.val_x)
        record = {
            "event": "eval",
            "step": self.step_count,
            "train_loss": (
                sum(self._losses_since_eval) / len(self._losses_since_eval)
                if self._losses_since_eval
                else None
            ),
            "val_loss": float(self.task.loss(pred, self.val_y)),
            "val_metric": self.task.metric(pred, self.val_y),
            "clipped_steps": self.clipped_steps,
            "time": self.train_time,
        }
        self._losses_since_eval = []
        self.model.train()
        self.history.add_eval(record)
        return record

    def eval_due(self, total: int) -> bool:
        return self.step_count % self.spec.eval_every == 0 or self.step_count == total

    # --- probes -----------------------------------------------------------------
    def take_probe(self) -> dict[str, Any]:
        """Probe the model now (see designer.probes); keeps the full result as
        `last_probe` and its per-step norms in the history."""
        result = probe(self.model, self.task, seed=self.spec.seed, step=self.step_count)
        self.last_probe = result
        self.probe_time += result.seconds
        self._train_time_at_probe = self.train_time
        self.history.add_probe(result.summary())
        return {
            "event": "probe",
            "step": self.step_count,
            "loss": result.loss,
            "seconds": result.seconds,
        }

    def probe_due(self, total: int) -> bool:
        """Every `probe_every` steps if set; otherwise whenever the training time since
        the last probe is large enough that the probe costs at most PROBE_BUDGET of it.
        Always at the start and at the end of a run."""
        if not self.probes:
            return False
        if self.last_probe is None or self.step_count == total:
            return True
        if self.spec.probe_every is not None:
            return self.step_count % self.spec.probe_every == 0
        since = self.train_time - self._train_time_at_probe
        return since * PROBE_BUDGET >= self.last_probe.seconds

    def advance(self, total: int) -> list[dict[str, Any]]:
        """One training step, then the evaluation and probe that fall due."""
        records = [self.train_step()]
        if self.eval_due(total):
            records.append(self.evaluate())
        if self.probe_due(total):
            records.append(self.take_probe())
        return records

    def run(self, steps: int | None = None) -> Iterator[dict[str, Any]]:
        """Train `steps` more steps (default: the experiment's), yielding records:
        a step record each step, evaluation and probe records when due."""
        total = self.step_count + (self.spec.steps if steps is None else steps)
        if self.probes and self.last_probe is None:
            yield self.take_probe()  # the model at initialisation
        while self.step_count < total:
            yield from self.advance(total)


def verified(checkpoint: Checkpoint) -> Checkpoint:
    """A checkpoint from elsewhere (loaded with `untrusted`), made safe to show and to
    continue: its weights, optimizer state and random state must fit its experiment
    (a Trainer is made from it, which raises CheckpointError if not), and its latest
    full probe is taken again from its weights, as the run would have taken it."""
    with torch.random.fork_rng(devices=[]):  # restoring sets the random state
        trainer = Trainer.from_checkpoint(checkpoint, probes=False)
    result = probe(trainer.model, trainer.task, seed=trainer.spec.seed, step=checkpoint.step)
    return replace(checkpoint, last_probe=result)
