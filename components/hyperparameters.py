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


def _number(
    where: Any,
    label: str,
    field: str,
    value: Any,
    disabled: bool,
    low: Any = None,
    high: Any = None,
    transform=lambda v: v,
    **kwargs: Any,
) -> None:
    """A number widget bound to a `train` field, within the document's own limits
    (unless `low`/`high` say otherwise)."""
    where.number_input(
        label,
        _limit(field, 0) if low is None else low,
        _limit(field, 1) if high is None else high,
        key=_bind(field, value),
        disabled=disabled,
        **_on_change(field, transform),
        **kwargs,
    )


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
    _number(st, "Learning rate", "lr", spec.lr, disabled, low=1e-6, format="%.5f", step=0.0005)
    c1, c2 = st.columns(2)
    _number(c1, "Batch size", "batch_size", spec.batch_size, disabled)
    steps = min(spec.steps, MAX_RUN_STEPS)
    _number(c2, "Steps", "steps", steps, disabled, high=MAX_RUN_STEPS)
    clip = st.checkbox(
        "Clip the gradient norm",
        key=_bind("clip", spec.clip_norm is not None),
        disabled=disabled,
        help="On by default, at 1.0: a step whose gradient is longer than this is scaled "
        "down to it (Pascanu et al. 2013). Off, a large learning rate can make training "
        "explode.",
        on_change=lambda: _update("clip_norm", 1.0 if st.session_state[PREFIX + "clip"] else None),
    )
    if clip:
        clip_norm = spec.clip_norm or 1.0
        _number(st, "Clip at norm", "clip_norm", clip_norm, disabled, 0.001, 1000.0, format="%.3f")
    c1, c2 = st.columns(2)
    decay = spec.weight_decay
    _number(c1, "Weight decay", "weight_decay", decay, disabled, format="%.5f", step=0.0001)
    _number(c2, "Seed", "seed", spec.seed, disabled)
    c1, c2 = st.columns(2)
    _number(
        c1,
        "Evaluate every",
        "eval_every",
        spec.eval_every,
        disabled,
        help="steps between validation measurements",
    )
    _number(
        c2,
        "Probe every",
        "probe_every",
        spec.probe_every or 0,
        disabled,
        low=0,
        transform=lambda v: v or None,
        help="steps between probes of hidden states and gradients; 0 = "
        f"automatic (about {PROBE_BUDGET:.0%} of the training time)",
    )
