"""The fields of a lesson being made, kept in the session.

Streamlit forgets a widget's value when the widget is not drawn in a run (another
page shown, a field for the second language switched off, a step removed), so every
value is also kept in one dict of the session (FORM) and given back to its widget
when the widget comes again: nothing a teacher wrote is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from designer import i18n
from designer.i18n import LANGUAGES, _, translations

FORM = "make_lesson"  # widget key -> value, for every field of the lesson being made


def form() -> dict[str, Any]:
    return st.session_state.setdefault(FORM, {})


def kept(make: Callable[..., Any], key: str, default: Any, *args: Any, **kwargs: Any) -> Any:
    """`make(*args, key=key, **kwargs)` (a Streamlit widget) showing the value kept for
    it, else `default`; its value is kept again. For a widget of options (the second
    of `args`), a kept value no longer among them gives way to `default`."""
    values = form()
    if key not in st.session_state:
        st.session_state[key] = values.get(key, default)
    if len(args) > 1 and st.session_state[key] not in list(args[1]):
        st.session_state[key] = default
    value = make(*args, key=key, **kwargs)
    values[key] = value
    return value


def languages() -> list[str]:
    """The languages the teacher writes in: the page's, and with "Both languages" the
    other one too."""
    page = i18n.language()
    others = [code for code in LANGUAGES if code != page]
    both = kept(st.toggle, "ml_both", False, _("Both languages"), help=_(BOTH_HELP))
    return [page, *others] if both else [page]


BOTH_HELP = i18n.N_(
    "A field for the other language beside each text: every reader sees the lesson in "
    "their own language (a text left empty shows the other language's)."
)


def text_field(
    key: str,
    label: str,
    langs: list[str],
    default: str = "",
    area: bool = False,
    columns: bool = True,
) -> str | dict[str, str]:
    """One text of the lesson in each language written: a string (one language) or
    {"en": ..., "zh": ...} (both); the default is an app sentence, in each language."""
    make = st.text_area if area else st.text_input
    places = st.columns(len(langs)) if columns and len(langs) > 1 else [st.container()] * len(langs)
    values = {}
    for lang, place in zip(langs, places, strict=True):
        start = in_language(lang, default)
        shown = label if len(langs) == 1 else f"{label} ({LANGUAGES[lang]})"
        with place:
            values[lang] = kept(make, f"{key}_{lang}", start, shown).strip()
    given = {lang: value for lang, value in values.items() if value}
    if len(given) > 1:
        return given
    return next(iter(given.values()), "")


def in_language(lang: str, message: str) -> str:
    """An app sentence in `lang`, whatever language the page is in (a default text of
    the second language)."""
    return translations(lang).gettext(message) if message else ""
