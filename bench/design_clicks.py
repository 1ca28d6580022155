"""A settings change on the Design page, as a teacher makes them in front of a class.

One browser session on a quiet server makes 20 changes to the layer stack, by mouse
and by key, in a cycle that leaves the stack as it found it: a GRU added from the
palette, its width one step wider ('+'), one step narrower ('-'), and removed
(Delete). For each change it records:
- `run_*`: the script run as the browser sees it, from the moment the page says its
  script is running until it says the run has ended (Streamlit's own script state):
  the server's run and the sending of what it drew;
- `answer_*`: from the key or click until then;
- `script_*`: the Design page's script run alone, in the benchmark's own process
  (Streamlit's AppTest: no browser, no network), for 20 width changes.
The floor: the answer to a button on a Streamlit page that only writes text, in the
same run."""

from __future__ import annotations

import statistics
import time

TARGET_S = 0.3  # server time of one settings change, at most
CLICKS = 20
PAUSE_MS = 400  # between changes, as a person makes them

# Resolves with [ms until the script started running, ms it ran] for the next script
# run (a run shorter than one observer callback counts as 0 ms: a lower bound).
WATCH = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const t0 = performance.now();
  let started = null;
  window.__designerRun = new Promise((resolve) => {
    const observer = new MutationObserver((records) => {
      const now = performance.now();
      for (const record of records) {
        if (record.oldValue === "running" || app.dataset.testScriptState === "running") {
          started ??= now;  // a run quicker than one callback is seen by its old value
        }
      }
      if (app.dataset.testScriptState === "notRunning" && started !== null) {
        observer.disconnect();
        resolve([started - t0, now - started]);
      }
    });
    observer.observe(app, {
      attributes: true, attributeOldValue: true, attributeFilter: ["data-test-script-state"],
    });
    setTimeout(() => resolve(null), 20000);  // no run came: said, not waited for ever
  });
}"""

CARDS = '[data-testid="ls-card"]'


def timed(page, act, what: str = "the change") -> tuple[float, float]:
    """(server seconds, whole seconds) of the script run that `act()` causes, after a
    pause such as a person makes between two changes."""
    page.wait_for_timeout(PAUSE_MS)
    page.evaluate(WATCH)
    act()
    seen = page.evaluate("() => window.__designerRun")
    if seen is None:
        raise RuntimeError(f"{what} started no script run within 20 s")
    before_ms, ran_ms = seen
    return ran_ms / 1000, (before_ms + ran_ms) / 1000


def _changes(page) -> list:
    """The cycle of changes: add a GRU at the end, widen it, narrow it, remove it."""

    def add() -> None:
        page.locator('[data-testid="palette-gru"]').click()

    def key(name: str):
        def press() -> None:
            page.locator(f"{CARDS}.selected").focus()
            page.keyboard.press(name)

        press.__name__ = f"key {name}"
        return press

    return [add, key("+"), key("-"), key("Delete")]


def figures(times: list[tuple[float, float]]) -> dict:
    run = [s for s, _ in times]
    whole = [w for _, w in times]
    return {
        "run_median_s": round(statistics.median(run), 3),
        "run_max_s": round(max(run), 3),
        "answer_median_s": round(statistics.median(whole), 3),
        "answer_max_s": round(max(whole), 3),
    }


def floor_answers(browser, floor_url: str) -> dict:
    """The floor app's button, pressed CLICKS times: from the press until the page shows
    the new count. (Its script run is too short for the browser to show it running: the
    running and ended states arrive within one frame, so only the answer is measured.)"""
    page = browser.new_context().new_page()
    page.goto(floor_url)
    button = page.get_by_role("button", name="Press")
    button.wait_for()
    answers = []
    for n in range(1, CLICKS + 1):
        page.wait_for_timeout(PAUSE_MS)
        started = time.perf_counter()
        button.click()
        page.get_by_text(f"Pressed {n} times").wait_for()
        answers.append(time.perf_counter() - started)
    page.context.close()
    return {
        "answer_median_s": round(statistics.median(answers), 3),
        "answer_max_s": round(max(answers), 3),
    }


def script_seconds() -> list[float]:
    """The Design page's script run alone, in this process (Streamlit's AppTest, no
    browser, no network): CLICKS width changes of the first layer, each timed."""
    from streamlit.testing.v1 import AppTest

    from bench.served import ROOT

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.button(key="welcome_design").click().run()  # past the first visit's welcome
    seconds = []
    for i in range(CLICKS):
        at.number_input(key="layer_hidden_size").set_value(32 if i % 2 else 48)
        started = time.perf_counter()
        at.run()
        seconds.append(time.perf_counter() - started)
    return seconds


def design_clicks(browser, url: str, floor_url: str, exp_token: str) -> dict:
    """The `design_clicks` line: 20 changes on Design, and 20 presses of a button on the
    floor app, each a script run whose time the browser sees."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/?x={exp_token}")
    page.locator(CARDS).first.wait_for()
    times = []
    changes = _changes(page)
    while len(times) < CLICKS:
        for change in changes:
            if len(times) == CLICKS:
                break
            times.append(timed(page, change, f"change {len(times) + 1} ({change.__name__})"))
    page.context.close()
    app, base = figures(times), floor_answers(browser, floor_url)
    script = script_seconds()
    return {
        "bench": "design_clicks",
        "clicks": CLICKS,
        "script_median_s": round(statistics.median(script), 3),
        "script_max_s": round(max(script), 3),
        **app,
        **{f"floor_{name}": value for name, value in base.items()},
        "answer_median_ratio_to_floor": round(app["answer_median_s"] / base["answer_median_s"], 2),
        "target_s": TARGET_S,
    }
