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

from designer.document.spec import RECURRENT_TYPES, Experiment, SpecError, TrainSpec, field_range
from designer.document.summary import GATES
from designer.i18n import N_, _
from designer.tasks import Task, get_task
from designer.training.model import build_model

CLIP_NORM = 1.0  # what "clipping on" sets, as the classic contrast uses (Pascanu et al.)
LR_FACTOR = 10.0


@dataclass(frozen=True)
class Variant:
    key: str  # stable across reruns: "cell:lstm", "add-layer", "lr-up", ...
    label: str  # what the menu shows (in the language of whoever asked for the menu)
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


def layer_words(layer: Any) -> str:
    """layer_name in the reader's language (layer_name itself stays English: exported
    code and run names use it)."""
    if layer.type in GATES:
        if layer.bidirectional:
            return _("bidirectional {type} {width}").format(
                type=layer.type.upper(), width=layer.hidden_size
            )
        return f"{layer.type.upper()} {layer.hidden_size}"
    if layer.type == "linear":
        if layer.activation == "none":
            return _("linear {width}").format(width=layer.out_features)
        return _("linear {width} {activation}").format(
            width=layer.out_features, activation=layer.activation
        )
    if layer.type == "dropout":
        return _("dropout {p}").format(p=f"{layer.p:g}")
    return {"layernorm": _("layer norm"), "attention": _("attention")}[layer.type]


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


# (key, label, the changed experiment, or None where the change makes it invalid)
_Contrast = tuple[str, str, Experiment | None]


def variants(exp: Experiment, task: Task | None = None) -> list[Variant]:
    """The contrasts that apply to `exp`, each a valid experiment that differs in one
    respect: swap the cell type of every recurrent layer; add or remove a layer;
    residual connections on or off; bidirectional on or off (not for forecasting,
    where it would read the answer); clipping on or off; another seed; a learning
    rate ten times higher or lower."""
    task = task if task is not None else get_task(exp.task)
    layers = _layers(exp)
    rec = _recurrent(exp)
    found = [
        *_cell_swaps(exp, layers, rec),
        *_depth_changes(exp, layers, rec),
        *_connection_toggles(exp, task, layers, rec),
        *_training_changes(exp),
    ]
    return [Variant(key, label, v) for key, label, v in found if v is not None and v != exp]


def _cell_swaps(exp: Experiment, layers: list[dict], rec: list[int]) -> list[_Contrast]:
    """Every recurrent layer as each other cell type: (key, label, experiment)."""
    found: list[_Contrast] = []
    for kind in RECURRENT_TYPES:
        if rec and any(layers[i]["type"] != kind for i in rec):
            others = [i for i in rec if layers[i]["type"] != kind]
            swapped = [_as_cell(d, kind) if i in rec else d for i, d in enumerate(layers)]
            label = _("{old} → {new} in every recurrent layer").format(
                old=_type_names(exp, others), new=kind.upper()
            )
            found.append((f"cell:{kind}", label, _with(exp, swapped)))
    return found


def _depth_changes(exp: Experiment, layers: list[dict], rec: list[int]) -> list[_Contrast]:
    """One recurrent layer more (a copy of the top one; an LSTM where there is none),
    and one fewer where two or more are left."""
    found: list[_Contrast] = []
    if rec:
        top = rec[-1]
        added = [*layers[: top + 1], layers[top], *layers[top + 1 :]]
        label = _("One more layer: another {layer} above layer {n}").format(
            layer=layer_words(exp.model.layers[top]), n=top
        )
        found.append(("add-layer", label, _with(exp, added)))
    else:
        lstm = {"type": "lstm", "hidden_size": 64}
        found.append(
            (
                "add-layer",
                _("One more layer: an LSTM 64 at the bottom"),
                _with(exp, [lstm, *layers]),
            )
        )
    if len(rec) > 1:
        top = rec[-1]
        label = _("One layer fewer: without layer {n} ({layer})").format(
            n=top, layer=layer_words(exp.model.layers[top])
        )
        found.append(("remove-layer", label, _with(exp, layers[:top] + layers[top + 1 :])))
    return found


def _connection_toggles(
    exp: Experiment, task: Task, layers: list[dict], rec: list[int]
) -> list[_Contrast]:
    """Residual connections, and both directions (not where the task forecasts), on
    where they are off and off where they are on."""
    found: list[_Contrast] = []
    can_skip = [i for i, d in enumerate(layers) if i > 0 and "residual" in d]
    if can_skip:
        on = not any(layers[i]["residual"] for i in can_skip)
        toggled = [{**d, "residual": on} if i in can_skip else d for i, d in enumerate(layers)]
        if not on:
            label = _("Residual connections off")
        elif len(can_skip) == 1:
            label = _("Residual connections on (layer {n})").format(n=can_skip[0])
        else:
            label = _("Residual connections on (layers {first}–{last})").format(
                first=can_skip[0], last=can_skip[-1]
            )
        found.append(("residual", label, _with(exp, toggled)))

    if rec and not task.forecasts:
        on = not any(layers[i]["bidirectional"] for i in rec)
        toggled = [{**d, "bidirectional": on} if i in rec else d for i, d in enumerate(layers)]
        label = (
            _("Bidirectional recurrent layers")
            if on
            else _("One-way (not bidirectional) recurrent layers")
        )
        found.append(("bidirectional", label, _with(exp, toggled)))
    return found


def _training_changes(exp: Experiment) -> list[_Contrast]:
    """Clipping on or off, the next seed, and the learning rate ten times higher and
    lower where its range allows."""
    found: list[_Contrast] = []
    spec = exp.train
    if spec.clip_norm is None:
        found.append(
            (
                "clip",
                _("Gradient clipping on (at {norm})").format(norm=f"{CLIP_NORM:g}"),
                _with(exp, clip_norm=CLIP_NORM),
            )
        )
    else:
        found.append(
            (
                "clip",
                _("Gradient clipping off (now at {norm})").format(norm=f"{spec.clip_norm:g}"),
                _with(exp, clip_norm=None),
            )
        )

    found.append(
        (
            "seed",
            _("Another seed ({seed}): other initial weights and data").format(seed=spec.seed + 1),
            _with(exp, seed=spec.seed + 1),
        )
    )
    low, high = field_range(TrainSpec, "lr")
    for key, factor in (("lr-up", LR_FACTOR), ("lr-down", 1 / LR_FACTOR)):
        lr = float(f"{spec.lr * factor:.6g}")
        if (low is None or lr > low) and (high is None or lr <= high):
            said = _("Learning rate {old} → {new}").format(old=f"{spec.lr:g}", new=f"{lr:g}")
            found.append((key, said, _with(exp, lr=lr)))
    return found


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
_FIELD_WORDS = {  # translated where shown; a field not here is named as it is
    "hidden_size": N_("width"),
    "out_features": N_("width"),
    "freeze": N_("frozen"),
    "p": N_("rate"),
    "forget_bias": N_("forget bias"),
    "gain": N_("recurrent gain"),
    "spectral_radius": N_("spectral radius"),
    "input_scaling": N_("input scaling"),
    "leak_rate": N_("leak rate"),
    "ridge_readout": N_("ridge read-out"),
    "lr": N_("learning rate"),
    "batch_size": N_("batch size"),
    "weight_decay": N_("weight decay"),
    "lr_schedule": N_("learning-rate schedule"),
    "lr_decay": N_("learning-rate decay"),
    "lr_decay_every": N_("decay every"),
    "eval_every": N_("evaluation every"),
    "probe_every": N_("probe every"),
}
# the fields named as they are in English, and in the reader's language
_FIELD_NAMES = {
    "bidirectional": N_("bidirectional"),
    "residual": N_("residual"),
    "dropout": N_("dropout"),
    "init": N_("init"),
    "nonlinearity": N_("nonlinearity"),
    "activation": N_("activation"),
    "optimizer": N_("optimizer"),
    "steps": N_("steps"),
    "momentum": N_("momentum"),
    "seed": N_("seed"),
    "device": N_("device"),
}
_VALUE_WORDS = {"on": N_("on"), "off": N_("off"), "none": N_("none")}


def _field(name: str) -> str:
    """A field of a layer or of training, in words, in the reader's language."""
    return _(_FIELD_WORDS.get(name) or _FIELD_NAMES.get(name) or name)


def _said(value: Any) -> str:
    """_value in the reader's language (on, off and none translated)."""
    text = _value(value)
    return _(_VALUE_WORDS[text]) if text in _VALUE_WORDS else text


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
    if clip_norm is None:
        return _("off")
    return _("at {norm}").format(norm=f"{clip_norm:g}")


def _numbers(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> 'layers 1–3 and 5'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    if len(parts) == 1:
        joined = parts[0]
    else:
        joined = _("{first} and {last}").format(first=", ".join(parts[:-1]), last=parts[-1])
    if len(numbers) > 1:
        return _("layers {numbers}").format(numbers=joined)
    return _("layer {numbers}").format(numbers=joined)


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
        out.append(_("task: {old} → {new}").format(old=task_words(a), new=task_words(b)))
    if a.model.embedding_dim != b.model.embedding_dim:
        old, new = _said(a.model.embedding_dim), _said(b.model.embedding_dim)
        out.append(_("embedding: {old} → {new}").format(old=old, new=new))

    la, lb = _layers(a), _layers(b)
    if len(la) != len(lb):
        if len(lb) == 1:
            depth = _("depth: {old} → {new} layer")
        else:
            depth = _("depth: {old} → {new} layers")
        out.append(depth.format(old=len(la), new=len(lb)))
    changes: dict[tuple[str, str, str], list[int]] = {}
    added: list[str] = []
    for i, j in _align(la, lb):
        if j is None:
            removed = _("layer {n} removed: {layer}")
            added.append(removed.format(n=i, layer=layer_words(a.model.layers[i])))
            continue
        if i is None:
            more = _("layer {n} added: {layer}")
            added.append(more.format(n=j, layer=layer_words(b.model.layers[j])))
            continue
        old, new = la[i], lb[j]
        if old["type"] != new["type"]:
            if not {old["type"], new["type"]} <= set(RECURRENT_TYPES):
                key = ("layer", layer_words(a.model.layers[i]), layer_words(b.model.layers[j]))
                changes.setdefault(key, []).append(j)
                continue
            changes.setdefault(("layer", old["type"].upper(), new["type"].upper()), []).append(j)
        for name in sorted(set(old) & set(new) - {"type"}):
            if old[name] != new[name]:
                changes.setdefault((name, _said(old[name]), _said(new[name])), []).append(j)
    for (name, old, new), numbers in changes.items():
        layers = _numbers(numbers)
        if name == "layer":
            said = _("{where}: {old} → {new}").format(where=layers, old=old, new=new)
        else:
            said = _("{where}: {field} {old} → {new}").format(
                where=layers, field=_field(name), old=old, new=new
            )
        out.append(said)
    out.extend(added)

    ta, tb = a.train, b.train
    for name in TrainSpec.model_fields:
        old, new = getattr(ta, name), getattr(tb, name)
        if old == new or not _in_use(name, ta, tb):
            continue
        if name == "clip_norm":
            said = _("gradient clipping: {old} → {new}")
            out.append(said.format(old=_clipping(old), new=_clipping(new)))
        else:
            said = _("{field}: {old} → {new}")
            out.append(said.format(field=_field(name), old=_said(old), new=_said(new)))
    return out
