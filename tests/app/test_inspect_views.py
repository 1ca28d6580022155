"""The Inspect page's deeper views through AppTest: the credit matrix, the time and
depth paths, memory and what-if, on the untrained model and on a trained run. In
Chinese every view and state shows no English sentence, and an edit that does not fit
reads as one whole Chinese sentence naming the layer."""

import json

import pytest

from designer import Experiment, build_model, get_task
from designer.i18n import using
from designer.inside.memory import memory_sweep
from designer.inside.probes import Edit
from designer.inside.whatif import EditError, check_edit, edits_from_text
from tests.helpers import english_left, english_sentences, link_of, wait_for

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
    if "lang" in at.query_params and at.query_params["lang"] == "zh":
        assert not english_left(at), view
    return at


@pytest.fixture
def inspect(app_on_page):
    return app_on_page(DEEP, INSPECT)


def state_titles(at) -> list[str]:
    """The titles of the hidden-state and gate heatmaps the page drew."""
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    return [t for t in titles if t.startswith("Layer ")]


def test_the_state_tabs_build_only_the_open_tab_s_heatmap(inspect):
    at = inspect
    labels = [t.label for t in at.tabs]
    assert labels == ["h_t", "c_t", "input gate", "forget gate", "cell gate", "output gate"]
    assert state_titles(at) == ["Layer 0 lstm: hidden state h_t"]
    for label in labels[1:]:
        at.session_state["inspect_state_tab"] = label  # what a click on the tab stores
        at.run()
        assert not at.exception, at.exception
        assert len(state_titles(at)) == 1, label
        assert state_titles(at)[0].endswith(label.replace("c_t", "cell state c_t")), label


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


@pytest.mark.parametrize(
    ("lang", "step_40"), [("en", "from training, step 40"), ("zh", "来自训练第 40 步")]
)
def test_the_deeper_views_read_the_trained_weights(app_on_page, lang, step_40):
    at = app_on_page(DEEP, INSPECT, lang)
    at.switch_page(TRAIN).run()
    at.button(key="train_start").click().run()
    runner = link_of(at).current
    assert wait_for(lambda: not runner.alive, timeout=60)
    at.switch_page(INSPECT).run()
    if lang == "zh":  # the probes recorded over training, in Chinese
        assert not english_left(at), "probes over training"
        assert any("训练期间记录了" in c.value for c in at.caption)
        assert at.select_slider(key="inspect_probe").label == "探针记录于训练步"
    with using(lang):
        for view in ("credit", "paths", "memory", "whatif"):
            show(at, view)
            assert any(step_40 in c.value for c in at.caption), view


# --- in Chinese ------------------------------------------------------------------------------
@pytest.fixture
def chinese_page(app_on_page):
    """chinese_page(exp, **query): the Inspect page in Chinese with `exp` in its link."""
    return lambda exp, **query: app_on_page(exp, INSPECT, "zh", **query)


def reads_in_chinese(at, state: str) -> None:
    """Fails with the English sentences the page shows in `state`, if any."""
    left = english_left(at)
    assert not left, f"{state}: {left}"


@pytest.mark.usefixtures("chinese_thread")
def test_every_view_of_the_untrained_model_reads_in_chinese(chinese_page):
    at = chinese_page(DEEP)
    reads_in_chinese(at, "probe")
    assert at.title[0].value == "内部观察"
    assert [t.label for t in at.tabs][-4:] == ["输入门", "遗忘门", "候选记忆元", "输出门"]
    assert any("未训练的模型" in c.value for c in at.caption)

    show(at, "credit")
    assert any("沿展开的网络反向传播" in c.value for c in at.caption)

    show(at, "inputs")
    assert any("影响最大的输入时间步" in c.value for c in at.caption)
    at.select_slider(key="influence_step").set_value(3).run()
    reads_in_chinese(at, "inputs at step 3")

    show(at, "paths")
    lines = " ".join(m.value for m in at.markdown)
    assert "第 1 层（gru）：沿时间" in lines and "从输出头向上" in lines

    show(at, "memory")
    assert "记忆容量 (Σ R²)" in at.dataframe[0].value.columns
    at.button(key="memory_sweep").click().run()
    reads_in_chinese(at, "memory sweep")
    assert any("时记忆最多" in c.value for c in at.caption)
    at.segmented_control(key="memory_input").set_value("task").run()
    reads_in_chinese(at, "memory of the task's own sequences")
    assert any("验证批次" in c.value for c in at.caption)


@pytest.mark.usefixtures("chinese_thread")
def test_what_if_reads_in_chinese_with_changes_applied(chinese_page):
    at = show(chinese_page(DEEP), "whatif")
    assert any("尚无更改" in c.value for c in at.caption)
    at.button(key="whatif_apply").click().run()
    reads_in_chinese(at, "a layer silenced")
    at.segmented_control(key="whatif_action").set_value("hold").run()
    reads_in_chinese(at, "holding a gate")
    at.selectbox(key="whatif_gate_0").set_value("forget").run()
    at.slider(key="whatif_value_0_forget").set_value(1.0).run()
    at.multiselect(key="whatif_units_0").set_value([1, 2]).run()
    at.button(key="whatif_apply").click().run()
    reads_in_chinese(at, "two changes applied")
    assert edits_from_text(at.query_params["whatif"])[1].gate == "forget"  # the link keeps ids
    effect = " ".join(m.value for m in at.markdown)
    assert "第 0 层：全部单元已静默；第 0 层：遗忘门固定为 1（单元 1、2）" in effect
    assert [m.label for m in at.metric] == ["验证损失", "验证 MSE"]
    assert all("（原为 " in m.delta for m in at.metric)


def test_a_what_if_change_that_does_not_fit_is_a_whole_chinese_sentence(
    chinese_page, chinese_thread
):
    at = chinese_page(DEEP, view="whatif", whatif="0~7")
    reads_in_chinese(at, "an unfitting change in the link")
    assert [w.value for w in at.warning] == [
        "此链接中的一项假设更改不适用于该模型：第 7 层不是该模型的循环层。"
    ]
    at = chinese_page(DEEP, view="whatif", whatif="0~../../etc/passwd")
    reads_in_chinese(at, "a damaged link")
    assert [w.value for w in at.warning] == ["已忽略此链接中的假设更改：链接中的假设更改已损坏。"]


@pytest.mark.parametrize(
    ("edit", "sentence"),
    [
        (
            Edit(layer=1, gate="forget"),
            "第 1 层（gru）没有遗忘门（该层的门：重置门、更新门、候选状态门）",
        ),
        (Edit(layer=0, units=(9,)), "第 0 层的单元编号为 0 到 5，没有单元 9"),
        (Edit(layer=0, gate="cell", value=-2), "候选记忆元的取值范围是 -1 到 1，不能取 -2"),
        (Edit(layer=0, units=(1, 2)), None),
    ],
)
def test_an_edit_error_names_the_layer_in_one_chinese_sentence(edit, sentence):
    task = get_task(DEEP.task)
    model = build_model(DEEP, task)
    with using("zh"):
        if sentence is None:  # it fits: said in Chinese, with the units in a Chinese list
            check_edit(model, edit)
            assert edit.describe() == "第 0 层：单元 1、2 已静默"
            return
        with pytest.raises(EditError) as refused:
            check_edit(model, edit)
    assert str(refused.value) == sentence
    assert not english_sentences(sentence, words=1)  # not one English word but "gru"


def test_the_memory_engine_s_refusals_read_in_chinese():
    task = get_task(DEEP.task)
    exp = Experiment.from_dict(
        {
            "task": {"name": "sine", "seq_len": 12},
            "model": {"layers": [{"type": "gru"}, {"type": "layernorm"}]},
        }
    )
    model = build_model(exp, task)
    with using("zh"), pytest.raises(ValueError, match="^第 1 层不是循环层$"):
        memory_sweep(model, task, 1, radii=[0.9])
    with pytest.raises(ValueError, match="^layer 1 is not a recurrent layer$"):  # English stays
        memory_sweep(model, task, 1, radii=[0.9])
