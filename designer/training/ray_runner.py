"""A run that trains on a Ray cluster: a deployment past one server.

Each run is one detached, named Ray actor (`TrainingActor`) that runs runner.py's own
training loop (`_child`) in a thread, talking to it through a pipe-like object: the
loop's messages go to a log the actor keeps, its commands come from a queue. The web
process that started the run (or any other that knows the actor's name) mirrors it by
polling that log, so the run goes on when that process dies, and another server can
follow it (`RayRunner.follow`) and rebuild the same history.

Why a log rather than a stream: a follower may attach late, or several at once; each
replays the log from the start. Only the latest weights message is kept (the older
ones become None), so the log a follower replays stays small.

Ray is imported only here, inside the functions that use it: a server without
DESIGNER_RAY_ADDRESS never imports it.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import torch

from designer.document.spec import Experiment
from designer.i18n import Text
from designer.serving.slots import TrainingSlots
from designer.training.checkpoints import Checkpoint
from designer.training.runner import ChildRunner, Said, Start, _child, _lean

NAMESPACE = "deep-rnn-designer"
POLL_SECONDS = 0.2  # how often a mirror asks the actor for new messages
GET_TIMEOUT = 10.0  # how long one request to the actor may take ...
MISSES = 3  # ... and how many in a row may time out before the run counts as lost
IDLE_SECONDS = 600.0  # an actor nobody has polled for this long ends (its run with it)
RELEASE_GRACE = 3.0  # a released actor waits this long, for followers to read the end

# The states after which the training loop sends nothing more.
ENDED = ("finished", "stopped", "diverged", "failed")

_connected = threading.Lock()


def _lost() -> Said:
    return Said(Text("The Ray worker training this run ended; the run is lost."))


def connect() -> None:
    """Join the Ray cluster at DESIGNER_RAY_ADDRESS, once per process."""
    import ray

    with _connected:
        if ray.is_initialized():
            return
        address = os.environ.get("DESIGNER_RAY_ADDRESS") or None
        if address is None:
            raise RuntimeError("DESIGNER_RAY_ADDRESS is not set: no Ray cluster to train on")
        ray.init(
            address=address, namespace=NAMESPACE, log_to_driver=False, ignore_reinit_error=True
        )


class _Pipe:
    """The training loop's end of its connection, inside the actor: what it sends
    goes to the log, what it polls for comes from the commands the actor received."""

    def __init__(self):
        self.log: list[bytes | None] = []
        self.closed = False
        self._commands: deque[bytes] = deque()
        self._lock = threading.Condition()
        self._weights: int | None = None  # where in the log the latest weights are

    def send_bytes(self, data: bytes) -> None:
        kind = pickle.loads(data)[0]
        with self._lock:
            if kind == "weights":
                if self._weights is not None:
                    self.log[self._weights] = None
                self._weights = len(self.log)
            self.log.append(data)

    def command(self, data: bytes) -> None:
        with self._lock:
            self._commands.append(data)
            self._lock.notify_all()

    def poll(self, timeout: float = 0.0) -> bool:
        with self._lock:
            if not self._commands and timeout:
                self._lock.wait(timeout)
            return bool(self._commands)

    def recv_bytes(self) -> bytes:
        with self._lock:
            return self._commands.popleft()

    def since(self, cursor: int) -> tuple[list[bytes | None], int]:
        with self._lock:
            return self.log[cursor:], len(self.log)

    def close(self) -> None:
        self.closed = True


class TrainingActor:
    """One run on a Ray worker (made a Ray actor by `_actor_class`): the training
    loop in a thread, its messages in a log that mirrors read, and its end, once the
    run has been kept (`release`) or nobody has polled for IDLE_SECONDS."""

    def __init__(self, exp: Experiment, total: int, paused: bool, nice: int, start: Start):
        torch.set_num_threads(1)
        self.exp, self.total, self.start = exp, total, start
        self.pipe = _Pipe()
        self.polled = time.monotonic()
        self.released: float | None = None
        lean = _lean(start) if isinstance(start, Checkpoint) else start
        args = (exp, total, paused, nice, lean, self.pipe)
        self.thread = threading.Thread(target=_child, args=args, name="designer-run", daemon=True)
        self.thread.start()
        threading.Thread(target=self._reap, name="designer-reaper", daemon=True).start()

    def describe(self) -> tuple[Experiment, int, Start]:
        """What a follower builds its mirror from: the run's experiment, its step
        count to reach and what it started from."""
        return self.exp, self.total, self.start

    def command(self, data: bytes) -> None:
        self.pipe.command(data)

    def messages(self, since: int) -> tuple[list[bytes | None], int]:
        """The log's messages from `since` on, and where the next ones will start."""
        self.polled = time.monotonic()
        return self.pipe.since(since)

    def pid(self) -> int:
        return os.getpid()

    def release(self) -> None:
        """The run has ended and been kept: the actor ends shortly (RELEASE_GRACE)."""
        if self.released is None:
            self.released = time.monotonic()

    def _reap(self) -> None:
        """End the actor once released or left unpolled, stopping its run first."""
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            if self.released is not None and now - self.released > RELEASE_GRACE:
                break
            if now - self.polled > IDLE_SECONDS:
                break
        if self.thread.is_alive():
            self.pipe.command(pickle.dumps("stop"))
            self.thread.join(10)
        import ray

        ray.kill(ray.get_runtime_context().current_actor, no_restart=True)


_actor: Any = None


def _actor_class() -> Any:
    """TrainingActor as a Ray actor class (made on first use: Ray is imported lazily)."""
    global _actor
    if _actor is None:
        import ray

        _actor = ray.remote(TrainingActor)
    return _actor


class _ActorConn:
    """The mirror's end of the connection: each command is one call on the actor,
    fire and forget (Ray runs one caller's calls on an actor in order)."""

    def __init__(self, handle: Any):
        self.handle = handle

    def send_bytes(self, data: bytes) -> None:
        self.handle.command.remote(data)

    def close(self) -> None:
        """Nothing to close: the actor outlives its mirrors."""


class RayRunner(ChildRunner):
    """A run that trains in a detached Ray actor named `actor_name`, with the same
    controls and mirror as ProcessRunner, so the pages use it unchanged."""

    def __init__(
        self,
        exp: Experiment,
        *,
        actor_name: str,
        steps: int | None = None,
        on_finish: Callable[[Any], None] | None = None,
        slots: TrainingSlots | None = None,
        nice: int = 0,
        start: Start = None,
    ):
        self.start_full = start  # a follower's mirror starts from all of a checkpoint
        super().__init__(exp, steps, on_finish, slots, nice, start)
        self.actor_name = actor_name
        self._following: Any = None  # the actor's handle, for a mirror that only follows

    @classmethod
    def follow(cls, actor_name: str, on_finish: Callable[[Any], None] | None) -> RayRunner | None:
        """A mirror of the run that trains (or has ended) in the actor `actor_name`,
        from any process: its log replayed from the start, then followed live. None
        when no such actor exists (any more)."""
        import ray

        connect()
        try:
            handle = ray.get_actor(actor_name, namespace=NAMESPACE)
            exp, total, start = ray.get(handle.describe.remote(), timeout=GET_TIMEOUT)
        except (ValueError, ray.exceptions.RayError):
            return None
        runner = cls(exp, actor_name=actor_name, steps=total, on_finish=on_finish, start=start)
        runner._following = handle
        runner.start()
        return runner

    def _train(self) -> None:
        connect()
        handle = self._following
        if handle is None:
            options = {
                "name": self.actor_name,
                "namespace": NAMESPACE,
                "lifetime": "detached",
                "num_cpus": 1,
                "max_restarts": 0,
                "get_if_exists": True,
            }
            args = (self.record.exp, self.total, self._paused, self.nice, self.start_full)
            handle = _actor_class().options(**options).remote(*args)
        self.state = "starting"
        self._connect(_ActorConn(handle))
        try:
            ended = self._mirror(handle)
        finally:
            with self._send_lock:
                self._conn = None
        if ended:  # the run is kept as this thread ends (on_finish): the actor may go
            handle.release.remote()

    def _mirror(self, handle: Any) -> bool:
        """Feed the actor's log to `_receive` until the run ends (True) or its worker
        is lost (False: the run failed)."""
        import ray
        from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

        cursor, misses = 0, 0
        while self.state not in ENDED:
            try:
                batch, cursor = ray.get(handle.messages.remote(cursor), timeout=GET_TIMEOUT)
            except GetTimeoutError:
                misses += 1
                if misses < MISSES:
                    continue
                batch = None
            except (RayActorError, ActorUnavailableError):
                batch = None
            if batch is None:
                self.state, self.error = "failed", _lost()
                return False
            misses = 0
            for data in batch:
                if data is not None:
                    self._receive(*pickle.loads(data))
            if self.state not in ENDED:
                time.sleep(POLL_SECONDS)
        return True
