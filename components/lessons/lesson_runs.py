"""The runs of the lessons, shared by every session of the server
(designer.serving.shared_runs): a class that opens one lesson trains it once."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.train.runs import TRAINING_NICE, training_slots
from designer.document.spec import Experiment
from designer.lessons import Lesson
from designer.serving import deployment
from designer.serving.shared_runs import SharedRuns, actor_name, run_key
from designer.tasks.datafiles import store_dir
from designer.training.runner import Runner


def _make(exp: Experiment, on_finish: Callable[[Runner], None]) -> Runner:
    return deployment.new_runner(
        exp,
        actor_name=actor_name(run_key(exp)),
        on_finish=on_finish,
        slots=training_slots(),
        nice=TRAINING_NICE,
    )


@st.cache_resource(show_spinner=False)
def shared_runs() -> SharedRuns:
    """One registry for the whole server (with Redis, claims shared by every replica)."""
    redis = deployment.redis_client()
    return SharedRuns(store_dir() / "shared", _make, redis=redis)


def lesson_runners(lesson: Lesson, start: bool = False) -> dict[str, Runner] | None:
    """The lesson's runs by label, when every one exists (training or trained);
    with `start`, the missing ones are started (the others are shared). None when
    some run has not been started by anyone yet."""
    store = shared_runs()
    runners = {}
    for run in lesson.runs:
        exp = run.experiment()
        runner = store.start(exp) if start else store.get(exp)
        if runner is None:
            return None
        if not runner.name:  # the title as written (English): every session reads it,
            runner.name = run.title  # and each shows it translated, with _()
        runners[run.label] = runner
    return runners
