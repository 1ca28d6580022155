"""The sidebar every page shares: presets that load in one click, and Import/Export of
the experiment as a JSON document."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from components.shell.links import LINK_PARAM
from components.shell.state import (
    escape_markdown,
    get_experiment,
    notify,
    select_layer,
    set_experiment,
)
from components.shell.uploads import uploader
from designer import Experiment, SpecError
from designer.document.presets import (
    PRESETS,
    matching_preset,
    preset_description,
    preset_experiment,
    preset_title,
)
from designer.document.spec import MAX_DOCUMENT_BYTES
from designer.i18n import Text, _


def load_preset(name: str) -> None:
    set_experiment(preset_experiment(name))
    select_layer(0)
    title = PRESETS[name]["title"]  # rendered with the message, in the reader's language
    notify("success", Text("Loaded the preset **{title}**.", title=Text(title)))


def import_document(text: str | bytes, source: str | None = None) -> bool:
    """Open an experiment document (`source`: the file's name, shown as it is; None:
    "the file"); on any problem, list every one and keep the current experiment.
    True if it was opened."""
    try:
        exp = Experiment.from_json(text)
    except SpecError as err:
        problems = [str(p) for p in err.problems]
        one = len(err.problems) == 1
        if source is None and one:
            message = Text(
                "Could not import the file; the current experiment is kept. The problem:"
            )
        elif source is None:
            message = Text(
                "Could not import the file; the current experiment is kept. The problems:"
            )
        elif one:
            message = Text(
                "Could not import {source}; the current experiment is kept. The problem:",
                source=source,
            )
        else:
            message = Text(
                "Could not import {source}; the current experiment is kept. The problems:",
                source=source,
            )
        notify("error", message, problems)
        return False
    set_experiment(exp)
    select_layer(0 if exp.model.layers else None)
    if source is None:
        notify("success", Text("Imported the file."))
    else:
        notify("success", Text("Imported {source}.", source=source))
    return True


def design_link(exp: Experiment) -> str | None:
    """This page's address with the experiment and nothing else (no runs id)."""
    page = st.context.url
    if not page:
        return None
    parts = urlsplit(page)
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, f"x={exp.to_url()}", ""))


SHARE_KEY = "share_link"


def share_links(exp: Experiment) -> None:
    """The design's link in a text field (click it, then copy): a code block's copy
    button would make every page load the code viewer's script, 1.5 MB, for one line
    (docs/performance.md: the page loads). Set before it is drawn, so an edit in the
    field is undone by the next rerun."""
    link = design_link(exp)
    if link:
        st.caption(_("Share this design with a class (the link holds the whole experiment):"))
        st.session_state[SHARE_KEY] = link
        st.text_input(_("Link to this design"), key=SHARE_KEY, label_visibility="collapsed")
    if st.query_params.get(LINK_PARAM):
        st.caption(
            _(
                "The address bar's link also opens this link's runs (its `r=` part): anyone "
                "given it sees them and can stop them."
            )
        )


def sidebar() -> None:
    exp = get_experiment()
    current = matching_preset(exp)
    with st.sidebar:
        st.markdown(_("### Presets"))
        st.caption(_("Classic architectures, each on a task that shows what it is good at."))
        for name in PRESETS:
            st.button(
                preset_title(name),
                key=f"preset_{name}",
                help=preset_description(name),
                on_click=load_preset,
                args=(name,),
                type="primary" if name == current else "secondary",
                width="stretch",
                icon=":material/check:" if name == current else None,
            )
        st.markdown(_("### Import / Export"))
        uploader(
            _("Import an experiment (JSON)"),
            "import_file",
            ["json"],
            MAX_DOCUMENT_BYTES,
            lambda content, name: import_document(content, f"'{escape_markdown(name)}'"),
            help=_("A document exported here or written by hand (see the README)."),
        )
        st.download_button(
            _("Export experiment (JSON)"),
            data=exp.to_json(),
            file_name="experiment.json",
            mime="application/json",
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
            key="export_json",
        )
        share_links(exp)
