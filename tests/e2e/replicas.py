"""The deployment past one server as processes on 127.0.0.1: a redis-server and a Ray
head (tests/services.py), two `streamlit run` replicas that share them and one store
folder (bench/served.py), and nginx in front, written by deploy/render_nginx.py (the
same text as deploy/nginx.conf, for these ports). The browser tests of replicas and
the replicas benchmark both start it from here."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bench.served import free_port, served_app, server_pid
from deploy.render_nginx import COOKIE, write_runtime
from tests.services import RAY_ENV, RayHead, RedisServer

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Topology:
    """What is running: `proxy` is the URL a browser opens; `replicas` maps each
    replica's id to its own URL (behind the proxy)."""

    proxy: str
    replicas: dict[str, str]
    store: Path
    redis: RedisServer | None = None
    ray: RayHead | None = None
    stopped: set[str] = field(default_factory=set)

    def kill(self, replica: str) -> None:
        """Kill a replica's web server at once (SIGKILL: no shutdown of its own), as a
        crashed machine would; what trains on Ray goes on."""
        os.kill(server_pid(self.replicas[replica]), signal.SIGKILL)
        self.stopped.add(replica)


def served_by(url: str, cookie: str | None = None) -> str:
    """Which replica the proxy sent a plain request to (its X-Served-By header)."""
    request = urllib.request.Request(url)
    if cookie:
        request.add_header("Cookie", f"{COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Served-By"]


@contextlib.contextmanager
def proxy(replicas: dict[str, str], folder: Path) -> Iterator[str]:
    """nginx on a free 127.0.0.1 port in front of `replicas` ({id: URL}), a plain
    foreground process whose files are all under `folder`."""
    port = free_port()
    upstreams = {name: urlparse(url).netloc for name, url in replicas.items()}
    conf = write_runtime(folder, upstreams, f"127.0.0.1:{port}")
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "logs/error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_answers(url + "/ready", process, folder)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def _wait_answers(url: str, process: subprocess.Popen, folder: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (folder / "logs/error.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"nginx exited: {log}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


@contextlib.contextmanager
def topology(
    names: tuple[str, ...] = ("a", "b"),
    redis: bool = True,
    ray_cpus: int = 2,
    env: dict[str, str] | None = None,
) -> Iterator[Topology]:
    """Start everything (Redis and Ray first, then the replicas, then the proxy) and
    stop it all on exit. `ray_cpus`: the Ray head's CPUs, the runs that train at once
    (0: no Ray, each replica trains its own runs); `redis` False: no Redis."""
    folder = Path(tempfile.mkdtemp(prefix="drd-", dir="/tmp"))  # Ray: short socket paths
    store = folder / "store"
    store.mkdir()
    shared = {**RAY_ENV, "DESIGNER_STORE_DIR": str(store), **(env or {})}
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, True)
        services = {}
        if redis:
            services["redis"] = RedisServer(folder / "redis")
            services["redis"].folder.mkdir()
            services["redis"].start()
            stack.callback(services["redis"].stop)
            shared["DESIGNER_REDIS_URL"] = services["redis"].url
        if ray_cpus:
            services["ray"] = RayHead(folder / "ray", cpus=ray_cpus)
            services["ray"].start()
            stack.callback(services["ray"].stop)
            shared["DESIGNER_RAY_ADDRESS"] = services["ray"].address
        replicas = {
            name: stack.enter_context(served_app({**shared, "DESIGNER_REPLICA_ID": name}))
            for name in names
        }
        url = stack.enter_context(proxy(replicas, folder / "nginx"))
        yield Topology(url, replicas, store, **services)
