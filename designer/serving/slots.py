"""A shared limit on how many trainings run at once, with a first-come queue.

A hosted demo serves a whole class from one small machine: if thirty students press
Start together, a few train and the rest wait their turn, each seeing their place in
the queue, instead of thirty threads slowing everyone to a crawl."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


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
