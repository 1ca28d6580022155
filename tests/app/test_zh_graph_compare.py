"""The Graph and Compare pages in Chinese, through AppTest: every colouring of the
unrolled graph, a clicked node's details, the animated sweep; two runs side by side,
their differences, the warning for runs of different tasks, and each view inside the
runs. None shows an English sentence (names, code and units aside)."""

import io
import json
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from designer import Experiment, Trainer, checkpoints
from designer.i18n import using
from tests.helpers import english_sentences, link_of, visible_texts

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
GRAPH = "app_pages/graph.py"
COMPARE = "app_pages/compare.py"

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
RNN = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 12},
        "model": {"layers": [{"type": "rnn", "hidden_size": 8}]},
        "train": {"steps": 20_000, "batch_size": 16, "eval_every": 20, "probe_every": 25},
    }
)


def opened(exp: Experiment, page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.query_params["x"] = exp.to_url()
    at.switch_page(page).run()  # the link opens this page first
    assert not at.exception, at.exception
    return at


def english_left(at: AppTest) -> list[str]:
    assert not at.exception, at.exception
    return [s for text in visible_texts(at) for s in english_sentences(text)]


def figure_texts(at: AppTest) -> str:
    """Every figure's JSON, with its unicode as it reads."""
    return " ".join(
        json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")
    )


# --- Graph ------------------------------------------------------------------------------------
def test_the_graph_page_in_chinese_in_every_colouring():
    at = opened(BI, GRAPH)
    assert at.title[0].value == "展开图"
    assert not english_left(at)
    spec = figure_texts(at)
    assert "16 步" in spec and "反向：t+1 → t" in spec and "残差跳连" in spec
    for colour in ("hidden", "gradient"):
        at.radio(key="graph_color_by").set_value(colour).run()
        assert not english_left(at), colour
    assert any(c.value.startswith("这些数值由探针测得，探针取自未训练的模型") for c in at.caption)


def test_a_clicked_node_s_details_in_chinese():
    at = opened(BI, GRAPH)
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
    at = opened(BI, GRAPH)
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
    at = opened(BI, GRAPH)
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
    at = opened(BI, GRAPH)
    at.toggle(key="graph_sweep").set_value(True).run()
    at.query_params["lang"] = "en"
    at.run()
    (chart,) = at.get("plotly_chart")
    (menu,) = json.loads(chart.proto.spec)["layout"]["updatemenus"]
    assert [b["label"] for b in menu["buttons"]] == ["▶ Play", "❚❚ Pause"]


# --- Compare ----------------------------------------------------------------------------------
def checkpoint_file(exp: Experiment, name: str, steps: int = 10) -> bytes:
    """A run trained elsewhere, named `name` (a visitor's own words, not the app's)."""
    trainer = Trainer(exp)
    list(trainer.run(steps))
    buffer = io.BytesIO()
    torch.save(checkpoints.to_data(trainer.checkpoint(run={"name": name})), buffer)
    return buffer.getvalue()


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    (uploader,) = [u for u in at.file_uploader if (u.key or "").startswith("checkpoint_upload")]
    uploader.upload(name, content, "application/octet-stream")
    at.run()
    assert not at.exception, at.exception
    return at


def test_two_runs_compared_in_chinese():
    at = opened(RNN, COMPARE)
    assert any("请选择两到四个运行" in i.value for i in at.info)
    assert not english_left(at)
    lstm = Experiment.from_dict(
        {**RNN.to_dict(), "model": {"layers": [{"type": "lstm", "hidden_size": 8}]}}
    )
    upload(at, "rnn.pt", checkpoint_file(RNN, "甲"))
    upload(at, "lstm.pt", checkpoint_file(lstm, "乙"))
    first, second = (r["id"] for r in link_of(at).runs())
    assert at.multiselect(key="compare_picker").value == [first, second]
    changed = [m.value for m in at.markdown if "的不同之处" in m.value]
    assert changed == ["**B** 与 **A** 的不同之处：第 0 层：RNN → LSTM"]
    table = at.table[0].value
    assert list(table.columns[:3]) == ["运行", "状态", "验证损失"]
    assert "参数" in table.columns and "基线损失" in table.columns
    assert not english_left(at)
    specs = figure_texts(at)
    assert "梯度能回传多远" in specs and "谱半径" in specs
    at.radio(key="compare_x").set_value("seconds").run()
    assert "训练秒数" in figure_texts(at)
    assert not english_left(at)

    # inside the runs: each view, side by side
    assert any("选择一个视图" in c.value for c in at.caption)
    for view in ("paths", "credit", "memory"):
        at.segmented_control(key="compare_inside").set_value(view).run()
        assert not english_left(at), view
        assert sum(c.value.startswith("权重来自训练第 10 步") for c in at.caption) == 2, view


def test_runs_of_different_tasks_are_told_apart_in_a_whole_chinese_sentence():
    at = opened(RNN, COMPARE)
    sine = Experiment.from_dict({**RNN.to_dict(), "task": {"name": "sine", "seq_len": 12}})
    upload(at, "adding.pt", checkpoint_file(RNN, "加法"))
    upload(at, "sine.pt", checkpoint_file(sine, "正弦"))
    (warning,) = [w.value.replace("\\", "") for w in at.warning if "不同的任务" in w.value]
    assert warning.startswith("这些运行学习的是不同的任务（A: adding (seq_len 12); B: sine")
    assert warning.endswith("仍能显示每个网络如何传递梯度。")
    assert not english_sentences(warning)
    assert not english_left(at)
    changed = [m.value for m in at.markdown if "的不同之处" in m.value]
    assert changed and changed[0].startswith("**B** 与 **A** 的不同之处：任务：")
