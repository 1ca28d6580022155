"""What every sample task provides, and how its parameters are declared.

A task owns everything about the data: the input width, the output head, the loss,
the metric and a reference baseline. The model spec never names them, so one layer
stack can be tried on every task.

Shapes (B = batch, T = sequence length):
- continuous input:  x is float (B, T, input_size)
- token input:       x is long  (B, T) with ids in [0, vocab_size); id 0 is padding
- per-step output:   prediction (B, T, output_size)
- last-step output:  prediction (B, output_size)
- regression target: y is float with the prediction's shape
- classification:    y is long, (B, T) per step or (B,) last step; IGNORE marks
                     padded positions that the loss skips (a masked loss)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F

from designer.i18n import Text, TextError, _

IGNORE = -100  # target value of a padded step: cross_entropy skips it

MAX_SEQ_LEN = 1000


@dataclass(frozen=True)
class Param:
    """One task parameter as the experiment document names it."""

    name: str
    default: Any
    help: str
    kind: Literal["int", "float", "str", "floats", "strs", "bool"] = "int"
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    max_items: int | None = None  # "floats" and "strs": the longest list allowed
    labels: tuple[str, ...] | None = None  # the choices in words (message ids), for a picker

    def label(self, value: Any) -> str:
        """A choice in the reader's words (the value itself where none is given)."""
        if self.labels and self.choices and value in self.choices:
            return _(self.labels[self.choices.index(value)])
        return str(value)

    def check(self, value: Any) -> Text | None:
        """Return a plain sentence saying what is wrong with `value`, or None."""
        got = shown(value)
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return Text("must be a whole number, got {got}", got=got)
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return Text("must be a number, got {got}", got=got)
            if isinstance(value, float) and not math.isfinite(value):
                return Text("must be a finite number, got {got}", got=got)
        elif self.kind == "bool":
            if not isinstance(value, bool):
                return Text("must be true or false, got {got}", got=got)
        elif self.kind == "str":
            if not isinstance(value, str):
                return Text("must be text, got {got}", got=got)
        elif self.kind == "floats":
            if not isinstance(value, list) or not value:
                return Text("must be a non-empty list of numbers, got {got}", got=got)
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
                return Text("must be a list of numbers, got {got}", got=got)
            if any(isinstance(v, float) and not math.isfinite(v) for v in value):
                return Text("must be a list of finite numbers, got {got}", got=got)
        elif self.kind == "strs":
            if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
                return Text("must be a list of names, got {got}", got=got)
            seen: set[str] = set()
            for v in value:
                if v in seen:
                    return Text("names {name} twice", name=shown(v))
                seen.add(v)
        if self.kind in ("floats", "strs") and self.max_items and len(value) > self.max_items:
            return Text(
                "must have at most {limit} items, got {n}", limit=self.max_items, n=len(value)
            )
        if self.choices is not None and value not in self.choices:
            return Text(
                "must be one of {choices}, got {got}",
                choices=", ".join(map(str, self.choices)),
                got=got,
            )
        values = value if self.kind == "floats" else [value]
        if self.kind in ("int", "float", "floats"):
            for v in values:
                if self.min is not None and v < self.min:
                    return Text(
                        "must be at least {limit}, got {got}", limit=f"{self.min:g}", got=shown(v)
                    )
                if self.max is not None and v > self.max:
                    return Text(
                        "must be at most {limit}, got {got}", limit=f"{self.max:g}", got=shown(v)
                    )
        return None


def shown(value: Any, limit: int = 60) -> str | Text:
    """`value` quoted for a message: its repr, cut to about `limit` characters.

    A visitor's document may hold a megabyte of text where a number belongs, or an
    integer of a million digits (whose repr Python refuses to build)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # over 4,300 digits; nesting too deep to print
        return Text("a value too large to show")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TaskDataError(TextError):
    """A task's data cannot be used (e.g. a bad CSV); the message names the problem."""


@dataclass
class Task:
    """Base class of the sample tasks. Subclasses set the class attributes and
    fill in `make_batch`; parameters arrive already checked against `PARAMS`."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]  # one paragraph a student can read
    lesson: ClassVar[str]  # what it shows about depth, memory or direction
    PARAMS: ClassVar[tuple[Param, ...]]

    kind: ClassVar[Literal["regression", "classification"]]
    per_step: ClassVar[bool]  # loss at every step (True) or at the last step only
    # The target at a step is a later input (forecasting): a bidirectional layer would
    # read the answer from the future.
    forecasts: ClassVar[bool] = False
    metric_name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    # The loss's unit where it has a name worth showing (charlm: bits per char).
    loss_unit: ClassVar[str] = ""
    uploads: ClassVar[bool] = False  # the visitor may upload the task's data (csv)
    # The model writes text (sample_text): the app offers a prompt and a temperature.
    generates_text: ClassVar[bool] = False
    # The classes' names (message ids) where they have names, e.g. negative, positive.
    class_names: ClassVar[tuple[str, ...]] = ()

    params: dict[str, Any] = field(default_factory=dict)

    # Set by __post_init__ of each subclass from its parameters.
    input_size: int = 0  # features per step, or vocab_size for token input
    output_size: int = 0
    vocab_size: int | None = None  # not None: x holds token ids
    _baseline: tuple[float, float] | None = field(default=None, repr=False, compare=False)

    @property
    def seq_len(self) -> int:
        return int(self.params["seq_len"])

    @property
    def token_input(self) -> bool:
        return self.vocab_size is not None

    # --- data -----------------------------------------------------------------
    def batch(
        self, batch_size: int, seed: int, split: Literal["train", "val"] = "train"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A deterministic batch: the same (batch_size, seed, split) gives the same
        tensors. Synthetic tasks draw fresh sequences for any seed; tasks built on
        fixed data (charlm, csv) keep their validation part apart by `split`."""
        gen = torch.Generator().manual_seed(int(seed))
        return self.make_batch(batch_size, gen, split)

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    # --- how its input reads -----------------------------------------------------
    def token_labels(self, ids: list[int]) -> list[str]:
        """One short label per token id of the input, as a student reads it (padding
        shows as '·'): the figures of a sample, of the answers and of the input's
        influence all write tokens this way."""
        return ["·" if i == 0 else str(i) for i in ids]

    def marked_steps(self, x: torch.Tensor) -> list[int]:
        """The steps of one sample's input (T, F) that the answer depends on by the
        task's own rule (the adding problem's two marked values); none by default."""
        return []

    def input_names(self) -> list[str]:
        """The names of the input features, for a legend (empty: number them)."""
        return []

    def output_names(self) -> list[str]:
        """The names of the predicted values, for a legend (empty: number them)."""
        return []

    def class_label(self, c: int) -> str:
        """A class as a student reads it, in the figures of a sample and of the model's
        answers: its name where the task names its classes, else its number."""
        return _(self.class_names[c]) if c < len(self.class_names) else str(c)

    def draw_sample(self, fig: Any, x: torch.Tensor, y: torch.Tensor, colors: dict) -> str | None:
        """Draw one sample (x: (T, F), y: its target) on `fig`, a plotly figure, with
        its own methods (add_scatter, add_bar, update_yaxes), and return the sentence
        above it; None leaves the picture to designer.figures.tasks (a forecast, or the
        input features). `colors` names the figures' colours: input, target, mark.
        A task draws its own sample where its rule shows in the picture; this module
        imports no plotly, so that an exported script needs none."""
        return None

    def sample_text(
        self, model: Any, prompt: str, length: int, temperature: float, seed: int
    ) -> str:
        """`length` characters the model writes after `prompt` (tasks that set
        generates_text)."""
        raise NotImplementedError

    def data_note(self) -> str | None:
        """Where the task's data comes from and what its baselines score, in a line of
        markdown in the reader's language; None for made-up data."""
        return None

    def standalone(self) -> tuple[str, dict[str, Any]]:
        """(task name, parameters) that an exported script builds this task from, with
        every file it needs inside the parameters (the script reads no file)."""
        return self.name, dict(self.params)

    # --- loss, metric, baseline ------------------------------------------------
    def loss(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean squared error for regression; cross-entropy (skipping IGNORE) else."""
        if self.kind == "regression":
            return F.mse_loss(pred, y)
        return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), y.reshape(-1), ignore_index=IGNORE)

    def metric(self, pred: torch.Tensor, y: torch.Tensor) -> float:
        """Accuracy over unpadded targets for classification; subclasses may differ."""
        if self.kind == "regression":
            return float(F.mse_loss(pred, y))
        keep = y != IGNORE
        correct = (pred.argmax(-1) == y) & keep
        return float(correct.sum()) / max(int(keep.sum()), 1)

    BASELINE_SEED: ClassVar[int] = 987_654_321
    BASELINE_STEPS: ClassVar[int] = 200_000  # sequences x steps drawn to measure it

    def baseline_prediction(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The reference predictor, shaped like a model's prediction.

        By default the best constant: the mean target for regression, the log of
        the class frequencies for classification (its loss is the label entropy).
        Forecasting tasks override it with persistence (tomorrow = today)."""
        if self.kind == "regression":
            return y.mean(dim=tuple(range(y.dim() - 1)), keepdim=True).expand_as(y)
        keep = y[y != IGNORE]
        counts = torch.bincount(keep, minlength=self.output_size).float()
        log_prior = torch.log(counts.clamp_min(1e-12) / counts.sum())
        return log_prior.expand(*y.shape, self.output_size)

    def baseline_loss(self) -> float:
        """The loss of the reference predictor on a fixed validation batch."""
        return self._baselines()[0]

    def baseline_metric(self) -> float:
        """The reference predictor's metric on the same batch: the majority class's
        accuracy, the letters' frequencies in bits per character, persistence's error."""
        return self._baselines()[1]

    def _baselines(self) -> tuple[float, float]:
        if self._baseline is None:
            size = max(64, min(4096, self.BASELINE_STEPS // self.seq_len))
            x, y = self.batch(size, self.BASELINE_SEED, split="val")
            pred = self.baseline_prediction(x, y)
            self._baseline = (float(self.loss(pred, y)), float(self.metric(pred, y)))
        return self._baseline

    def describe(self) -> dict[str, Any]:
        """Everything a page or `python -m designer tasks` shows about the task."""
        return {
            "name": self.name,
            "title": _(self.title),
            "description": _(self.description),
            "lesson": _(self.lesson),
            "kind": self.kind,
            "per_step": self.per_step,
            "metric": self.metric_name,
            "input_size": self.input_size,
            "output_size": self.output_size,
            "vocab_size": self.vocab_size,
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "help": _(p.help),
                    "kind": p.kind,
                    "min": p.min,
                    "max": p.max,
                    "choices": list(p.choices) if p.choices else None,
                }
                for p in self.PARAMS
            ],
        }

    # --- the exported code's questions (designer.export), left out of the exported script ---
    loss_in_bits: ClassVar[bool] = False  # the NumPy module divides its loss by ln 2

    def embedded_data(self) -> tuple[str, str, str] | None:
        """What an exported script carries inside instead of a file the task reads, so
        that it runs alone: (the expression that reads the file, the constant that
        replaces it, the text), or None where the task reads no file of its own."""
        return None

    # --- end of the exported code's questions ---
