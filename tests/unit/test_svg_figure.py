"""The task sample as SVG (designer/figures/svg.py): every task's sample is drawn with
the numbers of its plotly figure, its texts are escaped, and a figure holding anything
else is refused so that the page can fall back on plotly."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import plotly.graph_objects as go
import pytest

from designer.figures.style import SERIES_COLORS
from designer.figures.svg import Unsupported, figure_svg, nice_ticks
from designer.figures.tasks import sample_figure
from designer.tasks import TASKS, make_task

SVG = "{http://www.w3.org/2000/svg}"


def parsed(fig: go.Figure) -> ET.Element:
    root = ET.fromstring(figure_svg(fig))  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def tips(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


@pytest.mark.parametrize("name", [n for n in TASKS if n != "csv"] + ["csv"])
def test_every_task_s_sample_is_drawn_from_its_figure(name):
    fig = sample_figure(make_task(name, {}), seed=2)
    root = parsed(fig)
    assert texts(root)[0] == fig.layout.title.text  # the sentence above it
    assert root.get("aria-label") == fig.layout.title.text
    assert fig.layout.xaxis.title.text in texts(root)
    trace = fig.data[0]
    if trace.type == "heatmap":  # one cell per token, each labelled as plotly writes it
        cells = [r for r in root.iter(f"{SVG}rect")]
        assert len(cells) == sum(len(row) for row in trace.z)
        labels = [label for row in trace.text for label in row if label]
        assert sorted(labels) == sorted(t for t in texts(root)[1:] if t in set(labels))
        for row in trace.y:
            assert row in texts(root)
    else:  # every point has its tooltip with its value
        points = sum(len(t.y) for t in fig.data)
        assert len(tips(root)) == points
        for t in fig.data:
            if t.name:
                assert t.name in texts(root)  # its legend entry


def test_a_line_s_points_and_tooltips_carry_the_figure_s_numbers():
    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[0.5, -1.25, 2.0], name="input x_t"))
    fig.update_layout(title_text="A sample", height=250)
    root = parsed(fig)
    (line,) = root.iter(f"{SVG}polyline")
    ys = [float(p.split(",")[1]) for p in line.get("points").split()]
    assert ys[1] > ys[0] > ys[2]  # lower values lower on the page (larger y in SVG)
    assert tips(root) == ["input x_t, t = 0: 0.5", "input x_t, t = 1: -1.25", "input x_t, t = 2: 2"]


def test_the_adding_problem_stars_its_two_marked_values():
    task = make_task("adding", {})
    fig = sample_figure(task, seed=0)
    stars = list(make_task("adding", {}).marked_steps(task.batch(1, 0)[0][0]))
    root = parsed(fig)
    assert len(list(root.iter(f"{SVG}polygon"))) == len(stars) + 1  # and its legend key


def test_parity_draws_one_bar_per_one_bit():
    task = make_task("parity", {})
    fig = sample_figure(task, seed=1)
    bits = list(fig.data[0].y)
    root = parsed(fig)
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == len(bits)
    heights = [float(r.get("height")) for r in bars]
    assert [h > 0 for h in heights] == [b == 1 for b in bits]


def test_texts_are_escaped_and_odd_colours_replaced():
    name = '<script>alert(1)</script> & "x"'
    fig = go.Figure(go.Scatter(y=[1, 2], name=name, line_color="hsl(0, 100%, 50%)"))
    fig.add_scatter(y=[2, 1], name="two\n\nlines")  # a blank line would end the markup
    fig.update_layout(title_text="<b>bold</b> & <img src=x onerror=alert(1)>")
    markup = figure_svg(fig)
    assert "<script" not in markup and "<img" not in markup and "<b>" not in markup
    assert "\n" not in markup and "two lines" in markup
    root = ET.fromstring(markup)
    assert name in texts(root) and "<b>bold</b> & <img src=x onerror=alert(1)>" in texts(root)
    line = next(root.iter(f"{SVG}polyline"))
    assert line.get("stroke") == SERIES_COLORS[0]  # not a plain colour: the first series'


def test_a_figure_it_does_not_draw_is_refused():
    with pytest.raises(Unsupported):
        figure_svg(go.Figure(go.Pie(values=[1, 2])))
    log = go.Figure(go.Scatter(y=[1, 10]))
    log.update_yaxes(type="log")
    with pytest.raises(Unsupported):
        figure_svg(log)
    with pytest.raises(Unsupported):
        figure_svg(go.Figure())


def test_nice_ticks_are_round_and_inside_the_range():
    assert nice_ticks(0, 1) == [0, 0.5, 1.0]
    assert nice_ticks(-0.93, 0.97) == [-0.5, 0, 0.5]
    assert nice_ticks(0, 47, 8) == [0, 10, 20, 30, 40]
    assert nice_ticks(3, 3) == [3]
