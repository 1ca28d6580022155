"""A/B variants: the classic contrasts made from an experiment in one click, what
changed between two experiments (in words), and the initial weights a variant shares
with the run it is compared with.

A contrast teaches only when one thing changes. So a variant keeps everything else:
the same seed (hence the same data order: each step's batch is drawn from the seed
and the step number) and, where a parameter has the same name and shape in both
models, the same initial values (`initial_model`). Only "another seed" changes the
seed, and with it the data order and every initial weight, on purpose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch.nn as nn

from designer.model import build_model
from designer.spec import RECURRENT_TYPES, Experiment, SpecError, TrainSpec, field_range
from designer.summary import GATES
from designer.tasks import Task, get_task

CLIP_NORM = 1.0  # what "clipping on" sets, as the classic contrast uses (Pascanu et al.)
LR_FACTOR = 10.0


@dataclass(frozen=True)
class Variant:
    key: str  # stable across reruns: "cell:lstm", "add-layer", "lr-up", ...
    label: str  # what the menu shows
    experiment: Experiment


def layer_name(layer: Any) -> str:
    """A layer in two or three words: 'LSTM 64', 'bidirectional GRU 32', 'linear 32 relu'."""
    if layer.type in GATES:
        both = "bidirectional " if layer.bidirectional else ""
        return f"{both}{layer.type.upper()} {layer.hidden_size}"
    if layer.type == "linear":
        act = "" if layer.activation == "none" else f" {layer.activation}"
        return f"linear {layer.out_features}{act}"
    if layer.type == "dropout":
        return f"dropout {layer.p:g}"
    return {"layernorm": "layer norm", "attention": "attention"}[layer.type]


def _recurrent(exp: Experiment) -> list[int]:
    return [i for i, layer in enumerate(exp.model.layers) if layer.type in RECURRENT_TYPES]


def _layers(exp: Experiment) -> list[dict[str, Any]]:
    return [layer.model_dump(mode="json") for layer in exp.model.layers]


def _as_cell(layer: dict[str, Any], kind: str) -> dict[str, Any]:
    """A recurrent layer's settings as another cell type (fields only one type has go)."""
    out = {**layer, "type": kind}
    if kind != "rnn":
        out.pop("nonlinearity", None)
    if kind != "lstm":
        out.pop("forget_bias", None)
    if kind != "rnn":
        out.pop("leak_rate", None)  # a leaky integrator is an rnn's alone
    return out


def _with(exp: Experiment, layers: list[dict] | None = None, **train: Any) -> Experiment | None:
    """`exp` with other layers or training settings, or None where that is not a
    valid experiment (too many layers or parameters, say)."""
    data = exp.to_dict()
    if layers is not None:
        data["model"]["layers"] = layers
    data["train"].update(train)
    try:
        return Experiment.from_dict(data)
    except SpecError:
        return None


def _type_names(exp: Experiment, indices: list[int]) -> str:
    kinds = sorted({exp.model.layers[i].type.upper() for i in indices})
    return "/".join(kinds)


def variants(exp: Experiment, task: Task | None = None) -> list[Variant]:
    """The contrasts that apply to `exp`, each a valid experiment that differs in one
    respect: swap the cell type of every recurrent layer; add or remove a layer;
    residual connections on or off; bidirectional on or off (not for forecasting,
    where it would read the answer); clipping on or off; another seed; a learning
    rate ten times higher or lower."""
    task = task if task is not None else get_task(exp.task)
    layers = _layers(exp)
    rec = _recurrent(exp)
    found: list[tuple[str, str, Experiment | None]] = []

    for kind in RECURRENT_TYPES:
        if rec and any(layers[i]["type"] != kind for i in rec):
            others = [i for i in rec if layers[i]["type"] != kind]
            swapped = [_as_cell(d, kind) if i in rec else d for i, d in enumerate(layers)]
            label = f"{_type_names(exp, others)} → {kind.upper()} in every recurrent layer"
            found.append((f"cell:{kind}", label, _with(exp, swapped)))

    if rec:
        top = rec[-1]
        added = [*layers[: top + 1], layers[top], *layers[top + 1 :]]
        label = f"One more layer: another {layer_name(exp.model.layers[top])} above layer {top + 1}"
        found.append(("add-layer", label, _with(exp, added)))
    else:
        lstm = {"type": "lstm", "hidden_size": 64}
        found.append(
            ("add-layer", "One more layer: an LSTM 64 at the bottom", _with(exp, [lstm, *layers]))
        )
    if len(rec) > 1:
        top = rec[-1]
        label = f"One layer fewer: without layer {top + 1} ({layer_name(exp.model.layers[top])})"
        found.append(("remove-layer", label, _with(exp, layers[:top] + layers[top + 1 :])))

    can_skip = [i for i, d in enumerate(layers) if i > 0 and "residual" in d]
    if can_skip:
        on = not any(layers[i]["residual"] for i in can_skip)
        toggled = [{**d, "residual": on} if i in can_skip else d for i, d in enumerate(layers)]
        where = (
            f"layer {can_skip[0] + 1}"
            if len(can_skip) == 1
            else f"layers {can_skip[0] + 1}–{can_skip[-1] + 1}"
        )
        label = f"Residual connections on ({where})" if on else "Residual connections off"
        found.append(("residual", label, _with(exp, toggled)))

    if rec and not task.forecasts:
        on = not any(layers[i]["bidirectional"] for i in rec)
        toggled = [{**d, "bidirectional": on} if i in rec else d for i, d in enumerate(layers)]
        label = (
            "Bidirectional recurrent layers"
            if on
            else "One-way (not bidirectional) recurrent layers"
        )
        found.append(("bidirectional", label, _with(exp, toggled)))

    spec = exp.train
    if spec.clip_norm is None:
        found.append(
            ("clip", f"Gradient clipping on (at {CLIP_NORM:g})", _with(exp, clip_norm=CLIP_NORM))
        )
    else:
        found.append(
            (
                "clip",
                f"Gradient clipping off (now at {spec.clip_norm:g})",
                _with(exp, clip_norm=None),
            )
        )

    found.append(
        (
            "seed",
            f"Another seed ({spec.seed + 1}): other initial weights and data",
            _with(exp, seed=spec.seed + 1),
        )
    )
    low, high = field_range(TrainSpec, "lr")
    for key, factor in (("lr-up", LR_FACTOR), ("lr-down", 1 / LR_FACTOR)):
        lr = float(f"{spec.lr * factor:.6g}")
        if (low is None or lr > low) and (high is None or lr <= high):
            found.append((key, f"Learning rate {spec.lr:g} → {lr:g}", _with(exp, lr=lr)))

    return [Variant(key, label, v) for key, label, v in found if v is not None and v != exp]


# --- the same start -------------------------------------------------------------------
def shared_weights(model: nn.Module, like: nn.Module) -> list[str]:
    """Copy into `model` every parameter and buffer of `like` with the same name and
    shape; returns the names copied."""
    theirs = like.state_dict()
    mine = model.state_dict()
    same = {k: v for k, v in theirs.items() if k in mine and mine[k].shape == v.shape}
    model.load_state_dict(same, strict=False)
    return sorted(same)


def initial_model(exp: Experiment, like: Experiment, task: Task | None = None) -> nn.Module:
    """`exp`'s model at initialisation, starting from `like`'s initial weights
    wherever a weight has the same name and shape (a variant and its original then
    differ only where their designs do). With another seed nothing is shared: the
    seed is what the contrast is about."""
    task = task if task is not None else get_task(exp.task)
    model = build_model(exp, task)
    if like.train.seed == exp.train.seed and like.task == exp.task:
        shared_weights(model, build_model(like, task))
    return model


# --- what changed, in words -----------------------------------------------------------
_FIELD_WORDS = {
    "hidden_size": "width",
    "out_features": "width",
    "freeze": "frozen",
    "p": "rate",
    "forget_bias": "forget bias",
    "gain": "recurrent gain",
    "spectral_radius": "spectral radius",
    "input_scaling": "input scaling",
    "leak_rate": "leak rate",
    "ridge_readout": "ridge read-out",
    "lr": "learning rate",
    "batch_size": "batch size",
    "weight_decay": "weight decay",
    "lr_schedule": "learning-rate schedule",
    "lr_decay": "learning-rate decay",
    "lr_decay_every": "decay every",
    "eval_every": "evaluation every",
    "probe_every": "probe every",
}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _in_use(name: str, a: TrainSpec, b: TrainSpec) -> bool:
    """Whether a train field acts in either experiment: momentum only in SGD with
    momentum, the decay settings only in the step schedule (a change elsewhere changes
    nothing about the run, and saying it would mislead)."""
    if name == "momentum":
        return "momentum" in (a.optimizer, b.optimizer)
    if name in ("lr_decay", "lr_decay_every"):
        return "step" in (a.lr_schedule, b.lr_schedule)
    return True


def _clipping(clip_norm: float | None) -> str:
    return "off" if clip_norm is None else f"at {clip_norm:g}"


def _numbers(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> 'layers 1–3 and 5'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    plural = len(numbers) > 1
    return f"layer{'s' if plural else ''} {joined}"


def task_words(exp: Experiment) -> str:
    """'adding (seq_len 50)': the task and its settings (not a CSV file's data)."""
    params = exp.task.params
    shown = ", ".join(f"{k} {_value(v)}" for k, v in params.items() if k not in ("data", "upload"))
    return f"{exp.task.name} ({shown})" if shown else exp.task.name


def _change_cost(old: dict[str, Any], new: dict[str, Any]) -> float:
    if old == new:
        return 0.0
    alike = old["type"] == new["type"] or {old["type"], new["type"]} <= set(RECURRENT_TYPES)
    return 0.5 if alike else 1.5  # a changed layer, or one replaced by another kind


def _align(la: list[dict], lb: list[dict]) -> list[tuple[int | None, int | None]]:
    """Pairs (i, j) of layers matched up by the least edit cost (a layer added or
    removed costs 1, changed 0.5, replaced by another kind 1.5); None on one side for
    a layer added or removed."""
    n, m = len(la), len(lb)
    cost = [[float(i + j) if i == 0 or j == 0 else 0.0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(
                cost[i - 1][j - 1] + _change_cost(la[i - 1], lb[j - 1]),
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
            )
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:  # from the top: among equal alignments, layers added on top
        if j and cost[i][j] == cost[i][j - 1] + 1:
            j -= 1
            pairs.append((None, j))
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
            pairs.append((i, None))
        else:
            i, j = i - 1, j - 1
            pairs.append((i, j))
    return pairs[::-1]


def differences(a: Experiment, b: Experiment) -> list[str]:
    """What changed from `a` to `b`, as short phrases a teacher can read out: 'layers
    1–2: RNN → LSTM', 'depth: 2 → 3 layers', 'layer 3 added: LSTM 64', 'gradient
    clipping: at 1 → off', 'learning rate: 0.003 → 0.03'. Layers are matched up the
    way a diff matches lines (least edit cost), so one inserted layer is one change."""
    out: list[str] = []
    if a.task != b.task:
        out.append(f"task: {task_words(a)} → {task_words(b)}")
    if a.model.embedding_dim != b.model.embedding_dim:
        out.append(f"embedding: {_value(a.model.embedding_dim)} → {_value(b.model.embedding_dim)}")

    la, lb = _layers(a), _layers(b)
    if len(la) != len(lb):
        out.append(f"depth: {len(la)} → {len(lb)} layer{'s' if len(lb) != 1 else ''}")
    changes: dict[tuple[str, str, str], list[int]] = {}
    added: list[str] = []
    for i, j in _align(la, lb):
        if j is None:
            added.append(f"layer {i + 1} removed: {layer_name(a.model.layers[i])}")
            continue
        if i is None:
            added.append(f"layer {j + 1} added: {layer_name(b.model.layers[j])}")
            continue
        old, new = la[i], lb[j]
        if old["type"] != new["type"]:
            if not {old["type"], new["type"]} <= set(RECURRENT_TYPES):
                key = ("layer", layer_name(a.model.layers[i]), layer_name(b.model.layers[j]))
                changes.setdefault(key, []).append(j + 1)
                continue
            changes.setdefault(("layer", old["type"].upper(), new["type"].upper()), []).append(
                j + 1
            )
        for name in sorted(set(old) & set(new) - {"type"}):
            if old[name] != new[name]:
                changes.setdefault((name, _value(old[name]), _value(new[name])), []).append(j + 1)
    for (name, old, new), numbers in changes.items():
        what = "" if name == "layer" else f"{_FIELD_WORDS.get(name, name)} "
        out.append(f"{_numbers(numbers)}: {what}{old} → {new}")
    out.extend(added)

    ta, tb = a.train, b.train
    for name in TrainSpec.model_fields:
        old, new = getattr(ta, name), getattr(tb, name)
        if old == new or not _in_use(name, ta, tb):
            continue
        if name == "clip_norm":
            out.append(f"gradient clipping: {_clipping(old)} → {_clipping(new)}")
        else:
            out.append(f"{_FIELD_WORDS.get(name, name)}: {_value(old)} → {_value(new)}")
    return out
