"""What a lesson step shows beside its text, drawn from the lesson's runs with the
app's own figures (the curves of Train, the profiles of Compare, the maps of
Inspect, the unrolled graph)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import replace

import streamlit as st

from components.inspect.influence_view import show_influence
from components.inspect.probe_source import run_weights
from components.shell.state import escape_markdown
from components.shell.tables import fitted_table
from components.train.run_view import (
    RUN_COLOR_NAMES,
    draw_charts,
    duration,
    model_now,
    state_text,
    time_left,
)
from designer.figures.compare import (
    grad_norm_overlay,
    loss_overlay,
    metric_overlay,
    profile_figure,
)
from designer.figures.curves import Chart
from designer.figures.graph import graph_figure
from designer.figures.probes import gradient_heatmap, state_heatmap
from designer.i18n import N_, _, language
from designer.inside.graph import unroll, visible_steps
from designer.lessons import Lesson, Step
from designer.training.compare import RunDigest, digest, metrics_rows
from designer.training.health import explosion_warning
from designer.training.runner import Runner

WAITING = N_("This view fills in once the run has trained: it shows the trained network.")


def show_view(lesson: Lesson, step: Step, runners: dict[str, Runner] | None) -> None:
    """The step's view, for the runs of the lesson (None: not started yet)."""
    if runners is None:
        st.info(_("Make your prediction, then train: the view fills in as the runs train."))
        return
    ordered = [runners[run.label] for run in lesson.runs]
    if step.view == "curves":
        curves(lesson, ordered)
        return
    if step.view in ("gradients", "table"):
        digests = [_named(digest(runner)) for runner in ordered]
        if step.view == "gradients":
            st.plotly_chart(profile_figure(digests), key="lesson_profile", width="stretch")
            st.caption(
                _(
                    "||dL/dh_t|| of each recurrent layer in the run's latest probe, counted "
                    "back from the last step (log scale)."
                )
            )
        else:
            fitted_table(metrics_rows(digests))
        return
    if step.view == "inputs":
        _inputs(lesson, step, runners)
        return
    runner = runners[step.run or lesson.runs[0].label]
    if step.view == "sample":
        model_now(runner)
        return
    record = runner.record
    if runner.alive or record.last_probe is None:
        st.info(_(WAITING))
        return
    summary = record.history.probes[-1] if record.history.probes else record.last_probe.summary()
    title = f"**{step.run or lesson.runs[0].label}: {escape_markdown(_shown(runner.name))}**"
    st.markdown(title)
    if step.view == "gradient-map":
        st.plotly_chart(gradient_heatmap(summary), key="lesson_grad_map", width="stretch")
    elif step.view == "states":
        layer = summary.layers[0]
        what = "cell" if layer.get("cell") is not None else "hidden"
        first = record.last_probe.x[0]  # every probe reads the same batch
        marks = [] if record.task.token_input else record.task.marked_steps(first)
        figure = state_heatmap(layer, sample=0, what=what, marks=marks)
        st.plotly_chart(figure, key="lesson_states", width="stretch")
        if what == "cell":
            st.caption(_("The cell state of the first recurrent layer, for the first sequence."))
        else:
            st.caption(_("The hidden state of the first recurrent layer, for the first sequence."))
    elif step.view == "graph":
        task = record.task
        G = unroll(record.exp, task, steps=visible_steps(task.seq_len, 24))
        figure = graph_figure(G, record.last_probe, "gradient")
        st.plotly_chart(figure, key="lesson_graph", width="stretch")
        st.caption(_("Each node coloured by ||dL/dh_t|| (log), from the trained network's probe."))


def _inputs(lesson: Lesson, step: Step, runners: dict[str, Runner]) -> None:
    """Which input steps a run's output uses, for the step's run or another of the
    lesson's (the contrast between them is the point)."""
    labels = [run.label for run in lesson.runs]
    first = step.run or labels[0]
    chosen = st.segmented_control(
        _("Run"),
        labels,
        default=first,
        format_func=lambda label: f"{label}: {escape_markdown(_shown(runners[label].name))}",
        key="lesson_inputs_run",
        label_visibility="collapsed",
    )
    runner = runners[chosen or first]
    if runner.alive or not runner.record.history.evals:
        st.info(_(WAITING))
        return
    weights = run_weights(runner)
    show_influence(weights.exp, weights, key="lesson_", brief=True)


def _status(letter: str, runner: Runner, run: RunDigest, color: str) -> str:
    """'● A: tanh RNN, 64 units · Finished · step 1,500 of 1,500 · validation mse 0.16'"""
    parts = [
        state_text(runner)[0],
        _("step {step} of {total}").format(
            step=f"{runner.record.step_count:,}", total=f"{runner.total:,}"
        ),
    ]
    left = time_left(runner, runner.history)
    if left is not None:
        parts.append(_("about {time} left").format(time=duration(left)))
    if run.last_eval:
        value = f"{run.last_eval['val_metric']:.3g}"
        message = _METRIC_WORDS.get(run.metric_name)
        if message is None:
            parts.append(
                _("validation {metric} {value}").format(metric=_(run.metric_name), value=value)
            )
        else:
            parts.append(_(message).format(value=value))
    return (
        f":{color}[:material/circle: **{letter}: {escape_markdown(_shown(runner.name))}**] · "
        + " · ".join(parts)
    )


# 'validation mse 0.16', one whole phrase per metric (its name reads differently in
# each language)
_METRIC_WORDS = {
    "mse": N_("validation mse {value}"),
    "accuracy": N_("validation accuracy {value}"),
    "bits per char": N_("validation bits per char {value}"),
}


def _named(run: RunDigest) -> RunDigest:
    """The digest with its run's name in the reader's language: a lesson's runs are
    named by the lesson's run titles (kept in English on the shared runner, which
    every session reads), and the figures' legends show the name."""
    return replace(run, name=_shown(run.name))


def _shown(name: str | None) -> str:
    """A run's name in the reader's language (a lesson's run title is a message id)."""
    return _(name) if name else ""


# A class watches the same shared runs: their digests and curves are made once per
# evaluation of the runs and language, for every session (each would otherwise redo
# the same work at every poll, thirty times over).
_DRAWN: OrderedDict[tuple, tuple[list[RunDigest], dict[str, Chart]]] = OrderedDict()
_DRAWN_LOCK = threading.Lock()
_DRAWN_KEPT = 16


def _drawn(runners: list[Runner], lang: str) -> tuple[list[RunDigest], dict[str, Chart]]:
    live = any(r.alive for r in runners)
    # while they train, what was drawn in the last second is drawn again
    moment = int(time.monotonic()) if live else None
    key = (tuple((id(r), r.state) for r in runners), moment, lang)
    with _DRAWN_LOCK:
        if key in _DRAWN:
            return _DRAWN[key]
    digests = [_named(digest(runner)) for runner in runners]
    charts = {
        "loss": loss_overlay(digests, log=True),
        "metric": metric_overlay(digests),
        "grad": grad_norm_overlay(digests, log=True),
    }
    with _DRAWN_LOCK:
        _DRAWN[key] = digests, charts
        while len(_DRAWN) > _DRAWN_KEPT:
            _DRAWN.popitem(last=False)
    return digests, charts


def curves(lesson: Lesson, runners: list[Runner]) -> None:
    """Each run's state in a line, and their curves overlaid (live while they train)."""
    digests, charts = _drawn(runners, language())
    for i, (run, runner) in enumerate(zip(lesson.runs, runners, strict=True)):
        st.markdown(_status(run.label, runner, digests[i], RUN_COLOR_NAMES[i]))
        if runner.state in ("diverged", "failed"):
            st.error(escape_markdown(str(runner.error or "")), icon=":material/error:")
        elif warning := explosion_warning(runner.history, runner.record.task.baseline_loss()):
            st.warning(str(warning), icon=":material/warning:")
    draw_charts(charts, live=any(r.alive for r in runners), key="lesson")
