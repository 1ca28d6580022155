"""Compare: two to four runs of this link side by side, one colour per run."""

import streamlit as st

from components.compare.compare_inside import show_inside
from components.compare.compare_runs import chosen_runs, compare_picker
from components.compare.make_lesson import make_lesson
from components.shell.links import current_link
from components.shell.state import escape_markdown, get_experiment, show_notices, show_url_warning
from components.shell.tables import fitted_table
from components.train.kept_runs import kept_runs
from components.train.run_view import draw_charts
from designer.figures.compare import (
    grad_norm_overlay,
    loss_overlay,
    metric_overlay,
    profile_figure,
    radius_figure,
)
from designer.i18n import _
from designer.training.compare import changes, metrics_rows, why_not_comparable

POLL_SECONDS = 3.0  # a run still training redraws the page this often

get_experiment()  # keeps the experiment in the link
link = current_link()
show_url_warning()
show_notices()

st.title(_("Compare"))
st.caption(
    _(
        "Runs side by side: the same task with one thing changed is the clearest way to see "
        "what a design choice does. Train a variant from the Train page, or pick any runs "
        "kept for this link."
    )
)
selected = compare_picker(link)
live = link is not None and any(run.alive for run in link.shown())

if len(selected) < 2:
    st.info(
        _(
            "Pick two to four runs. On the Train page, **Train a variant** trains a run again "
            "with one thing changed, beside the original."
        ),
        icon=":material/compare:",
    )
else:

    @st.fragment(run_every=POLL_SECONDS if live else None)
    def side_by_side() -> None:
        runs = chosen_runs(link, selected)
        for letter, changed in changes(runs):
            if changed:
                items = _("; ").join(escape_markdown(c) for c in changed)
                said = _("**{letter}** differs from **A** in: {changes}")
            else:
                items = ""
                said = _("**{letter}** differs from **A** in: nothing: the same experiment")
            st.markdown(said.format(letter=letter, changes=items))
        reason = why_not_comparable(runs)
        if reason:
            st.warning(escape_markdown(reason), icon=":material/warning:")
        fitted_table(metrics_rows(runs))
        c1, c2 = st.columns([2, 1])
        against = c1.radio(
            _("Curves against"),
            ["step", "seconds"],
            # words fixed now: a format_func is also called outside this run (AppTest)
            format_func={"step": _("step"), "seconds": _("seconds")}.get,
            horizontal=True,
            key="compare_x",
        )
        log = c2.toggle(_("Log scale"), value=True, key="compare_log")
        charts = {
            "loss": loss_overlay(runs, against, log),
            "metric": metric_overlay(runs, against),
            "grad": grad_norm_overlay(runs, against, log),
        }
        draw_charts(charts, live=any(run.alive for run in runs), key="compare")
        left, right = st.columns(2)
        left.plotly_chart(profile_figure(runs), key="compare_profile", width="stretch")
        right.plotly_chart(radius_figure(runs), key="compare_radius", width="stretch")
        st.caption(
            _(
                "Left: how much gradient reaches each time step of each recurrent layer in the "
                "run's last probe, counted back from the last step (log scale): a straight "
                "falling line is a gradient vanishing exponentially through time. Right: the "
                "largest |eigenvalue| of each layer's recurrent weights over training."
            )
        )

    side_by_side()
    make_lesson([(run.name, run.experiment) for run in chosen_runs(link, selected)])
    names = {run["id"]: run["name"] for run in link.runs()}
    names.update({run.run_id: run.name for run in link.shown() if run.run_id})
    show_inside(link, selected, names)

kept_runs(link, disabled=live, expanded=len(selected) < 2)
