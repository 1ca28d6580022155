"""A class on two replicas behind nginx, against one server with the same load: N light
sessions (bench.light_client), half of them students on one lesson and half free
designs on the Train page (each its own small experiment), all pressing Train.

    python -m bench.replicas [--sessions 60] [--lesson why-gates] [--window 120]

It runs the same class three times, each on a fresh store folder:
- `single`: one `streamlit run` (no Redis, no Ray; `--slots` runs train at once);
- `replicas_ray1` and `replicas_ray2`: replicas "a" and "b" behind nginx
  (tests/e2e/replicas.py), sharing Redis and a Ray head with one, then two, CPUs: the
  runs that train at once. Each session's WebSocket goes where the proxy sends a new
  browser (an even random split).
and prints one JSON line per setup:
- `page_load_s`: from a session's connect until its first page run has ended;
- `click_s`: from a click on Train until that run of the page has ended;
- `verdict_s`: for each student, from the click until the lesson's verdict is drawn;
- `sessions_on`: how many sessions each replica served (the proxy's `X-Served-By`);
- `runs_per_min`: the runs that ended (their checkpoints in the store) per minute of
  the window, and `runs_ended` their count.
Everything runs on this machine: measure on a quiet one, with the same `--window`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from bench.light_client import LightSession, wait_until
from bench.served import served_app
from designer import Experiment
from designer.lessons import LESSONS
from tests.e2e.replicas import topology

DESIGN = {
    "task": {"name": "adding", "seq_len": 12},
    "model": {"layers": [{"type": "gru", "hidden_size": 8}]},
    "train": {"steps": 300, "batch_size": 16, "eval_every": 50},
}


def design_query(seed: int) -> str:
    """A free design of its own (its seed): no two sessions share its run."""
    exp = Experiment.from_dict({**DESIGN, "train": {**DESIGN["train"], "seed": seed}})
    return f"x={exp.to_url()}"


def summary(times: list[float]) -> dict:
    times = sorted(times)
    if not times:
        return {"median": None, "max": None, "count": 0}
    return {
        "median": round(statistics.median(times), 2),
        "max": round(times[-1], 2),
        "count": len(times),
    }


async def timed(coroutine_factory, session: LightSession) -> float:
    """Seconds until the page run that the coroutine asks for has ended."""
    started = time.perf_counter()
    await coroutine_factory()
    await asyncio.wait_for(session.finished.wait(), 120)
    return time.perf_counter() - started


async def a_class(url: str, sessions: int, lesson: str, window: float) -> dict:
    """Drive the class at `url` and time it; what the sessions saw."""
    answer = LESSONS[lesson].prediction.answer
    kinds = ["lesson" if i % 2 == 0 else "design" for i in range(sessions)]
    crowd = [
        LightSession(url, "lessons", f"lesson={lesson}&guess={answer}")
        if kind == "lesson"
        else LightSession(url, "train", design_query(i))
        for i, kind in enumerate(kinds)
    ]
    loads = await asyncio.gather(*(timed(s.open, s) for s in crowd))
    buttons = {"lesson": "lesson_train", "design": "train_start"}
    drawn = await wait_until(
        lambda: all(buttons[k] in s.buttons for k, s in zip(kinds, crowd, strict=True)), 120
    )
    if not drawn:
        raise RuntimeError("not every session drew its Train button")
    clicked, wall = time.perf_counter(), time.time()
    clicks = await asyncio.gather(
        *(
            timed(lambda s=s, k=k: s.rerun(click=buttons[k]), s)
            for k, s in zip(kinds, crowd, strict=True)
        )
    )
    seen: dict[int, float] = {}
    while time.perf_counter() < clicked + window:
        for i, (kind, session) in enumerate(zip(kinds, crowd, strict=True)):
            if (
                kind == "lesson"
                and i not in seen
                and any("learned to add" in a for a in session.alerts)
            ):
                seen[i] = time.perf_counter() - clicked
        await asyncio.sleep(0.2)
    await asyncio.gather(*(s.close() for s in crowd))
    where = Counter(s.served_by or "server" for s in crowd)
    return {
        "where": dict(sorted(where.items())),
        "loads": list(loads),
        "clicks": list(clicks),
        "verdicts": list(seen.values()),
        "wall": wall,
    }


def figures(setup: str, store: Path, seen: dict, sessions: int, window: float) -> dict:
    ended = [
        p for p in store.rglob("*.pt") if seen["wall"] <= p.stat().st_mtime <= seen["wall"] + window
    ]
    return {
        "bench": "replicas",
        "setup": setup,
        "sessions": sessions,
        "sessions_on": seen["where"],
        "window_s": window,
        "page_load_s": summary(seen["loads"]),
        "click_s": summary(seen["clicks"]),
        "verdict_s": summary(seen["verdicts"]),
        "students": (sessions + 1) // 2,
        "runs_ended": len(ended),
        "runs_per_min": round(len(ended) / (window / 60), 2),
    }


@contextmanager
def single(slots: int):
    store = Path(tempfile.mkdtemp(prefix="designer-bench-"))
    try:
        with served_app(
            {"DESIGNER_MAX_TRAININGS": str(slots), "DESIGNER_STORE_DIR": str(store)}
        ) as url:
            yield url, store
    finally:
        shutil.rmtree(store, ignore_errors=True)


@contextmanager
def replicas(ray_cpus: int, slots: int):
    with topology(ray_cpus=ray_cpus, env={"DESIGNER_MAX_TRAININGS": str(slots)}) as site:
        yield site.proxy, site.store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--lesson", default="why-gates", choices=list(LESSONS))
    parser.add_argument("--window", type=float, default=120.0, help="seconds after the clicks")
    parser.add_argument("--slots", type=int, default=2, help="runs training at once (single)")
    args = parser.parse_args()
    setups = {
        "single": lambda: single(args.slots),
        "replicas_ray1": lambda: replicas(1, args.slots),
        "replicas_ray2": lambda: replicas(2, args.slots),
    }
    for name, start in setups.items():
        with start() as (url, store):
            seen = asyncio.run(a_class(url, args.sessions, args.lesson, args.window))
            print(json.dumps(figures(name, store, seen, args.sessions, args.window)), flush=True)


if __name__ == "__main__":
    main()
