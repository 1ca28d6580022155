"""A run: training in a process of its own, which the app starts, pauses, single-
steps and stops, and whose learning rate or clipping it can change as it trains.

Why a process: a training step makes hundreds of short calls into torch, each giving
up and retaking Python's GIL. In the app's process every page being drawn holds the
GIL too, so with a class training at once the steps crawl and the pages answer
slowly. A separate process has a GIL of its own, runs at a lower CPU priority (the
pages come first), and a crash there cannot take the app down.

The child trains and sends every record back through a pipe; the parent keeps a
mirror: the history, the latest probe, and a copy of the model that receives the
weights at each evaluation (for the pages that show what the model does now). The
weights of the best evaluation come once, as the run ends (`_ending`).

Commands go the other way, as plain picklable messages: "stop", "pause", "resume",
"step", and ("change", {"lr": .., "clip_norm": ..}), which the child applies between
two steps (Trainer.change) and reports back as a ("change", record) message.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import replace
from multiprocessing import forkserver
from typing import Any

import torch

from designer.document.spec import Experiment, SpecError, english
from designer.document.variants import initial_model
from designer.i18n import Text
from designer.serving.slots import TrainingSlots
from designer.tasks import TaskDataError
from designer.training.checkpoints import Checkpoint, CheckpointError
from designer.training.trainer import (
    UNCHANGED,
    History,
    RunRecord,
    Trainer,
    TrainingDiverged,
    Unchanged,
)

# The states of a run whose training process does not exist yet: a step or a change
# of settings sent then waits for it (ProcessRunner._send).
NOT_STARTED = ("idle", "queued", "starting")

# How a run begins: fresh (None), from the initial weights of another experiment (an
# A/B variant), or where a checkpoint of the same experiment left off.
Start = Experiment | Checkpoint | None

_context: Any = None


def context() -> Any:
    """A forkserver: each run forks from a small process that has imported torch
    once (fast starts), never from the app's own many-threaded process.

    The preload (designer.training.forkserver_preload) is this module, torch._dynamo
    and a frozen heap: what each run needs, imported once and shared."""
    global _context
    if _context is None:
        _context = mp.get_context("forkserver")
        _context.set_forkserver_preload(["designer.training.forkserver_preload"])
    return _context


def warm_up() -> None:
    """Start the forkserver now: it takes a few seconds (it imports torch), which
    the first run on a fresh server would otherwise wait for. Returns once it has
    imported all it preloads (it forks nothing before): until then it competes with
    the first visitor's page run for the cores, so the server says "ready" after it."""
    ctx = context()
    forkserver.ensure_running()
    started = ctx.Process(target=_nothing, name="forkserver-ready")
    started.start()
    started.join(timeout=120)


def _nothing() -> None:
    """The first process forked from the forkserver: it is forked once the preload
    has ended."""


def _put(conn: Any, message: Any) -> None:
    """Send by value. The pipe's own pickler would hand tensors over as shared
    memory that vanishes with a process that has just ended (its last messages)."""
    conn.send_bytes(pickle.dumps(message))


def _get(conn: Any) -> Any:
    return pickle.loads(conn.recv_bytes())


def _trainer(exp: Experiment, start: Start) -> Trainer:
    """The trainer a run begins with: fresh, from another experiment's initial
    weights (a variant), or where a checkpoint left off (a continued run)."""
    if isinstance(start, Checkpoint):
        return Trainer.from_checkpoint(start)
    if isinstance(start, Experiment):
        return Trainer(exp, model=initial_model(exp, like=start))
    return Trainer(exp)


def _child(exp: Experiment, total: int, paused: bool, nice: int, start: Start, conn: Any) -> None:
    """The training process: trains, obeys commands, reports everything."""
    if nice:
        with suppress(OSError):
            os.nice(nice)
    torch.set_num_threads(1)
    try:  # the experiment arrives checked; its task's data is read here again
        trainer = _trainer(exp, start)
    except (TaskDataError, CheckpointError) as err:  # its data went away since
        _put(conn, ("state", ("failed", err.text)))
        conn.close()
        return
    except Exception as err:  # reported on the page; never a silent death
        message = Text("the run could not start ({kind})", kind=type(err).__name__)
        _put(conn, ("state", ("failed", message)))
        conn.close()
        return
    single = False
    # Training time, as `python -m designer train` counts it: the loop's wall time
    # (probes, evaluations and reporting included), less the time spent paused.
    started, idle = time.perf_counter(), 0.0
    before = float(start.run.get("busy_seconds") or 0.0) if isinstance(start, Checkpoint) else 0.0

    def probe_message() -> tuple:
        return ("probe", (trainer.last_probe, trainer.history.probes[-1]))

    try:
        _put(conn, ("state", "paused" if paused else "running"))
        if trainer.probes and trainer.step_count == 0:
            trainer.take_probe()  # the model at initialisation
            _put(conn, probe_message())
        while trainer.step_count < total:
            waiting, waited = paused and not single, time.perf_counter()
            while conn.poll(0.2 if paused and not single else 0):
                command = _get(conn)
                if command == "stop":
                    _put(conn, ("weights", _weights(trainer)))  # where it stopped
                    _ending(conn, trainer)
                    _put(conn, ("state", "stopped"))
                    return
                if command in ("pause", "resume"):
                    paused = command == "pause"
                    _put(conn, ("state", "paused" if paused else "running"))
                elif command == "step":
                    single = True
                elif isinstance(command, tuple) and command[0] == "change":
                    change = _change(trainer, command[1])
                    if change is not None:
                        _put(conn, ("change", change))
            if waiting:
                idle += time.perf_counter() - waited
            if paused and not single:
                continue
            single = False
            records = trainer.advance(total)
            busy = before + time.perf_counter() - started - idle
            for record in records:
                if record["event"] == "probe":
                    _put(conn, probe_message())
                    continue
                _put(conn, (record["event"], {**record, "busy": busy}))
                if record["event"] == "eval":
                    _put(conn, ("weights", _weights(trainer)))
        _ending(conn, trainer)  # the last step is an evaluation
        _put(conn, ("state", "finished"))
    except TrainingDiverged as err:
        _put(conn, ("best", trainer.best))  # what it had before it blew up
        _put(conn, ("state", ("diverged", err.text)))
    except Exception as err:  # reported on the page; never a silent death
        _put(conn, ("state", ("failed", f"{type(err).__name__}: {err}")))
    finally:
        conn.close()


def _change(trainer: Trainer, values: Any) -> dict[str, Any] | None:
    """Apply a change of settings the parent sent (it checked the values already):
    its record, or None when it changed nothing or could not be applied."""
    try:
        return trainer.change(**values)
    except (SpecError, TypeError):
        return None


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()}


def _ending(conn: Any, trainer: Trainer) -> None:
    """What a run that finished or stopped sends last, besides its state: the best
    evaluation's weights (Trainer.keep_best), so the parent's mirror (and the
    checkpoint a kept run is written to) has them, and the resume state. Sent once,
    as the run ends (the weights again: too much for every evaluation)."""
    _put(conn, ("best", trainer.best))
    _put(conn, ("resume", _resume_state(trainer)))


def _resume_state(trainer: Trainer) -> dict[str, Any]:
    """What continuing the run needs besides its weights and history: the optimizer's
    state, torch's random state and the losses since the last evaluation. Sent once,
    as the run ends (an Adam state is twice the weights: too much for every poll)."""
    checkpoint = trainer.checkpoint()
    return {
        "optimizer": checkpoint.optimizer,
        "rng": checkpoint.rng,
        "losses_since_eval": checkpoint.run["losses_since_eval"],
    }


class Runner:
    """What the app needs of a run, wherever it trains: its record (mirrored), its
    state and error, the controls, and a consistent snapshot of its history.
    ProcessRunner trains in a process of its own; designer.serving.runstore.StoredRun is a
    finished run read back from disk."""

    def __init__(
        self,
        record: RunRecord,
        total: int,
        on_finish: Callable[[Any], None] | None,
        slots: TrainingSlots | None,
    ):
        self.record = record  # what the run has made so far (mirrored, if it trains elsewhere)
        self.total = total
        self.on_finish = on_finish
        self.slots = slots
        # idle, queued, starting, running, paused, finished, stopped, diverged, failed
        self.state = "idle"
        # Why it failed or diverged: a Said where the app words it (str() renders it in
        # the reader's language), an exception's own words otherwise.
        self.error: str | None = None
        self.busy_seconds = 0.0  # wall time spent training (steps, evaluations, probes)
        self.dropped: list[str] = []  # older runs dropped to keep this one (a bounded store)
        self.run_id: str | None = None  # its id among the link's runs (designer.serving.runstore)
        self.name = ""
        self.model_lock = threading.Lock()  # held while the model's weights change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def history(self) -> History:
        return self.record.history

    def snapshot(self) -> History:
        return self.record.history.snapshot()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def queue_position(self) -> int | None:
        """1.. while waiting for a training slot, else None."""
        if self.slots is None or self.state != "queued":
            return None
        return self.slots.position(self) or None

    def change(
        self,
        lr: float | Unchanged = UNCHANGED,
        clip_norm: float | None | Unchanged = UNCHANGED,
    ) -> bool:
        """Change the learning rate or clipping of a run that trains (see
        ProcessRunner.change); a run that does not train here takes none: False."""
        return False


def _lean(checkpoint: Checkpoint) -> Checkpoint:
    """What the training process needs to continue a checkpoint: not its probes."""
    return replace(checkpoint, probes=[], last_probe=None)


class Said(str):
    """A message that is a string (its English words, for logs and checks) and shows
    in the reader's language: str() and format() render its Text. A run's error is
    one, worded in the training process and read on a page."""

    def __new__(cls, text: Text | str) -> Said:
        said = super().__new__(cls, english(text))
        said.text = text
        return said

    def __str__(self) -> str:
        return str(self.text)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):  # picklable as its Text
        return (Said, (self.text,))


def _said(message: Any) -> Any:
    return Said(message) if isinstance(message, Text) else message


def _abnormal_end(exitcode: int) -> Text:
    """Why a training process ended without saying so, in words."""
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            return Text("the training process ended abnormally (killed by signal {n})", n=-exitcode)
        return Text("the training process ended abnormally (killed by {name})", name=name)
    return Text("the training process ended abnormally (exit code {code})", code=exitcode)


class ChildRunner(Runner, ABC):
    """A run that `_child` trains elsewhere, commanded and mirrored through a
    pipe-like connection (send_bytes / recv_bytes): the controls, the queue for a
    training slot, and the mirror that the child's messages build (`_receive`).
    Where the child runs is the subclass's `_train`: a process of this server
    (ProcessRunner) or a Ray actor (designer.training.ray_runner.RayRunner).

    `record` is a mirror in this process (never trained here): its experiment,
    task, history, latest probe, a model with the weights of
    the latest evaluation and, once the run ends, its best evaluation's weights."""

    def __init__(
        self,
        exp: Experiment,
        steps: int | None = None,
        on_finish: Callable[[Any], None] | None = None,
        slots: TrainingSlots | None = None,
        nice: int = 0,
        start: Start = None,
    ):
        """`steps`: train until this step count (default: the experiment's steps).
        `start`: another experiment, whose initial weights this run starts from
        where shapes allow (an A/B variant), or a checkpoint of `exp` to continue."""
        if isinstance(start, Checkpoint):  # the mirror shows the run so far
            mirror = RunRecord.from_checkpoint(start)
            start = _lean(start)
        else:
            mirror = RunRecord(exp)  # never trained here: the child process trains
        super().__init__(mirror, exp.train.steps if steps is None else steps, on_finish, slots)
        self.start_from = start
        if isinstance(start, Checkpoint):
            self.busy_seconds = float(start.run.get("busy_seconds") or 0.0)
        self.nice = nice
        self._paused = False
        self._conn: Any = None
        self._send_lock = threading.Lock()
        self._pending_changes: list[tuple[str, Any]] = []  # sent as the process starts

    def start(self, paused: bool = False) -> None:
        if self._thread is not None:
            return
        self._paused = paused
        self.state = "queued" if self.slots is not None else "starting"
        self._thread = threading.Thread(target=self._watch, name="designer-run", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self._paused = True
        self._send("pause")
        if self.state == "running":
            self.state = "paused"

    def resume(self) -> None:
        self._paused = False
        self._send("resume")
        if self.state == "paused":
            self.state = "running"

    def step_once(self) -> None:
        if self._thread is None:
            self.start(paused=True)
        self._send("step")

    def change(
        self,
        lr: float | Unchanged = UNCHANGED,
        clip_norm: float | None | Unchanged = UNCHANGED,
    ) -> bool:
        """Change the learning rate (the schedule's base rate) or the clipping
        threshold (None: off) from the run's next step on (designer.training.trainer.
        Trainer.change). The values are checked here first: SpecError, in the
        experiment document's words, for one it would not allow. The training process
        applies the change between two steps and reports it; the mirror's history and
        `record.spec` then have it. A run that waits to start (queued) takes it as it
        starts. Returns False, changing nothing, for a run that has ended."""
        values = {k: v for k, v in (("lr", lr), ("clip_norm", clip_norm)) if v is not UNCHANGED}
        self.record.spec.changed(**values)  # SpecError for a value the document refuses
        return bool(values) and self._send(("change", values))

    def stop(self, wait: float | None = 5.0) -> None:
        self._stop.set()
        self._send("stop")
        if self._thread is None:
            self.state = "stopped"
        elif wait:
            self._thread.join(wait)

    # --- the parent side -----------------------------------------------------------
    def _send(self, command: str | tuple[str, Any]) -> bool:
        """Send a command to the training process. Before it exists, a step and
        changes of settings wait (`_pending_step`, `_pending_changes`); once the run
        has ended, nothing is sent. Returns whether the command was sent or kept."""
        with self._send_lock:
            if self._conn is not None:
                with suppress(OSError, ValueError):
                    _put(self._conn, command)
                    return True
                return False
            if self.state not in NOT_STARTED:  # it has ended
                return False
            if command == "step":
                self._pending_step = True
            elif isinstance(command, tuple):
                self._pending_changes.append(command)
            else:
                return False
            return True

    _pending_step = False

    def _watch(self) -> None:
        slot = self.slots.hold(self, self._stop.is_set) if self.slots else nullcontext(True)
        try:
            with slot as got:
                if got and not self._stop.is_set():
                    self._train()
            if self.state not in ("finished", "diverged", "failed"):
                self.state = "stopped"
        except Exception as err:
            self.state, self.error = "failed", f"{type(err).__name__}: {err}"
        finally:
            if self.on_finish is not None:
                self.on_finish(self)

    @abstractmethod
    def _train(self) -> None:
        """Start the child somewhere, `_connect` to it and mirror it until it ends."""

    def _connect(self, conn: Any) -> None:
        """Send commands through `conn` from now on, first those that waited for it."""
        with self._send_lock:
            self._conn = conn
            for command in self._pending_changes:  # before the step they would apply to
                _put(conn, command)
            self._pending_changes.clear()
            if self._pending_step:
                _put(conn, "step")
            if self._stop.is_set():
                _put(conn, "stop")

    def _receive(self, kind: str, payload: Any) -> None:
        record = self.record
        if kind == "step":
            record.step_count = payload["step"]
            record.train_time = payload["time"]
            self.busy_seconds = payload["busy"]
            record.clipped_steps += bool(payload["clipped"])
            record.history.add_step(payload)
        elif kind == "eval":
            record.history.add_eval(payload)
        elif kind == "weights":
            with self.model_lock:
                record.model.load_state_dict(payload)
        elif kind == "change":
            record.apply_change(payload)
        elif kind == "resume":
            record.resume_state = payload
        elif kind == "best":
            record.best = payload
        elif kind == "probe":
            result, summary = payload
            record.last_probe = result
            record.probe_time += result.seconds
            record.history.add_probe(summary)
        elif kind == "state":
            if isinstance(payload, tuple):
                state, error = payload
                self.state, self.error = state, _said(error)
            elif self.state not in ("diverged", "failed"):
                self.state = payload


class ProcessRunner(ChildRunner):
    """Start, pause, resume, single step and stop a run in its own process."""

    pid: int | None = None  # the training process, once started

    def _train(self) -> None:
        parent, child = context().Pipe()
        process = context().Process(
            target=_child,
            args=(self.record.exp, self.total, self._paused, self.nice, self.start_from, child),
            daemon=True,
        )
        self.state = "starting"
        process.start()
        self.pid = process.pid
        child.close()
        self._connect(parent)
        try:
            while True:
                try:
                    kind, payload = _get(parent)
                except (EOFError, OSError):
                    break
                self._receive(kind, payload)
        finally:
            with self._send_lock:
                self._conn = None
            parent.close()
            process.join(5)
            if process.is_alive():
                process.kill()
            if process.exitcode not in (0, None) and self.state not in ("diverged", "failed"):
                self.state = "failed"
                self.error = Said(_abnormal_end(process.exitcode))
