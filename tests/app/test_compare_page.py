"""The Compare page, A/B variants on the Train page, and the runs kept for a link
(rename, download, delete, checkpoint files brought back, continuing a run), through
AppTest; in Chinese, two runs side by side, their differences, the warning for runs of
different tasks and each view inside the runs show no English sentence. Every test
stops its training processes."""

import io
import os
from functools import partial

import pytest
import torch

from designer import Experiment
from tests.helpers import (
    checkpoint_file,
    english_left,
    english_sentences,
    figure_texts,
    link_of,
    live_charts,
    wait_for,
)
from tests.helpers import upload_checkpoint as upload

TRAIN = "app_pages/train.py"
COMPARE = "app_pages/compare.py"
INSPECT = "app_pages/inspect.py"

RNN = Experiment.from_dict(
    {
        "task": {"name": "adding", "seq_len": 12},
        "model": {"layers": [{"type": "rnn", "hidden_size": 8}]},
        "train": {"steps": 20_000, "batch_size": 16, "eval_every": 20, "probe_every": 25},
    }
)
wait_until = partial(wait_for, timeout=30.0)


@pytest.fixture
def app(app_on_page):
    return lambda exp=RNN, page=TRAIN: app_on_page(exp, page)


def test_a_variant_trains_beside_the_run_then_compare_shows_both(app):
    at = app()
    at.button(key="train_start").click().run()
    link = link_of(at)
    original = link.current
    assert wait_until(lambda: len(original.history.step) >= 3)
    at.run()
    at.radio(key="variant_choice").set_value("cell:lstm").run()
    at.button(key="train_variant").click().run()
    assert not at.exception, at.exception
    variant = link.variant
    assert link.current is original and variant.record.exp.model.layers[0].type == "lstm"
    assert wait_until(lambda: len(variant.history.step) >= 3 and original.alive)
    at.run()
    (loss, *_) = live_charts(at)  # both curves, live, one colour per run
    names = [s["name"] for s in loss["series"]]
    assert "A: Run 1: RNN 8 on adding train" in names
    assert "B: Run 2: LSTM 8 on adding train" in names
    colours = {s["name"].split(":")[0]: s["color"] for s in loss["series"]}
    assert colours["A"] != colours["B"]
    assert sum("Step (of 20,000)" in m.label for m in at.metric) == 2

    at.button(key="train_pause").click().run()  # the controls act on both
    assert wait_until(lambda: original.state == variant.state == "paused")
    at.run()
    at.button(key="train_stop").click().run()
    assert wait_until(lambda: not original.alive and not variant.alive)
    assert wait_until(lambda: len(link.runs()) == 2)
    at.run()
    assert not live_charts(at) and len(at.get("plotly_chart")) >= 3

    at.switch_page(COMPARE).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="compare_picker").value == [original.run_id, variant.run_id]
    changed = [m.value for m in at.markdown if "differs from" in m.value]
    assert changed == ["**B** differs from **A** in: layer 0\\: RNN → LSTM"]
    table = at.table[0].value  # a table that wraps on a projector, not one that scrolls
    assert list(table["run"]) == ["A: Run 1: RNN 8 on adding", "B: Run 2: LSTM 8 on adding"]
    steps = [len(original.history.step), len(variant.history.step)]
    assert list(table["steps"]) == [f"{n:,}" for n in steps]
    specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "How far back the gradient reaches" in specs and "Spectral radius" in specs
    assert "Loss" in specs and "Gradient norm" in specs
    at.radio(key="compare_x").set_value("seconds").run()
    assert not at.exception and "seconds of training" in " ".join(
        chart.proto.spec for chart in at.get("plotly_chart")
    )
    # one run picked: the page asks for another
    at.multiselect(key="compare_picker").unselect(variant.run_id).run()
    assert any("Pick two to four runs" in i.value for i in at.info)


def test_checkpoint_files_are_opened_renamed_compared_and_deleted(app, tmp_path, monkeypatch):
    at = app(page=COMPARE)
    assert any("Pick two to four runs" in i.value for i in at.info)
    sine = Experiment.from_dict({**RNN.to_dict(), "task": {"name": "sine", "seq_len": 12}})
    upload(at, "adding.pt", checkpoint_file(RNN))
    assert not at.exception, at.exception
    assert any("Opened 'adding.pt'" in s.value for s in at.success)
    upload(at, "sine.pt", checkpoint_file(sine))
    link = link_of(at)
    assert [r["name"] for r in link.runs()] == ["from home", "from home"]
    assert at.session_state["experiment"] == sine  # the design of the run opened
    first, second = (r["id"] for r in link.runs())

    at.text_input(key=f"run_name_{second}").input("sine, RNN 8").run()
    assert [r["name"] for r in link_of(at).runs()] == ["from home", "sine, RNN 8"]
    assert at.multiselect(key="compare_picker").value == [first, second]
    assert any("learn different tasks" in w.value for w in at.warning)
    assert at.get("download_button")  # each kept run can be downloaded

    # inside the runs: one view for each, side by side, from the kept weights
    assert any("Pick a view" in c.value for c in at.caption)
    at.segmented_control(key="compare_inside").set_value("paths").run()
    assert not at.exception, at.exception
    paths = [
        c for c in at.get("plotly_chart") if "through time (its own next step)" in c.proto.spec
    ]
    assert len(paths) == 2
    assert sum("from training, step 10" in c.value for c in at.caption) == 2
    at.segmented_control(key="compare_inside").set_value("inputs").run()
    assert not at.exception, at.exception
    inputs = [c for c in at.get("plotly_chart") if "Which input steps" in c.proto.spec]
    assert len(inputs) == 2  # one per run, each with its own controls
    assert at.number_input(key="compare_A_influence_sample") is not None
    assert at.number_input(key="compare_B_influence_sample") is not None
    at.segmented_control(key="compare_inside").set_value("memory").run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 2  # one memory table per run

    # bad files: each refused in its own words, nothing kept
    monkeypatch.chdir(tmp_path)
    mismatched = torch.load(io.BytesIO(checkpoint_file(RNN)), weights_only=True)
    mismatched["state_dict"]["head.weight"] = torch.zeros(3, 3)
    buffer = io.BytesIO()
    torch.save(mismatched, buffer)
    for name, content, expected in [
        ("random.pt", os.urandom(2000), "not a checkpoint"),
        ("weights.pt", buffer.getvalue(), "do not match its experiment"),
    ]:
        upload(at, name, content)
        assert any(expected in e.value for e in at.error), [e.value for e in at.error]
    assert len(link.runs()) == 2

    at.button(key=f"run_delete_{first}").click().run()
    assert [r["name"] for r in link.runs()] == ["sine, RNN 8"]
    assert at.multiselect(key="compare_picker").value == [second]

    # the run opened is what Inspect shows
    at.switch_page(INSPECT).run()
    assert any("probes recorded while training" in c.value for c in at.caption)


def test_a_run_brought_back_continues_where_it_ended(app):
    short = Experiment.from_dict(
        {**RNN.to_dict(), "train": {**RNN.to_dict()["train"], "steps": 10}}
    )
    at = app(short)
    upload(at, "ten.pt", checkpoint_file(short, steps=10))
    assert not at.exception, at.exception
    button = at.button(key="train_continue")
    assert button.label == "Continue +10"
    button.click().run()
    link = link_of(at)
    run = link.current
    assert run.name == "from home (continued)"
    assert wait_until(lambda: not run.alive) and run.state == "finished"
    assert run.history.step == list(range(1, 21))  # the curve goes on from step 10
    assert wait_until(lambda: len(link.runs()) == 2)
    at.run()
    # the Design page offers the code together with this finished run
    at.session_state["code_open"] = True  # the code section, opened
    at.switch_page("app_pages/design.py").run()
    labels = [button.proto.label for button in at.get("download_button")]
    assert "Download the code with this design's trained run (zip)" in labels


def test_a_variant_waiting_for_a_training_slot_shows_its_place(app, monkeypatch):
    import components.train.runs
    from designer.serving.slots import TrainingSlots

    one = TrainingSlots(1)  # a server that trains one run at a time
    monkeypatch.setattr(components.train.runs, "training_slots", lambda: one)
    at = app()
    at.button(key="train_start").click().run()
    link = link_of(at)
    assert wait_until(lambda: link.current.state == "running")
    at.radio(key="variant_choice").set_value("clip").run()
    at.button(key="train_variant").click().run()
    assert link.variant.state == "queued"
    at.run()
    assert any("number 1 in the queue" in m.value for m in at.markdown)
    at.button(key="train_stop").click().run()  # Stop ends both, the queued one too
    assert wait_until(lambda: not link.current.alive and not link.variant.alive)


# --- in Chinese ------------------------------------------------------------------------------
def test_two_runs_compared_in_chinese(app_on_page):
    at = app_on_page(RNN, COMPARE, "zh")
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


def test_runs_of_different_tasks_are_told_apart_in_a_whole_chinese_sentence(app_on_page):
    at = app_on_page(RNN, COMPARE, "zh")
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
