"""Runs kept on the server for a link, so that a reload, a second tab, a shared link
or a restarted server shows them again.

A browser reload starts a new app session, and a hosted app is put to sleep and
woken (a server restart): nothing kept only in a session survives either. So each
link that has trained something carries an unguessable id (`r=` in the address), and
the runs of that link live here under that id:
- the runs the pages show: the current run and, for an A/B contrast, a variant
  training beside it; in memory while they train and are watched;
- every finished run: a checkpoint on disk (designer.training.checkpoints), with a small index.

Limits, each stated so an operator can size a server:
- MAX_RUNS finished runs per link (DESIGNER_MAX_RUNS_KEPT, default 8), oldest dropped;
- KEEP_DAYS without use (DESIGNER_KEEP_DAYS, default 7), then the link's runs go;
- in memory, per link, only the runs shown (two at most); others are read from disk
  when opened.
Someone without the id cannot list or open a link's runs: ids are 128 random bits,
and nothing lists them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from designer.document.spec import english
from designer.i18n import Text
from designer.serving.deployment import follow_runner, replica_id
from designer.serving.link_index import HEARTBEAT_SECONDS, FileIndex, RedisIndex
from designer.tasks.datafiles import KEEP_DAYS, store_dir
from designer.training import checkpoints
from designer.training.checkpoint_checks import MAX_NAME
from designer.training.checkpoints import CheckpointError
from designer.training.runner import Runner, Said
from designer.training.trainer import RunRecord

MAX_RUNS = int(os.environ.get("DESIGNER_MAX_RUNS_KEPT", 8))
LINK_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
RUN_ID = re.compile(r"[A-Za-z0-9_-]{11}")  # secrets.token_urlsafe(8)
ENDED = ("finished", "stopped", "diverged", "failed")
ROLES = ("current", "variant")  # the runs the Train page shows
T = TypeVar("T")
Schedule = Callable[[float, Callable[[], None]], Any]  # (delay in seconds, action)


class StoredRun(Runner):
    """A finished run read back from its checkpoint: what the pages show of a run,
    with nothing left to train."""

    def __init__(self, checkpoint: checkpoints.Checkpoint):
        record = RunRecord.from_checkpoint(checkpoint)
        run = checkpoint.run
        super().__init__(record, int(run.get("total") or record.step_count), None, None)
        self.state = run.get("state") if run.get("state") in ENDED else "finished"
        self.error = run.get("error")
        self.busy_seconds = float(run.get("busy_seconds") or 0.0)
        self.run_id = run.get("id")
        self.name = str(run.get("name") or "")

    def stop(self, wait: float | None = None) -> None:
        """Nothing trains: nothing to stop."""


class Link:
    """The runs of one link. Methods are safe to call from the pages' threads and
    from a run's own watcher thread (when it ends). With a shared index (Redis), each
    method reads the index as it is now and changes it atomically, so that every
    replica sees the others' runs, renames, deletes and uploads."""

    def __init__(self, store: RunStore, link_id: str, restored: bool = False):
        self.store = store
        self.id = link_id
        self.folder = store.root / link_id
        self.lock = threading.RLock()
        self.sessions = 0  # app sessions showing this link now (on this server)
        # The runs the Train page shows: the current one, and a variant training
        # beside it (A/B). Each is live, or a kept run read back from disk.
        self._shown: dict[str, Runner | None] = {role: None for role in ROLES}
        self.lost: str | None = None  # a run that was training when the server stopped
        self.index = _normal(store.index.read(link_id) or {})
        if restored and self.index["running"]:
            self._report_lost()

    def _report_lost(self) -> None:
        """Runs listed as training that no server trains any more: say so, once."""
        lost = [entry["id"] for entry in self.index["running"] if self.store.lost(entry)]
        if not lost:
            return
        self.lost = Said(
            Text(
                "The run that was training when the server restarted was lost; "
                "finished runs are kept."
            )
            if len(lost) == 1
            else Text(
                "The {n} runs that were training when the server restarted were lost; "
                "finished runs are kept.",
                n=len(lost),
            )
        )

        def edit(index: dict[str, Any]) -> None:
            index["running"] = [r for r in index["running"] if r["id"] not in lost]
            index["live"] = {k: v for k, v in index["live"].items() if v not in lost}

        self._edit(edit)

    # --- the index ------------------------------------------------------------------
    def _edit(self, edit: Callable[[dict[str, Any]], T]) -> T:
        """Change the index and write it (the lock is held); with a shared index, the
        change applies to the index as it is now, whatever another server wrote."""
        return self.store.index.update(self.id, self.index, edit)

    def _write_index(self) -> None:
        self._edit(_unchanged)

    def _sync(self) -> None:
        """Read the shared index again (the lock is held): another server may have
        changed it. A server alone holds the only copy."""
        if self.store.index.shared:
            fresh = self.store.index.read(self.id)
            if fresh is not None:
                self.index.clear()
                self.index.update(_normal(fresh))

    def touch(self) -> None:
        """In use: the age limit starts over."""
        with self.lock:
            if time.time() - (self.index.get("used") or 0) > 3600:
                self._write_index()

    # --- runs -----------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """The finished runs kept, oldest first: id, name, state, step, seconds, ..."""
        with self.lock:
            self._sync()
            return [dict(run) for run in self.index["runs"]]

    def _shown_run(self, role: str) -> Runner | None:
        with self.lock:
            if self.store.index.shared:
                self._sync()
                self._follow(role)
            if self._shown[role] is None and self.index[role]:
                try:
                    self._shown[role] = self._read(self.index[role])
                except CheckpointError:
                    self.index[role] = None
            return self._shown[role]

    def _follow(self, role: str) -> None:
        """Show in `role` what the shared index says is shown there (the lock is
        held): a live run another server started (followed on Ray), or a kept one."""
        wanted = self.index["live"].get(role) or self.index[role]
        shown = self._shown[role]
        if shown is not None and shown.run_id == wanted:
            return
        if shown is not None and shown.alive:
            shown.stop(wait=None)  # another server shows another run here now
        self._shown[role] = None
        entry = next((r for r in self.index["running"] if r["id"] == wanted), None)
        if entry is not None and entry.get("actor"):
            run_id = entry["id"]
            followed = follow_runner(entry["actor"], lambda ended: self.keep(ended, run_id, ""))
            if followed is not None:
                followed.run_id, followed.name = run_id, entry.get("name") or ""
                self._shown[role] = followed

    @property
    def current(self) -> Runner | None:
        """The run the pages show: a live one, or the latest finished one opened."""
        return self._shown_run("current")

    @property
    def variant(self) -> Runner | None:
        """The variant trained beside the current run (A/B), if there is one."""
        return self._shown_run("variant")

    def shown(self) -> list[Runner]:
        """The current run and its variant, those that exist."""
        return [run for run in (self.current, self.variant) if run is not None]

    def find(self, run_id: str) -> Runner | None:
        """A shown run by id (live, or a kept one in memory), else None."""
        return next((run for run in self.shown() if run.run_id == run_id), None)

    def new_run_id(self) -> str:
        return secrets.token_urlsafe(8)

    def start(self, runner: Runner, run_id: str, variant_of: str | None = None) -> bool:
        """`runner` (not started yet) becomes the current run, or with `variant_of`
        (the current run's id) its variant, which trains beside it. False (and
        nothing changes) when the current run is no longer `variant_of`: another tab
        of the link started or opened another run meanwhile. A run on Ray is listed
        with its actor's name, for other servers to follow."""
        runner.run_id = run_id
        role = "variant" if variant_of else "current"
        entry: dict[str, Any] = {"id": run_id, "started": time.time()}
        if self.store.index.shared:
            actor = getattr(runner, "actor_name", None)  # only a run on Ray has one
            entry |= {"actor": actor, "replica": self.store.replica, "name": runner.name}
        with self.lock:
            base = self._shown_run("current") if self.store.index.shared else self._shown["current"]
            if variant_of and (base is None or base.run_id != variant_of):
                return False
            self.lost = None

            def edit(index: dict[str, Any]) -> None:
                index["pair"] = [variant_of, run_id] if variant_of else []
                index["running"] = [r for r in index["running"] if r["id"] != run_id] + [entry]

            stopped = self._set_shown(
                {role: runner} if variant_of else {role: runner, "variant": None}, edit
            )
        _stop(stopped)
        return True

    def discard(self) -> None:
        """The pages show no run (live ones are stopped; finished ones stay kept)."""
        with self.lock:
            stopped = self._set_shown(dict.fromkeys(ROLES))
        _stop(stopped)

    def keep(self, runner: Runner, run_id: str, name: str) -> list[str]:
        """Write an ended run to disk (if it trained at all) and list it; the oldest
        runs past MAX_RUNS are dropped. Returns the names of the dropped runs. A run
        kept already (another server followed it too) is not kept twice."""
        record = runner.record
        if self.store.closing:
            return []
        with self.lock:
            self._sync()
            if any(r["id"] == run_id for r in self.index["runs"]):
                return []
            info = None
            if record.step_count:
                ended = {
                    "state": runner.state,
                    "error": english(runner.error) if runner.error is not None else None,
                    "total": runner.total,
                    "busy_seconds": runner.busy_seconds,
                }
                with runner.model_lock:
                    checkpoint = record.checkpoint(run=ended)
                info = self._save(checkpoint, run_id, name or runner.name)

            def edit(index: dict[str, Any]) -> list[dict[str, Any]]:
                index["running"] = [r for r in index["running"] if r["id"] != run_id]
                if info is None or any(r["id"] == run_id for r in index["runs"]):
                    return []
                dropped = self._list(index, info)
                for role in ROLES:
                    if index["live"].get(role) == run_id or self._shown[role] is runner:
                        index["live"].pop(role, None)
                        index[role] = run_id
                return dropped

            dropped = self._edit(edit)
            for role in ROLES:
                if self._shown[role] is runner and not self.sessions:
                    self._shown[role] = None  # nobody watches: it is read back when opened
            return self._unlink(dropped)

    def add(self, checkpoint: checkpoints.Checkpoint, name: str) -> tuple[StoredRun, list[str]]:
        """Keep a run from a checkpoint file (an upload, checked by the caller); it
        becomes the current run, alone. Returns it and the names of the runs dropped
        to make room."""
        run_id = self.new_run_id()
        with self.lock:
            info = self._save(checkpoint, run_id, name)
            dropped: list[dict[str, Any]] = []

            def edit(index: dict[str, Any]) -> None:
                dropped[:] = self._list(index, info)

            run = StoredRun(replace(checkpoint, run={**checkpoint.run, **info}))
            stopped = self._set_shown({"current": run, "variant": None}, edit)
            names = self._unlink(dropped)
        _stop(stopped)
        return run, names

    def _save(self, checkpoint: checkpoints.Checkpoint, run_id: str, name: str) -> dict[str, Any]:
        """Write the run's checkpoint; returns what the index lists of it."""
        run = checkpoint.run
        evals = checkpoint.history.get("evals") or []
        info = {
            "id": run_id,
            "name": clean_name(name) or "Run",
            "state": run.get("state") if run.get("state") in ENDED else "finished",
            "error": run.get("error"),
            "step": checkpoint.step,
            "total": int(run.get("total") or checkpoint.step),
            "busy_seconds": float(run.get("busy_seconds") or 0.0),
            "val_loss": evals[-1]["val_loss"] if evals else None,
            "task": checkpoint.experiment.task.name,
            "ended": time.time(),
        }
        (self.folder / "runs").mkdir(parents=True, exist_ok=True)
        checkpoints.save(replace(checkpoint, run={**run, **info}), self._path(run_id))
        return info

    def _list(self, index: dict[str, Any], info: dict[str, Any]) -> list[dict[str, Any]]:
        """List a saved run in `index`; the oldest runs past the limit leave it.
        Returns those, for the caller to remove once the index is written."""
        index["runs"].append(dict(info))
        dropped = []
        while len(index["runs"]) > self.store.max_runs:
            dropped.append(index["runs"][0])
            self._forget(index, index["runs"][0]["id"])
        return dropped

    def _unlink(self, dropped: list[dict[str, Any]]) -> list[str]:
        """Remove the checkpoints of runs no longer listed; returns their names."""
        for run in dropped:
            self._path(run["id"]).unlink(missing_ok=True)
        return [run["name"] for run in dropped]

    def _set_shown(
        self,
        roles: dict[str, Runner | None],
        change: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[Runner | None]:
        """Show these runs in these roles (the lock is held): a kept run by its id in
        the index, a live one in `live`. Returns the runs they replace, for the caller
        to stop once the lock is released."""
        replaced = [self._shown[role] for role in roles]
        for role, run in roles.items():
            self._shown[role] = run

        def edit(index: dict[str, Any]) -> None:
            if change is not None:
                change(index)
            for role, run in roles.items():
                index[role] = run.run_id if isinstance(run, StoredRun) else None
                if run is not None and not isinstance(run, StoredRun):
                    index["live"][role] = run.run_id
                else:
                    index["live"].pop(role, None)

        self._edit(edit)
        return replaced

    def _info(self, run_id: str) -> dict[str, Any]:
        return next(dict(r) for r in self.index["runs"] if r["id"] == run_id)

    def _forget(self, index: dict[str, Any], run_id: str) -> None:
        """A kept run leaves the list and the pages (the lock is held); its file goes
        once the index is written (_unlink)."""
        index["runs"] = [r for r in index["runs"] if r["id"] != run_id]
        for role in ROLES:
            if index[role] == run_id:
                index[role] = None
            shown = self._shown[role]
            if shown is not None and shown.run_id == run_id and not shown.alive:
                self._shown[role] = None
        if run_id in index["pair"]:
            index["pair"] = []

    def _read(self, run_id: str) -> StoredRun:
        if not RUN_ID.fullmatch(run_id) or run_id not in {r["id"] for r in self.index["runs"]}:
            raise CheckpointError(Text("that run is not kept for this link"))
        run = StoredRun(checkpoints.load(self._path(run_id)))
        run.run_id, run.name = run_id, self._info(run_id)["name"]
        return run

    def load(self, run_id: str) -> StoredRun:
        """A kept run read back from disk, without showing it."""
        with self.lock:
            self._sync()
            return self._read(run_id)

    def open(self, run_id: str) -> StoredRun:
        """A kept run read back from disk; it becomes the current one, alone."""
        with self.lock:
            self._sync()
            run = self._read(run_id)
            stopped = self._set_shown({"current": run, "variant": None})
        _stop(stopped)
        return run

    def rename(self, run_id: str, name: str) -> str:
        """Give a kept run another name (trimmed; an empty one is refused). Returns
        the name it has now."""
        name = clean_name(name)

        def edit(index: dict[str, Any]) -> str | None:
            for run in index["runs"]:
                if run["id"] == run_id:
                    run["name"] = name or run["name"]
                    return run["name"]
            return None

        with self.lock:
            self._sync()
            if run_id not in {r["id"] for r in self.index["runs"]}:
                raise CheckpointError(Text("that run is not kept for this link"))
            now = self._edit(edit) if name else self._info(run_id)["name"]
            if now is None:  # another server deleted it meanwhile
                raise CheckpointError(Text("that run is not kept for this link"))
            for shown in self._shown.values():
                if shown is not None and shown.run_id == run_id:
                    shown.name = now
            return now

    def delete(self, run_id: str) -> None:
        with self.lock:
            self._edit(lambda index: self._forget(index, run_id))
            self._path(run_id).unlink(missing_ok=True)

    def path(self, run_id: str) -> Path:
        """The checkpoint file of a kept run (to download it)."""
        with self.lock:
            self._sync()
            if run_id not in {r["id"] for r in self.index["runs"]}:
                raise CheckpointError(Text("that run is not kept for this link"))
            return self._path(run_id)

    def _path(self, run_id: str) -> Path:
        return self.folder / "runs" / f"{run_id}.pt"

    # --- uploads --------------------------------------------------------------------
    def add_upload(self, digest: str, name: str) -> None:
        """A file this link's visitor uploaded: the link may train on it."""
        with self.lock:
            self._edit(lambda index: index["uploads"].__setitem__(digest, name))

    def has_upload(self, digest: str) -> bool:
        with self.lock:
            self._sync()
            return digest in self.index["uploads"]

    # --- sessions -------------------------------------------------------------------
    def forget_finished(self) -> None:
        """Nobody shows this link now: a finished current run leaves memory (it is on
        disk); a live one is stopped (its end is kept). With replicas, only when no
        session on any live server shows it."""
        with self.lock:
            if self.sessions or self.store.watched_elsewhere(self):
                return
            live = [run for run in self._shown.values() if run is not None and run.alive]
            self._shown = {role: run if run in live else None for role, run in self._shown.items()}
        for runner in live:
            runner.stop(wait=None)


class RunStore:
    """Every link's runs on this server (one per server process). `redis`: a client of
    the Redis that the replicas of a deployment share; the indexes live there then
    (designer.serving.link_index), the checkpoints in the shared `root`."""

    def __init__(
        self,
        root: Path | None = None,
        max_runs: int = MAX_RUNS,
        keep_days: float = KEEP_DAYS,
        grace_seconds: float = 15.0,
        redis: Any = None,
        replica: str | None = None,
    ):
        self.root = root if root is not None else store_dir() / "links"
        self.max_runs = max(1, max_runs)
        self.keep_days = keep_days
        # After the last session showing a link ends, how long a run in progress
        # keeps training for a reload (a new session) to pick it up.
        self.grace_seconds = grace_seconds
        self.index: FileIndex | RedisIndex = (
            RedisIndex(redis, keep_days) if redis is not None else FileIndex(self.root)
        )
        self.replica = replica or replica_id()
        self._links: dict[str, Link] = {}
        self._lock = threading.Lock()
        # When the server stops, the runs in progress are killed with it: they are left
        # marked as running, so that the next start reports them lost (not as failed).
        self.closing = False
        atexit.register(self.close)
        if isinstance(self.index, RedisIndex):
            self.index.beat(self.replica)
            threading.Thread(target=self._beat, name="designer-replica", daemon=True).start()
        self.prune()

    def close(self) -> None:
        self.closing = True

    def _beat(self) -> None:
        """Tell the other replicas this server is alive, until it stops."""
        while not self.closing:
            time.sleep(HEARTBEAT_SECONDS / 3)
            with contextlib.suppress(Exception):  # Redis away a moment: next time
                self.index.beat(self.replica)

    def lost(self, entry: dict[str, Any]) -> bool:
        """Whether a run listed as training is trained by no server any more: alone,
        any (this server restarted); with replicas, one trained in the process of a
        server that is gone (a run on Ray goes on)."""
        if not isinstance(self.index, RedisIndex):
            return True
        if entry.get("actor"):
            return False
        replica = entry.get("replica")
        return not replica or replica == self.replica or not self.index.alive(replica)

    def watched_elsewhere(self, link: Link) -> bool:
        """Whether a session on another live replica shows `link`."""
        if not isinstance(self.index, RedisIndex):
            return False
        return self.index.watched_elsewhere(link.id, self.replica)

    def create(self) -> Link:
        if time.time() - self._pruned > 3600:  # a server that runs for weeks prunes too
            self.prune()
        with self._lock:
            link = Link(self, secrets.token_urlsafe(16))
            self.index.create(link.id, link.index)
            self._links[link.id] = link
            return link

    def get(self, link_id: str) -> Link | None:
        """The link's runs, or None for an id that is malformed, unknown or expired."""
        if not isinstance(link_id, str) or not LINK_ID.fullmatch(link_id):
            return None
        with self._lock:
            link = self._links.get(link_id)
            if link is None:
                if not self.index.exists(link_id) or self._expired(link_id):
                    return None
                link = self._links[link_id] = Link(self, link_id, restored=True)
            link.touch()
            return link

    def attach(self, link: Link) -> None:
        with link.lock:
            link.sessions += 1
        if isinstance(self.index, RedisIndex):
            self.index.watch(link.id, self.replica, 1)

    def detach(self, link: Link, later: Schedule | None = None) -> None:
        """A session stops showing `link`; if no other session shows it within the
        grace period, its live run stops and its finished run leaves memory."""
        if isinstance(self.index, RedisIndex):
            self.index.watch(link.id, self.replica, -1)
        with link.lock:
            link.sessions = max(0, link.sessions - 1)
            if link.sessions:
                return
        schedule = later or _timer
        schedule(self.grace_seconds, link.forget_finished)

    def _expired(self, link_id: str) -> bool:
        """Unused for keep_days (a shared index expires in Redis by itself)."""
        if isinstance(self.index, RedisIndex):
            return not self.index.exists(link_id)
        index = self.index.read(link_id)
        if index is None:
            return True
        return time.time() - (index.get("used") or 0) > self.keep_days * 86400

    def prune(self) -> int:
        """Remove links unused for `keep_days`; returns how many went. With a shared
        index, a link's checkpoints go once its record has expired and its folder is
        as old as that."""
        self._pruned = time.time()
        if not self.root.is_dir():
            return 0
        removed = 0
        for folder in self.root.iterdir():
            if folder.is_dir() and LINK_ID.fullmatch(folder.name) and self._expired(folder.name):
                if folder.name in self._links and self._links[folder.name].sessions:
                    continue
                age = time.time() - folder.stat().st_mtime
                if isinstance(self.index, RedisIndex) and age < self.keep_days * 86400:
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                self._links.pop(folder.name, None)
                removed += 1
        return removed


def _normal(data: dict[str, Any]) -> dict[str, Any]:
    """An index as the code reads it, whatever version wrote it (missing keys filled
    in; one running run as a dict, as before variants existed)."""
    data.setdefault("runs", [])
    data.setdefault("uploads", {})
    for role in ROLES:
        data.setdefault(role, None)  # the id of the kept run shown in that role
    data.setdefault("pair", [])  # the last run and its variant: Compare opens on them
    running = data.get("running") or []
    data["running"] = [running] if isinstance(running, dict) else running
    data.setdefault("live", {})  # the id of the live run shown in each role
    data.setdefault("created", time.time())
    return data


def _unchanged(index: dict[str, Any]) -> None:
    """An edit that changes nothing: the index is written again (its time of use)."""


def clean_name(name: str) -> str:
    """A run's name on one line, without runs of spaces, at most MAX_NAME characters."""
    return " ".join(str(name).split())[:MAX_NAME]


def _stop(runs: list[Runner | None]) -> None:
    """Stop runs no longer shown: those training, and those not started yet (a run
    another tab set up a moment ago then never trains)."""
    for run in runs:
        if run is not None and (run.alive or run.state == "idle"):
            run.stop(wait=2.0)


def _timer(seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
