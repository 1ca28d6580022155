"""Training: a Trainer with a step API, and the record of a run (weights, history,
probes) that the app shows and a checkpoint stores.

A step is: draw the step's batch (deterministic from the seed and the step number),
forward, loss, backward, measure the gradient norm, clip, update (take_step, in
designer.training.schedule, which the exported training script carries as it is). The
same seed on the same CPU gives the same loss curve, bit for bit. With `ridge_readout`,
the head is first fitted in closed form, as an echo state network's read-out is
(fit_readout).

The learning rate and the clipping threshold can be changed while a run trains
(Trainer.change): the history records each change, a checkpoint carries them, and a
run continued from one goes on with the settings last in effect.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from designer.document.spec import Experiment, SpecError, TrainSpec
from designer.i18n import Text
from designer.inside.probes import ProbeResult, ProbeSummary, probe
from designer.tasks import Task, get_task
from designer.tasks.base import IGNORE
from designer.training import checkpoints
from designer.training.checkpoints import Checkpoint, CheckpointError
from designer.training.model import build_model
from designer.training.schedule import lr_at, make_optimizer, take_step

VAL_BATCH = 256
VIEW_SAMPLES = 8  # validation samples the Train page shows the model on
PROBE_HISTORY_ELEMENTS = 8_000_000  # half-precision values kept over a run (16 MB)
PROBE_BUDGET = 0.02  # automatic probing spends at most this share of the training time
VAL_SEED_OFFSET = 10**12  # validation data never shares a seed with a training step


class Unchanged(enum.Enum):
    """The type of UNCHANGED."""

    UNCHANGED = "unchanged"


# A setting Trainer.change leaves as it is (None already means "off" for clip_norm).
UNCHANGED = Unchanged.UNCHANGED


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
        last: str | Text = f"{grad_norm:.3g}" if grad_norm is not None else Text("not measured yet")
        parts = {"step": step, "last": last}
        if not math.isfinite(loss) and clip_norm is None:
            self.text = Text(
                "training diverged at step {step}: the loss became {value} (last finite "
                "gradient norm {last}); try to lower the learning rate or turn on gradient "
                "clipping (clip_norm 1.0)",
                value=str(loss),
                **parts,
            )
        elif not math.isfinite(loss):
            self.text = Text(
                "training diverged at step {step}: the loss became {value} (last finite "
                "gradient norm {last}); try to lower the learning rate or clip harder "
                "(clip_norm is {clip})",
                value=str(loss),
                clip=f"{clip_norm:g}",
                **parts,
            )
        elif clip_norm is None:
            self.text = Text(
                "training diverged at step {step}: the gradient norm became {value} (last "
                "finite gradient norm {last}); try to lower the learning rate or turn on "
                "gradient clipping (clip_norm 1.0)",
                value=str(bad_grad_norm),
                **parts,
            )
        else:
            self.text = Text(
                "training diverged at step {step}: the gradient norm became {value} (last "
                "finite gradient norm {last}); try to lower the learning rate or clip harder "
                "(clip_norm is {clip})",
                value=str(bad_grad_norm),
                clip=f"{clip_norm:g}",
                **parts,
            )
        super().__init__(self.text)

    def __str__(self) -> str:
        return str(self.text)


def pick_device(name: str = "cpu") -> torch.device:
    """'cuda' uses the GPU when there is one (CPU otherwise); so does 'auto'."""
    if name in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def scheduled_lr(spec: TrainSpec, step: int) -> float:
    """The learning rate of step `step` (1-based) under the experiment's schedule
    (designer.training.schedule.lr_at, which the exported training script carries as
    it is). A run whose learning rate was changed as it trained passes the settings in
    effect (RunRecord.spec), whose `lr` is the new base: the schedule goes on from the
    point it had reached, scaled to it."""
    return lr_at(step, spec.lr, spec.lr_schedule, spec.steps, spec.lr_decay, spec.lr_decay_every)


# --- the read-out in closed form (echo state networks) ---------------------------------
READOUT_BATCHES = 8  # training batches the closed-form read-out is fitted on, at most
READOUT_ROWS = 50_000  # and rows (one per scored step of a sequence), at most
READOUT_SEED_OFFSET = 2 * 10**12  # its batches share no seed with a step or the validation


def readout_batches(
    task: Task, batch_size: int, seed: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The training batches the read-out is fitted on: READOUT_BATCHES of the task's
    own, drawn one at a time with seeds of their own."""
    for i in range(READOUT_BATCHES):
        x, y = task.batch(batch_size, READOUT_SEED_OFFSET + seed * 1_000_003 + i)
        yield x.to(device), y.to(device)


def readout_inputs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What the model's read-out `model.head` receives for the batch x, caught on its
    way in: (B, T, width) when the task scores every step, (B, width) when it scores
    only the last one."""
    seen = []
    hook = model.head.register_forward_pre_hook(lambda head, inputs: seen.append(inputs[0]))
    try:
        model(x)
    finally:
        hook.remove()
    return seen[0]


@torch.no_grad()
def fit_readout(
    model: nn.Module,
    task: Task,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    ridge: float,
    max_rows: int = READOUT_ROWS,
) -> int:
    """Set the read-out `model.head` (an nn.Linear) to the ridge regression of the
    targets on what it reads, in closed form, as an echo state network trains its
    read-out (Jaeger 2001). The layers below are left as they are.

    Each scored step of each sequence is one row: x, the features the head reads, and
    y, the target (for classification the one-hot vector of the class; padded steps
    are left out). With X the rows of x and a column of ones (for the bias), Y those
    of y and λ = ridge:

        [W | b]ᵀ = (XᵀX + λI)⁻¹ XᵀY        (the bias's own entry of λI is 0)

    XᵀX and XᵀY are summed batch by batch in float64, so the memory is (width + 1)²
    numbers however many rows there are (at most `max_rows`). Dropout is off while
    the features are taken. For classification the outputs then approximate one-hot
    vectors: their largest picks the class, but as logits they are far from confident
    (training by cross-entropy sharpens them). Returns the number of rows the fit used
    (0: none, and the head is left as it was)."""
    was_training = model.training
    model.eval()
    try:
        head = model.head
        width, outputs = head.in_features, head.out_features
        device = head.weight.device
        xtx = torch.zeros(width + 1, width + 1, dtype=torch.float64, device=device)
        xty = torch.zeros(width + 1, outputs, dtype=torch.float64, device=device)
        rows = 0
        for x, y in batches:
            features = readout_inputs(model, x).reshape(-1, width)  # (rows, width)
            if task.kind == "classification":
                y = y.reshape(-1)  # class ids
                keep = y != IGNORE  # padded steps have no target
                features, y = features[keep], y[keep]
                targets = F.one_hot(y, outputs)  # (rows, outputs)
            else:
                targets = y.reshape(-1, outputs)  # (rows, outputs)
            room = max_rows - rows
            features, targets = features[:room].double(), targets[:room].double()
            ones = features.new_ones(len(features), 1)
            features = torch.cat([features, ones], dim=1)  # (rows, width + 1)
            xtx += features.T @ features
            xty += features.T @ targets
            rows += len(features)
            if rows >= max_rows:
                break
        if rows == 0:
            return 0
        penalty = torch.full((width + 1,), float(ridge), dtype=torch.float64, device=device)
        penalty[-1] = 0.0  # the bias is not shrunk
        solution = torch.linalg.solve(xtx + torch.diag(penalty), xty)  # (width + 1, outputs)
        head.weight.copy_(solution[:-1].T)  # (outputs, width)
        head.bias.copy_(solution[-1])
    finally:
        model.train(was_training)
    return rows


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
    # The settings changed while training (Trainer.change), in order: {"step": s, "lr":
    # .., "clip_norm": ..}, each the learning rate and clipping in effect from step s + 1.
    changes: list[dict[str, Any]] = field(default_factory=list)
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

    def add_change(self, record: dict[str, Any]) -> None:
        """Record a change of settings. Two before the same step are one: the settings
        in effect from that step on are the last (each record holds them all), so the
        steps of `changes` rise strictly, as a checkpoint's must."""
        entry = {"step": record["step"], "lr": record["lr"], "clip_norm": record["clip_norm"]}
        with self.lock:
            if self.changes and self.changes[-1]["step"] == entry["step"]:
                self.changes[-1] = entry
            else:
                self.changes.append(entry)

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
                step=list(self.step),
                loss=list(self.loss),
                grad_norm=list(self.grad_norm),
                clipped=list(self.clipped),
                time=list(self.time),
                evals=list(self.evals),
                probes=list(self.probes),
                changes=list(self.changes),  # entries are replaced, never changed in place
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
                "changes": [dict(change) for change in self.changes],
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The history of `to_dict` (a checkpoint's); one from before settings could
        change mid-run has no `changes`."""
        keys = ("step", "loss", "grad_norm", "clipped", "time", "evals")
        history = cls(*(list(data.get(k, [])) for k in keys))
        history.changes = [dict(change) for change in data.get("changes", [])]
        return history


class RunRecord:
    """What a run has made so far: its model's weights, its history, its latest probe
    and its counters. A Trainer makes it; the app's pages show it (a run training in
    another process is mirrored into one); a checkpoint stores it."""

    def __init__(self, exp: Experiment, task: Task | None = None, model: nn.Module | None = None):
        # The document the run was started from, as it was: the model, the data and the
        # settings it began with (what a variant, the export and a checkpoint build on).
        self.exp = exp
        # The training settings in effect now: the document's, with the learning rate
        # and clipping of the last change made while training (history.changes).
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
        # checkpoint or as a mirrored run ended (designer.training.runner). A Trainer has its own.
        self.resume_state: dict[str, Any] | None = None
        # The run's best evaluation (lowest validation loss): {"step", "val_loss",
        # "state_dict"} with the weights on the CPU, or None before its first
        # evaluation; kept by Trainer.evaluate, mirrored as a run ends (designer.training.runner).
        self.best: dict[str, Any] | None = None
        self._best_model: tuple[dict[str, Any], nn.Module] | None = None
        self._view: tuple[torch.Tensor, torch.Tensor] | None = None

    def apply_change(self, record: dict[str, Any]) -> None:
        """Take a change of settings (a record of Trainer.change) into the record: its
        history, and `spec`, the settings from the next step on. A mirrored run takes
        the records its training process sends (designer.training.runner)."""
        self.spec = self.spec.changed(lr=record["lr"], clip_norm=record["clip_norm"])
        self.history.add_change(record)

    def _settings_of(self, changes: list[dict[str, Any]]) -> TrainSpec:
        """The settings in effect after `changes` (the document's, or the last change's)."""
        if not changes:
            return self.exp.train
        last = changes[-1]
        try:
            return self.exp.train.changed(lr=last["lr"], clip_norm=last["clip_norm"])
        except (SpecError, KeyError, TypeError):
            raise CheckpointError(Text("the checkpoint's training history is damaged")) from None

    @property
    def best_step(self) -> int | None:
        """The step of the best evaluation so far, or None."""
        return None if self.best is None else int(self.best["step"])

    @property
    def best_val_loss(self) -> float | None:
        """The lowest validation loss so far, or None."""
        return None if self.best is None else float(self.best["val_loss"])

    def best_model(self) -> nn.Module | None:
        """A copy of the model with the best evaluation's weights (on the CPU, in eval
        mode), or None when there is none; made once for each best kept."""
        best = self.best
        if best is None:
            return None
        if self._best_model is None or self._best_model[0] is not best:
            model = build_model(self.exp, self.task)
            model.load_state_dict(best["state_dict"])
            self._best_model = (best, model.eval())
        return self._best_model[1]

    def view_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The first VIEW_SAMPLES of the validation batch: what the Train page shows the
        model doing."""
        if self._view is None:
            x, y = self.task.batch(VAL_BATCH, VAL_SEED_OFFSET + self.spec.seed, split="val")
            self._view = x[:VIEW_SAMPLES], y[:VIEW_SAMPLES]
        return self._view

    # --- checkpoints ------------------------------------------------------------
    def checkpoint(self, run: dict[str, Any] | None = None) -> Checkpoint:
        """The run so far as a checkpoint (see designer.training.checkpoints); `run` adds what
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
            best=self.best,
        )

    def save(self, path: str) -> None:
        checkpoints.save(self.checkpoint(), path)

    def restore(self, checkpoint: Checkpoint) -> None:
        """Take the weights, history, probes and counters of a checkpoint (of the same
        experiment)."""
        self.model.load_state_dict(checkpoint.model().state_dict())
        self.history = History.from_dict(checkpoint.history)
        self.history.probes = list(checkpoint.probes)
        self.spec = self._settings_of(self.history.changes)  # as the run last trained
        self.last_probe = checkpoint.last_probe
        self.step_count = checkpoint.step
        self.clipped_steps = int(checkpoint.run.get("clipped_steps", 0))
        self.train_time = float(checkpoint.run.get("train_time", 0.0))
        self.probe_time = float(checkpoint.run.get("probe_time", 0.0))
        self.best = checkpoint.best  # a continued run keeps improving on it
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
        self.optimizer = make_optimizer(
            self.params,
            self.spec.optimizer,
            self.spec.lr,
            self.spec.weight_decay,
            self.spec.momentum,
        )
        self._losses_since_eval: list[float] = []
        self.probes = probes
        self._train_time_at_probe = 0.0
        self.readout_rows: int | None = None  # set once the read-out is fitted (ridge_readout)
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
                raise CheckpointError(Text("the checkpoint's random state is damaged"))
            torch.set_rng_state(checkpoint.rng)
        self._losses_since_eval = [float(v) for v in checkpoint.run.get("losses_since_eval", [])]

    def _load_optimizer(self, state: dict[str, Any]) -> None:
        """The optimizer's state from a checkpoint, which must fit this model: one
        entry per trainable parameter, each tensor of that parameter's shape. The
        settings (learning rate, weight decay) stay the experiment's."""
        mismatch = CheckpointError(
            Text("the checkpoint's optimizer state does not match its experiment")
        )
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

    def change(
        self,
        lr: float | Unchanged = UNCHANGED,
        clip_norm: float | None | Unchanged = UNCHANGED,
    ) -> dict[str, Any] | None:
        """Change the learning rate or the clipping threshold (None: off) from the next
        step on, between two steps of a run; returns the change's record ({"event":
        "change", "step": the steps done so far, "lr", "clip_norm": the settings now in
        effect}), kept in the history, or None when nothing changed. SpecError (in the
        experiment document's words) for a value the document would not allow.

        `lr` is the schedule's base rate, as the document's `lr` is: scheduled_lr
        scales it from the next step on, so a step or cosine schedule goes on from the
        new base at the point it had reached (and stays a function of the settings and
        the step alone). The run's document (`exp`) stays the one it started from."""
        values: dict[str, Any] = {"lr": lr, "clip_norm": clip_norm}
        spec = self.spec.changed(**{k: v for k, v in values.items() if v is not UNCHANGED})
        if (spec.lr, spec.clip_norm) == (self.spec.lr, self.spec.clip_norm):
            return None
        record = {
            "event": "change",
            "step": self.step_count,
            "lr": spec.lr,
            "clip_norm": spec.clip_norm,
        }
        self.apply_change(record)
        return record

    def batch_seed(self, step: int) -> int:
        """The seed of the batch drawn at `step` (1-based)."""
        return self.spec.seed * 1_000_003 + step

    def fit_readout_if_due(self) -> None:
        """With `ridge_readout` set, before the first step (and before the first
        probe): the read-out fitted in closed form (see fit_readout), once. Its time
        counts as training time; `readout_rows` says how many rows it was fitted on."""
        if self.spec.ridge_readout is None or self.step_count > 0 or self.readout_rows is not None:
            return
        start = time.perf_counter()
        batches = readout_batches(self.task, self.spec.batch_size, self.spec.seed, self.device)
        self.readout_rows = fit_readout(self.model, self.task, batches, self.spec.ridge_readout)
        self.train_time += time.perf_counter() - start

    def train_step(self) -> dict[str, Any]:
        """One optimisation step; returns its record."""
        self.fit_readout_if_due()
        start = time.perf_counter()
        step = self.step_count + 1
        x, y = self.task.batch(self.spec.batch_size, self.batch_seed(step))
        x, y = x.to(self.device), y.to(self.device)
        self.model.train()
        lr = scheduled_lr(self.spec, step)
        loss_value, grad_norm, clipped = take_step(
            self.model, self.params, self.optimizer, self.task, (x, y), lr, self.spec.clip_norm
        )
        if not math.isfinite(loss_value):
            raise TrainingDiverged(step, loss_value, self._last_grad_norm(), self.spec.clip_norm)
        if not math.isfinite(grad_norm):
            raise TrainingDiverged(
                step, loss_value, self._last_grad_norm(), self.spec.clip_norm, grad_norm
            )
        if clipped:
            self.clipped_steps += 1
        self.step_count = step
        self.train_time += time.perf_counter() - start
        self._losses_since_eval.append(loss_value)
        record = {
            "event": "step",
            "step": step,
            "loss": loss_value,
            "grad_norm": grad_norm,
            "clipped": clipped,
            "lr": lr,  # the learning rate this step's update used
            "time": self.train_time,
        }
        self.history.add_step(record)
        return record

    def _last_grad_norm(self) -> float | None:
        """The last finite gradient norm: what the run saw before it blew up."""
        return next((g for g in reversed(self.history.grad_norm) if math.isfinite(g)), None)

    @torch.no_grad()
    def evaluate(self) -> dict[str, Any]:
        """Loss and metric on the fixed validation batch (dropout off); the weights
        are kept when the validation loss is the lowest so far (`keep_best`)."""
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
        self.keep_best(record)
        self.history.add_eval(record)
        return record

    def keep_best(self, record: dict[str, Any]) -> bool:
        """Keep a CPU copy of the weights, with the evaluation's step and validation
        loss, when that loss is the lowest so far (a tie keeps the earlier weights).
        Returns whether it did.

        Done for every task and run: a small data set (charlm's 12 KB corpus) overfits
        after a few hundred steps, and then the weights a run ends with are not its
        best. It is cheap: a copy of the weights at an evaluation that improves on
        the best (an evaluation already runs the model on the whole validation
        batch), and one more copy of the weights in memory and in a checkpoint."""
        loss = record["val_loss"]
        if not math.isfinite(loss) or (self.best is not None and loss >= self.best["val_loss"]):
            return False
        weights = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        self.best = {"step": record["step"], "val_loss": loss, "state_dict": weights}
        return True

    def eval_due(self, total: int) -> bool:
        return self.step_count % self.spec.eval_every == 0 or self.step_count == total

    # --- probes -----------------------------------------------------------------
    def take_probe(self) -> dict[str, Any]:
        """Probe the model now (see designer.inside.probes); keeps the full result as
        `last_probe` and its per-step norms in the history."""
        self.fit_readout_if_due()  # the model a run starts from
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
