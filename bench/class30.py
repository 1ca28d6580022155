"""A class of 30 on the Train page, each with a design of its own:
`python -m bench.app_load --only class30`.

Thirty light sessions (bench/light_client.py: the app's own WebSocket protocol, no
browser) open the Train page, each with a different design (its first layer's width:
no two share a run), and press Start at once. The server trains as many runs at a
time as it has training slots; the others wait in its queue. It records:
- `load_s`: each session's page load, from its connection until its first script run
  has ended and the Start button is drawn (target: 2 s);
- `click_s`: each Start, from the click until the page shows the run's state
  (training, or its place in the queue; target: 2 s);
- `queue_places_at_click`: the places in the queue the pages showed right after Start,
  and `queue_ok`: at least as many sessions as had to wait were shown "you are number
  K in the queue" on their page;
- `finished`: how many runs the pages showed as finished, and `last_run_ends_s`: the
  seconds from the clicks until the last one did;
- `peak_rss_mb`, `peak_pss_mb`: the server's memory meanwhile (bench.app_load.TreeMemory).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from designer import Experiment

QUEUED = re.compile(r"you are number (\d+) in the queue")
TARGET_S = 2.0
WAIT_S = 900.0  # the longest wait for the last run


def design(i: int, steps: int) -> Experiment:
    """The i-th student's design: the same task, a first layer of a width of its own."""
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 20},
            "model": {"layers": [{"type": "lstm", "hidden_size": 16 + i}]},
            "train": {"steps": steps, "batch_size": 32, "eval_every": 50},
        }
    )


def _shows(session, words: str) -> bool:
    return any(words in text for text in session.markdown)


async def _class(url: str, sessions: int, steps: int) -> dict:
    from bench.light_client import LightSession

    students = [
        LightSession(url, "train", f"x={design(i, steps).to_url()}") for i in range(sessions)
    ]
    loads = await asyncio.gather(*(_open(s) for s in students))
    clicks = await asyncio.gather(*(_start(s) for s in students))
    started = time.perf_counter()
    ended: dict[int, float] = {}
    queued: set[int] = set()
    while len(ended) < sessions and time.perf_counter() - started < WAIT_S:
        for i, student in enumerate(students):
            if _shows(student, "you are number"):
                queued.add(i)
            if i not in ended and _shows(student, "**Finished:"):  # its status line
                ended[i] = time.perf_counter() - started
        await asyncio.sleep(0.2)
    # what a page that never showed its run finished shows instead (its status line)
    stuck = {
        i: [t[:160] for t in student.markdown if t.startswith("**")][-2:] + student.alerts[-2:]
        for i, student in enumerate(students)
        if i not in ended
    }
    await asyncio.gather(*(s.close() for s in students))
    places = sorted(place for _, place in clicks if place is not None)
    return {
        "load_s": _spread(loads),
        "click_s": _spread([seconds for seconds, _ in clicks]),
        "queue_places_at_click": places,
        "sessions_shown_a_place": len(queued),
        "finished": len(ended),
        "last_run_ends_s": round(max(ended.values()), 1) if ended else None,
        "unfinished_show": stuck,
    }


async def _open(session) -> float:
    from bench.light_client import wait_until

    started = time.perf_counter()
    await session.open()
    if not await wait_until(lambda: "train_start" in session.buttons, 120):
        raise RuntimeError("a session's Train page drew no Start button")
    await session.finished.wait()
    return time.perf_counter() - started


async def _start(session) -> tuple[float, int | None]:
    """Start pressed: the seconds until the page shows the run's state, and the place
    in the queue it shows (None: not waiting)."""
    from bench.light_client import wait_until

    session.markdown.clear()
    started = time.perf_counter()
    await session.rerun(click="train_start")
    states = ("**Training", "in the queue", "**Finished:")
    if not await wait_until(lambda: any(_shows(session, s) for s in states), 120):
        raise RuntimeError("a session's page did not show its run after Start")
    seconds = time.perf_counter() - started
    places = [QUEUED.search(text) for text in session.markdown]
    return seconds, next((int(m[1]) for m in places if m), None)


def _spread(times: list[float]) -> dict:
    return {
        "median": round(statistics.median(times), 2),
        "max": round(max(times), 2),
        "within_target": sum(t <= TARGET_S for t in times),
    }


def class30(sessions: int, steps: int) -> dict:
    """The `class30` line, on a fresh server with the default training slots."""
    from bench.app_load import TreeMemory, class_server
    from bench.served import server_pid
    from components.train.runs import MAX_TRAININGS

    # the light clients' event loop runs in a thread of its own: the benchmark's browser
    # driver runs one in this thread
    with (
        class_server(MAX_TRAININGS) as url,
        TreeMemory(server_pid(url)) as memory,
        ThreadPoolExecutor(1) as thread,
    ):
        found = thread.submit(asyncio.run, _class(url, sessions, steps)).result()
    return {
        "bench": "class30",
        "sessions": sessions,
        "steps": steps,
        "slots": MAX_TRAININGS,
        **found,
        # every session that had to wait was told its place
        "queue_ok": found["sessions_shown_a_place"] >= sessions - MAX_TRAININGS,
        "all_finished": found["finished"] == sessions,
        "peak_rss_mb": round(memory.peak_rss_mb),
        "peak_pss_mb": round(memory.peak_pss_mb),
        "target_s": TARGET_S,
    }
