"""Training a lesson's runs and checking its result, headless (`python -m designer
lessons check`). The runs train as the app trains them: each in a process of its
own (designer.training.runner), as many at once as the machine has cores."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from designer.i18n import using
from designer.lessons.base import Lesson, RunResult, Verdict
from designer.serving.runstore import ENDED
from designer.serving.slots import TrainingSlots
from designer.training.runner import ProcessRunner, Runner


@dataclass
class Outcome:
    """A lesson's check: the verdict, each run's result, and the wall time it took."""

    lesson: Lesson
    seed: int | None
    verdict: Verdict
    results: dict[str, RunResult]
    seconds: float

    def to_dict(self) -> dict:
        """The outcome as JSON data (--json), in English in every language: the verdict
        is worded again in English (a check is a pure function of the results)."""
        with using("en"):
            return self._data(str(self.lesson.judge(self.results).text))

    def _data(self, text: str) -> dict:
        return {
            "lesson": self.lesson.name,
            "seed": self.seed,
            "passed": self.verdict.passed,
            "appeared": self.verdict.passed,  # the lesson's result appeared in these runs
            "text": text,
            "numbers": self.verdict.numbers,
            "seconds": round(self.seconds, 1),
            "runs": [
                {
                    "label": r.label,
                    "title": r.title,
                    "state": r.state,
                    "error": None if r.error is None else str(r.error),
                    "steps": r.steps,
                    "seconds": round(r.seconds, 1),
                    "val_loss": r.val_loss,
                    "val_metric": r.val_metric,
                    "baseline_metric": r.baseline_metric,
                }
                for r in self.results.values()
            ],
        }


def results(lesson: Lesson, runners: Mapping[str, Runner]) -> dict[str, RunResult] | None:
    """Each run's result, once every one of them has ended (else None)."""
    if any(
        runners[run.label].state not in ENDED or runners[run.label].alive for run in lesson.runs
    ):
        return None
    return {
        run.label: RunResult.of(
            run,
            runners[run.label].record,
            runners[run.label].state,
            runners[run.label].error,
            runners[run.label].busy_seconds,
        )
        for run in lesson.runs
    }


def check_lesson(
    lesson: Lesson,
    seed: int | None = None,
    progress: Callable[[dict[str, Runner]], None] | None = None,
    every: float = 5.0,
) -> Outcome:
    """Train the lesson's runs (with another training seed, if given) and check them.
    `progress` is called every `every` seconds with the runners while they train."""
    started = time.perf_counter()
    slots = TrainingSlots(max(1, os.cpu_count() or 1))
    runners: dict[str, Runner] = {}
    for run in lesson.runs:
        runner = ProcessRunner(run.experiment(seed), slots=slots)
        runner.name = run.title
        runners[run.label] = runner
        runner.start()
    try:
        last = time.perf_counter()
        while (done := results(lesson, runners)) is None:
            time.sleep(0.2)
            if progress is not None and time.perf_counter() - last >= every:
                progress(runners)
                last = time.perf_counter()
    finally:
        for runner in runners.values():
            runner.stop(wait=5.0)
    return Outcome(lesson, seed, lesson.judge(done), done, time.perf_counter() - started)
