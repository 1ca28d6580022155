"""A class's predictions, counted: no names, one vote per browser session.

A teacher makes a class for a lesson; each student's screen opened from the class's
link records its prediction, and the teacher's screen counts them. The votes are kept
beside the lesson's shared run (designer.serving.shared_runs), in the same store, and leave
with it. On disk, one small file per vote, so that replicas that share the store
count the same class and no two writers ever touch the same file:

    <store>/tallies/<run key>/<class id>/class.json   the lesson and the teacher's key
    <store>/tallies/<run key>/<class id>/votes/<voter id>   the choice, as a number

Every name in a path is made here or checked against a strict pattern first: the
class id and the teacher's key arrive in a link, which is a visitor's own text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from designer.serving.atomic import write_atomically

FOLDER = "tallies"
MAX_VOTES = 1000  # per class: a lecture hall, and a bound on what a class can fill
MAX_CLASSES = 50  # per shared run: the oldest go when more are made
ID = re.compile(r"[A-Za-z0-9_-]{8,40}")  # class ids, voter ids and run keys
SECRET = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_voter() -> str:
    """A browser session's anonymous id: it only tells one vote from another."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Class:
    """A class made for a lesson: its link's id, and where its votes are kept."""

    key: str  # the lesson's shared run
    id: str
    folder: Path
    teacher: str  # the hash of the teacher's key


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Tallies:
    """The classes of one store (`root` is the shared runs' folder)."""

    def __init__(self, root: Path):
        self.root = root / FOLDER

    def new_class(self, key: str, lesson: str) -> tuple[Class, str]:
        """A new class for `lesson`, whose runs are kept under `key`, and the
        teacher's key to its count (kept only as a hash)."""
        if not ID.fullmatch(key):
            raise ValueError("not a run key")
        run_folder = self.root / key
        run_folder.mkdir(parents=True, exist_ok=True)
        self._prune(run_folder)
        class_id = secrets.token_urlsafe(9)
        secret = secrets.token_urlsafe(18)
        folder = run_folder / class_id
        (folder / "votes").mkdir(parents=True)
        meta = {"lesson": lesson, "teacher": _hash(secret), "made": time.time()}
        write_atomically(folder / "class.json", json.dumps(meta))
        return Class(key, class_id, folder, meta["teacher"]), secret

    def find(self, key: str, class_id: str, lesson: str) -> Class | None:
        """The class of a link, if it exists and is this lesson's; None otherwise
        (an id of the wrong shape never reaches the disk)."""
        if not (ID.fullmatch(key) and ID.fullmatch(class_id)):
            return None
        folder = self.root / key / class_id
        meta = self._meta(folder)
        if meta is None or meta.get("lesson") != lesson:
            return None
        return Class(key, class_id, folder, str(meta.get("teacher", "")))

    @staticmethod
    def is_teacher(found: Class, secret: str) -> bool:
        """Whether `secret` is the key the class's teacher was given."""
        if not found.teacher or not SECRET.fullmatch(secret):
            return False
        return hmac.compare_digest(found.teacher, _hash(secret))

    def vote(self, found: Class, voter: str, choice: int) -> bool:
        """Record (or change) one session's prediction. False when it was not kept:
        the class is gone, or full."""
        if not ID.fullmatch(voter) or choice < 0:
            return False
        votes = found.folder / "votes"
        if not votes.is_dir():
            return False
        path = votes / voter
        if not path.exists() and sum(1 for _ in votes.iterdir()) >= MAX_VOTES:
            return False
        write_atomically(path, str(int(choice)))
        return True

    def count(self, found: Class, choices: int) -> list[int]:
        """How many chose each of the `choices` answers."""
        counts = [0] * choices
        votes = found.folder / "votes"
        if not votes.is_dir():
            return counts
        for path in votes.iterdir():
            if path.name.startswith("."):
                continue  # a vote being written
            try:
                choice = int(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # removed meanwhile, or not a vote
            if 0 <= choice < choices:
                counts[choice] += 1
        return counts

    def remove_run(self, key: str) -> None:
        """The shared run of `key` is gone: its classes go with it."""
        if ID.fullmatch(key):
            shutil.rmtree(self.root / key, ignore_errors=True)

    def _meta(self, folder: Path) -> dict | None:
        try:
            meta = json.loads((folder / "class.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def _prune(self, run_folder: Path) -> None:
        """Room for one more class under a run: the oldest go first."""
        classes = sorted(
            (p for p in run_folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
        )
        for old in classes[: max(0, len(classes) - MAX_CLASSES + 1)]:
            shutil.rmtree(old, ignore_errors=True)
