"""A class on one lesson: N students open the same lesson at once, each in a browser
context of their own, make their prediction and press Train together. Identical
experiments share one run (designer.serving.shared_runs), so the server trains the lesson's
runs once and every student watches them.

    python -m bench.lesson_class [--sessions 30] [--lesson why-gates] [--slots 2]

Starts `streamlit run` on a free 127.0.0.1 port (a fresh store folder, `--slots`
training slots), drives Debian's Chromium through Playwright, and prints one JSON
line:
- `verdict_s`: for each session, the seconds from its click on Train until its page
  shows the lesson's verdict (median, worst, and all of them, sorted);
- `within_60_s`: how many sessions saw their verdict within 60 s of their click;
- `runs_trained`: how many runs the server trained (its kept shared runs), against
  the lesson's run count;
- `open_s`: how long opening the N pages took, before anyone clicked.
The browser runs on the same 2-core machine as the server, so every page's drawing
competes with the training: a class on their own laptops loads the server less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.app_load import explained, new_page, what_it_shows
from bench.served import CHROMIUM, CHROMIUM_ARGS, READY, served_app
from designer.lessons import LESSONS

VERDICT = '[data-testid="stAlert"]'  # the verdict, once the runs have ended
WAIT_S = 300.0


def lesson_class(sessions: int, lesson_name: str, slots: int) -> dict:
    from playwright.sync_api import sync_playwright

    lesson = LESSONS[lesson_name]
    store = Path(tempfile.mkdtemp(prefix="designer-bench-"))
    env = {"DESIGNER_MAX_TRAININGS": str(slots), "DESIGNER_STORE_DIR": str(store)}
    with served_app(env) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        with explained(browser):
            opened = time.perf_counter()
            pages = []
            for _ in range(sessions):
                page = new_page(browser)
                page.goto(f"{url}/lessons?lesson={lesson.name}&guess={lesson.prediction.answer}")
                pages.append(page)
            for page in pages:
                page.wait_for_selector(READY)
                page.locator(".st-key-lesson_train button").wait_for()
            open_s = time.perf_counter() - opened
            clicked, wall = [], time.time()
            for page in pages:  # everyone presses Train at (nearly) the same moment
                page.locator(".st-key-lesson_train button").click(no_wait_after=True)
                clicked.append(time.perf_counter())
            seen: dict[int, float] = {}
            deadline = time.perf_counter() + WAIT_S
            while len(seen) < sessions and time.perf_counter() < deadline:
                for i, page in enumerate(pages):
                    if i not in seen and page.locator(VERDICT).count():
                        seen[i] = time.perf_counter() - clicked[i]
                time.sleep(0.25)
            shown = [what_it_shows(page) for i, page in enumerate(pages) if i not in seen][:3]
            browser.close()
    times = sorted(seen.values())
    ended = sorted(p.stat().st_mtime for p in (store / "shared").glob("*.pt"))
    shutil.rmtree(store, ignore_errors=True)
    return {
        **_figures(lesson, sessions, slots, "chromium", open_s, times, ended, wall),
        "not_seen_shows": shown,
    }


def lesson_class_light(sessions: int, lesson_name: str, slots: int) -> dict:
    """The same class, each student a light client (bench.light_client): the server
    does all it does for a browser, and nothing on this machine draws the pages."""
    from bench.light_client import LightSession, wait_until

    lesson = LESSONS[lesson_name]
    store = Path(tempfile.mkdtemp(prefix="designer-bench-"))
    env = {"DESIGNER_MAX_TRAININGS": str(slots), "DESIGNER_STORE_DIR": str(store)}
    query = f"lesson={lesson.name}&guess={lesson.prediction.answer}"

    async def run(url: str) -> tuple[float, list[float], float]:
        opened = time.perf_counter()
        students = [LightSession(url, "lessons", query) for _ in range(sessions)]
        await asyncio.gather(*(s.open() for s in students))
        ready = await wait_until(lambda: all("lesson_train" in s.buttons for s in students), 120)
        if not ready:
            raise RuntimeError("not every session drew the Train button")
        open_s = time.perf_counter() - opened
        clicked, wall = time.perf_counter(), time.time()
        await asyncio.gather(*(s.rerun(click="lesson_train") for s in students))
        seen: dict[int, float] = {}
        deadline = clicked + WAIT_S
        while len(seen) < sessions and time.perf_counter() < deadline:
            for i, student in enumerate(students):
                if i not in seen and any("learned to add" in a for a in student.alerts):
                    seen[i] = time.perf_counter() - clicked
            await asyncio.sleep(0.1)
        await asyncio.gather(*(s.close() for s in students))
        return open_s, sorted(seen.values()), wall

    with served_app(env) as url:
        open_s, times, wall = asyncio.run(run(url))
    ended = sorted(p.stat().st_mtime for p in (store / "shared").glob("*.pt"))
    shutil.rmtree(store, ignore_errors=True)
    return _figures(lesson, sessions, slots, "light", open_s, times, ended, wall)


def _figures(lesson, sessions, slots, client, open_s, times, ended, wall) -> dict:
    return {
        "bench": "lesson_class",
        "lesson": lesson.name,
        "client": client,
        "sessions": sessions,
        "slots": slots,
        "open_s": round(open_s, 1),
        "verdicts_seen": len(times),
        "verdict_s": {
            "median": round(statistics.median(times), 1) if times else None,
            "max": round(times[-1], 1) if times else None,
            "all": [round(t, 1) for t in times],
        },
        "within_60_s": sum(t <= 60 for t in times),
        "runs_trained": len(ended),
        "runs_in_lesson": len(lesson.runs),
        "runs_ended_s": [round(t - wall, 1) for t in ended],  # after the clicks
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--lesson", default="why-gates", choices=list(LESSONS))
    parser.add_argument("--slots", type=int, default=2, help="training slots on the server")
    parser.add_argument(
        "--client",
        choices=("light", "chromium"),
        default="light",
        help="light: WebSocket clients, no browser (default); chromium: a browser "
        "context each, on this machine",
    )
    args = parser.parse_args()
    measure = lesson_class_light if args.client == "light" else lesson_class
    print(json.dumps(measure(args.sessions, args.lesson, args.slots)), flush=True)


if __name__ == "__main__":
    main()
