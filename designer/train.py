"""Training: a Trainer with a step API, and a background runner for the app.

A step is: draw the step's batch (deterministic from the seed and the step number),
forward, loss, backward, measure the gradient norm, clip, update. The same seed on
the same CPU gives the same loss curve, bit for bit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

from designer import checkpoints
from designer.checkpoints import Checkpoint
from designer.model import build_model
from designer.probes import ProbeResult, ProbeSummary, probe
from designer.slots import TrainingSlots
from designer.spec import Experiment, TrainSpec
from designer.tasks import Task, get_task

VAL_BATCH = 256
PROBE_HISTORY_ELEMENTS = 8_000_000  # half-precision values kept over a run (16 MB)
PROBE_BUDGET = 0.02  # automatic probing spends at most this share of the training time
VAL_SEED_OFFSET = 10**12  # validation data never shares a seed with a training step


class TrainingDiverged(RuntimeError):
    """The loss or the gradient stopped being a finite number."""

    def __init__(self, step: int, loss: float, grad_norm: float | None, clip_norm: float | None):
        self.step = step
        self.loss = loss
        self.grad_norm = grad_norm
        what = "the loss" if not math.isfinite(loss) else "the gradient norm"
        value = loss if what == "the loss" else grad_norm
        last = f"{grad_norm:.3g}" if grad_norm is not None else "not measured yet"
        advice = "lower the learning rate"
        advice += (
            " or turn on gradient clipping (clip_norm 1.0)"
            if clip_norm is None
            else (f" or clip harder (clip_norm is {clip_norm:g})")
        )
        super().__init__(
            f"training diverged at step {step}: {what} became {value}"
            f" (last gradient norm {last}); try to {advice}"
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


class Trainer:
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
        self.exp = exp
        self.spec = exp.train
        self.task = task if task is not None else get_task(exp)
        self.device = pick_device(device or self.spec.device)
        self.model = (model if model is not None else build_model(exp, self.task)).to(self.device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = make_optimizer(self.params, self.spec)
        self.history = History()
        self.step_count = 0
        self.clipped_steps = 0
        self.train_time = 0.0
        self._losses_since_eval: list[float] = []
        self.probes = probes
        self.last_probe: ProbeResult | None = None
        self.probe_time = 0.0
        self._train_time_at_probe = 0.0
        torch.manual_seed(self.spec.seed)  # dropout masks
        x, y = self.task.batch(VAL_BATCH, VAL_SEED_OFFSET + self.spec.seed, split="val")
        self.val_x, self.val_y = x.to(self.device), y.to(self.device)

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
            raise TrainingDiverged(step, loss_value, grad_norm, self.spec.clip_norm)
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
        return self.history.grad_norm[-1] if self.history.grad_norm else None

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

    # --- checkpoints ------------------------------------------------------------
    def checkpoint(self, run: dict[str, Any] | None = None) -> Checkpoint:
        """The run so far as a checkpoint (see designer.checkpoints); `run` adds what
        the app knows of it (name, how it ended)."""
        return Checkpoint(
            experiment=self.exp,
            state_dict=self.model.state_dict(),
            history=self.history.to_dict(),
            probes=self.history.snapshot().probes,
            last_probe=self.last_probe,
            step=self.step_count,
            run={
                "clipped_steps": self.clipped_steps,
                "train_time": self.train_time,
                "probe_time": self.probe_time,
                **(run or {}),
            },
        )

    def save(self, path: str) -> None:
        checkpoints.save(self.checkpoint(), path)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, probes: bool = True) -> Trainer:
        """A trainer where the checkpoint left off: weights, history, probes."""
        trainer = cls(checkpoint.experiment, model=checkpoint.model(), probes=probes)
        trainer.history = History.from_dict(checkpoint.history)
        trainer.history.probes = list(checkpoint.probes)
        trainer.last_probe = checkpoint.last_probe
        trainer.step_count = checkpoint.step
        trainer.clipped_steps = int(checkpoint.run.get("clipped_steps", 0))
        trainer.train_time = float(checkpoint.run.get("train_time", 0.0))
        trainer.probe_time = float(checkpoint.run.get("probe_time", 0.0))
        return trainer


class Runner:
    """What the app needs of a run, wherever it trains: the (mirrored) trainer, its
    state and error, the controls, and a consistent snapshot of its history.
    BackgroundRunner trains in a thread; designer.worker.ProcessRunner in a process."""

    def __init__(
        self,
        trainer: Trainer,
        total: int,
        on_finish: Callable[[Any], None] | None,
        slots: TrainingSlots | None,
    ):
        self.trainer = trainer
        self.total = total
        self.on_finish = on_finish
        self.slots = slots
        # idle, queued, starting, running, paused, finished, stopped, diverged, failed
        self.state = "idle"
        self.error: str | None = None
        self.busy_seconds = 0.0  # wall time spent training (steps, evaluations, probes)
        self.dropped: list[str] = []  # older runs dropped to keep this one (a bounded store)
        self.model_lock = threading.Lock()  # held while the model's weights change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def history(self) -> History:
        return self.trainer.history

    def snapshot(self) -> History:
        return self.trainer.history.snapshot()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def queue_position(self) -> int | None:
        """1.. while waiting for a training slot, else None."""
        if self.slots is None or self.state != "queued":
            return None
        return self.slots.position(self) or None


class BackgroundRunner(Runner):
    """Runs a Trainer in a thread that the app controls: start, pause, resume,
    single step, stop. It never touches the UI; pages read `snapshot()`.

    The thread sets torch.set_num_threads(1): with more, a page polling the
    history on the same small machine stalls, and Stop takes seconds."""

    def __init__(
        self,
        trainer: Trainer,
        steps: int | None = None,
        on_finish: Callable[[BackgroundRunner], None] | None = None,
        slots: TrainingSlots | None = None,
    ):
        total = trainer.step_count + (trainer.spec.steps if steps is None else steps)
        super().__init__(trainer, total, on_finish, slots)
        self._paused = threading.Event()
        self._single = threading.Event()
        self._wake = threading.Event()

    def start(self, paused: bool = False) -> None:
        if self._thread is not None:
            return
        if paused:
            self._paused.set()
        self.state = "queued" if self.slots is not None else "paused" if paused else "running"
        self._thread = threading.Thread(target=self._loop, name="designer-training", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        if self.state in ("running", "queued"):
            self._paused.set()
            if self.state == "running":
                self.state = "paused"

    def resume(self) -> None:
        if self._paused.is_set():
            self._paused.clear()
            if self.state == "paused":
                self.state = "running"
            self._wake.set()

    def step_once(self) -> None:
        """One step while paused (starts paused if not started yet)."""
        if self._thread is None:
            self.start(paused=True)
        if self._paused.is_set():
            self._single.set()
            self._wake.set()

    def stop(self, wait: float | None = 5.0) -> None:
        """Stop after the step under way; wait up to `wait` seconds for the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            self.state = "stopped"
        elif wait:
            self._thread.join(wait)

    def _loop(self) -> None:
        torch.set_num_threads(1)
        slot = self.slots.hold(self, self._stop.is_set) if self.slots else nullcontext(True)
        try:
            with slot as got:
                if got:
                    self.state = "paused" if self._paused.is_set() else "running"
                    self._train()
            self.state = "stopped" if self._stop.is_set() else "finished"
        except TrainingDiverged as err:
            self.state, self.error = "diverged", str(err)
        except Exception as err:  # reported on the page; the thread must not die silently
            self.state, self.error = "failed", f"{type(err).__name__}: {err}"
        finally:
            if self.on_finish is not None:
                self.on_finish(self)

    def _train(self) -> None:
        trainer = self.trainer
        if trainer.probes and trainer.last_probe is None:
            with self.model_lock:
                trainer.take_probe()  # the model at initialisation
        while trainer.step_count < self.total and not self._stop.is_set():
            if self._paused.is_set() and not self._single.is_set():
                self.state = "paused"
                self._wake.wait(0.2)
                self._wake.clear()
                continue
            if not self._paused.is_set():
                self.state = "running"
            self._single.clear()
            start = time.perf_counter()
            with self.model_lock:
                trainer.advance(self.total)
            self.busy_seconds += time.perf_counter() - start
