"""A lesson as one JSON document: what a teacher writes (or `python -m designer lessons
new` and the Compare page's "Make a lesson" write), shares as a link, and plays on the
Lessons page, like the built-in lessons.

A document is untrusted: it is checked as strictly as an experiment (every problem
named by its path, `runs[1].experiment.model.layers[0].hidden_size: ...`), its runs
may not read the server's files, its size and each text's length are bounded, and its
verdict is a rule of a small grammar (designer.lessons.rules), never code. Its texts
are shown as text: shown_text escapes what Markdown would turn into a link, an image
or HTML.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
import zlib
from dataclasses import replace
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from designer.document.spec import (
    Experiment,
    Problem,
    SpecError,
    _in_own_words,
    _pydantic_problem,
    read_json,
    unknown_field,
)
from designer.i18n import LANGUAGES, N_, Text, Translated
from designer.lessons.base import VIEWS, Lesson, LessonRun, Prediction, Step
from designer.lessons.rules import _PLACEHOLDER, Rule, RuleError, parse_rule
from designer.tasks.base import shown

SCHEMA = "deep-rnn-designer/lesson"
VERSION = 1
MAX_BYTES = 300_000
MAX_TEXT = 2_000  # characters of one text, in each language
LABELS = ("A", "B", "C", "D")
ONE_RUN_VIEWS = ("gradient-map", "states", "graph", "sample", "inputs")
_ALL_RUN_VIEWS = tuple(view for view in VIEWS if view not in ONE_RUN_VIEWS)  # no "run"
SERVER_DATA = ("path", "upload")  # task parameters that name data kept on the server


class _TextProblem(ValueError):
    """A text that is neither a string nor {"en": ..., "zh": ...}, or too long."""

    def __init__(self, text: Text):
        self.text = text
        super().__init__(str(text))


def _text(value: Any) -> str:
    """A document's TEXT: a string (the catalog may translate it), or its own
    translations, {"en": ..., "zh": ...} with one or both (a Translated)."""
    if isinstance(value, str):
        _short_enough(value)
        return value
    if not isinstance(value, dict) or not value:
        raise _TextProblem(
            Text('must be text, or {{"en": ..., "zh": ...}}, got {got}', got=shown(value))
        )
    for code, text in value.items():
        if code not in LANGUAGES:
            raise _TextProblem(
                Text(
                    "unknown language '{code}'; a text's languages are {languages}",
                    code=str(code)[:20],
                    languages=", ".join(LANGUAGES),
                )
            )
        if not isinstance(text, str):
            raise _TextProblem(Text("the {code} text must be a string", code=code))
        _short_enough(text)
    return Translated(value)


def _short_enough(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise _TextProblem(
            Text(
                "a text may have at most {limit} characters, got {n}",
                limit=f"{MAX_TEXT:,}",
                n=f"{len(text):,}",
            )
        )


TEXT = Annotated[str, PlainValidator(_text)]
Label = Annotated[str, Field(max_length=1)]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PredictionDoc(_Doc):
    question: TEXT
    choices: Annotated[list[TEXT], Field(min_length=2, max_length=6)]
    answer: Annotated[int, Field(ge=0)]
    why: TEXT = ""


class RunDoc(_Doc):
    label: Label
    title: TEXT
    experiment: dict[str, Any]  # checked as an experiment document (Experiment.from_dict)


class StepDoc(_Doc):
    title: TEXT
    text: TEXT
    view: Literal[VIEWS]  # type: ignore[valid-type]
    run: Label | None = None


class VerdictDoc(_Doc):
    rule: Annotated[str, Field(max_length=MAX_TEXT)]
    passed: TEXT = ""
    failed: TEXT = ""


class LessonDoc(_Doc):
    schema_: Literal["deep-rnn-designer/lesson"] = Field(alias="schema")
    version: Literal[1]
    name: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]
    number: Annotated[int, Field(ge=0, le=999)] = 0
    needs: Annotated[list[Annotated[int, Field(ge=1, le=999)]], Field(max_length=20)] = []
    title: TEXT
    summary: TEXT = ""
    source: TEXT = ""
    read_more: TEXT = ""
    prediction: PredictionDoc
    runs: Annotated[list[RunDoc], Field(min_length=1, max_length=len(LABELS))]
    steps: Annotated[list[StepDoc], Field(min_length=1, max_length=12)]
    verdict: VerdictDoc
    try_next: TEXT = ""
    seeds: Annotated[
        list[Annotated[int, Field(ge=0, le=2**31 - 1)]], Field(min_length=1, max_length=10)
    ] = [0]
    may_diverge: Annotated[list[Label], Field(max_length=len(LABELS))] = []


# --- problems, each named by its path -------------------------------------------------
def _path(loc: tuple[Any, ...]) -> str:
    """('runs', 1, 'title') -> 'runs[1].title'."""
    path = ""
    for key in loc:
        path += f"[{key}]" if isinstance(key, int) else (f".{key}" if path else str(key))
    return path


def _owner(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the field at `loc` (for an unknown field's nearest name)."""
    model: Any = LessonDoc
    for key in loc:
        if isinstance(key, int) or model is None:
            continue
        field = next(
            (f for name, f in model.model_fields.items() if (f.alias or name) == key), None
        )
        found = [field.annotation] if field else []
        model = None
        while found:
            kind = found.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                model = kind
            else:
                found.extend(get_args(kind))
    return model


def _document_problems(err: ValidationError) -> list[Problem]:
    """pydantic's errors as Problems named by their paths, in the document's words."""
    problems = []
    for e in err.errors(include_url=False):
        loc, got = tuple(e["loc"]), e.get("input")
        error = (e.get("ctx") or {}).get("error")
        path = _path(loc)
        if e["type"] == "extra_forbidden":
            owner = _owner(loc[:-1])
            known = [f.alias or n for n, f in owner.model_fields.items()] if owner else []
            problems.append(unknown_field(_path(loc[:-1]), str(loc[-1])[:40], known))
        elif isinstance(error, _TextProblem):
            problems.append(Problem(path, error.text))
        elif e["type"] == "string_pattern_mismatch":
            message = Text("a name is 1 to 40 of a-z, 0-9 and '-', got {got}", got=shown(got))
            problems.append(Problem(path, message))
        else:
            said = _in_own_words(e["type"], loc, got)
            if said is None:
                problems.append(_pydantic_problem(e, path, path, got))
            else:
                problems.append(Problem(path, said[0]))
    return problems


def _experiment_problems(data: dict[str, Any]) -> list[Problem]:
    """Each run's experiment checked as an experiment document, its problems' paths
    under `runs[i].experiment`; one that names data on the server is refused unread."""
    problems: list[Problem] = []
    runs = data.get("runs")
    for i, run in enumerate(runs if isinstance(runs, list) else []):
        document = run.get("experiment") if isinstance(run, dict) else None
        if not isinstance(document, dict):
            continue
        where = f"runs[{i}].experiment"
        task = document.get("task")
        refused = [
            key for key in SERVER_DATA if isinstance(task, dict) and task.get(key) not in (None, "")
        ]
        for key in refused:
            message = Text(
                "a lesson's run may not read data from the server; give its data inline "
                "('data') instead of '{key}'",
                key=key,
            )
            problems.append(Problem(f"{where}.task.{key}", message))
        if refused:
            continue
        try:
            Experiment.from_dict(document)
        except SpecError as err:
            for p in err.problems:
                path = f"{where}.{p.path}" if p.path else where
                problems.append(Problem(path, p._message, path, p._whole))
    return problems


def _listed(data: Any, key: str) -> list[Any]:
    """data[key] where it is a list (a wrong type is pydantic's problem to name)."""
    found = data.get(key) if isinstance(data, dict) else None
    return found if isinstance(found, list) else []


def _cross_problems(data: dict[str, Any]) -> list[Problem]:
    """What a field cannot say alone: the labels in order, the runs that steps, the
    rule and its sentences name, the answer among the choices. Read from the data
    itself, so that they are named beside the other problems, wherever those are."""
    runs = [run if isinstance(run, dict) else {} for run in _listed(data, "runs")]
    labels = [run["label"] for run in runs if isinstance(run.get("label"), str)]
    problems = []
    for i, run in enumerate(runs[: len(LABELS)]):
        if isinstance(run.get("label"), str) and run["label"] != LABELS[i]:
            message = Text(
                "the runs are labelled A, B, C, D in order: this one is '{want}', got {got}",
                want=LABELS[i],
                got=shown(run["label"]),
            )
            problems.append(Problem(f"runs[{i}].label", message))
    for i, step in enumerate(_listed(data, "steps")):
        run = step.get("run") if isinstance(step, dict) else None
        if isinstance(run, str) and run not in labels:
            problems.append(Problem(f"steps[{i}].run", _no_run(run, labels)))
        elif isinstance(run, str) and step.get("view") in _ALL_RUN_VIEWS:
            message = Text("the {view} view shows every run; it takes no run", view=step["view"])
            problems.append(Problem(f"steps[{i}].run", message))
    for i, label in enumerate(_listed(data, "may_diverge")):
        if isinstance(label, str) and label not in labels:
            problems.append(Problem(f"may_diverge[{i}]", _no_run(label, labels)))
    problems.extend(_answer_problems(data.get("prediction")))
    problems.extend(_verdict_problems(data.get("verdict"), labels))
    return problems


def _answer_problems(prediction: Any) -> list[Problem]:
    """The answer must be the index of one of the choices."""
    choices = len(_listed(prediction, "choices"))
    answer = prediction.get("answer") if isinstance(prediction, dict) else None
    if type(answer) is not int or not choices or 0 <= answer < choices:
        return []
    message = Text(
        "must be the index of one of the {n} choices (0 to {last}), got {got}",
        n=choices,
        last=choices - 1,
        got=answer,
    )
    return [Problem("prediction.answer", message)]


def _verdict_problems(verdict: Any, labels: list[str]) -> list[Problem]:
    """The rule must read, and its sentences may name only the lesson's runs."""
    if not isinstance(verdict, dict):
        return []
    problems = []
    rule = verdict.get("rule")
    if isinstance(rule, str) and len(rule) <= MAX_TEXT:
        try:
            parse_rule(rule, labels)
        except RuleError as err:
            problems.append(Problem("verdict.rule", err.text))
    for key in ("passed", "failed"):
        text = verdict.get(key)
        for said in text.values() if isinstance(text, dict) else [text]:
            for found in _PLACEHOLDER.finditer(said if isinstance(said, str) else ""):
                if found.group(1) not in (*labels, "baseline"):
                    problems.append(Problem(f"verdict.{key}", _no_run(found.group(1), labels)))
    return problems


def _no_run(label: str, labels: list[str]) -> Text:
    return Text(
        'no run "{label}"; the runs are {labels}', label=label[:10], labels=", ".join(labels)
    )


# --- loading and writing ------------------------------------------------------------
def lesson_from_document(data: dict) -> Lesson:
    """The Lesson a document describes; a SpecError lists every problem, by path."""
    if not isinstance(data, dict):
        raise SpecError([Problem("", Text("the lesson must be a JSON object"))])
    problems: list[Problem] = []
    doc = None
    try:
        doc = LessonDoc.model_validate(data)
    except ValidationError as err:
        problems.extend(_document_problems(err))
    problems.extend(_experiment_problems(data))
    problems.extend(_cross_problems(data))
    if problems or doc is None:
        raise SpecError(problems)
    lesson = _lesson(doc)
    return replace(lesson, document_id=document_id(lesson_to_document(lesson)))


def _lesson(doc: LessonDoc) -> Lesson:
    """The checked document as a Lesson (its experiments in full, as to_dict writes)."""
    labels = [run.label for run in doc.runs]
    rule = parse_rule(doc.verdict.rule, labels)
    return Lesson(
        name=doc.name,
        number=doc.number,
        title=doc.title,
        source=doc.source,
        summary=doc.summary,
        prediction=Prediction(
            doc.prediction.question,
            tuple(doc.prediction.choices),
            doc.prediction.answer,
            doc.prediction.why,
        ),
        runs=tuple(
            LessonRun(run.label, run.title, Experiment.from_dict(run.experiment).to_dict())
            for run in doc.runs
        ),
        steps=tuple(Step(s.title, s.text, s.view, s.run) for s in doc.steps),
        check=replace(rule, passed=doc.verdict.passed, failed=doc.verdict.failed),
        try_next=doc.try_next,
        seeds=tuple(doc.seeds),
        may_diverge=tuple(doc.may_diverge),
        needs=tuple(doc.needs),
        read_more=doc.read_more,
    )


def read_lesson(text: str | bytes) -> Lesson:
    """A lesson from its JSON text, its size checked before it is read."""
    return lesson_from_document(_lesson_json(text))


def _lesson_json(text: str | bytes) -> Any:
    data = read_json(text, MAX_BYTES)
    if not isinstance(data, dict):
        raise SpecError([Problem("", Text("the lesson must be a JSON object"))])
    return data


def _text_data(text: str) -> str | dict[str, str]:
    return dict(text.texts) if isinstance(text, Translated) else str.__str__(text)


def lesson_to_document(lesson: Lesson) -> dict[str, Any]:
    """The lesson as its document again: lesson_from_document of it is the same lesson.
    Fields at their defaults are left out."""
    rule = lesson.check
    if not isinstance(rule, Rule):
        raise ValueError(f"lesson {lesson.name!r} is written in Python: it has no document")
    verdict: dict[str, Any] = {"rule": rule.text}
    for key, text in (("passed", rule.passed), ("failed", rule.failed)):
        if text:
            verdict[key] = _text_data(text)
    doc: dict[str, Any] = {"schema": SCHEMA, "version": VERSION, "name": lesson.name}
    optional = {"number": lesson.number, "needs": list(lesson.needs)}
    doc.update({k: v for k, v in optional.items() if v})
    doc["title"] = _text_data(lesson.title)
    for key in ("summary", "source", "read_more"):
        if getattr(lesson, key):
            doc[key] = _text_data(getattr(lesson, key))
    prediction = lesson.prediction
    doc["prediction"] = {
        "question": _text_data(prediction.question),
        "choices": [_text_data(c) for c in prediction.choices],
        "answer": prediction.answer,
        **({"why": _text_data(prediction.why)} if prediction.why else {}),
    }
    doc["runs"] = [
        {"label": r.label, "title": _text_data(r.title), "experiment": r.document}
        for r in lesson.runs
    ]
    doc["steps"] = [
        {
            "title": _text_data(s.title),
            "text": _text_data(s.text),
            "view": s.view,
            **({"run": s.run} if s.run is not None else {}),
        }
        for s in lesson.steps
    ]
    doc["verdict"] = verdict
    if lesson.try_next:
        doc["try_next"] = _text_data(lesson.try_next)
    if list(lesson.seeds) != [0]:
        doc["seeds"] = list(lesson.seeds)
    if lesson.may_diverge:
        doc["may_diverge"] = list(lesson.may_diverge)
    return doc


def document_id(document: dict[str, Any]) -> str:
    """12 hex digits of the SHA-256 of the canonical JSON: the same lesson, the same id
    (for class links and the keys of a teacher's lessons)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def lesson_to_url(lesson: Lesson) -> str:
    """The document, its experiments compact, deflated and base64url-encoded."""
    doc = lesson_to_document(lesson)
    for run in doc["runs"]:
        run["experiment"] = Experiment.from_dict(run["experiment"]).to_dict(compact=True)
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def lesson_from_url(token: str) -> Lesson:
    """The lesson of a link; a damaged one, or one that inflates past MAX_BYTES, is
    refused before it is read."""
    if len(token) > 2 * MAX_BYTES:  # more than any lesson's deflated document
        message = Text("the document is larger than {limit} bytes", limit=f"{MAX_BYTES:,}")
        raise SpecError([Problem("", message)])
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = zlib.decompressobj().decompress(
            base64.urlsafe_b64decode(padded.encode()), MAX_BYTES + 1
        )
    except (ValueError, zlib.error):
        raise SpecError([Problem("", Text("the link is damaged or incomplete"))]) from None
    return read_lesson(raw)


# --- a new lesson from experiments ----------------------------------------------------
# The steps of a lesson that names none: the runs' curves, then their numbers.
DEFAULT_STEPS = (
    {
        "title": N_("Watch the loss"),
        "text": N_(
            "Each run's validation loss as it trains; the dashed line is the task's "
            "baseline. A curve that leaves it has learned something the baseline does not know."
        ),
        "view": "curves",
    },
    {
        "title": N_("The numbers"),
        "text": N_("Each run's final validation error and the baseline, side by side."),
        "view": "table",
    },
)


def name_from_title(title: str) -> str:
    """'GRU vs RNN: memory' -> 'gru-vs-rnn-memory' (a lesson's name in links)."""
    name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    return name or "my-lesson"


def new_lesson(
    runs: list[tuple[str, Experiment]],
    question: str,
    choices: list[str],
    answer: int,
    rule: str,
    steps: list[dict] | None = None,
    title: str = "",
    *,
    name: str = "",
    why: str = "",
    summary: str = "",
    source: str = "",
    read_more: str = "",
    try_next: str = "",
    passed: str = "",
    failed: str = "",
    seeds: list[int] | None = None,
    may_diverge: list[str] | None = None,
) -> dict[str, Any]:
    """A lesson document from (title, experiment) runs, labelled A, B, ... in order, and
    the prediction (`answer`: the index of the choice the result supports) and rule; it
    is checked (a SpecError names every problem) before it is returned."""
    title = title or " vs ".join(run_title for run_title, _exp in runs) or "My lesson"
    verdict = {"rule": rule, **({"passed": passed} if passed else {})}
    verdict.update({"failed": failed} if failed else {})
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "version": VERSION,
        "name": name or name_from_title(str(title)),
        "title": title,
        "prediction": {"question": question, "choices": list(choices), "answer": answer},
        "runs": [
            {"label": label, "title": run_title, "experiment": exp.to_dict(compact=True)}
            for label, (run_title, exp) in zip(string.ascii_uppercase, runs, strict=False)
        ],
        "steps": list(steps) if steps else [dict(step) for step in DEFAULT_STEPS],
        "verdict": verdict,
    }
    if why:
        doc["prediction"]["why"] = why
    extra = {"summary": summary, "source": source, "read_more": read_more, "try_next": try_next}
    doc.update({key: value for key, value in extra.items() if value})
    if seeds:
        doc["seeds"] = list(seeds)
    if may_diverge:
        doc["may_diverge"] = list(may_diverge)
    lesson_from_document(doc)
    return doc


# --- a document's text on a page -------------------------------------------------------
# What Markdown (and Streamlit's markdown) would turn into a link, an image, HTML, an
# entity, a formula or coloured text: each escaped with a backslash, so it shows as
# written. Emphasis (**bold**, *italic*, `code`) is kept.
_MARKUP = re.compile(r"[\\\[\]<>&$@]|(?<=:)//|(?<=www)\.")


def shown_text(text: str) -> str:
    """A document's text as st.markdown shows it literally: links, images, HTML,
    bare URLs, formulas; the reader's emphasis kept."""
    return _MARKUP.sub(lambda found: "\\" + found.group(), str(text))
