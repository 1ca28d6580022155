"""The optimizer settings as widgets bound to the experiment's `train` section:
each change updates the session's experiment (and so the URL) at once."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.shell.binding import bind
from components.train.runs import MAX_RUN_STEPS
from designer import Experiment
from designer.document.spec import TrainSpec, field_choices, field_range
from designer.i18n import N_, _
from designer.training.trainer import PROBE_BUDGET

PREFIX = "train_"
LABELS = {  # the optimizers in the order the menu shows them (shown through _())
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "momentum": N_("SGD with momentum"),
    "rmsprop": "RMSprop",
}
OPTIMIZERS = sorted(field_choices(TrainSpec, "optimizer"), key=[*LABELS, None].index)
SCHEDULES = field_choices(TrainSpec, "lr_schedule")
SCHEDULE_LABELS = {"constant": N_("Constant"), "step": N_("Step decay"), "cosine": N_("Cosine")}


def _words(labels: dict[str, str]) -> dict[str, str]:
    """The labels in the reader's words, made now: AppTest formats options again later,
    outside this page's run."""
    return {name: _(words) for name, words in labels.items()}


def _limit(field: str, end: int) -> Any:
    """The document's own limit of a field (end 0: lowest, 1: highest)."""
    return field_range(TrainSpec, field)[end]


def _bind(field: str, value: Any, key: str | None = None, **rules: Any) -> dict[str, Any]:
    """The widget `key` (train_ + the field unless given) bound to the `train` field."""
    return bind(key or PREFIX + field, ("train", field), value, **rules)


def _choice(
    label: str,
    field: str,
    value: str,
    options: list[str],
    labels: dict[str, str],
    disabled: bool,
    **kwargs: Any,
) -> None:
    """A choice among `options` bound to a `train` field, each option in the reader's
    words (`labels`)."""
    st.selectbox(
        label,
        options,
        format_func=_words(labels).get,
        disabled=disabled,
        **_bind(field, value),
        **kwargs,
    )


def _number(
    where: Any,
    label: str,
    field: str,
    value: Any,
    disabled: bool,
    low: Any = None,
    high: Any = None,
    transform=None,
    **kwargs: Any,
) -> None:
    """A number widget bound to a `train` field, within the document's own limits
    (unless `low`/`high` say otherwise)."""
    where.number_input(
        label,
        _limit(field, 0) if low is None else low,
        _limit(field, 1) if high is None else high,
        disabled=disabled,
        **_bind(field, value, to_doc=transform),
        **kwargs,
    )


def hyperparameters(exp: Experiment, disabled: bool = False) -> None:
    """Render the settings; `disabled` while a run is under way (they apply to the
    next run, and changing them mid-run would mislead)."""
    spec = exp.train
    _optimizer(spec, disabled)
    _schedule(spec, disabled)
    c1, c2 = st.columns(2)
    _number(c1, _("Batch size"), "batch_size", spec.batch_size, disabled)
    steps = min(spec.steps, MAX_RUN_STEPS)
    _number(c2, _("Steps"), "steps", steps, disabled, high=MAX_RUN_STEPS)
    _clipping(spec, disabled)
    c1, c2 = st.columns(2)
    decay = spec.weight_decay
    _number(c1, _("Weight decay"), "weight_decay", decay, disabled, format="%.5f", step=0.0001)
    _number(c2, _("Seed"), "seed", spec.seed, disabled)
    _measurements(spec, disabled)
    _ridge_readout(spec, disabled)


def _optimizer(spec: TrainSpec, disabled: bool) -> None:
    """The optimizer, its learning rate and (SGD with momentum) its momentum."""
    _choice(_("Optimizer"), "optimizer", spec.optimizer, OPTIMIZERS, LABELS, disabled)
    _number(st, _("Learning rate"), "lr", spec.lr, disabled, low=1e-6, format="%.5f", step=0.0005)
    if spec.optimizer == "momentum":
        _number(
            st,
            _("Momentum"),
            "momentum",
            spec.momentum,
            disabled,
            format="%.3f",
            step=0.01,
            help=_(
                "The share of each update carried into the next: higher values smooth the "
                "steps and speed them up along a steady slope (0 is plain SGD)."
            ),
        )


def _schedule(spec: TrainSpec, disabled: bool) -> None:
    """The learning rate over the run, and the step decay's factor and period."""
    _choice(
        _("Learning-rate schedule"),
        "lr_schedule",
        spec.lr_schedule,
        SCHEDULES,
        SCHEDULE_LABELS,
        disabled,
        help=_(
            "How the learning rate changes over the run: constant keeps it, step decay "
            "multiplies it by a factor every so many steps, cosine lowers it smoothly to 0 "
            "by the last step."
        ),
    )
    if spec.lr_schedule == "step":
        c1, c2 = st.columns(2)
        _number(
            c1,
            _("Decay factor"),
            "lr_decay",
            spec.lr_decay,
            disabled,
            format="%.3f",
            step=0.05,
            help=_("The learning rate is multiplied by this at each decay."),
        )
        _number(
            c2,
            _("Decay every"),
            "lr_decay_every",
            spec.lr_decay_every,
            disabled,
            help=_("Steps between two decays of the learning rate."),
        )


def _clipping(spec: TrainSpec, disabled: bool) -> None:
    """Gradient clipping on or off (on: at 1.0), and the norm it clips at."""
    clip = st.checkbox(
        _("Clip the gradient norm"),
        disabled=disabled,
        help=_(
            "On by default, at 1.0: a step whose gradient is longer than this is scaled "
            "down to it (Pascanu et al. 2013). Off, a large learning rate can make training "
            "explode."
        ),
        **_bind("clip_norm", spec.clip_norm is not None, PREFIX + "clip", to_doc=_on_or_none(1.0)),
    )
    if clip:
        clip_norm = spec.clip_norm or 1.0
        _number(
            st, _("Clip at norm"), "clip_norm", clip_norm, disabled, 0.001, 1000.0, format="%.3f"
        )


def _measurements(spec: TrainSpec, disabled: bool) -> None:
    """How often the run is measured on validation data and probed."""
    c1, c2 = st.columns(2)
    _number(
        c1,
        _("Evaluate every"),
        "eval_every",
        spec.eval_every,
        disabled,
        help=_("steps between validation measurements"),
    )
    _number(
        c2,
        _("Probe every"),
        "probe_every",
        spec.probe_every or 0,
        disabled,
        low=0,
        transform=lambda v: v or None,
        help=_(
            "steps between probes of hidden states and gradients; 0 = automatic (about "
            "{share} of the training time)"
        ).format(share=f"{PROBE_BUDGET:.0%}"),
    )


def _on_or_none(value: float):
    """A checkbox's value in the document: `value` when on, None (the option off) when off."""
    return lambda on: value if on else None


RIDGE_DEFAULT = 1e-4  # the penalty the option starts with


def _ridge_readout(spec: TrainSpec, disabled: bool) -> None:
    """The echo state network's way of training the read-out: in closed form, by ridge
    regression, before the first step (designer.training.trainer.fit_readout)."""
    ridge = st.checkbox(
        _("Fit the read-out in closed form (ridge)"),
        disabled=disabled,
        help=_(
            "Before the first step, the last linear layer (the read-out) is set to the "
            "ridge regression of the targets on what it reads, over a few training batches, "
            "as an echo state network does with a frozen reservoir below it. Training then "
            "goes on by gradient as usual (a run of 1 step is nearly the fit alone)."
        ),
        **_bind(
            "ridge_readout",
            spec.ridge_readout is not None,
            PREFIX + "ridge",
            to_doc=_on_or_none(RIDGE_DEFAULT),
        ),
    )
    if ridge:
        _number(
            st,
            _("Ridge penalty"),
            "ridge_readout",
            spec.ridge_readout or RIDGE_DEFAULT,
            disabled,
            low=1e-8,
            format="%.1e",
            step=1e-4,
            help=_(
                "λ in W = (XᵀX + λI)⁻¹ XᵀY: larger shrinks the read-out's weights (less "
                "overfitting, a smoother fit), smaller follows the training batches closer."
            ),
        )
