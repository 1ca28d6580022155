"""The class's predictions on a lesson (designer.serving.tallies): the teacher makes a class
link, every student's screen opened from it counts its prediction, and the teacher's
screen shows how many have predicted, live, and what they predicted beside the
verdict. A student sees the others' predictions only after making one."""

from __future__ import annotations

import streamlit as st

from components.lessons.classroom import lesson_link
from components.lessons.lesson_runs import shared_runs
from components.lessons.lesson_source import said, tally_name
from designer.i18n import _
from designer.lessons import Lesson
from designer.serving.shared_runs import run_key
from designer.serving.tallies import ID, Class, Tallies, new_voter

CLASS = "class"  # the link's class id
TEACHER = "teacher"  # the teacher's key, in the teacher's own link only
VOTER = "voter"  # this screen's anonymous id: a reload keeps its one vote
POLL_SECONDS = 3.0


def _tallies() -> Tallies:
    return Tallies(shared_runs().root)  # beside the shared runs, removed with them


def _key(lesson: Lesson) -> str:
    """Where a lesson's classes are kept: with its first shared run."""
    return run_key(lesson.runs[0].experiment())


def class_of(lesson: Lesson) -> tuple[Class | None, bool]:
    """The class this screen's link names, and whether it is its teacher's screen."""
    class_id = st.query_params.get(CLASS)
    if not class_id:
        return None, False
    found = _tallies().find(_key(lesson), class_id, tally_name(lesson))
    if found is None:
        st.warning(
            _(
                "This class link is not known to this server (it may have expired with its "
                "runs): predictions made here are not counted."
            ),
            icon=":material/link_off:",
        )
        return None, False
    teacher = _tallies().is_teacher(found, st.query_params.get(TEACHER, ""))
    return found, teacher


def vote(found: Class, choice: int) -> None:
    """Count this screen's prediction (a changed mind replaces its vote)."""
    voter = st.query_params.get(VOTER, "")
    if not ID.fullmatch(voter):
        voter = new_voter()
        st.query_params[VOTER] = voter
    if not _tallies().vote(found, voter, choice):
        full = _("This class is full: your prediction was not counted.")
        st.warning(full, icon=":material/block:")


def counted_note() -> None:
    st.caption(_("Your prediction is counted for the class, without your name."))


def question_for_class(lesson: Lesson, started: bool) -> None:
    """The teacher's screen asks the question; the students answer on theirs. Once
    the runs are there, the question alone, so that the result fits the screen."""
    question = lesson.prediction
    st.markdown(_("**Predict first.** {question}").format(question=said(lesson, question.question)))
    if not started:
        choices = (said(lesson, choice) for choice in question.choices)
        st.markdown("\n".join(f"{i + 1}. {choice}" for i, choice in enumerate(choices)))


def live_count(lesson: Lesson, found: Class) -> None:
    """How many have predicted, redrawn every few seconds; what they predicted only
    when the teacher asks (the projector is in front of those who have not)."""

    @st.fragment(run_every=POLL_SECONDS)
    def count() -> None:
        counts = _tallies().count(found, len(lesson.prediction.choices))
        total = sum(counts)
        if total == 0:
            st.info(
                _("No predictions yet: each student predicts on the screen the class link opens."),
                icon=":material/how_to_vote:",
            )
        else:
            st.info(
                _("Predictions so far: {total}.").format(total=total), icon=":material/how_to_vote:"
            )
        if total and st.toggle(_("Show what the class predicted"), key="tally_show"):
            bars(lesson, counts)

    count()


def bars(lesson: Lesson, counts: list[int], answer: int | None = None) -> None:
    """One bar per answer: '19 of 27 predicted: the LSTM' (the right one marked)."""
    total = sum(counts)
    for i, (choice, n) in enumerate(zip(lesson.prediction.choices, counts, strict=True)):
        words = _("{count} of {total} predicted: {choice}").format(
            count=n, total=total, choice=said(lesson, choice)
        )
        if i == answer:
            words = f"✓ {words}"
        st.progress(n / total if total else 0.0, text=words)


def with_verdict(lesson: Lesson, found: Class) -> None:
    """The class's predictions beside the verdict."""
    counts = _tallies().count(found, len(lesson.prediction.choices))
    if not sum(counts):
        st.caption(_("Nobody in the class predicted."))
        return
    st.markdown(_("**The class predicted:**"))
    bars(lesson, counts, answer=lesson.prediction.answer)


def make_class_link(lesson: Lesson, found: Class | None, teacher: bool) -> None:
    """In the share panel: a class of its own for this lesson, with two links."""
    if found is None or not teacher:
        st.caption(
            _(
                "A class link also counts the class's predictions (no names, one per "
                "screen): you see the count live and, with the verdict, what they predicted."
            )
        )
        if st.button(_("Make a class link"), key="tally_make", icon=":material/how_to_vote:"):
            made, secret = _tallies().new_class(_key(lesson), tally_name(lesson))
            st.query_params[CLASS] = made.id
            st.query_params[TEACHER] = secret
            st.rerun()
        return
    st.caption(_("For the students (each prediction is counted):"))
    st.code(lesson_link(lesson, classroom=True, **{CLASS: found.id}), language=None)
    st.caption(
        _(
            "For your own screen (the projector): it shows the count. Keep it to "
            "yourself: whoever has it sees the class's predictions."
        )
    )
    secret = st.query_params.get(TEACHER, "")
    teacher_link = lesson_link(lesson, classroom=True, **{CLASS: found.id, TEACHER: secret})
    st.code(teacher_link, language=None)
