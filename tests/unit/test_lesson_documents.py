"""Lessons as documents: a teacher's JSON file loads into the same Lesson as the
built-in ones, every problem named by its path; the verdict is a rule of a small
grammar judged on the runs' results; a document's texts carry their own
translations and are shown as text."""

from __future__ import annotations

import copy
import json
import math
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from designer.__main__ import main
from designer.document.spec import Experiment, SpecError
from designer.i18n import Translated, _, using
from designer.lessons import lesson_from_document, lesson_to_document, read_lesson
from designer.lessons.document import (
    MAX_BYTES,
    lesson_from_url,
    lesson_to_url,
    new_lesson,
    shown_text,
)
from designer.lessons.rules import METRICS, RuleError, fill, parse_rule
from tests.helpers import experiment_doc, layer_doc, run_result

RULE = "val_loss: B < 0.1 * baseline and A > 0.5 * baseline"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/lessons/gru-vs-rnn-memory.json"


def experiment(kind: str) -> Experiment:
    return Experiment.from_dict(experiment_doc("adding", 10, layer_doc(kind, 8), steps=20))


def document(**changes) -> dict:
    """A valid lesson document of two runs, with `changes` to its top-level fields."""
    doc = new_lesson(
        [("tanh RNN", experiment("rnn")), ("GRU", experiment("gru"))],
        "Which one learns to add?",
        ["the RNN", "the GRU"],
        1,
        RULE,
        title="GRU vs RNN",
    )
    doc.update(changes)
    return doc


def problems(doc: dict) -> dict[str, str]:
    """path -> message of each of the document's problems."""
    with pytest.raises(SpecError) as caught:
        lesson_from_document(doc)
    return {p.path: p.message for p in caught.value.problems}


# --- loading -------------------------------------------------------------------------
def test_a_document_loads_and_round_trips():
    doc = document(
        summary={"en": "A gate keeps the sum.", "zh": "门留住了和。"},
        read_more="Gated recurrent units",
        seeds=[0, 1],
        may_diverge=["A"],
    )
    doc["steps"].append({"title": "Inside", "text": "The states.", "view": "states", "run": "B"})
    doc["verdict"]["passed"] = {"en": "B learned: {B.words}."}
    lesson = lesson_from_document(doc)
    assert lesson.name == "gru-vs-rnn" and lesson.number == 0
    assert [run.label for run in lesson.runs] == ["A", "B"]
    assert lesson.read_more == "Gated recurrent units" and len(lesson.document_id) == 12
    again = lesson_to_document(lesson)
    assert lesson_from_document(again) == lesson
    assert lesson_to_document(lesson_from_document(again)) == again
    assert read_lesson(json.dumps(again)) == lesson
    assert lesson_from_url(lesson_to_url(lesson)) == lesson
    assert pickle.loads(pickle.dumps(lesson.summary)) == lesson.summary


def test_the_same_document_has_the_same_id_and_another_another():
    first = lesson_from_document(document())
    assert lesson_from_document(document()).document_id == first.document_id
    assert lesson_from_document(document(title="Other")).document_id != first.document_id


def test_new_lesson_names_it_from_the_title_and_shows_curves_then_the_table():
    doc = document()
    assert doc["name"] == "gru-vs-rnn"
    assert [step["view"] for step in doc["steps"]] == ["curves", "table"]
    assert [run["label"] for run in doc["runs"]] == ["A", "B"]


def test_a_text_in_two_languages_reads_in_the_reader_s():
    lesson = lesson_from_document(document(title={"en": "Memory", "zh": "记忆"}))
    assert lesson.title == "Memory" and isinstance(lesson.title, Translated)
    with using("zh"):
        assert _(lesson.title) == "记忆"
    only_chinese = lesson_from_document(document(title={"zh": "记忆"})).title
    assert str(only_chinese) == "记忆" and _(only_chinese) == "记忆"
    with using("zh"):  # an English-only text falls back on the catalog, then itself
        assert _(Translated({"en": "Validation loss"})) == _("Validation loss") != "Validation loss"


@pytest.mark.parametrize(
    "change, path, words",
    [
        (lambda d: d.update(titel="x"), "", "unknown field 'titel' (did you mean 'title'?)"),
        (lambda d: d["runs"][0].update(colour=1), "runs[0]", "unknown field 'colour'"),
        (lambda d: d.update(title="x" * 2001), "title", "at most 2,000 characters, got 2,001"),
        (lambda d: d.update(title={"fr": "x"}), "title", "unknown language 'fr'"),
        (lambda d: d.update(name="My Lesson"), "name", "a name is 1 to 40 of a-z"),
        (lambda d: d.update(schema="other"), "schema", "input should be"),
        (lambda d: d["prediction"].update(answer=2), "prediction.answer", "of the 2 choices"),
        (lambda d: d["prediction"].update(answer="1"), "prediction.answer", "a valid integer"),
        (lambda d: d["steps"][0].update(view="movie"), "steps[0].view", "'curves'"),
        (lambda d: d["steps"][1].update(view="states", run="E"), "steps[1].run", 'no run "E"'),
        (lambda d: d["steps"][0].update(run="A"), "steps[0].run", "shows every run"),
        (lambda d: d["runs"][1].update(label="C"), "runs[1].label", "this one is 'B'"),
        (lambda d: d.update(may_diverge=["D"]), "may_diverge[0]", 'no run "D"'),
        (lambda d: d["verdict"].update(rule="val_loss: B <<"), "verdict.rule", "at 'B <<'"),
        (lambda d: d["verdict"].update(rule="val_los: B < A"), "verdict.rule", "'val_loss'"),
        (lambda d: d["verdict"].update(rule="val_loss: E < A"), "verdict.rule", "no run 'E'"),
        (
            lambda d: d["verdict"].update(rule="grad_reach: B > baseline"),
            "verdict.rule",
            "grad_reach has no baseline",
        ),
        (lambda d: d["verdict"].update(passed="{E.words}"), "verdict.passed", 'no run "E"'),
        (
            lambda d: d["runs"][1]["experiment"]["model"]["layers"][0].update(hidden_size=5000),
            "runs[1].experiment.model.layers[0].hidden_size",
            "the width limit",
        ),
        (
            lambda d: d["runs"][0]["experiment"].update(task={"name": "csv", "path": "/etc/hosts"}),
            "runs[0].experiment.task.path",
            "may not read data from the server",
        ),
        (
            lambda d: d["runs"][0]["experiment"].update(task={"name": "csv", "upload": "0" * 64}),
            "runs[0].experiment.task.upload",
            "may not read data from the server",
        ),
        (lambda d: d.update(runs=d["runs"] * 3), "runs", "at most 4 items"),
    ],
)
def test_each_problem_is_named_by_its_path(change, path, words):
    doc = copy.deepcopy(document())
    change(doc)
    found = problems(doc)
    assert path in found and words in found[path], found


def test_every_problem_is_named_at_once():
    doc = document(titel=1)
    doc["verdict"]["rule"] = "val_loss: B <<"
    doc["steps"][1].update(view="states", run="E")
    doc["prediction"]["answer"] = 7
    doc["runs"][0]["experiment"]["train"] = {"lr": -1}
    assert set(problems(doc)) == {
        "",
        "steps[1].run",
        "prediction.answer",
        "verdict.rule",
        "runs[0].experiment.train.lr",
    }


def test_a_document_too_large_or_not_json_is_refused_before_it_is_read():
    with pytest.raises(SpecError, match="larger than 300,000 bytes"):
        read_lesson(" " * (MAX_BYTES + 1))
    with pytest.raises(SpecError, match="not valid JSON"):
        read_lesson("{ nope")
    with pytest.raises(SpecError, match="a JSON object"):
        read_lesson("[1, 2]")


def test_a_link_that_inflates_past_the_limit_is_refused():
    import base64
    import zlib

    bomb = base64.urlsafe_b64encode(zlib.compress(b" " * (10 * MAX_BYTES), 9)).decode()
    with pytest.raises(SpecError, match="larger than"):
        lesson_from_url(bomb)
    with pytest.raises(SpecError, match="damaged"):
        lesson_from_url("not a link!")
    with pytest.raises(SpecError, match="larger than"):
        lesson_from_url("A" * (2 * MAX_BYTES + 1))


def test_a_document_s_problems_read_in_chinese():
    doc = document()
    doc["verdict"]["rule"] = "val_loss: B <<"
    with using("zh"), pytest.raises(SpecError) as caught:
        lesson_from_document(doc)
    with using("zh"):
        assert "verdict.rule：在 'B <<' 处：这里应为一个数或一个运行" in str(caught.value)


# --- rules ---------------------------------------------------------------------------
def judged(rule: str, *results) -> tuple[bool, dict[str, float], str]:
    verdict = parse_rule(rule, [r.label for r in results]).judge({r.label: r for r in results})
    return verdict.passed, verdict.numbers, verdict.text


def test_a_rule_reads_each_run_and_the_baseline():
    passed, numbers, text = judged(RULE, run_result("A", 0.15), run_result("B", 0.0009))
    assert passed
    assert numbers == {"B.val_loss": 0.0009, "baseline.val_loss": 0.16, "A.val_loss": 0.15}
    assert text == (
        "B's validation loss 0.0009 < 0.1 × the baseline's 0.16: yes. "
        "A's validation loss 0.15 > 0.5 × the baseline's 0.16: yes."
    )
    assert not judged(RULE, run_result("A", 0.15), run_result("B", 0.05))[0]
    with using("zh"):
        assert (
            "B 的验证损失 0.0009 < 0.1 × 基线的 0.16：是。"
            in judged(RULE, run_result("A", 0.15), run_result("B", 0.0009))[2]
        )


def test_every_clause_must_hold_and_a_clause_without_a_metric_keeps_the_last():
    a, b = run_result("A", 0.1), run_result("B", 0.01)
    assert judged("val_loss: B < A and B < 0.02", a, b)[0]
    assert not judged("val_loss: B < A and B < 0.005", a, b)[0]
    assert judged("val_loss: 10 * B <= A + 0.001 and A >= B - 1", a, b)[0]


def test_a_diverged_run_s_loss_is_infinite_and_not_a_number_compares_false():
    diverged = run_result("A", None, state="diverged")
    assert judged("val_loss: A > 1000", diverged)[0]
    assert not judged("val_loss: A < 1000", diverged)[0]
    nothing = run_result("A", float("nan"))
    assert not judged("val_metric: A < 1000", nothing)[0]
    assert not judged("val_metric: A > 1000", nothing)[0]


def test_each_metric_reads_its_quantity():
    evals = [
        {"step": 100, "val_loss": 0.15, "val_metric": 0.15},
        {"step": 200, "val_loss": 0.01, "val_metric": 0.01},
        {"step": 300, "val_loss": 0.02, "val_metric": 0.02},
    ]
    run = run_result(
        "A",
        0.02,
        first=[1e-6, 1e-3, 0.5],
        last=[0.001, 0.1, 1.0],
        evals=evals,
        grad_norms=(2.0, float("inf"), 7.0),
    )
    expected = {
        "val_loss": 0.02,
        "val_metric": 0.02,
        "best_val_metric": 0.01,
        "first_val_metric": 0.15,
        "grad_reach": 0.001,
        "bottom_grad": 0.5,
        "peak_grad": 7.0,
        "steps_to(0.1)": 200.0,
        "steps_to(0.01)": math.inf,
    }
    for metric, value in expected.items():
        _passed, numbers, _text = judged(f"{metric}: A > 0", run)
        assert numbers == {f"A.{metric}": value}, metric
    evals = [{"val_metric": v} for v in (0.5, 0.9)]
    accuracy = run_result("A", 0.5, metric="accuracy", evals=evals)
    assert judged("best_val_metric: A > 0.8", accuracy)[0]
    assert set(METRICS) == {m.split("(")[0] for m in expected}


def test_a_run_without_a_probe_passes_no_gradient_clause():
    assert not judged("grad_reach: A > 0", run_result("A", 0.1))[0]
    assert not judged("grad_reach: A < 1e9", run_result("A", 0.1))[0]


@pytest.mark.parametrize(
    "rule, words",
    [
        ("", "the rule is empty"),
        ("B < A", "at 'B': the first clause needs a metric"),
        ("val_loss: B << A", "at 'B <<': expected a number or a run"),
        ("val_loss: B < ", "at the end of the rule: expected a number or a run"),
        ("val_loss: B = A", "a rule has no such character"),
        ("val_loss: B A", "expected <, >, <= or >="),
        ("val_loss: B < A or A < B", "expected 'and' or the end of the rule"),
        ("steps_to: B < A", "expected steps_to(x)"),
        ("peak_grad: B < 2 * baseline", "peak_grad has no baseline"),
        ("valloss: B < A", "did you mean 'val_loss'?"),
        ("val_loss: B < A +", "expected a number after '+' or '-'"),
    ],
)
def test_a_bad_rule_names_the_place_and_what_was_expected(rule, words):
    with pytest.raises(RuleError) as caught:
        parse_rule(rule, ["A", "B"])
    assert words in str(caught.value)


def test_the_documents_sentence_is_filled_in_without_reading_attributes():
    evals = [{"step": 100, "val_loss": 0.1}, {"step": 200, "val_loss": 0.01}]
    results = {
        "A": run_result("A", 0.15, evals=evals),
        "B": run_result("B", None, state="diverged"),
    }
    assert fill("{A.steps_to(0.1)} {B.steps_to(0.1)} {A.steps_to}", results) == (
        "200 never {A.steps_to}"
    )
    said = fill(
        "{A.val_loss} vs {baseline.val_metric}: {A.words}; {B.words}. "
        "{A.__class__} {A.__class__.__init__} {C.val_loss} {baseline.grad_reach} {0} {}",
        results,
    )
    assert said == (
        "0.15 vs 0.16: validation mse 0.15, against 0.16 for the baseline; diverged at step 101. "
        "{A.__class__} {A.__class__.__init__} {C.val_loss} {baseline.grad_reach} {0} {}"
    )
    rule = parse_rule("val_loss: A < 1", ["A", "B"])
    verdict = replace(rule, passed="Yes: {A.val_loss}.", failed="No.").judge(results)
    assert (verdict.passed, verdict.text) == (True, "Yes: 0.15.")


def test_the_document_s_sentence_reads_in_the_reader_s_language():
    said = Translated({"en": "B learned: {B.words}.", "zh": "B 学会了：{B.words}。"})
    rule = replace(parse_rule("val_loss: B < A", ["A", "B"]), passed=said)
    results = {"A": run_result("A", 0.15), "B": run_result("B", 0.001)}
    with using("zh"):
        assert rule.judge(results).text == "B 学会了：验证 MSE 为 0.001，基线为 0.16。"
    assert (
        rule.judge(results).text
        == "B learned: validation mse 0.001, against 0.16 for the baseline."
    )


# --- a document's text on a page -------------------------------------------------------
def test_a_document_s_text_shows_links_images_and_html_as_written():
    text = "**Bold** [x](https://e.com) ![i](y.png) <b>hi</b> &lt; $x$ www.e.com a@b.c \\"
    assert shown_text(text) == (
        r"**Bold** \[x\](https:\//e.com) !\[i\](y.png) \<b\>hi\</b\> \&lt; \$x\$ www\.e.com "
        r"a\@b.c \\"
    )


# --- the command line ----------------------------------------------------------------
def experiment_files(folder: Path) -> list[str]:
    paths = []
    for kind in ("rnn", "gru"):
        path = folder / f"{kind}.json"
        path.write_text(experiment(kind).to_json(), encoding="utf-8")
        paths.append(str(path))
    return paths


def new_args(folder: Path, *more: str) -> list[str]:
    """`lessons new` on two experiment files, writing folder/lesson.json."""
    return [
        "lessons",
        "new",
        *experiment_files(folder),
        *("--question", "Which one learns to add?", "--choice", "the RNN", "--choice", "the GRU"),
        *("--answer", "2", "--verdict", RULE, "--out", str(folder / "lesson.json")),
        *more,
    ]


def test_lessons_new_writes_a_document_that_show_and_read_lesson_accept(tmp_path, capsys):
    steps = ("--step", "curves:The loss:Watch it.", "--step", "states@B:Inside:The GRU's states.")
    assert main(new_args(tmp_path, "--title", "Adding, two ways", *steps)) == 0
    assert "lesson.json: the lesson 'adding-two-ways', 2 run(s)" in capsys.readouterr().out
    lesson = read_lesson((tmp_path / "lesson.json").read_text(encoding="utf-8"))
    assert [run.title for run in lesson.runs] == ["rnn", "gru"]
    assert lesson.prediction.answer == 1 and lesson.check.text == RULE
    assert [(s.view, s.run) for s in lesson.steps] == [("curves", None), ("states", "B")]
    assert main(["lessons", "show", str(tmp_path / "lesson.json"), "--json"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert shown == [experiment("rnn").to_dict(), experiment("gru").to_dict()]


@pytest.mark.parametrize(
    "more, words",
    [
        (("--answer", "3"), "--answer is the number of a choice, 1 to 2, got 3"),
        (("--verdict", "val_loss: B <<"), "verdict.rule: at 'B <<': expected a number or a run"),
        (("--step", "movie:Title:Text"), "--step is VIEW:TITLE:TEXT"),
        (("--name", "Not A Name"), "name: a name is 1 to 40"),
    ],
)
def test_lessons_new_on_bad_input_names_the_problem_and_exits_2(more, words, tmp_path, capsys):
    assert main(new_args(tmp_path, *more)) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "lesson.json").exists()


def test_lessons_new_names_the_experiment_file_with_a_problem(tmp_path, capsys):
    args = new_args(tmp_path)
    (tmp_path / "gru.json").write_text('{"model": {"layers": [{"type": "gru", "width": 3}]}}')
    assert main(args) == 2
    assert (
        f"{tmp_path / 'gru.json'}: layer 0 (gru): unknown field 'width'" in capsys.readouterr().err
    )


def test_the_module_refuses_a_bad_lesson_without_a_traceback(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "designer", *new_args(tmp_path, "--verdict", "loss: B < A")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "unknown metric 'loss'" in bad.stderr


def test_lessons_check_of_a_bad_document_lists_its_problems(tmp_path, capsys):
    doc = document()
    doc["runs"][0]["experiment"]["task"] = {"name": "csv", "path": "/etc/hosts"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["lessons", "check", str(path), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert out["problems"][0]["path"] == "runs[0].experiment.task.path"
    assert main(["lessons", "check", str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.slow
def test_the_example_lesson_shows_its_result(capsys):
    assert main(["lessons", "check", EXAMPLE, "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["lesson"] == "gru-vs-rnn-memory" and outcome["appeared"] is True
    assert outcome["numbers"]["B.val_loss"] < 0.2 * outcome["numbers"]["baseline.val_loss"]
