"""The exercises on the Lessons page through AppTest, in English and Chinese: each opens
from its link with the numbers of its seed, a right answer (the engine's own) says right
and shows the worked solution, a wrong one says what was off, text that is not an answer
says why, New numbers draws others and keeps the seed in the address, and the classroom
link shows the exercise alone."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from designer import Experiment
from designer.i18n import _, using
from designer.lessons.exercises import EXERCISES, Exercise, make
from tests.helpers import english_left, open_lessons_page, query_param

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
LANGS = ["en", "zh"]
EACH = pytest.mark.parametrize(("name", "lang"), [(n, lang) for n in EXERCISES for lang in LANGS])


def open_exercise(name: str, seed: str = "0", lang: str = "en", **params: str) -> AppTest:
    return open_lessons_page(lang, exercise=name, seed=seed, **params)


def in_language(lang: str, text: object) -> str:
    """`text` (a Text or a message id) as a reader of `lang` sees it."""
    with using(lang):
        return _(text) if isinstance(text, str) else str(text)


def right_answer(exercise: Exercise) -> str:
    """The engine's expected answer, typed as a student would."""
    if exercise.tolerance == 0:
        return str(round(exercise.expected[0]))
    return ", ".join(f"{v:.3f}" for v in exercise.expected)


def answer(at: AppTest, exercise: Exercise, text: str) -> None:
    at.text_input(key=f"answer_{exercise.name}_{exercise.seed}").set_value(text)
    at.button(key="exercise_check").click().run()
    assert not at.exception, at.exception


def no_english_in_chinese(at: AppTest, lang: str) -> None:
    if lang == "zh":
        assert not english_left(at), english_left(at)


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def latex(at: AppTest) -> str:
    return "\n".join(e.value for e in at.latex)


@EACH
def test_each_exercise_opens_from_its_link_with_its_numbers(name, lang):
    exercise = make(name, 0)
    at = open_exercise(name, lang=lang)
    assert [t.value for t in at.title] == [in_language(lang, exercise.title)]
    assert in_language(lang, exercise.task) in markdown(at)
    for quantity in exercise.shown:
        assert quantity.latex() in latex(at)
    assert exercise.read_more.url(lang) in markdown(at)
    assert in_language(lang, exercise.read_more.section) in markdown(at)
    if exercise.experiment is not None:
        assert any('"multivariate"' in c.value for c in at.code)
    assert not at.expander or [e.label for e in at.expander] == [
        in_language(lang, "Share this exercise")
    ]
    no_english_in_chinese(at, lang)


@EACH
def test_a_right_answer_says_right_and_shows_the_worked_solution(name, lang):
    exercise = make(name, 0)
    at = open_exercise(name, lang=lang)
    answer(at, exercise, right_answer(exercise))
    (said,) = at.success
    assert said.value.startswith("Right:" if lang == "en" else "正确：")
    assert in_language(lang, "Worked solution") in [e.label for e in at.expander]
    shown = markdown(at)
    for step in exercise.solution:
        assert in_language(lang, step) in shown
    assert exercise.answer_latex() in shown
    no_english_in_chinese(at, lang)


@EACH
def test_a_wrong_answer_says_what_was_off_and_shows_the_solution(name, lang):
    exercise = make(name, 0)
    at = open_exercise(name, lang=lang)
    wrong = ", ".join(str(v + 7) for v in exercise.expected)
    if exercise.tolerance == 0:
        wrong = str(round(exercise.expected[0]) + 7)
    answer(at, exercise, wrong)
    (said,) = at.error
    assert ("you have" if lang == "en" else "你填的是") in said.value
    assert ("off by 7" if lang == "en" else "相差 7") in said.value
    assert in_language(lang, "Worked solution") in [e.label for e in at.expander]
    no_english_in_chinese(at, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_text_that_is_not_an_answer_gets_its_message_and_no_solution(lang):
    exercise = make("lstm-cell", 0)
    at = open_exercise("lstm-cell", lang=lang)
    answer(at, exercise, "one, two")
    (said,) = at.warning
    assert said.value.startswith("`one` ")
    assert ("is not a number" if lang == "en" else "不是数") in said.value
    assert in_language(lang, "Worked solution") not in [e.label for e in at.expander]
    answer(at, exercise, "0.1 0.2")
    assert ("has 2 numbers" if lang == "en" else "有 2 个数") in at.warning[0].value


@pytest.mark.parametrize("lang", LANGS)
def test_new_numbers_change_the_numbers_and_the_seed_in_the_address(lang):
    first, second = make("rnn-step", 4), make("rnn-step", 5)
    at = open_exercise("rnn-step", seed="4", lang=lang)
    answer(at, first, right_answer(first))
    assert at.success
    at.button(key="exercise_new").click().run()
    assert not at.exception, at.exception
    assert query_param(at, "seed") == "5" and query_param(at, "exercise") == "rnn-step"
    assert query_param(at, "lang") == lang
    assert second.shown[0].latex() in latex(at) and first.shown[0].latex() not in latex(at)
    assert not at.success and at.text_input(key="answer_rnn-step_5").value == ""
    # a reload of the new address shows the same numbers
    assert second.shown[0].latex() in latex(open_exercise("rnn-step", seed="5", lang=lang))


@pytest.mark.parametrize("lang", LANGS)
def test_the_classroom_link_shows_the_exercise_alone(lang):
    exercise = make("bptt-step", 2)
    at = AppTest.from_file(APP, default_timeout=60)  # the root address, as a class opens it
    for key, value in {
        "exercise": "bptt-step",
        "seed": "2",
        "lang": lang,
        "classroom": "1",
    }.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == [in_language(lang, exercise.title)]
    assert not [b for b in at.button if b.key in ("exercise_back", "lesson_back")]
    assert not at.expander and not at.sidebar.button  # no share links, no presets
    answer(at, exercise, right_answer(exercise))
    assert at.success and not [b for b in at.button if b.key == "exercise_design"]
    at.button(key="exercise_new").click().run()
    assert query_param(at, "classroom") == "1" and query_param(at, "seed") == "3"


@pytest.mark.parametrize("lang", LANGS)
def test_the_list_offers_the_exercises_and_opening_one_keeps_the_language(lang):
    at = open_lessons_page(lang)
    assert in_language(lang, "Exercises") in [h.value for h in at.header]
    for kind in EXERCISES.values():
        assert in_language(lang, kind.title) in markdown(at)
    at.button(key="exercise_bptt-step").click().run()
    assert query_param(at, "exercise") == "bptt-step" and query_param(at, "seed") == "0"
    assert query_param(at, "lang") == lang
    assert [t.value for t in at.title] == [in_language(lang, EXERCISES["bptt-step"].title)]
    at.button(key="exercise_back").click().run()
    assert query_param(at, "exercise") is None
    assert in_language(lang, "Exercises") in [h.value for h in at.header]


@pytest.mark.parametrize("seed", ["²", "9" * 5000, "-1", " 1", "1.0", "abc"])
def test_a_crafted_seed_in_the_address_shows_seed_zero(seed):
    at = open_exercise("lstm-cell", seed=seed)
    assert make("lstm-cell", 0).shown[0].latex() in latex(at)


def test_the_counted_experiment_opens_in_design_once_answered():
    exercise = make("parameter-count", 1)
    at = open_exercise("parameter-count", seed="1")
    assert not [b for b in at.button if b.key == "exercise_design"]  # not before an answer
    answer(at, exercise, right_answer(exercise))
    at.button(key="exercise_design").click().run()
    assert not at.exception, at.exception
    assert at.session_state["experiment"] == Experiment.from_dict(exercise.experiment)
