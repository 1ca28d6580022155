"""The app under load, in a real browser: several sessions training at once, a class
of sessions on one server, and what the live page costs a run compared with
`python -m designer train`.

    python -m bench.app_load [--sessions 4] [--steps 1500] [--sessions-list 1,4,8]
                             [--only cold_start|design_clicks|click_response|
                                    live_overhead|classroom|page_loads|class30|
                                    char_model|memory]
                             [--class-size 30] [--class-steps 300]

Starts `streamlit run` on a free 127.0.0.1 port, drives Debian's Chromium
(/usr/bin/chromium) through Playwright, and prints JSON lines:
- `cold_start`: each page's first visit on a server just started and ready (a fresh
  server for each page), against a Streamlit app of the same pages that only write
  text, in the same run (bench/cold_start.py); the target: 2 s;
- `design_clicks`: 20 settings changes on the Design page (a layer added, widened,
  narrowed, removed), each a script run: as the browser sees it, the whole answer,
  and the page's script run alone in this process (bench/design_clicks.py), against a
  text-only page's button in the same run; the target: 0.3 s;
- `click_response`: with N sessions training, how long each page takes to answer a
  click (Pause until the page says Paused, Resume until it says Training);
- `live_overhead`: the wall time of one run's training loop on the Train page (probes
  and the live charts on, the browser on the same machine) against the same run's
  loop from the command line (process start-up left out of both), taken in turn
  `--repeats` times (the order swapped each time), as the median of the pairs'
  ratios;
- `char_model`: the same pairs for the character model (bench.app_load.char_experiment,
  `--char-steps`): characters per second on the page against the command line's;
- `page_loads`: each page's load by a new visitor and each sidebar switch in one
  session, against the floor app's, at rest and with `--load-sessions` sessions
  training, with the breakdown of each (bench/page_loads.py);
- `class30`: `--class-size` light sessions press Start on designs of their own at once
  (bench/class30.py);
- `classroom`, one line for each N in `--sessions-list`: N sessions, each a browser
  context of its own (N students), train the same design at once on one server
  (100,000-step runs, so that none ends while it is measured; each is stopped at the
  end; each server keeps its runs in a temporary folder). Its figures:
  - `load_warm_s`: each page (Design, Graph, Train, Inspect) in a new context on the
    server where the N sessions train, while they train (it has served each page
    before), from the request until the page's script run has finished and its title
    shows (a fresh server's first visit is the `cold_start` line);
  - `steps_per_s`: each session's training speed while all N train, from the Step
    counter on its page over a 15 s window (`steps_per_s_shown`: what its "Steps per
    second" says at the end of the window, over its run's last 50 steps);
  - `click_median_s`, `click_max_s`: the click response, as `click_response`
    measures it, with the N sessions training (N training slots: none of them queues);
  - `peak_rss_mb`: the server's peak memory on that server: the VmRSS of the server
    process and all its descendants (the forkserver and the training processes)
    summed, sampled every 0.5 s (`peak_pss_mb`: the same in PSS, which counts once the
    pages that the forked processes share; `peak_processes`: the most processes);
  - `queue_positions`: on a second fresh server with 2 training slots
    (DESIGNER_MAX_TRAININGS=2), the N sessions press Start one after the other and
    each waiting session's page says "you are number K in the queue": the places
    shown once all have started, in the order they pressed Start; `queue_ok` when
    the first two train and the others show 1..N-2, each once;
  - `run_ids_distinct`: each session's link got a run id of its own (`r=` in its
    address after Start); `stranger_sees_no_run`: a new context opening the Train
    page with the experiment alone (`x=`) shows no run ("Press Start");
    `shared_link_shows_run`: a new context opening one session's whole address (its
    `r=`) shows that session's run: the id is a capability, by design.
  The bar: every click answered within 2 s (`target_click_max_s`) at N = 8. Each N
  takes a few minutes (progress on stderr); no page is waited for longer than 2
  minutes. An N that fails prints a line with `error` (what went wrong, and what the
  open pages showed), the next N goes on, and the exit status is 1;
- `memory`: the server's memory in PSS (bench/memory.py): after the imports alone,
  once ready, at rest after visits to every page, one run, an idle session, and a
  class of `--class` sessions each holding a finished run of the default design
  (`--class-steps` steps), each with its breakdown, beside the floor app's; the
  targets: 400 MB at rest, 80 MB a run, 5 MB an idle session, 1.5 GB for 30.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from bench.class30 import class30
from bench.cold_start import cold_start, floor_script
from bench.design_clicks import design_clicks
from bench.page_loads import page_loads
from bench.served import (
    CHROMIUM,
    CHROMIUM_ARGS,
    READY,
    ROOT,
    process_tree,
    served_app,
    server_pid,
)
from designer import Experiment

# The pages, and the title each one shows once drawn.
PAGES = {
    "design": ("/", "Deep RNN Designer"),
    "graph": ("/graph", "Unrolled graph"),
    "train": ("/train", "Train"),
    "inspect": ("/inspect", "Inspect"),
    "compare": ("/compare", "Compare"),
    "lessons": ("/lessons", "Lessons"),
}
CLASS_STEPS = 100_000  # a classroom run trains for much longer than it is measured
CLASS_QUEUE_CAP = 2  # training slots on the server where the classroom queues
TARGET_CLICK_S = 2.0
WAIT_MS = 120_000  # the longest wait for a page in a classroom: then it has failed
ERROR = '[data-testid="stException"]'  # an exception that a page shows


def experiment(steps: int) -> Experiment:
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 50},
            "model": {"layers": [{"type": "lstm", "hidden_size": 64}]},
            "train": {"steps": steps, "batch_size": 64, "eval_every": 100},
        }
    )


def open_train(browser, url: str, exp: Experiment):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/train?x={exp.to_url()}")
    page.wait_for_selector(READY, timeout=120_000)
    return page


def start_training(pages: list, timeout_ms: float = 60_000) -> None:
    """Press Start on every page, then wait until each shows its curves (its run has
    trained a first step)."""
    for page in pages:
        page.locator(".st-key-train_start button").click()
    for page in pages:
        page.get_by_text("Log scale").first.wait_for(timeout=timeout_ms)


def click_times(pages: list, rounds: int = 2) -> list[float]:
    """Seconds from each click to its answer: Pause until the page says Paused, Resume
    until it says Training, page after page, `rounds` times."""
    times = []
    for _ in range(rounds):
        for action, shown in (("Pause", "Paused"), ("Resume", "Training")):
            for page in pages:
                start = time.perf_counter()
                page.locator(f".st-key-train_{action.lower()} button").click()
                page.get_by_text(shown, exact=True).first.wait_for(timeout=60_000)
                times.append(time.perf_counter() - start)
    return times


def click_response(browser, url: str, sessions: int) -> dict:
    exp = experiment(20_000)
    pages = [open_train(browser, url, exp) for _ in range(sessions)]
    start_training(pages)
    time.sleep(3)  # all of them training
    times = click_times(pages)
    for page in pages:
        page.locator(".st-key-train_stop button").click()
        page.context.close()
    return {
        "bench": "click_response",
        "sessions": sessions,
        "clicks": len(times),
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "times_s": [round(t, 2) for t in times],
        "target_max_s": TARGET_CLICK_S,
    }


def cli_seconds(exp: Experiment) -> float:
    """The training loop's wall time in `python -m designer train` (start-up left out)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(exp.to_json())
    done = subprocess.run(
        [sys.executable, "-m", "designer", "train", f.name, "--json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    Path(f.name).unlink()
    return json.loads(done.stdout.splitlines()[-1])["wall_seconds"]


def page_seconds(browser, url: str, exp: Experiment) -> float:
    """The same loop's wall time on the Train page, watched live in a browser."""
    page = open_train(browser, url, exp)
    page.locator(".st-key-train_start button").click()
    finished = page.get_by_text("Finished:").first
    finished.wait_for(timeout=600_000)
    # "Finished: 1,500 steps in 27.3 s of training": the run's own wall time
    seconds = float(finished.inner_text().split(" in ")[1].split(" s")[0])
    page.context.close()
    return seconds


def pairs(browser, url: str, exp: Experiment, repeats: int) -> tuple[list, list, list]:
    """Command line and live page as `repeats` back-to-back pairs, the order swapped
    from one pair to the next: their seconds, and each pair's ratio (page over command
    line), sorted. This machine's speed drifts by 10% and more over minutes, so each
    pair gives a ratio and the figure is the median of those."""
    cli, page = [], []
    for i in range(repeats):
        if i % 2 == 0:
            cli.append(cli_seconds(exp))
            page.append(page_seconds(browser, url, exp))
        else:
            page.append(page_seconds(browser, url, exp))
            cli.append(cli_seconds(exp))
    return cli, page, sorted(p / c for p, c in zip(page, cli, strict=True))


def live_overhead(browser, url: str, steps: int, repeats: int) -> dict:
    """The `live_overhead` line: the default design's run, page against command line."""
    cli, page, ratios = pairs(browser, url, experiment(steps), repeats)
    return {
        "bench": "live_overhead",
        "steps": steps,
        "cli_s": cli,
        "page_s": page,
        "pair_ratios": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(ratios), 3),
        "ratio_of_medians": round(statistics.median(page) / statistics.median(cli), 3),
        "target": 1.05,
    }


def char_experiment(steps: int) -> Experiment:
    """The character model as the Train page offers it: two LSTM layers on the
    lighthouse story, windows of 64 characters."""
    return Experiment.from_dict(
        {
            "task": {"name": "charlm", "seq_len": 64, "text": "lighthouse"},
            "model": {"layers": [{"type": "lstm", "hidden_size": 128}] * 2},
            "train": {"steps": steps, "batch_size": 32, "eval_every": 100},
        }
    )


def char_model(browser, url: str, steps: int, repeats: int) -> dict:
    """The `char_model` line: characters per second while the Train page shows the
    run, against the command line's for the same run (median of the pairs' ratios;
    the target: 0.9 or more)."""
    exp = char_experiment(steps)
    chars = steps * exp.train.batch_size * exp.task.params["seq_len"]
    cli, page, ratios = pairs(browser, url, exp, repeats)
    return {
        "bench": "char_model",
        "steps": steps,
        "characters": chars,
        "cli_chars_per_s": [round(chars / s) for s in cli],
        "page_chars_per_s": [round(chars / s) for s in page],
        "ratio": round(1 / statistics.median(ratios), 3),  # page's speed over the CLI's
        "target": 0.9,
    }


# --- classroom -------------------------------------------------------------------------
def _kb(path: str, field: str) -> int:
    """A `field:  1234 kB` line of a /proc file; 0 for a process that has ended."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeMemory:
    """The memory of a process tree, sampled every `interval` seconds in a thread
    (as a context manager): the peaks of the summed VmRSS and PSS, in MB."""

    def __init__(self, root: int, interval: float = 0.5):
        self.root, self.interval = root, interval
        self.peak_rss_mb = self.peak_pss_mb = 0.0
        self.peak_processes = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="tree-memory", daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.is_set():
            pids = process_tree(self.root)
            rss = sum(_kb(f"/proc/{pid}/status", "VmRSS") for pid in pids)
            pss = sum(_kb(f"/proc/{pid}/smaps_rollup", "Pss") for pid in pids)
            self.peak_rss_mb = max(self.peak_rss_mb, rss / 1024)
            self.peak_pss_mb = max(self.peak_pss_mb, pss / 1024)
            self.peak_processes = max(self.peak_processes, len(pids))
            self._done.wait(self.interval)


@contextmanager
def class_server(max_trainings: int, extra: dict[str, str] | None = None) -> Iterator[str]:
    """A fresh server for a class: `max_trainings` training slots, classroom-long runs
    allowed, its runs kept in a temporary folder that goes with it (`extra`: more of
    its environment)."""
    with tempfile.TemporaryDirectory(prefix="designer-bench-") as store:
        env = {
            **(extra or {}),
            "DESIGNER_MAX_TRAININGS": str(max_trainings),
            "DESIGNER_MAX_STEPS": str(CLASS_STEPS),
            "DESIGNER_STORE_DIR": store,
            # an error a page meets shows its traceback (the benchmark reports it)
            "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",
        }
        with served_app(env) as url:
            yield url


def new_page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def what_it_shows(page) -> str:
    """A page's errors, alerts and bold lines (its run's state), for a failure report."""
    try:
        found = page.locator(f'{ERROR}, [data-testid="stAlert"], strong').all_inner_texts()
    except Exception as err:  # the page itself is gone
        return repr(err)[:100]
    return " | ".join(" ".join(text.split()) for text in found)[:500]


@contextmanager
def explained(browser) -> Iterator[None]:
    """A failure inside says what each open page shows (while its server still runs)."""
    try:
        yield
    except Exception as err:
        shown = [what_it_shows(page) for context in browser.contexts for page in context.pages]
        raise RuntimeError(f"{err!r}; the open pages show: {shown}") from err


def load(browser, address: str, title: str, before=None):
    """A new context opens `address`: the page, and the seconds until its script run
    has finished and its title shows (`before(page)`, if given, is called first: it
    may listen to the page's traffic)."""
    page = new_page(browser)
    if before is not None:
        before(page)
    start = time.perf_counter()
    page.goto(address)
    try:
        page.locator("h1", has_text=title).or_(page.locator(ERROR)).first.wait_for()
        page.wait_for_selector(READY)
        seconds = time.perf_counter() - start
        if page.locator(ERROR).count():
            raise RuntimeError("the page shows an error")
    except Exception as err:
        shown = what_it_shows(page)
        page.context.close()
        raise RuntimeError(f"{address} did not load ({err!r}); it shows: {shown}") from err
    return page, seconds


def load_seconds(browser, url: str, name: str, exp: Experiment) -> float:
    path, title = PAGES[name]
    page, seconds = load(browser, f"{url}{path}?x={exp.to_url()}", title)
    page.context.close()
    return round(seconds, 2)


def open_sessions(browser, url: str, exp: Experiment, sessions: int) -> list:
    """`sessions` contexts open the Train page together, as a class does."""
    pages = [new_page(browser) for _ in range(sessions)]
    for page in pages:
        page.goto(f"{url}/train?x={exp.to_url()}")
    for page in pages:
        page.locator(".st-key-train_start button").wait_for()
        page.wait_for_selector(READY)
    return pages


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def step(page) -> int:
    return int(metric(page, "Step (of").replace(",", ""))


def fresh_step(page, timeout: float = 10.0) -> tuple[int, float]:
    """The Step counter the moment the page redraws it, and that moment: the page
    polls its run every 2 s, so a reading at any other time is up to 2 s old."""
    before, deadline = step(page), time.monotonic() + timeout
    while (now := step(page)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    return now, time.perf_counter()


def training_speed(pages: list, window: float) -> tuple[list[float], list[float]]:
    """Each session's steps per second over `window` seconds (from its Step counter),
    and the "Steps per second" each page shows at the end."""
    first = [fresh_step(page) for page in pages]
    time.sleep(window)
    last = [fresh_step(page) for page in pages]
    pairs = zip(first, last, strict=True)
    rates = [round((s1 - s0) / (t1 - t0), 1) for (s0, t0), (s1, t1) in pairs]
    shown = []
    for page in pages:
        text = metric(page, "Steps per second")
        shown.append(float(text) if text.replace(".", "", 1).isdigit() else None)
    return rates, shown


def wait_for_run_id(page, timeout: float = 30.0) -> str | None:
    """The run id that Start put in the page's address (`r=`)."""
    deadline = time.monotonic() + timeout
    while "r" not in query(page) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return query(page).get("r")


def warm_loads(browser, url: str, exp: Experiment) -> tuple[dict[str, float], bool]:
    """Each page's load in a new context, on a server that has served it before; and
    whether the Train page opened with the experiment alone (`x=`, no run id) shows
    no run."""
    warm, no_run = {}, False
    for name, (path, title) in PAGES.items():
        page, seconds = load(browser, f"{url}{path}?x={exp.to_url()}", title)
        warm[name] = round(seconds, 2)
        if name == "train":
            no_run = (
                page.get_by_text("Press Start").first.is_visible()
                and page.locator('[data-testid="stMetric"]').count() == 0
            )
        page.context.close()
    return warm, no_run


def shows_run(browser, address: str) -> bool:
    """Whether a new context opening a session's whole address sees its run train."""
    peer, _ = load(browser, address, "Train")
    shared_step = 0
    deadline = time.monotonic() + 30
    while shared_step == 0 and time.monotonic() < deadline:
        if peer.locator('[data-testid="stMetric"]').count():
            shared_step = step(peer)
        peer.wait_for_timeout(250)
    peer.context.close()
    return shared_step > 0


def stop_all(pages: list) -> None:
    for page in pages:
        page.locator(".st-key-train_stop button").click()
        page.get_by_text("Stopped", exact=False).first.wait_for()
        page.context.close()


def class_training(browser, sessions: int, exp: Experiment, window: float) -> dict:
    """N sessions train at once on a fresh server with N training slots: their speed,
    the click response, warm page loads, private links and the server's memory."""
    with (
        class_server(sessions) as url,
        TreeMemory(server_pid(url)) as memory,
        explained(browser),
    ):
        for name in PAGES.keys() - {"train"}:  # served once: later loads are warm
            load_seconds(browser, url, name, exp)
        progress(f"classroom {sessions}: {sessions} sessions start")
        pages = open_sessions(browser, url, exp, sessions)
        start_training(pages, WAIT_MS)
        ids = [wait_for_run_id(page) for page in pages]
        time.sleep(3)  # all of them training
        progress(f"classroom {sessions}: speed")
        rates, shown = training_speed(pages, window)
        progress(f"classroom {sessions}: clicks")
        clicks = click_times(pages)
        progress(f"classroom {sessions}: warm loads, links")
        warm, stranger_sees_no_run = warm_loads(browser, url, exp)
        shared_link_shows_run = shows_run(browser, pages[0].url)
        progress(f"classroom {sessions}: stop")
        stop_all(pages)
    return {
        "load_warm_s": warm,
        "steps_per_s": rates,
        "steps_per_s_median": round(statistics.median(rates), 1),
        "steps_per_s_total": round(sum(rates), 1),
        "steps_per_s_shown": shown,
        "clicks": len(clicks),
        "click_median_s": round(statistics.median(clicks), 3),
        "click_max_s": round(max(clicks), 3),
        "click_times_s": [round(t, 2) for t in clicks],
        "peak_rss_mb": round(memory.peak_rss_mb),
        "peak_pss_mb": round(memory.peak_pss_mb),
        "peak_processes": memory.peak_processes,
        "run_ids_distinct": None not in ids and len(set(ids)) == len(ids),
        "stranger_sees_no_run": stranger_sees_no_run,
        "shared_link_shows_run": shared_link_shows_run,
    }


QUEUED = re.compile(r"you are number (\d+) in the queue")


def class_queue(browser, sessions: int, exp: Experiment) -> dict:
    """N sessions press Start on a fresh server with CLASS_QUEUE_CAP training slots:
    the queue place each waiting session's page shows."""
    with (
        class_server(CLASS_QUEUE_CAP) as url,
        TreeMemory(server_pid(url)) as memory,
        explained(browser),
    ):
        training = min(sessions, CLASS_QUEUE_CAP)
        pages = open_sessions(browser, url, exp, sessions)
        for i, page in enumerate(pages):
            # one after the other: the first ones train, the others wait in turn
            page.locator(".st-key-train_start button").click()
            if i < training:
                shown = page.get_by_text("Training", exact=True)
            else:
                shown = page.get_by_text(QUEUED)
            shown.first.wait_for()
        # all of them started: the place each page shows now
        positions: list[int | None] = []
        for page in pages:
            match = QUEUED.search(page.locator("body").inner_text())
            positions.append(int(match[1]) if match else None)
        stop_all(pages[::-1])  # the waiting ones first: none of them starts to train
    queued = [p for p in positions if p is not None]
    return {
        "queue_cap": CLASS_QUEUE_CAP,
        "queue_positions": queued,
        "queue_ok": positions[:training] == [None] * training
        and queued == list(range(1, sessions - training + 1)),
        "queue_peak_rss_mb": round(memory.peak_rss_mb),
    }


def progress(text: str) -> None:
    """A line on stderr: a classroom takes minutes."""
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def classroom(browser, sessions: int, window: float = 15.0) -> dict:
    """One line of the classroom benchmark, for `sessions` students."""
    started = time.perf_counter()
    exp = experiment(CLASS_STEPS)
    progress(f"classroom {sessions}: training")
    trained = class_training(browser, sessions, exp, window)
    progress(f"classroom {sessions}: queue")
    queue = class_queue(browser, sessions, exp)
    return {
        "bench": "classroom",
        "sessions": sessions,
        **trained,
        **queue,
        "target_click_max_s": TARGET_CLICK_S,
        "wall_s": round(time.perf_counter() - started),
    }


def clicks_on_design(browser, exp: Experiment) -> dict:
    """The `design_clicks` line, on a quiet server and its floor app served beside it."""
    with tempfile.TemporaryDirectory(prefix="designer-floor-") as folder:
        floor = floor_script(Path(folder), PAGES)
        with served_app() as url, served_app(script=floor, ready_path="/_stcore/health") as base:
            return design_clicks(browser, url, base, exp.to_url())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=7, help="live_overhead pairs")
    parser.add_argument("--char-steps", type=int, default=300, help="char_model: its run")
    parser.add_argument("--class-size", type=int, default=30, help="class30, memory: the sessions")
    parser.add_argument("--class-steps", type=int, default=300, help="class30, memory: steps")
    parser.add_argument(
        "--page-repeats", type=int, default=3, help="page_loads: rounds, the median shown"
    )
    parser.add_argument(
        "--load-sessions", type=int, default=8, help="page_loads: the sessions training"
    )
    parser.add_argument(
        "--sessions-list", default="1,4,8", help="classroom: the numbers of sessions"
    )
    parser.add_argument(
        "--only",
        choices=(
            "cold_start",
            "design_clicks",
            "click_response",
            "live_overhead",
            "classroom",
            "page_loads",
            "class30",
            "char_model",
            "memory",
        ),
    )
    args = parser.parse_args()
    if args.only == "memory":  # light clients only: no browser
        from bench.memory import memory

        print(json.dumps(memory(args.class_size, args.class_steps)), flush=True)
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.only in (None, "cold_start"):
            exp = experiment(args.steps)
            result = cold_start(browser, PAGES, lambda b, u, name: load_seconds(b, u, name, exp))
            print(json.dumps(result), flush=True)
        if args.only in (None, "design_clicks"):
            print(json.dumps(clicks_on_design(browser, experiment(args.steps))), flush=True)
        if args.only in (None, "click_response", "live_overhead", "char_model"):
            # as many training slots as sessions, so that none of them waits in the queue
            with served_app({"DESIGNER_MAX_TRAININGS": str(args.sessions)}) as url:
                if args.only in (None, "click_response"):
                    print(json.dumps(click_response(browser, url, args.sessions)), flush=True)
                if args.only in (None, "live_overhead"):
                    result = live_overhead(browser, url, args.steps, args.repeats)
                    print(json.dumps(result), flush=True)
                if args.only in (None, "char_model"):
                    result = char_model(browser, url, args.char_steps, args.repeats)
                    print(json.dumps(result), flush=True)
        if args.only in (None, "page_loads"):
            exp = experiment(CLASS_STEPS)
            result = page_loads(browser, PAGES, args.load_sessions, exp, args.page_repeats)
            print(json.dumps(result), flush=True)
        if args.only in (None, "class30"):
            print(json.dumps(class30(args.class_size, args.class_steps)), flush=True)
        failed = False
        if args.only in (None, "classroom"):
            for sessions in (int(n) for n in args.sessions_list.split(",")):
                try:
                    result = classroom(browser, sessions)
                except Exception as err:  # the line says so, and the next N goes on
                    failed = True
                    result = {"bench": "classroom", "sessions": sessions, "error": repr(err)}
                    for context in browser.contexts:
                        context.close()
                print(json.dumps(result), flush=True)
        browser.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
