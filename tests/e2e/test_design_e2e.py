"""The Design page in real Chromium: drag and drop, resize, keys, and the URL state."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from components.design.stack_edit import SNAP_WIDTHS
from tests.helpers import artifact

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

CARDS = '[data-testid="ls-card"]'
ROWS = '[data-testid="stTable"] tbody tr'


def card_types(page) -> list[str]:
    return page.locator(CARDS).evaluate_all("cards => cards.map(c => c.dataset.type)")


def card_widths(page) -> list[str]:
    return page.locator(CARDS).evaluate_all(
        "cards => cards.map(c => c.querySelector('.ls-width-num')?.textContent ?? '')"
    )


def summary(page) -> list[tuple[str, str]]:
    """(type, parameters) of each row of the summary table, input and head included."""
    return page.locator(ROWS).evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td, th')].map(c => c.textContent.trim()))"
        ".map(cells => [cells[1], cells[3]])"
    )


def wait_until(page, check, what: str, timeout: float = 15.0) -> None:
    """Poll `check` (the app answers an event with a rerun), then let the run finish."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)
    page.wait_for_app()


def summary_types(page) -> list[str]:
    return [kind for kind, _ in summary(page)][1:-1]  # without the input and head rows


def expect_stack(page, types: list[str]) -> None:
    """The cards show `types` and the summary table follows them."""
    wait_until(
        page,
        lambda: card_types(page) == types and summary_types(page) == types,
        f"the stack and the summary to show {types} (cards {card_types(page)}, "
        f"summary {summary_types(page)})",
    )


def test_drag_and_drop_editing_survives_a_reload(page, app_url):
    page.goto(app_url)
    page.wait_for_app()
    # a first visit opens with the start panel above the editor: take its design door
    page.get_by_role("button", name="Design a network").click()
    expect(page.locator(".st-key-welcome")).to_have_count(0, timeout=15_000)
    page.wait_for_app()
    cards = page.locator(CARDS)
    # the first screen is a working preset, not a blank page
    expect(cards).to_have_count(4, timeout=30_000)
    expect_stack(page, ["lstm"] * 4)

    # 1. drag a GRU from the palette onto the top half of card 1: it becomes layer 1
    page.locator('[data-testid="palette-gru"]').drag_to(
        cards.nth(1), target_position={"x": 60, "y": 6}
    )
    expect_stack(page, ["lstm", "gru", "lstm", "lstm", "lstm"])

    # 2. drag the GRU card onto the lower half of card 3: it moves below it
    box = cards.nth(3).bounding_box()
    cards.nth(1).drag_to(cards.nth(3), target_position={"x": 60, "y": box["height"] - 6})
    expect_stack(page, ["lstm", "lstm", "lstm", "gru", "lstm"])

    # 3. the x on card 0 removes it
    cards.nth(0).locator('[data-testid="ls-remove"]').click()
    expect_stack(page, ["lstm", "lstm", "gru", "lstm"])

    # 4. a LayerNorm dropped on the head goes to the end; dragged out of the stack, it goes
    page.locator('[data-testid="palette-layernorm"]').drag_to(
        page.locator('[data-testid="ls-head"]')
    )
    expect_stack(page, ["lstm", "lstm", "gru", "lstm", "layernorm"])
    cards.nth(4).drag_to(page.locator("h1").first)
    expect_stack(page, ["lstm", "lstm", "gru", "lstm"])

    # 5. drag the GRU card's right edge: the width shows while dragging, then snaps
    before = dict(summary(page))["gru"]
    handle = cards.nth(2).locator('[data-testid="ls-handle"]').bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=6)
    shown = cards.nth(2).locator(".ls-width-num").text_content()
    # the new number is on the card while dragging, one of the log-scale snap values
    assert int(shown) > 64 and int(shown) in SNAP_WIDTHS
    page.mouse.up()
    wait_until(page, lambda: card_widths(page)[2] == shown, f"the GRU to be {shown} wide")
    wait_until(page, lambda: dict(summary(page))["gru"] != before, "the summary to follow")

    # 6. keys: select card 2, Alt+Up moves it up, '-' narrows it one snap step
    cards.nth(2).click(position={"x": 30, "y": 12})
    wait_until(page, lambda: "selected" in (cards.nth(2).get_attribute("class") or ""), "select")
    cards.nth(2).focus()
    page.keyboard.press("Alt+ArrowUp")
    expect_stack(page, ["lstm", "gru", "lstm", "lstm"])
    wide = int(card_widths(page)[1])
    page.locator(f"{CARDS}.selected").focus()
    page.keyboard.press("-")
    wait_until(page, lambda: int(card_widths(page)[1]) < wide, "the '-' key to narrow the GRU")
    widths = card_widths(page)
    assert int(widths[1]) == SNAP_WIDTHS[SNAP_WIDTHS.index(wide) - 1]  # one snap step

    # 7. the URL holds the whole experiment: a reload shows the same stack
    page.reload()
    page.wait_for_app()
    expect(cards).to_have_count(4, timeout=30_000)  # the stack component has drawn
    expect_stack(page, ["lstm", "gru", "lstm", "lstm"])
    assert card_widths(page) == widths

    page.screenshot(path=str(artifact("design.png")))  # the README's (python -m tools.screenshots)
    assert artifact("design.png").stat().st_size > 10_000
    assert page.external_requests == []


def test_the_first_screen_needs_no_chart_library_and_shares_its_link(page, app_url):
    """The task sample is drawn as SVG and the share link is a text field: a first visit
    to Design fetches neither the chart library nor the code viewer's script (together
    over 6 MB that the browser would parse before the page settles)."""
    page.goto(app_url)
    page.wait_for_app()
    page.get_by_role("button", name="Design a network").click()
    page.wait_for_app()
    sample = page.locator('[data-testid="stMarkdownContainer"] svg[role="img"]')
    expect(sample).to_have_count(1, timeout=30_000)
    assert sample.get_attribute("aria-label").startswith("One sample")
    box = sample.bounding_box()
    assert box["width"] > 300 and box["height"] > 100  # drawn at its column's width
    assert sample.locator("title").count() > 10  # a tooltip on each point

    # the share field holds this page's link, and an edit in it is undone
    field = page.get_by_label("Link to this design")
    wait_until(page, lambda: "x=" in field.input_value(), "the share link")
    link = field.input_value()
    x = parse_qs(urlsplit(page.url).query)["x"]
    assert urlsplit(link).path == urlsplit(page.url).path and parse_qs(urlsplit(link).query) == {
        "x": x
    }
    field.fill("edited")
    field.press("Enter")
    wait_until(page, lambda: field.input_value() == link, "the link to come back")

    scripts = page.evaluate(
        "() => performance.getEntriesByType('resource').map(r => r.name.split('/').pop())"
    )
    assert not [s for s in scripts if s.startswith(("PlotlyChart", "StreamlitSyntaxHighlighter"))]
    assert page.external_requests == []
