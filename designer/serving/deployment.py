"""How this server is deployed: alone (the default), or as one replica of several that
share their small records in Redis (DESIGNER_REDIS_URL) and train on a Ray cluster
(DESIGNER_RAY_ADDRESS).

One server alone needs neither: its records are files under DESIGNER_STORE_DIR and its
runs train in local processes. So `redis` and `ray` are imported only inside the
functions that need them, and only when their variable is set: a server alone never
loads them."""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from typing import Any

from designer.document.spec import Experiment
from designer.serving.slots import TrainingSlots
from designer.training.runner import ProcessRunner, Runner, Start

REDIS_TIMEOUT = 5.0  # seconds a Redis call may take before the page says it failed


def redis_url() -> str | None:
    """The Redis that the replicas share (DESIGNER_REDIS_URL), or None: alone."""
    return os.environ.get("DESIGNER_REDIS_URL") or None


def ray_address() -> str | None:
    """The Ray cluster that trains the runs (DESIGNER_RAY_ADDRESS), or None: locally."""
    return os.environ.get("DESIGNER_RAY_ADDRESS") or None


def replica_id() -> str:
    """This server among the replicas (DESIGNER_REPLICA_ID, else host name and process)."""
    return os.environ.get("DESIGNER_REPLICA_ID") or f"{socket.gethostname()}-{os.getpid()}"


@functools.cache
def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )


def redis_client() -> Any | None:
    """This process's connection pool to the shared Redis (one per URL), or None
    when there is none (a server alone)."""
    url = redis_url()
    return _client(url) if url is not None else None


def new_runner(
    exp: Experiment,
    *,
    actor_name: str,
    on_finish: Callable[[Runner], None] | None,
    slots: Any,
    nice: int,
    steps: int | None = None,
    start: Start = None,
) -> Runner:
    """A run of `exp`, not started: on the Ray cluster as the actor `actor_name` (so
    that another replica can follow it), else in a local process."""
    options = {"steps": steps, "on_finish": on_finish, "slots": slots, "nice": nice, "start": start}
    if ray_address() is not None:
        from designer.training.ray_runner import RayRunner

        return RayRunner(exp, actor_name=actor_name, **options)
    return ProcessRunner(exp, **options)


def follow_runner(actor_name: str, on_finish: Callable[[Runner], None] | None) -> Runner | None:
    """A mirror in this process of a run that trains on Ray as `actor_name`; None
    without Ray, or when that actor is gone."""
    if ray_address() is None or not actor_name:
        return None
    from designer.training.ray_runner import RayRunner

    return RayRunner.follow(actor_name, on_finish)


def training_slots(limit: int) -> Any:
    """The cap on trainings at once: this server's own queue, or with Redis one queue
    for the whole deployment (the limit counts every replica's runs)."""
    client = redis_client()
    if client is not None:
        from designer.serving.slots import RedisSlots

        return RedisSlots(client, limit)
    return TrainingSlots(limit)
