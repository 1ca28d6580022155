"""A shared limit on how many trainings run at once, with a first-come queue.

A hosted demo serves a whole class from one small machine: if thirty students press
Start together, a few train and the rest wait their turn, each seeing their place in
the queue, instead of thirty threads slowing everyone to a crawl.

Alone, a server keeps its queue in memory (TrainingSlots); replicas that share a Redis
keep one queue there (RedisSlots), so DESIGNER_MAX_TRAININGS is per deployment."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class TrainingSlots:
    def __init__(self, limit: int):
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self._running: set[object] = set()
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    def position(self, owner: object) -> int | None:
        """0 while `owner` holds a slot, 1.. while it waits (1: next), None otherwise."""
        with self._changed:
            if owner in self._running:
                return 0
            if owner in self._queue:
                return self._queue.index(owner) + 1
            return None

    @property
    def running(self) -> int:
        with self._changed:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._queue)

    @contextmanager
    def hold(self, owner: object, cancelled: Callable[[], bool]) -> Iterator[bool]:
        """Wait for a slot (first come, first served) and hold it inside the block.

        Yields True with a slot, or False when `cancelled()` turned true while waiting."""
        with self._changed:
            self._queue.append(owner)
            while not (self._queue[0] is owner and len(self._running) < self.limit):
                if cancelled():
                    self._queue.remove(owner)
                    self._changed.notify_all()
                    break
                self._changed.wait(0.2)
            else:
                self._queue.popleft()
                self._running.add(owner)
        got = owner in self._running
        try:
            yield got
        finally:
            if got:
                with self._changed:
                    self._running.discard(owner)
                    self._changed.notify_all()


# Redis keys of the deployment-wide queue; a lease expires LEASE_SECONDS after its
# owner's server last refreshed it (a killed replica frees its slots that way).
QUEUE, RUNNING, TICKET, LEASE = (
    "drd:slots:queue",
    "drd:slots:running",
    "drd:slots:ticket",
    "drd:slots:lease:",
)
LEASE_SECONDS = 30

# One atomic step: drop the members whose lease expired, then (with ARGV[3] == "admit")
# give the first waiter a slot if one is free. Returns 0 (holds a slot), 1.. (place in
# the queue) or -1 (neither).
_PLACE = """
for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', KEYS[3] .. member) == 0 then redis.call('SREM', KEYS[2], member) end
end
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('EXISTS', KEYS[3] .. member) == 0 then redis.call('ZREM', KEYS[1], member) end
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank then return -1 end
if ARGV[3] == 'admit' and rank == 0 and redis.call('SCARD', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('SADD', KEYS[2], ARGV[1])
  return 0
end
return rank + 1
"""


class RedisSlots:
    """TrainingSlots for a whole deployment: the limit counts the runs of every replica
    that shares this Redis, and the queue is one first-come line across them. Each
    owner waiting or training here holds a lease that a thread of this server
    refreshes; when the server dies, its leases expire and its places go."""

    def __init__(self, client: Any, limit: int, lease_seconds: float = LEASE_SECONDS):
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self.client = client
        self.lease_seconds = lease_seconds
        self._place = client.register_script(_PLACE)
        self._prefix = f"{uuid.uuid4().hex}:"  # this object's owners, apart from others'
        self._mine: set[str] = set()  # lease keys this server refreshes
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None

    def _name(self, owner: object) -> str:
        return f"{self._prefix}{id(owner)}"

    def _call(self, name: str, mode: str) -> int:
        return int(self._place(keys=[QUEUE, RUNNING, LEASE], args=[name, self.limit, mode]))

    def position(self, owner: object) -> int | None:
        """0 while `owner` holds a slot, 1.. while it waits (1: next), None otherwise."""
        place = self._call(self._name(owner), "look")
        return None if place < 0 else place

    @property
    def running(self) -> int:
        self._call("", "look")  # drops the expired first
        return int(self.client.scard(RUNNING))

    @property
    def waiting(self) -> int:
        self._call("", "look")
        return int(self.client.zcard(QUEUE))

    def _lease(self, name: str) -> None:
        self.client.set(LEASE + name, "1", ex=max(1, round(self.lease_seconds)))

    def _refresh(self) -> None:
        """Refresh the leases of this server's owners until it holds none."""
        while True:
            time.sleep(self.lease_seconds / 3)
            with self._lock:
                names = list(self._mine)
                if not names:
                    self._refresher = None
                    return
            for name in names:
                with contextlib.suppress(Exception):  # Redis away a moment: try again
                    self._lease(name)

    @contextmanager
    def hold(self, owner: object, cancelled: Callable[[], bool]) -> Iterator[bool]:
        """Wait for a slot (first come, first served, deployment-wide) and hold it
        inside the block. Yields True with a slot, or False when `cancelled()` turned
        true while waiting."""
        name = self._name(owner)
        self._lease(name)
        with self._lock:
            self._mine.add(name)
            if self._refresher is None:
                self._refresher = threading.Thread(
                    target=self._refresh, name="designer-slot-leases", daemon=True
                )
                self._refresher.start()
        self.client.zadd(QUEUE, {name: self.client.incr(TICKET)})
        try:
            got = False
            while not (got := self._call(name, "admit") == 0) and not cancelled():
                time.sleep(0.2)
            yield got
        finally:
            with self._lock:
                self._mine.discard(name)
            pipe = self.client.pipeline()
            pipe.zrem(QUEUE, name).srem(RUNNING, name).delete(LEASE + name)
            pipe.execute()
