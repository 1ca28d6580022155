"""Make a lesson from the runs on show: the teacher writes the question, its choices
and which one the result supports, the verdict rule and why, and the walk-through's
steps; the lesson document (designer.lessons.document.new_lesson) is then a file to
download, a link, or opened at once on the Lessons page, where it plays like the
app's own lessons."""

from __future__ import annotations

import json

import streamlit as st

from components.compare.lesson_form import form, kept, languages, text_field
from components.compare.lesson_rule import rule_editor
from components.lessons.classroom import lesson_link
from components.lessons.lesson_source import DOC, too_long
from components.shell import language
from components.shell.state import escape_markdown
from designer import Experiment
from designer.document.spec import SpecError
from designer.i18n import N_, _
from designer.lessons import Lesson
from designer.lessons.base import VIEWS
from designer.lessons.document import (
    DEFAULT_STEPS,
    ONE_RUN_VIEWS,
    lesson_from_document,
    lesson_to_url,
    name_from_title,
    new_lesson,
)

MAX_CHOICES, MAX_STEPS = 6, 12
STEPS = "ml_steps"  # the ids of the steps, in order (a removed step's fields go with it)
VIEW_WORDS = {
    "curves": N_("Curves: every run's loss, metric and gradient norm"),
    "gradients": N_("Gradient through time, every run"),
    "gradient-map": N_("Gradient map of one run (layers × time)"),
    "states": N_("States of one run (units × time)"),
    "graph": N_("Unrolled graph of one run"),
    "sample": N_("Text sampled from one run"),
    "inputs": N_("Which input steps one run uses"),
    "table": N_("Every run's final numbers"),
}


def make_lesson(runs: list[tuple[str, Experiment]]) -> None:
    """The panel, for these runs (title, experiment), lettered A, B, ... in order."""
    with st.expander(_("Make a lesson"), icon=":material/school:"):
        st.caption(
            _(
                "A lesson from these runs, for a class: it asks your question first, trains "
                "the runs (once for the whole class), walks through your steps and says "
                "whether the result appeared, by your rule."
            )
        )
        labels = "ABCD"[: len(runs)]
        try:
            data, missing = _document(runs, list(labels))
            if missing:
                st.info(_("Still to write: {fields}.").format(fields=_("; ").join(missing)))
                return
            lesson = lesson_from_document(data)
        except SpecError as err:
            body = _("This lesson cannot be made yet:") + "".join(
                f"\n- {escape_markdown(str(p))}" for p in err.problems
            )
            st.error(body, icon=":material/error:")
            return
        _outputs(lesson, data)


def _document(runs: list[tuple[str, Experiment]], labels: list[str]) -> tuple[dict, list[str]]:
    """The fields, drawn; the document they make, and the fields still empty."""
    langs = languages()
    title = text_field("ml_title", _("Title"), langs)
    question = text_field("ml_question", _("The question"), langs, area=True)
    count = kept(
        st.number_input,
        "ml_count",
        2,
        _("Number of choices"),
        min_value=2,
        max_value=MAX_CHOICES,
        step=1,
    )
    choices = [
        text_field(f"ml_choice_{i}", _("Choice {n}").format(n=i + 1), langs) for i in range(count)
    ]
    shown = [escape_markdown(_plain(c)) or str(i + 1) for i, c in enumerate(choices)]
    answer = kept(
        st.radio,
        "ml_answer",
        0,
        _("The choice the result supports"),
        range(count),
        format_func=lambda i: shown[i] if i < len(shown) else str(i + 1),
        horizontal=True,
    )
    rule = rule_editor(labels)
    why = text_field("ml_why", _("Why (shown with the verdict)"), langs, area=True)
    steps = _steps(labels, langs)
    named = {
        _("Title"): title,
        _("The question"): question,
        **{_("Choice {n}").format(n=i + 1): c for i, c in enumerate(choices)},
        _("Why (shown with the verdict)"): why,
    }
    missing = [name for name, text in named.items() if not text]
    missing += [_("Step {n}: title").format(n=i + 1) for i, s in enumerate(steps) if not s["title"]]
    if rule is None:
        missing.append(_("The rule"))
    if missing:
        return {}, missing
    name = name_from_title(title.get("en", "") if isinstance(title, dict) else title)
    data = new_lesson(
        runs, question, choices, answer, rule, steps=steps, title=title, name=name, why=why
    )
    return data, []


def _plain(text: str | dict[str, str]) -> str:
    """A text written in one or two languages, as the page's language reads it (the
    first language of a field is the page's)."""
    if isinstance(text, dict):
        return next(iter(text.values()), "")
    return text


def _steps(labels: list[str], langs: list[str]) -> list[dict]:
    """The walk-through's steps: each a title, a text and a view (with a run for a view
    of one run), added and removed here."""
    st.markdown(_("**The walk-through.** What the class reads, step by step, beside a view."))
    values = form()
    ids = values.setdefault(STEPS, list(range(len(DEFAULT_STEPS))))
    steps = []
    for n, step_id in enumerate(ids):
        with st.container(border=True):
            steps.append(_step(n, step_id, labels, langs, removable=len(ids) > 1))
    if len(ids) < MAX_STEPS:
        st.button(_("Add a step"), key="ml_step_add", icon=":material/add:", on_click=_add_step)
    return steps


def _step(n: int, step_id: int, labels: list[str], langs: list[str], removable: bool) -> dict:
    first = DEFAULT_STEPS[step_id] if step_id < len(DEFAULT_STEPS) else {"view": "curves"}
    key = f"ml_step_{step_id}"
    title = text_field(
        f"{key}_title", _("Step {n}: title").format(n=n + 1), langs, first.get("title", "")
    )
    text = text_field(
        f"{key}_text", _("Step {n}: text").format(n=n + 1), langs, first.get("text", ""), area=True
    )
    words = {view: _(VIEW_WORDS[view]) for view in VIEWS}
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    view = kept(c1.selectbox, f"{key}_view", first["view"], _("View"), VIEWS, format_func=words.get)
    step = {"title": title, "text": text, "view": view}
    if view in ONE_RUN_VIEWS:
        step["run"] = kept(c2.selectbox, f"{key}_run", labels[0], _("Run"), labels)
    if removable:
        c3.button(
            _("Remove"),
            key=f"{key}_remove",
            icon=":material/delete:",
            on_click=_remove_step,
            args=(step_id,),
        )
    return step


def _add_step() -> None:
    ids = form()[STEPS]
    ids.append(max(ids, default=-1) + 1)


def _remove_step(step_id: int) -> None:
    form()[STEPS].remove(step_id)


def _outputs(lesson: Lesson, data: dict) -> None:
    """The lesson made: a file, a button that plays it, and its link when one fits."""
    st.success(_("The lesson is ready."), icon=":material/check_circle:")
    c1, c2 = st.columns(2)
    c1.download_button(
        _("Download lesson"),
        data=json.dumps(data, ensure_ascii=False, indent=2),
        file_name=f"{lesson.name}.json",
        mime="application/json",
        on_click="ignore",
        icon=":material/download:",
        key="ml_download",
    )
    token = lesson_to_url(lesson)
    if c2.button(_("Open as a lesson"), key="ml_open", icon=":material/school:", type="primary"):
        query = {DOC: token}
        lang = st.query_params.get(language.PARAM)
        if lang:
            query[language.PARAM] = lang
        st.switch_page("app_pages/lessons.py", query_params=query)
    link = lesson_link(lesson)
    if too_long(link):
        st.caption(_("Download it: the link would be too long."))
    else:
        st.caption(_("The lesson's link (it holds the whole lesson):"))
        st.code(link, language=None)
