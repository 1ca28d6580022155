"""Where a link's index lives (designer.serving.runstore): a file beside its checkpoints
(a server alone), or a JSON record in Redis that every replica of a deployment reads
(DESIGNER_REDIS_URL). The checkpoints stay files in both: they are megabytes.

Both backends do the same three things: read an index, create one, and change one
atomically. In Redis a change is a read-modify-write under WATCH, retried when another
replica wrote meanwhile, so that two replicas never lose each other's runs, renames or
uploads; and a record read back is checked strictly (a bad one is absent), because
anyone who can write to that Redis could otherwise steer a path or a name."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from designer.serving.atomic import write_atomically

T = TypeVar("T")
log = logging.getLogger(__name__)

RunId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{11}$")]
Role = Literal["current", "variant"]
LINK_KEY = "drd:link:"
WATCH_KEY = "drd:watch:"  # hash {replica id: sessions showing the link there}
REPLICA_KEY = "drd:replica:"  # a replica's heartbeat, with a short TTL
HEARTBEAT_SECONDS = 30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Kept(_Strict):
    id: RunId
    name: str = Field(max_length=200)
    state: Literal["finished", "stopped", "diverged", "failed"]
    error: str | None = Field(default=None, max_length=2000)
    step: int = Field(ge=0)
    total: int = Field(ge=0)
    busy_seconds: float = Field(ge=0)
    val_loss: float | None
    task: str = Field(max_length=100)
    ended: float


class _Running(_Strict):
    id: RunId
    started: float
    actor: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    replica: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)


class _Index(_Strict):
    runs: list[_Kept] = Field(max_length=1000)
    uploads: dict[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], str] = Field(max_length=1000)
    current: RunId | None
    variant: RunId | None
    pair: list[RunId] = Field(max_length=2)
    running: list[_Running] = Field(max_length=8)
    live: dict[Role, RunId] = {}
    created: float
    used: float | None = None


def checked(raw: bytes | str | None, link_id: str) -> dict[str, Any] | None:
    """A record read back from Redis as a plain index, or None when it is absent or
    not exactly an index (logged: someone wrote it by hand, or another version did)."""
    if raw is None:
        return None
    try:
        return _Index.model_validate(json.loads(raw)).model_dump(exclude_none=False)
    except (ValueError, ValidationError) as problem:
        log.warning("the index of link %s in Redis is not valid, ignored: %s", link_id, problem)
        return None


class FileIndex:
    """Each link's index as `<root>/<link id>/index.json` (a server alone)."""

    shared = False

    def __init__(self, root: Path):
        self.root = root

    def read(self, link_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.root / link_id / "index.json").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def exists(self, link_id: str) -> bool:
        return (self.root / link_id / "index.json").is_file()

    def create(self, link_id: str, data: dict[str, Any]) -> None:
        self._write(link_id, data)

    def update(self, link_id: str, data: dict[str, Any], edit: Callable[[dict], T]) -> T:
        """Change the index this server holds (only this server writes it)."""
        result = edit(data)
        self._write(link_id, data)
        return result

    def _write(self, link_id: str, data: dict[str, Any]) -> None:
        data["used"] = time.time()
        (self.root / link_id).mkdir(parents=True, exist_ok=True)
        write_atomically(self.root / link_id / "index.json", json.dumps(data))


class RedisIndex:
    """Each link's index as the JSON record `drd:link:<link id>`, expiring keep_days
    after its last change or use."""

    shared = True

    def __init__(self, client: Any, keep_days: float):
        self.client = client
        self.ttl = max(1, round(keep_days * 86400))

    def read(self, link_id: str) -> dict[str, Any] | None:
        return checked(self.client.get(LINK_KEY + link_id), link_id)

    def exists(self, link_id: str) -> bool:
        return self.read(link_id) is not None

    def create(self, link_id: str, data: dict[str, Any]) -> None:
        data["used"] = time.time()
        self.client.set(LINK_KEY + link_id, json.dumps(data), ex=self.ttl, nx=True)

    def touch(self, link_id: str) -> None:
        self.client.expire(LINK_KEY + link_id, self.ttl)

    def update(self, link_id: str, data: dict[str, Any], edit: Callable[[dict], T]) -> T:
        """Apply `edit` to the index as Redis holds it now (into `data`, the caller's
        copy), and write the result unless another replica wrote first: then again,
        on what it wrote. `edit` may run more than once: it changes only the index."""
        import redis

        key = LINK_KEY + link_id
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    fresh = checked(pipe.get(key), link_id)
                    if fresh is not None:
                        data.clear()
                        data.update(fresh)
                    result = edit(data)
                    data["used"] = time.time()
                    pipe.multi()
                    pipe.set(key, json.dumps(data), ex=self.ttl)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    # --- who shows a link, on which replica ------------------------------------------
    def beat(self, replica: str) -> None:
        """This replica is alive (for HEARTBEAT_SECONDS)."""
        self.client.set(REPLICA_KEY + replica, "1", ex=HEARTBEAT_SECONDS)

    def alive(self, replica: str) -> bool:
        return bool(self.client.exists(REPLICA_KEY + replica))

    def watch(self, link_id: str, replica: str, change: int) -> None:
        """Count a session more (1) or fewer (-1) showing the link on this replica."""
        key = WATCH_KEY + link_id
        pipe = self.client.pipeline()
        pipe.hincrby(key, replica, change).expire(key, self.ttl)
        if pipe.execute()[0] <= 0:
            self.client.hdel(key, replica)

    def watched_elsewhere(self, link_id: str, replica: str) -> bool:
        """Whether a session on another live replica shows the link now."""
        counts = self.client.hgetall(WATCH_KEY + link_id)
        for name, sessions in counts.items():
            name = name.decode() if isinstance(name, bytes) else name
            if name != replica and int(sessions) > 0 and self.alive(name):
                return True
        return False
