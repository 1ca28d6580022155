"""Real services for the tests of a deployment past one server: a `redis-server` and a
local Ray head, each started on 127.0.0.1 on a free port in a folder of its own, and
stopped when the test (or module) ends. Nothing here is a stand-in: the tests talk to
the same programs a deployment runs (Debian's redis-server, the pip `ray`).

Tests that use them are marked `services`; `pytest -m "not services"` leaves them out."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.served import free_port

REDIS = shutil.which("redis-server")


@dataclass
class RedisServer:
    """A redis-server with its append-only file on, so that a restart loses nothing
    that was written."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(lambda: _redis_answers(self.url), 20, "redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port and folder (its append-only file)."""
        self.stop()
        self.start()


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@dataclass
class RayHead:
    """A local Ray head (`ray start --head`) that runs and processes can join."""

    folder: Path
    cpus: int = 2
    port: int = field(default_factory=free_port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, **RAY_ENV}

    def start(self) -> None:
        subprocess.run(
            [
                "ray",
                "start",
                "--head",
                f"--port={self.port}",
                "--node-ip-address=127.0.0.1",
                f"--num-cpus={self.cpus}",
                "--include-dashboard=false",
                "--disable-usage-stats",
                f"--temp-dir={self.folder}",
            ],
            env=self.env(),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self) -> None:
        subprocess.run(["ray", "stop", "--force"], env=self.env(), capture_output=True, timeout=60)


# What every process that joins the test's Ray head needs: no token to share, no
# reporting anywhere, and no dashboard.
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def _wait(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(message)


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if REDIS is None:
        pytest.fail("redis-server is not installed (Debian: apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    if shutil.which("ray") is None:
        pytest.fail("ray is not installed (pip install -r requirements-dev.txt)")
    # Ray's session folders need a short path (a Unix socket's name is at most 107 bytes).
    folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    head = RayHead(folder)
    head.start()
    os.environ.update(RAY_ENV)
    try:
        yield head
    finally:
        head.stop()
        shutil.rmtree(folder, ignore_errors=True)


def kill_tree(process: subprocess.Popen) -> None:
    """Kill a process started with start_new_session=True and all it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
