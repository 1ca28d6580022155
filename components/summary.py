"""The model summary: one row per layer (output shape, parameters) and the totals,
exactly as designer.summary.summarize counts them."""

from __future__ import annotations

import streamlit as st

from designer import Experiment, summarize
from designer.tasks import Task


def summary_rows(exp: Experiment, task: Task) -> list[dict]:
    """One row per summary row: layer index ('' for input and head), type, output
    shape, parameters (an int)."""
    return [
        {
            "layer": "" if row.index is None else str(row.index),
            "type": row.type,
            "output shape": row.output_shape,
            "parameters": row.parameters,
        }
        for row in summarize(exp, task).rows
    ]


def model_summary(exp: Experiment, task: Task) -> None:
    """The table, the notes (residual projections, frozen weights) and the totals."""
    summary = summarize(exp, task)
    rows = [{**row, "parameters": f"{row['parameters']:,}"} for row in summary_rows(exp, task)]
    st.table(rows, hide_index=True)
    notes = [
        f"Layer {row.index}: {note}".replace("->", "→")
        for row in summary.rows
        for note in [
            *row.notes,
            *(["its input and recurrent weights are frozen"] * bool(row.frozen)),
        ]
    ]
    for note in notes:
        st.caption(note)
    for note in summary.notes:
        st.warning(note, icon=":material/history_toggle_off:")
    st.markdown(
        f"**Total: {summary.total:,} parameters** "
        f"({summary.trainable:,} trainable, {summary.frozen:,} frozen)"
    )
