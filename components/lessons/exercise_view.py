"""Exercises on the Lessons page (designer.lessons.exercises): the student computes one
thing by hand, types the answer and the app checks it. The link keeps the exercise and
its seed (`/lessons?exercise=rnn-step&seed=0`), so a reload or a shared link shows the
same numbers; with `classroom=1` the exercise is shown alone, as a lesson is."""

from __future__ import annotations

import json
import re

import streamlit as st

from components.lessons.classroom import classroom_mode, lessons_link
from components.shell.state import set_experiment
from designer import i18n
from designer.document.spec import Experiment
from designer.i18n import _
from designer.lessons.exercises import EXERCISES, MAX_ANSWER, MAX_SEED, Exercise, Feedback, make
from designer.lessons.exercises import check as check_answer

PARAM, SEED = "exercise", "seed"


def chosen() -> Exercise | None:
    """The exercise the address names, with its seed (a seed that is not a whole number
    from 0 to MAX_SEED is the visitor's own text: 0 instead), or None."""
    name = st.query_params.get(PARAM, "")
    if name not in EXERCISES:
        return None
    text = st.query_params.get(SEED, "")
    seed = int(text) if re.fullmatch(r"[0-9]{1,6}", text) else 0
    return make(name, min(seed, MAX_SEED))


def exercise_list(keep: dict[str, str]) -> None:
    """The exercises under the lesson list: title, one line, and Open (`keep`: the
    address's parameters an opened exercise keeps, such as the language)."""
    st.header(_("Exercises"))
    st.caption(
        _(
            "Compute one thing by hand, type your answer, and the app checks it. Each exercise "
            "draws its numbers from a seed: New numbers draws others."
        )
    )
    for kind in EXERCISES.values():
        text, door = st.container(border=True).columns([5, 1], vertical_alignment="center")
        text.markdown(f"**{_(kind.title)}**  \n{_(kind.summary)}")
        door.button(
            _("Open"),
            key=f"exercise_{kind.name}",
            icon=":material/calculate:",
            on_click=st.query_params.from_dict,
            args=({PARAM: kind.name, SEED: "0", **keep},),
        )


def show(exercise: Exercise, keep: dict[str, str]) -> None:
    """One exercise: the task, its numbers, the answer field and what it says, the worked
    solution once answered, New numbers, read more; outside classroom mode a way back to
    the list (keeping `keep`) and the links to share."""
    classroom = classroom_mode()
    if not classroom and st.button(
        _("All lessons"), icon=":material/arrow_back:", key="exercise_back"
    ):
        st.query_params.from_dict(keep)
        st.rerun()
    st.title(_(exercise.title))
    st.caption(_(exercise.summary))
    st.markdown(str(exercise.task))
    if exercise.experiment is not None:
        st.code(json.dumps(exercise.experiment, indent=2), language="json")
    if exercise.shown:
        st.latex(r",\qquad ".join(shown.latex() for shown in exercise.shown))
    feedback = _answer(exercise)
    if feedback is not None:
        _said(feedback)
        if feedback.right is not None:
            _solution(exercise, classroom)
    if st.button(_("New numbers"), icon=":material/casino:", key="exercise_new"):
        st.query_params[SEED] = str((exercise.seed + 1) % (MAX_SEED + 1))
        st.rerun()
    section = _(exercise.read_more.section)
    url = exercise.read_more.url(i18n.language())
    st.markdown(
        _("**Read more**: *Dive into Deep Learning*, the section “{section}”: {url}").format(
            section=section, url=url
        )
    )
    if not classroom:
        with st.expander(_("Share this exercise")):
            st.caption(
                _("Opens this exercise with these numbers; the classroom link shows it alone:")
            )
            params = {PARAM: exercise.name, SEED: str(exercise.seed)}
            st.code(lessons_link(params), language=None)
            st.code(lessons_link(params, classroom=True), language=None)


def _answer(exercise: Exercise) -> Feedback | None:
    """The answer field and Check (Enter checks too: the field is in a form); what the
    last answer checked says, kept for this exercise and seed across page runs."""
    key = f"{exercise.name}_{exercise.seed}"
    with st.form(f"exercise_form_{key}", border=False):
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        text = c1.text_input(
            _("Your answer"),
            placeholder=exercise.example,
            max_chars=MAX_ANSWER,
            key=f"answer_{key}",
        )
        if c2.form_submit_button(_("Check"), type="primary", key="exercise_check"):
            st.session_state[f"checked_{key}"] = text
    answered = st.session_state.get(f"checked_{key}")
    return None if answered is None else check_answer(exercise, answered)


def _said(feedback: Feedback) -> None:
    text = "  \n".join(str(line) for line in feedback.lines)
    if feedback.right:
        st.success(text, icon=":material/check_circle:")
    elif feedback.right is None:
        st.warning(text, icon=":material/edit:")
    else:
        st.error(text, icon=":material/close:")


def _solution(exercise: Exercise, classroom: bool) -> None:
    with st.expander(_("Worked solution"), expanded=True):
        for number, step in enumerate(exercise.solution, start=1):
            st.markdown(f"{number}. {step}")
        st.markdown(
            _("**The answer**: {answer}, within ± {tolerance}.").format(
                answer=f"${exercise.answer_latex()}$", tolerance=exercise.tolerance
            )
            if exercise.tolerance
            else _("**The answer**: {answer}, exactly.").format(
                answer=f"${exercise.answer_latex()}$"
            )
        )
        if (
            exercise.experiment is not None
            and not classroom
            and st.button(
                _("Open this experiment in Design"),
                icon=":material/stacks:",
                key="exercise_design",
                help=_("Its summary counts the parameters of each layer."),
            )
        ):
            set_experiment(Experiment.from_dict(exercise.experiment))
            st.switch_page("app_pages/design.py")
