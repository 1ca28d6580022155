"""Train: the model learns live, in a process of its own that the page polls."""

import streamlit as st

from components.hyperparameters import hyperparameters
from components.links import current_link
from components.run_view import curves, kept_runs, model_now, status
from components.runs import (
    MAX_RUN_PARAMETERS,
    current_run,
    discard_run,
    run_matches,
    start_run,
)
from components.state import get_experiment, set_experiment, show_notices, show_url_warning
from designer import get_task, summarize
from designer.figures.tasks import sample_figure

POLL_SECONDS = 2.0  # how often a training page redraws itself

exp = get_experiment()
task = get_task(exp.task)
runner = current_run()
show_url_warning()  # a damaged link, or runs no longer kept, opened on this page
show_notices()  # a refused setting, say
total = summarize(exp, task).total

st.title("Train")
st.caption(f"{task.title}, {len(exp.model.layers)} layers, {total:,} parameters. {task.lesson}")

if runner is not None and not run_matches(runner, exp):
    st.warning(
        "The design changed since this run started. Discard the run, or go back to "
        "the design it was trained on?",
        icon=":material/warning:",
    )
    c1, c2, _ = st.columns([1, 1, 3])
    c1.button("Discard the run", key="train_discard", on_click=discard_run)
    c2.button(
        "Back to the run's design",
        key="train_restore",
        on_click=lambda: set_experiment(runner.record.exp),
    )

active = runner is not None and runner.alive
settings_col, main_col = st.columns([1, 4], gap="large")
with settings_col:
    st.subheader("Settings")
    hyperparameters(exp, disabled=active)
    if active:
        st.caption("Settings apply to the next run.")

too_big = total > MAX_RUN_PARAMETERS
with main_col:
    paused = runner is not None and active and runner.state in ("paused",)
    b = st.container(horizontal=True)
    b.button(
        "Start",
        key="train_start",
        type="primary",
        icon=":material/play_arrow:",
        disabled=active or too_big,
        on_click=lambda: start_run(exp),
    )
    if paused:
        b.button("Resume", key="train_resume", icon=":material/resume:", on_click=runner.resume)
    else:
        b.button(
            "Pause",
            key="train_pause",
            icon=":material/pause:",
            disabled=not active,
            on_click=lambda: runner.pause(),
        )
    b.button(
        "Step",
        key="train_step",
        icon=":material/skip_next:",
        disabled=(active and not paused) or too_big,
        help="One training step at a time, for explaining",
        on_click=lambda: runner.step_once() if paused else start_run(exp, paused=True).step_once(),
    )
    b.button(
        "Stop",
        key="train_stop",
        icon=":material/stop:",
        disabled=not active,
        on_click=lambda: runner.stop(wait=2.0),
    )
    b.button(
        "Reset",
        key="train_reset",
        icon=":material/restart_alt:",
        disabled=runner is None,
        on_click=discard_run,
        help="Forget this run; the next Start begins from fresh weights",
    )
    lost = current_link()
    if lost is not None and lost.lost:
        st.warning(lost.lost, icon=":material/cloud_off:")
    if too_big:
        st.error(
            f"This model has {total:,} parameters; this server trains at most "
            f"{MAX_RUN_PARAMETERS:,}. Make the layers narrower or fewer on the Design page."
        )

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def live() -> None:
        run = current_run()
        if run is None:
            st.info(
                "Press **Start** to train this design on the task, or **Step** to go one "
                "step at a time.",
                icon=":material/model_training:",
            )
            # what it will learn from (this also readies the chart library before
            # training starts, when drawing it the first time competes with the run)
            st.plotly_chart(
                sample_figure(task, exp.train.seed),
                key="train_sample_chart",
                width="stretch",
                config={"displayModeBar": False},
            )
            return
        history = run.snapshot()
        status(run, history)
        if history.step:
            curves(run, history)
            model_now(run)
        if active and not run.alive:  # it just ended: redraw the buttons too
            st.rerun()

    live()
    kept_runs(current_link(), disabled=active)
