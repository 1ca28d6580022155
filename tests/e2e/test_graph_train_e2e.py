"""In Chromium: click a node of the unrolled graph and see its details; train live,
watch the loss chart update by itself, Stop, and find the gradient heatmap."""

import re

import pytest

from designer import Experiment
from tests.helpers import artifact

pytestmark = pytest.mark.e2e

SMALL = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 20},
        "model": {
            "layers": [{"type": "lstm", "hidden_size": 16}, {"type": "gru", "hidden_size": 8}]
        },
        "train": {"steps": 20_000, "batch_size": 32, "eval_every": 50},
    }
)
LOSS_CHART = ".st-key-train_loss_live [role=img]"  # the canvas loss curve while it trains


def last_step_drawn(page) -> int:
    """The loss chart's last step drawn, read from its accessible description
    ("Loss: train loss 0.1 at step 123, ...")."""
    chart = page.locator(LOSS_CHART)
    if not chart.count():
        return -1
    found = re.search(r"train loss \S+ at step (\d+)", chart.get_attribute("aria-label") or "")
    return int(found.group(1)) if found else -1


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def step_count(page) -> int:
    return int(metric(page, "Step").replace(",", ""))


def click_the_lstm_at_step_5(page, app_url) -> None:
    """Open the graph of SMALL and click its LSTM node at t = 5, as a user does."""
    page.goto(f"{app_url}/graph?x={SMALL.to_url()}")
    page.wait_for_app()
    page.get_by_text("Unrolled graph").first.wait_for()
    # nodes are drawn last, one trace per kind: input, lstm, gru, output, loss
    traces = page.locator(".js-plotly-plot .scatterlayer .trace")
    traces.last.locator("path.point").first.wait_for()  # the figure has been drawn
    lstm = traces.nth(traces.count() - 4).locator("path.point")
    assert lstm.count() == 20
    # point at it (plotly shows its hover label once its handlers are live), then click
    lstm.nth(5).hover(force=True)
    page.locator(".hoverlayer .hovertext").first.wait_for()
    lstm.nth(5).click(force=True)
    page.wait_for_timeout(500)
    page.wait_for_app()
    page.get_by_text("Layer 0: lstm, forward, t = 5").wait_for(timeout=20_000)


def test_click_a_graph_node_and_see_its_details(page, app_url):
    click_the_lstm_at_step_5(page, app_url)
    page.get_by_text("Gates at this step").first.wait_for()
    # the LSTM's equations, once KaTeX has drawn them (it renders after the text)
    page.wait_for_function("document.querySelectorAll('.katex').length >= 6")
    assert page.external_requests == []


def test_step_through_a_node_s_cell_forward_and_back(page, app_url):
    """Click the LSTM at step 5, step through its arithmetic with the keyboard and the
    mouse, then its backward step: the forget gate's factor and the numbers shown."""
    click_the_lstm_at_step_5(page, app_url)
    page.locator(".st-key-cell_walk label").click()
    page.wait_for_app()
    page.get_by_text("the input gate: how much of the candidate to write").wait_for()
    slider = page.locator(".st-key-cell_operation_forward input[type=range]")
    slider.focus()
    for _ in range(4):  # to the cell state's update, by keyboard
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    page.wait_for_app()
    page.get_by_text("the new cell state").first.wait_for()
    page.locator(".st-key-cell_phase button", has_text="Backward").click()  # by mouse
    page.wait_for_app()
    page.get_by_text("On the cell state's path").wait_for()
    page.wait_for_function("document.querySelectorAll('.katex').length >= 6")
    table = page.locator('[data-testid="stDataFrame"]')
    assert table.count() == 1
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifact("cell_walk.png")), full_page=True)
    assert page.external_requests == []


def test_live_training_updates_by_itself_stops_and_inspect_shows_gradients(page, app_url):
    page.goto(f"{app_url}/train?x={SMALL.to_url()}")
    page.wait_for_app()
    page.locator(".st-key-train_start button").click()
    page.get_by_text("Training", exact=True).wait_for(timeout=20_000)

    seen = []
    for _ in range(30):  # no clicks: the page polls the run by itself
        page.wait_for_timeout(700)
        count = last_step_drawn(page)
        if count > 0 and (not seen or count != seen[-1]):
            seen.append(count)
        if len(seen) >= 4:
            break
    assert len(seen) >= 4 and seen == sorted(seen), seen  # three updates after the first
    page.locator(LOSS_CHART).hover()  # the values under the pointer
    tip = page.locator(".st-key-train_loss_live .tip")
    assert re.match(r"step [\d,]+train loss: \S+", tip.inner_text().replace("\n", ""))

    page.locator(".st-key-train_stop button").click()
    page.wait_for_timeout(2000)  # Stop takes effect within 2 seconds
    page.wait_for_app()
    stopped = step_count(page)
    page.wait_for_timeout(2500)
    assert step_count(page) == stopped
    page.get_by_text("Stopped").first.wait_for()

    page.locator('[data-testid="stSidebarNav"] a', has_text="Inspect").click()
    page.wait_for_app()
    page.get_by_text("Gradient reaching each layer and step").first.wait_for(timeout=30_000)
    assert page.external_requests == []
