"""A lesson document's verdict: a rule in a small grammar, read by a hand-written
parser (never eval), judged on the runs' results.

    val_loss: B < 0.1 * baseline and A > 0.5 * baseline
    grad_reach: B > 100 * A
    steps_to(0.2): B < A - 100

    rule   := clause ("and" clause)*
    clause := [metric ":"] side OP side     (no metric: the previous clause's)
    side   := [NUMBER "*"] term [("+" | "-") NUMBER]
    term   := LABEL | "baseline" | NUMBER
    OP     := "<" | ">" | "<=" | ">="

A comparison with a value that is not a number is false, so a run without a probe
or an evaluation never passes a clause by accident. The verdict says each clause with
its numbers, or the document's own sentence with `{A.val_loss}`-style placeholders,
filled in by a regular expression (never str.format, which reads attributes).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

from designer.i18n import N_, Text, TextError, _, unknown_name
from designer.lessons.base import RunResult, Verdict, loss_words, number

# A metric's name -> what it measures, for a picker and the docs.
METRICS: dict[str, str] = {
    "val_loss": N_("the final validation loss; a run that diverged counts as infinite"),
    "val_metric": N_("the final validation metric: the task's mse, accuracy or bits per char"),
    "best_val_metric": N_(
        "the best validation metric over the run's evaluations (the highest accuracy)"
    ),
    "first_val_metric": N_("the validation metric at the first evaluation: how fast it starts"),
    "grad_reach": N_(
        "the share of the last step's gradient that reaches the first step, at the last probe"
    ),
    "bottom_grad": N_(
        "the bottom recurrent layer's gradient at the last time step, before training"
    ),
    "peak_grad": N_("the largest finite gradient norm over training"),
    "steps_to": N_(
        "steps_to(x): the first evaluated step whose validation loss is at most x times "
        "the baseline's (infinite if never)"
    ),
}
NO_BASELINE = ("grad_reach", "bottom_grad", "peak_grad", "steps_to")
OPERATORS = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_TOKEN = re.compile(
    rf"(?P<number>{_NUMBER})|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><=|>=|<|>)|(?P<sym>[:*+\-()])"
)


class RuleError(TextError):
    """A rule that cannot be read: str(error) names the position and what was expected,
    in the reader's language."""


@dataclass(frozen=True)
class Token:
    kind: str  # number, word, op, sym, end
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Side:
    """factor × term + offset; `term` is a run's label, "baseline" or a number."""

    term: str | float
    factor: float | None = None
    offset: float = 0.0


@dataclass(frozen=True)
class Clause:
    metric: str  # a key of METRICS
    arg: float | None  # steps_to's x
    left: Side
    op: str
    right: Side

    @property
    def key(self) -> str:
        """The metric as the numbers name it: 'val_loss', 'steps_to(0.1)'."""
        return self.metric if self.arg is None else f"{self.metric}({_plain(self.arg)})"


def _plain(value: float) -> str:
    """A number the rule's author wrote, as short as it reads: 0.1, 100, 1e-05."""
    return f"{value:g}"


def tokenize(text: str) -> list[Token]:
    """The rule's tokens, then an end token; an unknown character is a RuleError."""
    tokens, at = [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        found = _TOKEN.match(text, at)
        if found is None:
            raise RuleError(Text("at '{at}': a rule has no such character", at=text[at : at + 10]))
        tokens.append(Token(found.lastgroup or "", found.group(), at, found.end()))
        at = found.end()
    tokens.append(Token("end", "", len(text), len(text)))
    return tokens


class _Parser:
    """Recursive descent over the tokens, one method a rule of the grammar."""

    def __init__(self, text: str, labels: list[str]):
        self.text, self.labels = text, list(labels)
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def fail(self, expected: Text) -> RuleError:
        """'at 'B <<': expected a number or a run': two tokens before and the one here."""
        here = self.peek()
        if here.kind == "end":
            return RuleError(Text("at the end of the rule: {expected}", expected=expected))
        start = self.tokens[max(self.i - 2, 0)].start
        at = self.text[start : here.end]
        return RuleError(Text("at '{at}': {expected}", at=at, expected=expected))

    def rule(self) -> list[Clause]:
        if self.peek().kind == "end":
            raise RuleError(Text("the rule is empty; write one such as 'val_loss: B < A'"))
        clauses = [self.clause(None)]
        while self.peek().kind == "word" and self.peek().text == "and":
            self.take()
            clauses.append(self.clause(clauses[-1]))
        if self.peek().kind != "end":
            raise self.fail(Text("expected 'and' or the end of the rule"))
        return clauses

    def clause(self, before: Clause | None) -> Clause:
        metric, arg = self.metric()
        if metric is None:
            if before is None:
                raise self.fail(Text("the first clause needs a metric, as in 'val_loss: B < A'"))
            metric, arg = before.metric, before.arg
        left = self.side(metric)
        op = self.take()
        if op.kind != "op":
            self.i -= 1
            raise self.fail(Text("expected <, >, <= or >="))
        return Clause(metric, arg, left, op.text, self.side(metric))

    def metric(self) -> tuple[str | None, float | None]:
        """`metric ":"` where the clause has one: a word followed by ':' or '('."""
        word, after = self.peek(), self.peek(1)
        if word.kind != "word" or after.text not in (":", "("):
            return None, None
        if word.text not in METRICS:
            hint = unknown_name(
                word.text,
                METRICS,
                N_("unknown metric '{name}' (did you mean '{hint}'?); the metrics are {metrics}"),
                N_("unknown metric '{name}'; the metrics are {metrics}"),
                name=word.text[:40],
                metrics=", ".join(METRICS),
            )
            raise RuleError(hint)
        self.take()
        arg = None
        if word.text == "steps_to":
            if self.take().text != "(" or self.peek().kind != "number":
                raise self.fail(Text("expected steps_to(x), with x a number"))
            arg = float(self.take().text)
            if self.take().text != ")":
                self.i -= 1
                raise self.fail(Text("expected ')' after steps_to's number"))
        elif after.text == "(":
            self.i += 1
            raise self.fail(Text("expected ':' after the metric"))
        if self.take().text != ":":
            self.i -= 1
            raise self.fail(Text("expected ':' after the metric"))
        return word.text, arg

    def side(self, metric: str) -> Side:
        factor = None
        if self.peek().kind == "number" and self.peek(1).text == "*":
            factor = float(self.take().text)
            self.take()
        term = self.term(metric)
        offset = 0.0
        if self.peek().text in ("+", "-"):
            sign = 1.0 if self.take().text == "+" else -1.0
            if self.peek().kind != "number":
                raise self.fail(Text("expected a number after '+' or '-'"))
            offset = sign * float(self.take().text)
        return Side(term, factor, offset)

    def term(self, metric: str) -> str | float:
        token = self.peek()
        if token.kind == "number":
            return float(self.take().text)
        if token.kind == "word" and token.text == "baseline":
            if metric in NO_BASELINE:
                raise RuleError(
                    Text("{metric} has no baseline; compare the runs instead", metric=metric)
                )
            return self.take().text
        if token.kind == "word" and re.fullmatch(r"[A-Z]", token.text):
            if token.text not in self.labels:
                raise RuleError(
                    Text(
                        "no run '{label}' in the rule; the lesson's runs are {labels}",
                        label=token.text,
                        labels=", ".join(self.labels),
                    )
                )
            return self.take().text
        raise self.fail(Text("expected a number or a run"))


def parse_rule(text: str, labels: list[str]) -> Rule:
    """The rule `text` over runs `labels`; a RuleError names what is wrong and where."""
    return Rule(text, tuple(_Parser(text, labels).rule()))


# --- the quantities a rule reads -----------------------------------------------------
def metric_value(result: RunResult, metric: str, arg: float | None = None) -> float:
    """One run's quantity (METRICS); NaN where the run has none to give."""
    nan = float("nan")
    if metric == "val_loss":
        return math.inf if result.state == "diverged" else _float(result.val_loss)
    if metric == "val_metric":
        return _float(result.val_metric)
    if metric in ("best_val_metric", "first_val_metric"):
        values = [_float(e.get("val_metric")) for e in result.evals]
        if metric == "first_val_metric":
            return values[0] if values else nan
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return nan
        return max(finite) if result.metric_name == "accuracy" else min(finite)
    if metric == "grad_reach":
        profile = result.gradient_profile("last")
        return profile[0] / profile[-1] if profile and profile[-1] else nan
    if metric == "bottom_grad":
        profile = result.gradient_profile("first")
        return profile[-1] if profile else nan
    if metric == "peak_grad":
        finite = [g for g in result.grad_norms if math.isfinite(g)]
        return max(finite) if finite else nan
    if metric == "steps_to":
        limit = (arg or 0.0) * result.baseline_loss
        for e in result.evals:
            if _float(e.get("val_loss")) <= limit:
                return float(e.get("step", math.inf))
        return math.inf
    raise KeyError(metric)


def baseline_value(result: RunResult, metric: str) -> float:
    """The task's baseline for a metric that has one (val_loss: the loss's)."""
    return result.baseline_loss if metric == "val_loss" else result.baseline_metric


def _float(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else float("nan")


def shown(metric: str, value: float) -> str:
    """A quantity in a sentence: steps as whole numbers, 'never' for a loss never reached."""
    if metric == "steps_to" and math.isfinite(value):
        return f"{value:,.0f}"
    if value == math.inf:
        return _("never") if metric == "steps_to" else _("infinite")
    return number(value)


# --- wording -------------------------------------------------------------------------
# A run's quantity in a clause, one whole phrase per metric.
_RUN_PHRASES = {
    "val_loss": N_("{run}'s validation loss {value}"),
    "val_metric": N_("{run}'s validation {metric} {value}"),
    "best_val_metric": N_("{run}'s best validation {metric} {value}"),
    "first_val_metric": N_("{run}'s first validation {metric} {value}"),
    "grad_reach": N_("the share of {run}'s gradient reaching the first step, {value}"),
    "bottom_grad": N_("{run}'s bottom-layer gradient before training, {value}"),
    "peak_grad": N_("{run}'s largest gradient norm {value}"),
    "steps_to": N_("{run}'s first step at {x} × the baseline loss, {value}"),
}
_CLAUSE = {
    True: N_("{left} {op} {right}: yes."),
    False: N_("{left} {op} {right}: no."),
}
# {A.val_loss}, {B.words}, {baseline.val_metric}, {A.steps_to(0.1)}: nothing else (a
# letter that is no run of the lesson is refused when the document is read).
_PLACEHOLDER = re.compile(rf"\{{([A-Z]|baseline)\.([a-z_]+)(?:\(({_NUMBER})\))?\}}")


@dataclass(frozen=True)
class Rule:
    """A parsed rule, with the document's sentences for a verdict that passed and one
    that failed ("" for none: then each clause is said with its numbers)."""

    text: str
    clauses: tuple[Clause, ...]
    passed: str = ""
    failed: str = ""

    def __call__(self, results: dict[str, RunResult]) -> Verdict:
        return self.judge(results)

    def judge(self, results: dict[str, RunResult]) -> Verdict:
        """Whether every clause holds on these results, in words, with the numbers read."""
        numbers: dict[str, float] = {}
        said, passed = [], True
        for clause in self.clauses:
            left = self._side(clause, clause.left, results, numbers)
            right = self._side(clause, clause.right, results, numbers)
            holds = bool(OPERATORS[clause.op](left[0], right[0]))  # NaN: always false
            passed = passed and holds
            said.append(_(_CLAUSE[holds]).format(left=left[1], op=clause.op, right=right[1]))
        template = self.passed if passed else self.failed
        text = fill(_(template), results) if template else " ".join(said)
        return Verdict(passed, text, numbers)

    def _side(
        self, clause: Clause, side: Side, results: dict[str, RunResult], numbers: dict[str, float]
    ) -> tuple[float, str]:
        """(the side's value, its words), its quantity kept in `numbers`."""
        first = next(iter(results.values()))
        if isinstance(side.term, float):
            value, words = side.term, _plain(side.term)
        elif side.term == "baseline":
            value = baseline_value(first, clause.metric)
            numbers[f"baseline.{clause.key}"] = value
            words = _("the baseline's {value}").format(value=shown(clause.metric, value))
        else:
            result = results[side.term]
            value = metric_value(result, clause.metric, clause.arg)
            numbers[f"{side.term}.{clause.key}"] = value
            words = _(_RUN_PHRASES[clause.metric]).format(
                run=side.term,
                metric=_(result.metric_name),
                value=shown(clause.metric, value),
                x=_plain(clause.arg or 0.0),
            )
        if side.factor is not None:
            value, words = side.factor * value, f"{_plain(side.factor)} × {words}"
        if side.offset:
            sign = "+" if side.offset > 0 else "−"
            value, words = value + side.offset, f"{words} {sign} {_plain(abs(side.offset))}"
        return value, words


def fill(template: str, results: dict[str, RunResult]) -> str:
    """The document's sentence with its placeholders filled in: {A.val_loss}, {B.words}
    (base.loss_words), {baseline.val_metric}, {A.steps_to(0.1)}. Anything else between
    braces stays as it is written."""
    first = next(iter(results.values()), None)

    def value(found: re.Match) -> str:
        who, what, arg = found.group(1), found.group(2), found.group(3)
        if (what == "steps_to") != (arg is not None) or first is None:
            return found.group()
        if who == "baseline":
            if what not in METRICS or what in NO_BASELINE:
                return found.group()
            return shown(what, baseline_value(first, what))
        if who not in results:
            return found.group()
        if what == "words" and arg is None:
            return loss_words(results[who])
        if what not in METRICS:
            return found.group()
        return shown(what, metric_value(results[who], what, None if arg is None else float(arg)))

    return _PLACEHOLDER.sub(value, template)
