"""The task picker: which sample task the network learns, its parameters (widgets made
from the task's own declarations) and a small plot of one sample sequence.

Widgets hold no state of their own (components.shell.binding): before they are drawn,
their session-state values are set from the experiment, and each one's callback
writes its new value back through components.shell.state (refused, with a message, if it
makes the experiment invalid). Undo, presets and imports therefore always show in
the widgets."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from components.shell.binding import bind
from components.shell.state import escape_markdown, get_experiment, try_edit
from components.shell.uploads import csv_uploader
from designer import Experiment
from designer.document.spec import MAX_WIDTH
from designer.figures.svg import Unsupported, figure_svg
from designer.figures.tasks import sample_figure
from designer.i18n import N_, Text, _, language
from designer.tasks import TASKS, Param, Task, get_task
from designer.tasks.datafiles import data_dir

TASK_KEY = "task_name"
EMBED_ON = "task_embedding_on"
EMBED_DIM = "task_embedding_dim"
# The parameters' labels (the document's names, spelled out), through _() when shown.
PARAM_LABELS = {
    "seq_len": N_("seq len"),
    "noise": N_("noise"),
    "lag": N_("lag"),
    "channels": N_("channels"),
    "symbols": N_("symbols"),
    "alphabet": N_("alphabet"),
    "data": N_("data"),
    "path": N_("path"),
    "targets": N_("targets"),
    "frequencies": N_("frequencies"),
    "series": N_("series"),
    "text": N_("text"),
}


def param_label(name: str) -> str:
    """A task parameter's label in the reader's language."""
    return _(PARAM_LABELS[name]) if name in PARAM_LABELS else name.replace("_", " ")


def param_key(task: str, param: str) -> str:
    return f"task_{task}_{param}"


def _to_widget(param: Param, value: Any) -> Any:
    if param.kind in ("floats", "strs"):
        return ", ".join(str(v) for v in value)
    return value


def _from_widget(param: Param, value: Any) -> Any:
    """A widget's value as the document wants it; ValueError with a sentence if not."""
    if param.kind == "floats":
        try:
            return [float(v) for v in str(value).replace(";", ",").split(",") if v.strip()]
        except ValueError:
            raise ValueError(
                _("'{value}' is not a list of numbers such as 0.05, 0.11").format(value=value)
            ) from None
    if param.kind == "strs":
        return [v.strip() for v in str(value).split(",") if v.strip()]
    if param.kind == "int":
        return int(value)
    return value


def _change_task() -> None:
    name = st.session_state[TASK_KEY]
    exp = get_experiment()
    if name != exp.task.name:
        data = exp.to_dict()
        data["task"] = {"name": name}
        try_edit(lambda _exp: Experiment.from_dict(data))


def _embedding_dim(_value: Any = None) -> int | None:
    """The document's embedding width from the on/off toggle and the width beside it."""
    return int(st.session_state.get(EMBED_DIM) or 16) if st.session_state[EMBED_ON] else None


def _param_widget(task: Task, param: Param) -> None:
    """A widget for a task parameter; a value equal to its default is left out of the
    document, as in a hand-written one."""
    label = param_label(param.name)
    kwargs: dict[str, Any] = dict(
        help=_(param.help),
        **bind(
            param_key(task.name, param.name),
            ("task", param.name),
            _to_widget(param, task.params[param.name]),
            to_doc=lambda value: _from_widget(param, value),
            implicit=param.default,
            refusal=Text("The task's {param} was not changed:", param=label),
        ),
    )
    if param.choices:
        words = {value: param.label(value) for value in param.choices}  # fixed now, as above
        st.selectbox(label, list(param.choices), format_func=words.get, **kwargs)
    elif param.kind == "int":
        low, high = (None if b is None else int(b) for b in (param.min, param.max))
        st.number_input(label, min_value=low, max_value=high, step=1, **kwargs)
    elif param.kind == "float":
        low, high = (None if b is None else float(b) for b in (param.min, param.max))
        st.number_input(label, min_value=low, max_value=high, step=0.01, format="%.3f", **kwargs)
    elif param.kind == "bool":
        st.checkbox(label, **kwargs)
    elif param.name == "data":
        st.text_area(label, height=80, placeholder=_("CSV text with a header row"), **kwargs)
    else:
        st.text_input(label, **kwargs)


def _shown_params(task: Task) -> list[Param]:
    """The parameters a visitor edits. An uploaded file's hash and name are set by
    the uploader, and a file path only where the operator named a data folder (a
    link must not read the server's files)."""
    hidden = {"upload", "upload_name"}
    if data_dir() is None:
        hidden.add("path")
    return [p for p in task.PARAMS if p.name not in hidden]


def _data_source(task: Task) -> None:
    """Where the csv task's data comes from, and the uploader for one's own file."""
    params = task.params
    size = {"columns": len(task.columns), "rows": f"{task.rows:,}"}
    if params["upload"]:
        name = escape_markdown(params["upload_name"] or _("an uploaded file"))
        text = _(
            "Data: **{name}**, uploaded (kept on this server; the link names it by its "
            "hash); {columns} columns, {rows} rows."
        ).format(name=name, **size)
    elif params["data"]:
        text = _(
            "Data: the CSV text below (it travels inside the link); {columns} columns, {rows} rows."
        ).format(**size)
    elif params["path"] and params["path"] != "example":
        text = _(
            "Data: the file **{path}** in the server's data folder; {columns} columns, {rows} rows."
        ).format(path=escape_markdown(params["path"]), **size)
    else:
        text = _(
            "Data: the shipped example (400 days of made-up weather); {columns} columns, "
            "{rows} rows."
        ).format(**size)
    st.markdown(text)
    csv_uploader()


def task_picker(exp: Experiment) -> Task:
    """The task section: picker, parameters, input encoding. Returns the task."""
    task = get_task(exp.task)
    st.session_state[TASK_KEY] = exp.task.name
    names = list(TASKS)
    st.selectbox(
        _("Task"),
        names,
        key=TASK_KEY,
        format_func={n: _(task.title) for n, task in TASKS.items()}.get,
        on_change=_change_task,
        help=_(
            "What the network learns. The task decides the input width, the output head "
            "and the loss; the same stack can be tried on every task."
        ),
    )
    st.caption(_(task.description))
    if note := task.data_note():
        st.markdown(note)
    if task.uploads:
        _data_source(task)
    params = _shown_params(task)
    columns = st.columns(min(len(params), 3) or 1)
    for i, param in enumerate(params):
        with columns[i % len(columns)]:
            _param_widget(task, param)
    if task.token_input:
        dim = exp.model.embedding_dim
        path = ("model", "embedding_dim")
        left, right = st.columns(2)
        with left:
            st.toggle(
                _("Learned embedding"),
                **bind(EMBED_ON, path, dim is not None, to_doc=_embedding_dim),
                help=_("Off: each token enters as a one-hot vector. On: as a learned vector."),
            )
        with right:
            st.number_input(
                _("embedding width"),
                min_value=1,
                max_value=MAX_WIDTH,
                step=1,
                disabled=dim is None,
                **bind(EMBED_DIM, path, dim or 16, to_doc=_embedding_dim),
            )
    return task


@st.cache_data(max_entries=64, show_spinner=False)
def _sample_svg(name: str, params: str, seed: int, language: str, _task: Task) -> str | None:
    """The sample as SVG, once per task, seed and language for every session; None
    when the task's own drawing holds something the SVG writer does not draw."""
    try:
        return figure_svg(sample_figure(_task, seed))
    except Unsupported:
        return None


def task_preview(task: Task, seed: int = 0) -> None:
    """A small plot of one sample sequence, with the task's lesson under it. It is SVG,
    not a plotly chart, so that Design's first visit does not wait for the chart
    library (docs/performance.md: the page loads)."""
    params = json.dumps(task.params, sort_keys=True, default=str)
    svg = _sample_svg(task.name, params, seed, language(), task)
    if svg is None:
        fig = sample_figure(task, seed)
        st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
    else:  # markup written by designer.figures.svg, every text in it escaped
        st.markdown(svg, unsafe_allow_html=True)
    st.caption(_("**What it shows:** {text}").format(text=_(task.lesson)))
