"""Lessons: the classic results of recurrent networks, one click each, and lessons
that teachers write (a lesson document, in a link or a file). The class predicts,
trains (once for the whole class: designer.serving.shared_runs), and walks through what
appeared, step by step, with the app's own views beside the text
(components/lessons/player.py)."""

import streamlit as st

from components.lessons import class_tally, exercise_view
from components.lessons.classroom import classroom_mode, lesson_link
from components.lessons.lesson_source import (
    chosen_lesson,
    download_lesson,
    lesson_file_uploader,
    show_problems,
    too_long,
)
from components.lessons.player import player
from components.shell import language
from designer.i18n import _
from designer.inside.probes import listed
from designer.lessons import LESSONS, Lesson


def lesson_list() -> None:
    st.title(_("Lessons"))
    st.caption(
        _(
            "The classic results of recurrent networks. Each lesson asks for a prediction, "
            "trains the networks that show the result, and walks through what happened. A "
            "class opening the same lesson trains it once: everyone watches the same runs. "
            "Take them in order: each says which lessons it builds on."
        )
    )
    show_problems()
    lesson_file_uploader()
    for lesson in LESSONS.values():
        with st.container(border=True):
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(f"**{lesson.number}. {_(lesson.title)}**  \n{_(lesson.summary)}")
            c1.caption(f"{_(lesson.source)} · {_needs(lesson)}")
            if c2.button(_("Open"), key=f"open_{lesson.name}", icon=":material/school:"):
                st.query_params.from_dict(
                    {"lesson": lesson.name, **_classroom_param(), **_language_param()}
                )
                st.rerun()


def _needs(lesson: Lesson) -> str:
    """'Start here.' or 'Builds on lessons 1 and 2.'"""
    if not lesson.needs:
        return _("Start here.")
    if len(lesson.needs) == 1:
        return _("Builds on lesson {number}.").format(number=lesson.needs[0])
    numbers = listed([str(n) for n in lesson.needs[:-1]])
    return _("Builds on lessons {numbers} and {last}.").format(
        numbers=numbers, last=lesson.needs[-1]
    )


def _classroom_param() -> dict[str, str]:
    return {"classroom": "1"} if classroom_mode() else {}


def _language_param() -> dict[str, str]:
    """The link's language, kept when the rest of the address changes."""
    value = st.query_params.get(language.PARAM)
    return {language.PARAM: value} if value else {}


chosen = chosen_lesson()
if exercise := exercise_view.chosen():
    exercise_view.show(exercise, keep=_language_param())
elif chosen is None:
    lesson_list()
    exercise_view.exercise_list(keep={**_classroom_param(), **_language_param()})
else:
    back = not classroom_mode() and st.button(
        _("All lessons"), icon=":material/arrow_back:", key="lesson_back"
    )
    if back:
        st.query_params.from_dict(_language_param())  # everything else goes
        st.rerun()
    found, teacher = class_tally.class_of(chosen)
    player(chosen, found, teacher)
    if not classroom_mode():
        with st.expander(_("Share this lesson"), expanded=teacher):
            st.caption(_("Opens this lesson; the classroom link hides everything else:"))
            if too_long(lesson_link(chosen)):
                st.caption(_("Download it: the link would be too long."))
                download_lesson(chosen, key="lesson_download")
            else:
                st.code(lesson_link(chosen), language=None)
                st.code(lesson_link(chosen, classroom=True), language=None)
            class_tally.make_class_link(chosen, found, teacher)
