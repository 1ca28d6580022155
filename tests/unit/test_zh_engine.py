"""The engine in Chinese: a document's problems, a checkpoint's and a data file's
errors and the command line read as whole Chinese sentences; English stays as it was,
and --json output is the same in every language."""

import contextvars
import json
import pickle
import re

import pytest

from designer.__main__ import main
from designer.checkpoints import CheckpointError, load
from designer.i18n import Text, using
from designer.runner import Said
from designer.spec import LAYER_TYPES, Experiment, SpecError, english
from designer.tasks import TASKS, TaskDataError
from designer.tasks.csv import parse_upload
from designer.trainer import TrainingDiverged
from tests.helpers import english_sentences

CHINESE = re.compile(r"[\u4e00-\u9fff]")
QUOTED = re.compile(r"'[^']*'")  # a document's own values, shown as they are
FIELDS = ("hidden_size", "leak_rate", "init", "hiden", "seq_len", "lr", "clip_norm")
# Names the document uses as values (a task's, a layer type's): they stay as written.
NAMES = re.compile(r"\b(" + "|".join([*TASKS, *LAYER_TYPES]) + r")\b")

BAD = {
    "task": {"name": "adding"},
    "model": {
        "layers": [
            {"type": "lstm"},
            {"type": "lstm", "hidden_size": 0},
            {"type": "gru", "hidden_size": 2000, "hiden": 3},
            {"type": "gru", "leak_rate": 0.5},
            {"type": "lstmm"},
            {"hidden_size": 3},
        ]
    },
    "train": {"lr": -1, "steps": 10**6, "batch_size": 0},
}


def problems_of(data) -> list:
    with pytest.raises(SpecError) as info:
        Experiment.from_dict(data)
    return info.value.problems


def reads_as_chinese(text: str) -> None:
    """Chinese words, and no English sentence besides field names and the values."""
    assert CHINESE.search(text), text
    plain = NAMES.sub("", QUOTED.sub("", text))
    for field in FIELDS:
        plain = plain.replace(field, "")
    assert not english_sentences(plain), (text, english_sentences(plain))


def test_a_bad_document_s_problems_are_whole_chinese_sentences_naming_layer_and_field():
    problems = problems_of(BAD)
    with using("en"):
        english = [str(p) for p in problems]
    assert (
        english[0]
        == "layer 1 (lstm) hidden_size: input should be greater than or equal to 1, got 0"
    )
    with using("zh"):
        chinese = [str(p) for p in problems]
        whole = str(SpecError(problems))
    assert chinese[0] == "第 1 层 (lstm) 的 hidden_size 必须大于或等于 1，实际为 0"
    for text in chinese:
        reads_as_chinese(text)
    for problem, text in zip(problems, chinese, strict=True):
        if problem.layer is not None:  # the layer by its number, the field by its name
            assert f"第 {problem.layer} 层" in text, text
        field = problem.path.rsplit(".", 1)[-1]
        if field in FIELDS:
            assert field in text, text
    assert "第 2 层 (gru) 的 hidden_size 不能超过 1024（宽度上限）" in whole
    assert "第 3 层 (gru) 的 leak_rate 只适用于 rnn 层，不适用于 GRU 层" in whole
    assert whole.startswith(f"共 {len(problems)} 个问题：")
    # what a page shows beside a layer, and the --json output, which stays English
    with using("zh"):
        assert problems[0].message == "必须大于或等于 1，实际为 0"
        assert (
            problems[0].to_dict()["message"] == "input should be greater than or equal to 1, got 0"
        )


def test_a_document_s_other_problems_read_in_chinese():
    for text in ("{", '{"task": {"name": "addin"}}', '{"task": {"seq_len": 1}}', "[1]"):
        with pytest.raises(SpecError) as info:
            Experiment.from_json(text)
        with using("zh"):
            reads_as_chinese(str(info.value))


def test_a_checkpoint_error_reads_in_chinese():
    with pytest.raises(CheckpointError) as info:
        load(b"not a checkpoint at all")
    assert str(info.value) == "the file is not a checkpoint, or it is damaged or truncated"
    with using("zh"):
        assert str(info.value) == "该文件不是检查点，或已损坏、不完整。"
    # it travels from a training process: its sentence goes with it
    again = pickle.loads(pickle.dumps(info.value))
    with using("zh"):
        assert str(again) == "该文件不是检查点，或已损坏、不完整。"


def test_a_task_data_error_reads_in_chinese():
    with pytest.raises(TaskDataError) as info:
        parse_upload(b"a,b\n1,2\n3,x\n")
    assert str(info.value) == "column 'b' has a non-numeric value on line 3 of the file: 'x'"
    with using("zh"):
        text = str(info.value)
    assert text == "该文件 的第 3 行中，列 'b' 有一个非数值的值：'x'"
    reads_as_chinese(text)


def test_a_run_s_error_is_english_text_shown_in_the_reader_s_language():
    err = TrainingDiverged(12, float("inf"), None, None)
    said = pickle.loads(pickle.dumps(Said(err.text)))
    assert "diverged at step 12" in said  # the string itself: English, for logs and checks
    with using("zh"):
        assert str(said).startswith(
            "训练在第 12 步发散：损失变成了 inf（最后一个有限的梯度范数为 尚未测量）"
        )
        assert f"{said}" == str(said)
        reads_as_chinese(str(said))
    assert str(Said(Text("the run stopped"))) == "the run stopped"
    kept = english(said)  # what a checkpoint keeps: a plain str, in English
    assert type(kept) is str and kept.startswith("training diverged at step 12: the loss")


# --- the command line ---------------------------------------------------------------------
SMALL = {
    "task": {"name": "adding", "seq_len": 10},
    "model": {"layers": [{"type": "gru", "hidden_size": 8}]},
    "train": {"steps": 4, "eval_every": 2, "batch_size": 8},
}


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """main() in a context of its own: the language it sets stays there."""
    code = contextvars.copy_context().run(main, argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SMALL))
    return str(path)


@pytest.fixture
def bad_spec(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"model": {"layers": [{"type": "lstm", "hidden_size": 0}]}}))
    return str(path)


@pytest.fixture
def no_locale(monkeypatch):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


def test_the_command_line_speaks_chinese_with_lang_zh(spec, bad_spec, capsys, no_locale):
    code, out, _ = run(["--lang", "zh", "tasks"], capsys)
    assert code == 0 and "加法问题" in out and "参数：seq_len=50" in out
    code, out, _ = run(["--lang", "zh", "validate", spec], capsys)
    assert code == 0 and "任务：adding（加法问题）；序列长 10 步" in out and "参数总数：" in out
    code, _, err = run(["--lang", "zh", "validate", bad_spec], capsys)
    assert code == 2
    assert err.strip() == "错误：第 0 层 (lstm) 的 hidden_size 必须大于或等于 1，实际为 0"
    code, out, _ = run(["--lang", "zh", "train", spec], capsys)
    assert code == 0 and "验证损失" in out and "基线" in out and out.startswith("第")
    code, out, _ = run(["--lang", "zh", "probe", spec], capsys)
    assert code == 0 and out.startswith("探针损失") and "第 0 层（gru）" in out
    code, _, err = run(["--lang", "zh", "train"], capsys)
    assert code == 2 and err.startswith("错误：需要给出实验文件")


def test_the_command_line_takes_chinese_from_lang_and_json_stays_the_same(
    spec, bad_spec, capsys, monkeypatch, no_locale
):
    english = [run([*command, "--json"], capsys) for command in (["validate", spec], ["tasks"])]
    bad_english = run(["validate", bad_spec, "--json"], capsys)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    code, out, _ = run(["validate", spec], capsys)
    assert code == 0 and "任务：adding（加法问题）" in out
    code, _, err = run(["validate", bad_spec], capsys)
    assert code == 2 and err.startswith("错误：第 0 层 (lstm) 的 hidden_size")
    code, out, _ = run(["probe", spec], capsys)
    assert code == 0 and out.startswith("探针损失")
    assert [run([*c, "--json"], capsys) for c in (["validate", spec], ["tasks"])] == english
    assert run(["validate", bad_spec, "--json"], capsys) == bad_english
    assert "Adding problem" in english[1][1]  # the tasks' titles in English in --json
