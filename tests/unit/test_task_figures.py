"""The task sample preview: one small figure per task, tokens decoded sensibly."""

import pytest

from designer.figures.tasks import MAX_TOKEN_STEPS, sample_figure, token_labels
from designer.tasks import TASKS, make_task


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_draws_one_sample(name):
    task = make_task(name, {})
    fig = sample_figure(task, seed=3)
    assert fig.data and fig.layout.title.text.startswith("One sample")
    assert fig.layout.height <= 260
    assert sample_figure(task, seed=3).to_json() == fig.to_json()  # deterministic


def test_adding_marks_the_two_values_and_says_the_sum():
    task = make_task("adding", {"seq_len": 20})
    x, y = task.batch(1, 0)
    fig = sample_figure(task, seed=0)
    marked = fig.data[1]
    assert len(marked.x) == 2
    assert f"= {float(y[0, 0]):.2f}" in fig.layout.title.text


def test_tokens_are_decoded():
    assert token_labels(make_task("brackets", {}), [1, 2, 0]) == ["(", ")", "·"]
    assert token_labels(make_task("copy", {}), [3, 4, 1, 2, 0]) == ["A", "B", "_", "go", "·"]
    sentiment = make_task("sentiment", {})
    x, _ = sentiment.batch(1, 0)
    words = [w for w in token_labels(sentiment, x[0].tolist()) if w != "·"]
    assert " ".join(words) == sentiment.decode(x[0])


def test_long_token_sequences_are_cut_to_fit():
    task = make_task("charlm", {})
    fig = sample_figure(task, seed=0)
    assert len(fig.data[0].x) == MAX_TOKEN_STEPS
    assert f"first {MAX_TOKEN_STEPS} of {task.seq_len}" in fig.layout.title.text
