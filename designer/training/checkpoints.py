"""Checkpoints: a run written to one file and read back safely.

A checkpoint is `torch.save` of plain data: the experiment document, the weights (the
last ones, and those of the best evaluation), the training history with its probes,
the last full probe, and what the app knows of the run (its name, how it ended). It
holds no Python objects, so it is read with `torch.load(weights_only=True)`, which
refuses any pickle that would run code: a checkpoint may come from a stranger (an
upload, a shared server's disk).
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from designer.document.spec import Experiment, SpecError
from designer.i18n import N_, Text
from designer.inside.probes import LayerProbe, ProbeResult, ProbeSummary
from designer.tasks import TaskDataError, get_task
from designer.training import checkpoint_checks as checks
from designer.training.checkpoint_checks import CheckpointError
from designer.training.model import build_model

FORMAT = 1
MAX_BYTES = 256 * 2**20  # the largest checkpoint read
NOT_A_CHECKPOINT = N_("the file is not a checkpoint, or it is damaged or truncated")


@dataclass
class Checkpoint:
    experiment: Experiment
    state_dict: dict[str, torch.Tensor]
    history: dict[str, Any]  # designer.training.trainer.History.to_dict()
    probes: list[ProbeSummary] = field(default_factory=list)
    last_probe: ProbeResult | None = None
    step: int = 0
    run: dict[str, Any] = field(default_factory=dict)  # name, state, error, busy_seconds...
    optimizer: dict[str, Any] | None = None  # the optimizer's state, to resume training
    rng: torch.Tensor | None = None  # torch's random state (dropout masks), to resume
    # The best evaluation (lowest validation loss): {"step": int, "val_loss": float,
    # "state_dict": weights like `state_dict`}; None in a file from before it was kept.
    best: dict[str, Any] | None = None

    def model(self, best: bool = False) -> nn.Module:
        """The experiment's model with these weights; `best`: with the weights of the
        best evaluation instead (CheckpointError if the checkpoint has none)."""
        if best and self.best is None:
            raise CheckpointError(Text("the checkpoint holds no best weights"))
        model = build_model(self.experiment, get_task(self.experiment.task))
        _load(model, self.state_dict, "weights")
        if self.best is not None:  # they must fit the model as the weights must
            _load(model, self.best["state_dict"], "best weights")
            if not best:
                model.load_state_dict(self.state_dict)
        return model


def _load(model: nn.Module, weights: dict[str, torch.Tensor], part: str) -> None:
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:
        if part == "best weights":
            message = Text(
                "the checkpoint's best weights do not match its experiment: {reason}",
                reason=_first_line(err),
            )
        else:
            message = Text(
                "the checkpoint's weights do not match its experiment: {reason}",
                reason=_first_line(err),
            )
        raise CheckpointError(message) from None


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
        "best": checkpoint.best
        and {
            "step": checkpoint.best["step"],
            "val_loss": checkpoint.best["val_loss"],
            "state_dict": {k: v.detach().cpu() for k, v in checkpoint.best["state_dict"].items()},
        },
    }


def save(checkpoint: Checkpoint, path: str | Path) -> None:
    """Write atomically: a reader never sees half a file."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    torch.save(to_data(checkpoint), partial)
    partial.replace(path)


def portable(path: str | Path) -> bytes:
    """A kept checkpoint as a file to download: the same, less its latest full probe
    (up to 64 MB at the server's limits), which an app opening the file takes again
    from the weights anyway (it never reads that part of a file from elsewhere)."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    data["last_probe"] = None
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


def load(
    source: str | Path | bytes, max_bytes: int | None = None, untrusted: bool = False
) -> Checkpoint:
    """Read a checkpoint from a file or from a file's bytes (an upload);
    CheckpointError (a plain sentence) for anything else.

    Before torch reads a byte of it, the file must be what torch.save writes: a zip
    archive from its first byte, its members stored uncompressed and together no
    larger than the limit. So a small file cannot unpack into gigabytes, and the
    older pickle format (whose tensors declare their own sizes) is never read. After
    it, every part is checked (designer.training.checkpoint_checks). `untrusted` (an upload)
    leaves out the latest full probe, which only the app's own files may supply: the
    app takes it again from the weights (designer.training.trainer.verified)."""
    limit = MAX_BYTES if max_bytes is None else max_bytes
    if isinstance(source, bytes):
        size, opened = len(source), io.BytesIO(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError:
            raise CheckpointError(
                Text("cannot read the checkpoint {name}: no such file", name=path.name)
            ) from None
        opened = path
    if size > limit:
        raise CheckpointError(
            Text(
                "the checkpoint is {size}; the limit is {limit}",
                size=_size(size),
                limit=_size(limit),
            )
        )
    _check_archive(opened, limit)
    try:
        data = torch.load(opened, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "global" in str(err).lower():  # weights_only met a class or a function
            raise CheckpointError(
                Text(
                    "the file holds Python objects that a checkpoint never contains (loading "
                    "them could run code), so it was not opened"
                )
            ) from None
        raise CheckpointError(Text(NOT_A_CHECKPOINT)) from None
    except Exception:  # a damaged pickle fails in many ways (KeyError, IndexError, ...)
        raise CheckpointError(Text(NOT_A_CHECKPOINT)) from None
    checks.check_plain(data, limit)
    if untrusted and isinstance(data, dict):
        data.pop("last_probe", None)
    return from_data(data)


def _size(n_bytes: int) -> str:
    if n_bytes >= 2**20:
        return f"{n_bytes / 2**20:.1f}".removesuffix(".0") + " MB"
    return f"{-(-n_bytes // 1024)} KB"


def _check_archive(source: io.BytesIO | Path, limit: int) -> None:
    try:
        with source.open("rb") if isinstance(source, Path) else nullcontext(source) as f:
            starts_as_zip = f.read(4) == b"PK\x03\x04"
            f.seek(0)
            with zipfile.ZipFile(f) as archive:
                members = archive.infolist()
            f.seek(0)
    except Exception:  # a damaged archive fails in many ways (even NotImplementedError)
        raise CheckpointError(Text(NOT_A_CHECKPOINT)) from None
    # torch reads a file as a zip archive only if it begins as one: anything before
    # the archive (which Python's zipfile allows) would be read in the older format
    if not starts_as_zip or not members or members[0].header_offset != 0:
        raise CheckpointError(Text(NOT_A_CHECKPOINT))
    if any(m.compress_type != zipfile.ZIP_STORED for m in members):
        raise CheckpointError(
            Text(
                "the file is a compressed archive; a checkpoint is written uncompressed "
                "by torch.save, so it was not opened"
            )
        )
    if sum(m.file_size for m in members) > limit:
        raise CheckpointError(Text(NOT_A_CHECKPOINT))


def from_data(data: Any) -> Checkpoint:
    """A checkpoint from what torch.load returned, each part checked."""
    if not isinstance(data, dict) or not {"experiment", "state_dict"} <= data.keys():
        raise CheckpointError(
            Text("the file is not a checkpoint of this app (no experiment or weights)")
        )
    try:
        experiment = Experiment.from_dict(data["experiment"])
    except SpecError as err:
        raise CheckpointError(
            Text("the checkpoint's experiment is not valid: {reason}", reason=err)
        ) from None
    except TaskDataError as err:
        raise CheckpointError(
            Text("the checkpoint's task cannot be used: {reason}", reason=err.text)
        ) from None
    state = data["state_dict"]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(Text("the checkpoint's weights are not a set of tensors"))
    task = get_task(experiment.task)
    probes = [checks.probe_summary(p, experiment, task) for p in data.get("probes") or []]
    last = data.get("last_probe")
    try:
        last_probe = probe_from_data(last) if last else None
        if last_probe is not None:
            checks.probe_summary(probe_to_summary_data(last_probe), experiment, task)
    except (TypeError, KeyError, ValueError, AttributeError, IndexError, RuntimeError):
        raise checks.damaged("latest probe") from None
    optimizer, rng = data.get("optimizer"), data.get("rng")
    if optimizer is not None and not isinstance(optimizer, dict):
        raise checks.damaged("optimizer state")
    if rng is not None and not (isinstance(rng, torch.Tensor) and rng.dtype == torch.uint8):
        raise checks.damaged("random state")
    step = data.get("step") or 0
    if not checks.count(step):
        raise checks.damaged("step count")
    history = checks.history(data.get("history") or {}, experiment.train, step)
    best = data.get("best")
    best = None if best is None else checks.best_weights(best, step)
    return Checkpoint(
        experiment=experiment,
        state_dict=state,
        history=history,
        probes=probes,
        last_probe=last_probe,
        step=step,
        run=checks.run_info(data.get("run") or {}),
        optimizer=optimizer,
        rng=rng,
        best=best,
    )


def probe_to_summary_data(result: ProbeResult) -> dict[str, Any]:
    """A full probe as the plain data of its summary (to check it the same way)."""
    return _fields(result.summary())


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:300]
