"""A small plotly figure written as SVG markup: the task sample on Design.

Design shows one small figure, the task's sample. Drawn by plotly it makes the browser
fetch and run the chart library (4.6 MB of script) before the page settles; as SVG the
same picture costs a few kilobytes and draws with the page. The figure is still built
with plotly (each task draws its own sample on a plotly figure: Task.draw_sample), and
this module reads that figure back: its traces' numbers, colours and names, its title
and axis settings. It draws what task samples use, and says so when a figure holds
anything else (`Unsupported`), so that the caller can fall back on plotly:

- scatter traces: lines (solid, dashed, dotted) and markers (circles or stars);
- bar traces;
- heatmaps of labelled cells (the token rows of a token task);
- the title, a legend of the named traces, the x axis's title, and the y axis's
  range and tick values where the figure sets them.

Every text is escaped, so a name from an uploaded file cannot become markup; a colour
that is not a plain colour value is replaced by a default one. Each point, bar and
cell carries a <title>, the browser's tooltip, with its numbers.
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

from designer.figures.style import SERIES_COLORS

WIDTH = 460  # the viewBox's width, about its column's on a laptop: the picture scales to it
TITLE_Y = 18
LEGEND_Y = 40
PLOT_TOP = 56
BOTTOM = 40  # the x axis's labels and title
RIGHT = 12
TICK_SIZE = 11
TITLE_SIZE = 14
COLOR = re.compile(r"#[0-9a-fA-F]{3,8}|rgba?\(\s*[\d.]+(\s*,\s*[\d.]+){2,3}\s*\)|[a-zA-Z]{3,20}")
DASHES = {"dash": "6 4", "dot": "2 3", "dashdot": "6 3 2 3", "longdash": "10 4"}


class Unsupported(ValueError):
    """The figure holds something this module does not draw."""


def _esc(text: str) -> str:
    """`text` escaped, on one line: a line break in a name (a file's column) would end
    the markup where the page reads it as Markdown."""
    return escape(" ".join(str(text).split()))


def _color(value: Any, default: str) -> str:
    """`value` if it is a plain colour (#hex, rgb(...), a name), else `default`."""
    return value if isinstance(value, str) and COLOR.fullmatch(value.strip()) else default


def _number(value: Any) -> float | None:
    """A finite float, or None (a gap in a line)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def text_width(text: str, size: float) -> float:
    """The width of `text` at `size` pixels, roughly: wide CJK characters count double,
    so that a Chinese title and a legend beside it do not overlap."""
    return sum(size if ord(c) > 0x2E80 else 0.58 * size for c in text)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round values (1, 2 or 5 times a power of ten apart) in [low, high]."""
    if not high > low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float) -> str:
    return f"{value:g}"


class _Canvas:
    """The plot area: data coordinates to pixels, and the markup drawn so far."""

    def __init__(self, height: int, left: float, x_range, y_range) -> None:
        self.height, self.left = height, left
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.bottom = height - BOTTOM
        self.parts: list[str] = []

    def px(self, x: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (x - self.x0) / span * (WIDTH - RIGHT - self.left)

    def py(self, y: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.bottom - (y - self.y0) / span * (self.bottom - PLOT_TOP)

    def add(self, markup: str) -> None:
        self.parts.append(markup)


def _text(x: float, y: float, text: str, size: float, anchor: str = "start", **attrs: Any) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}"'
        f' fill="currentColor"{extra}>{_esc(text)}</text>'
    )


def _circle(cx: float, cy: float, r: float, fill: str, tip: str) -> str:
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}">{tip}</circle>'


def _line(x1: float, y1: float, x2: float, y2: float, attrs: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {attrs}/>'


def _star(cx: float, cy: float, r: float) -> str:
    """A five-pointed star's points around (cx, cy)."""
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.45
        angle = math.pi / 2 + k * math.pi / 5
        points.append(f"{cx + radius * math.cos(angle):.1f},{cy - radius * math.sin(angle):.1f}")
    return " ".join(points)


def _trace_name(trace: Any, k: int) -> str:
    return str(trace.name) if trace.name is not None else f"trace {k}"


def _xy(trace: Any) -> list[tuple[float, float]]:
    """The trace's points with both coordinates finite (x defaults to 0, 1, 2 ...)."""
    ys = list(trace.y) if trace.y is not None else []
    xs = list(trace.x) if trace.x is not None else list(range(len(ys)))
    return [
        (x, y)
        for x, y in ((_number(a), _number(b)) for a, b in zip(xs, ys, strict=False))
        if x is not None and y is not None
    ]


def _draw_scatter(canvas: _Canvas, trace: Any, color: str) -> None:
    name = _esc(_trace_name(trace, 0))
    mode = trace.mode or "lines"
    points = _xy(trace)
    if "lines" in mode and len(points) > 1:
        dash = DASHES.get(trace.line.dash or "", "")
        path = " ".join(f"{canvas.px(x):.1f},{canvas.py(y):.1f}" for x, y in points)
        canvas.add(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + "/>"
        )
    size = float(trace.marker.size or 6) if "markers" in mode else 8.0
    star = trace.marker.symbol == "star"
    for x, y in points:
        cx, cy = canvas.px(x), canvas.py(y)
        tip = f"<title>{name}, t = {_label(x)}: {y:.3g}</title>"
        if "markers" in mode and star:
            canvas.add(
                f'<polygon points="{_star(cx, cy, size / 2)}" fill="{color}">{tip}</polygon>'
            )
        elif "markers" in mode:
            canvas.add(_circle(cx, cy, size / 2.5, color, tip))
        else:  # a line's points: invisible, for their tooltips
            canvas.add(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="transparent">{tip}</circle>'
            )


def _draw_bar(canvas: _Canvas, trace: Any, color: str) -> None:
    name = _esc(_trace_name(trace, 0))
    points = _xy(trace)
    width = 0.8 * abs(canvas.px(1) - canvas.px(0))
    base = canvas.py(max(canvas.y0, min(0.0, canvas.y1)))
    for x, y in points:
        top = canvas.py(y)
        canvas.add(
            f'<rect x="{canvas.px(x) - width / 2:.1f}" y="{min(top, base):.1f}"'
            f' width="{width:.1f}" height="{abs(base - top):.1f}" fill="{color}">'
            f"<title>{name}, t = {_label(x)}: {y:g}</title></rect>"
        )


def _scale_color(scale: Any, z: float, low: float, high: float) -> str:
    """The colour of `z` on a plotly colour scale ([[0, c0], ..., [1, cn]], hex colours)."""
    stops = [(float(at), _color(c, "#dddddd")) for at, c in scale]
    f = 0.0 if high <= low else min(max((z - low) / (high - low), 0.0), 1.0)
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if a <= f <= b:
            mix = 0.0 if b <= a else (f - a) / (b - a)
            if not (ca.startswith("#") and cb.startswith("#") and len(ca) == len(cb) == 7):
                return ca if mix < 0.5 else cb
            rgb = [
                round(int(ca[i : i + 2], 16) * (1 - mix) + int(cb[i : i + 2], 16) * mix)
                for i in (1, 3, 5)
            ]
            return "#" + "".join(f"{v:02x}" for v in rgb)
    return stops[-1][1]


def _heatmap_left(trace: Any) -> float:
    return 16 + max((text_width(str(r), TICK_SIZE) for r in trace.y or []), default=0)


def _draw_heatmap(canvas: _Canvas, trace: Any, hover: str) -> None:
    """Rows of labelled cells; plotly's first row is the bottom one, as here."""
    z = [list(row) for row in trace.z]
    text = [list(row) for row in trace.text] if trace.text is not None else None
    rows = list(trace.y) if trace.y is not None else list(range(len(z)))
    steps = max((len(row) for row in z), default=0)
    low = trace.zmin if trace.zmin is not None else min(v for row in z for v in row)
    high = trace.zmax if trace.zmax is not None else max(v for row in z for v in row)
    cell_w = (canvas.px(steps - 0.5) - canvas.px(-0.5)) / max(steps, 1)
    row_h = (canvas.bottom - PLOT_TOP) / max(len(z), 1)
    base = float(trace.textfont.size or 12) if trace.textfont else 12.0
    for r, row in enumerate(z):
        top = canvas.bottom - (r + 1) * row_h
        canvas.add(
            _text(canvas.left - 6, top + row_h / 2 + 4, str(rows[r]), TICK_SIZE, anchor="end")
        )
        for t, value in enumerate(row):
            label = str(text[r][t]) if text is not None and t < len(text[r]) else ""
            fill = _scale_color(trace.colorscale, float(value), float(low), float(high))
            x = canvas.px(t - 0.5)
            tip = _esc(hover.format(x=t, text=label, y=rows[r]))
            canvas.add(
                f'<rect x="{x + 1:.1f}" y="{top + 1:.1f}" width="{cell_w - 2:.1f}"'
                f' height="{row_h - 2:.1f}" fill="{fill}"><title>{tip}</title></rect>'
            )
            if label:
                size = min(base, 1.6 * cell_w / max(len(label), 1))
                canvas.add(
                    f'<text x="{x + cell_w / 2:.1f}" y="{top + row_h / 2 + size / 3:.1f}"'
                    f' font-size="{size:.1f}" text-anchor="middle" fill="#262730"'
                    f' pointer-events="none">{_esc(label)}</text>'
                )


def _hover_format(trace: Any) -> str:
    """A heatmap's hovertemplate as a str.format pattern ({x}, {y}, {text})."""
    template = str(trace.hovertemplate or "%{y}, t = %{x}: %{text}")
    template = re.sub(r"<extra>(.*?)</extra>", r" (\1)", template)
    template = template.replace("{", "{{").replace("}", "}}")
    return re.sub(r"%\{\{(x|y|text)\}\}", r"{\1}", template)


def _y_range(fig: Any, traces: list) -> tuple[float, float]:
    axis = fig.layout.yaxis
    if axis.range is not None:
        return float(axis.range[0]), float(axis.range[1])
    values = [y for trace in traces for _, y in _xy(trace)]
    if any(trace.type == "bar" for trace in traces):
        values.append(0.0)
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    pad = 0.06 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def _x_range(traces: list) -> tuple[float, float]:
    xs = [x for trace in traces for x, _ in _xy(trace)]
    if not xs:
        return 0.0, 1.0
    pad = 0.5 if any(trace.type == "bar" for trace in traces) else 0.0
    low, high = min(xs) - pad, max(xs) + pad
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _legend(traces: list, colors: list[str]) -> list[str]:
    """The named traces' keys, right-aligned on the legend's line."""
    items = [
        (c, t)
        for t, c in zip(traces, colors, strict=True)
        if t.name and t.showlegend is not False and t.type != "heatmap"
    ]
    widths = [28 + text_width(str(t.name), TICK_SIZE) + 14 for _, t in items]
    x = WIDTH - RIGHT - sum(widths)
    parts = []
    for (color, trace), width in zip(items, widths, strict=True):
        y = LEGEND_Y
        if trace.type == "bar":
            key = f'<rect x="{x + 4:.1f}" y="{y - 9}" width="14" height="10" fill="{color}"/>'
        elif "lines" in (trace.mode or "lines"):
            dash = DASHES.get(trace.line.dash or "", "")
            key = (
                f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 22:.1f}" y2="{y - 4}" stroke="{color}"'
                f' stroke-width="2"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
            )
        elif trace.marker.symbol == "star":
            key = f'<polygon points="{_star(x + 11, y - 4, 6)}" fill="{color}"/>'
        else:
            key = f'<circle cx="{x + 11:.1f}" cy="{y - 4}" r="4" fill="{color}"/>'
        parts.append(key + _text(x + 28, y, str(trace.name), TICK_SIZE))
        x += width
    return parts


def _axes(canvas: _Canvas, fig: Any, heatmap: bool) -> None:
    """Grid lines and tick labels (the y axis's unless the rows are labelled), and the
    x axis's title."""
    faint = 'stroke="currentColor" stroke-opacity="0.15"'
    if not heatmap:
        ticks = fig.layout.yaxis.tickvals
        ys = [float(v) for v in ticks] if ticks else nice_ticks(canvas.y0, canvas.y1)
        for y in ys:
            py = canvas.py(y)
            canvas.add(_line(canvas.left, py, WIDTH - RIGHT, py, faint))
            canvas.add(_text(canvas.left - 6, py + 4, _label(y), TICK_SIZE, anchor="end"))
    low, high = canvas.x0, canvas.x1
    xs = [x for x in nice_ticks(math.ceil(low), math.floor(high), 8) if float(x).is_integer()]
    for x in xs:
        canvas.add(_text(canvas.px(x), canvas.bottom + 15, _label(x), TICK_SIZE, anchor="middle"))
    canvas.add(_line(canvas.left, canvas.bottom, WIDTH - RIGHT, canvas.bottom, faint))
    title = fig.layout.xaxis.title.text
    if title:
        middle = (canvas.left + WIDTH - RIGHT) / 2
        canvas.add(_text(middle, canvas.bottom + 33, str(title), 12, anchor="middle"))


def figure_svg(fig: Any) -> str:
    """The figure as one <svg> element, as wide as its column. Raises Unsupported for
    a trace or setting it does not draw."""
    traces = list(fig.data)
    kinds = {trace.type for trace in traces}
    if not traces or not kinds <= {"scatter", "bar", "heatmap"}:
        raise Unsupported(f"traces of type {sorted(kinds)}")
    heatmap = "heatmap" in kinds
    if heatmap and len(traces) > 1:
        raise Unsupported("a heatmap beside other traces")
    if fig.layout.yaxis.type not in (None, "-", "linear"):
        raise Unsupported(f"a {fig.layout.yaxis.type} y axis")
    height = int(fig.layout.height or 250)
    colors = [
        _color(getattr(t.marker, "color", None) if t.type == "bar" else t.line.color, default)
        if t.type != "heatmap"
        else default
        for t, default in zip(traces, _cycle(len(traces)), strict=True)
    ]
    for k, trace in enumerate(traces):  # markers-only traces are coloured by their marker
        if trace.type == "scatter" and "lines" not in (trace.mode or "lines"):
            colors[k] = _color(trace.marker.color, colors[k])
    if heatmap:
        (trace,) = traces
        steps = max((len(row) for row in trace.z), default=0)
        canvas = _Canvas(height, _heatmap_left(trace), (-0.5, steps - 0.5), (0.0, 1.0))
        _axes(canvas, fig, heatmap=True)
        _draw_heatmap(canvas, trace, _hover_format(trace))
    else:
        y_range = _y_range(fig, traces)
        ticks = fig.layout.yaxis.tickvals or nice_ticks(*y_range)
        left = 14 + max(text_width(_label(float(v)), TICK_SIZE) for v in ticks)
        canvas = _Canvas(height, left, _x_range(traces), y_range)
        _axes(canvas, fig, heatmap=False)
        for trace, color in zip(traces, colors, strict=True):
            (_draw_bar if trace.type == "bar" else _draw_scatter)(canvas, trace, color)
    title = fig.layout.title.text or ""
    head = [_text(0, TITLE_Y, str(title), TITLE_SIZE, font_weight="600")] if title else []
    body = "".join(head + _legend(traces, colors) + canvas.parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" role="img" aria-label="{_esc(str(title))}"'
        f' style="display: block">{body}</svg>'
    )


def _cycle(n: int) -> list[str]:
    return [SERIES_COLORS[k % len(SERIES_COLORS)] for k in range(n)]
