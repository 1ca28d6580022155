"""Which runs the Compare page shows, and what it reads of each.

The choice lives in the session (not only in the widget, whose state Streamlit drops
when another page is shown), so Compare opens again on the same runs; after "Train a
variant" it opens on the run and its variant. A kept run is read from disk once per
session and only its digest stays in memory (designer.training.compare.RunDigest)."""

from __future__ import annotations

import streamlit as st

from components.shell.state import escape_markdown, notify
from designer.i18n import _
from designer.serving.runstore import Link
from designer.training.checkpoints import CheckpointError
from designer.training.compare import LETTERS, MAX_RUNS, RunDigest, digest

COMPARE_SELECTION = "compare_runs"  # the ids chosen, kept across pages
DIGESTS = "compare_digests"  # run id -> RunDigest of a kept run
PICKER = "compare_picker"


def _options(link: Link | None) -> dict[str, str]:
    """id -> name of every run that can be compared: kept ones and those on show."""
    if link is None:
        return {}
    kept = _("{name} ({task}, {steps} steps)")
    options = {
        run["id"]: kept.format(name=run["name"], task=run["task"], steps=f"{run['step']:,}")
        for run in link.runs()
    }
    for run in link.shown():
        if run.run_id and run.run_id not in options:
            options[run.run_id] = _("{name} (training)").format(name=run.name)
    seen: dict[str, int] = {}
    for run_id, text in options.items():  # the picker tells runs apart by their text
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            options[run_id] = f"{text} #{seen[text]}"
    return options


def _default(link: Link, options: dict[str, str]) -> list[str]:
    """The last run and its variant, or else the two newest runs."""
    pair = [run_id for run_id in link.index.get("pair") or [] if run_id in options]
    return pair if len(pair) == 2 else list(options)[-2:]


def compare_picker(link: Link | None) -> list[str]:
    """The picker of two to four runs; returns the ids chosen."""
    options = _options(link)
    if COMPARE_SELECTION in st.session_state:  # what the visitor picked
        chosen = [i for i in st.session_state[COMPARE_SELECTION] if i in options]
    else:  # until then, the newest runs (new ones join as they come)
        chosen = _default(link, options) if link is not None else []
    st.session_state[PICKER] = chosen

    def remember() -> None:
        st.session_state[COMPARE_SELECTION] = st.session_state[PICKER]

    st.multiselect(
        _("Runs to compare"),
        list(options),
        format_func=lambda run_id: options.get(run_id, run_id),
        max_selections=MAX_RUNS,
        key=PICKER,
        on_change=remember,
        placeholder=_("Pick runs kept for this link"),
        help=_(
            "Up to {n}; in the figures they are {letters} in the order picked, each in its "
            "own colour."
        ).format(n=MAX_RUNS, letters=", ".join(LETTERS[:MAX_RUNS])),
    )
    return chosen


def chosen_runs(link: Link, ids: list[str]) -> list[RunDigest]:
    """The digest of each chosen run: a run on show is read live; a kept one from
    disk, once per session."""
    cache: dict[str, RunDigest | None] = st.session_state.setdefault(DIGESTS, {})
    names = {run["id"]: run["name"] for run in link.runs()}
    runs = []
    for run_id in ids:
        runner = link.find(run_id)
        if runner is not None:
            found = digest(runner)
        elif run_id in cache:
            found = cache[run_id]  # None: it could not be read (said once)
        else:
            try:
                found = digest(link.load(run_id))
            except CheckpointError as err:
                name = escape_markdown(names.get(run_id, ""))
                said = _("The run '{name}' could not be read: {error}")
                notify("error", said.format(name=name, error=escape_markdown(err)))
                found = None
            cache[run_id] = found
        if found is not None:
            found.name = names.get(run_id, found.name)
            runs.append(found)
    for stale in set(cache) - set(names):  # deleted runs leave the session too
        del cache[stale]
    return runs
