"""Lessons: the classic results of recurrent networks, one click each. The class
predicts, trains (once for the whole class: designer.shared_runs), and walks through
what appeared, step by step, with the app's own views beside the text."""

import streamlit as st

from components.classroom import classroom_mode, lesson_link
from components.lesson_runs import lesson_runners, shared_runs
from components.lesson_views import show_view
from components.state import escape_markdown, set_experiment
from designer.lessons import LESSONS, Lesson
from designer.lessons.check import results

POLL_SECONDS = 3.0  # a class polls the same runs: each poll is a page run on the server


def lesson_list() -> None:
    st.title("Lessons")
    st.caption(
        "The classic results of recurrent networks. Each lesson asks for a prediction, "
        "trains the networks that show the result, and walks through what happened. A "
        "class opening the same lesson trains it once: everyone watches the same runs."
    )
    for lesson in LESSONS.values():
        with st.container(border=True):
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.markdown(f"**{lesson.number}. {lesson.title}**  \n{lesson.summary}")
            c1.caption(lesson.source)
            if c2.button("Open", key=f"open_{lesson.name}", icon=":material/school:"):
                st.query_params.from_dict({"lesson": lesson.name, **_classroom_param()})
                st.rerun()


def _classroom_param() -> dict[str, str]:
    return {"classroom": "1"} if classroom_mode() else {}


def _index(param: str, count: int) -> int | None:
    """An index kept in the address: only "0" .. str(count - 1) mean one (the address
    is the visitor's own text)."""
    return {str(i): i for i in range(count)}.get(st.query_params.get(param, ""))


def _guess(lesson: Lesson) -> int | None:
    """The class's prediction, kept in the address (a reload keeps it)."""
    return _index("guess", len(lesson.prediction.choices))


def prediction(lesson: Lesson, started: bool) -> int | None:
    question = lesson.prediction
    st.markdown(f"**Predict first.** {question.question}")
    guess = _guess(lesson)
    choice = st.radio(
        "Your prediction",
        range(len(question.choices)),
        index=guess,
        format_func=lambda i: question.choices[i],
        key=f"guess_{lesson.name}",
        label_visibility="collapsed",
        disabled=started and guess is not None,
    )
    if choice is not None and choice != guess:
        st.query_params["guess"] = str(choice)
    return choice


def verdict(lesson: Lesson, guess: int | None, runners: dict) -> None:
    done = results(lesson, runners)
    if done is None:
        st.caption("The verdict appears here when the runs have ended.")
        return
    outcome = lesson.judge(done)
    if outcome.passed:
        st.success(outcome.text, icon=":material/check_circle:")
    else:
        st.warning(outcome.text, icon=":material/help:")
    right = lesson.prediction.choices[lesson.prediction.answer]
    if not outcome.passed:
        said = f"The classic result is: {right}; these runs did not show it clearly"
    elif guess == lesson.prediction.answer:
        said = f"You predicted right: {right}"
    else:
        said = f"The result says otherwise: {right}"
    st.markdown(f"**{said}.** {lesson.prediction.why}")


def player(lesson: Lesson) -> None:
    runners = lesson_runners(lesson)
    live = runners is not None and any(r.alive for r in runners.values())
    classroom = classroom_mode()
    st.title(f"Lesson {lesson.number}: {lesson.title}")
    st.caption(f"{lesson.summary} After {lesson.source}.")
    guess = prediction(lesson, started=runners is not None)
    if runners is None:
        for run in lesson.runs:
            error = shared_runs().error(run.experiment())
            if error:
                st.error(
                    f"The last try of run {run.label} ended: {escape_markdown(error)}. "
                    "Train to try again.",
                    icon=":material/error:",
                )
        titles = " and ".join(f"**{run.label}**: {run.title}" for run in lesson.runs)
        st.markdown(f"The runs: {titles}.")
        if st.button(
            "Train both" if len(lesson.runs) == 2 else "Train",
            type="primary",
            icon=":material/play_arrow:",
            disabled=guess is None,
            help=None if guess is not None else "Make a prediction first.",
            key="lesson_train",
        ):
            lesson_runners(lesson, start=True)
            st.rerun()
        return
    if guess is None:  # the class started it already: the prediction still comes first
        started = "are training" if live else "have trained"
        st.info(
            f"These runs {started} (your class shares them). Make your prediction to see "
            "what they show.",
            icon=":material/how_to_vote:",
        )
        return

    @st.fragment(run_every=POLL_SECONDS if live else None)
    def walk_through() -> None:
        now = lesson_runners(lesson)
        if now is None or any(r.alive for r in now.values()) != live:
            st.rerun()  # the runs ended (or began): redraw the page without polling
        verdict(lesson, guess, now)
        text_col, view_col = st.columns([1, 2], gap="large")
        with text_col:
            titles = [f"{i + 1}. {step.title}" for i, step in enumerate(lesson.steps)]
            chosen = st.radio("Steps", titles, index=_step(lesson), key=f"step_{lesson.name}")
            index = titles.index(chosen)
            if str(index) != st.query_params.get("step"):
                st.query_params["step"] = str(index)
            step = lesson.steps[index]
            st.markdown(step.text)
            if not any(r.alive for r in now.values()):
                st.markdown(f"**Try next.** {lesson.try_next}")
            if not classroom:
                for run in lesson.runs:
                    if st.button(
                        f"Open {run.label} in Design",
                        key=f"design_{run.label}",
                        icon=":material/stacks:",
                        help=f"{run.title}: change it and train it yourself.",
                    ):
                        set_experiment(run.experiment())
                        st.switch_page("app_pages/design.py")
        with view_col:
            show_view(lesson, step, now)

    walk_through()


def _step(lesson: Lesson) -> int:
    return _index("step", len(lesson.steps)) or 0


chosen = LESSONS.get(st.query_params.get("lesson", ""))
if chosen is None:
    lesson_list()
else:
    back = not classroom_mode() and st.button(
        "All lessons", icon=":material/arrow_back:", key="lesson_back"
    )
    if back:
        st.query_params.clear()
        st.rerun()
    player(chosen)
    if not classroom_mode():
        with st.expander("Share this lesson"):
            st.caption("Opens this lesson; the classroom link hides everything else:")
            st.code(lesson_link(chosen.name), language=None)
            st.code(lesson_link(chosen.name, classroom=True), language=None)
