"""The Graph page through AppTest: controls, colouring from a probe, node details,
the animated sweep; in Chinese every colouring, a clicked node's details, its cell
stepped through and the sweep show no English sentence (names, code and units aside)."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.i18n import using
from tests.app.conftest import APP
from tests.helpers import english_left, english_sentences, experiment_doc, figure_texts, layer_doc

GRAPH = "app_pages/graph.py"

BI = Experiment.from_dict(
    experiment_doc(
        "sine", 40,
        layer_doc("lstm", 8, bidirectional=True), layer_doc("gru", 6, residual=True),
        layer_doc("attention"),
    )
)  # fmt: skip


def open_graph(exp: Experiment = BI, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    at.query_params["x"] = exp.to_url()
    at.run()
    at.switch_page("app_pages/graph.py").run()
    assert not at.exception, at.exception
    return at


def figure_json(at: AppTest) -> str:
    """The figure as plain JSON text (unicode and slashes unescaped)."""
    (chart,) = [e for e in at.get("plotly_chart")]
    return json.dumps(json.loads(chart.proto.spec), ensure_ascii=False)


@pytest.mark.parametrize(
    ("lang", "title", "words"),
    [
        ("en", "Unrolled graph", ["16 steps", "backward direction", "residual skip"]),
        ("zh", "展开图", ["16 步", "反向：t+1 → t", "残差跳连"]),
    ],
)
def test_graph_page_draws_the_experiment_with_a_gap(lang, title, words):
    at = open_graph(lang=lang)
    assert at.title[0].value == title
    spec = figure_json(at)
    assert all(word in spec for word in words), spec  # 40 steps, 24 drawn ("16 steps")
    assert lang == "en" or not english_left(at)


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


# --- in Chinese ------------------------------------------------------------------------------
def test_the_graph_page_in_chinese_in_every_colouring():
    at = open_graph(lang="zh")
    for colour in ("hidden", "gradient"):
        at.radio(key="graph_color_by").set_value(colour).run()
        assert not english_left(at), colour
    assert any(c.value.startswith("这些数值由探针测得，探针取自未训练的模型") for c in at.caption)


def test_a_clicked_node_s_details_in_chinese():
    at = open_graph(lang="zh")
    at.radio(key="graph_color_by").set_value("gradient").run()
    at.session_state["graph_node"] = "0:5:backward"  # what a click on that node stores
    at.run()
    assert any(s.value == "第 0 层：lstm，反向，t = 5" for s in at.subheader)
    assert not english_left(at)
    assert "遗忘门 (f)" in figure_texts(at)  # the gates' heat map
    for node, heading in [("x:2", "t = 2 处的输入"), ("2:39:", "第 2 层：attention，t = 39")]:
        at.session_state["graph_node"] = node
        at.run()
        assert any(s.value == heading for s in at.subheader), node
        assert not english_left(at), node


def test_a_node_s_cell_stepped_through_in_chinese():
    at = open_graph(lang="zh")
    at.session_state["graph_node"] = "0:5:backward"
    at.run()
    at.toggle(key="cell_walk").set_value(True).run()
    assert not english_left(at)
    assert any("输入门：写入多少候选值" in m.value for m in at.markdown)
    for i in range(6):
        at.select_slider(key="cell_operation_forward").set_value(i).run()
        assert not english_left(at), i
    with using("zh"):  # AppTest formats the choice with the page's format_func, here
        at.segmented_control(key="cell_phase").set_value("backward").run()
    for i in range(6):
        at.select_slider(key="cell_operation_backward").set_value(i).run()
        assert not english_left(at), i
    assert any("遗忘门" in i.value for i in at.info)


def test_the_sweep_in_chinese():
    at = open_graph(lang="zh")
    at.toggle(key="graph_sweep").set_value(True).run()
    assert not english_left(at)
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    (menu,) = figure["layout"]["updatemenus"]
    assert [b["label"] for b in menu["buttons"]] == ["▶ 播放", "❚❚ 暂停"]
    (slider,) = figure["layout"]["sliders"]
    steps = [step["label"] for step in slider["steps"]]
    assert steps[0] == "开始" and steps[1].startswith("前向 1/") and steps[-1].startswith("反向 ")
    captions = [frame["data"][2]["text"][0] for frame in figure["frames"]]
    assert captions[0] == "▶ 播放：先前向传播，再反向传播"
    assert any(c.startswith("反向：各步损失：梯度从这里出发") for c in captions)
    for caption in captions:
        assert not english_sentences(caption), caption


def test_the_sweep_s_figure_is_kept_per_language():
    at = open_graph(lang="zh")
    at.toggle(key="graph_sweep").set_value(True).run()
    at.query_params["lang"] = "en"
    at.run()
    (chart,) = at.get("plotly_chart")
    (menu,) = json.loads(chart.proto.spec)["layout"]["updatemenus"]
    assert [b["label"] for b in menu["buttons"]] == ["▶ Play", "❚❚ Pause"]
