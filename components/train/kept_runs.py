"""The runs a link keeps on the server (designer.serving.runstore): open one, rename it,
download it as a checkpoint file, delete it, or bring one back from a file.

A checkpoint file from elsewhere is untrusted: it is read only through
designer.training.checkpoints.load (size-checked, `weights_only`, every field checked), its
weights must fit its experiment, and an experiment that trains on an uploaded CSV
file needs that file uploaded by this link first, as a shared link does."""

from __future__ import annotations

import re

import streamlit as st

from components.shell.links import current_link, owns_upload
from components.shell.state import escape_markdown, notify, set_experiment
from components.shell.uploads import uploader
from designer.i18n import N_, _
from designer.serving.runstore import Link
from designer.training import checkpoints
from designer.training.checkpoints import CheckpointError
from designer.training.trainer import verified

# The largest checkpoint file the app reads (.streamlit/config.toml's maxUploadSize is
# the same): a run at the server's limits (2 million parameters with Adam's state,
# the longest sequences, three probes of the widest stack) downloads as about 100 MB.
UPLOAD_MAX_BYTES = 128 * 2**20
# How a kept run ended, in the list's words (designer.serving.runstore.ENDED)
ENDINGS = {
    "finished": N_("finished"),
    "stopped": N_("stopped"),
    "diverged": N_("diverged"),
    "failed": N_("failed"),
}


def _open(link: Link, run_id: str) -> None:
    """Show a kept run on every page, with the design it was trained on."""
    try:
        run = link.open(run_id)
    except CheckpointError as err:
        notify(
            "error",
            _("That run could not be opened: {error}").format(error=escape_markdown(err)),
        )
        return
    set_experiment(run.record.exp)


def _rename(link: Link, run_id: str, key: str) -> None:
    wanted = st.session_state.get(key) or ""
    try:
        name = link.rename(run_id, wanted)
    except CheckpointError as err:
        notify(
            "error",
            _("That run could not be renamed: {error}").format(error=escape_markdown(err)),
        )
        return
    if not wanted.strip():
        notify("error", _("A run needs a name: it keeps the one it had."))
        st.session_state[key] = name


def _file_name(name: str) -> str:
    return (re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "run")[:60] + ".pt"


def _download(link: Link, run_id: str) -> bytes:
    try:
        return checkpoints.portable(link.path(run_id))
    except (CheckpointError, OSError):
        return b""  # deleted since the page was drawn


def add_checkpoint(content: bytes, file_name: str) -> None:
    """A checkpoint file a visitor brought: kept for this link and shown (Graph,
    Inspect, Compare and Continue use it)."""
    name = escape_markdown(file_name)
    try:
        with st.spinner(_("Checking '{name}' and probing its model…").format(name=name)):
            checkpoint = verified(
                checkpoints.load(content, max_bytes=UPLOAD_MAX_BYTES, untrusted=True)
            )
    except CheckpointError as err:
        notify(
            "error",
            _("'{name}' was not opened: {error}.").format(name=name, error=escape_markdown(err)),
        )
        return
    digest = checkpoint.experiment.task.params.get("upload")
    if digest and not owns_upload(digest):
        csv = escape_markdown(str(checkpoint.experiment.task.params.get("upload_name") or ""))
        notify(
            "error",
            _(
                "'{name}' trains on an uploaded CSV file ({csv}): upload that file on the "
                "Design page first, then the checkpoint."
            ).format(name=name, csv=csv or _("unnamed")),
        )
        return
    link = current_link(create=True)
    title = checkpoint.run.get("name") or file_name.removesuffix(".pt")
    _kept, dropped = link.add(checkpoint, title)
    set_experiment(checkpoint.experiment)
    parts = {"name": name, "steps": f"{checkpoint.step:,}"}
    if dropped:
        text = _(
            "Opened '{name}': {steps} steps of training. The Graph, Train, Inspect and "
            "Compare pages show it. To keep it, the oldest kept run was dropped: {dropped}."
        ).format(dropped=escape_markdown(_(", ").join(dropped)), **parts)
    else:
        text = _(
            "Opened '{name}': {steps} steps of training. The Graph, Train, Inspect and "
            "Compare pages show it."
        ).format(**parts)
    notify("success", text)


def kept_runs(link: Link | None, disabled: bool, expanded: bool = False) -> None:
    """The finished runs this link keeps, each to open, rename, download or delete;
    and a checkpoint file to bring back."""
    runs = link.runs() if link is not None else []
    with st.expander(
        _("Runs kept for this link ({n})").format(n=len(runs)),
        icon=":material/history:",
        expanded=expanded,
    ):
        if link is None or not runs:
            st.caption(
                _(
                    "Finished runs are kept on the server for this link: a reload, a second "
                    "tab or the copied link shows them again."
                )
            )
        else:
            st.caption(
                _(
                    "The newest {runs} runs are kept, for {days} days after the link was "
                    "last used; older ones are dropped first. Anyone with this link sees them."
                ).format(runs=link.store.max_runs, days=f"{link.store.keep_days:g}")
            )
            current = link.index.get("current")
            for run in reversed(runs):
                _row(link, run, current, disabled)
        uploader(
            _("Open a checkpoint file"),
            key="checkpoint_upload",
            types=["pt"],
            max_bytes=UPLOAD_MAX_BYTES,
            use=add_checkpoint,
            disabled=disabled,
            help=_(
                "A run downloaded from this app, or saved by `python -m designer train "
                "--save`: look inside it, compare it, or continue training it. (Not while a "
                "run trains: opening one shows it in place of the run.)"
            ),
        )


def _row(link: Link, run: dict, current: str | None, disabled: bool) -> None:
    run_id, name = run["id"], run["name"]
    state = run["state"]
    parts = {
        "name": escape_markdown(name),
        "state": _(ENDINGS[state]) if state in ENDINGS else state,
        "steps": f"{run['step']:,}",
        "loss": f"{run['val_loss']:.4g}" if run.get("val_loss") is not None else "–",
    }
    if run_id == current:
        text = _("**{name}** (shown): {state}, {steps} steps, validation loss {loss}")
    else:
        text = _("**{name}**: {state}, {steps} steps, validation loss {loss}")
    st.markdown(text.format(**parts))
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        _("Open"),
        key=f"run_open_{run_id}",
        on_click=_open,
        args=(link, run_id),
        disabled=disabled or run_id == current,
        help=_("Show this run on the Train, Graph and Inspect pages, with its design"),
    )
    with row.popover(_("Rename"), icon=":material/edit:"):
        key = f"run_name_{run_id}"
        st.text_input(
            _("Name"),
            value=name,
            key=key,
            max_chars=80,
            on_change=_rename,
            args=(link, run_id, key),
        )
    row.download_button(
        _("Download"),
        data=lambda: _download(link, run_id),
        file_name=_file_name(name),
        mime="application/octet-stream",
        key=f"run_download_{run_id}",
        icon=":material/download:",
        on_click="ignore",
        help=_("The run as a checkpoint file: experiment, weights, history, probes"),
    )
    row.button(
        _("Delete"),
        key=f"run_delete_{run_id}",
        icon=":material/delete:",
        on_click=link.delete,
        args=(run_id,),
        disabled=disabled,
    )
    st.divider()
