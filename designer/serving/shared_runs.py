"""Identical experiments share one run, across every session of the server.

Training is deterministic on the CPU: the same document and seed give the same curve,
bit for bit. So when a class opens the same lesson and thirty students press Train,
one run trains and all thirty watch it: a run in progress is shared live, and a
finished one is kept (in memory while it is watched, and on disk) for whoever asks
next. A document that differs in anything trains anew.

A shared run has no owner: nobody can pause or stop it for the others. It ends when it
has trained its steps. Runs that were stopped or failed are not kept: the next
request trains again.

Replicas that share a Redis share their runs too: the first replica to claim a run
(`drd:shared:<key>`, set only if absent) trains it; the others follow it on Ray (the
actor `shared-<key>`), or, without Ray, show it as training on another server, with
the step it reached, until its checkpoint appears in the shared store. A claim whose
run failed or stopped, or whose replica is gone, is taken again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import designer
from designer.document.spec import Experiment, english
from designer.i18n import N_, Text
from designer.serving.deployment import follow_runner, ray_address, replica_id
from designer.serving.link_index import HEARTBEAT_SECONDS, REPLICA_KEY
from designer.serving.runstore import StoredRun
from designer.serving.tallies import Tallies
from designer.training import checkpoints
from designer.training.checkpoints import CheckpointError
from designer.training.runner import Runner, Said
from designer.training.trainer import RunRecord

KEPT_STATES = ("finished", "diverged")  # deterministic ends, the same on every retry
MAX_IN_MEMORY = 24  # finished shared runs held in memory; older ones are read from disk
# How a run that did not end as it always would ended, when it gave no reason.
ENDINGS = {
    "stopped": N_("the run stopped"),
    "failed": N_("the run failed"),
}
RUN_ENDED = N_("the run {state}")  # any other state, named as the code names it
MAX_ON_DISK = 200  # files kept; the least recently used go first
CLAIM_KEY = "drd:shared:"  # + run key: which replica trains it; + ":progress": its step
CLAIM_SECONDS = 86400  # a claim left behind goes by itself after this


def actor_name(key: str) -> str:
    """The Ray actor that trains the shared run `key`, for every replica to follow."""
    return f"shared-{key}"


class ElsewhereRun(Runner):
    """A shared run that another server trains (without Ray to follow it): it waits,
    with the step that server reported, until its checkpoint is in the shared store."""

    def __init__(self, exp: Experiment, progress: Callable[[], dict[str, Any]]):
        super().__init__(RunRecord(exp), exp.train.steps, None, None)
        self.state = "queued"
        self._progress = progress

    @property
    def alive(self) -> bool:
        return True

    @property
    def step(self) -> int:
        """The step the other server reached (0 until it says)."""
        value = self._progress().get("step")
        return value if isinstance(value, int) and 0 <= value <= self.total else 0

    def stop(self, wait: float | None = None) -> None:
        """A shared run has no owner: nobody here stops it."""


def run_key(exp: Experiment) -> str:
    """What identifies a shared run: a hash of the whole document (the seed and the
    number of steps included) and of the versions that trained it (another version
    of the engine or of torch may train it otherwise: it trains anew)."""
    canonical = exp.model_dump_json() + f"|{_engine_version()}|{torch.__version__}"
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@functools.cache
def _engine_version() -> str:
    """A hash of the engine's source: a kept run made by other code is not served."""
    digest = hashlib.sha256()
    for path in sorted(Path(designer.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class SharedRuns:
    """The server's shared runs. `make(exp, on_finish)` builds a run (not started) of
    an experiment; it is started here, once per document."""

    def __init__(
        self,
        root: Path,
        make: Callable[[Experiment, Callable[[Runner], None]], Runner],
        redis: Any = None,
        replica: str | None = None,
    ):
        """`redis`: the Redis shared by the replicas of a deployment (claims there)."""
        self.root = root
        self.make = make
        self.redis = redis
        self.replica = replica or replica_id()
        self._runs: OrderedDict[str, Runner] = OrderedDict()
        self._lock = threading.Lock()
        self._errors: dict[str, str] = {}  # why the last try of a run failed or stopped
        self.started = 0  # runs actually trained (the rest were shared)

    def get(self, exp: Experiment) -> Runner | None:
        """The shared run of this experiment, live or kept; None if there is none."""
        key = run_key(exp)
        with self._lock:
            runner = self._runs.get(key)
            if isinstance(runner, ElsewhereRun):
                runner = self._read(key, exp) or runner  # trained elsewhere by now?
                self._runs[key] = runner
            if runner is not None:
                self._runs.move_to_end(key)
                return runner
            found = self._read(key, exp) or self._elsewhere(key, exp)
            if found is not None:
                self._hold(key, found)
            return found

    def error(self, exp: Experiment) -> str | None:
        """Why the last try of this experiment's run did not end as it always would
        (it failed, or was stopped); None if it did, or none was tried."""
        with self._lock:
            return self._errors.get(run_key(exp))

    def start(self, exp: Experiment) -> Runner:
        """The shared run of this experiment: the one already there, or a new one,
        started now."""
        key = run_key(exp)
        with self._lock:
            runner = self._runs.get(key)
            if isinstance(runner, ElsewhereRun):
                runner = None  # look again: its checkpoint may be there now
            runner = runner or self._read(key, exp)
            if runner is not None and runner.state in ("failed", "stopped"):
                runner = None  # ended badly a moment ago: try again
            if runner is None and not self._claim(key):
                runner = self._elsewhere(key, exp)
            if runner is None:
                self._errors.pop(key, None)
                runner = self.make(exp, lambda ended: self._ended(key, ended))
                runner.start()
                self.started += 1
                if self.redis is not None:
                    self._report(key, runner)
            self._hold(key, runner)
            return runner

    # --- across replicas -----------------------------------------------------------
    def _claim(self, key: str) -> bool:
        """Whether this server trains the run `key` (always, alone): it claimed it
        first, or took over a claim whose run ended badly or whose server is gone."""
        if self.redis is None:
            return True
        claim = self._claim_record(key, "running")
        if self.redis.set(CLAIM_KEY + key, claim, nx=True, ex=CLAIM_SECONDS):
            return True
        return self._take_over(key, claim)

    def _take_over(self, key: str, claim: str) -> bool:
        """Replace an abandoned claim on `key` with `claim`, unless another server
        changed it meanwhile (then that server's claim holds: first come)."""
        import redis

        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(CLAIM_KEY + key)
                held = self._claimed(key)
                if held is not None and not self._abandoned(held):
                    return False
                pipe.multi()
                pipe.set(CLAIM_KEY + key, claim, ex=CLAIM_SECONDS)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def _claim_record(self, key: str, state: str) -> str:
        """The claim of this server on the run `key`, as Redis keeps it."""
        actor = actor_name(key) if ray_address() else None
        return json.dumps({"actor": actor, "replica": self.replica, "state": state})

    def _claimed(self, key: str) -> dict[str, Any] | None:
        """The claim on `key` as Redis holds it, or None (absent, or not a claim)."""
        try:
            claim = json.loads(self.redis.get(CLAIM_KEY + key) or "null")
        except ValueError:
            return None
        if not isinstance(claim, dict) or set(claim) != {"actor", "replica", "state"}:
            return None
        return claim

    def _abandoned(self, claim: dict[str, Any]) -> bool:
        if claim["state"] in ("failed", "stopped"):
            return True
        replica = claim["replica"]
        return not isinstance(replica, str) or not self.redis.exists(REPLICA_KEY + replica)

    def _elsewhere(self, key: str, exp: Experiment) -> Runner | None:
        """The run `key` as another server trains it: followed on Ray, else shown
        waiting for its checkpoint; None when no live server trains it."""
        if self.redis is None:
            return None
        claim = self._claimed(key)
        if claim is None or claim["replica"] == self.replica or self._abandoned(claim):
            return None
        if claim["state"] != "running":
            return None  # trained: its checkpoint is (or was) in the store
        followed = follow_runner(claim["actor"], lambda ended: None) if claim["actor"] else None
        return followed or ElsewhereRun(exp, lambda: self._progress(key))

    def _progress(self, key: str) -> dict[str, Any]:
        try:
            progress = json.loads(self.redis.get(CLAIM_KEY + key + ":progress") or "{}")
        except ValueError:
            return {}
        return progress if isinstance(progress, dict) else {}

    def _report(self, key: str, runner: Runner) -> None:
        """While `runner` trains here, tell the other servers its step (and that this
        server is alive: its claim holds)."""

        def report() -> None:
            while runner.alive or runner.state in ("idle", "queued"):
                progress = {"step": runner.record.step_count, "total": runner.total}
                pipe = self.redis.pipeline()
                pipe.set(REPLICA_KEY + self.replica, "1", ex=HEARTBEAT_SECONDS)
                pipe.set(CLAIM_KEY + key + ":progress", json.dumps(progress), ex=CLAIM_SECONDS)
                pipe.execute()
                time.sleep(1.0)

        threading.Thread(target=report, name="designer-shared-progress", daemon=True).start()

    def _settle(self, key: str, state: str) -> None:
        """The run `key` trained here has ended: its claim says how."""
        if self.redis is not None:
            self.redis.set(CLAIM_KEY + key, self._claim_record(key, state), ex=CLAIM_SECONDS)
            self.redis.delete(CLAIM_KEY + key + ":progress")

    # --- kept runs -----------------------------------------------------------------
    def _path(self, key: str) -> Path:
        return self.root / f"{key}.pt"

    def _read(self, key: str, exp: Experiment) -> StoredRun | None:
        """A finished run from disk (the lock is held); None when there is none or the
        file is not this experiment's."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            run = StoredRun(checkpoints.load(path))
        except CheckpointError:
            path.unlink(missing_ok=True)
            return None
        if run.record.exp != exp:
            return None
        path.touch()
        return run

    def _hold(self, key: str, runner: Runner) -> None:
        """Keep `runner` in memory (the lock is held); past the limit, the least
        recently asked-for finished runs leave memory (they stay on disk)."""
        self._runs[key] = runner
        self._runs.move_to_end(key)
        ended = [k for k, r in self._runs.items() if not r.alive and r.state != "idle"]
        for old in ended[: max(0, len(ended) - MAX_IN_MEMORY)]:
            del self._runs[old]

    def _ended(self, key: str, runner: Runner) -> None:
        """A shared run ended: keep it on disk if it ended as it always would."""
        if runner.state not in KEPT_STATES or not runner.record.step_count:
            with self._lock:
                self._errors[key] = runner.error or Said(
                    Text(ENDINGS.get(runner.state, RUN_ENDED), state=runner.state)
                )
                if self._runs.get(key) is runner:
                    del self._runs[key]  # the next request trains again
            self._settle(key, runner.state)
            return
        ended = {
            "state": runner.state,
            "error": english(runner.error) if runner.error is not None else None,
            "total": runner.total,
            "busy_seconds": runner.busy_seconds,
            "name": runner.name,
        }
        with runner.model_lock:
            checkpoint = runner.record.checkpoint(run=ended)
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{key}.{threading.get_ident()}.part"
        checkpoints.save(checkpoint, partial)
        partial.replace(self._path(key))
        self._settle(key, runner.state)
        self._prune()

    def _prune(self) -> None:
        with self._lock:  # a file read back now may be touched (or removed) meanwhile
            files = sorted(self.root.glob("*.pt"), key=lambda p: p.stat().st_mtime)
            for old in files[: max(0, len(files) - MAX_ON_DISK)]:
                old.unlink(missing_ok=True)
                Tallies(self.root).remove_run(old.stem)  # a class's count leaves with its run
