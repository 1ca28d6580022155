"""The Inspect page's deeper views through AppTest: the credit matrix, the time and
depth paths, memory and what-if, on the untrained model and on a trained run."""

import pytest

from designer import Experiment
from designer.whatif import edits_from_text
from tests.helpers import link_of, wait_for

INSPECT = "app_pages/inspect.py"
TRAIN = "app_pages/train.py"

DEEP = Experiment.from_dict(
    {
        "task": {"name": "sine", "seq_len": 12},
        "model": {
            "layers": [
                {"type": "lstm", "hidden_size": 6},
                {"type": "gru", "hidden_size": 6, "residual": True},
            ]
        },
        "train": {"steps": 40, "batch_size": 8, "eval_every": 10},
    }
)


def specs(at) -> str:
    return " ".join(chart.proto.spec for chart in at.get("plotly_chart"))


def show(at, view: str):
    at.segmented_control(key="inspect_view").set_value(view).run()
    assert not at.exception, at.exception
    assert at.query_params["view"] == view  # kept in the link
    return at


@pytest.fixture
def inspect(app_on_page):
    return app_on_page(DEEP, INSPECT)


def test_the_credit_view_draws_every_layer_s_matrix(inspect):
    at = show(inspect, "credit")
    assert "loss step t" in specs(at) and "layer 1 gru" in specs(at)
    assert any("untrained model" in c.value for c in at.caption)
    assert any("the loss of each of 12 steps" in c.value for c in at.caption)


def test_a_last_step_task_s_credit_is_one_row_and_says_so(app_on_page):
    exp = Experiment.from_dict(
        {"task": {"name": "adding", "seq_len": 10}, "model": {"layers": [{"type": "rnn"}]}}
    )
    at = show(app_on_page(exp, INSPECT), "credit")
    assert any("one row, t = 9" in i.value for i in at.info)


def test_the_inputs_view_colours_each_input_step_by_its_influence(inspect):
    at = show(inspect, "inputs")
    spec = specs(at)
    assert "Which input steps the output at step 11 uses" in spec
    assert '"type":"bar"' in spec  # the influence bars under the input curve
    assert any("Most influential input steps" in c.value for c in at.caption)
    at.select_slider(key="influence_step").set_value(4).run()
    assert not at.exception, at.exception
    assert "output at step 4" in specs(at)
    at.number_input(key="influence_sample").set_value(2).run()
    assert not at.exception, at.exception


def test_the_inputs_view_writes_a_text_task_as_its_characters(app_on_page):
    exp = Experiment.from_dict(
        {"task": {"name": "sentiment", "seq_len": 10}, "model": {"layers": [{"type": "gru"}]}}
    )
    at = show(app_on_page(exp, INSPECT), "inputs")
    spec = specs(at)
    assert "Which input steps the answer uses" in spec
    assert "texttemplate" in spec and '"text"' in spec  # the words as cells


def test_the_paths_view_divides_the_gradient(inspect):
    at = show(inspect, "paths")
    spec = specs(at)
    assert "through time" in spec and "around the layer above" in spec
    text = " ".join(m.value for m in at.markdown)
    assert "layer 0 (lstm): through time" in text and "around it" in text
    assert "up from the output head" in text


def test_the_memory_view_measures_each_layer(inspect):
    at = show(inspect, "memory")
    assert list(at.dataframe[0].value["layer"]) == ["0 lstm", "1 gru"]
    assert any("half of random inputs" in c.value for c in at.caption)
    noise = at.dataframe[0].value["memory capacity (Σ R²)"].tolist()
    at.segmented_control(key="memory_input").set_value("task").run()
    assert any("half of a validation batch" in c.value for c in at.caption)
    own = at.dataframe[0].value["memory capacity (Σ R²)"].tolist()
    assert all(a > b for a, b in zip(own, noise, strict=True))  # a wave predicts its past


def test_what_if_applies_undoes_and_keeps_its_changes_in_the_link(inspect):
    at = show(inspect, "whatif")
    assert any("No change yet" in c.value for c in at.caption)
    at.selectbox(key="whatif_layer").set_value(0).run()
    at.button(key="whatif_apply").click().run()
    assert not at.exception, at.exception
    assert edits_from_text(at.query_params["whatif"])[0].layer == 0
    (loss, metric) = at.metric
    assert loss.label == "Validation loss" and "was" in loss.delta
    assert "Without the changes" in specs(at) and "With the changes" in specs(at)

    at.segmented_control(key="whatif_action").set_value("hold").run()
    at.selectbox(key="whatif_gate_0").set_value("forget").run()
    at.slider(key="whatif_value_0_forget").set_value(1.0).run()
    at.multiselect(key="whatif_units_0").set_value([1, 2]).run()
    at.button(key="whatif_apply").click().run()
    edits = edits_from_text(at.query_params["whatif"])
    held = [(e.gate, e.value, e.units) for e in edits]
    assert held == [(None, 0.0, None), ("forget", 1.0, (1, 2))]
    assert "forget gate held at 1 (units 1, 2)" in " ".join(m.value for m in at.markdown)

    at.button(key="whatif_undo").click().run()
    assert len(edits_from_text(at.query_params["whatif"])) == 1
    at.button(key="whatif_clear").click().run()
    assert "whatif" not in at.query_params
    assert not at.metric


def test_what_if_ignores_a_damaged_or_unfitting_link(app_on_page):
    at = app_on_page(DEEP, INSPECT)
    at.query_params["view"] = "whatif"  # a shared link opens on its view
    at.query_params["whatif"] = "0~7_u1~../../etc/passwd"
    at.run()
    assert not at.exception, at.exception
    assert any("were ignored" in w.value and "passwd" not in w.value for w in at.warning)
    at.query_params["whatif"] = "0~7"
    at.run()
    assert any("does not fit this model: layer 7" in w.value for w in at.warning)
    assert at.query_params["whatif"] == "0"  # the fitting change stays


def test_the_deeper_views_read_the_trained_weights(inspect):
    at = inspect
    at.switch_page(TRAIN).run()
    at.button(key="train_start").click().run()
    runner = link_of(at).current
    assert wait_for(lambda: not runner.alive, timeout=60)
    at.switch_page(INSPECT).run()
    for view in ("credit", "paths", "memory", "whatif"):
        show(at, view)
        assert any("from training, step 40" in c.value for c in at.caption), view
