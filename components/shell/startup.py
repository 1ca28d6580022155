"""The server's start-up: what every first page run would otherwise pay is done once,
when `streamlit run` starts, and `/ready` says when it is done.

A page run imports torch, plotly, pydantic's models, every panel it draws and the
catalogs of both languages: seconds on a small machine, which the first visitor of a
fresh server used to wait. The server now accepts connections at once (its health
check, `/_stcore/health`, answers), imports all of that in a thread of its own, and
answers `/ready` with 503 until it has: a load balancer sends a class to a replica only
once it is warm.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
    start_forkserver()


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
