"""In Chromium: an exercise from its link, the numbers drawn as typeset matrices, an
answer typed and checked with Enter (the field is in a form), the worked solution, and
New numbers keeping the seed in the address."""

import pytest

from designer.lessons.exercises import make

pytestmark = pytest.mark.e2e


def test_an_exercise_is_typeset_checked_with_enter_and_draws_new_numbers(page, app_url):
    exercise = make("lstm-cell", 7)
    page.goto(f"{app_url}/lessons?exercise=lstm-cell&seed=7")
    page.wait_for_app()
    page.get_by_role("heading", name="An LSTM's cell state").wait_for()
    # typeset, not $...$ (Streamlit loads KaTeX on demand: wait for the fourth formula)
    page.locator('[data-testid="stMain"] .katex').nth(3).wait_for()
    field = page.get_by_label("Your answer")
    field.fill(", ".join(f"{v:.3f}" for v in exercise.expected))
    field.press("Enter")
    page.get_by_text("Right: every number is within ± 0.01.").wait_for()
    page.get_by_text("Worked solution").wait_for()
    page.get_by_text("Their sum is the new cell state").wait_for()
    page.get_by_role("button", name="New numbers").click()
    page.wait_for_url("**seed=8**")
    page.wait_for_app()
    assert page.get_by_text("Right: every number is within").count() == 0
    assert page.external_requests == []
