"""In Chromium: play lesson 1 (why gates) end to end: predict, train both networks,
see the verdict with its numbers and the runs compared, step through the lesson. Then
open the same lesson in classroom mode, as a second student would: the runs are
shared (nothing trains again) and everything but the lesson is hidden. The Lessons
picture in the README is taken here."""

from pathlib import Path

import pytest

from tests.helpers import artifact

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VERDICT = '[data-testid="stAlert"]:has-text("The LSTM learned to add")'


def test_play_lesson_one_then_open_it_in_classroom_mode(page, app_url, browser):
    page.goto(f"{app_url}/lessons?lesson=why-gates")
    page.wait_for_app()
    page.get_by_text("Predict first.").wait_for()
    page.wait_for_app()
    train = page.locator(".st-key-lesson_train button").last
    assert train.is_disabled()  # the prediction comes first
    page.get_by_text("the LSTM", exact=True).click()
    page.wait_for_app()
    train.click()
    page.locator(".st-key-lesson_loss_live").wait_for(timeout=30_000)  # both curves, live

    page.locator(VERDICT).wait_for(timeout=240_000)
    verdict = page.locator(VERDICT).inner_text()
    assert "against 0.16 for the baseline" in verdict
    page.get_by_text("You predicted right: the LSTM").wait_for()
    # the runs compared: both curves, then the gradient profiles
    page.locator(".st-key-lesson_loss_chart").wait_for()
    page.get_by_text("2. Where the gradient goes").click()
    page.wait_for_app()
    page.locator(".st-key-lesson_profile").wait_for()
    page.set_viewport_size({"width": 1400, "height": 1300})
    page.locator("h1").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # the figure's last layout pass
    page.screenshot(path=str(artifact("lesson.png")))  # the README's (python -m tools.screenshots)
    assert page.external_requests == []

    # a second student, in classroom mode: the same runs, already trained; no controls
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    student = context.new_page()
    student.goto(f"{app_url}/lessons?lesson=why-gates&classroom=1")
    student.get_by_text("Make your prediction to see what they show").wait_for()
    student.get_by_text("the tanh RNN", exact=True).click()
    student.locator(VERDICT).wait_for(timeout=60_000)
    assert student.locator(".st-key-lesson_train").count() == 0  # nothing to train
    assert not student.locator('[data-testid="stSidebar"]').is_visible()
    assert student.locator('[data-testid="stSidebarNav"]').count() == 0
    assert student.get_by_text("Open A in Design").count() == 0
    assert student.get_by_text("Share this lesson").count() == 0
    student.get_by_text("The result says otherwise: the LSTM").wait_for()
    size = student.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert size == "20px"
    # on a projector the verdict and the curve that proves it share the first screen
    for width, height in ((1280, 720), (1400, 900)):
        student.set_viewport_size({"width": width, "height": height})
        student.wait_for_timeout(800)
        student.evaluate(
            "window.scrollTo(0, 0); "
            "document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0 })"
        )
        chart = student.locator(".st-key-lesson_loss_chart .js-plotly-plot").first
        chart.wait_for()
        student.wait_for_timeout(500)
        student.screenshot(path=str(artifact(f"classroom_{width}x{height}.png")))
        top = chart.bounding_box()["y"]
        assert top < height - 120, (width, height, top)  # its top, and its first curves
        verdict_box = student.locator(VERDICT).bounding_box()
        assert verdict_box["y"] + 100 < height, (width, height, verdict_box)
        assert verdict_box["x"] + verdict_box["width"] < chart.bounding_box()["x"]  # beside it
    context.close()
