"""The sample tasks: shapes, determinism, splits, baselines and each task's own rules."""

from __future__ import annotations

import json
import math
import os

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import designer.tasks as tasks
import designer.tasks.csv as csv_module
import designer.tasks.datafiles as datafiles
from designer.tasks import IGNORE, MAX_SEQ_LEN, TASKS, TaskDataError, make_task
from designer.tasks.base import Task
from designer.tasks.brackets import bracket_tags
from designer.tasks.charlm import load_corpus, sample_text
from designer.tasks.sentiment import NEGATIVE, POSITIVE

EXAMPLE = {"path": "example"}


def task_of(name: str, **params) -> Task:
    base = dict(EXAMPLE) if name == "csv" else {}
    return make_task(name, base | params)


def random_prediction(task: Task, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    if task.kind == "regression":
        return 2 * torch.randn(y.shape, generator=gen)
    return 3 * torch.randn(*y.shape, task.output_size, generator=gen)


# --- every task ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(TASKS))
def test_defaults_pass_their_own_checks(name: str) -> None:
    defaults = {p.name: p.default for p in TASKS[name].PARAMS}
    assert tasks.check_task_params(name, defaults) == []


@pytest.mark.parametrize("name", list(TASKS))
def test_shapes_and_dtypes(name: str) -> None:
    task = task_of(name)
    B, T = 5, task.seq_len
    x, y = task.batch(B, seed=0)
    if task.token_input:
        assert x.dtype == torch.long and x.shape == (B, T)
        assert task.input_size == task.vocab_size
        assert int(x.min()) >= 0 and int(x.max()) < task.vocab_size
    else:
        assert x.dtype == torch.float32 and x.shape == (B, T, task.input_size)
    out_shape = (B, T) if task.per_step else (B,)
    if task.kind == "regression":
        assert y.dtype == torch.float32 and y.shape == (*out_shape, task.output_size)
    else:
        assert y.dtype == torch.long and y.shape == out_shape
        scored = y[y != IGNORE]
        assert len(scored) > 0
        assert int(scored.min()) >= 0 and int(scored.max()) < task.output_size
    assert torch.isfinite(x.float()).all() and torch.isfinite(y.float()).all()


@pytest.mark.parametrize("name", list(TASKS))
def test_batches_are_deterministic_per_seed(name: str) -> None:
    task = task_of(name)
    for split in ("train", "val"):
        x1, y1 = task.batch(8, seed=3, split=split)
        x2, y2 = task.batch(8, seed=3, split=split)
        x3, _ = task.batch(8, seed=4, split=split)
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
        assert not torch.equal(x1, x3)
    # a fresh task object with the same parameters gives the same data
    assert torch.equal(task_of(name).batch(8, seed=3, split="val")[0], x1)


@pytest.mark.parametrize("name", list(TASKS))
def test_loss_metric_and_baseline_are_finite(name: str) -> None:
    task = task_of(name)
    x, y = task.batch(64, seed=1, split="val")
    pred = random_prediction(task, y, torch.Generator().manual_seed(0))
    assert math.isfinite(float(task.loss(pred, y)))
    assert math.isfinite(task.metric(pred, y))
    baseline = task.baseline_loss()
    assert math.isfinite(baseline) and baseline >= 0
    assert task.baseline_prediction(x, y).shape == pred.shape
    # a random guess is worse than the reference predictor
    assert float(task.loss(pred, y)) > baseline


@pytest.mark.parametrize("name", list(TASKS))
def test_describe_is_json(name: str) -> None:
    info = task_of(name).describe()
    assert info["name"] == name and info["description"] and info["lesson"]
    assert {p["name"] for p in info["params"]} == {p.name for p in TASKS[name].PARAMS}
    json.dumps(info)


@pytest.mark.parametrize(
    "name, params",
    [
        ("sine", {"seq_len": 2}),
        ("sine", {"seq_len": MAX_SEQ_LEN, "frequencies": [0.001, 0.5, 0.3]}),
        ("multivariate", {"seq_len": 2, "channels": 6, "lag": 50}),
        ("multivariate", {"seq_len": MAX_SEQ_LEN, "channels": 2, "lag": 1}),
        ("adding", {"seq_len": 2}),
        ("adding", {"seq_len": MAX_SEQ_LEN}),
        ("copy", {"symbols": 1, "alphabet": 2, "lag": 0}),
        ("copy", {"symbols": 50, "alphabet": 30, "lag": 900}),
        ("parity", {"seq_len": 1}),
        ("parity", {"seq_len": MAX_SEQ_LEN}),
        ("brackets", {"seq_len": 2}),
        ("brackets", {"seq_len": MAX_SEQ_LEN}),
        ("sentiment", {"seq_len": 4}),
        ("sentiment", {"seq_len": 40}),
        ("charlm", {"seq_len": 2}),
        ("charlm", {"seq_len": MAX_SEQ_LEN}),
        ("csv", {"seq_len": 2}),
        ("csv", {"seq_len": 70}),
    ],
)
def test_extreme_parameters(name: str, params: dict) -> None:
    assert tasks.check_task_params(name, params) == []
    task = task_of(name, **params)
    assert 1 <= task.seq_len <= MAX_SEQ_LEN
    x, y = task.batch(4, seed=0, split="val")
    assert x.shape[:2] == (4, task.seq_len)
    assert math.isfinite(task.baseline_loss())


# --- forecasting ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["sine", "multivariate", "csv"])
def test_persistence_baseline_beats_the_mean(name: str) -> None:
    task = task_of(name)
    x, y = task.batch(256, seed=5, split="val")
    mean = y.mean(dim=(0, 1), keepdim=True).expand_as(y)
    assert task.baseline_loss() < 0.8 * float(task.loss(mean, y))


@pytest.mark.parametrize("name", ["sine", "multivariate"])
def test_forecast_target_is_the_next_input(name: str) -> None:
    x, y = task_of(name).batch(4, seed=0)
    assert torch.equal(x[:, 1:], y[:, :-1])


def test_multivariate_channels_echo_each_other_after_lag() -> None:
    lag = 7
    task = task_of("multivariate", lag=lag, noise=0.0, seq_len=100, channels=3)
    x, _ = task.batch(64, seed=0)
    # remove the daily cycle by comparing against the shifted previous channel:
    # channel 1 = -(channel 0, lag steps earlier) + daily cycle, so the correlation is
    # strongly negative at the lag and weak at other shifts
    a, b = x[:, :-lag, 0].flatten(), x[:, lag:, 1].flatten()
    c = torch.corrcoef(torch.stack([a, b]))[0, 1]
    assert c < -0.7


def test_sine_noise_free_is_a_sum_of_the_frequencies() -> None:
    task = task_of("sine", noise=0.0, frequencies=[0.25], seq_len=40)
    x, _ = task.batch(3, seed=0)
    # a single wave of period 4: x[t] = -x[t+2]
    assert torch.allclose(x[:, :-2, 0], -x[:, 2:, 0], atol=1e-5)


# --- adding, parity, copy --------------------------------------------------------


def test_adding_baseline_is_one_sixth() -> None:
    assert abs(task_of("adding").baseline_loss() - 1 / 6) < 0.01


def test_adding_markers_and_target() -> None:
    task = task_of("adding", seq_len=11)
    x, y = task.batch(256, seed=0)
    marker = x[..., 1]
    assert torch.equal(marker.sum(1), torch.full((256,), 2.0))
    half = 11 // 2
    assert torch.equal(marker[:, :half].sum(1), torch.ones(256))
    assert torch.allclose((x[..., 0] * marker).sum(1, keepdim=True), y)
    assert float(x[..., 0].min()) >= 0 and float(x[..., 0].max()) <= 1


def test_parity_target_and_baseline() -> None:
    task = task_of("parity", seq_len=9)
    x, y = task.batch(64, seed=0)
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(y, x[..., 0].long().sum(1) % 2)
    assert abs(task.baseline_loss() - math.log(2)) < 0.01


def test_copy_layout() -> None:
    task = task_of("copy", symbols=3, alphabet=4, lag=5)
    assert task.seq_len == 2 * 3 + 5 and task.vocab_size == 4 + 3 and task.output_size == 4
    x, y = task.batch(32, seed=0)
    symbols = x[:, :3] - 3
    assert int(symbols.min()) >= 0 and int(symbols.max()) < 4
    assert (x[:, 3:8] == 1).all() and (x[:, 8] == 2).all() and (x[:, 9:] == 1).all()
    assert (y[:, :8] == IGNORE).all() and torch.equal(y[:, 8:], symbols)
    assert (x != 0).all()  # no padding in the copy task


def test_copy_baseline_is_chance() -> None:
    for alphabet in (2, 8, 30):
        baseline = task_of("copy", alphabet=alphabet).baseline_loss()
        assert abs(baseline - math.log(alphabet)) < 0.02


# --- brackets --------------------------------------------------------------------


def reference_tags(s: str) -> list[int]:
    """Matched (1) or not (0) per bracket, with an explicit stack."""
    tags, stack = [0] * len(s), []
    for i, c in enumerate(s):
        if c == "(":
            stack.append(i)
        elif stack:
            tags[i] = tags[stack.pop()] = 1
    return tags


def test_bracket_tags_match_a_stack() -> None:
    task = task_of("brackets", seq_len=25)
    x, y = task.batch(300, seed=0)
    for row, tags in zip(x, y, strict=True):
        s = task.decode(row)
        n = len(s)
        assert n >= 12 and (row[n:] == 0).all()  # padded at the end only
        assert tags[:n].tolist() == reference_tags(s)
        assert (tags[n:] == IGNORE).all()
    assert bracket_tags(torch.tensor([[1, 1, 2, 2, 2, 1, 0]])).tolist() == [
        [1, 1, 1, 1, 0, 0, IGNORE]
    ]


def test_bracket_tags_are_balanced_and_need_the_future() -> None:
    x, y = task_of("brackets").batch(2000, seed=0)
    scored = y[y != IGNORE].float()
    assert 0.3 < float(scored.mean()) < 0.7
    assert 0.3 < float(y[x == 1].float().mean()) < 0.7  # '(' tags are not one-sided


class Tagger(nn.Module):
    def __init__(self, bidirectional: bool, hidden: int = 32) -> None:
        super().__init__()
        self.embed = nn.Embedding(3, 8)
        self.rnn = nn.GRU(8, hidden, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(self.embed(x))[0])  # (B,T,2)


def train_tagger(task: Task, bidirectional: bool, x_val, y_val) -> float:
    """Validation accuracy of a GRU tagger after 300 Adam steps."""
    torch.manual_seed(0)
    model = Tagger(bidirectional)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(300):
        x, y = task.batch(64, seed=step)
        loss = task.loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return task.metric(model(x_val), y_val)


@pytest.mark.slow
def test_bidirectional_beats_unidirectional_on_brackets() -> None:
    task = task_of("brackets", seq_len=20)
    x_val, y_val = task.batch(1000, seed=12345, split="val")
    accuracy = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is as fast and never oversubscribes
    try:
        for bidirectional in (False, True):
            accuracy[bidirectional] = train_tagger(task, bidirectional, x_val, y_val)
    finally:
        torch.set_num_threads(threads)
    print(f"brackets accuracy: unidirectional {accuracy[False]:.3f}, "
          f"bidirectional {accuracy[True]:.3f}")  # fmt: skip
    assert accuracy[True] >= 0.9
    assert accuracy[True] - accuracy[False] >= 0.05


# --- sentiment -------------------------------------------------------------------


def reference_sentiment(sentence: str) -> int:
    """The task's rules, written independently: 1 positive, 0 negative."""
    clauses, joiner, current = [], None, []
    for word in sentence.split():
        if word in ("but", "and"):
            clauses.append(current)
            joiner, current = word, []
        else:
            current.append(word)
    clauses.append(current)
    scores = []
    for words in clauses:
        adjective = next(w for w in words if w in POSITIVE or w in NEGATIVE)
        score = 1 if adjective in POSITIVE else -1
        score *= -1 if "not" in words else 1
        score *= 2 if {"very", "really", "so"} & set(words) else 1
        scores.append(score)
    total = scores[-1] if joiner == "but" else sum(scores)
    assert total != 0, sentence
    return int(total > 0)


@pytest.mark.parametrize(
    "sentence, label",
    [
        ("the film was good", 1),
        ("the film was not good", 0),
        ("the film was not bad", 1),
        ("the film was good but boring", 0),
        ("the film was boring but good", 1),
        ("the plot was very dull but it is not bad", 1),
        ("the plot was good and very dull", 0),
        ("the plot was very good and dull", 1),
    ],
)
def test_reference_sentiment_rules(sentence: str, label: int) -> None:
    assert reference_sentiment(sentence) == label


@pytest.mark.parametrize("seq_len", [4, 6, 9, 12, 20])
def test_sentiment_labels_follow_the_rules(seq_len: int) -> None:
    task = task_of("sentiment", seq_len=seq_len)
    x, y = task.batch(500, seed=seq_len)
    assert (x[:, -1] != 0).all()  # left padded: the last step is a word
    lengths = (x != 0).sum(1)
    for row, label, n in zip(x, y, lengths, strict=True):
        assert (row[: seq_len - n] == 0).all()
        assert reference_sentiment(task.decode(row)) == int(label), task.decode(row)
    assert 0.4 < float(y.float().mean()) < 0.6
    assert abs(task.baseline_loss() - math.log(2)) < 0.01


def test_sentiment_word_order_matters() -> None:
    task = task_of("sentiment")
    x, y = task.batch(2000, seed=0)
    sentences = [task.decode(r) for r in x]
    but = [(s, int(label)) for s, label in zip(sentences, y, strict=True) if " but " in s]
    assert len(but) > 100
    # the same bag of words with the clauses swapped: a different label in many cases
    flipped = sum(
        reference_sentiment(s.split(" but ")[1] + " but " + s.split(" but ")[0]) != label
        for s, label in but
    )
    assert flipped > len(but) // 4
    assert task.vocabulary[0] == "<pad>" and len(task.vocabulary) == task.vocab_size
    assert task.decode(task.encode("the film was not good")) == "the film was not good"


# --- charlm ----------------------------------------------------------------------


def test_charlm_vocabulary_and_targets() -> None:
    task = task_of("charlm", seq_len=32)
    text, chars, ids = load_corpus()
    assert text.isascii() and 8_000 <= len(text) <= 15_000
    assert task.output_size == len(chars) and task.vocab_size == len(chars) + 1
    x, y = task.batch(16, seed=0)
    assert int(x.min()) >= 1  # no padding in a window
    assert torch.equal(x[:, 1:] - 1, y[:, :-1])  # target = next char's class
    assert task.decode(task.encode("The light goes round")) == "The light goes round"
    assert task.decode(task.encode("caf\u00e9 \u2603!")) == "caf "  # unknown chars dropped


def test_charlm_splits_are_disjoint_parts_of_the_text() -> None:
    task = task_of("charlm", seq_len=40)
    text, _, _ = load_corpus()
    cut = int(len(text) * 0.9)
    for split, part in (("train", text[:cut]), ("val", text[cut:])):
        x, y = task.batch(20, seed=0, split=split)
        for row, target in zip(x, y, strict=True):
            window = task.decode(row) + task.decode([int(target[-1]) + 1])
            assert window in part
    # the unigram baseline, in bits per char: the loss's unit as the metric's
    assert 4.1 < task.baseline_loss() < 4.4


def test_charlm_loss_is_the_cross_entropy_in_bits() -> None:
    """The loss curve, the metric and the baseline read in one unit: bits per char."""
    task = task_of("charlm", seq_len=16)
    x, y = task.batch(8, seed=3, split="val")
    pred = torch.randn(*y.shape, task.output_size, generator=torch.Generator().manual_seed(0))
    nats = F.cross_entropy(pred.reshape(-1, task.output_size), y.reshape(-1))
    assert float(task.loss(pred, y)) == pytest.approx(float(nats) / math.log(2), rel=1e-6)
    assert task.metric(pred, y) == pytest.approx(float(task.loss(pred, y)), rel=1e-6)
    assert task.baseline_loss() == pytest.approx(task.baseline_metric(), rel=1e-6)
    assert task.loss_unit == task.metric_name == "bits per char"


class TinyLM(nn.Module):
    def __init__(self, vocab: int, classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8)
        self.head = nn.Linear(8, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))  # (B,T,classes)


def test_sample_text() -> None:
    task = task_of("charlm", seq_len=16)
    torch.manual_seed(0)
    model = TinyLM(task.vocab_size, task.output_size)
    a = sample_text(model, task, "The sea", length=50, temperature=1.0, seed=1)
    b = sample_text(model, task, "The sea", length=50, temperature=1.0, seed=1)
    c = sample_text(model, task, "The sea", length=50, temperature=1.0, seed=2)
    assert len(a) == 50 and a == b and a != c
    assert set(a) <= set(task.chars)
    assert model.training  # the mode is restored
    assert len(sample_text(model, task, "\u2603\u2603", length=5, temperature=0.5, seed=0)) == 5
    greedy = sample_text(model, task, "", length=20, temperature=0, seed=0)
    assert greedy == sample_text(model, task, "", length=20, temperature=0, seed=9)


# --- csv -------------------------------------------------------------------------


def csv_text(rows: int = 300, columns: tuple[str, ...] = ("a", "b")) -> str:
    lines = [",".join(columns)]
    for i in range(rows):
        lines.append(",".join(f"{math.sin(i / (k + 3)) + k:.4f}" for k in range(len(columns))))
    return "\n".join(lines) + "\n"


def test_csv_inline_data_and_targets() -> None:
    task = make_task("csv", {"data": csv_text(columns=("a", "b", "c")), "targets": ["c"]})
    assert task.input_size == 3 and task.output_size == 1
    assert task.columns == ("a", "b", "c") and task.target_columns == ("c",)
    x, y = task.batch(4, seed=0)
    assert torch.equal(x[:, 1:, 2:], y[:, :-1])
    train = task.splits["train"]
    assert torch.allclose(train.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(train.std(0, unbiased=False), torch.ones(3), atol=1e-4)
    assert len(train) == 240 and len(task.splits["val"]) == 60


def test_csv_val_windows_come_from_the_last_rows() -> None:
    task = make_task("csv", {"data": csv_text(rows=500), "seq_len": 10})
    x, _ = task.batch(50, seed=0, split="val")
    val = task.splits["val"]
    for row in x:
        assert any(torch.equal(row, val[s : s + 10]) for s in range(len(val) - 10))


@pytest.fixture
def any_path():
    """Paths as the command line reads them: the user's own files."""
    datafiles.allow_any_path(True)
    yield
    datafiles.allow_any_path(False)


def test_csv_example_file() -> None:
    task = make_task("csv", {"path": "example"})
    assert task.columns == ("temperature_c", "humidity_pct", "pressure_hpa")
    assert len(task.splits["train"]) + len(task.splits["val"]) == 400


def test_csv_parsing_is_cached(any_path, tmp_path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(csv_text())
    first = csv_module.read_table(str(path), "")
    assert csv_module.read_table(str(path), "") is first
    text = csv_text(columns=("x", "y"))
    assert csv_module.read_table("", text) is csv_module.read_table("", text)
    path.write_text(csv_text(rows=301))  # an edited file is read again
    os.utime(path, ns=(1, 1))
    assert len(csv_module.read_table(str(path), "").values) == 301


def csv_error(**params) -> str:
    with pytest.raises(TaskDataError) as info:
        make_task("csv", params)
    return str(info.value)


def test_csv_takes_one_source_and_defaults_to_the_example(any_path, tmp_path) -> None:
    assert "not path and data" in csv_error(path="x.csv", data="a\n1\n")
    default = make_task("csv")
    assert default.columns == make_task("csv", {"path": "example"}).columns


def test_csv_file_not_found(any_path, tmp_path) -> None:
    missing = tmp_path / "nope.csv"
    assert f"not found: {missing}" in csv_error(path=str(missing))


def test_csv_too_large(any_path, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(csv_module, "MAX_BYTES", 1000)
    path = tmp_path / "big.csv"
    path.write_text(csv_text(rows=200))
    assert "too large" in csv_error(path=str(path)) and "MB" in csv_error(path=str(path))
    assert "too large" in csv_error(data=csv_text(rows=201))
    monkeypatch.setattr(csv_module, "MAX_BYTES", 20 * 2**20)
    monkeypatch.setattr(csv_module, "MAX_CELLS", 100)
    message = csv_error(data=csv_text(rows=51, columns=("p", "q", "r")))
    assert "too large" in message and "cells" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ["empty"]),
        ("1,2\n3,4\n", ["header"]),
        ("a,b\n1,2\n3,x7\n", ["non-numeric", "'b'", "line 3", "'x7'"]),
        ("a,b\n1,2\n3,\n", ["missing value", "'b'", "line 3"]),
        ("a,b\n1,2\n3\n", ["missing value", "'b'", "line 3"]),
        ("a,b\n1,2\n,4\n5,6\n", ["missing value", "'a'", "line 3"]),
        ("a,b\n1,2\n3,nan\n", ["missing value", "'b'", "line 3"]),
        ("a,b\n1,2\n3,4,5\n", ["line 3", "3 values", "2 columns"]),
        ("a,,c\n1,2,3\n", ["column 2", "no name"]),
        ("a,a\n1,2\n", ["twice"]),
    ],
)
def test_csv_bad_content(text: str, expected: list[str]) -> None:
    message = csv_error(data=text) if text else csv_error(data=" ")
    for part in expected:
        assert part in message, message


def test_csv_bad_file_names_the_file(any_path, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("temp,hum\n1,2\n3,oops\n")
    message = csv_error(path=str(path))
    assert "'hum'" in message and "line 3" in message and "'oops'" in message
    assert str(path) in message


def test_csv_unknown_target() -> None:
    message = csv_error(data=csv_text(), targets=["b", "z"])
    assert "unknown target column 'z'" in message and "a, b" in message


def test_csv_too_few_rows() -> None:
    message = csv_error(data=csv_text(rows=40), seq_len=50)
    assert "40 data rows" in message and "seq_len 50" in message
    need = csv_module.rows_needed(50)
    assert f"at least {need}" in message
    # the number given is exactly enough
    make_task("csv", {"data": csv_text(rows=need), "seq_len": 50}).batch(2, seed=0, split="val")
    assert "at least" in csv_error(data=csv_text(rows=need - 1), seq_len=50)


def test_csv_semicolons_and_blank_lines() -> None:
    text = csv_text(rows=100).replace(",", ";").replace("\n", "\n\n", 3)
    task = make_task("csv", {"data": text, "seq_len": 5})
    assert task.columns == ("a", "b") and len(task.splits["train"]) == 80


# --- which files a served app may read ------------------------------------------------
SECRET = "name,value\nroot-secret-line,1\n"


@pytest.fixture
def secret_file(tmp_path):
    """A file outside every allowed place, and a symlink to it from inside the data folder."""
    secret = tmp_path / "secret.csv"
    secret.write_text(SECRET)
    data = tmp_path / "data"
    data.mkdir()
    (data / "ok.csv").write_text(csv_text())
    (data / "link.csv").symlink_to(secret)
    return secret, data


@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink", "missing", "etc"])
def test_a_served_app_reads_no_file_outside_its_data_folder(secret_file, monkeypatch, where):
    secret, data = secret_file
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(data))
    path = {
        "absolute": str(secret),
        "dotdot": "../secret.csv",
        "symlink": "link.csv",
        "missing": str(secret.parent / "nope.csv"),
        "etc": "/etc/passwd",
    }[where]
    message = csv_error(path=path)
    assert "outside this server's data folder" in message
    assert "root-secret-line" not in message and "root:" not in message
    assert "not found" not in message  # a refusal does not say whether the file exists


def test_a_served_app_reads_its_data_folder_and_the_example(secret_file, monkeypatch):
    _, data = secret_file
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(data))
    assert make_task("csv", {"path": "ok.csv"}).columns == ("a", "b")
    assert make_task("csv", {"path": str(data / "ok.csv")}).columns == ("a", "b")
    assert make_task("csv", {"path": "example"}).columns[0] == "temperature_c"
    assert "CSV file not found: gone.csv" in csv_error(path="gone.csv")


def test_without_a_data_folder_no_path_is_read(secret_file, monkeypatch):
    monkeypatch.delenv("DESIGNER_DATA_DIR", raising=False)
    message = csv_error(path=str(secret_file[0]))
    assert "reads no files by path" in message and "root-secret-line" not in message
    assert make_task("csv").columns[0] == "temperature_c"  # the example still works


def test_an_experiment_naming_a_server_file_is_refused_plainly(monkeypatch):
    from designer import Experiment, SpecError

    monkeypatch.delenv("DESIGNER_DATA_DIR", raising=False)
    with pytest.raises(SpecError) as info:
        Experiment.from_dict({"task": {"name": "csv", "path": "/etc/passwd"}})
    assert "/etc/passwd" in str(info.value) and "root:" not in str(info.value)


def test_uploads_are_kept_by_content_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_STORE_DIR", str(tmp_path))
    content = csv_text().encode()
    digest = datafiles.save_upload(content)
    assert digest == datafiles.digest_of(content) and datafiles.save_upload(content) == digest
    task = make_task("csv", {"upload": digest, "upload_name": "mine.csv"})
    assert task.columns == ("a", "b")
    assert "64 hex digits" in csv_error(upload="../../etc/passwd")
    assert "upload it again" in csv_error(upload="0" * 64)
    assert "not path and upload" in csv_error(upload=digest, path="example")
    old = datafiles.uploads_dir() / f"{digest}.csv"
    os.utime(old, (0, 0))
    assert datafiles.prune_uploads() == 1 and not old.exists()


def test_an_upload_is_size_checked_before_it_is_parsed(monkeypatch):
    monkeypatch.setattr(csv_module, "MAX_BYTES", 100)
    with pytest.raises(TaskDataError, match="too large"):
        csv_module.parse_upload(b"a\n" + b"1\n" * 200)
    with pytest.raises(TaskDataError, match="not UTF-8"):
        csv_module.parse_upload(b"a,b\n\xff\xfe,1\n")


@pytest.mark.parametrize("name", list(TASKS))
def test_each_task_has_a_baseline_metric_beside_its_baseline_loss(name):
    """The reference predictor's metric on the same batch as its loss: for regression
    the same number; for classification the majority class's accuracy; for the
    character model the letters' frequencies in bits per character."""
    task = make_task(name)  # csv: the shipped example
    loss, metric = task.baseline_loss(), task.baseline_metric()
    if task.kind == "regression":
        assert metric == pytest.approx(loss)
    elif task.name == "charlm":
        assert metric == pytest.approx(loss, rel=1e-6) and 4.1 < metric < 4.4  # both in bits
    else:
        size = max(64, min(4096, task.BASELINE_STEPS // task.seq_len))
        _, y = task.batch(size, task.BASELINE_SEED, split="val")
        kept = y[y != IGNORE]
        majority = torch.bincount(kept).max().item() / kept.numel()
        assert metric == pytest.approx(majority)
