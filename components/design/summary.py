"""The model summary: one row per layer (output shape, parameters) and the totals,
exactly as designer.document.summary.summarize counts them."""

from __future__ import annotations

import streamlit as st

from designer import Experiment, summarize
from designer.i18n import N_, _
from designer.tasks import Task

# The rows that are not layers, through _() when shown (a layer's type is its name).
ROW_TYPES = {"input": N_("input"), "embedding": N_("embedding"), "head": N_("head")}


def _row_type(name: str) -> str:
    label = ROW_TYPES.get(name)
    return _(label) if label else name


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
    rows = [
        {
            _("layer"): row["layer"],
            _("type"): _row_type(row["type"]),
            _("output shape"): row["output shape"],
            _("parameters"): f"{row['parameters']:,}",
        }
        for row in summary_rows(exp, task)
    ]
    st.table(rows, hide_index=True)
    notes = [
        _("Layer {index}: {note}").format(index=row.index, note=note).replace("->", "→")
        for row in summary.rows
        for note in [
            *row.notes,
            *([_("its input and recurrent weights are frozen")] * bool(row.frozen)),
        ]
    ]
    for note in notes:
        st.caption(note)
    for note in summary.notes:
        st.warning(str(note), icon=":material/history_toggle_off:")
    st.markdown(
        _("**Total: {total} parameters** ({trainable} trainable, {frozen} frozen)").format(
            total=f"{summary.total:,}",
            trainable=f"{summary.trainable:,}",
            frozen=f"{summary.frozen:,}",
        )
    )
