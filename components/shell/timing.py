"""Where a page's script run spends its time, for the load benchmark
(`python -m bench.app_load --only page_loads`), never shown to users.

With DESIGNER_PAGE_TIMES set to a file, each script run of the whole app appends one
JSON line there: its session, its page, and the seconds between the marks the page
set (`mark("sidebar")` after the sidebar is drawn, ...). Unset (as served), `begin`,
`mark` and `end` return at once: the hook costs a check of a module constant.
"""

from __future__ import annotations

import json
import os
import threading
import time

PATH = os.environ.get("DESIGNER_PAGE_TIMES")
_run = threading.local()  # each session's script runs in a thread of its own
_lock = threading.Lock()  # one line at a time in the file


def begin() -> None:
    """A script run starts: the first section is timed from here."""
    if not PATH:
        return
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    _run.record = {
        "session": ctx.session_id if ctx else "",
        "sections": {},
    }
    _run.started = _run.last = time.perf_counter()


def mark(section: str) -> None:
    """The section that ends now took the seconds since the previous mark."""
    record = getattr(_run, "record", None) if PATH else None
    if record is None:
        return
    now = time.perf_counter()
    sections = record["sections"]
    sections[section] = sections.get(section, 0.0) + now - _run.last
    _run.last = now


def end(page: str, completed: bool) -> None:
    """The run of `page` has ended (`completed`: False for a run that a rerun or a
    page switch cut short): its line is written."""
    record = getattr(_run, "record", None) if PATH else None
    if record is None:
        return
    mark("rest")
    record["page"] = page
    record["seconds"] = time.perf_counter() - _run.started
    record["completed"] = completed
    record["sections"] = {k: round(v, 4) for k, v in record["sections"].items()}
    record["seconds"] = round(record["seconds"], 4)
    _run.record = None
    with _lock, open(PATH, "a") as f:
        f.write(json.dumps(record) + "\n")
