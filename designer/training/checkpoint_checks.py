"""What a checkpoint from elsewhere must look like before the app uses it.

A checkpoint may come from a stranger (an upload). `torch.load(weights_only=True)`
runs no code, but what it returns is still the stranger's: any nesting, any numbers,
tensors that claim more elements than the file holds (an expanded view of one
value), probes whose shapes fit no layer. Each function here checks one part and
returns it cleaned, or raises CheckpointError naming the part; after that, every
value a page draws or counts is of the type and shape the page expects."""

from __future__ import annotations

import math
from typing import Any

import torch

from designer.document.spec import Experiment, SpecError, TrainSpec
from designer.i18n import N_, Text
from designer.inside.probes import PROBE_BATCH, ProbeSummary
from designer.tasks import Task
from designer.training.model import GATE_NAMES

MAX_DEPTH = 16  # nesting of lists and dicts
MAX_ITEMS = 5_000_000  # values, all together
MAX_TEXT = 500  # characters of an error message kept
MAX_NAME = 80  # characters of a run's name
MAX_CHANGES = 10_000  # settings changed while training (a person's clicks; one a step at most)
TENSOR_TYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int64)
TENSOR_TYPES += (torch.int32, torch.uint8, torch.bool)


class CheckpointError(ValueError):
    """A file that cannot be used as a checkpoint; the message is a plain sentence,
    a Text where it is made (str(error) renders it in the reader's language)."""

    def __init__(self, message: str | Text):
        self.text = message
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.text)


# The parts of a checkpoint that can be damaged -> the sentence that says so.
_DAMAGED = {
    "run information": N_("the checkpoint's run information is damaged"),
    "best-weights entry": N_("the checkpoint's best-weights entry is damaged"),
    "training history": N_("the checkpoint's training history is damaged"),
    "probe history": N_("the checkpoint's probe history is damaged"),
    "latest probe": N_("the checkpoint's latest probe is damaged"),
    "optimizer state": N_("the checkpoint's optimizer state is damaged"),
    "random state": N_("the checkpoint's random state is damaged"),
    "step count": N_("the checkpoint's step count is damaged"),
}


def damaged(part: str) -> CheckpointError:
    return CheckpointError(Text(_DAMAGED[part]))


# --- the whole file ----------------------------------------------------------------------
def check_plain(data: Any, max_bytes: int) -> None:
    """Only dicts, lists, tuples, text, numbers and dense tensors, nested at most
    MAX_DEPTH deep; no tensor claims more elements than its stored data holds, and
    all of them together fit `max_bytes`."""
    stack, items, total = [(data, 0)], 0, 0
    while stack:
        value, depth = stack.pop()
        items += 1
        if depth > MAX_DEPTH or items > MAX_ITEMS:
            raise CheckpointError(
                Text("the file nests its data too deeply or holds too much of it")
            )
        if isinstance(value, torch.Tensor):
            total += _tensor_bytes(value)
            if total > max_bytes:
                raise CheckpointError(Text("the file's tensors hold more than its size allows"))
        elif isinstance(value, dict):
            if not all(isinstance(k, (str, int)) for k in value):
                raise CheckpointError(Text("the file is not a checkpoint of this app"))
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            raise CheckpointError(Text("the file is not a checkpoint of this app"))


def _tensor_bytes(t: torch.Tensor) -> int:
    """A tensor's bytes, which its storage (read from the file) must hold: an
    expanded view of a few stored values (stride 0) could claim billions."""
    plain = (
        t.layout == torch.strided
        and t.dtype in TENSOR_TYPES
        and t.numel() * t.element_size() <= t.untyped_storage().nbytes()
    )
    if not plain:
        raise CheckpointError(Text("the file holds a tensor that is not a plain array of numbers"))
    return t.numel() * t.element_size()


# --- numbers -----------------------------------------------------------------------------
def finite(value: Any) -> bool:
    """An int or float (not a bool) that is a finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int past the float range
        return False


def real(value: Any) -> bool:
    """Like `finite`, but infinity and NaN pass (a diverged run's last loss)."""
    if isinstance(value, float):
        return True
    return finite(value)


def count(value: Any, most: int = 10**9) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most


# --- parts -------------------------------------------------------------------------------
RUN_FIELDS = {
    "id": str,
    "name": str,
    "state": str,
    "error": str,
    "task": str,
    "step": count,
    "total": count,
    "clipped_steps": count,
    "busy_seconds": finite,
    "train_time": finite,
    "probe_time": finite,
    "val_loss": finite,
    "ended": finite,
}


def run_info(run: Any) -> dict[str, Any]:
    """Only the fields the app knows, each of its type; text cut short."""
    if not isinstance(run, dict):
        raise damaged("run information")
    kept: dict[str, Any] = {}
    for key, kind in RUN_FIELDS.items():
        value = run.get(key)
        if kind is str and isinstance(value, str):
            kept[key] = value[: MAX_NAME if key != "error" else MAX_TEXT]
        elif kind is not str and kind(value):
            kept[key] = float(value) if kind is finite else value
    losses = run.get("losses_since_eval")
    if isinstance(losses, list) and all(finite(v) for v in losses):
        kept["losses_since_eval"] = [float(v) for v in losses]
    return kept


def best_weights(data: Any, step: int) -> dict[str, Any]:
    """The best evaluation's weights: of an evaluation at or before the checkpoint's
    `step`, with a finite validation loss, and a set of tensors (checked like the
    weights are: they must fit the experiment's model, Checkpoint.model) whose every
    value is a finite number."""
    if not isinstance(data, dict):
        raise damaged("best-weights entry")
    state = data.get("state_dict")
    good = (
        count(data.get("step"), step)
        and finite(data.get("val_loss"))
        and isinstance(state, dict)
        and all(isinstance(k, str) and isinstance(t, torch.Tensor) for k, t in state.items())
        and all(bool(torch.isfinite(t).all()) for t in state.values() if t.is_floating_point())
    )
    if not good:
        raise damaged("best-weights entry")
    return {"step": data["step"], "val_loss": float(data["val_loss"]), "state_dict": dict(state)}


def history(data: Any, train: TrainSpec, step: int) -> dict[str, Any]:
    """The training curves: equal-length columns of numbers, the evaluations, and the
    settings changed while training (see `changes`; `train`: the experiment's settings,
    `step`: the checkpoint's step count)."""
    columns = ("step", "loss", "grad_norm", "clipped", "time")
    if not isinstance(data, dict):
        raise damaged("training history")
    lists = [data.get(k, []) for k in columns]
    if not all(isinstance(v, list) for v in lists) or len({len(v) for v in lists}) != 1:
        raise damaged("training history")
    steps, loss, grad, clipped, times = lists
    evals = data.get("evals", [])
    good = (
        all(count(s) for s in steps)
        and all(real(v) for v in (*loss, *grad))
        and all(finite(v) for v in times)
        and all(isinstance(c, bool) for c in clipped)
        and isinstance(evals, list)
        and all(_good_eval(record) for record in evals)
    )
    if not good:
        raise damaged("training history")
    return {
        "step": steps,
        "loss": [float(v) for v in loss],
        "grad_norm": [float(v) for v in grad],
        "clipped": clipped,
        "time": [float(v) for v in times],
        "evals": [_eval(record) for record in evals],
        "changes": changes(data.get("changes", []), train, step),
    }


def changes(data: Any, train: TrainSpec, step: int) -> list[dict[str, Any]]:
    """The settings changed while training (designer.training.trainer.History.changes): at
    most MAX_CHANGES, each {"step", "lr", "clip_norm"} at a step no later than the
    checkpoint's, the steps rising strictly, and the values ones the experiment
    document allows (checked by the same rules, TrainSpec.changed): a run continued
    from the file trains with the last of them."""
    if not isinstance(data, list) or len(data) > MAX_CHANGES:
        raise damaged("training history")
    kept: list[dict[str, Any]] = []
    for change in data:
        good = (
            isinstance(change, dict)
            and set(change) == {"step", "lr", "clip_norm"}
            and count(change["step"], step)
            and (not kept or change["step"] > kept[-1]["step"])
            and real(change["lr"])
            and (change["clip_norm"] is None or real(change["clip_norm"]))
        )
        if not good:
            raise damaged("training history")
        try:
            spec = train.changed(lr=change["lr"], clip_norm=change["clip_norm"])
        except SpecError:
            raise damaged("training history") from None
        kept.append({"step": change["step"], "lr": spec.lr, "clip_norm": spec.clip_norm})
    return kept


EVAL_FIELDS = ("train_loss", "val_loss", "val_metric", "clipped_steps", "time")


def _good_eval(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and count(record.get("step"))
        and finite(record.get("val_loss"))
        and finite(record.get("val_metric"))
    )


def _eval(record: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"event": "eval", "step": record["step"]}
    for key in EVAL_FIELDS:
        value = record.get(key)
        out[key] = float(value) if finite(value) else None
    return out


def probe_summary(data: Any, exp: Experiment, task: Task) -> ProbeSummary:
    """One probe of the history: per recurrent layer of `exp`, (D, T, B, H) states
    and gates (the layer's own gate names), T norms and D spectral radii each."""
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        raise damaged("probe history")
    T = task.seq_len
    grads = data.get("param_grad_norms")
    good = (
        count(data.get("step"))
        and real(data.get("loss"))
        and _numbers(data.get("input_grad_norm"), T)
        and isinstance(grads, dict)
        and all(isinstance(k, str) and real(v) for k, v in grads.items())
    )
    if not good:
        raise damaged("probe history")
    layers = [_probe_layer(layer, exp, T) for layer in data["layers"]]
    if len({layer["hidden"].shape[2] for layer in layers}) > 1:
        raise damaged("probe history")  # one probe batch for every layer
    return ProbeSummary(
        step=data["step"],
        loss=float(data["loss"]),
        layers=layers,
        input_grad_norm=[float(v) for v in data["input_grad_norm"]],
        param_grad_norms={k: float(v) for k, v in grads.items()},
    )


def _numbers(values: Any, n: int) -> bool:
    return isinstance(values, list) and len(values) == n and all(real(v) for v in values)


def _probe_layer(layer: Any, exp: Experiment, T: int) -> dict[str, Any]:
    specs = exp.model.layers
    if not isinstance(layer, dict) or not count(layer.get("index"), len(specs) - 1):
        raise damaged("probe history")
    spec = specs[layer["index"]]
    D = 2 if getattr(spec, "bidirectional", False) else 1
    gate_names = GATE_NAMES.get(layer.get("type"), None)
    if layer.get("type") != spec.type or gate_names is None:
        raise damaged("probe history")

    def states(t: Any) -> bool:
        return (
            isinstance(t, torch.Tensor)
            and t.dim() == 4
            and t.is_floating_point()
            and (t.shape[0], t.shape[1], t.shape[3]) == (D, T, spec.hidden_size)
            and 1 <= t.shape[2] <= PROBE_BATCH
        )

    gates = layer.get("gates")
    radii = layer.get("spectral_radius")
    lstm = spec.type == "lstm"
    good = (
        states(layer.get("hidden"))
        and (states(layer.get("cell")) if lstm else layer.get("cell") is None)
        and isinstance(gates, dict)
        and set(gates) == set(gate_names)
        and all(states(g) and g.shape == layer["hidden"].shape for g in gates.values())
        and _numbers(layer.get("grad_norm"), T)
        and _numbers(layer.get("hidden_norm"), T)
        and (_numbers(layer.get("cell_grad_norm"), T) if lstm else "cell_grad_norm" not in layer)
        and isinstance(radii, dict)
        and set(radii) == set(gate_names or ("recurrent",))
        and all(_numbers(r, D) for r in radii.values())
    )
    if not good:
        raise damaged("probe history")
    out = {
        "index": layer["index"],
        "type": spec.type,
        "directions": D,
        "grad_norm": [float(v) for v in layer["grad_norm"]],
        "hidden_norm": [float(v) for v in layer["hidden_norm"]],
        "spectral_radius": {k: [float(v) for v in r] for k, r in radii.items()},
        "hidden": layer["hidden"],
        "cell": layer.get("cell"),
        "gates": dict(gates),
    }
    if lstm:
        out["cell_grad_norm"] = [float(v) for v in layer["cell_grad_norm"]]
    return out
