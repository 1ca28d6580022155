"""Where the lesson on show comes from: one of the app's own (`?lesson=NAME`) or a
lesson document, a teacher's, that arrived in a link (`?doc=TOKEN`) or as a file.

The app's lessons are its own text, Markdown included. A document is a visitor's
text: whatever it says is shown as it is written (designer.lessons.document.shown_text),
never as HTML, links or images."""

from __future__ import annotations

import json
from collections import OrderedDict

import streamlit as st

from components.shell.state import escape_markdown
from components.shell.uploads import LINK_CHARS, uploader
from designer.document.spec import SpecError
from designer.i18n import Text, _
from designer.lessons import LESSONS, Lesson
from designer.lessons.document import (
    MAX_BYTES,
    lesson_from_url,
    lesson_to_document,
    lesson_to_url,
    read_lesson,
    shown_text,
)

NAME = "lesson"  # the address's name of one of the app's lessons
DOC = "doc"  # the address's lesson document, compressed
OPENED = "lesson_documents"  # token -> Lesson, the documents this session has read
PROBLEMS = "lesson_problems"  # what was wrong with the last document (a warning, a list)
KEPT = 8  # documents kept read per session


def builtin(lesson: Lesson) -> bool:
    """Whether the lesson is one of the app's own (not a document someone brought)."""
    return LESSONS.get(lesson.name) is lesson


def said(lesson: Lesson, text: str) -> str:
    """A text of the lesson in the reader's language, ready for st.markdown: the app's
    own lessons as their Markdown, a document's as it is written."""
    return as_written(lesson, _(text)) if text else ""  # _("") would be the catalog's header


def as_written(lesson: Lesson, words: str) -> str:
    """Words made of a document's text (a verdict's sentence) shown as they are written;
    the app's own lessons' as their Markdown."""
    return words if builtin(lesson) else shown_text(words)


def address(lesson: Lesson) -> dict[str, str]:
    """The address's part that opens this lesson."""
    if builtin(lesson):
        return {NAME: lesson.name}
    return {DOC: lesson_to_url(lesson)}


def too_long(link: str) -> bool:
    """Whether a link is too long to share (chats and e-mails cut long ones): the
    document goes as a file instead."""
    return len(link) > LINK_CHARS


def download_lesson(lesson: Lesson, key: str) -> None:
    """The lesson's document, as a file to keep or send."""
    st.download_button(
        _("Download lesson"),
        data=json.dumps(lesson_to_document(lesson), ensure_ascii=False, indent=2),
        file_name=f"{lesson.name}.json",
        mime="application/json",
        on_click="ignore",
        icon=":material/download:",
        key=key,
    )


def tally_name(lesson: Lesson) -> str:
    """What a class is made for: the lesson's name, or for a document its hash, so that
    two different documents never count into the same class."""
    return lesson.name if builtin(lesson) else lesson.document_id


def chosen_lesson() -> Lesson | None:
    """The lesson the address names, or None for the list. A damaged document link
    leaves the list on show, with a warning that says what is wrong."""
    name = st.query_params.get(NAME)
    if name:
        return LESSONS.get(name)
    token = st.query_params.get(DOC)
    if not token:
        return None
    opened: OrderedDict[str, Lesson] = st.session_state.setdefault(OPENED, OrderedDict())
    if token in opened:
        return opened[token]
    try:
        lesson = lesson_from_url(token)
    except SpecError as err:
        if len(err.problems) == 1:
            message = Text("The lesson link could not be opened. The problem:")
        else:
            message = Text("The lesson link could not be opened. The problems:")
        st.session_state[PROBLEMS] = (message, [str(p) for p in err.problems])
        del st.query_params[DOC]
        return None
    opened[token] = lesson
    while len(opened) > KEPT:
        opened.popitem(last=False)
    return lesson


def show_problems() -> None:
    """What was wrong with the last lesson document, one problem a line."""
    found = st.session_state.pop(PROBLEMS, None)
    if found is None:
        return
    message, problems = found
    body = str(message) + "".join(f"\n- {escape_markdown(p)}" for p in problems)
    st.warning(body, icon=":material/link_off:")


def open_file(content: bytes, file_name: str) -> None:
    """A lesson file a visitor brings: played at once, or its problems listed."""
    try:
        lesson = read_lesson(content)
    except SpecError as err:
        name = escape_markdown(file_name)
        if len(err.problems) == 1:
            message = Text("'{name}' is not a lesson that can be played. The problem:", name=name)
        else:
            message = Text("'{name}' is not a lesson that can be played. The problems:", name=name)
        st.session_state[PROBLEMS] = (message, [str(p) for p in err.problems])
        return
    token = lesson_to_url(lesson)
    opened: OrderedDict[str, Lesson] = st.session_state.setdefault(OPENED, OrderedDict())
    opened[token] = lesson
    st.query_params[DOC] = token


def lesson_file_uploader() -> None:
    uploader(
        _("Open a lesson file"),
        "lesson_file",
        ["json"],
        MAX_BYTES,
        open_file,
        help=_(
            "A lesson document (JSON), made with **Make a lesson** on the Compare page or "
            "written by hand (see docs/lessons.md)."
        ),
    )
