"""The Train page's "Change while training": a new learning rate or gradient clipping
for the run in progress, from its next step on (designer.training.runner.ProcessRunner.change),
without restarting it. The run's history records each change and the loss curve
marks it.

A form: the values are sent together when Apply is pressed (or Enter in a field),
never half-typed at every keystroke."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from components.shell.links import current_link
from components.shell.state import notify
from designer.document.spec import SpecError, TrainSpec, field_range
from designer.figures.curves import change_label
from designer.i18n import N_, _
from designer.training.runner import Runner
from designer.training.trainer import scheduled_lr

KEY = "train_change"
LABELS = {"train.lr": N_("Learning rate"), "train.clip_norm": N_("Clipping threshold")}
# How long Apply waits for the training process to report the change (it applies it
# after the step under way, or at once when paused), so that the page drawn next shows
# the settings in effect; a slow step is not waited for.
ECHO_SECONDS = 1.0


def changeable(run: Runner | None) -> bool:
    """Whether the run takes changes: it trains, or waits to (a queued run takes its
    change as it starts). Offered from the moment Start is pressed, as the row of
    controls is redrawn only by a click, not while the curves move."""
    return run is not None and run.alive


def settings_now(spec: TrainSpec) -> str:
    """The learning rate and clipping in effect, in words."""
    if spec.clip_norm is None:
        return _("learning rate {lr}, clipping off").format(lr=f"{spec.lr:g}")
    return _("learning rate {lr}, clipping at norm {norm}").format(
        lr=f"{spec.lr:g}", norm=f"{spec.clip_norm:g}"
    )


def _schedule_note(spec: TrainSpec, step: int) -> str | None:
    """How a change of learning rate meets the schedule, when there is one."""
    parts = {"step": f"{step:,}", "lr": f"{scheduled_lr(spec, step):.3g}"}
    if spec.lr_schedule == "step":
        return _(
            "The learning rate is the base of the step-decay schedule, which goes on from "
            "the point it has reached, scaled to the new base (step {step}: {lr})."
        ).format(**parts)
    if spec.lr_schedule == "cosine":
        return _(
            "The learning rate is the base of the cosine schedule, which goes on from the "
            "point it has reached, scaled to the new base (step {step}: {lr})."
        ).format(**parts)
    return None


def _bind(run: Runner) -> None:
    """Fill the form with the run's settings in effect, whenever they (or the run)
    change; what the visitor typed stays until then."""
    spec = run.record.spec
    now = (run.run_id, spec.lr, spec.clip_norm)
    if st.session_state.get(f"{KEY}_for") != now:
        st.session_state[f"{KEY}_for"] = now
        st.session_state[f"{KEY}_lr"] = spec.lr
        st.session_state[f"{KEY}_clip"] = spec.clip_norm is not None
        st.session_state[f"{KEY}_clip_norm"] = spec.clip_norm or 1.0


def change_menu(where: Any, run: Runner, pair: bool = False) -> None:
    """The popover with the form, in `where` (the row of controls); `pair`: a variant
    trains beside the run, and keeps its own settings."""
    spec = run.record.spec
    with where.popover(
        _("Change while training"),
        icon=":material/tune:",
        help=_(
            "Change this run's learning rate or gradient clipping from its next step on, "
            "without restarting it. Now: {settings}."
        ).format(settings=settings_now(spec)),
    ):
        _bind(run)
        st.caption(_("Now: {settings}.").format(settings=settings_now(spec)))
        step = max(run.record.step_count, 1)  # the last step taken (as the page was drawn)
        note = _schedule_note(spec, step)
        if note:
            st.caption(note)
        with st.form(KEY, border=False):
            st.number_input(
                _("Learning rate"),
                min_value=0.0,
                max_value=field_range(TrainSpec, "lr")[1],
                format="%.5f",
                step=0.0005,
                key=f"{KEY}_lr",
            )
            st.checkbox(_("Clip the gradient norm"), key=f"{KEY}_clip")
            st.number_input(
                _("Clip at norm"),
                min_value=0.0,
                format="%.3f",
                step=0.1,
                key=f"{KEY}_clip_norm",
                help=_(
                    "Used when clipping is on: a step whose gradient is longer than this is "
                    "scaled down to it."
                ),
            )
            st.form_submit_button(
                _("Apply"),
                key=f"{KEY}_apply",
                type="primary",
                icon=":material/check:",
                on_click=_apply,
                args=(run.run_id,),
            )
        if pair:
            st.caption(
                _(
                    "The change is recorded in the run's history and marked on the loss "
                    "curve. It applies to this run only; the variant keeps its settings."
                )
            )
        else:
            st.caption(
                _("The change is recorded in the run's history and marked on the loss curve.")
            )


def _apply(run_id: str | None) -> None:
    """Send the form's values to the run, if it still trains; a plain message for a
    value the experiment document would not allow."""
    link = current_link()
    run = link.find(run_id) if link is not None and run_id is not None else None
    if not changeable(run):
        notify("error", _("The run is no longer training: nothing was changed."))
        return
    lr = st.session_state[f"{KEY}_lr"]
    clip_norm = st.session_state[f"{KEY}_clip_norm"] if st.session_state[f"{KEY}_clip"] else None
    before = run.record.spec
    try:
        sent = run.change(lr=lr, clip_norm=clip_norm)
    except SpecError as err:
        reasons = [
            _("{setting}: {problem}").format(
                setting=_(LABELS[p.path]) if p.path in LABELS else p.label, problem=p.message
            )
            for p in err.problems
        ]
        notify("error", _("The run's settings were not changed."), reasons)
        return
    wanted = (lr, clip_norm)
    deadline = time.monotonic() + ECHO_SECONDS
    while sent and (run.record.spec.lr, run.record.spec.clip_norm) != wanted:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    label = change_label({"lr": lr, "clip_norm": clip_norm}, (before.lr, before.clip_norm))
    if not sent:
        notify("error", _("The run is no longer training: nothing was changed."))
    elif label is None:
        notify(
            "info",
            _("Nothing to change: the run trains with {settings}.").format(
                settings=settings_now(before)
            ),
        )
    else:
        notify(
            "success",
            _(
                "From the next step on: {change}. The change is recorded in the run's history."
            ).format(change=label),
        )
