"""The Inspect page in Chinese (lang=zh): every view and state of it, states and
gradients, credit by step, time and depth, memory with its sweep, what-if with
changes applied and an edit refused, shows no English sentence, and an edit that
does not fit reads as one whole Chinese sentence naming the layer.

AppTest formats a widget's chosen value with the page's format_func in the test's
own thread, so the test reads in Chinese too (`using("zh")`)."""

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from designer import Experiment, build_model, get_task
from designer.i18n import using
from designer.memory import memory_sweep
from designer.probes import Edit
from designer.whatif import EditError, check_edit, edits_from_text
from tests.app.conftest import APP
from tests.helpers import english_sentences, link_of, visible_texts, wait_for

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


@pytest.fixture
def chinese_page() -> Iterator:
    """chinese_page(exp, view=None): the Inspect page in Chinese with `exp` in its link."""
    apps = []

    def open_page(exp: Experiment, view: str | None = None, whatif: str | None = None):
        at = AppTest.from_file(APP, default_timeout=90)
        at.query_params["lang"] = "zh"
        at.query_params["x"] = exp.to_url()
        if view:
            at.query_params["view"] = view
        if whatif:
            at.query_params["whatif"] = whatif
        at.switch_page(INSPECT).run()
        apps.append(at)
        return at

    with using("zh"):
        yield open_page
    for at in apps:  # never leave a training process behind
        link = link_of(at)
        for run in link.shown() if link is not None else []:
            run.stop(wait=5)


def english_left(at: AppTest, state: str) -> None:
    """Fails with the English sentences the page shows in `state`, if any."""
    assert not at.exception, (state, at.exception)
    left = [s for t in visible_texts(at) for s in english_sentences(t)]
    assert not left, f"{state}: {left}"


def show(at: AppTest, view: str) -> AppTest:
    at.segmented_control(key="inspect_view").set_value(view).run()
    assert at.query_params["view"] == view
    english_left(at, view)
    return at


def test_every_view_of_the_untrained_model_reads_in_chinese(chinese_page):
    at = chinese_page(DEEP)
    english_left(at, "probe")
    assert at.title[0].value == "内部观察"
    assert [t.label for t in at.tabs][-4:] == ["输入门", "遗忘门", "候选记忆元", "输出门"]
    assert any("未训练的模型" in c.value for c in at.caption)

    show(at, "credit")
    assert any("沿展开的网络反向传播" in c.value for c in at.caption)

    show(at, "inputs")
    assert any("影响最大的输入时间步" in c.value for c in at.caption)
    at.select_slider(key="influence_step").set_value(3).run()
    english_left(at, "inputs at step 3")

    show(at, "paths")
    lines = " ".join(m.value for m in at.markdown)
    assert "第 1 层（gru）：沿时间" in lines and "从输出头向上" in lines

    show(at, "memory")
    assert "记忆容量 (Σ R²)" in at.dataframe[0].value.columns
    at.button(key="memory_sweep").click().run()
    english_left(at, "memory sweep")
    assert any("时记忆最多" in c.value for c in at.caption)
    at.segmented_control(key="memory_input").set_value("task").run()
    english_left(at, "memory of the task's own sequences")
    assert any("验证批次" in c.value for c in at.caption)


def test_what_if_reads_in_chinese_with_changes_applied(chinese_page):
    at = show(chinese_page(DEEP), "whatif")
    assert any("尚无更改" in c.value for c in at.caption)
    at.button(key="whatif_apply").click().run()
    english_left(at, "a layer silenced")
    at.segmented_control(key="whatif_action").set_value("hold").run()
    english_left(at, "holding a gate")
    at.selectbox(key="whatif_gate_0").set_value("forget").run()
    at.slider(key="whatif_value_0_forget").set_value(1.0).run()
    at.multiselect(key="whatif_units_0").set_value([1, 2]).run()
    at.button(key="whatif_apply").click().run()
    english_left(at, "two changes applied")
    assert edits_from_text(at.query_params["whatif"])[1].gate == "forget"  # the link keeps ids
    effect = " ".join(m.value for m in at.markdown)
    assert "第 0 层：全部单元已静默；第 0 层：遗忘门固定为 1（单元 1、2）" in effect
    assert [m.label for m in at.metric] == ["验证损失", "验证 MSE"]
    assert all("（原为 " in m.delta for m in at.metric)


def test_a_what_if_change_that_does_not_fit_is_a_whole_chinese_sentence(chinese_page):
    at = chinese_page(DEEP, view="whatif", whatif="0~7")
    english_left(at, "an unfitting change in the link")
    assert [w.value for w in at.warning] == [
        "此链接中的一项假设更改不适用于该模型：第 7 层不是该模型的循环层。"
    ]
    at = chinese_page(DEEP, view="whatif", whatif="0~../../etc/passwd")
    english_left(at, "a damaged link")
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


def test_a_trained_run_s_probes_and_deeper_views_read_in_chinese(chinese_page):
    at = chinese_page(DEEP)
    at.switch_page(TRAIN).run()
    at.button(key="train_start").click().run()
    runner = link_of(at).current
    assert wait_for(lambda: not runner.alive, timeout=60)
    at.switch_page(INSPECT).run()
    english_left(at, "probes over training")
    assert any("训练期间记录了" in c.value for c in at.caption)
    assert at.select_slider(key="inspect_probe").label == "探针记录于训练步"
    for view in ("credit", "paths", "memory", "whatif"):
        show(at, view)
        assert any("来自训练第 40 步" in c.value for c in at.caption), view
