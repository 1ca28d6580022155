"""The app as a browser sees it: `streamlit run` on a free 127.0.0.1 port, and the
Chromium that Debian packages. The browser tests and the load benchmark share it, so
that both drive the same server the same way (and nothing listens beyond 127.0.0.1).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Playwright's own browser download does not work here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Streamlit has finished the current script run
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    script: str | Path = "streamlit_app.py",
    ready_path: str = "/ready",
) -> Iterator[str]:
    """Yield the URL of the app served by `streamlit run` (with `env` added to its
    environment) once `ready_path` answers 200 (the app's own readiness: its warm-up has
    ended; another script may only have Streamlit's `/_stcore/health`); the server is
    stopped on exit. Its log goes to a file: a pipe left unread would stall a server
    that writes a lot."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(script),
                "--server.headless=true", f"--server.port={port}",
                "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        try:
            _wait_healthy(server, url + ready_path, log, timeout)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_healthy(server: subprocess.Popen, url: str, log: IO[bytes], timeout: float) -> None:
    """Poll `url` until it answers 200 (a 503 while the server warms up is an HTTPError,
    an OSError: polled again)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited: {log.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.25)


def server_pid(url: str) -> int:
    """The `streamlit run` process that serves `url` (a child of this process)."""
    port = urlparse(url).port
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and f"--server.port={port}".encode() in cmdline:
            return int(entry.name)
    raise RuntimeError(f"no server process for {url}")


def process_tree(root: int, min_depth: int = 0) -> list[int]:
    """`root` and every process below it (the forkserver and the training processes);
    `min_depth` 2 leaves out the server and its own children: the training processes."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [(root, 0)], [(root, 0)]
    while todo:
        pid, depth = todo.pop()
        for child in children.get(pid, []):
            found.append((child, depth + 1))
            todo.append((child, depth + 1))
    return [pid for pid, depth in found if depth >= min_depth]
