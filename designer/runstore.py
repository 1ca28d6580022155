"""Runs kept on the server for a link, so that a reload, a second tab, a shared link
or a restarted server shows them again.

A browser reload starts a new app session, and a hosted app is put to sleep and
woken (a server restart): nothing kept only in a session survives either. So each
link that has trained something carries an unguessable id (`r=` in the address), and
the runs of that link live here under that id:
- the run the pages show ("current"): in memory while it trains and is watched;
- every finished run: a checkpoint on disk (designer.checkpoints), with a small index.

Limits, each stated so an operator can size a server:
- MAX_RUNS finished runs per link (DESIGNER_MAX_RUNS_KEPT, default 8), oldest dropped;
- KEEP_DAYS without use (DESIGNER_KEEP_DAYS, default 7), then the link's runs go;
- in memory, per link, only the current run; others are read from disk when opened.
Someone without the id cannot list or open a link's runs: ids are 128 random bits,
and nothing lists them.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from designer import checkpoints
from designer.checkpoints import CheckpointError
from designer.runner import Runner
from designer.tasks.datafiles import KEEP_DAYS, store_dir
from designer.trainer import RunRecord

MAX_RUNS = int(os.environ.get("DESIGNER_MAX_RUNS_KEPT", 8))
LINK_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
RUN_ID = re.compile(r"[A-Za-z0-9_-]{11}")  # secrets.token_urlsafe(8)
ENDED = ("finished", "stopped", "diverged", "failed")
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

    def stop(self, wait: float | None = None) -> None:
        """Nothing trains: nothing to stop."""


class Link:
    """The runs of one link. Methods are safe to call from the pages' threads and
    from a run's own watcher thread (when it ends)."""

    def __init__(self, store: RunStore, link_id: str, restored: bool = False):
        self.store = store
        self.id = link_id
        self.folder = store.root / link_id
        self.lock = threading.RLock()
        self.sessions = 0  # app sessions showing this link now
        self._current: Runner | None = None
        self.lost: str | None = None  # a run that was training when the server stopped
        self.index = self._read_index()
        if restored and self.index.get("running"):
            self.lost = (
                "The run that was training when the server restarted was lost; "
                "finished runs are kept."
            )
            self.index["running"] = None
            self._write_index()

    # --- the index ------------------------------------------------------------------
    def _read_index(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / "index.json").read_text())
        except (OSError, ValueError):
            data = {}
        data.setdefault("runs", [])
        data.setdefault("uploads", {})
        data.setdefault("current", None)
        data.setdefault("running", None)
        data.setdefault("created", time.time())
        return data

    def _write_index(self) -> None:
        self.index["used"] = time.time()
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".index.{threading.get_ident()}.part"
        partial.write_text(json.dumps(self.index))
        partial.replace(self.folder / "index.json")

    def touch(self) -> None:
        """In use: the age limit starts over."""
        with self.lock:
            if time.time() - self.index.get("used", 0) > 3600:
                self._write_index()

    # --- runs -----------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """The finished runs kept, oldest first: id, name, state, step, seconds, ..."""
        with self.lock:
            return [dict(run) for run in self.index["runs"]]

    @property
    def current(self) -> Runner | None:
        """The run the pages show: a live one, or the latest finished one opened."""
        with self.lock:
            if self._current is None and self.index["current"]:
                try:
                    self._current = self.open(self.index["current"])
                except CheckpointError:
                    self.index["current"] = None
            return self._current

    def new_run_id(self) -> str:
        return secrets.token_urlsafe(8)

    def start(self, runner: Runner, run_id: str) -> None:
        """`runner` (not started yet) becomes the current run."""
        with self.lock:
            self.lost = None
            self._current = runner
            self.index["current"] = None
            self.index["running"] = {"id": run_id, "started": time.time()}
            self._write_index()

    def discard(self) -> None:
        """The pages show no run (a live one is stopped; finished ones stay kept)."""
        with self.lock:
            runner, self._current = self._current, None
            self.index["current"] = None
            self._write_index()
        if runner is not None and runner.alive:
            runner.stop(wait=2.0)

    def keep(self, runner: Runner, run_id: str, name: str) -> list[str]:
        """Write an ended run to disk (if it trained at all) and list it; the oldest
        runs past MAX_RUNS are dropped. Returns the names of the dropped runs."""
        record = runner.record
        evals = record.history.evals
        if self.store.closing:
            return []
        with self.lock:
            if self.index["running"] and self.index["running"]["id"] == run_id:
                self.index["running"] = None
            if not record.step_count:
                self._write_index()
                return []
            info = {
                "id": run_id,
                "name": name,
                "state": runner.state,
                "error": runner.error,
                "step": record.step_count,
                "total": runner.total,
                "busy_seconds": runner.busy_seconds,
                "val_loss": evals[-1]["val_loss"] if evals else None,
                "task": record.exp.task.name,
                "ended": time.time(),
            }
            (self.folder / "runs").mkdir(parents=True, exist_ok=True)
            with runner.model_lock:
                checkpoint = record.checkpoint(run=info)
            checkpoints.save(checkpoint, self._path(run_id))
            self.index["runs"].append(info)
            dropped = []
            while len(self.index["runs"]) > self.store.max_runs:
                old = self.index["runs"].pop(0)
                self._path(old["id"]).unlink(missing_ok=True)
                dropped.append(old["name"])
                if self.index["current"] == old["id"]:
                    self.index["current"] = None
            if self._current is runner:
                self.index["current"] = run_id
                if not self.sessions:  # nobody watches: it is read back when opened
                    self._current = None
            self._write_index()
            return dropped

    def open(self, run_id: str) -> StoredRun:
        """A kept run read back from disk (it becomes the current one)."""
        with self.lock:
            if not RUN_ID.fullmatch(run_id) or run_id not in {r["id"] for r in self.index["runs"]}:
                raise CheckpointError("that run is not kept for this link")
            run = StoredRun(checkpoints.load(self._path(run_id)))
            self._current = run
            self.index["current"] = run_id
            self._write_index()
            return run

    def delete(self, run_id: str) -> None:
        with self.lock:
            self.index["runs"] = [r for r in self.index["runs"] if r["id"] != run_id]
            self._path(run_id).unlink(missing_ok=True)
            if self.index["current"] == run_id:
                self.index["current"] = None
                if isinstance(self._current, StoredRun):
                    self._current = None
            self._write_index()

    def _path(self, run_id: str) -> Path:
        return self.folder / "runs" / f"{run_id}.pt"

    # --- uploads --------------------------------------------------------------------
    def add_upload(self, digest: str, name: str) -> None:
        """A file this link's visitor uploaded: the link may train on it."""
        with self.lock:
            self.index["uploads"][digest] = name
            self._write_index()

    def has_upload(self, digest: str) -> bool:
        with self.lock:
            return digest in self.index["uploads"]

    # --- sessions -------------------------------------------------------------------
    def forget_finished(self) -> None:
        """Nobody shows this link now: a finished current run leaves memory (it is on
        disk); a live one is stopped (its end is kept)."""
        with self.lock:
            if self.sessions:
                return
            runner = self._current
            if runner is not None and not runner.alive:
                self._current = None
        if runner is not None and runner.alive:
            runner.stop(wait=None)


class RunStore:
    """Every link's runs on this server (one per server process)."""

    def __init__(
        self,
        root: Path | None = None,
        max_runs: int = MAX_RUNS,
        keep_days: float = KEEP_DAYS,
        grace_seconds: float = 15.0,
    ):
        self.root = root if root is not None else store_dir() / "links"
        self.max_runs = max_runs
        self.keep_days = keep_days
        # After the last session showing a link ends, how long a run in progress
        # keeps training for a reload (a new session) to pick it up.
        self.grace_seconds = grace_seconds
        self._links: dict[str, Link] = {}
        self._lock = threading.Lock()
        # When the server stops, the runs in progress are killed with it: they are left
        # marked as running, so that the next start reports them lost (not as failed).
        self.closing = False
        atexit.register(self.close)
        self.prune()

    def close(self) -> None:
        self.closing = True

    def create(self) -> Link:
        if time.time() - self._pruned > 3600:  # a server that runs for weeks prunes too
            self.prune()
        with self._lock:
            link = Link(self, secrets.token_urlsafe(16))
            link._write_index()
            self._links[link.id] = link
            return link

    def get(self, link_id: str) -> Link | None:
        """The link's runs, or None for an id that is malformed, unknown or expired."""
        if not isinstance(link_id, str) or not LINK_ID.fullmatch(link_id):
            return None
        with self._lock:
            link = self._links.get(link_id)
            if link is None:
                if not (self.root / link_id / "index.json").is_file() or self._expired(link_id):
                    return None
                link = self._links[link_id] = Link(self, link_id, restored=True)
            link.touch()
            return link

    def attach(self, link: Link) -> None:
        with link.lock:
            link.sessions += 1

    def detach(self, link: Link, later: Schedule | None = None) -> None:
        """A session stops showing `link`; if no other session shows it within the
        grace period, its live run stops and its finished run leaves memory."""
        with link.lock:
            link.sessions = max(0, link.sessions - 1)
            if link.sessions:
                return
        schedule = later or _timer
        schedule(self.grace_seconds, link.forget_finished)

    def _expired(self, link_id: str) -> bool:
        try:
            used = json.loads((self.root / link_id / "index.json").read_text()).get("used", 0)
        except (OSError, ValueError):
            return True
        return time.time() - used > self.keep_days * 86400

    def prune(self) -> int:
        """Remove links unused for `keep_days`; returns how many went."""
        self._pruned = time.time()
        if not self.root.is_dir():
            return 0
        removed = 0
        for folder in self.root.iterdir():
            if folder.is_dir() and LINK_ID.fullmatch(folder.name) and self._expired(folder.name):
                if folder.name in self._links and self._links[folder.name].sessions:
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                self._links.pop(folder.name, None)
                removed += 1
        return removed


def _timer(seconds: float, action: Callable[[], None]) -> None:
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
