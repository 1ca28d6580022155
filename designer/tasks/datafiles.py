"""Which files the csv task may read, and where uploaded data is kept.

The app is served from one public link, and a link is untrusted input: if a path in
it could name any file, a crafted link would read the server's files. So by default
the csv task reads only
- the shipped example (the path "example"),
- files under the folder the operator names in DESIGNER_DATA_DIR (unset: none), and
- CSV files a visitor uploaded, found by the SHA-256 of their contents.
The command line, run by a user on their own machine, calls `allow_any_path()`:
there a path is the user's own file. So can a notebook.

Uploads live in DESIGNER_STORE_DIR/uploads (default: a folder in the system's
temporary directory), one file per content hash, removed after KEEP_DAYS unused.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from designer.i18n import Text
from designer.tasks.base import TaskDataError

EXAMPLE_CSV = Path(__file__).parent / "data" / "example.csv"
KEEP_DAYS = float(os.environ.get("DESIGNER_KEEP_DAYS", 7))
DIGEST = re.compile(r"[0-9a-f]{64}")

_any_path = False


def allow_any_path(allowed: bool = True) -> None:
    """Let the csv task read any path (the command line and notebooks: the user's own
    machine). A served app never calls it."""
    global _any_path
    _any_path = allowed


def data_dir() -> Path | None:
    """The operator's folder of readable data files, or None."""
    folder = os.environ.get("DESIGNER_DATA_DIR", "").strip()
    return Path(folder).resolve() if folder else None


def store_dir() -> Path:
    """Where this server keeps what visitors leave: uploads and finished runs."""
    folder = os.environ.get("DESIGNER_STORE_DIR", "").strip()
    return Path(folder) if folder else Path(tempfile.gettempdir()) / "deep-rnn-designer"


def readable_path(path: str) -> Path:
    """The file a csv task's `path` names, if this process may read it.

    Symlinks and '..' are resolved before deciding, and a refusal never says whether
    the file exists (that too would tell a visitor about the server's disk)."""
    if path == "example":
        return EXAMPLE_CSV
    if _any_path:
        return Path(path)
    root = data_dir()
    if root is None:
        raise TaskDataError(
            Text(
                "this server reads no files by path ('{path}'): upload the CSV file instead, "
                "or use the path 'example'",
                path=path,
            )
        )
    resolved = (root / path).resolve()  # an absolute `path` replaces the root here
    if not resolved.is_relative_to(root):
        raise TaskDataError(
            Text(
                "'{path}' is outside this server's data folder; give a path inside it, "
                "upload the CSV file, or use the path 'example'",
                path=path,
            )
        )
    return resolved


# --- uploads --------------------------------------------------------------------------
def uploads_dir() -> Path:
    return store_dir() / "uploads"


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def upload_path(digest: str) -> Path:
    """The stored upload with this SHA-256; TaskDataError if it is not (or no longer)
    on this server."""
    if not DIGEST.fullmatch(digest):
        raise TaskDataError(
            Text("'upload' must be the SHA-256 of an uploaded file (64 hex digits)")
        )
    path = uploads_dir() / f"{digest}.csv"
    if not path.is_file():
        raise TaskDataError(
            Text(
                "the uploaded file {digest}… is not on this server (uploads are kept "
                "{days} days); upload it again",
                digest=digest[:12],
                days=f"{KEEP_DAYS:g}",
            )
        )
    return path


def save_upload(content: bytes) -> str:
    """Keep an uploaded file under its SHA-256 (written once, atomically) and return
    the digest. The caller has checked its size and parsed it."""
    digest = digest_of(content)
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.csv"
    if path.is_file():
        path.touch()  # in use again: the age limit starts over
    else:
        partial = folder / f".{digest}.{os.getpid()}.part"
        partial.write_bytes(content)
        partial.replace(path)
    prune_uploads()
    return digest


def prune_uploads(now: float | None = None) -> int:
    """Remove uploads unused for KEEP_DAYS; returns how many went."""
    cutoff = (time.time() if now is None else now) - KEEP_DAYS * 86400
    removed = 0
    folder = uploads_dir()
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
