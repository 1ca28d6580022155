"""In Chromium: the Graph page's animated forward and backward pass on a 4 x 50 stack
(4 LSTM layers, all 50 steps of the adding task drawn). Play changes the drawn
frames, Pause stops them, and a play-through draws every frame, in order."""

import pytest

from designer import Experiment

pytestmark = pytest.mark.e2e

STACK = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 50},
        "model": {"layers": [{"type": "lstm", "hidden_size": 32}] * 4},
    }
)
PLOT = ".st-key-graph_sweep_plot .js-plotly-plot"

# What the plot draws now: the slider's step, the caption, and the fill of every node
# of the top trace (its SVG, as plotly styled it).
STATE = """(selector) => {
    const gd = document.querySelector(selector);
    const top = Array.from(gd.querySelectorAll('.scatterlayer g.trace'))
        .find(g => g.__data__ && g.__data__[0].trace.name === 'nodes');
    const caption = gd._fullData.find(t => t.name === 'caption');
    return {
        active: gd.layout.sliders[0].active,
        caption: caption.text[0],
        fills: Array.from(top.querySelectorAll('path.point')).map(p => p.style.fill).join(' '),
    };
}"""
# Every frame plotly draws from now on, with when, and the end of each animation.
LISTEN = """(selector) => {
    const gd = document.querySelector(selector);
    window.sweepEvents = [];
    if (window.sweepListening) return;
    window.sweepListening = true;
    gd.on('plotly_animatingframe', e => window.sweepEvents.push([performance.now(), e.name]));
    gd.on('plotly_animated', () => window.sweepEvents.push([performance.now(), 'done']));
}"""


def button(page, label: str):
    return page.locator(f"{PLOT} .updatemenu-button", has_text=label)


def test_play_animates_the_sweep_and_pause_stops_it(page, app_url):
    page.goto(f"{app_url}/graph?x={STACK.to_url()}")
    page.wait_for_app()
    page.locator(".st-key-graph_columns input[type=range]").press("End")  # draw all 50 steps
    page.wait_for_app()
    page.get_by_text("Play the forward and backward pass").click()
    page.wait_for_app()
    page.locator(f"{PLOT} .updatemenu-button").first.wait_for(timeout=30_000)
    frames = page.evaluate(f"document.querySelector('{PLOT}')._transitionData._frames.length")
    assert 150 < frames <= 250
    nodes = page.evaluate(STATE, PLOT)["fills"].count("rgb")
    assert nodes == 50 + 4 * 50 + 2  # inputs, the layers, y and the loss

    page.evaluate(LISTEN, PLOT)
    start = page.evaluate(STATE, PLOT)
    button(page, "Play").click()
    page.wait_for_timeout(1500)
    first = page.evaluate(STATE, PLOT)
    page.wait_for_timeout(1000)
    second = page.evaluate(STATE, PLOT)
    assert start["active"] < first["active"] < second["active"]
    assert len({start["fills"], first["fills"], second["fills"]}) == 3
    assert first["caption"] != second["caption"]
    assert second["caption"].startswith("forward: layer")

    button(page, "Pause").click()
    page.wait_for_timeout(300)
    paused = page.evaluate(STATE, PLOT)
    page.wait_for_timeout(1200)
    assert page.evaluate(STATE, PLOT) == paused

    page.evaluate(LISTEN, PLOT)
    button(page, "Play").click()  # on from where it stopped, to the end
    page.wait_for_function("window.sweepEvents.some(e => e[1] === 'done')", timeout=120_000)
    end = page.evaluate(STATE, PLOT)
    assert end["active"] == frames - 1
    assert end["caption"].startswith("backward:") and "inputs x_t" in end["caption"]
    # every frame after the paused one was drawn, once and in order: none dropped
    names = [name for _, name in page.evaluate("window.sweepEvents") if name != "done"]
    assert len(names) == frames - 1 - paused["active"]
    assert len(set(names)) == len(names) and names[-1] == f"b{(frames - 1) // 2}"

    # once more from the start, to time a whole play-through
    page.evaluate(LISTEN, PLOT)
    button(page, "Play").click()
    page.wait_for_function("window.sweepEvents.some(e => e[1] === 'done')", timeout=120_000)
    events = page.evaluate("window.sweepEvents")
    drawn = [t for t, name in events if name != "done"]
    gaps = sorted(b - a for a, b in zip(drawn, drawn[1:], strict=False))
    seconds = (events[-1][0] - drawn[0]) / 1000
    print(
        f"\nplay-through: {len(drawn)} of {frames} frames in {seconds:.1f} s; "
        f"between frames median {gaps[len(gaps) // 2]:.0f} ms, "
        f"90th percentile {gaps[int(len(gaps) * 0.9)]:.0f} ms, longest {gaps[-1]:.0f} ms"
    )
    assert len(drawn) == frames  # the start included: it played from the beginning
    assert page.external_requests == []
