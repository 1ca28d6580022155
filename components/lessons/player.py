"""A lesson played: the prediction first, then the runs (shared by the class), the
walk-through beside the app's views, and the verdict. The app's own lessons and lesson
documents play alike; a document's texts are shown as they are written
(lesson_source.said)."""

from __future__ import annotations

import streamlit as st

from components.lessons import class_tally
from components.lessons.classroom import classroom_mode
from components.lessons.lesson_runs import lesson_runners, shared_runs
from components.lessons.lesson_source import as_written, builtin, said
from components.lessons.lesson_views import show_view
from components.shell.state import escape_markdown, set_experiment
from designer.i18n import _
from designer.inside.probes import listed
from designer.lessons import Lesson, Step, runs_from_earlier
from designer.lessons.check import results
from designer.serving.tallies import Class

POLL_SECONDS = 3.0  # a class polls the same runs: each poll is a page run on the server


def _reused(lesson: Lesson) -> str | None:
    """Which of the lesson's runs an earlier lesson trains too, in a sentence."""
    reused = runs_from_earlier(lesson) if builtin(lesson) else {}
    if not reused:
        return None
    sources = {other.number: other for other in reused.values()}
    if len(sources) > 1:
        return _(
            "Some of these runs come from earlier lessons: they are ready if your class took them."
        )
    (other,) = sources.values()
    words = {"number": other.number, "title": _(other.title)}
    if len(reused) == len(lesson.runs):
        message = _(
            "These runs come from lesson {number} ({title}): the same experiments train once "
            "for everyone, so they are ready if your class took it."
        )
        return message.format(**words)
    message = _(
        "Run {labels} comes from lesson {number} ({title}): the same experiment trains once "
        "for everyone, so it is ready if your class took it."
    )
    return message.format(labels=listed(sorted(reused)), **words)


def _index(param: str, count: int) -> int | None:
    """An index kept in the address: only "0" .. str(count - 1) mean one (the address
    is the visitor's own text)."""
    return {str(i): i for i in range(count)}.get(st.query_params.get(param, ""))


def _guess(lesson: Lesson) -> int | None:
    """The class's prediction, kept in the address (a reload keeps it)."""
    return _index("guess", len(lesson.prediction.choices))


def prediction(lesson: Lesson, started: bool, found: Class | None) -> int | None:
    question = lesson.prediction
    st.markdown(_("**Predict first.** {question}").format(question=said(lesson, question.question)))
    guess = _guess(lesson)
    choices = [said(lesson, c) for c in question.choices]  # translated here, in the page's thread
    if started and guess is not None:  # one line, so that the result fits the screen
        st.markdown(_("**Your prediction:** {choice}").format(choice=choices[guess]))
        return guess
    choice = st.radio(
        _("Your prediction"),
        range(len(question.choices)),
        index=guess,
        format_func=choices.__getitem__,
        key=f"guess_{lesson.name}",
        label_visibility="collapsed",
        disabled=started and guess is not None,
    )
    if found is not None:
        class_tally.counted_note()
    if choice is not None and choice != guess:
        st.query_params["guess"] = str(choice)
        if found is not None:
            class_tally.vote(found, choice)
        if started:  # the runs are there: show the result, the prediction in one line
            st.rerun()
    return choice


def verdict(
    lesson: Lesson, guess: int | None, runners: dict, found: Class | None, teacher: bool
) -> None:
    done = results(lesson, runners)
    if done is None:
        st.caption(_("The verdict appears here when the runs have ended."))
        return
    outcome = lesson.judge(done)
    text = as_written(lesson, str(outcome.text))
    if outcome.passed:
        st.success(text, icon=":material/check_circle:")
    else:
        st.warning(text, icon=":material/help:")
    right = said(lesson, lesson.prediction.choices[lesson.prediction.answer])
    if not outcome.passed:
        message = _("**The classic result is: {answer}; these runs did not show it clearly.**")
    elif teacher:
        message = _("**The result: {answer}.**")
    elif guess == lesson.prediction.answer:
        message = _("**You predicted right: {answer}.**")
    else:
        message = _("**The result says otherwise: {answer}.**")
    st.markdown(message.format(answer=right))
    if found is not None:
        class_tally.with_verdict(lesson, found)
    with st.expander(_("Why"), expanded=not classroom_mode()):  # folded on a projector
        st.markdown(said(lesson, lesson.prediction.why))
        if classroom_mode():  # the heading leaves it out on a projector
            _read_more(lesson)


def player(lesson: Lesson, found: Class | None, teacher: bool) -> None:
    """The lesson; with a class (`found`), the students' predictions are counted and
    the teacher's screen asks the question instead of answering it."""
    runners = lesson_runners(lesson)
    live = runners is not None and any(r.alive for r in runners.values())
    classroom = classroom_mode()
    # on a projector, once the runs are there, the first screen is the result: where to
    # read more moves under "Why"
    _heading(lesson, read_more=not (classroom and runners is not None))
    if teacher:
        class_tally.question_for_class(lesson, started=runners is not None)
        guess = None
        if runners is None or live:
            class_tally.live_count(lesson, found)
    else:
        guess = prediction(lesson, started=runners is not None, found=found)
    if runners is None:
        _before_the_runs(lesson, guess, teacher)
        return
    if guess is None and not teacher:  # started already: the prediction still comes first
        _prediction_first(live)
        return

    @st.fragment(run_every=POLL_SECONDS if live else None)
    def walk_through() -> None:
        now = lesson_runners(lesson)
        if now is None or any(r.alive for r in now.values()) != live:
            st.rerun()  # the runs ended (or began): redraw the page without polling
        # the verdict beside the picture that proves it: both in the first screen
        text_col, view_col = st.columns([2, 3], gap="large")
        with text_col:
            step = _lesson_text(lesson, guess, now, found, teacher, classroom)
        with view_col:
            show_view(lesson, step, now)

    walk_through()


def _before_the_runs(lesson: Lesson, guess: int | None, teacher: bool) -> None:
    """Before the lesson's runs: the last try's errors, what the runs are, and the button
    that trains them (a student's prediction first)."""
    for run in lesson.runs:
        error = shared_runs().error(run.experiment())
        if error:
            st.error(
                _("The last try of run {label} ended: {error}. Train to try again.").format(
                    label=run.label, error=escape_markdown(str(error))
                ),
                icon=":material/error:",
            )
    st.markdown(_runs_words(lesson))
    if reused := _reused(lesson):
        st.caption(reused)
    if st.button(
        _("Train both") if len(lesson.runs) == 2 else _("Train"),
        type="primary",
        icon=":material/play_arrow:",
        disabled=guess is None and not teacher,
        help=None if guess is not None or teacher else _("Make a prediction first."),
        key="lesson_train",
    ):
        lesson_runners(lesson, start=True)
        st.rerun()


def _prediction_first(live: bool) -> None:
    """The runs have begun, but a student sees them only after predicting."""
    if live:
        message = _(
            "These runs are training (your class shares them). Make your prediction to "
            "see what they show."
        )
    else:
        message = _(
            "These runs have trained (your class shares them). Make your prediction to "
            "see what they show."
        )
    st.info(message, icon=":material/how_to_vote:")


def _lesson_text(
    lesson: Lesson,
    guess: int | None,
    now: dict,
    found: Class | None,
    teacher: bool,
    classroom: bool,
) -> Step:
    """The verdict, the lesson's steps (the chosen one returned, kept in the link), what to
    try next, and outside classroom mode a door to each run in Design."""
    verdict(lesson, guess, now, found, teacher)
    titles = [f"{i + 1}. {said(lesson, step.title)}" for i, step in enumerate(lesson.steps)]
    chosen = st.radio(_("Lesson steps"), titles, index=_step(lesson), key=f"step_{lesson.name}")
    index = titles.index(chosen)
    if str(index) != st.query_params.get("step"):
        st.query_params["step"] = str(index)
    step = lesson.steps[index]
    st.markdown(said(lesson, step.text))
    if lesson.try_next and not any(r.alive for r in now.values()):
        st.markdown(_("**Try next.** {text}").format(text=said(lesson, lesson.try_next)))
    if not classroom:
        for run in lesson.runs:
            if st.button(
                _("Open {label} in Design").format(label=run.label),
                key=f"design_{run.label}",
                icon=":material/stacks:",
                help=_("{title}: change it and train it yourself.").format(
                    title=said(lesson, run.title)
                ),
            ):
                set_experiment(run.experiment())
                st.switch_page("app_pages/design.py")
    return step


def _runs_words(lesson: Lesson) -> str:
    """'The runs: **A**: tanh RNN, 64 units and **B**: LSTM, 64 units.'"""
    runs = lesson.runs
    titles = [said(lesson, run.title) for run in runs]
    if len(runs) == 1:
        return _("The runs: **{label}**: {title}.").format(label=runs[0].label, title=titles[0])
    if len(runs) == 2:
        return _("The runs: **{a}**: {a_title} and **{b}**: {b_title}.").format(
            a=runs[0].label, a_title=titles[0], b=runs[1].label, b_title=titles[1]
        )
    named = "; ".join(f"**{run.label}**: {title}" for run, title in zip(runs, titles, strict=True))
    return _("The runs: {runs}.").format(runs=named)


def _heading(lesson: Lesson, read_more: bool = True) -> None:
    """'Lesson 1: Why gates' (a document's lesson has no number), what the class will
    see and after which paper, and (with `read_more`) where to read more."""
    title = said(lesson, lesson.title)
    if builtin(lesson) and lesson.number:
        st.title(_("Lesson {number}: {title}").format(number=lesson.number, title=title))
    else:
        st.title(_("Lesson: {title}").format(title=title))
    summary, source = said(lesson, lesson.summary), said(lesson, lesson.source)
    if source:
        st.caption(_("{summary} After {source}.").format(summary=summary, source=source).strip())
    elif summary:
        st.caption(summary)
    if read_more:
        _read_more(lesson)


def _read_more(lesson: Lesson) -> None:
    if lesson.read_more:
        st.caption(_("Read more: {text}").format(text=said(lesson, lesson.read_more)))


def _step(lesson: Lesson) -> int:
    return _index("step", len(lesson.steps)) or 0
