"""The app under load, in a real browser: several sessions training at once, and
what the live page costs a run compared with `python -m designer train`.

    python -m bench.app_load [--sessions 4] [--steps 1500]

Starts `streamlit run` on a free 127.0.0.1 port, drives Debian's Chromium
(/usr/bin/chromium) through Playwright, and prints JSON lines:
- `click_response`: with N sessions training, how long each page takes to answer a
  click (Pause until the page says Paused, Resume until it says Training);
- `live_overhead`: the wall time of one run's training loop on the Train page (probes
  and the live charts on, the browser on the same machine) against the same run's
  loop from the command line (process start-up left out of both), taken in turn
  `--repeats` times (the order swapped each time), as the median of the pairs'
  ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.served import CHROMIUM, CHROMIUM_ARGS, READY, ROOT, served_app
from designer import Experiment


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


def click_response(browser, url: str, sessions: int) -> dict:
    exp = experiment(20_000)
    pages = [open_train(browser, url, exp) for _ in range(sessions)]
    for page in pages:
        page.locator(".st-key-train_start button").click()
    for page in pages:
        page.get_by_text("Log scale").first.wait_for(timeout=60_000)
    time.sleep(3)  # all of them training
    times = []
    for _ in range(2):
        for action, shown in (("Pause", "Paused"), ("Resume", "Training")):
            for page in pages:
                start = time.perf_counter()
                page.locator(f".st-key-train_{action.lower()} button").click()
                page.get_by_text(shown, exact=True).first.wait_for(timeout=60_000)
                times.append(time.perf_counter() - start)
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
        "target_max_s": 2.0,
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


def live_overhead(browser, url: str, steps: int, repeats: int) -> dict:
    """Command line and live page as `repeats` back-to-back pairs, the order swapped
    from one pair to the next. This machine's speed drifts by 10% and more over
    minutes, so each pair gives a ratio and the figure is the median of those."""
    exp = experiment(steps)
    cli, page = [], []
    for i in range(repeats):
        if i % 2 == 0:
            cli.append(cli_seconds(exp))
            page.append(page_seconds(browser, url, exp))
        else:
            page.append(page_seconds(browser, url, exp))
            cli.append(cli_seconds(exp))
    ratios = sorted(p / c for p, c in zip(page, cli, strict=True))
    return {
        "bench": "live_overhead",
        "steps": steps,
        "cli_s": cli,
        "page_s": page,
        "pair_ratios": [round(r, 3) for r in ratios],
        "ratio": round(statistics.median(ratios), 3),
        "ratio_of_medians": round(statistics.median(page) / statistics.median(cli), 3),
        "target": 1.10,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=7, help="live_overhead pairs")
    parser.add_argument("--only", choices=("click_response", "live_overhead"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    # as many training slots as sessions, so that none of them waits in the queue
    with served_app({"DESIGNER_MAX_TRAININGS": str(args.sessions)}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.only in (None, "click_response"):
            print(json.dumps(click_response(browser, url, args.sessions)), flush=True)
        if args.only in (None, "live_overhead"):
            print(json.dumps(live_overhead(browser, url, args.steps, args.repeats)), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
