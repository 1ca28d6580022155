"""The Graph page through AppTest: controls, colouring from a probe, node details."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from designer import Experiment

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")

BI = Experiment.from_dict(
    {
        "task": {"name": "sine", "seq_len": 40},
        "model": {
            "layers": [
                {"type": "lstm", "hidden_size": 8, "bidirectional": True},
                {"type": "gru", "hidden_size": 6, "residual": True},
                {"type": "attention"},
            ]
        },
    }
)


def open_graph(exp: Experiment = BI) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["x"] = exp.to_url()
    at.run()
    at.switch_page("app_pages/graph.py").run()
    assert not at.exception, at.exception
    return at


def figure_json(at: AppTest) -> str:
    """The figure as plain JSON text (unicode and slashes unescaped)."""
    (chart,) = [e for e in at.get("plotly_chart")]
    return json.dumps(json.loads(chart.proto.spec), ensure_ascii=False)


def test_graph_page_draws_the_experiment_with_a_gap():
    at = open_graph()
    assert at.title[0].value == "Unrolled graph"
    spec = figure_json(at)
    assert "16 steps" in spec  # 40 steps, 24 drawn
    assert "backward direction" in spec and "residual skip" in spec


def test_controls_change_the_figure():
    at = open_graph()
    at.slider(key="graph_columns").set_value(40).run()
    assert "steps …" not in figure_json(at)
    at.radio(key="graph_color_by").set_value("gradient").run()
    assert not at.exception
    spec = figure_json(at)
    assert "‖dL/dh_t‖" in spec and "1e-" in spec
    assert any("untrained model" in c.value for c in at.caption)
    at.radio(key="graph_color_by").set_value("hidden").run()
    assert "‖h_t‖" in figure_json(at)
    at.select_slider(key="graph_t").set_value(10).run()
    assert not at.exception


def test_node_details_for_an_lstm_cell_and_an_input_node():
    at = open_graph()
    at.session_state["graph_node"] = "0:5:backward"  # what a click on that node stores
    at.run()
    assert not at.exception, at.exception
    assert any("Layer 0: lstm, backward, t = 5" in s.value for s in at.subheader)
    assert any("f_t" in latex.value for latex in at.latex)
    assert any(r"\overline{f_{5}}" in latex.value for latex in at.latex)
    at.number_input(key="node_sample").set_value(3).run()
    assert not at.exception
    at.button(key="graph_close").click().run()
    assert "graph_node" not in at.session_state
    at.session_state["graph_node"] = "x:2"
    at.run()
    assert any("Input at t = 2" in s.value for s in at.subheader)
    at.session_state["graph_node"] = "2:39:"
    at.run()
    assert any("Layer 2: attention" in s.value for s in at.subheader)


def test_a_node_s_cell_steps_forward_and_back_with_the_model_s_numbers():
    at = open_graph()
    at.session_state["graph_node"] = "1:5:forward"  # the GRU at step 5
    at.run()
    at.toggle(key="cell_walk").set_value(True).run()
    assert not at.exception, at.exception
    latex = [x.value for x in at.latex]
    assert sum("E45756" in x for x in latex) == 1  # the operation being computed
    assert any("r_t = " in x and "E45756" in x for x in latex)
    at.select_slider(key="cell_operation_forward").set_value(3).run()
    assert any(r"h_t = (1 - z_t)" in x and "E45756" in x for x in (y.value for y in at.latex))
    assert any("‖h_t‖" in m.label for m in at.metric)
    at.segmented_control(key="cell_phase").set_value("backward").run()
    assert not at.exception, at.exception
    assert any("update gate's direct path" in i.value for i in at.info)
    assert any("the probe's total ‖dL/dh_(t-1)‖" in c.value for c in at.caption)
    at.select_slider(key="cell_operation_backward").set_value(3).run()
    assert any("‖dL/dh_(t-1)‖" in m.label for m in at.metric)
    assert len(at.dataframe) == 1


def test_a_node_that_no_longer_exists_is_dropped():
    at = open_graph()
    at.session_state["graph_node"] = "7:3:forward"
    at.run()
    assert not at.exception
    assert "graph_node" not in at.session_state


def test_a_damaged_link_to_this_page_warns_and_opens_the_default():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["x"] = BI.to_url()[:20]
    at.switch_page("app_pages/graph.py").run()  # the link opens this page first
    assert not at.exception
    assert at.title[0].value == "Unrolled graph"
    assert any("could not be opened" in w.value for w in at.warning)


def test_the_sweep_toggle_plays_the_forward_and_backward_pass():
    at = open_graph()
    at.toggle(key="graph_sweep").set_value(True).run()
    assert not at.exception, at.exception
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert len(figure["frames"]) > 50
    (menu,) = figure["layout"]["updatemenus"]
    labels = [button["label"] for button in menu["buttons"]]
    assert any("Play" in label for label in labels) and any("Pause" in label for label in labels)
    (slider,) = figure["layout"]["sliders"]
    assert len(slider["steps"]) == len(figure["frames"])
    assert any("backward pass" in c.value and "untrained model" in c.value for c in at.caption)
    at.toggle(key="graph_sweep").set_value(False).run()
    assert "frames" not in json.loads(at.get("plotly_chart")[0].proto.spec)
