"""The task picker: which sample task the network learns, its parameters (widgets made
from the task's own declarations) and a small plot of one sample sequence.

Widgets hold no state of their own: before they are drawn, their session-state
values are set from the experiment, and each one's callback writes its new value
back through components.state (refused, with a message, if it makes the experiment
invalid). Undo, presets and imports therefore always show in the widgets."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.state import escape_markdown, get_experiment, notify, try_edit
from components.uploads import csv_uploader
from designer import Experiment
from designer.figures.tasks import sample_figure
from designer.spec import MAX_WIDTH
from designer.tasks import TASKS, Param, Task, get_task
from designer.tasks.datafiles import data_dir

TASK_KEY = "task_name"
EMBED_ON = "task_embedding_on"
EMBED_DIM = "task_embedding_dim"


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
            raise ValueError(f"'{value}' is not a list of numbers such as 0.05, 0.11") from None
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
        try_edit(lambda _: Experiment.from_dict(data))


def _change_param(name: str, param: Param) -> None:
    exp = get_experiment()
    try:
        value = _from_widget(param, st.session_state[param_key(name, param.name)])
    except ValueError as err:
        notify("error", f"The task's {param.name.replace('_', ' ')} was not changed:", [str(err)])
        return
    params = {**exp.task.params, param.name: value}
    if value == param.default:
        params.pop(param.name)  # defaults stay implicit, as in a hand-written document
    data = exp.to_dict()
    data["task"] = {"name": name, **params}
    try_edit(lambda _: Experiment.from_dict(data))


def _change_embedding() -> None:
    exp = get_experiment()
    on = st.session_state[EMBED_ON]
    dim = int(st.session_state.get(EMBED_DIM) or 16) if on else None
    data = exp.to_dict()
    data["model"]["embedding_dim"] = dim
    try_edit(lambda _: Experiment.from_dict(data))


def _param_widget(task: Task, param: Param) -> None:
    key = param_key(task.name, param.name)
    kwargs: dict[str, Any] = dict(
        key=key, help=param.help, on_change=_change_param, args=(task.name, param)
    )
    label = param.name.replace("_", " ")
    if param.choices:
        st.selectbox(label, list(param.choices), **kwargs)
    elif param.kind == "int":
        low, high = (None if b is None else int(b) for b in (param.min, param.max))
        st.number_input(label, min_value=low, max_value=high, step=1, **kwargs)
    elif param.kind == "float":
        low, high = (None if b is None else float(b) for b in (param.min, param.max))
        st.number_input(label, min_value=low, max_value=high, step=0.01, format="%.3f", **kwargs)
    elif param.kind == "bool":
        st.checkbox(label, **kwargs)
    elif param.name == "data":
        st.text_area(label, height=80, placeholder="CSV text with a header row", **kwargs)
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
    if params["upload"]:
        name = escape_markdown(params["upload_name"] or "an uploaded file")
        source = f"**{name}**, uploaded (kept on this server; the link names it by its hash)"
    elif params["data"]:
        source = "the CSV text below (it travels inside the link)"
    elif params["path"] and params["path"] != "example":
        source = f"the file **{escape_markdown(params['path'])}** in the server's data folder"
    else:
        source = "the shipped example (400 days of made-up weather)"
    st.markdown(f"Data: {source}; {len(task.columns)} columns, {task.rows:,} rows.")
    csv_uploader()


def task_picker(exp: Experiment) -> Task:
    """The task section: picker, parameters, input encoding. Returns the task."""
    task = get_task(exp.task)
    st.session_state[TASK_KEY] = exp.task.name
    for param in task.PARAMS:
        st.session_state[param_key(task.name, param.name)] = _to_widget(
            param, task.params[param.name]
        )
    names = list(TASKS)
    st.selectbox(
        "Task",
        names,
        key=TASK_KEY,
        format_func=lambda n: TASKS[n].title,
        on_change=_change_task,
        help="What the network learns. The task decides the input width, the output head "
        "and the loss; the same stack can be tried on every task.",
    )
    st.caption(task.description)
    if task.name == "csv":
        _data_source(task)
    params = _shown_params(task)
    columns = st.columns(min(len(params), 3) or 1)
    for i, param in enumerate(params):
        with columns[i % len(columns)]:
            _param_widget(task, param)
    if task.token_input:
        st.session_state[EMBED_ON] = exp.model.embedding_dim is not None
        st.session_state[EMBED_DIM] = exp.model.embedding_dim or 16
        left, right = st.columns(2)
        with left:
            st.toggle(
                "Learned embedding",
                key=EMBED_ON,
                on_change=_change_embedding,
                help="Off: each token enters as a one-hot vector. On: as a learned vector.",
            )
        with right:
            st.number_input(
                "embedding width",
                min_value=1,
                max_value=MAX_WIDTH,
                step=1,
                key=EMBED_DIM,
                on_change=_change_embedding,
                disabled=exp.model.embedding_dim is None,
            )
    return task


def task_preview(task: Task, seed: int = 0) -> None:
    """A small plot of one sample sequence, with the task's lesson under it."""
    st.plotly_chart(sample_figure(task, seed), width="stretch", config={"displayModeBar": False})
    st.caption(f"**What it shows:** {task.lesson}")
