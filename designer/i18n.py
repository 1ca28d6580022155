"""Languages: every sentence the app and the command line show, in English or in
Simplified Chinese.

The code is written in English, and each sentence a person reads is marked where it
is written:

    _("Validation loss")                       translated where it is used
    _("{n} probes recorded").format(n=n)       a whole sentence with named parts
    N_("Time and depth")                       marked only (module-level data); the
                                               page translates it with _() when drawn

Babel extracts the marked sentences (babel.cfg; `pybabel extract`), and the Chinese
translations live in gettext catalogs, designer/locales/zh/LC_MESSAGES/*.po (one per
part of the app, merged as they are read), compiled in memory the first time a
language is used. A sentence is always marked whole: "{layer} has no {gate} gate" is
one message, never "has no" glued between translated words, because word order
differs between the two languages.

Which language: the command line sets it from --lang or LANG; the app tells this
module the language of the session that is drawing (set_provider), so the engine
itself never imports Streamlit. Elsewhere (a training process, a test) it is the
context's language, English unless set.
"""

from __future__ import annotations

import datetime
import difflib
import gettext
import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
LOCALES = Path(__file__).parent / "locales"
DOMAIN_FOLDER = "LC_MESSAGES"

_language: ContextVar[str] = ContextVar("designer_language", default=DEFAULT)
_provider: Callable[[], str | None] | None = None


def normalize(value: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_Hans_CN.UTF-8' -> 'zh'; 'en-GB' -> 'en'; anything else -> None."""
    if not value:
        return None
    code = value.replace("-", "_").split(".")[0].split("_")[0].lower()
    return code if code in LANGUAGES else None


def set_provider(provider: Callable[[], str | None] | None) -> None:
    """Where the language comes from when a caller has one to say (the app: the
    session drawing the page). It returns None when it has no answer, and then the
    context's language counts."""
    global _provider
    _provider = provider


def language() -> str:
    """The language sentences are rendered in now."""
    if _provider is not None:
        chosen = _provider()
        if chosen in LANGUAGES:
            return chosen
    return _language.get()


def set_language(code: str) -> None:
    """The language of this context (the command line, a test), from now on."""
    _language.set(normalize(code) or DEFAULT)


@contextmanager
def using(code: str) -> Iterator[None]:
    """The language of this context inside the block."""
    token = _language.set(normalize(code) or DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def language_from_environment() -> str:
    """The command line's language when --lang is not given: LANGUAGE, LC_ALL,
    LC_MESSAGES or LANG, the first one set (a 'C' or 'POSIX' locale is English)."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return normalize(value.split(":")[0]) or DEFAULT
    return DEFAULT


def catalog_files(code: str) -> list[Path]:
    """The .po files of a language, in a fixed order."""
    return sorted((LOCALES / code / DOMAIN_FOLDER).glob("*.po"))


@lru_cache(maxsize=len(LANGUAGES))
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalog of a language (English: the message ids themselves)."""
    if code == DEFAULT:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    merged = None
    for path in catalog_files(code):
        with path.open("rb") as f:
            catalog = read_po(f, locale=code)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id and message.id not in merged:
                merged[message.id] = message
    if merged is None:
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, merged, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    if isinstance(message, Translated):
        return message.in_language(language())
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural sentence for `n`, in the current language."""
    return translations(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks `message` for translation without translating it: for data defined at
    import time (labels in a dict), translated with _() where it is shown."""
    return message


class Translated(str):
    """A text that carries its own translations: a lesson document's title or step,
    written by a teacher in English, Chinese or both ({"en": ..., "zh": ...}). Its str
    value is the English (or the one language given), so it reads as the plain str it
    replaces everywhere; _() gives the reader's language's, else the catalog's
    translation of the English, else the other language."""

    texts: dict[str, str]

    def __new__(cls, texts: dict[str, str]) -> Translated:
        given = {code: text for code, text in texts.items() if code in LANGUAGES}
        if not given:
            raise ValueError("a translated text needs at least one of the languages")
        value = super().__new__(cls, given.get(DEFAULT, next(iter(given.values()))))
        value.texts = given
        return value

    def in_language(self, code: str) -> str:
        """The text in language `code`: its own, else the catalog's, else the other's."""
        if code in self.texts:
            return self.texts[code]
        return translations(code).gettext(str.__str__(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Translated):
            return self.texts == other.texts
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __repr__(self) -> str:
        return f"Translated({self.texts!r})"

    def __reduce__(self):  # picklable: a lesson's texts travel like any str
        return (Translated, (dict(self.texts),))


class Text:
    """A sentence kept as its message id and parts, rendered in the language of
    whoever reads it, when they read it: for what crosses into another thread or
    process (a training run's error) or is kept (a problem in a document) before it
    is shown. str(text) renders it."""

    __slots__ = ("message", "parts")

    def __init__(self, message: str, **parts: object) -> None:
        self.message = message
        self.parts = parts

    def __str__(self) -> str:
        parts = {k: str(v) if isinstance(v, Text) else v for k, v in self.parts.items()}
        return _(self.message).format(**parts)

    def __repr__(self) -> str:
        return f"Text({self.message!r}, **{self.parts!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return (self.message, self.parts) == (other.message, other.parts)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.message, tuple(sorted(self.parts.items(), key=lambda kv: kv[0]))))

    def __reduce__(self):  # picklable: it travels from a training process
        return (_text, (self.message, self.parts))


class TextError(ValueError):
    """An error whose message is a sentence for a person: a Text (rendered in the
    reader's language when str() is called, which may be in another thread than the
    one that raised it) or a plain string."""

    def __init__(self, message: str | Text):
        self.text = message
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.text)


def unknown_name(
    got: str, known: Iterable[str], hinted: str, plain: str, /, **parts: object
) -> Text:
    """The sentence for a name that is none of `known`: `hinted` where one of them is near
    enough to be what was meant (given as {hint}: a misspelling is the usual cause), else
    `plain`. Both sentences are marked with N_ where they are written."""
    hint = difflib.get_close_matches(got, list(known), n=1)
    if hint:
        return Text(hinted, hint=hint[0], **parts)
    return Text(plain, **parts)


def _text(message: str, parts: dict) -> Text:
    return Text(message, **parts)


# --- the catalogs' upkeep (tests, and `python -m designer.i18n` for translators) --------
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "Text": None}
SOURCES = ("designer", "components", "app_pages")  # and streamlit_app.py


def extract(root: Path | None = None) -> dict[str, list[str]]:
    """Every marked sentence in the code: message id -> where it is ('file:line')."""
    from babel.messages.extract import extract_from_dir, extract_from_file

    root = root or Path(__file__).resolve().parents[1]
    found: dict[str, list[str]] = {}

    def keep(filename: str, lineno: int, message: str | tuple) -> None:
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, []).append(f"{filename}:{lineno}")

    for folder in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root / folder, [("**.py", "python")], keywords=KEYWORDS
        ):
            keep(f"{folder}/{filename}", lineno, message)
    app = root / "streamlit_app.py"
    for lineno, message, _comments, _context in extract_from_file("python", app, keywords=KEYWORDS):
        keep(app.name, lineno, message)
    return found


def _entries(code: str) -> Iterator[tuple[str, str, str]]:
    """(part, message id, translation) of every entry of a language's .po files."""
    from babel.messages.pofile import read_po

    for path in catalog_files(code):
        with path.open("rb") as f:
            for message in read_po(f, locale=code):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    value = message.string if isinstance(message.string, str) else message.string[0]
                    yield path.stem, key, value


def catalog_parts(code: str) -> dict[str, list[str]]:
    """Message id -> the parts whose catalog holds it: one each, so that a sentence has
    one translation (when two parts held it, the first one read would win unseen)."""
    parts: dict[str, list[str]] = {}
    for part, key, _value in _entries(code):
        parts.setdefault(key, []).append(part)
    return parts


def read_catalog(code: str) -> dict[str, str]:
    """Message id -> translation, over all of a language's .po files."""
    return {key: value for _part, key, value in _entries(code)}


def write_part(part: str, translations_: dict[str, str], code: str = "zh") -> Path:
    """Add (or replace) translations in one part's catalog, zh/LC_MESSAGES/PART.po,
    kept sorted by message id: how translations are written, so that each part of the
    app has its own file and no two translators edit the same one."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    elsewhere = {
        message: parts
        for message, parts in catalog_parts(code).items()
        if message in translations_ and part not in parts
    }
    if elsewhere:
        said = "already translated in another part (one sentence, one home)"
        raise ValueError(f"{said}: {elsewhere}")
    path = LOCALES / code / DOMAIN_FOLDER / f"{part}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    entries: dict[str, str] = {}
    if path.exists():
        with path.open("rb") as f:
            entries = {m.id: m.string for m in read_po(f, locale=code) if m.id}
    entries.update(translations_)
    fixed = datetime.datetime(2026, 11, 28, tzinfo=datetime.UTC)  # no churn
    catalog = Catalog(
        locale=code,
        project="Deep RNN Designer",
        version="1",
        header_comment=f"# {LANGUAGES[code]} translations of Deep RNN Designer: part '{part}'.",
        creation_date=fixed,
        revision_date=fixed,
        last_translator="Deep RNN Designer",
        language_team=LANGUAGES[code],
        fuzzy=False,
    )
    for message_id in sorted(entries):
        flags = ["python-format"] if "{" in message_id else []
        catalog.add(message_id, entries[message_id], flags=flags)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=True)
    translations.cache_clear()
    return path


if __name__ == "__main__":  # the sentences still to translate, for translators
    import sys

    wanted = extract()
    have = read_catalog(sys.argv[1] if len(sys.argv) > 1 else "zh")
    missing = [m for m in wanted if not have.get(m)]
    for message in missing:
        print(f"{wanted[message][0]}: {message!r}")
    print(f"{len(missing)} of {len(wanted)} sentences have no translation", file=sys.stderr)
