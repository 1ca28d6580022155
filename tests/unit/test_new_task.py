"""A task is one module and one registry line: a task written here, in a module of
its own outside the project, and added to TASKS as its registry line would add it,
works in the picker, the figures, the exported training script, the command line
and a lesson's document, with no other edit."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest
import torch
from streamlit.testing.v1 import AppTest

from designer import Experiment, build_model
from designer.__main__ import main
from designer.export.codegen import training_code
from designer.figures.tasks import model_view, sample_figure
from designer.lessons import LessonRun
from designer.tasks import TASKS, get_task, make_task
from tests.app.test_design import APP

SOURCE = '''
"""Count the ones so far: at every step, the share of ones among the bits read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from designer.tasks.base import MAX_SEQ_LEN, Param, Task


@dataclass
class OnesTask(Task):
    name = "ones"
    title = "Count the ones so far"
    description = "Random bits, one per step; at every step, the number of ones read so far."
    lesson = "A running count is one unit of state, kept and added to at every step."
    PARAMS = (Param("seq_len", 12, "number of bits", "int", 1, MAX_SEQ_LEN),)
    kind = "regression"
    per_step = True
    metric_name = "mse"
    higher_is_better = False

    def __post_init__(self) -> None:
        self.input_size = 1
        self.output_size = 1

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        bits = torch.randint(0, 2, (batch_size, self.seq_len, 1), generator=gen).float()
        return bits, bits.cumsum(1) / self.seq_len  # (B,T,1) -> (B,T,1)
'''

DOCUMENT = {
    "task": {"name": "ones", "seq_len": 8},
    "model": {"layers": [{"type": "gru", "hidden_size": 6}]},
    "train": {"steps": 4, "batch_size": 8, "eval_every": 2, "seed": 1},
}


@pytest.fixture
def ones(tmp_path, monkeypatch):
    """The task's module imported from a file of its own, and its registry line."""
    path = tmp_path / "ones_task.py"
    path.write_text(textwrap.dedent(SOURCE))
    spec = importlib.util.spec_from_file_location("ones_task", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "ones_task", module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(TASKS, "ones", module.OnesTask)  # the registry line
    return module.OnesTask


def test_the_picker_offers_it_and_choosing_it_changes_the_experiment(ones):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["experiment"] = Experiment.from_dict({})
    at.run()
    assert not at.exception, at.exception
    (picker,) = [w for w in at.selectbox if w.label == "Task"]
    assert "ones" in picker.options or "Count the ones so far" in picker.options
    picker.set_value("ones").run()
    assert not at.exception, at.exception
    assert at.session_state["experiment"].task.name == "ones"


def test_its_figures_build(ones):
    task = make_task("ones", {})
    assert sample_figure(task, seed=0).data
    exp = Experiment.from_dict(DOCUMENT)
    model = build_model(exp, get_task(exp.task))
    x, y = task.batch(4, 0, "val")
    with torch.no_grad():
        assert model_view(task, x, y, model(x)).data


def test_its_training_script_runs_alone(ones, tmp_path):
    (tmp_path / "train.py").write_text(training_code(Experiment.from_dict(DOCUMENT)))
    done = subprocess.run(
        [sys.executable, "-I", "train.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert (tmp_path / "checkpoint.pt").exists()


def test_the_command_line_trains_it(ones, tmp_path, capsys):
    spec = tmp_path / "ones.json"
    spec.write_text(json.dumps(DOCUMENT))
    assert main(["train", str(spec), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert lines and lines[-1].get("step", lines[-1].get("steps")) is not None
    capsys.readouterr()
    assert main(["train", str(spec), "--json", "--task", "ones", "--steps", "2"]) == 0


def test_a_lesson_document_naming_it_builds(ones):
    run = LessonRun("A", "GRU, 6 units", DOCUMENT)
    exp = run.experiment(seed=3)
    assert exp.task.name == "ones" and exp.train.seed == 3
    task = get_task(exp.task)
    assert task.baseline_loss() > 0
    assert build_model(exp, task)(task.batch(2, 0)[0]).shape == (2, 8, 1)
