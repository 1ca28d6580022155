"""The optimizer settings as widgets bound to the experiment's `train` section:
each change updates the session's experiment (and so the URL) at once."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.runs import MAX_RUN_STEPS
from components.state import try_edit
from designer import Experiment
from designer.spec import TrainSpec, field_choices, field_range
from designer.trainer import PROBE_BUDGET

PREFIX = "train_"
LABELS = {  # the optimizers in the order the menu shows them
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "momentum": "SGD with momentum (0.9)",
    "rmsprop": "RMSprop",
}
OPTIMIZERS = sorted(field_choices(TrainSpec, "optimizer"), key=[*LABELS, None].index)


def _update(field: str, value: Any) -> None:
    def change(exp: Experiment) -> Experiment:
        data = exp.to_dict()
        data["train"][field] = value
        return Experiment.from_dict(data)

    try_edit(change)


def _limit(field: str, end: int) -> Any:
    """The document's own limit of a field (end 0: lowest, 1: highest)."""
    return field_range(TrainSpec, field)[end]


def _bind(field: str, value: Any) -> str:
    """The widget key for `field`, holding the experiment's current value."""
    key = PREFIX + field
    if st.session_state.get(key) != value:
        st.session_state[key] = value
    return key


def _on_change(field: str, transform=lambda v: v) -> dict[str, Any]:
    return {"on_change": lambda: _update(field, transform(st.session_state[PREFIX + field]))}


def hyperparameters(exp: Experiment, disabled: bool = False) -> None:
    """Render the settings; `disabled` while a run is under way (they apply to the
    next run, and changing them mid-run would mislead)."""
    spec = exp.train
    st.selectbox(
        "Optimizer",
        OPTIMIZERS,
        format_func=LABELS.get,
        key=_bind("optimizer", spec.optimizer),
        disabled=disabled,
        **_on_change("optimizer"),
    )
    st.number_input(
        "Learning rate",
        min_value=1e-6,
        max_value=_limit("lr", 1),
        format="%.5f",
        step=0.0005,
        key=_bind("lr", spec.lr),
        disabled=disabled,
        **_on_change("lr"),
    )
    c1, c2 = st.columns(2)
    c1.number_input(
        "Batch size",
        _limit("batch_size", 0),
        _limit("batch_size", 1),
        key=_bind("batch_size", spec.batch_size),
        disabled=disabled,
        **_on_change("batch_size"),
    )
    c2.number_input(
        "Steps",
        1,
        MAX_RUN_STEPS,
        key=_bind("steps", min(spec.steps, MAX_RUN_STEPS)),
        disabled=disabled,
        **_on_change("steps"),
    )
    clip = st.checkbox(
        "Clip the gradient norm",
        key=_bind("clip", spec.clip_norm is not None),
        disabled=disabled,
        on_change=lambda: _update("clip_norm", 1.0 if st.session_state[PREFIX + "clip"] else None),
    )
    if clip:
        st.number_input(
            "Clip at norm",
            0.001,
            1000.0,
            format="%.3f",
            key=_bind("clip_norm", spec.clip_norm or 1.0),
            disabled=disabled,
            **_on_change("clip_norm"),
        )
    c1, c2 = st.columns(2)
    c1.number_input(
        "Weight decay",
        _limit("weight_decay", 0),
        _limit("weight_decay", 1),
        format="%.5f",
        step=0.0001,
        key=_bind("weight_decay", spec.weight_decay),
        disabled=disabled,
        **_on_change("weight_decay"),
    )
    c2.number_input(
        "Seed",
        _limit("seed", 0),
        _limit("seed", 1),
        key=_bind("seed", spec.seed),
        disabled=disabled,
        **_on_change("seed"),
    )
    c1, c2 = st.columns(2)
    c1.number_input(
        "Evaluate every",
        _limit("eval_every", 0),
        _limit("eval_every", 1),
        key=_bind("eval_every", spec.eval_every),
        disabled=disabled,
        help="steps between validation measurements",
        **_on_change("eval_every"),
    )
    c2.number_input(
        "Probe every",
        0,
        _limit("probe_every", 1),
        key=_bind("probe_every", spec.probe_every or 0),
        disabled=disabled,
        help="steps between probes of hidden states and gradients; 0 = "
        f"automatic (about {PROBE_BUDGET:.0%} of the training time)",
        **_on_change("probe_every", lambda v: v or None),
    )
