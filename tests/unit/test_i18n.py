"""Languages: every marked sentence has its Chinese translation, the translations keep
their named parts and the glossary's terms, and the machinery picks the language.

The engine in Chinese: a document's problems, a checkpoint's and a data file's
errors and the command line read as whole Chinese sentences; English stays as it was,
and --json output is the same in every language."""

import contextvars
import json
import pickle
import re
import string
from pathlib import Path

import pytest

from designer import i18n
from designer.__main__ import main
from designer.document.spec import LAYER_TYPES, Experiment, SpecError
from designer.document.spec import english as in_english
from designer.i18n import Text, _, extract, read_catalog, using
from designer.tasks import TASKS, TaskDataError
from designer.tasks.csv import parse_upload
from designer.training.checkpoints import CheckpointError, load
from designer.training.runner import Said
from designer.training.trainer import TrainingDiverged
from tests.helpers import english_sentences, lesson_texts, shows_markdown_literally

GLOSSARY = Path(i18n.__file__).parent / "locales" / "glossary.md"


@pytest.fixture(scope="module")
def marked():
    return extract()


@pytest.fixture(scope="module")
def chinese():
    return read_catalog("zh")


@pytest.fixture(scope="module")
def lesson_translations():
    """English -> Chinese of every text of the built-in lessons, which their documents
    carry themselves (designer/lessons/builtin/*.json), outside the catalogs."""
    from designer.lessons import LESSONS

    return {
        text.texts["en"]: text.texts["zh"]
        for lesson in LESSONS.values()
        for text in lesson_texts(lesson)
    }


@pytest.fixture(scope="module")
def translations(chinese, lesson_translations):
    """Every translation: the catalogs' and the lesson documents'."""
    return {**chinese, **lesson_translations}


def test_every_marked_sentence_has_a_chinese_translation(marked, chinese):
    missing = [f"{where[0]}: {m!r}" for m, where in marked.items() if not chinese.get(m)]
    assert not missing, f"{len(missing)} sentences without a translation:\n" + "\n".join(
        missing[:40]
    )


def test_the_catalog_holds_only_sentences_the_code_uses(marked, chinese):
    stale = [m for m in chinese if m not in marked]
    assert not stale, f"{len(stale)} translations of sentences no longer in the code: {stale[:20]}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_sentence_has_one_home_in_the_catalogs():
    twice = {m: parts for m, parts in i18n.catalog_parts("zh").items() if len(parts) > 1}
    assert not twice, f"sentences in two catalogs (the first read would win): {twice}"


def test_a_sentence_is_not_written_into_a_second_catalog(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.write_part("one", {"Train": "训练"})
    with pytest.raises(ValueError, match="one home"):
        i18n.write_part("two", {"Train": "训练！"})
    i18n.write_part("one", {"Train": "训练"})  # its own part may change it


def test_translations_keep_every_named_part(translations):
    wrong = [(m, t) for m, t in translations.items() if t and _fields(m) != _fields(t)]
    assert not wrong, wrong[:10]


def glossary() -> list[tuple[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("English", "---"):
            english = re.sub(r"\s*\(.*\)", "", cells[0])
            rows.append((english, re.sub(r"\s*\(.*\)", "", cells[1])))
    return rows


def test_the_glossary_has_the_course_s_terms():
    terms = dict(glossary())
    for english, chinese_term in [
        ("long short-term memory", "长短期记忆网络"),
        ("backpropagation through time", "时间反向传播"),
        ("vanishing gradient", "梯度消失"),
        ("echo state network", "回声状态网络"),
        ("sequence classification", "序列分类"),
    ]:
        assert terms[english] == chinese_term


# Terms a Chinese textbook does not use, and the ones 《动手学深度学习》 uses instead
REPLACED = {
    "隐藏状态": "隐状态",
    "细胞": "记忆元 (cell state), 候选记忆元 (cell gate)",
    "随机失活": "暂退法 (dropout)",
    "丢弃法": "暂退法 (dropout)",
}


def test_the_terms_are_those_of_dive_into_deep_learning(translations):
    wrong = [
        f"{old} (use {new}): {message!r} = {translation!r}"
        for message, translation in translations.items()
        for old, new in REPLACED.items()
        if old in translation
    ]
    assert not wrong, "\n".join(wrong[:20])
    glossary_text = GLOSSARY.read_text(encoding="utf-8")
    assert not [old for old in REPLACED if old in glossary_text]


def test_translations_use_the_glossary_s_terms(translations):
    wrong = []
    for english, term in glossary():
        pattern = re.compile(rf"\b{re.escape(english)}s?\b", re.IGNORECASE)
        for message, translation in translations.items():
            if translation and pattern.search(message) and term not in translation:
                wrong.append(f"{english} -> {term}: {message!r} = {translation!r}")
    assert not wrong, "\n".join(wrong[:30])


def test_no_lesson_text_shows_markdown_literally(lesson_translations):
    """A lesson document's texts, in both languages, as a page's Markdown reads them:
    no `**` left standing (as beside a full-width colon)."""
    texts = [*lesson_translations, *lesson_translations.values()]
    assert len(texts) > 100  # it did find the lessons' texts
    literal = [text for text in texts if shows_markdown_literally(text)]
    assert not literal, literal[:5]


def test_the_language_comes_from_the_provider_then_the_context():
    assert _("Train") == "Train"
    with using("zh"):
        assert _("Train") == "训练"
        i18n.set_provider(lambda: "en")
        try:
            assert _("Train") == "Train"
        finally:
            i18n.set_provider(None)
    assert i18n.normalize("zh_CN.UTF-8") == "zh" and i18n.normalize("en-GB") == "en"
    assert i18n.normalize("fr") is None and i18n.normalize(None) is None


def test_a_text_renders_in_the_reader_s_language_and_travels_between_processes():
    text = Text("Train")
    copy = pickle.loads(pickle.dumps(text))
    assert copy == text and str(copy) == "Train"
    with using("zh"):
        assert str(copy) == "训练"


# --- the engine in Chinese ------------------------------------------------------------------


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
    kept = in_english(said)  # what a checkpoint keeps: a plain str, in English
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
