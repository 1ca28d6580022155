"""Checkpoints: a run written to one file and read back safely.

A checkpoint is `torch.save` of plain data: the experiment document, the weights, the
training history with its probes, the last full probe, and what the app knows of the
run (its name, how it ended). It holds no Python objects, so it is read with
`torch.load(weights_only=True)`, which refuses any pickle that would run code: a
checkpoint may come from a stranger (an upload, a shared server's disk).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from designer.model import build_model
from designer.probes import LayerProbe, ProbeResult, ProbeSummary
from designer.spec import Experiment, SpecError
from designer.tasks import TaskDataError, get_task

FORMAT = 1
MAX_BYTES = 256 * 2**20  # the largest checkpoint read
NOT_A_CHECKPOINT = "the file is not a checkpoint, or it is damaged or truncated"


class CheckpointError(ValueError):
    """A file that cannot be used as a checkpoint; the message is a plain sentence."""


@dataclass
class Checkpoint:
    experiment: Experiment
    state_dict: dict[str, torch.Tensor]
    history: dict[str, Any]  # designer.trainer.History.to_dict()
    probes: list[ProbeSummary] = field(default_factory=list)
    last_probe: ProbeResult | None = None
    step: int = 0
    run: dict[str, Any] = field(default_factory=dict)  # name, state, error, busy_seconds...
    optimizer: dict[str, Any] | None = None  # the optimizer's state, to resume training
    rng: torch.Tensor | None = None  # torch's random state (dropout masks), to resume

    def model(self) -> nn.Module:
        """The experiment's model with these weights."""
        model = build_model(self.experiment, get_task(self.experiment.task))
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as err:
            raise CheckpointError(
                f"the checkpoint's weights do not match its experiment: {_first_line(err)}"
            ) from None
        return model


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def probe_to_data(result: ProbeResult) -> dict[str, Any]:
    data = _fields(result)
    data["layers"] = [_fields(layer) for layer in result.layers]
    return data


def probe_from_data(data: dict[str, Any]) -> ProbeResult:
    return ProbeResult(**{**data, "layers": [LayerProbe(**layer) for layer in data["layers"]]})


def to_data(checkpoint: Checkpoint) -> dict[str, Any]:
    """The plain data `torch.save` writes."""
    return {
        "format": FORMAT,
        "experiment": checkpoint.experiment.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in checkpoint.state_dict.items()},
        "history": checkpoint.history,
        "probes": [_fields(p) for p in checkpoint.probes],
        "last_probe": checkpoint.last_probe and probe_to_data(checkpoint.last_probe),
        "step": checkpoint.step,
        "run": checkpoint.run,
        "optimizer": checkpoint.optimizer,
        "rng": checkpoint.rng,
    }


def save(checkpoint: Checkpoint, path: str | Path) -> None:
    """Write atomically: a reader never sees half a file."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    torch.save(to_data(checkpoint), partial)
    partial.replace(path)


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint; CheckpointError (a plain sentence) for anything else."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise CheckpointError(f"cannot read the checkpoint {path.name}: no such file") from None
    if size > MAX_BYTES:
        raise CheckpointError(
            f"the checkpoint is {size / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB"
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" in str(err).lower():  # weights_only met a class or a function
            raise CheckpointError(
                "the file holds Python objects that a checkpoint never contains (loading "
                "them could run code), so it was not opened"
            ) from None
        raise CheckpointError(NOT_A_CHECKPOINT) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError):
        raise CheckpointError(NOT_A_CHECKPOINT) from None
    return from_data(data)


def from_data(data: Any) -> Checkpoint:
    if not isinstance(data, dict) or not {"experiment", "state_dict"} <= data.keys():
        raise CheckpointError("the file is not a checkpoint of this app (no experiment or weights)")
    try:
        experiment = Experiment.from_dict(data["experiment"])
    except SpecError as err:
        raise CheckpointError(f"the checkpoint's experiment is not valid: {err}") from None
    except TaskDataError as err:
        raise CheckpointError(f"the checkpoint's task cannot be used: {err}") from None
    state = data["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("the checkpoint's weights are not a set of tensors")
    try:
        probes = [ProbeSummary(**p) for p in data.get("probes") or []]
        last = data.get("last_probe")
        last_probe = probe_from_data(last) if last else None
    except (TypeError, KeyError):
        raise CheckpointError("the checkpoint's probes are damaged") from None
    optimizer, rng = data.get("optimizer"), data.get("rng")
    if optimizer is not None and not isinstance(optimizer, dict):
        raise CheckpointError("the checkpoint's optimizer state is damaged")
    if rng is not None and not (isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8):
        raise CheckpointError("the checkpoint's random state is damaged")
    return Checkpoint(
        experiment=experiment,
        state_dict=state,
        history=data.get("history") or {},
        probes=probes,
        last_probe=last_probe,
        step=int(data.get("step") or 0),
        run=dict(data.get("run") or {}),
        optimizer=optimizer,
        rng=rng,
    )


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:300]
