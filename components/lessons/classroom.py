"""Classroom mode (`classroom=1` in a lesson's link): for a projector and a class.
Only the lessons are reachable: no navigation, no sidebar, no design to edit (the
lessons' documents are fixed), and large type."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from components.lessons.lesson_source import address
from components.shell import language
from designer import i18n
from designer.lessons import Lesson

PARAM = "classroom"
KEY = "classroom_mode"

# Larger type for a projector, and no sidebar or toolbar (nothing in them applies).
STYLE = """
<style>
html { font-size: 20px; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stToolbar"], [data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
.stMarkdown p, .stMarkdown li, [data-testid="stCaptionContainer"],
[data-testid="stRadio"] label p, .stButton button p { font-size: 1.15rem; }
h1 { font-size: 2.4rem !important; }
</style>
"""


def classroom_mode() -> bool:
    """Whether this session shows a lesson to a class. Once on, it stays on for the
    session: a student cannot leave it by editing the address's other parts."""
    if st.query_params.get(PARAM) == "1":
        st.session_state[KEY] = True
    return bool(st.session_state.get(KEY))


def apply_style() -> None:
    st.html(STYLE)


def lesson_link(lesson: Lesson, classroom: bool = False, **extra: str) -> str:
    """The address that opens a lesson (in classroom mode, with `classroom`), in the
    language of whoever shares it when that is not English (a teacher shares a Chinese
    lesson; the classroom page has no language switch). `extra` goes in as it is."""
    return lessons_link({**address(lesson), **extra}, classroom)


def lessons_link(params: dict[str, str], classroom: bool = False) -> str:
    """The Lessons page's address with `params` (a lesson, an exercise), in classroom
    mode with `classroom`, in the sharer's language as lesson_link says."""
    params = {**params, **({PARAM: "1"} if classroom else {})}
    lang = i18n.language()
    if lang != i18n.DEFAULT:
        params[language.PARAM] = lang
    page = st.context.url or ""
    parts = urlsplit(page)
    return urlunsplit((parts.scheme, parts.netloc, "/lessons", urlencode(params), ""))
