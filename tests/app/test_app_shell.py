"""The app starts, shows the experiment, and keeps it in the URL."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.presets import default_experiment

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def test_app_starts_with_a_working_experiment():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.session_state["experiment"] == default_experiment()  # a working preset
    assert at.query_params["x"]  # the experiment is in the URL


def test_link_opens_its_experiment():
    exp = Experiment.from_dict(
        {"version": 1, "model": {"layers": [{"type": "gru", "hidden_size": 7}]}}
    )
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["x"] = exp.to_url()
    at.run()
    assert not at.exception
    assert at.session_state["experiment"] == exp


def test_bad_link_warns_and_opens_the_default():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["x"] = "not-a-real-experiment"
    at.run()
    assert not at.exception
    assert any("could not be opened" in w.value for w in at.warning)
    assert at.session_state["experiment"] == default_experiment()
