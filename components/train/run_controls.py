"""The Train page's controls: Start, Pause/Resume, Step, Stop, "Change while
training" (components.train.run_changes), Reset, Continue, and "Train a variant" (A/B in
one click). With a run and its variant on the page, Pause, Resume, Step and Stop act
on both; a change of settings on the current run only."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.compare.compare_runs import COMPARE_SELECTION
from components.shell.links import current_link
from components.shell.state import escape_markdown, notify
from components.train.run_changes import change_menu, changeable
from components.train.runs import (
    MAX_RUN_PARAMETERS,
    continue_run,
    discard_run,
    run_matches,
    start_run,
    start_variant,
)
from designer import Experiment, summarize
from designer.document.variants import Variant, variants
from designer.i18n import _
from designer.training.runner import Runner


def _shown() -> list[Runner]:
    """The runs the link shows now (another tab may have changed them since the
    buttons were drawn)."""
    link = current_link()
    return link.shown() if link is not None else []


def _each(action: str) -> None:
    for run in _shown():
        if run.alive:
            getattr(run, action)()


def _each_button(
    row: st.delta_generator.DeltaGenerator, label: str, action: str, **kwargs: Any
) -> None:
    """A button (key train_ + `action`) that does `action` to every live run on show."""
    row.button(label, key="train_" + action, on_click=_each, args=(action,), **kwargs)


def _step(exp: Experiment) -> None:
    paused = [run for run in _shown() if run.alive and run.state == "paused"]
    for run in paused:
        run.step_once()
    if not paused:
        start_run(exp, paused=True).step_once()


def controls(exp: Experiment, runs: list[Runner], too_big: bool) -> None:
    """The buttons for the runs the page shows (`runs`: the current run first)."""
    active = any(run.alive for run in runs)
    paused = any(run.alive and run.state == "paused" for run in runs)
    b = st.container(horizontal=True)
    b.button(
        _("Start"),
        key="train_start",
        type="primary",
        icon=":material/play_arrow:",
        disabled=active or too_big,
        on_click=start_run,
        args=(exp,),
    )
    if paused:
        _each_button(b, _("Resume"), "resume", icon=":material/resume:")
    else:
        _each_button(b, _("Pause"), "pause", icon=":material/pause:", disabled=not active)
    b.button(
        _("Step"),
        key="train_step",
        icon=":material/skip_next:",
        disabled=(active and not paused) or too_big,
        help=_("One training step at a time, for explaining"),
        on_click=_step,
        args=(exp,),
    )
    _each_button(b, _("Stop"), "stop", icon=":material/stop:", disabled=not active)
    base = runs[0] if runs else None
    if changeable(base):
        change_menu(b, base, pair=len(runs) > 1)
    b.button(
        _("Reset"),
        key="train_reset",
        icon=":material/restart_alt:",
        disabled=not runs,
        on_click=discard_run,
        help=_("Forget this run; the next Start begins from fresh weights"),
    )
    if base is not None and base.state in ("finished", "stopped") and run_matches(base, exp):
        _continue_button(b, base, exp.train.steps)
    with b.popover(
        _("Train a variant"),
        icon=":material/call_split:",
        disabled=base is None,
        help=_("Train this run again with one thing changed, beside it, to compare"),
    ):
        if base is not None:
            _variant_menu(base)


def _continue_button(row: st.delta_generator.DeltaGenerator, base: Runner, steps: int) -> None:
    more = f"{steps:,}"
    if base.record.resume_state:
        help_text = _(
            "Train {steps} more steps from where this run ended (the Steps setting), as a "
            "new run that keeps this one's curves."
        ).format(steps=more)
    else:
        help_text = _(
            "Train {steps} more steps from where this run ended (the Steps setting), as a "
            "new run that keeps this one's curves. Its optimizer starts afresh: the "
            "checkpoint holds no optimizer state."
        ).format(steps=more)
    row.button(
        _("Continue +{steps}").format(steps=more),
        key="train_continue",
        icon=":material/fast_forward:",
        on_click=continue_run,
        args=(steps,),
        help=help_text,
    )


def _variant_menu(base: Runner) -> None:
    options = [
        v
        for v in variants(base.record.exp, base.record.task)
        if summarize(v.experiment, base.record.task).total <= MAX_RUN_PARAMETERS
    ]
    by_key = {v.key: v for v in options}
    choice = st.radio(
        _("Change one thing"),
        list(by_key),
        format_func=lambda key: by_key[key].label,
        key="variant_choice",
    )
    st.caption(
        _(
            "The variant trains beside this run on the same data, in the same order, from "
            "the same initial weights wherever the shapes match (another seed changes "
            "both). Both curves appear below; Compare shows them side by side."
        )
    )
    st.button(
        _("Train the variant"),
        key="train_variant",
        type="primary",
        icon=":material/call_split:",
        disabled=choice is None,
        on_click=_start_variant,
        args=(by_key.get(choice),),
    )


def _start_variant(variant: Variant | None) -> None:
    if variant is None or start_variant(variant.experiment) is None:
        notify(
            "error",
            _(
                "The run to train a variant of is no longer on show (another tab of this "
                "link may have started or opened another): the variant was not started."
            ),
        )
        return
    st.session_state.pop(COMPARE_SELECTION, None)  # Compare opens on the new pair
    notify(
        "success",
        _("Training the variant: {variant}.").format(variant=escape_markdown(variant.label)),
    )
