"""The server's start-up: what every first page run would otherwise pay is done once,
when `streamlit run` starts, and `/ready` says when it is done.

A page run imports torch, plotly, pydantic's models, every panel it draws and the
catalogs of both languages: seconds on a small machine, which the first visitor of a
fresh server used to wait. The warm-up also builds one figure of each kind the pages
draw and one table (plotly and pyarrow finish their imports on first use), waits for
the forkserver to finish its own imports, then freezes the heap it made, so that
later garbage collections do not walk it.

The server accepts connections at once (its health check, `/_stcore/health`,
answers), warms up in a thread of its own, and answers `/ready` with 503 until it has
finished: a load balancer sends a class to a replica only once it is warm.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import pkgutil
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

READY_PATH = "/ready"
PACKAGES = ("designer", "components")  # the engine and every panel the pages draw
# Modules of those packages that no page imports: the command line; the exported
# notebook (a real file that trains a model and writes checkpoint.pt where it runs;
# codegen reads it as text); what only the forkserver imports (torch._dynamo, 70 MB).
NOT_IMPORTED = {
    "designer.__main__",
    "designer.export.notebook_template",
    "designer.training.forkserver_preload",
}
# What Streamlit imports on its first page run (the page icon's image library, the
# emoji and icon names that st.Page and the buttons check), imported here instead.
FIRST_RUN_MODULES = (
    "PIL.Image",
    "PIL.PngImagePlugin",
    "streamlit.emojis",
    "streamlit.material_icon_names",
    "streamlit.runtime.scriptrunner.magic_funcs",
)

_log = logging.getLogger(__name__)


class WarmUp:
    """The warm-up's progress, shared by its thread and the readiness check."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.seconds: float | None = None
        self.error: str | None = None

    def run(self) -> None:
        started = time.perf_counter()
        try:
            warm_up()
        except Exception as err:  # a warm-up that fails still serves: pages import lazily
            self.error = repr(err)
            _log.exception("warm-up failed; pages will import what they need when they run")
        self.seconds = time.perf_counter() - started
        self.done.set()


def warm_up() -> None:
    """Import every module of the engine and the panels, read both catalogs, and start
    the process that training runs fork from: what a page run would import is then in
    memory for all sessions, and the first Start does not wait for torch to load."""
    for package in PACKAGES:
        module = importlib.import_module(package)
        for found in pkgutil.walk_packages(module.__path__, package + "."):
            if found.name not in NOT_IMPORTED:
                importlib.import_module(found.name)
    from designer.i18n import LANGUAGES, translations
    from designer.training.runner import warm_up as start_forkserver

    for code in LANGUAGES:
        translations(code)
    for name in FIRST_RUN_MODULES:
        with suppress(ImportError):
            importlib.import_module(name)
    warm_figures()
    start_forkserver()
    # The warm-up's objects live as long as the server: leave them out of every later
    # full collection, which would otherwise walk all of torch's and plotly's objects
    # in the middle of some page run.
    gc.collect()
    gc.freeze()


def warm_figures() -> None:
    """Build and serialise, once, a figure of each kind the pages draw, as
    st.plotly_chart does: plotly imports its layout and trace modules and builds their
    validators on first use, 0.2 to 0.3 s of the first page run that draws a figure.
    The first table likewise imports pyarrow's pandas layer."""
    import pandas as pd
    import plotly.graph_objects as go
    import plotly.io
    import plotly.tools
    import pyarrow as pa

    from designer.figures.svg import figure_svg
    from designer.figures.tasks import sample_figure
    from designer.tasks import TASKS, make_task

    def serialised(fig: go.Figure) -> str:
        fig = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
        return plotly.io.to_json(fig, validate=False)

    for name in TASKS:  # each task's sample: Design's SVG, Train's chart
        fig = sample_figure(make_task(name, {}), seed=0)
        figure_svg(fig)
        serialised(fig)
    fig = go.Figure(
        [
            go.Scatter(y=[0, 1], marker={"color": [0, 1], "colorbar": {"title": {"text": "t"}}}),
            go.Heatmap(z=[[0, 1]], colorbar={"title": {"text": "h"}}),
            go.Bar(y=[1]),
        ]
    )
    fig.update_layout(
        title={"text": "t"},
        legend={"orientation": "h"},
        annotations=[{"text": "a", "x": 0, "y": 0}],
        shapes=[{"type": "line", "x0": 0, "x1": 1, "y0": 0, "y1": 1}],
        yaxis={"minor": {"showgrid": True}},
    )
    serialised(fig)
    pa.Table.from_pandas(pd.DataFrame({"number": [1], "text": ["a"]}))


STATE = WarmUp()


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Serve at once; warm up beside it (a thread: imports hold the GIL in bursts, the
    event loop still answers the health check and the first visitor)."""
    asyncio.get_running_loop().run_in_executor(None, STATE.run)
    yield


async def ready(request: Request) -> JSONResponse:
    """200 once the warm-up has ended, 503 before: what a load balancer polls."""
    if not STATE.done.is_set():
        return JSONResponse({"ready": False}, status_code=503)
    return JSONResponse({"ready": True, "warm_up_s": round(STATE.seconds or 0.0, 2)})


ROUTES = [Route(READY_PATH, ready)]
