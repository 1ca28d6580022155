"""The Design page's Code section: the experiment as code to take home, in four
forms (designer.export.codegen), with copy and download; and, when the design has a
finished run, its training script and checkpoint together in one zip file."""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import suppress

import streamlit as st

from components.shell.links import current_link
from components.train.runs import run_matches
from designer import Experiment
from designer.export import codegen
from designer.i18n import N_, _
from designer.tasks import Task
from designer.training import checkpoints
from designer.training.checkpoint_checks import CheckpointError

# The labels and sentences are shown through _().
FORMATS = {
    "module": (N_("PyTorch module"), "model.py"),
    "script": (N_("Training script"), "train.py"),
    "ipynb": (N_("Notebook"), "train.ipynb"),
    "numpy": (N_("NumPy by hand"), "by_hand.py"),
}
ABOUT = {
    "module": N_(
        "One `nn.Module` with the app's parameter names: a checkpoint from the app "
        "loads into it with `load_state_dict(strict=True)` and gives the same outputs."
    ),
    "script": N_(
        "The model, the task's data and the app's training loop. "
        "Run `python train.py`, or `torchrun --nproc_per_node=4 train.py` to train on four "
        "processes with DistributedDataParallel. It writes `checkpoint.pt`, which the app opens."
    ),
    "ipynb": N_("The training script as a Jupyter notebook, explained cell by cell."),
    "numpy": N_(
        "The forward pass and backpropagation (through time) written out in NumPy, "
        "to check by hand against PyTorch's gradients."
    ),
}


def _code(exp: Experiment, task: Task, form: str) -> str:
    if form == "module":
        return codegen.module_code(exp, task)
    if form == "script":
        return codegen.training_code(exp, task)
    if form == "ipynb":
        return codegen.notebook(exp, task)
    return codegen.numpy_code(exp, task)


def _shown(form: str, code: str) -> str:
    """What the page shows: the code; a notebook as its cells in the percent format."""
    if form != "ipynb":
        return code
    cells = json.loads(code)["cells"]
    return "\n\n".join(
        "# %%\n" + "".join(c["source"])
        if c["cell_type"] == "code"
        else "# %% [markdown]\n"
        + "\n".join(f"# {line}" for line in "".join(c["source"]).splitlines())
        for c in cells
    )


def code_export(exp: Experiment, task: Task) -> None:
    form = (
        st.segmented_control(
            _("Format"),
            list(FORMATS),
            default="module",
            format_func={key: _(words[0]) for key, words in FORMATS.items()}.get,
            key="code_format",
        )
        or "module"
    )
    st.caption(_(ABOUT[form]))
    try:
        code = _code(exp, task, form)
    except codegen.ExportError as err:
        st.info(_("Not for this design: {reason}.").format(reason=err), icon=":material/info:")
        return
    label, file_name = FORMATS[form]
    st.download_button(
        _("Download {file_name}").format(file_name=file_name),
        data=code,
        file_name=file_name,
        mime="application/x-ipynb+json" if form == "ipynb" else "text/x-python",
        icon=":material/download:",
        on_click="ignore",
        key="code_download",
    )
    _with_run(exp, task)
    st.code(_shown(form, code), language="python", line_numbers=True, height=480)


def _with_run(exp: Experiment, task: Task) -> None:
    """The training script and this design's finished run, zipped together."""
    link = current_link()
    run = link.current if link is not None else None
    if run is None or run.alive or not run_matches(run, exp) or run.run_id is None:
        return
    run_id = run.run_id

    def bundle() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("train.py", codegen.training_code(exp, task))
            archive.writestr("model.py", codegen.module_code(exp, task))
            # (a run deleted since the page was drawn: the code alone)
            with suppress(CheckpointError, OSError):
                archive.writestr("checkpoint.pt", checkpoints.portable(link.path(run_id)))
        return buffer.getvalue()

    st.download_button(
        _("Download the code with this design's trained run (zip)"),
        data=bundle,
        file_name="deep-rnn-run.zip",
        mime="application/zip",
        icon=":material/folder_zip:",
        on_click="ignore",
        key="code_download_run",
        help=_(
            "train.py, model.py and checkpoint.pt: `model.load_state_dict(torch.load("
            "'checkpoint.pt', weights_only=True)['state_dict'])`, or continue training it"
        ),
    )
