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
def served_app(env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Yield the URL of the app served by `streamlit run` (with `env` added to its
    environment); the server is stopped on exit. Its log goes to a file: a pipe left
    unread would stall a server that writes a lot."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                "--server.headless=true", f"--server.port={port}",
                "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        try:
            _wait_healthy(server, url, log, timeout)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_healthy(server: subprocess.Popen, url: str, log: IO[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited: {log.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not become healthy within {timeout:g} s")
        time.sleep(0.25)
