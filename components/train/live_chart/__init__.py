"""A line chart drawn on a canvas: the Train page's curves while a run trains.

A plotly chart redrawn at every poll costs the browser about a hundred
milliseconds of layout work per chart; on a machine that also trains (a laptop, or
a server a class shares) that time comes out of training. This draws a
designer.figures.curves.Chart (series, reference lines, linear or log axis) in a few
milliseconds, with a hover read-out of the values under the pointer.

Its HTML, CSS and JavaScript are the files beside this one, read once at import."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from designer.figures.curves import Chart
from designer.i18n import _

HERE = Path(__file__).parent

_component = st.components.v2.component(
    "deep_rnn_designer.live_chart",
    html=(HERE / "live_chart.html").read_text(),
    css=(HERE / "live_chart.css").read_text(),
    js=(HERE / "live_chart.js").read_text(),
    isolate_styles=True,
)


def words() -> dict[str, str]:
    """The read-out's sentences in the reader's language (the chart's own texts, its
    title and series names, come translated already): the step under the pointer,
    each value there, and the description screen readers hear."""
    return {
        "step": _("step {step}"),
        "value": _("{name} {value} at step {step}"),
        "described": _("{title}: {values}"),
        "empty": _("{title}: no data yet"),
        # between the values the description lists
        "separator": _(", "),
        "hover": _("{name}: {value}"),
    }


def live_chart(chart: Chart, key: str) -> None:
    """Draw `chart`; with the same `key` on the next poll it redraws in place."""
    _component(key=key, data={**chart, "words": words()}, height="content")
