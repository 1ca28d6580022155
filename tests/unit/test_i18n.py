"""Languages: every marked sentence has its Chinese translation, the translations keep
their named parts and the glossary's terms, and the machinery picks the language."""

import pickle
import re
import string
from pathlib import Path

import pytest

from designer import i18n
from designer.i18n import Text, _, extract, read_catalog, using

GLOSSARY = Path(i18n.__file__).parent / "locales" / "glossary.md"


@pytest.fixture(scope="module")
def marked():
    return extract()


@pytest.fixture(scope="module")
def chinese():
    return read_catalog("zh")


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


def test_translations_keep_every_named_part(chinese):
    wrong = [(m, t) for m, t in chinese.items() if t and _fields(m) != _fields(t)]
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


def test_the_terms_are_those_of_dive_into_deep_learning(chinese):
    wrong = [
        f"{old} (use {new}): {message!r} = {translation!r}"
        for message, translation in chinese.items()
        for old, new in REPLACED.items()
        if old in translation
    ]
    assert not wrong, "\n".join(wrong[:20])
    glossary_text = GLOSSARY.read_text(encoding="utf-8")
    assert not [old for old in REPLACED if old in glossary_text]


def test_translations_use_the_glossary_s_terms(chinese):
    wrong = []
    for english, term in glossary():
        pattern = re.compile(rf"\b{re.escape(english)}s?\b", re.IGNORECASE)
        for message, translation in chinese.items():
            if translation and pattern.search(message) and term not in translation:
                wrong.append(f"{english} -> {term}: {message!r} = {translation!r}")
    assert not wrong, "\n".join(wrong[:30])


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
