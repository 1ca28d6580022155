"""The live view of a training run: counters, curves and what the model does now.
Drawn from a snapshot of the run's history; the page polls it while it trains."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st
import torch

from components.shell.state import escape_markdown
from components.train.live_chart import live_chart
from components.train.run_changes import settings_now
from designer.figures.compare import grad_norm_overlay, loss_overlay, metric_overlay
from designer.figures.curves import (
    Chart,
    change_label,
    figure,
    grad_norm_chart,
    loss_chart,
    metric_chart,
    term,
)
from designer.figures.tasks import model_view
from designer.i18n import N_, Text, _, language, ngettext
from designer.training.compare import digest, label
from designer.training.health import explosion_warning
from designer.training.runner import Runner
from designer.training.trainer import History

# While a run trains, what the model does now is redrawn at most this often (a plotly
# figure costs the browser far more to draw than the canvas curves).
MODEL_VIEW_SECONDS = 6.0
CHANGES_SHOWN = 3  # changes of settings listed by the status; earlier ones counted

STATES = {  # the words marked only: state_text translates them
    "queued": (N_("Waiting for a free training slot"), ":material/hourglass_top:"),
    "starting": (N_("Starting"), ":material/hourglass_top:"),
    "running": (N_("Training"), ":material/play_circle:"),
    "paused": (N_("Paused"), ":material/pause_circle:"),
    "finished": (N_("Finished"), ":material/check_circle:"),
    "stopped": (N_("Stopped"), ":material/stop_circle:"),
    "diverged": (N_("Diverged"), ":material/error:"),
    "failed": (N_("Failed"), ":material/error:"),
    "idle": (N_("Ready"), ":material/radio_button_unchecked:"),
}


def speed(history: History, window: int = 50) -> float | None:
    """Steps per second of training time over the last `window` steps."""
    if len(history.step) < 2:
        return None
    i = max(0, len(history.step) - window)
    seconds = history.time[-1] - history.time[i]
    return (history.step[-1] - history.step[i]) / seconds if seconds > 0 else None


def duration(seconds: float) -> str:
    """'2m 05s', '40s': a wait or a run's length, in the reader's language."""
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes:
        return _("{minutes}m {seconds}s").format(minutes=minutes, seconds=f"{secs:02d}")
    return _("{seconds}s").format(seconds=secs)


def time_left(runner: Runner, history: History) -> float | None:
    """Seconds until a running run reaches its last step, at its recent pace."""
    rate = speed(history)
    if not rate or runner.state != "running" or not history.step:
        return None
    return max(0.0, (runner.total - history.step[-1]) / rate)


def state_text(runner: Runner, yours: bool = False) -> tuple[str, str]:
    """The run's state in words, with its place while it waits for a training slot
    ('Waiting for a free training slot: number 2 in the queue'; `yours`: 'you are
    number 2'), and its icon."""
    text, icon = STATES[runner.state]
    text = _(text)
    place = runner.queue_position()
    if place and yours:
        text = _("{state}: you are number {place} in the queue").format(state=text, place=place)
    elif place:
        text = _("{state}: number {place} in the queue").format(state=text, place=place)
    return text, icon


def changes_text(runner: Runner, history: History) -> str | None:
    """The settings changed while the run trained, in words (the last CHANGES_SHOWN,
    with the number of earlier ones), and those in effect now; None if none were."""
    if not history.changes:
        return None
    first = runner.record.exp.train
    before: tuple[float, float | None] = (first.lr, first.clip_norm)
    said = []
    for change in history.changes:
        label = change_label(change, before)
        before = (change["lr"], change["clip_norm"])
        if label is not None:
            step = f"{change['step']:,}"
            said.append(_("after step {step}, {change}").format(step=step, change=label))
    if not said:
        return None
    earlier = len(said) - CHANGES_SHOWN
    text = _("; ").join(said[-CHANGES_SHOWN:])
    if earlier > 0:
        text = ngettext(
            "{n} earlier change; {changes}", "{n} earlier changes; {changes}", earlier
        ).format(n=f"{earlier:,}", changes=text)
    return _("Settings changed while training: {changes}. Now {settings}.").format(
        changes=text, settings=settings_now(runner.record.spec)
    )


def status(runner: Runner, history: History) -> None:
    text, icon = state_text(runner, yours=True)
    if runner.state in ("finished", "stopped") and history.step:
        text = _("{state}: {steps} steps in {seconds} s of training").format(
            state=text, steps=f"{history.step[-1]:,}", seconds=f"{runner.busy_seconds:.1f}"
        )
    if runner.dropped:
        names = _(", ").join(escape_markdown(name) for name in runner.dropped)
        st.caption(
            _("To keep this run, the oldest kept run was dropped: {names}.").format(names=names)
        )
    if runner.state == "diverged":
        st.error(escape_markdown(runner.error), icon=icon)  # a Text, or words, from the run
    elif runner.state == "failed":
        st.error(
            _(
                "The run ended abnormally: {error}. The experiment is intact; press Start "
                "to train again."
            ).format(error=escape_markdown(runner.error)),
            icon=icon,
        )
    else:
        st.markdown(f"{icon} **{text}**")
        warning = explosion_warning(history, runner.record.task.baseline_loss())
        if warning:
            st.warning(warning, icon=":material/warning:")
    changed = changes_text(runner, history)
    if changed:
        st.caption(escape_markdown(changed))
    step = history.step[-1] if history.step else 0
    rate = speed(history)
    evals = history.evals
    c = st.columns(5)
    c[0].metric(_("Step (of {total})").format(total=f"{runner.total:,}"), f"{step:,}")
    c[1].metric(_("Steps per second"), f"{rate:.1f}" if rate else "–")
    left = time_left(runner, history)
    c[2].metric(_("Time left"), duration(left) if left is not None else "–")
    c[3].metric(_("Validation loss"), f"{evals[-1]['val_loss']:.4g}" if evals else "–")
    task = runner.record.task
    c[4].metric(
        _("Validation {metric}").format(metric=term(task.metric_name)),
        f"{evals[-1]['val_metric']:.4g}" if evals else "–",
    )


def curves(runner: Runner, history: History) -> None:
    """While a run trains the curves are drawn on a canvas (cheap to redraw at every
    poll); once it has ended, as plotly figures that can be zoomed."""
    log = st.toggle(_("Log scale"), value=True, key="train_log")
    task = runner.record.task
    first = runner.record.exp.train  # the settings it started with, before any change
    charts = {
        "loss": loss_chart(
            history,
            task.baseline_loss(),
            log=log,
            unit=task.loss_unit,
            started_with=(first.lr, first.clip_norm),
        ),
        "metric": metric_chart(history, task.metric_name, task.baseline_metric()),
        "grad": grad_norm_chart(history, runner.record.spec.clip_norm, log=log),
    }
    draw_charts(charts, live=runner.alive, key="train")


# Streamlit's names for the colours of runs A, B, C, D (designer.figures.compare)
RUN_COLOR_NAMES = ("blue", "orange", "green", "violet")


def _short(value: float) -> str:
    """A number that fits half a page's metric: 0.177, 1.2e-04."""
    return f"{value:.3g}" if value == 0 or abs(value) >= 1e-3 else f"{value:.1e}"


def pair(runs: list[Runner]) -> None:
    """A run and its variant training side by side: each one's state and figures in
    its own colour, and their curves overlaid (live while either trains)."""
    digests = [digest(run) for run in runs]
    for i, (run, col) in enumerate(zip(runs, st.columns(len(runs)), strict=True)):
        with col:
            text, icon = state_text(run)
            name = escape_markdown(label(i, digests[i], length=60))
            st.markdown(f":{RUN_COLOR_NAMES[i]}[:material/circle: **{name}**]  \n{icon} {text}")
            if run.state in ("diverged", "failed"):
                st.error(escape_markdown(run.error or ""), icon=icon)
            elif warning := explosion_warning(run.history, run.record.task.baseline_loss()):
                st.warning(warning, icon=":material/warning:")
            last = digests[i].last_eval
            c = st.columns(3)
            step = run.history.step[-1] if run.history.step else 0
            c[0].metric(_("Step (of {total})").format(total=f"{run.total:,}"), f"{step:,}")
            c[1].metric(_("Validation loss"), _short(last["val_loss"]) if last else "–")
            metric = _("Validation {metric}").format(metric=term(digests[i].metric_name))
            c[2].metric(metric, _short(last["val_metric"]) if last else "–")
    log = st.toggle(_("Log scale"), value=True, key="train_log")
    charts = {
        "loss": loss_overlay(digests, log=log),
        "metric": metric_overlay(digests),
        "grad": grad_norm_overlay(digests, log=log),
    }
    draw_charts(charts, live=any(run.alive for run in runs), key="train_pair")


def draw_charts(charts: dict[str, Chart], live: bool, key: str) -> None:
    """The loss across the page, the metric and the gradient norm below it side by
    side: on a canvas while a run trains, as plotly figures (zoom, hover) after."""
    top = st.container()
    left, right = st.columns(2)
    places = dict(zip(charts, (top, left, right), strict=True))
    for name, chart in charts.items():
        with places[name]:
            if live:
                live_chart(chart, key=f"{key}_{name}_live")
            else:
                st.plotly_chart(
                    figure(chart),
                    key=f"{key}_{name}_chart",
                    width="stretch",
                    config={"displaylogo": False},
                )


@dataclass
class ModelView:
    """The figure of what a run's model does, and when it was drawn."""

    run: int  # id() of the runner
    step: int  # the evaluation it shows
    figure: Any
    drawn_at: float  # time.monotonic()
    lang: str = ""  # the language its words are in


def model_now(runner: Runner) -> None:
    """What the model does on a few validation samples, redrawn at each evaluation
    (the model is read between two training steps, under the runner's lock)."""
    record = runner.record
    task = record.task
    cached: ModelView | None = st.session_state.get("train_view")
    step = record.history.evals[-1]["step"] if record.history.evals else 0
    now = time.monotonic()
    # another run, or the same in another language, must be drawn now
    other_run = cached is None or cached.run != id(runner) or cached.lang != language()
    newer = other_run or cached.step != step  # or a later evaluation
    waited = cached is not None and now - cached.drawn_at >= MODEL_VIEW_SECONDS
    if newer and (other_run or waited or not runner.alive):
        with runner.model_lock, torch.no_grad():
            was_training = record.model.training
            record.model.eval()
            x, y = record.view_batch()
            pred = record.model(x)
            record.model.train(was_training)
        cached = ModelView(id(runner), step, model_view(task, x, y, pred), now, language())
        st.session_state["train_view"] = cached
    st.plotly_chart(
        cached.figure,
        key="train_view_chart",
        width="stretch",
        # a picture while it trains (redrawn at every evaluation, it would not keep
        # a zoom anyway, and a static plot is cheaper for the browser to draw)
        config={"staticPlot": runner.alive, "displaylogo": False},
    )
    if task.generates_text:
        _text_sampler(runner, step)


def _text_sampler(runner: Runner, step: int) -> None:
    """A prompt, a temperature and the weights to write with, for a model that writes
    text; the text it wrote stays under them."""
    record = runner.record
    task = record.task
    c1, c2 = st.columns([1, 3])
    temperature = c1.slider(
        _("Temperature"),
        0.1,
        2.0,
        0.8,
        0.1,
        key="train_temperature",
        help=_("Low: safe, repetitive text. High: adventurous, misspelt."),
    )
    # the prompt stays English: the model learned an English story
    prompt = c2.text_input(_("Start the text with"), "The lighthouse", key="train_prompt")
    # the best evaluation's weights: sent by the training process as the run ends
    best = None if runner.alive else record.best
    # the step of the weights the model holds: where a stopped run stopped, else
    # the latest evaluation (a run that diverged holds those from before it did)
    last = record.step_count if runner.state in ("finished", "stopped") else step
    weights = "last"
    if best is not None and best["step"] != last:
        weights = st.radio(
            _("Weights"),
            ("best", "last"),
            format_func=lambda w: (
                _("Best: step {step}, the lowest validation loss ({loss})").format(
                    step=f"{best['step']:,}", loss=f"{best['val_loss']:.4g}"
                )
                if w == "best"
                else _("Last: step {step}").format(step=f"{last:,}")
            ),
            horizontal=True,
            key="train_sample_weights",
            help=_(
                "The story is short: after a few hundred steps the model learns it by "
                "heart and the validation loss rises again. The weights of its lowest "
                "point usually write the better text."
            ),
        )
    elif runner.alive:
        st.caption(_("The weights of the best evaluation can be picked once the run ends."))
    if st.button(_("Sample text"), key="train_sample", icon=":material/edit_note:"):
        # kept as a Text: the caption follows a change of language
        if weights == "best":
            text = task.sample_text(record.best_model(), prompt, 300, temperature, seed=step)
            used = Text(
                "Written with the best evaluation's weights, of step {step}.",
                step=f"{best['step']:,}",
            )
        else:
            with runner.model_lock:
                text = task.sample_text(record.model, prompt, 300, temperature, seed=step)
            used = Text("Written with the last weights, of step {step}.", step=f"{last:,}")
        st.session_state["train_sample_written"] = (text, used)
    if "train_sample_written" in st.session_state:
        text, used = st.session_state["train_sample_written"]
        st.caption(str(used))
        st.code(text, language=None, wrap_lines=True)
