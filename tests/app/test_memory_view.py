"""The memory panel through AppTest: a tiny script shows it for a small model; the
figure and the numbers appear, the sweep button draws the sweep and keeps it."""

from streamlit.testing.v1 import AppTest


def _memory_script(layers: list, task: dict) -> None:
    """Shows the memory panel of the untrained model of a small experiment."""
    from components.inspect.memory_view import show_memory
    from components.inspect.probe_source import Weights
    from designer import Experiment, build_model, get_task

    exp = Experiment.from_dict({"version": 1, "task": task, "model": {"layers": layers}})
    model = build_model(exp, get_task(exp.task))
    show_memory(exp, Weights.of(exp, model, "at initialisation"))


def open_panel(layers: list, task: dict) -> AppTest:
    at = AppTest.from_function(_memory_script, args=(layers, task), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list:
    return at.get("plotly_chart")


LAYERS = [
    {"type": "rnn", "hidden_size": 12, "freeze": True, "spectral_radius": 0.9},
    {"type": "linear", "out_features": 6},
    {"type": "gru", "hidden_size": 8},
]


def test_the_panel_shows_the_curves_their_numbers_and_a_sweep_on_request():
    at = open_panel(LAYERS, {"name": "parity", "seq_len": 16})
    assert len(charts(at)) == 1
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["0 rnn", "2 gru"]
    assert (table["memory capacity (Σ R²)"] >= 0).all()
    assert any("linear read-out" in caption.value for caption in at.caption)
    assert at.selectbox(key="memory_sweep_layer").options == ["0 rnn", "2 gru"]

    at.button(key="memory_sweep").click().run()
    assert not at.exception, at.exception
    assert len(charts(at)) == 2
    assert any("Most memory at ρ" in caption.value for caption in at.caption)
    at.run()  # a rerun keeps the sweep (from the cache, nothing recomputed)
    assert len(charts(at)) == 2

    at.selectbox(key="memory_sweep_layer").set_value(2).run()  # another layer: ask again
    assert len(charts(at)) == 1
    at.button(key="memory_sweep").click().run()
    assert len(charts(at)) == 2 and not at.exception


def test_token_tasks_show_accuracy_and_chance():
    at = open_panel([{"type": "lstm", "hidden_size": 8}], {"name": "brackets", "seq_len": 12})
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "layer",
        "steps held above chance",
        "accuracy at k = 1",
        "chance",
    ]
    assert 0 < table["chance"][0] < 1


def test_a_stack_without_a_recurrent_layer_says_so():
    at = open_panel([{"type": "linear", "out_features": 4}], {"name": "sine", "seq_len": 10})
    assert any("no recurrent layer" in info.value for info in at.info)
    assert not charts(at) and not at.dataframe
