"""The session's training run: a designer.worker.ProcessRunner (training in a
process of its own) owned by the session, stopped when the session ends, with a
shared cap on concurrent runs.

Training never runs in the page script (a click would rerun the script and abandon
the loop), nor in the app's process (its GIL is the pages'): a child process
trains, the page polls the history it reports."""

from __future__ import annotations

import os
import threading
from typing import Any

import streamlit as st

from designer import Experiment
from designer.slots import TrainingSlots
from designer.worker import ProcessRunner, warm_up

RUN = "run"  # st.session_state key of the current ProcessRunner
# How many runs train at once on this server, across all sessions (others queue);
# the longest run and the largest model one session may start.
MAX_TRAININGS = int(os.environ.get("DESIGNER_MAX_TRAININGS", max(1, os.cpu_count() or 1)))
MAX_RUN_STEPS = int(os.environ.get("DESIGNER_MAX_STEPS", 20_000))
MAX_RUN_PARAMETERS = int(os.environ.get("DESIGNER_MAX_RUN_PARAMETERS", 2_000_000))
# Training processes run at this lower CPU priority, so that drawing pages comes first.
TRAINING_NICE = int(os.environ.get("DESIGNER_TRAINING_NICE", 10))


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """One queue for the whole server, shared by every session."""
    return TrainingSlots(MAX_TRAININGS)


def _stop_session_runs(box: dict[str, Any]) -> None:
    for runner in box["runners"]:
        runner.stop(wait=None)


@st.cache_resource(scope="session", on_release=_stop_session_runs, show_spinner=False)
def _session_box() -> dict[str, Any]:
    """Every runner this session started, so they stop when the session ends."""
    return {"runners": [], "runs": []}


@st.cache_resource(show_spinner=False)
def _warm_up() -> threading.Thread:
    """Once per server, in the background: ready the process that training runs
    fork from, before anyone presses Start."""
    thread = threading.Thread(target=warm_up, name="designer-warm-up", daemon=True)
    thread.start()
    return thread


def current_run() -> ProcessRunner | None:
    _warm_up()
    return st.session_state.get(RUN)


def finished_runs() -> list[dict[str, Any]]:
    """Finished or stopped runs of this session: experiment, history, outcome."""
    return _session_box()["runs"]


def _keep(box: dict[str, Any], runner: ProcessRunner) -> None:
    """Called by the training thread when a run ends: keep it for comparison."""
    if runner.trainer.step_count:
        box["runs"].append(
            {
                "experiment": runner.trainer.exp,
                "history": runner.trainer.history,
                "state": runner.state,
                "step": runner.trainer.step_count,
            }
        )


def start_run(exp: Experiment, paused: bool = False) -> ProcessRunner:
    """A new run of `exp` (stopping the previous one), capped in steps."""
    discard_run()
    steps = min(exp.train.steps, MAX_RUN_STEPS)
    box = _session_box()
    runner = ProcessRunner(
        exp,
        steps=steps,
        on_finish=lambda finished: _keep(box, finished),
        slots=training_slots(),
        nice=TRAINING_NICE,
    )
    box["runners"] = [r for r in box["runners"] if r.alive] + [runner]
    st.session_state[RUN] = runner
    runner.start(paused=paused)
    return runner


def discard_run() -> None:
    runner = st.session_state.pop(RUN, None)
    if runner is not None:
        runner.stop(wait=2.0)


def run_matches(runner: ProcessRunner, exp: Experiment) -> bool:
    """Whether the run trains the experiment's current design (model and task)."""
    started = runner.trainer.exp
    return started.model == exp.model and started.task == exp.task
