"""The Train and Inspect pages through AppTest. Every test stops its training process.

In Chinese: before a run, while it is paused (the curves on the canvas, the "Change
while training" popover), after it has ended (the figures, the kept runs list), and its
error messages as whole Chinese sentences; no English sentence is left in what the page
shows (names, code and units aside)."""

import json
import os
import re
import signal
import time
from functools import partial
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.i18n import using
from designer.training.health import explosion_warning
from designer.training.trainer import History
from tests.helpers import (
    diverging_experiment,
    english_sentences,
    link_of,
    live_charts,
    visible_texts,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TRAIN = "app_pages/train.py"
INSPECT = "app_pages/inspect.py"

SMALL = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 12},
        "model": {
            "layers": [{"type": "lstm", "hidden_size": 8}, {"type": "gru", "hidden_size": 6}]
        },
        "train": {"steps": 20_000, "batch_size": 16, "eval_every": 20, "probe_every": 25},
    }
)
DIVERGES = diverging_experiment()
SHORT = Experiment.from_dict(
    {
        **SMALL.to_dict(),
        "train": {"steps": 40, "batch_size": 16, "eval_every": 10, "probe_every": 1000},
    }
)
# more parameters than the server trains (components.train.runs.MAX_RUN_PARAMETERS)
TOO_BIG = SHORT.with_layers([{"type": "lstm", "hidden_size": 512}] * 2)
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def app(app_on_page):
    return lambda exp=SMALL, page=TRAIN: app_on_page(exp, page)


def run_of(at: AppTest):
    """The run the page shows (kept for the page's link, on the server)."""
    link = link_of(at)
    return link.current if link is not None else None


def steps(at: AppTest) -> int:
    return len(run_of(at).history.step)


wait_until = partial(wait_for, timeout=20.0)


def test_start_pause_resume_step_stop_reset(app):
    at = app()
    assert any("Press **Start**" in i.value for i in at.info)
    at.button(key="train_start").click().run()
    assert not at.exception
    runner = run_of(at)
    assert wait_until(lambda: steps(at) >= 5)
    at.run()  # the page shows the growing history
    assert any(m.label.startswith("Step") and int(m.value.replace(",", "")) >= 5 for m in at.metric)
    charts = live_charts(at)  # while it trains: the canvas curves
    assert [c["title"] for c in charts] == [
        "Loss",
        "Validation mse",
        "Gradient norm (before clipping)",
    ]
    assert charts[0]["series"][0]["name"] == "train loss" and charts[0]["series"][0]["x"]

    at.button(key="train_pause").click().run()
    assert wait_until(lambda: runner.state == "paused")
    time.sleep(0.3)
    paused_at = steps(at)
    time.sleep(0.5)
    assert steps(at) == paused_at  # paused: the history stops growing

    at.run()
    at.button(key="train_step").click().run()
    assert wait_until(lambda: steps(at) == paused_at + 1)
    time.sleep(0.3)
    assert steps(at) == paused_at + 1  # exactly one step

    at.button(key="train_resume").click().run()
    assert wait_until(lambda: steps(at) > paused_at + 5)

    at.button(key="train_stop").click().run()
    assert wait_until(lambda: not runner.alive)
    stopped_at = steps(at)
    time.sleep(0.3)
    assert steps(at) == stopped_at and runner.state == "stopped"
    at.run()
    assert any("Stopped" in m.value for m in at.markdown)
    # once the run has ended, the curves are plotly figures that can be zoomed
    assert not live_charts(at) and len(at.get("plotly_chart")) >= 3

    at.button(key="train_reset").click().run()
    assert run_of(at) is None
    assert any("Press **Start**" in i.value for i in at.info)


def test_step_without_a_run_starts_one_paused(app):
    at = app()
    at.button(key="train_step").click().run()
    runner = run_of(at)
    assert wait_until(lambda: len(runner.history.step) == 1)
    time.sleep(0.3)
    assert len(runner.history.step) == 1 and runner.state == "paused"


def test_divergence_is_reported_with_the_step_and_advice(app):
    at = app(DIVERGES)
    at.button(key="train_start").click().run()
    runner = run_of(at)
    assert wait_until(lambda: not runner.alive)
    at.run()
    assert runner.state == "diverged"
    (error,) = [e.value for e in at.error]
    assert "diverged at step" in error and "learning rate" in error and "clip" in error


def test_settings_widgets_change_the_experiment(app):
    at = app()
    at.selectbox(key="train_optimizer").set_value("rmsprop").run()
    at.number_input(key="train_lr").set_value(0.01).run()
    at.number_input(key="train_batch_size").set_value(32).run()
    at.number_input(key="train_steps").set_value(300).run()
    at.number_input(key="train_weight_decay").set_value(0.001).run()
    at.number_input(key="train_seed").set_value(7).run()
    at.number_input(key="train_eval_every").set_value(50).run()
    at.number_input(key="train_probe_every").set_value(0).run()
    at.checkbox(key="train_clip").uncheck().run()
    assert not at.exception
    spec = at.session_state["experiment"].train
    assert (spec.optimizer, spec.lr, spec.batch_size, spec.steps) == ("rmsprop", 0.01, 32, 300)
    assert (spec.weight_decay, spec.seed, spec.eval_every) == (0.001, 7, 50)
    assert spec.probe_every is None and spec.clip_norm is None
    at.checkbox(key="train_clip").check().run()
    at.number_input(key="train_clip_norm").set_value(0.5).run()
    assert at.session_state["experiment"].train.clip_norm == 0.5
    # the experiment, settings included, is in the link
    assert Experiment.from_url(at.query_params["x"]).train.clip_norm == 0.5


def test_momentum_and_schedule_widgets_show_when_they_act(app):
    at = app()
    keys = {w.key for w in at.number_input}
    assert not {"train_momentum", "train_lr_decay", "train_lr_decay_every"} & keys
    at.selectbox(key="train_optimizer").set_value("momentum").run()
    at.number_input(key="train_momentum").set_value(0.5).run()
    at.selectbox(key="train_lr_schedule").set_value("step").run()
    at.number_input(key="train_lr_decay").set_value(0.25).run()
    at.number_input(key="train_lr_decay_every").set_value(40).run()
    assert not at.exception
    spec = at.session_state["experiment"].train
    assert (spec.optimizer, spec.momentum, spec.lr_schedule) == ("momentum", 0.5, "step")
    assert (spec.lr_decay, spec.lr_decay_every) == (0.25, 40)
    at.selectbox(key="train_lr_schedule").set_value("cosine").run()
    assert at.session_state["experiment"].train.lr_schedule == "cosine"
    assert "train_lr_decay" not in {w.key for w in at.number_input}
    assert Experiment.from_url(at.query_params["x"]).train.momentum == 0.5


def test_changing_the_design_during_a_run_asks_whether_to_discard_it(app):
    at = app()
    at.button(key="train_start").click().run()
    runner = run_of(at)
    changed = SMALL.with_layers([{"type": "gru", "hidden_size": 4}])
    at.session_state["experiment"] = changed
    at.run()
    assert any("design changed" in w.value for w in at.warning)
    at.button(key="train_restore").click().run()
    assert at.session_state["experiment"] == SMALL
    assert not at.warning
    at.session_state["experiment"] = changed
    at.run()
    at.button(key="train_discard").click().run()
    assert run_of(at) is None
    assert wait_until(lambda: not runner.alive)
    assert not at.warning


def test_inspect_shows_an_untrained_probe_then_scrubs_recorded_probes(app):
    at = app(page=INSPECT)
    assert any("untrained model" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) >= 3  # gradient heatmap, lines, states, PCA
    at.switch_page(TRAIN).run()
    at.button(key="train_start").click().run()
    runner = run_of(at)
    assert wait_until(lambda: len(runner.history.probes) >= 3)
    runner.pause()
    at.switch_page(INSPECT).run()
    assert not at.exception, at.exception
    assert any("probes recorded while training" in c.value for c in at.caption)
    slider = at.select_slider(key="inspect_probe")
    slider.set_value(0).run()
    assert not at.exception
    assert any(c.value for c in at.caption)
    at.number_input(key="inspect_sample").set_value(2).run()
    at.selectbox(key="inspect_layer").set_value(1).run()
    assert not at.exception
    specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "Spectral radius" in specs and "Parameter gradient norm" in specs


def test_a_training_process_killed_from_outside_leaves_the_page_usable(app):
    at = app()
    at.button(key="train_start").click().run()
    runner = run_of(at)
    assert wait_until(lambda: steps(at) >= 3)
    os.kill(runner.pid, signal.SIGKILL)
    assert wait_until(lambda: not runner.alive)
    at.run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "ended abnormally" in error and "SIGKILL" in error and "press Start" in error
    assert not at.button(key="train_start").disabled
    assert at.session_state["experiment"] == SMALL  # the experiment is intact
    at.button(key="train_start").click().run()  # and training works again
    assert wait_until(lambda: run_of(at) is not runner and steps(at) >= 1)


def test_a_link_whose_runs_are_gone_says_so_and_keeps_the_experiment(app):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["x"] = SMALL.to_url()
    at.query_params["r"] = "A" * 22  # well formed, but no such runs on this server
    at.run()  # the Design page, where the link is opened
    assert not at.exception
    assert any("no longer on this server" in w.value for w in at.warning)
    at.switch_page(TRAIN).run()
    assert at.session_state["experiment"] == SMALL and run_of(at) is None
    assert "r" not in at.query_params


def test_a_character_model_writes_with_its_best_or_its_last_weights():
    """A finished charlm run whose best evaluation came before its end: the text is
    written with the best weights unless the last are picked, and the page says which."""
    from components.shell.links import run_store
    from designer import Trainer
    from designer.training.model import build_model

    exp = Experiment.from_dict(
        {
            "task": {"name": "charlm", "seq_len": 16},
            "model": {"layers": [{"type": "gru", "hidden_size": 8}]},
            "train": {"steps": 4, "batch_size": 4, "eval_every": 2, "probe_every": 4},
        }
    )
    trainer = Trainer(exp)
    list(trainer.run(4))
    checkpoint = trainer.checkpoint(run={"state": "finished", "total": 4})
    # as if the loss rose after step 2: best weights of its own (the initial ones)
    initial = build_model(exp, trainer.task).state_dict()
    checkpoint.best = {"step": 2, "val_loss": 1.0, "state_dict": initial}
    link = run_store().create()
    link.add(checkpoint, "tiny")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["x"] = exp.to_url()
    at.query_params["r"] = link.id
    at.run()
    at.switch_page(TRAIN).run()
    assert not at.exception, at.exception
    weights = at.radio(key="train_sample_weights")
    assert weights.value == "best"
    at.button(key="train_sample").click().run()
    assert any("the best evaluation's weights, of step 2" in c.value for c in at.caption)
    best_text = at.code[-1].value
    at.radio(key="train_sample_weights").set_value("last").run()
    at.button(key="train_sample").click().run()
    assert not at.exception, at.exception
    assert any("the last weights, of step 4" in c.value for c in at.caption)
    assert at.code[-1].value != best_text


def test_the_ridge_readout_option_sets_its_penalty(app):
    at = app()
    assert "train_ridge_readout" not in {w.key for w in at.number_input}
    at.checkbox(key="train_ridge").check().run()
    assert at.session_state["experiment"].train.ridge_readout == 1e-4
    at.number_input(key="train_ridge_readout").set_value(0.01).run()
    assert not at.exception
    assert at.session_state["experiment"].train.ridge_readout == 0.01
    assert Experiment.from_url(at.query_params["x"]).train.ridge_readout == 0.01
    at.checkbox(key="train_ridge").uncheck().run()
    assert at.session_state["experiment"].train.ridge_readout is None


def test_the_learning_rate_and_clipping_change_while_it_trains(app):
    at = app()
    assert "train_change_lr" not in {w.key for w in at.number_input}  # no run: nothing to change
    at.button(key="train_start").click().run()
    runner = run_of(at)
    assert wait_until(lambda: steps(at) >= 3)
    at.button(key="train_pause").click().run()
    assert wait_until(lambda: runner.state == "paused")
    at.run()
    assert at.number_input(key="train_change_lr").value == SMALL.train.lr  # the settings now
    assert at.checkbox(key="train_change_clip").value is True
    assert any("Now: learning rate 0.003, clipping at norm 1" in c.value for c in at.caption)

    at.number_input(key="train_change_lr").set_value(0.0)
    at.button(key="train_change_apply").click().run()  # a bad value: a plain message
    assert not at.exception
    (error,) = [e.value.replace("\\", "") for e in at.error]  # markdown escapes aside
    assert "not changed" in error and "Learning rate: input should be greater than 0" in error
    assert runner.history.changes == [] and runner.state == "paused"

    at.number_input(key="train_change_lr").set_value(0.01)
    at.checkbox(key="train_change_clip").uncheck()
    at.button(key="train_change_apply").click().run()
    assert not at.exception
    assert any("lr 0.003 → 0.01, clip 1 → off" in s.value for s in at.success)
    assert wait_until(lambda: runner.history.changes)
    (change,) = runner.history.changes
    assert (change["lr"], change["clip_norm"]) == (0.01, None)
    assert (runner.record.spec.lr, runner.record.spec.clip_norm) == (0.01, None)
    # Apply waited for the training process to report it: the page shows them now
    assert at.number_input(key="train_change_lr").value == 0.01
    assert at.checkbox(key="train_change_clip").value is False
    assert any("Now: learning rate 0.01, clipping off" in c.value for c in at.caption)
    at.run()
    text = " ".join(c.value for c in at.caption)
    assert "Settings changed while training" in text and "learning rate 0.01, clipping off" in text
    at.button(key="train_resume").click().run()
    assert wait_until(lambda: steps(at) > change["step"] + 2)
    at.run()
    (loss, *_) = live_charts(at)
    assert any(s["name"].endswith("lr 0.003 → 0.01, clip 1 → off") for s in loss["series"])
    at.button(key="train_stop").click().run()
    assert wait_until(lambda: not runner.alive)
    at.run()
    assert at.session_state["experiment"] == SMALL  # the design's settings are the run's start


# --- in Chinese ------------------------------------------------------------------------------
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


def english_shown(at: AppTest) -> list[str]:
    return sorted({s for text in shown(at) for s in english_sentences(text)})


def whole_chinese(sentence: str) -> bool:
    """A Chinese sentence, not English with Chinese words glued in: Chinese throughout,
    no English run, and Chinese punctuation at its end."""
    return (
        bool(HAN.search(sentence)) and not english_sentences(sentence) and sentence.endswith("。")
    )


@pytest.mark.usefixtures("chinese_thread")
def test_the_train_page_in_chinese_before_during_and_after_a_run(chinese_page):
    at = chinese_page(SHORT)
    assert at.title[0].value == "训练"
    assert any("**开始**" in i.value for i in at.info)
    assert not english_shown(at), english_shown(at)

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
    assert not english_shown(at), english_shown(at)

    # a change of the learning rate, said in Chinese, and recorded
    at.number_input(key="train_change_lr").set_value(0.01)
    at.button(key="train_change_apply").click().run()
    assert not at.exception, at.exception
    (success,) = [s.value for s in at.success]
    assert success.startswith("从下一步起：学习率 0.003 → 0.01") and whole_chinese(success)
    assert wait_for(lambda: runner.history.changes, 30)
    at.run()
    assert any("训练中更改过设置" in c.value for c in at.caption)
    assert not english_shown(at), english_shown(at)

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
    assert not english_shown(at), english_shown(at)


@pytest.mark.usefixtures("chinese_thread")
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


@pytest.mark.usefixtures("chinese_thread")
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
