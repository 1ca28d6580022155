"""A new visitor's page loads and one session's page switches, against the floor app,
at rest and while sessions train: `python -m bench.app_load --only page_loads`.

The app is served with DESIGNER_PAGE_TIMES set, so each of its script runs writes the
seconds of its sections (components/shell/timing.py); the floor app (bench/cold_start.py:
the same pages writing text) is served beside it. The load: N sessions train on the
app's server, as `--only classroom` starts them; the floor cannot train, so it is
loaded by the same N training processes, which run on the same cores beside it.

For each load it records the seconds until the script run has ended and the title
shows, the server's script time by section (the app only), the bytes and frames the
page received over its WebSocket (counted in the browser), the bytes of the scripts
it fetched (the frontend loads a chart's code on first use), and the browser's own
timings: first contentful paint and the main thread's long tasks (parsing, drawing).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.served import READY

TARGET_LOAD_RATIO = 1.3  # a page load under load, against the floor's
TARGET_SWITCH_RATIO = 2.0  # a page switch, against the floor's
VIEWS = ("probe", "credit", "inputs", "paths", "memory", "whatif")  # Inspect's

# Counts the main thread's long tasks from the page's start (before its scripts run).
LONG_TASKS = """
window.__longTasksMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasksMs += entry.duration;
}).observe({type: "longtask", buffered: true});
"""
# Resolves once the browser's main thread is idle: the page's drawing has ended.
IDLE = """() => new Promise((done) => requestIdleCallback(() => done(), {timeout: 10000}))"""
BROWSER_TIMES = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const scripts = performance.getEntriesByType("resource")
    .filter((r) => r.initiatorType === "script" || r.name.endsWith(".js"));
  return {
    fcp_ms: paint ? Math.round(paint.startTime) : null,
    long_tasks_ms: Math.round(window.__longTasksMs || 0),
    script_kb: Math.round(scripts.reduce((n, r) => n + r.decodedBodySize, 0) / 1024),
  };
}"""


def visits(pages: dict) -> dict[str, tuple[str, str]]:
    """Every page to load, Inspect once with each of its views: name -> (path, title)."""
    found = {name: where for name, where in pages.items() if name != "inspect"}
    path, title = pages["inspect"]
    for view in VIEWS:
        found[f"inspect_{view}"] = (f"{path}?view={view}", title)
    return found


class Traffic:
    """What a browser page receives over its WebSocket (the app's protocol)."""

    def __init__(self, page) -> None:
        self.bytes = self.frames = 0
        page.add_init_script(LONG_TASKS)
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        ws.on("framereceived", self._count)

    def _count(self, payload) -> None:
        self.bytes += len(payload)
        self.frames += 1


class ServerTimes:
    """The app's script runs as its timing hook writes them, read as they come."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0
        self.sessions: set[str] = set()  # every session seen so far

    def new(self) -> list[dict]:
        """The runs written since the last call."""
        if not self.path.exists():
            return []
        with open(self.path) as f:
            f.seek(self.offset)
            lines = f.read()
            self.offset = f.tell()
        runs = [json.loads(line) for line in lines.splitlines() if line]
        self.sessions.update(run["session"] for run in runs)
        return runs

    def visitor(self, page: str, known: set[str]) -> dict:
        """The first completed run of `page` since the last call in a session that is
        not in `known`: a new visitor's (the training sessions rerun their pages too)."""
        for run in self.new():
            if run["page"] == page and run["completed"] and run["session"] not in known:
                return {"server_s": run["seconds"], "sections": run["sections"]}
        return {"server_s": None}


def _address(url: str, path: str, token: str) -> str:
    return f"{url}{path}{'&' if '?' in path else '?'}x={token}"


def measure_load(browser, url: str, path: str, title: str, token: str, times) -> dict:
    """One new visitor's load of one page, and its breakdown."""
    from bench.app_load import load

    if times is not None:
        times.new()  # the runs before this visit
        known = set(times.sessions)
    traffic: list[Traffic] = []
    address = _address(url, path, token)
    page, seconds = load(browser, address, title, lambda p: traffic.append(Traffic(p)))
    page.wait_for_timeout(300)  # the last frames of the run, and its long tasks
    found = {
        "s": round(seconds, 2),
        "ws_kb": round(traffic[0].bytes / 1024, 1),
        "ws_frames": traffic[0].frames,
        **page.evaluate(BROWSER_TIMES),
    }
    if times is not None:
        found.update(times.visitor(_page_name(path), known))
    page.context.close()
    return found


def _page_name(path: str) -> str:
    """The page's name in the timing hook's lines: its path, "design" for "/"."""
    return path.split("?")[0].strip("/") or "design"


def median_of(measures: list[dict]) -> dict:
    """The measure whose seconds are the median (its breakdown with it), and every
    measure's seconds: one load or switch on a shared machine is noise."""
    ranked = sorted(measures, key=lambda m: m["s"])
    return {**ranked[(len(ranked) - 1) // 2], "all_s": [m["s"] for m in measures]}


def measure_loads(browser, url: str, pages: dict, token: str, times) -> dict:
    """Every page's load by a new visitor; the app's Inspect once with each view (the
    floor's Inspect has none: `times` None)."""
    found = visits(pages) if times is not None else pages
    return {
        name: measure_load(browser, url, path, title, token, times)
        for name, (path, title) in found.items()
    }


def measure_switches(browser, url: str, pages: dict, token: str, times) -> dict:
    """One session opens the first page, then clicks each other page in the sidebar:
    from the click until that page's script run has ended and its title shows."""
    from bench.app_load import new_page

    page = new_page(browser)
    traffic = Traffic(page)
    first_path, first_title = next(iter(pages.values()))
    if times is not None:
        times.new()
        others = set(times.sessions)
    page.goto(_address(url, first_path, token))
    page.locator("h1", has_text=first_title).first.wait_for()
    page.wait_for_selector(READY)
    links = page.locator('[data-testid="stSidebarNav"] a')
    if times is not None:
        times.new()
    found = {}
    for i, (name, (path, title)) in enumerate(pages.items()):
        if i == 0:
            continue
        page.wait_for_timeout(400)  # as a person pauses between clicks,
        page.evaluate(IDLE)  # once the last page has drawn (its charts, the stack)
        before = traffic.bytes
        started = time.perf_counter()
        links.nth(i).click()
        page.locator("h1", has_text=title).first.wait_for()
        page.wait_for_selector(READY)
        found[name] = {
            "s": round(time.perf_counter() - started, 3),
            "ws_kb": round((traffic.bytes - before) / 1024, 1),
        }
        if times is not None:  # this session's run, not a training session's
            found[name].update(times.visitor(_page_name(path), others))
    page.context.close()
    return found


def ratios(app: dict, floor: dict, floor_of) -> dict[str, float]:
    """Each of the app's figures over the floor's for the same page (`floor_of(name)`:
    the floor's name: the floor has one Inspect page, whatever the view)."""
    return {name: round(app[name]["s"] / floor[floor_of(name)]["s"], 2) for name in app}


def _floor_of(name: str) -> str:
    return "inspect" if name.startswith("inspect_") else name


def page_loads(browser, pages: dict, sessions: int, exp, repeats: int = 3) -> dict:
    """The `page_loads` line: loads and switches at rest, then with `sessions` training;
    each figure the median of `repeats`, the app's and the floor's rounds in turn."""
    from bench.app_load import class_server, explained, open_sessions, progress, start_training
    from bench.cold_start import floor_script
    from bench.served import served_app

    token = exp.to_url()
    with tempfile.TemporaryDirectory(prefix="designer-loads-") as folder:
        times = ServerTimes(Path(folder) / "page_times.jsonl")
        env = {"DESIGNER_PAGE_TIMES": str(times.path)}
        floor = floor_script(Path(folder), pages)
        with (
            class_server(sessions, env) as url,
            served_app(script=floor, ready_path="/_stcore/health") as base,
            explained(browser),
        ):
            progress("page_loads: at rest")
            rest = measure_all(browser, url, base, pages, token, times, repeats)
            progress(f"page_loads: {sessions} sessions train")
            training = open_sessions(browser, url, exp, sessions)
            start_training(training, 120_000)
            time.sleep(3)
            loaded = measure_all(browser, url, base, pages, token, times, repeats)
            for page in training:
                page.context.close()
    return {
        "bench": "page_loads",
        "sessions": sessions,
        "repeats": repeats,
        **summary(rest, loaded),
    }


def measure_all(browser, url: str, base: str, pages: dict, token: str, times, repeats: int):
    """The app's and the floor's loads and switches, one round of each in turn, so that
    a slow spell of the machine falls on both."""
    rounds = []
    for _ in range(repeats):
        rounds.append(
            {
                "app": measure_loads(browser, url, pages, token, times),
                "floor": measure_loads(browser, base, pages, token, None),
                "app_switch": measure_switches(browser, url, pages, token, times),
                "floor_switch": measure_switches(browser, base, pages, token, None),
            }
        )
    return {
        kind: {name: median_of([r[kind][name] for r in rounds]) for name in rounds[0][kind]}
        for kind in rounds[0]
    }


def summary(rest: dict, loaded: dict) -> dict:
    """The ratios to the floor and the worst of each, beside every breakdown."""
    out = {}
    for when, figures in (("rest", rest), ("load", loaded)):
        load_ratio = ratios(figures["app"], figures["floor"], _floor_of)
        switch_ratio = ratios(figures["app_switch"], figures["floor_switch"], str)
        out[when] = {
            **figures,
            "load_ratio": load_ratio,
            "switch_ratio": switch_ratio,
            "worst_load_ratio": max(load_ratio.values()),
            "worst_switch_ratio": max(switch_ratio.values()),
            "median_switch_ratio": round(statistics.median(switch_ratio.values()), 2),
        }
    out["target_load_ratio"] = TARGET_LOAD_RATIO
    out["target_switch_ratio"] = TARGET_SWITCH_RATIO
    return out
