"""The Train page in Chinese through AppTest: before a run, while it is paused (the
curves on the canvas, the "Change while training" popover), after it has ended (the
figures, the kept runs list), and its error messages as whole Chinese sentences. No
English sentence is left in what the page shows (names, code and units aside)."""

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.health import explosion_warning
from designer.i18n import using
from designer.trainer import History
from tests.helpers import english_sentences, link_of, live_charts, visible_texts, wait_for

TRAIN = "app_pages/train.py"
SHORT = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 12},
        "model": {
            "layers": [{"type": "lstm", "hidden_size": 8}, {"type": "gru", "hidden_size": 6}]
        },
        "train": {"steps": 40, "batch_size": 16, "eval_every": 10, "probe_every": 1000},
    }
)
# more parameters than the server trains (components.runs.MAX_RUN_PARAMETERS)
TOO_BIG = SHORT.with_layers([{"type": "lstm", "hidden_size": 512}] * 2)
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def reading_chinese():
    """The test's own thread reads Chinese too: AppTest formats a select box's value
    with the page's format_func in this thread (no session here, so the context's
    language counts), to find it among the options the page drew in Chinese."""
    with using("zh"):
        yield


@pytest.fixture
def chinese_page(app_on_page):
    """The Train page of an experiment, in Chinese."""
    return lambda exp: app_on_page(exp, TRAIN, lang="zh")


def popovers(at: AppTest) -> list[str]:
    return [p.proto.popover.label for p in at.get("popover")]


def shown(at: AppTest) -> list[str]:
    """What the page shows, with the popovers' and download buttons' labels, and the
    canvas charts' titles, axes, legends and read-out sentences."""
    texts = visible_texts(at) + popovers(at)
    texts += [d.proto.label for d in at.get("download_button")]
    for chart in live_charts(at):
        texts += [chart["title"], chart["x_title"], chart["y_title"]]
        texts += [s["name"] for s in chart["series"]] + [h["label"] for h in chart["hlines"]]
        texts += list(chart["words"].values())
    return [t for t in texts if t]


def english_left(at: AppTest) -> list[str]:
    return sorted({s for text in shown(at) for s in english_sentences(text)})


def whole_chinese(sentence: str) -> bool:
    """A Chinese sentence, not English with Chinese words glued in: Chinese throughout,
    no English run, and Chinese punctuation at its end."""
    return (
        bool(HAN.search(sentence)) and not english_sentences(sentence) and sentence.endswith("。")
    )


def run_of(at: AppTest):
    link = link_of(at)
    return link.current if link is not None else None


def test_the_train_page_in_chinese_before_during_and_after_a_run(chinese_page):
    at = chinese_page(SHORT)
    assert at.title[0].value == "训练"
    assert any("**开始**" in i.value for i in at.info)
    assert not english_left(at), english_left(at)

    # one step: a run, paused, with its counters, curves and "Change while training"
    at.button(key="train_step").click().run()
    runner = run_of(at)
    assert wait_for(lambda: len(runner.history.step) == 1 and runner.state == "paused", 30)
    at.run()
    assert any("已暂停" in m.value for m in at.markdown)
    assert "训练中修改" in popovers(at)
    assert at.number_input(key="train_change_lr").label == "学习率"
    charts = live_charts(at)
    assert [c["title"] for c in charts] == ["损失", "验证 MSE", "梯度范数（裁剪前）"]
    assert charts[0]["series"][0]["name"] == "训练损失"
    assert charts[0]["words"]["step"] == "第 {step} 步"
    assert not english_left(at), english_left(at)

    # a change of the learning rate, said in Chinese, and recorded
    at.number_input(key="train_change_lr").set_value(0.01)
    at.button(key="train_change_apply").click().run()
    assert not at.exception, at.exception
    (success,) = [s.value for s in at.success]
    assert success.startswith("从下一步起：学习率 0.003 → 0.01") and whole_chinese(success)
    assert wait_for(lambda: runner.history.changes, 30)
    at.run()
    assert any("训练中更改过设置" in c.value for c in at.caption)
    assert not english_left(at), english_left(at)

    # to its end: the figures, what the model does, the kept runs list, Continue
    at.button(key="train_resume").click().run()
    assert wait_for(lambda: not runner.alive, 60)
    at.run()
    assert runner.state == "finished"
    assert any("已完成：40 步" in m.value for m in at.markdown)
    assert not live_charts(at) and len(at.get("plotly_chart")) >= 4
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "损失" in titles
    assert any(e.label == "此链接保存的运行（1）" for e in at.expander)
    assert any("（正在显示）：已完成，40 步，验证损失" in m.value for m in at.markdown)
    assert at.button(key="train_continue").label.startswith("续训 +")
    assert "重命名" in popovers(at)
    assert not english_left(at), english_left(at)


def test_a_refused_change_and_a_model_too_big_are_said_in_whole_chinese_sentences(
    chinese_page,
):
    at = chinese_page(TOO_BIG)
    (error,) = [e.value for e in at.error]
    assert error.startswith("此模型有") and whole_chinese(error)
    assert at.button(key="train_start").disabled

    at = chinese_page(SHORT)
    at.button(key="train_step").click().run()
    runner = run_of(at)
    assert wait_for(lambda: runner.state == "paused", 30)
    at.run()
    at.number_input(key="train_change_lr").set_value(0.0)
    at.button(key="train_change_apply").click().run()  # a value the spec refuses
    assert not at.exception, at.exception
    (error,) = [e.value.replace("\\", "") for e in at.error]
    head, reason = error.split("\n- ")
    assert head == "这次运行的设置未被更改。"
    assert reason.startswith("学习率：")  # the setting's name; the reason is the spec's


def test_the_divergence_warning_is_one_chinese_sentence():
    history = History()
    for step in range(1, 11):
        history.add_step(
            {"step": step, "loss": 50.0, "grad_norm": 1.0, "clipped": False, "time": 0.1 * step}
        )
    with using("zh"):
        warning = explosion_warning(history, baseline_loss=0.5)
    assert warning is not None and "基线" in warning and "学习率" in warning
    assert whole_chinese(warning), warning
    with using("en"):
        assert explosion_warning(history, baseline_loss=0.5).startswith("The training loss")
