"""What a lesson is: the runs it trains, what the class predicts first, the steps
that walk through the result, and the check that says whether the result appeared.

A lesson is data (one module per lesson in this package); nothing here trains. The
check reads the runs' results, however they were trained: by `python -m designer
lessons check` or by the app's lesson player, from the same documents.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from designer.document.spec import Experiment
from designer.i18n import N_, _
from designer.inside.probes import ProbeSummary
from designer.training.trainer import RunRecord

# What a step shows beside its text: the runs' curves overlaid; each run's gradient
# profile through time; one run's gradient map (layers x time); one run's states
# (units x time); one run's unrolled graph coloured by gradient; text sampled from a
# language model; which input steps one run's output uses; the final numbers.
VIEWS = ("curves", "gradients", "gradient-map", "states", "graph", "sample", "inputs", "table")


# A lesson's texts (its title, summary, source, question and choices, runs' titles,
# steps, why and try-next) are defined at import time, marked with N_() where they are
# written, in English; whoever shows them translates them with _() (the app's Lessons
# page, the command line). A verdict is made when it is shown, in the reader's language.


@dataclass(frozen=True)
class LessonRun:
    """One run of a lesson. Runs of a lesson share their training seed, so where two
    designs have the same layers they start from the same weights."""

    label: str  # "A", "B", ...
    title: str  # "tanh RNN, 64 units"
    document: dict[str, Any]

    def experiment(self, seed: int | None = None) -> Experiment:
        """The run's experiment; `seed` replaces the training seed (the fragile
        lessons are checked on several)."""
        data = {**self.document, "train": dict(self.document.get("train", {}))}
        if seed is not None:
            data["train"]["seed"] = seed
        return Experiment.from_dict(data)


@dataclass(frozen=True)
class Step:
    """One step of the walk-through: a short text, and the view beside it."""

    title: str
    text: str  # markdown
    view: str  # one of VIEWS
    run: str | None = None  # the run the view shows, for views of one run

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"unknown view {self.view!r}")


@dataclass(frozen=True)
class Prediction:
    """The question the class answers before training."""

    question: str
    choices: tuple[str, ...]
    answer: int  # index of the choice the result supports
    why: str  # shown once the runs have ended


@dataclass
class RunResult:
    """What a check needs of one trained run: the final numbers, the task's baseline,
    how it ended, and the gradient profiles of its first and last probes."""

    label: str
    title: str
    state: str  # finished, diverged, stopped, failed
    error: str | None
    steps: int
    seconds: float
    val_loss: float | None
    val_metric: float | None
    baseline_loss: float
    baseline_metric: float
    metric_name: str
    grad_norms: list[float]  # per training step
    evals: list[dict[str, Any]]
    first_probe: ProbeSummary | None
    last_probe: ProbeSummary | None

    @classmethod
    def of(
        cls, run: LessonRun, record: RunRecord, state: str, error: str | None, seconds: float
    ) -> RunResult:
        history = record.history.snapshot()
        last = history.evals[-1] if history.evals else {}
        task = record.task
        return cls(
            label=run.label,
            title=run.title,
            state=state,
            error=error,
            steps=record.step_count,
            seconds=seconds,
            val_loss=last.get("val_loss"),
            val_metric=last.get("val_metric"),
            baseline_loss=task.baseline_loss(),
            baseline_metric=task.baseline_metric(),
            metric_name=task.metric_name,
            grad_norms=list(history.grad_norm),
            evals=list(history.evals),
            first_probe=history.probes[0] if history.probes else None,
            last_probe=history.probes[-1] if history.probes else None,
        )

    def ratio_to_baseline(self) -> float:
        """The final validation loss as a share of the baseline's: near 1 learned
        nothing the baseline does not know; near 0 solved the task."""
        if self.val_loss is None or not math.isfinite(self.val_loss):
            return math.inf
        return self.val_loss / self.baseline_loss

    def gradient_profile(self, probe: str = "last", layer: int = 0) -> list[float]:
        """||dL/dh_t|| over time steps t of the `layer`-th recurrent layer."""
        summary = self.first_probe if probe == "first" else self.last_probe
        if summary is None or len(summary.layers) <= layer:
            return []
        return list(summary.layers[layer]["grad_norm"])


@dataclass
class Verdict:
    """Whether the lesson's result appeared in these runs, in one or two sentences
    with the numbers, and the numbers themselves (for --json and the tests)."""

    passed: bool
    text: str
    numbers: dict[str, float] = field(default_factory=dict)


Check = Callable[[dict[str, RunResult]], Verdict]


@dataclass(frozen=True)
class Lesson:
    name: str  # in links and on the command line: "why-gates"
    number: int  # 0 for a lesson that is not built in
    title: str
    source: str  # the paper the result comes from
    summary: str  # one sentence: what the class will see
    prediction: Prediction
    runs: tuple[LessonRun, ...]
    steps: tuple[Step, ...]
    check: Check
    try_next: str
    seeds: tuple[int, ...] = (0,)  # the check must pass on each (fragile results: three)
    may_diverge: tuple[str, ...] = ()  # runs whose divergence is the lesson's result
    needs: tuple[int, ...] = ()  # the lessons (by number) it builds on: take them first
    # The matching section of Dive into Deep Learning (《动手学深度学习》), by title.
    read_more: str = ""
    # A short hash of the lesson's document (designer.lessons.document.document_id), for
    # class links and the keys of a teacher's lessons; "" for a lesson written in Python.
    document_id: str = ""

    def judge(self, results: dict[str, RunResult]) -> Verdict:
        """The lesson's check, on runs that ended as the lesson expects: a run that
        failed, was stopped, or diverged where the lesson does not expect it shows
        nothing, whatever its numbers."""
        for run in self.runs:
            result = results[run.label]
            ended_badly = result.state in ("failed", "stopped") or (
                result.state == "diverged" and run.label not in self.may_diverge
            )
            if ended_badly:
                return Verdict(False, ended_words(run, result))
        verdict = self.check(results)
        if not verdict.passed:  # every check words what happened; this says so first
            verdict.text = _("The lesson's result did not appear this time. {text}").format(
                text=verdict.text
            )
        return verdict

    def run(self, label: str) -> LessonRun:
        return next(run for run in self.runs if run.label == label)

    def describe(self) -> dict[str, Any]:
        """The lesson as JSON data (`python -m designer lessons --json`), in English in
        every language."""
        return {
            "name": self.name,
            "number": self.number,
            "title": self.title,
            "source": self.source,
            "summary": self.summary,
            "runs": [{"label": r.label, "title": r.title} for r in self.runs],
            "seeds": list(self.seeds),
        }


# --- helpers the checks share ------------------------------------------------------------
# How a run that did not end as the lesson expects ended, one whole sentence per way.
_ENDED = {
    "failed": (N_("Run {label} ({title}) failed."), N_("Run {label} ({title}) failed: {error}.")),
    "stopped": (
        N_("Run {label} ({title}) stopped."),
        N_("Run {label} ({title}) stopped: {error}."),
    ),
    "diverged": (
        N_("Run {label} ({title}) diverged."),
        N_("Run {label} ({title}) diverged: {error}."),
    ),
}


def ended_words(run: LessonRun, result: RunResult) -> str:
    """'Run A (tanh RNN, 64 units) failed: ...', in the reader's language."""
    error = str(result.error) if result.error else ""
    plain, with_error = _ENDED.get(result.state, (None, None))
    if plain is None:  # a state no lesson expects to see: named as it is
        why = f": {error}" if error else ""
        return f"Run {run.label} ({_(run.title)}) {result.state}{why}."
    message = with_error if error else plain
    return _(message).format(label=run.label, title=_(run.title), error=error)


def short(value: float | None) -> str:
    """0.16, 0.0009, 1.4e-07: enough digits to read, in a sentence."""
    if value is None or not math.isfinite(value):
        return _("not a number") if value is not None else _("none")
    if value == 0 or 1e-4 <= abs(value) < 1e4:
        return f"{value:.2g}" if abs(value) < 1 else f"{value:.3g}"
    return f"{value:.1e}"


# 'validation mse 0.0009, against 0.16 for the baseline', one whole phrase per metric
# (the metric's name reads differently in each language).
_LOSS_WORDS = {
    "mse": N_("validation mse {value}, against {baseline} for the baseline"),
    "accuracy": N_("validation accuracy {value}, against {baseline} for the baseline"),
    "bits per char": N_("validation bits per char {value}, against {baseline} for the baseline"),
}


def loss_words(result: RunResult) -> str:
    """'validation mse 0.0009, against 0.16 for the baseline', in the task's terms."""
    if result.state == "diverged":
        return _("diverged at step {step}").format(step=result.steps + 1)
    value, baseline = short(result.val_metric), short(result.baseline_metric)
    message = _LOSS_WORDS.get(result.metric_name)
    if message is None:
        return _("validation {metric} {value}, against {baseline} for the baseline").format(
            metric=_(result.metric_name), value=value, baseline=baseline
        )
    return _(message).format(value=value, baseline=baseline)


def number(value: float | None) -> str:
    """A number as a sentence shows it (base.short), in the reader's language when it
    is none or not a number."""
    if value is None:
        return _("none")
    if not math.isfinite(value):
        return _("not a number")
    return short(value)


def ending(result: RunResult, name: str) -> dict[str, str]:
    """How a run ended, as the named parts of a sentence: {name} (its final validation
    metric), {name}_metric, {name}_baseline, and {name}_step (the step it diverged at)."""
    return {
        name: number(result.val_metric),
        f"{name}_metric": _(result.metric_name),
        f"{name}_baseline": number(result.baseline_metric),
        f"{name}_step": str(result.steps + 1),
    }
