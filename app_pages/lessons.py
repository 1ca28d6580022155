"""Lessons: the classic results of recurrent networks, one click each. The class
predicts, trains (once for the whole class: designer.serving.shared_runs), and walks through
what appeared, step by step, with the app's own views beside the text."""

import streamlit as st

from components.lessons import class_tally, exercise_view
from components.lessons.classroom import classroom_mode, lesson_link
from components.lessons.lesson_runs import lesson_runners, shared_runs
from components.lessons.lesson_views import show_view
from components.shell import language
from components.shell.state import escape_markdown, set_experiment
from designer.i18n import _
from designer.inside.probes import listed
from designer.lessons import LESSONS, Lesson, Step, runs_from_earlier
from designer.lessons.check import results
from designer.serving.tallies import Class

POLL_SECONDS = 3.0  # a class polls the same runs: each poll is a page run on the server


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


def _reused(lesson: Lesson) -> str | None:
    """Which of the lesson's runs an earlier lesson trains too, in a sentence."""
    reused = runs_from_earlier(lesson)
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
        said = _(
            "These runs come from lesson {number} ({title}): the same experiments train once "
            "for everyone, so they are ready if your class took it."
        )
        return said.format(**words)
    said = _(
        "Run {labels} comes from lesson {number} ({title}): the same experiment trains once "
        "for everyone, so it is ready if your class took it."
    )
    return said.format(labels=listed(sorted(reused)), **words)


def _classroom_param() -> dict[str, str]:
    return {"classroom": "1"} if classroom_mode() else {}


def _language_param() -> dict[str, str]:
    """The link's language, kept when the rest of the address changes."""
    value = st.query_params.get(language.PARAM)
    return {language.PARAM: value} if value else {}


def _index(param: str, count: int) -> int | None:
    """An index kept in the address: only "0" .. str(count - 1) mean one (the address
    is the visitor's own text)."""
    return {str(i): i for i in range(count)}.get(st.query_params.get(param, ""))


def _guess(lesson: Lesson) -> int | None:
    """The class's prediction, kept in the address (a reload keeps it)."""
    return _index("guess", len(lesson.prediction.choices))


def prediction(lesson: Lesson, started: bool, found: Class | None) -> int | None:
    question = lesson.prediction
    st.markdown(_("**Predict first.** {question}").format(question=_(question.question)))
    guess = _guess(lesson)
    choices = [_(c) for c in question.choices]  # translated here, in the page's thread
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
    if outcome.passed:
        st.success(str(outcome.text), icon=":material/check_circle:")
    else:
        st.warning(str(outcome.text), icon=":material/help:")
    right = _(lesson.prediction.choices[lesson.prediction.answer])
    if not outcome.passed:
        said = _("**The classic result is: {answer}; these runs did not show it clearly.**")
    elif teacher:
        said = _("**The result: {answer}.**")
    elif guess == lesson.prediction.answer:
        said = _("**You predicted right: {answer}.**")
    else:
        said = _("**The result says otherwise: {answer}.**")
    st.markdown(said.format(answer=right))
    if found is not None:
        class_tally.with_verdict(lesson, found)
    with st.expander(_("Why"), expanded=not classroom_mode()):  # folded on a projector
        st.markdown(_(lesson.prediction.why))


def player(lesson: Lesson, found: Class | None, teacher: bool) -> None:
    """The lesson; with a class (`found`), the students' predictions are counted and
    the teacher's screen asks the question instead of answering it."""
    runners = lesson_runners(lesson)
    live = runners is not None and any(r.alive for r in runners.values())
    classroom = classroom_mode()
    st.title(_("Lesson {number}: {title}").format(number=lesson.number, title=_(lesson.title)))
    st.caption(
        _("{summary} After {source}.").format(summary=_(lesson.summary), source=_(lesson.source))
    )
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
    titles = [f"{i + 1}. {_(step.title)}" for i, step in enumerate(lesson.steps)]
    chosen = st.radio(_("Lesson steps"), titles, index=_step(lesson), key=f"step_{lesson.name}")
    index = titles.index(chosen)
    if str(index) != st.query_params.get("step"):
        st.query_params["step"] = str(index)
    step = lesson.steps[index]
    st.markdown(_(step.text))
    if not any(r.alive for r in now.values()):
        st.markdown(_("**Try next.** {text}").format(text=_(lesson.try_next)))
    if not classroom:
        for run in lesson.runs:
            if st.button(
                _("Open {label} in Design").format(label=run.label),
                key=f"design_{run.label}",
                icon=":material/stacks:",
                help=_("{title}: change it and train it yourself.").format(title=_(run.title)),
            ):
                set_experiment(run.experiment())
                st.switch_page("app_pages/design.py")
    return step


def _runs_words(lesson: Lesson) -> str:
    """'The runs: **A**: tanh RNN, 64 units and **B**: LSTM, 64 units.'"""
    runs = lesson.runs
    if len(runs) == 1:
        return _("The runs: **{label}**: {title}.").format(
            label=runs[0].label, title=_(runs[0].title)
        )
    if len(runs) == 2:
        return _("The runs: **{a}**: {a_title} and **{b}**: {b_title}.").format(
            a=runs[0].label, a_title=_(runs[0].title), b=runs[1].label, b_title=_(runs[1].title)
        )
    listed = "; ".join(f"**{run.label}**: {_(run.title)}" for run in runs)
    return _("The runs: {runs}.").format(runs=listed)


def _step(lesson: Lesson) -> int:
    return _index("step", len(lesson.steps)) or 0


chosen = LESSONS.get(st.query_params.get("lesson", ""))
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
            st.code(lesson_link(chosen.name), language=None)
            st.code(lesson_link(chosen.name, classroom=True), language=None)
            class_tally.make_class_link(chosen, found, teacher)
