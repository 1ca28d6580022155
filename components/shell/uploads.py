"""Files a visitor brings: an experiment document (JSON) or data (CSV).

Every uploader states its own limit, and the server's `maxUploadSize`
(.streamlit/config.toml) is no larger than the largest of them, so a file over the
limit is refused by the server before the app reads it; the app checks each size
again before parsing. An uploader empties itself once its file has been used.

A CSV file small enough to keep the link practical (LINK_CHARS) travels inside the
experiment document, so the link alone reproduces it; a larger one stays on the
server under its SHA-256 for this link (designer.tasks.datafiles), the document
holds the hash, and a link opened elsewhere asks for the file again."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.shell.links import current_link
from components.shell.state import PENDING, escape_markdown, get_experiment, notify, try_edit
from designer import Experiment, SpecError
from designer.i18n import Text, _
from designer.tasks import TaskDataError
from designer.tasks.csv import MAX_BYTES as CSV_MAX_BYTES
from designer.tasks.csv import parse_upload
from designer.tasks.datafiles import KEEP_DAYS, digest_of, save_upload

# The longest link a CSV file may make: links are pasted into chats and e-mails, and
# some of those cut long ones.
LINK_CHARS = 8_000
SOURCES = ("path", "data", "upload", "upload_name", "targets")  # where the data came from


def megabytes(n_bytes: int) -> int:
    """The limit in whole MB, rounded up (the size itself is checked in bytes)."""
    return -(-n_bytes // 2**20)


def uploader(
    label: str,
    key: str,
    types: list[str],
    max_bytes: int,
    use: Callable[[bytes, str], None],
    help: str | None = None,
    disabled: bool = False,
) -> None:
    """A file uploader that hands each file, size-checked, to `use(content, name)`
    and then empties itself (a new widget key each time)."""
    round_key = f"{key}_round"
    widget_key = f"{key}_{st.session_state.get(round_key, 0)}"

    def on_upload() -> None:
        uploaded = st.session_state.get(widget_key)
        if uploaded is None:
            return
        st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
        if uploaded.size > max_bytes:
            name = escape_markdown(uploaded.name)
            notify(
                "error",
                Text(
                    "'{name}' is larger than {mb} MB (the limit).",
                    name=name,
                    mb=megabytes(max_bytes),
                ),
            )
            return
        use(uploaded.getvalue(), uploaded.name)  # the name as given: escape it to show it

    st.file_uploader(
        label,
        type=types,
        key=widget_key,
        on_change=on_upload,
        max_upload_size=megabytes(max_bytes),
        help=help,  # Streamlit writes the limit next to it ("20MB per file")
        disabled=disabled,
    )


# --- CSV data ---------------------------------------------------------------------------
def csv_document(exp: Experiment, content: bytes, name: str) -> Experiment:
    """The experiment on the csv task with this file's data: inside the document when
    the link stays short enough, else kept on the server by its hash. Raises
    TaskDataError (bad file) or SpecError (it does not fit the experiment)."""
    parse_upload(content)  # size-checked before it is parsed
    data = exp.to_dict()
    params = {k: v for k, v in data["task"].items() if k not in ("name", *SOURCES)}
    inline = {**data, "task": {"name": "csv", **params, "data": content.decode("utf-8-sig")}}
    if len(content) <= LINK_CHARS * 4:  # deflate rarely shrinks a table more than that
        candidate = Experiment.from_dict(inline)
        if len(candidate.to_url()) <= LINK_CHARS:
            return candidate
    digest = save_upload(content)
    current_link(create=True).add_upload(digest, name)
    task = {"name": "csv", **params, "upload": digest, "upload_name": name}
    return Experiment.from_dict({**data, "task": task})


def use_csv(content: bytes, file_name: str) -> None:
    name = escape_markdown(file_name)
    try:
        exp = csv_document(get_experiment(), content, file_name)
    except TaskDataError as err:
        notify("error", Text("'{name}' could not be used:", name=name), [str(err)])
        return
    except SpecError as err:  # it does not fit the experiment (too few rows, say)
        problems = [str(p) for p in err.problems]
        notify("error", Text("'{name}' could not be used:", name=name), problems)
        return
    if try_edit(lambda _exp: exp):
        if exp.task.params.get("data"):
            notify("success", Text("Loaded '{name}'. It travels inside the link.", name=name))
        else:
            message = Text(
                "Loaded '{name}'. It is kept on this server for {days} days; the link names "
                "it, and opened elsewhere it asks for the file again.",
                name=name,
                days=f"{KEEP_DAYS:g}",
            )
            notify("success", message)


def csv_uploader() -> None:
    uploader(
        _("Upload your CSV file"),
        "csv_upload",
        ["csv", "txt"],
        CSV_MAX_BYTES,
        use_csv,
        help=_("Numeric columns with a header row, one row per time step."),
    )


# --- a link whose data is not here ---------------------------------------------------------
def ask_for_pending_upload() -> None:
    """A link's experiment trains on an uploaded file this visitor has not uploaded:
    ask for it, and open the experiment only with the very same file."""
    pending = st.session_state.get(PENDING)
    if not pending:
        return
    name = escape_markdown(pending["name"] or _("a CSV file"))
    st.warning(
        _(
            "This link's experiment trains on an uploaded file, **{name}**, that this browser "
            "has not uploaded here. Upload that file to open the experiment."
        ).format(name=name),
        icon=":material/upload_file:",
    )

    def use(content: bytes, file_name: str) -> None:
        uploaded_name = escape_markdown(file_name)
        if digest_of(content) != pending["digest"]:
            message = Text(
                "'{name}' is not the file this link was made with (its contents differ); "
                "the link's experiment was not opened.",
                name=uploaded_name,
            )
            notify("error", message)
            return
        try:
            parse_upload(content)
        except TaskDataError as err:
            notify("error", Text("'{name}' could not be used:", name=uploaded_name), [str(err)])
            return
        save_upload(content)
        current_link(create=True).add_upload(pending["digest"], pending["name"])
        del st.session_state[PENDING]
        try_edit(lambda _exp: Experiment.from_url(pending["token"]))

    uploader(_("The link's CSV file"), "pending_upload", ["csv", "txt"], CSV_MAX_BYTES, use)
