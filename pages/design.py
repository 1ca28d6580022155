"""Design: the layer stack and its summary."""

import streamlit as st

from components.state import get_experiment, show_url_warning
from designer import get_task, summarize

exp = get_experiment()
show_url_warning()
task = get_task(exp)

st.title("Deep RNN Designer")
st.caption(f"Task: **{task.title}** — {task.description}")
summary = summarize(exp, task)
st.dataframe(
    [
        {
            "layer": "" if row.index is None else row.index,
            "type": row.type,
            "details": row.description,
            "output shape": row.output_shape,
            "parameters": row.parameters,
        }
        for row in summary.rows
    ],
    hide_index=True,
    use_container_width=True,
)
st.metric("Total parameters", f"{summary.total:,}")
