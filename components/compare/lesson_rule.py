"""The verdict rule of a lesson being made: a picker that writes a clause of the rule
(designer.lessons.rules: metric, run, comparison, and another run, a factor of the
baseline or a number), and the rule's text itself, editable and checked as it is
typed: its problem under the field, or what it says."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.compare.lesson_form import form, kept
from components.shell.state import escape_markdown
from designer.i18n import N_, _
from designer.lessons.rules import METRICS, NO_BASELINE, Clause, Rule, RuleError, Side, parse_rule

RULE = "ml_rule"
OPS = ("<", ">", "<=", ">=")
WITH_BASELINE = [name for name in METRICS if name not in NO_BASELINE]
AGAINST = {
    "run": N_("another run"),
    "baseline": N_("a factor of the baseline"),
    "number": N_("a number"),
}


# What a rule reads, one whole phrase per metric (the numbers come with the verdict).
_QUANTITY = {
    "val_loss": N_("{run}'s final validation loss"),
    "val_metric": N_("{run}'s final validation metric"),
    "best_val_metric": N_("{run}'s best validation metric"),
    "first_val_metric": N_("{run}'s first validation metric"),
    "grad_reach": N_("the share of {run}'s gradient that reaches the first step"),
    "bottom_grad": N_("{run}'s bottom-layer gradient before training"),
    "peak_grad": N_("{run}'s largest gradient norm"),
    "steps_to": N_("{run}'s first step at {x} × the baseline loss"),
}


def rule_words(rule: Rule) -> str:
    """'B's final validation loss < 0.1 × the baseline's', a clause at a time."""
    said = []
    for clause in rule.clauses:
        left, right = _side_words(clause, clause.left), _side_words(clause, clause.right)
        said.append(f"{left} {clause.op} {right}")
    return _("; ").join(said)


def _side_words(clause: Clause, side: Side) -> str:
    if isinstance(side.term, float):
        words = f"{side.term:g}"
    elif side.term == "baseline":
        words = _("the baseline's")
    else:
        words = _(_QUANTITY[clause.metric]).format(run=side.term, x=f"{clause.arg or 0:g}")
    if side.factor is not None:
        words = f"{side.factor:g} × {words}"
    if side.offset:
        words = f"{words} {'+' if side.offset > 0 else '−'} {abs(side.offset):g}"
    return words


def default_rule(labels: list[str]) -> str:
    """The last run ends with a lower validation loss than the first."""
    return f"val_loss: {labels[-1]} < {labels[0]}"


def clause(labels: list[str]) -> str:
    """The picker's clause: 'val_loss: B < 0.5 * baseline'."""
    words = {name: _(text) for name, text in METRICS.items()}  # in the page's thread
    c1, c2, c3 = st.columns([3, 1, 1])
    metric = kept(
        c1.selectbox,
        "ml_metric",
        "val_loss",
        _("Metric"),
        list(METRICS),
        format_func=lambda name: f"{name}: {words.get(name, '')}",
    )
    run = kept(c2.selectbox, "ml_run", labels[-1], _("Run"), labels)
    op = kept(c3.selectbox, "ml_op", "<", _("Comparison"), OPS)
    if metric == "steps_to":
        share = kept(
            st.number_input,
            "ml_steps_to",
            0.5,
            _("Reached at a validation loss of this share of the baseline's"),
            min_value=0.0,
            step=0.05,
        )
        metric = f"steps_to({share:g})"
    choices = [a for a in AGAINST if a != "baseline" or metric in WITH_BASELINE]
    if len(labels) < 2:
        choices.remove("run")
    against_words = {a: _(text) for a, text in AGAINST.items()}
    c4, c5 = st.columns([2, 1], vertical_alignment="bottom")
    against = kept(
        c4.radio,
        "ml_against",
        choices[0],
        _("Against"),
        choices,
        format_func=against_words.get,
        horizontal=True,
    )
    return f"{metric}: {run} {op} {_other_side(against, run, labels, c5)}"


def _other_side(against: str, run: str, labels: list[str], place: DeltaGenerator) -> str:
    """The clause's right side: another run, 'factor * baseline', or a number."""
    if against == "run":
        others = [label for label in labels if label != run] or labels
        return kept(place.selectbox, "ml_other", others[0], _("The other run"), others)
    if against == "baseline":
        factor = kept(place.number_input, "ml_factor", 0.5, _("Times the baseline"), step=0.05)
        return f"{factor:g} * baseline"
    number = kept(place.number_input, "ml_number", 0.0, _("The number"), format="%g")
    return f"{number:g}"


def _write(text: str, add: bool) -> None:
    """A button's callback: the picker's clause becomes the rule, or its next clause."""
    old = str(st.session_state.get(RULE, "")).strip()
    new = f"{old} and {text}" if add and old else text
    st.session_state[RULE] = new
    form()[RULE] = new


def rule_editor(labels: list[str]) -> str | None:
    """The rule picker and the rule's text; the rule when it parses, else None (its
    problem shown under the field)."""
    st.markdown(_("**The verdict.** When do these runs show the result?"))
    written = clause(labels)
    c1, c2 = st.columns(2)
    c1.button(_("Write the rule"), key="ml_rule_write", on_click=_write, args=(written, False))
    c2.button(_("Add it with “and”"), key="ml_rule_add", on_click=_write, args=(written, True))
    text = kept(
        st.text_input,
        RULE,
        default_rule(labels),
        _("The rule"),
        help=_(
            "Clauses joined by “and”, each `metric: side < side`; a side is a run (A to D), "
            "`baseline` or a number, times a number or plus one: "
            "`val_loss: B < 0.1 * baseline and A > 0.5 * baseline`."
        ),
    )
    try:
        rule = parse_rule(text, labels)
    except RuleError as err:
        st.error(escape_markdown(str(err)), icon=":material/error:")
        return None
    st.caption(_("The rule reads: {words}").format(words=escape_markdown(rule_words(rule))))
    return text
