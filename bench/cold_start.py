"""The first visitor of a fresh server, against the framework's own floor.

For each page, a server is started (`streamlit run`), waited for until it says it is
ready (the app: `/ready`, once its start-up warm-up has ended; the floor app, which has
none: Streamlit's `/_stcore/health`), and then one new browser context opens the page:
the seconds until its script run has finished and its title shows. The floor app is a
Streamlit app of the same pages that only write their titles, served from the same
folder (the same `.streamlit/config.toml`) in the same run, so the ratio holds when the
machine's speed moves.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.served import served_app

TARGET_S = 2.0  # the first visit of a fresh server, at most

# A page per route, each writing its title, one line and a button: what Streamlit
# itself costs.
FLOOR_APP = """
import streamlit as st


def page(title):
    def draw():
        st.title(title)
        st.write("A page that only writes text.")
        # a rerun, for the floor of a click (bench/design_clicks.py): the count shows it
        pressed = st.session_state.get("pressed", 0) + st.button("Press")
        st.session_state["pressed"] = pressed
        st.write(f"Pressed {pressed} times")

    return draw


TITLES = {PAGES}
pages = [
    st.Page(page(title), title=title, url_path=path.strip("/") or "design", default=path == "/")
    for path, title in TITLES.items()
]
st.navigation(pages).run()
"""


def floor_script(folder: Path, pages: dict[str, tuple[str, str]]) -> Path:
    """The floor app's script, written in `folder`, with the app's routes and titles."""
    titles = {path: title for path, title in pages.values()}
    script = folder / "floor_app.py"
    script.write_text(FLOOR_APP.replace("{PAGES}", repr(titles)))
    return script


def first_visits(browser, pages: dict, load_seconds, floor: Path | None) -> dict:
    """Each page's first visit on a fresh server, and how long the server took to be
    ready after its start."""
    visits, ready = {}, []
    for name in pages:
        started = time.perf_counter()
        if floor is None:
            server = served_app()
        else:
            server = served_app(script=floor, ready_path="/_stcore/health")
        with server as url:
            ready.append(time.perf_counter() - started)
            visits[name] = load_seconds(browser, url, name)
    return {"first_visit_s": visits, "ready_after_s": round(statistics.median(ready), 2)}


def cold_start(browser, pages: dict, load_seconds) -> dict:
    """The `cold_start` line: the app's and the floor's first visits, page by page, and
    their ratio. `load_seconds(browser, url, name)` opens one page in a new context."""
    with tempfile.TemporaryDirectory(prefix="designer-floor-") as folder:
        floor = first_visits(browser, pages, load_seconds, floor_script(Path(folder), pages))
    app = first_visits(browser, pages, load_seconds, None)
    ratio = {
        name: round(app["first_visit_s"][name] / floor["first_visit_s"][name], 2) for name in pages
    }
    return {
        "bench": "cold_start",
        "first_visit_s": app["first_visit_s"],
        "floor_first_visit_s": floor["first_visit_s"],
        "ratio_to_floor": ratio,
        "ready_after_s": app["ready_after_s"],
        "floor_ready_after_s": floor["ready_after_s"],
        "target_s": TARGET_S,
        "worst_s": max(app["first_visit_s"].values()),
    }
