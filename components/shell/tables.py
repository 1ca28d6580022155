"""Small tables of numbers that fit their column on a projector: the text wraps (a
dataframe cuts a wide table at the right edge and hides the rest behind a scroll bar),
numbers read with three significant digits and counts with thousands separators."""

from __future__ import annotations

from typing import Any

import streamlit as st


def cell(value: Any) -> str:
    """One value as the table shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def fitted_table(rows: list[dict[str, Any]]) -> None:
    """Rows of the same keys, drawn as a table that wraps rather than scrolls."""
    st.table([{key: cell(value) for key, value in row.items()} for row in rows], hide_index=True)
