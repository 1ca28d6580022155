"""The classic results of deep recurrent networks, one lesson each.

Each module holds one lesson as data (designer.lessons.base.Lesson): the experiments
it trains, the prediction the class makes first, the steps that walk through the
result, and the check that says whether the result appeared. `python -m designer
lessons` lists them; the app's Lessons page plays them. A teacher's lesson is a JSON
document of the same Lesson (designer.lessons.document), its verdict a rule
(designer.lessons.rules).
"""

from __future__ import annotations

from designer.lessons import (
    bidirectional,
    char_rnn,
    echo_state,
    exploding_gradients,
    feedforward_vs_recurrent,
    irnn,
    residual_depth,
    vanishing_gradients,
    why_gates,
)
from designer.lessons.base import Lesson, LessonRun, RunResult, Step, Verdict
from designer.lessons.document import (
    lesson_from_document,
    lesson_from_url,
    lesson_to_document,
    lesson_to_url,
    new_lesson,
    read_lesson,
    shown_text,
)
from designer.lessons.rules import METRICS, Rule, RuleError, parse_rule

LESSONS: dict[str, Lesson] = {
    module.LESSON.name: module.LESSON
    for module in sorted(
        (
            why_gates,
            vanishing_gradients,
            exploding_gradients,
            irnn,
            echo_state,
            bidirectional,
            residual_depth,
            char_rnn,
            feedforward_vs_recurrent,
        ),
        key=lambda module: module.LESSON.number,
    )
}

__all__ = [
    "LESSONS",
    "METRICS",
    "Lesson",
    "LessonRun",
    "Rule",
    "RuleError",
    "RunResult",
    "Step",
    "Verdict",
    "get_lesson",
    "lesson_from_document",
    "lesson_from_url",
    "lesson_to_document",
    "lesson_to_url",
    "new_lesson",
    "parse_rule",
    "read_lesson",
    "runs_from_earlier",
    "shown_text",
]


def get_lesson(name: str) -> Lesson | None:
    """The lesson of that name, or None."""
    return LESSONS.get(name)


def runs_from_earlier(lesson: Lesson) -> dict[str, Lesson]:
    """The lesson's runs that an earlier lesson trains too (run label -> the first
    such lesson): the same experiment is one shared run, so a class that took that
    lesson sees these runs at once, already trained."""
    earlier = [other for other in LESSONS.values() if other.number < lesson.number]
    found = {}
    for run in lesson.runs:
        document = run.experiment().to_dict()
        for other in earlier:
            if any(o.experiment().to_dict() == document for o in other.runs):
                found[run.label] = other
                break
    return found
