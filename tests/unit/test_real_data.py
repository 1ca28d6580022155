"""The real data shipped with the project: three measured series for forecasting and
two public-domain books for the character model, their sources stated, and the
baselines computed from the files themselves."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from designer import Experiment, Trainer, build_model
from designer.export.codegen import training_code
from designer.i18n import using
from designer.tasks import make_task
from designer.tasks.charlm import MAX_CHARS, RARE, TEXTS, corpus_text, sample_text
from designer.tasks.csv import DATA, SERIES

SOURCES = (DATA / "SOURCES.md").read_text(encoding="utf-8")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", list(SERIES))
def test_each_series_is_a_whole_measured_record_with_its_source(name):
    series = SERIES[name]
    with open(DATA / series.file, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, values = rows[0], np.array(rows[1:], dtype=float)
    assert series.target in header and np.isfinite(values).all()
    assert len(values) >= 300
    assert series.file in SOURCES and "public domain" in SOURCES.lower()


@pytest.mark.parametrize("name", list(SERIES))
def test_the_baselines_are_those_of_the_file(name):
    """Persistence and the seasonal forecast over the validation rows, recomputed from
    the file with NumPy (standardised on the first 80%, as the task does)."""
    task = make_task("series", {"series": name})
    series = SERIES[name]
    with open(DATA / series.file, encoding="utf-8") as f:
        reader = csv.DictReader(f)
        values = np.array([float(row[series.target]) for row in reader])
    cut = len(values) * 4 // 5
    z = (values - values[:cut].mean()) / values[:cut].std()
    rows = np.arange(max(cut, series.period), len(z))
    expected = {
        "persistence": np.mean((z[rows] - z[rows - 1]) ** 2),
        "seasonal": np.mean((z[rows] - z[rows - series.period]) ** 2),
    }
    got = task.seasonal_baselines()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-5)
    note = task.data_note()
    assert f"{got['persistence']:.3g}" in note and f"{got['seasonal']:.3g}" in note


def test_a_series_forecasts_its_next_value_and_its_window_is_checked():
    task = make_task("series", {"series": "co2", "seq_len": 24})
    x, y = task.batch(4, seed=0)
    assert x.shape == (4, 24, 1) and y.shape == (4, 24, 1)
    torch.testing.assert_close(x[:, 1:, 0], y[:, :-1, 0])  # the target is the next input
    assert task.forecasts and task.input_names() == ["co2_ppm"]
    temperature = make_task("series", {"series": "temperature"})
    assert temperature.input_size == 2 and temperature.output_size == 1
    problems = Experiment.from_dict  # a window longer than the validation part is refused
    with pytest.raises(Exception, match="seq_len 100 needs at least"):
        problems({"task": {"name": "series", "series": "sunspots", "seq_len": 100}})


@pytest.mark.slow
def test_the_sunspot_example_learns_the_cycle_and_beats_persistence():
    """examples/sunspots_lstm.json: an LSTM that sees three cycles (36 years) halves the
    error of persistence on the validation years it has never seen."""
    exp = Experiment.from_json((EXAMPLES / "sunspots_lstm.json").read_text())
    trainer = Trainer(exp)
    for _ in trainer.run():
        pass
    best = min(e["val_loss"] for e in trainer.history.evals)
    assert best < 0.6 * trainer.task.baseline_loss(), best


@pytest.mark.parametrize("name", ["holmes", "xiyouji"])
def test_the_books_are_long_public_domain_prose_with_their_source(name):
    text = corpus_text(name)
    assert len(text.encode("utf-8")) >= 200_000
    assert TEXTS[name][0] in SOURCES
    task = make_task("charlm", {"text": name})
    assert task.vocab_size - 1 == len(task.chars) <= MAX_CHARS
    x, y = task.batch(2, seed=0, split="val")
    assert x.shape == (2, 64) and int(x.min()) >= 1


def test_the_chinese_book_keeps_its_common_characters():
    task = make_task("charlm", {"text": "xiyouji"})
    assert len(task.chars) == MAX_CHARS and RARE in task.chars
    for common in "的了是不一行者师父":
        assert common in task.chars
    ids = task.encode("行者道：师父")
    assert task.decode(ids) == "行者道：师父"
    with using("zh"):
        assert "西游记" in task.data_note()


def test_a_model_writes_chinese_characters():
    exp = Experiment.from_dict(
        {
            "task": {"name": "charlm", "text": "xiyouji", "seq_len": 16},
            "model": {"embedding_dim": 16, "layers": [{"type": "gru", "hidden_size": 16}]},
        }
    )
    task = make_task("charlm", {"text": "xiyouji", "seq_len": 16})
    written = sample_text(build_model(exp, task), task, "行者", 20, seed=1)
    assert len(written) == 20 and all(c in task.chars for c in written)


@pytest.mark.slow
def test_an_exported_script_carries_its_book(tmp_path):
    exp = Experiment.from_dict(
        {
            "task": {"name": "charlm", "text": "xiyouji", "seq_len": 8},
            "model": {"embedding_dim": 8, "layers": [{"type": "gru", "hidden_size": 8}]},
            "train": {"steps": 2, "batch_size": 4, "eval_every": 2},
        }
    )
    script = Path(tmp_path) / "train.py"
    script.write_text(training_code(exp), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-I", "train.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "师父" in script.read_text(encoding="utf-8")
