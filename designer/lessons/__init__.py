"""The classic results of deep recurrent networks, one lesson each.

Each built-in lesson is a document in designer/lessons/builtin/ (`NN-name.json`, the
schema of designer.lessons.document, the one a teacher's lesson has too): the
experiments it trains, the prediction the class makes first, the steps that walk
through the result, and the verdict rule (designer.lessons.rules) that says whether
the result appeared, each text in English and Chinese. `python -m designer lessons`
lists them; the app's Lessons page plays them.
"""

from __future__ import annotations

from pathlib import Path

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

BUILTIN = Path(__file__).parent / "builtin"


def _builtin() -> dict[str, Lesson]:
    """The built-in lessons by name, in the order of their numbers."""
    lessons = [read_lesson(path.read_bytes()) for path in BUILTIN.glob("*.json")]
    return {lesson.name: lesson for lesson in sorted(lessons, key=lambda lesson: lesson.number)}


LESSONS: dict[str, Lesson] = _builtin()

__all__ = [
    "BUILTIN",
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
