"""deploy/: the proxy's configuration is the renderer's output and nginx accepts it;
compose.yaml wires the replicas, Redis, Ray and the proxy together as docs/hosting.md
says; the image runs the app as a plain user and checks its readiness."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.render_nginx import COMPOSE_LISTEN, COMPOSE_REPLICAS, render, write_runtime

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]


def test_the_committed_nginx_conf_is_the_renderers_output_for_compose():
    committed = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert committed == render(COMPOSE_REPLICAS, COMPOSE_LISTEN), (
        "run: python -m deploy.render_nginx > deploy/nginx.conf"
    )


def test_the_config_upgrades_websockets_and_keeps_a_browser_on_one_replica():
    text = render({"a": "h1:1", "b": "h2:2", "c": "h3:3"}, "80")
    stream = text.split("location /_stcore/stream")[1]
    assert "proxy_set_header Upgrade $http_upgrade;" in stream
    assert "proxy_set_header Connection $connection_upgrade;" in stream
    assert "proxy_read_timeout 3600s;" in stream
    assert "map $cookie_drd_replica $replica" in text and 'Set-Cookie "drd_replica=' in text
    assert "proxy_next_upstream error timeout;" in text
    # each replica first in its own group, every other one its backup
    group = text.split("upstream replica_b {")[1].split("}")[0]
    assert group.split("\n")[1].strip() == "server h2:2 max_fails=1 fail_timeout=10s;"
    assert sorted(line.strip() for line in group.split("\n")[2:4]) == [
        "server h1:1 backup;",
        "server h3:3 backup;",
    ]
    assert "33.33% a;" in text and "33.33% b;" in text and "* c;" in text


@pytest.mark.parametrize(
    "replicas, wrong",
    [
        ({}, "at least one replica"),
        ({"A": "h:1"}, "lower-case name"),
        ({"a": "h;evil:1"}, "name=host:port"),
        ({"a": "h1:8501", "b": "h2:8501"}, "a port of its own"),
    ],
)
def test_a_wrong_replica_list_is_refused_with_what_was_wrong(replicas, wrong):
    with pytest.raises(ValueError, match=wrong):
        render(replicas, "80")


@pytest.mark.services
def test_nginx_accepts_the_config_run_as_a_plain_process(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = write_runtime(tmp_path, {"a": "127.0.0.1:9001", "b": "127.0.0.1:9002"}, "127.0.0.1:9000")
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "logs/e.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_compose_wires_the_replicas_to_redis_ray_and_one_store():
    services = compose()
    assert set(services) == {"proxy", "app-a", "app-b", "redis", "ray-head", "ray-worker"}
    head = services["ray-head"]["command"]
    port = next(arg.split("=")[1] for arg in head if arg.startswith("--port="))
    assert "--head" in head and "--block" in head
    worker = services["ray-worker"]["command"]
    assert f"--address=ray-head:{port}" in worker and "--block" in worker
    assert any(arg.startswith("--num-cpus=") for arg in worker)
    ids = set()
    for name, address in COMPOSE_REPLICAS.items():
        app = services[address.split(":")[0]]
        env = app["environment"]
        assert env["DESIGNER_REPLICA_ID"] == name and env["PORT"] == address.split(":")[1]
        assert env["DESIGNER_REDIS_URL"].startswith("redis://redis:")
        assert env["DESIGNER_RAY_ADDRESS"] == f"ray-head:{port}"
        assert f"--address=ray-head:{port}" in app["command"][-1]
        assert "streamlit run streamlit_app.py --server.address 0.0.0.0" in app["command"][-1]
        assert f"store:{env['DESIGNER_STORE_DIR']}" in app["volumes"]
        assert "/ready" in " ".join(app["healthcheck"]["test"])
        ids.add(env["DESIGNER_REPLICA_ID"])
    assert len(ids) == len(COMPOSE_REPLICAS)
    redis = services["redis"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    proxy = services["proxy"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["ports"] == [f"8080:{COMPOSE_LISTEN}"]
    assert all(c["condition"] == "service_healthy" for c in proxy["depends_on"].values())


def test_the_image_runs_the_app_as_a_plain_user_with_cpu_torch_and_checks_ready():
    lines = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert lines[[line.startswith("FROM") for line in lines].index(True)] == (
        "FROM python:3.11-slim"
    )
    text = "\n".join(lines)
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in text
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text(encoding="utf-8")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/ready" in text.split("HEALTHCHECK")[1]
    assert "streamlit run streamlit_app.py --server.address 0.0.0.0" in lines[-1]
