"""The app starts, shows the experiment, and keeps it in the URL; a link whose
experiment cannot be opened says why, in Chinese in whole sentences that name the
layer and the field."""

import base64
import json
import zlib

from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.document.presets import default_experiment
from tests.app.conftest import APP
from tests.helpers import english_sentences


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


def token_of(document: dict) -> str:
    """A link's token for any document, a broken one too (Experiment.to_url checks)."""
    raw = json.dumps(document).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def test_a_broken_link_s_problems_show_as_chinese_sentences():
    bad = {"version": 1, "model": {"layers": [{"type": "lstm", "hidden_size": 0}]}}
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.query_params["x"] = token_of(bad)
    at.run()
    assert not at.exception, at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning]
    said = [w for w in warnings if "hidden_size" in w]
    assert said, warnings
    assert "第 0 层 (lstm) 的 hidden_size 必须大于或等于 1，实际为 0" in said[0]
    assert not english_sentences(said[0].replace("hidden_size", "")), said[0]
