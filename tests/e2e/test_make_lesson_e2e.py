"""In Chromium: train a tiny RNN and its LSTM variant, make a lesson of the two on the
Compare page (question, choices, the rule checked as it is typed), open it as a
lesson, predict, train it and read the verdict."""

import pytest

from designer import Experiment
from tests.helpers import artifact

pytestmark = pytest.mark.e2e

TINY = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 8},
        "model": {"layers": [{"type": "rnn", "hidden_size": 4}]},
        "train": {"steps": 40, "batch_size": 16, "eval_every": 20, "seed": 31_337},
    }
)


def type_into(page, key: str, text: str) -> None:
    """Type into a text field and leave it, so the page reads it."""
    field = page.locator(f".st-key-{key} input, .st-key-{key} textarea").first
    field.fill(text)
    field.press("Tab")
    page.wait_for_app()


def test_make_a_lesson_on_compare_open_it_and_train_it(page, app_url):
    page.goto(f"{app_url}/train?x={TINY.to_url()}")
    page.wait_for_app()
    page.locator(".st-key-train_start button").click()
    page.get_by_role("button", name="Train a variant").click(timeout=20_000)
    page.get_by_text("RNN → LSTM in every recurrent layer").click()
    page.locator(".st-key-train_variant button").click()
    page.get_by_role("link", name="Compare them side by side").click(timeout=60_000)
    page.wait_for_app()
    page.get_by_text("differs from").first.wait_for(timeout=30_000)

    page.get_by_text("Make a lesson", exact=True).click(timeout=60_000)  # below the figures
    page.wait_for_app()
    type_into(page, "ml_title_en", "Gates in the browser")
    type_into(page, "ml_question_en", "Which one learns to add?")
    type_into(page, "ml_choice_0_en", "the tanh RNN")
    type_into(page, "ml_choice_1_en", "the LSTM")
    type_into(page, "ml_why_en", "The LSTM's cell keeps the sum.")
    page.locator(".st-key-ml_answer").get_by_text("the LSTM").click()
    page.wait_for_app()
    type_into(page, "ml_rule", "val_loss: B <")
    page.get_by_text("at the end of the rule").wait_for()  # checked as it is typed
    type_into(page, "ml_rule", "val_loss: B < 3 * baseline")
    page.get_by_text("The rule reads: B's final validation loss < 3 × the baseline's").wait_for()
    page.get_by_text("The lesson is ready.").wait_for()
    page.get_by_text("The walk-through.").scroll_into_view_if_needed()
    page.screenshot(path=str(artifact("make_lesson.png")))

    page.locator(".st-key-ml_open button").click()
    page.get_by_role("heading", name="Lesson: Gates in the browser").wait_for(timeout=30_000)
    assert "/lessons" in page.url and "doc=" in page.url
    page.get_by_text("Which one learns to add?").wait_for()
    page.get_by_text("the LSTM", exact=True).click()
    page.wait_for_app()
    page.locator(".st-key-lesson_train button").last.click()
    verdict = page.locator('[data-testid="stAlert"]:has-text("validation loss")')
    verdict.wait_for(timeout=120_000)
    assert "yes" in verdict.inner_text()
    page.get_by_text("You predicted right: the LSTM").wait_for()
    page.get_by_text("The LSTM's cell keeps the sum.").wait_for()
    assert page.external_requests == []
