"""A light Streamlit client: one app session over the app's own WebSocket protocol,
with no browser. It asks for page runs as the browser would (the first run of a page
with its query string, a button's click, the timed reruns a fragment asks for), and
reads what each run draws; it draws nothing itself.

Thirty Chromium pages on the machine that serves them spend most of its CPU drawing
(a class's browsers run on the students' own computers), so a crowd of these stands
in for a class when the server's own load is what is measured."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


class LightSession:
    """One session of the app at `url`, on the page `page` with `query`."""

    def __init__(self, url: str, page: str, query: str):
        self.address = url.replace("http://", "ws://") + "/_stcore/stream"
        self.page = page
        self.query = query
        self.page_hash = ""
        self.buttons: dict[str, str] = {}  # key -> widget id, as last drawn
        self.alerts: list[str] = []  # every alert's text, as drawn
        self.markdown: deque[str] = deque(maxlen=200)  # the latest markdown texts drawn
        self.served_by = ""  # the replica that serves it, when a proxy says so
        self.finished = asyncio.Event()  # a script run has finished
        self._ws = None
        self._reruns: dict[str, asyncio.Task] = {}  # fragment id -> its timer

    async def open(self) -> None:
        self._ws = await websockets.connect(self.address, subprotocols=["streamlit"], max_size=None)
        # behind deploy/nginx.conf: the replica the proxy sent this session to
        self.served_by = self._ws.response.headers.get("X-Served-By", "")
        self._reader = asyncio.create_task(self._read())
        await self.rerun()

    async def close(self) -> None:
        for task in self._reruns.values():
            task.cancel()
        self._reader.cancel()
        await self._ws.close()

    async def rerun(self, click: str | None = None, fragment: str | None = None) -> None:
        """Ask for a page run: the whole page, or one fragment; `click`: a button's
        key, pressed for this run."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = self.page
        state.page_script_hash = self.page_hash
        if fragment:
            state.fragment_id = fragment
            state.is_auto_rerun = True
        if click:
            widget = state.widget_states.widgets.add()
            widget.id = self.buttons[click]
            widget.trigger_value = True
        self.finished.clear()
        await self._ws.send(msg.SerializeToString())

    async def _every(self, seconds: float, fragment: str) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.rerun(fragment=fragment)

    async def _read(self) -> None:
        async for raw in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "navigation":  # the page this session shows
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "script_finished":
                self.finished.set()
            elif kind == "auto_rerun":
                fragment = msg.auto_rerun.fragment_id
                if fragment in self._reruns:
                    self._reruns[fragment].cancel()
                self._reruns[fragment] = asyncio.create_task(
                    self._every(msg.auto_rerun.interval, fragment)
                )
            elif kind == "stop_auto_rerun":
                for task in self._reruns.values():
                    task.cancel()
                self._reruns.clear()
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                what = element.WhichOneof("type")
                if what == "button":
                    self.buttons[element.button.id.rsplit("-", 1)[-1]] = element.button.id
                elif what == "alert":
                    self.alerts.append(element.alert.body)
                elif what == "markdown":
                    self.markdown.append(element.markdown.body)


async def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.1)
    return True
