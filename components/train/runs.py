"""The runs of this page's link: the one the pages show (training in a process of its
own, designer.training.runner.ProcessRunner), and the finished ones kept on the server
(designer.serving.runstore), with a shared cap on concurrent runs.

Training never runs in the page script (a click would rerun the script and abandon
the loop), nor in the app's process (its GIL is the pages'): a child process
trains, the page polls the history it reports. A run belongs to the link, not to
the session: a reload or a second tab opens a new session on the same link and
sees the same run, still training. When no session shows the link any more, its
run in progress stops after a short grace period (long enough for a reload)."""

from __future__ import annotations

import os
import threading
from typing import Any

import streamlit as st

from components.shell.links import current_link
from designer import Experiment
from designer.document.variants import layer_name
from designer.i18n import LANGUAGES, _, translations
from designer.serving import deployment
from designer.serving.slots import TrainingSlots
from designer.training.runner import Runner, warm_up

# How many runs train at once on this server, across all sessions (others queue; with
# DESIGNER_REDIS_URL, across every replica of the deployment);
# the longest run and the largest model one session may start.
MAX_TRAININGS = int(os.environ.get("DESIGNER_MAX_TRAININGS", max(1, os.cpu_count() or 1)))
MAX_RUN_STEPS = int(os.environ.get("DESIGNER_MAX_STEPS", 20_000))
MAX_RUN_PARAMETERS = int(os.environ.get("DESIGNER_MAX_RUN_PARAMETERS", 2_000_000))
# Training processes run at this lower CPU priority, so that drawing pages comes first.
TRAINING_NICE = int(os.environ.get("DESIGNER_TRAINING_NICE", 10))


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """One queue for the whole server, shared by every session (with Redis, one for
    the whole deployment)."""
    return deployment.training_slots(MAX_TRAININGS)


@st.cache_resource(show_spinner=False)
def _warm_up() -> threading.Thread:
    """Once per server, in the background: ready the process that training runs
    fork from, before anyone presses Start."""
    thread = threading.Thread(target=warm_up, name="designer-warm-up", daemon=True)
    thread.start()
    return thread


def current_run() -> Runner | None:
    """The run the pages show: training now, or the latest one kept."""
    _warm_up()
    link = current_link()
    return link.current if link is not None else None


def _name(exp: Experiment, number: int) -> str:
    """A new run's name, in the language of whoever starts it (a name, kept as it is
    written: the visitor may rename it)."""
    layers = exp.model.layers
    kinds = " + ".join(layer_name(layer) for layer in layers[:3])
    parts = {"number": number, "kinds": kinds, "task": exp.task.name}
    if not layers:
        return _("Run {number}: no layers on {task}").format(**parts)
    if len(layers) > 3:
        return _("Run {number}: {kinds} + {more} more on {task}").format(
            more=len(layers) - 3, **parts
        )
    return _("Run {number}: {kinds} on {task}").format(**parts)


def _continued(name: str) -> str:
    """The name of a run that continues `name` (once: a continued run's continuation
    keeps its name, whichever language named it)."""
    endings = {
        translations(code).gettext("{name} (continued)").format(name="") for code in LANGUAGES
    }
    if any(ending.strip() and name.endswith(ending.strip()) for ending in endings):
        return name
    return _("{name} (continued)").format(name=name)


def _begin(exp: Experiment, name: str, **options: Any) -> tuple[Runner, str]:
    """A run of `exp` (not started) that the link keeps when it ends."""
    link = current_link(create=True)
    run_id = link.new_run_id()

    def keep(finished: Runner) -> None:
        finished.dropped = link.keep(finished, run_id, finished.name)

    runner = deployment.new_runner(
        exp,
        actor_name=_actor(run_id),
        on_finish=keep,
        slots=training_slots(),
        nice=TRAINING_NICE,
        **options,
    )
    runner.name = name
    return runner, run_id


def _actor(run_id: str) -> str:
    """The Ray actor that trains the run `run_id` (another replica follows it by name)."""
    return f"run-{run_id}"


def start_run(exp: Experiment, paused: bool = False) -> Runner:
    """A new run of `exp` (stopping the one in progress), capped in steps."""
    link = current_link(create=True)
    link.discard()
    number = len(link.runs()) + 1
    runner, run_id = _begin(exp, _name(exp, number), steps=min(exp.train.steps, MAX_RUN_STEPS))
    link.start(runner, run_id)
    runner.start(paused=paused)
    return runner


def start_variant(variant: Experiment) -> Runner | None:
    """Train `variant` beside the current run, from the same initial weights where
    shapes allow and on the same data; None when there is no current run."""
    link = current_link()
    base = link.current if link is not None else None
    if base is None or base.run_id is None:
        return None
    number = len(link.runs()) + 1 + sum(run.alive for run in link.shown())
    steps = min(variant.train.steps, MAX_RUN_STEPS)
    runner, run_id = _begin(variant, _name(variant, number), steps=steps, start=base.record.exp)
    if not link.start(runner, run_id, variant_of=base.run_id):
        return None  # another tab changed the current run meanwhile
    runner.start()
    return runner


def continue_run(steps: int) -> Runner | None:
    """Train the current (ended) run `steps` more steps, from where it ended: its
    weights, history and, when it was kept with them, its optimizer and random state."""
    link = current_link()
    base = link.current if link is not None else None
    if base is None or base.alive:
        return None
    steps = max(1, min(steps, MAX_RUN_STEPS))
    checkpoint = base.record.checkpoint(run={"busy_seconds": base.busy_seconds})
    name = _continued(base.name or _name(base.record.exp, len(link.runs()) + 1))
    total = base.record.step_count + steps
    runner, run_id = _begin(base.record.exp, name, steps=total, start=checkpoint)
    link.start(runner, run_id)
    runner.start()
    return runner


def discard_run() -> None:
    link = current_link()
    if link is not None:
        link.discard()


def run_matches(runner: Runner, exp: Experiment) -> bool:
    """Whether the run trains the experiment's current design (model and task)."""
    started = runner.record.exp
    return started.model == exp.model and started.task == exp.task
