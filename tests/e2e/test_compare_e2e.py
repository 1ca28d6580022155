"""In Chromium: train a plain RNN on the adding problem, press "Train a variant"
(RNN → LSTM), watch both curves move on the Train page, then open Compare on the two
and read what changed. The Compare page's picture in the README is taken here."""

import re
from pathlib import Path

import pytest

from designer import Experiment
from tests.helpers import artifact

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RNN = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 30},
        "model": {"layers": [{"type": "rnn", "hidden_size": 32}]},
        "train": {
            "steps": 3000,
            "lr": 0.01,
            "batch_size": 64,
            "eval_every": 100,
            "probe_every": 250,
        },
    }
)
PAIR_CHART = ".st-key-train_pair_loss_live [role=img]"  # both runs' losses, while training
BOTH_DONE = """() => {
    const steps = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .map((m) => m.innerText.split(/\\n+/))
        .filter(([label]) => label.startsWith("Step (of 3,000)"));
    return steps.length === 2 && steps.every(([, value]) => value === "3,000");
}"""


def steps_drawn(page) -> dict[str, int]:
    """Each run's last step drawn on the loss chart, from its accessible description
    ("Loss: A: Run 1: … train 0.18 at step 120, …")."""
    chart = page.locator(PAIR_CHART)
    label = chart.get_attribute("aria-label") if chart.count() else ""
    found = re.findall(r"([AB]): [^,]*? train \S+ at step (\d+)", label or "")
    return {letter: int(step) for letter, step in found}


def test_train_a_variant_and_compare_the_two(page, app_url):
    page.goto(f"{app_url}/train?x={RNN.to_url()}")
    page.wait_for_app()
    page.locator(".st-key-train_start button").click()
    page.get_by_text("Training", exact=True).wait_for(timeout=20_000)

    page.get_by_role("button", name="Train a variant").click()
    page.get_by_text("RNN → LSTM in every recurrent layer").click()
    page.locator(".st-key-train_variant button").click()
    page.get_by_text("Training the variant: RNN → LSTM").wait_for(timeout=20_000)

    seen = []
    for _ in range(60):  # both curves move, with no clicks
        page.wait_for_timeout(700)
        drawn = steps_drawn(page)
        if len(drawn) == 2 and (not seen or drawn != seen[-1]):
            seen.append(drawn)
        if len(seen) >= 3:
            break
    assert len(seen) >= 3, seen
    assert seen[-1]["A"] > seen[0]["A"] and seen[-1]["B"] > seen[0]["B"]

    # both end (3,000 steps each); the page then offers Compare
    page.wait_for_function(BOTH_DONE, timeout=180_000)
    page.wait_for_app()
    page.get_by_role("link", name="Compare them side by side").click()
    page.wait_for_app()
    page.get_by_text("differs from").first.wait_for(timeout=30_000)
    changed = page.locator('[data-testid="stMarkdown"]', has_text="differs from").inner_text()
    assert "layer 0: RNN → LSTM" in changed
    picked = page.locator('[data-testid="stMultiSelect"]').first.inner_text()
    assert "RNN 32 on adding" in picked and "LSTM 32 on adding" in picked
    page.get_by_text("How far back the gradient reaches").first.wait_for(timeout=30_000)
    page.locator('[data-testid="stTable"]').first.wait_for()
    page.set_viewport_size({"width": 1400, "height": 1750})  # the whole page in one picture
    page.wait_for_app()
    page.get_by_text("Spectral radius of the recurrent weights").first.wait_for()
    page.wait_for_timeout(1500)  # the figures' last layout pass
    page.screenshot(path=str(artifact("compare.png")))  # the README's (python -m tools.screenshots)
    assert page.external_requests == []
