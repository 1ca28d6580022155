"""Runs side by side: what the Compare page (and the Train page, while a run and its
variant train) shows of each run, and whether their losses can be compared at all.

A RunDigest is small (no weights, no hidden states): a copy of the history's columns,
the last probe's gradient profile, the spectral radii over training and a few
counters, so that a page can hold four of them per session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from designer.document.spec import Experiment
from designer.document.summary import summarize
from designer.document.variants import differences, task_words
from designer.i18n import N_, _
from designer.training.runner import Runner
from designer.training.trainer import History

MAX_RUNS = 4  # compared at once: more lines than this no longer read at a glance
LETTERS = "ABCD"
STATE_WORDS = {  # a run's state (designer.training.runner), as the metrics table says it
    "idle": N_("idle"),
    "queued": N_("queued"),
    "starting": N_("starting"),
    "running": N_("running"),
    "paused": N_("paused"),
    "stopped": N_("stopped"),
    "finished": N_("finished"),
    "diverged": N_("diverged"),
    "failed": N_("failed"),
}


@dataclass
class RunDigest:
    id: str
    name: str
    experiment: Experiment
    state: str
    alive: bool
    history: History  # the training curves (no probes)
    # the last probe: per recurrent layer {"index", "type", "grad_norm": T values}
    profile: list[dict[str, Any]]
    # per probe over training: (step, the largest |eigenvalue| of W_hh per recurrent layer)
    radii: list[tuple[int, list[float]]]
    parameters: int
    seconds: float
    clipped_steps: int
    baseline: float | None
    baseline_metric: float | None
    metric_name: str
    task_words: str  # 'adding, 50 steps': what the task is, to say why losses differ

    @property
    def last_eval(self) -> dict[str, Any] | None:
        return self.history.evals[-1] if self.history.evals else None


def digest(runner: Runner) -> RunDigest:
    """What Compare shows of a run (live or kept), read under its history's lock."""
    record = runner.record
    history = record.history.snapshot()
    probes, history.probes = history.probes, []
    profile = (
        [
            {"index": layer["index"], "type": layer["type"], "grad_norm": list(layer["grad_norm"])}
            for layer in probes[-1].layers
        ]
        if probes
        else []
    )
    radii = [
        (
            summary.step or 0,
            [max(max(r) for r in layer["spectral_radius"].values()) for layer in summary.layers],
        )
        for summary in probes
    ]
    task = record.task
    return RunDigest(
        id=runner.run_id or "",
        name=runner.name or _("this run"),
        experiment=record.exp,
        state=runner.state,
        alive=runner.alive,
        history=history,
        profile=profile,
        radii=radii,
        parameters=summarize(record.exp, task).total,
        seconds=runner.busy_seconds or record.train_time,
        clipped_steps=record.clipped_steps,
        baseline=task.baseline_loss(),
        baseline_metric=task.baseline_metric(),
        metric_name=task.metric_name,
        task_words=task_words(record.exp),
    )


def label(index: int, run: RunDigest, length: int = 36) -> str:
    """'A: Run 1: RNN 64 on adding', cut to `length` characters, for legends."""
    name = run.name if len(run.name) <= length else run.name[: length - 1] + "…"
    return f"{LETTERS[index]}: {name}"


def why_not_comparable(runs: Sequence[RunDigest]) -> str | None:
    """None when every run learns the same task; else why their losses do not compare."""
    if len({run.experiment.task.model_dump_json() for run in runs}) <= 1:
        return None
    named = "; ".join(f"{LETTERS[i]}: {run.task_words}" for i, run in enumerate(runs))
    return _(
        "These runs learn different tasks ({tasks}). A loss measures the distance from "
        "each task's own answers, on its own scale, so their losses and metrics do not "
        "compare; their gradient profiles and spectral radii still show how each network "
        "carries its gradient."
    ).format(tasks=named)


def metrics_rows(runs: Sequence[RunDigest]) -> list[dict[str, Any]]:
    """The final figures of each run, one row per run (the table on Compare), headed
    in the reader's language."""
    rows = []
    for i, run in enumerate(runs):
        last = run.last_eval
        metric = _(run.metric_name)
        rows.append(
            {
                _("run"): label(i, run, length=60),
                _("state"): _(STATE_WORDS.get(run.state, run.state)),
                _("validation loss"): last["val_loss"] if last else None,
                _("validation {metric}").format(metric=metric): last["val_metric"]
                if last
                else None,
                _("baseline loss"): run.baseline,
                _("baseline {metric}").format(metric=metric): run.baseline_metric,
                _("steps"): run.history.step[-1] if run.history.step else 0,
                _("seconds"): round(run.seconds, 1),
                _("parameters"): run.parameters,
                _("clipped steps"): run.clipped_steps,
            }
        )
    return rows


def changes(runs: Sequence[RunDigest]) -> list[tuple[str, list[str]]]:
    """What each run changes from the first one: ('B', ['layers 1–2: RNN → LSTM']), ..."""
    first = runs[0].experiment
    return [(LETTERS[i], differences(first, run.experiment)) for i, run in enumerate(runs) if i > 0]
