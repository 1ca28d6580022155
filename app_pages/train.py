"""Train: the model learns live, in a process of its own that the page polls."""

import streamlit as st

from components.shell.links import current_link
from components.shell.state import get_experiment, set_experiment, show_notices, show_url_warning
from components.train.hyperparameters import hyperparameters
from components.train.kept_runs import kept_runs
from components.train.run_controls import controls
from components.train.run_view import curves, model_now, pair, status
from components.train.runs import MAX_RUN_PARAMETERS, current_run, discard_run, run_matches
from designer import get_task, summarize
from designer.figures.tasks import sample_figure
from designer.i18n import _

POLL_SECONDS = 2.0  # how often a training page redraws itself

exp = get_experiment()
task = get_task(exp.task)
runner = current_run()
show_url_warning()  # a damaged link, or runs no longer kept, opened on this page
show_notices()  # a refused setting, say
total = summarize(exp, task).total

st.title(_("Train"))
st.caption(
    _("{task}, {n} layers, {parameters} parameters. {about}").format(
        task=_(task.title), n=len(exp.model.layers), parameters=f"{total:,}", about=_(task.lesson)
    )
)

if runner is not None and not run_matches(runner, exp):
    st.warning(
        _(
            "The design changed since this run started. Discard the run, or go back to "
            "the design it was trained on?"
        ),
        icon=":material/warning:",
    )
    c1, c2, _rest = st.columns([1, 1, 3])
    c1.button(_("Discard the run"), key="train_discard", on_click=discard_run)
    c2.button(
        _("Back to the run's design"),
        key="train_restore",
        on_click=lambda: set_experiment(runner.record.exp),
    )

link = current_link()
runs = link.shown() if link is not None else []
active = any(run.alive for run in runs)
settings_col, main_col = st.columns([1, 4], gap="large")
with settings_col:
    st.subheader(_("Settings"))
    hyperparameters(exp, disabled=active)
    if active:
        st.caption(
            _(
                "Settings apply to the next run. **Change while training** changes this "
                "run's learning rate or clipping from its next step on."
            )
        )

too_big = total > MAX_RUN_PARAMETERS
with main_col:
    controls(exp, runs, too_big)
    if link is not None and link.lost:
        st.warning(str(link.lost), icon=":material/cloud_off:")  # words, or a Text
    if too_big:
        st.error(
            _(
                "This model has {parameters} parameters; this server trains at most "
                "{limit}. Make the layers narrower or fewer on the Design page."
            ).format(parameters=f"{total:,}", limit=f"{MAX_RUN_PARAMETERS:,}")
        )

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def live() -> None:
        shown = link.shown() if link is not None else []
        if not shown:
            st.info(
                _(
                    "Press **Start** to train this design on the task, or **Step** to go "
                    "one step at a time."
                ),
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
        if len(shown) > 1:
            pair(shown)
            st.page_link(
                "app_pages/compare.py",
                label=_("Compare them side by side"),
                icon=":material/compare:",
            )
        else:
            run = shown[0]
            history = run.snapshot()
            status(run, history)
            if history.step:
                curves(run, history)
                model_now(run)
        if active and not any(run.alive for run in shown):  # it just ended: redraw the buttons
            st.rerun()

    live()
    kept_runs(current_link(), disabled=active)
