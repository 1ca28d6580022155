"""Checkpoint files are untrusted input (a visitor uploads them): each kind of bad
file gets its own plain message and changes nothing, and nothing in a file can run
code or unpack into more memory than its size."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from designer import Experiment, Trainer
from designer.training import checkpoints
from designer.training.checkpoints import CheckpointError
from designer.training.trainer import verified
from tests.helpers import examples


def experiment() -> Experiment:
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 6},
            "model": {"layers": [{"type": "gru", "hidden_size": 4}]},
            "train": {"batch_size": 4, "eval_every": 2, "probe_every": 2},
        }
    )


@pytest.fixture(scope="module")
def good() -> bytes:
    trainer = Trainer(experiment())
    list(trainer.run(4))
    buffer = io.BytesIO()
    torch.save(checkpoints.to_data(trainer.checkpoint()), buffer)
    return buffer.getvalue()


def data_of(content: bytes) -> dict:
    return torch.load(io.BytesIO(content), weights_only=True)


def saved(data: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


class RunsCode:
    """A pickle that would run code when loaded (it must never be)."""

    def __reduce__(self):
        return (os.system, ("touch ran-code",))


def test_a_good_file_loads_from_bytes_as_from_disk(good, tmp_path):
    (tmp_path / "good.pt").write_bytes(good)
    from_bytes, from_disk = checkpoints.load(good), checkpoints.load(tmp_path / "good.pt")
    assert from_bytes.step == from_disk.step == 4
    assert from_bytes.history == from_disk.history
    assert from_bytes.model()(torch.zeros(1, 6, 2)).shape == (1, 1)
    assert from_bytes.optimizer is not None  # it can be continued exactly


def test_each_bad_file_has_its_own_message_and_runs_nothing(good, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = saved({"experiment": {}, "state_dict": {}, "x": RunsCode()})
    mismatched = data_of(good)
    mismatched["state_dict"]["head.weight"] = torch.zeros(3, 3)
    legacy = io.BytesIO()
    torch.save(data_of(good), legacy, _use_new_zipfile_serialization=False)
    compressed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(compressed, "w") as dst:
        for member in src.infolist():
            dst.writestr(member.filename, src.read(member), zipfile.ZIP_DEFLATED)
    cases = {
        "random bytes": (os.urandom(4096), "not a checkpoint, or it is damaged"),
        "code": (code, "could run code"),
        "truncated": (good[: len(good) // 2], "damaged or truncated"),
        "legacy format": (legacy.getvalue(), "not a checkpoint, or it is damaged"),
        "compressed": (compressed.getvalue(), "compressed archive"),
        "not this app's": (saved({"weights": torch.zeros(2)}), "not a checkpoint of this app"),
        "bad experiment": (
            saved({**data_of(good), "experiment": {"model": {"layers": [{"type": "cnn"}]}}}),
            "experiment is not valid",
        ),
    }
    for name, (content, expected) in cases.items():
        with pytest.raises(CheckpointError, match=expected):
            checkpoints.load(content)
        assert name
    assert not (tmp_path / "ran-code").exists()
    with pytest.raises(CheckpointError, match="do not match"):
        checkpoints.load(saved(mismatched)).model()
    with pytest.raises(CheckpointError, match=r"KB; the limit is 10 KB"):
        checkpoints.load(good, max_bytes=10_000)


def test_a_small_file_cannot_unpack_into_more_than_the_limit(good):
    """An archive whose members claim more bytes than the limit is refused before
    torch reads a byte of it."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data/0", b"\0" * 50_000_000)
    content = bomb.getvalue()
    assert len(content) < 100_000
    with pytest.raises(CheckpointError, match="compressed archive"):
        checkpoints.load(content, max_bytes=10_000_000)


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("history", {"step": [1, 2], "loss": ["a", "b"]}, "training history is damaged"),
        ("history", {"step": [1], "loss": [0.1, 0.2]}, "training history is damaged"),
        ("history", {"evals": [{"step": 1, "val_loss": "x"}]}, "training history is damaged"),
        ("step", -3, "step count is damaged"),
        ("optimizer", [1, 2], "optimizer state is damaged"),
        ("rng", torch.zeros(3), "random state is damaged"),
        ("probes", [{"step": 0}], "probe history is damaged"),
        ("last_probe", {"loss": 1.0}, "latest probe is damaged"),
    ],
)
def test_damaged_fields_are_refused_by_name(good, field, value, expected):
    with pytest.raises(CheckpointError, match=expected):
        checkpoints.load(saved({**data_of(good), field: value}))


def test_probes_that_do_not_fit_the_experiment_are_refused(good):
    data = data_of(good)
    layer = data["probes"][0]["layers"][0]
    layer["hidden"] = torch.zeros(1, 6, 4, 9)  # 9 units where the layer has 4
    with pytest.raises(CheckpointError, match="probe history is damaged"):
        checkpoints.load(saved(data))
    # each way a probe can fail to describe the experiment's layers
    damages = [
        lambda p, layer: layer.update(index=7),  # a layer the experiment does not have
        lambda p, layer: layer.update(spectral_radius={}),
        lambda p, layer: layer.update(gates={"forget": layer["hidden"]}),  # not a GRU gate
        lambda p, layer: layer.update(hidden=None),
        lambda p, layer: layer.pop("grad_norm"),
        lambda p, layer: layer.update(grad_norm=[10**400] * 6),  # past the float range
        lambda p, layer: p.update(step=None),
        lambda p, layer: p.update(input_grad_norm=[0.0]),
    ]
    for damage in damages:
        data = data_of(good)
        damage(data["probes"][0], data["probes"][0]["layers"][0])
        with pytest.raises(CheckpointError, match="probe history is damaged"):
            checkpoints.load(saved(data))


def test_run_information_of_the_wrong_type_is_dropped(good):
    run = {
        "name": "x" * 500,
        "error": "e" * 10_000,
        "busy_seconds": "soon",
        "train_time": 10**400,  # past the float range
        "state": 3,
        "clipped_steps": True,
        "val_loss": float("nan"),
    }
    loaded = checkpoints.load(saved({**data_of(good), "run": run}))
    assert loaded.run == {"name": "x" * 80, "error": "e" * 500}


def test_numbers_past_the_float_range_are_refused(good):
    data = data_of(good)
    data["history"]["evals"][-1]["val_loss"] = 10**400
    with pytest.raises(CheckpointError, match="training history is damaged"):
        checkpoints.load(saved(data))
    data = data_of(good)
    data["history"]["loss"][-1] = float("inf")  # a diverged run's last loss: kept
    assert checkpoints.load(saved(data)).history["loss"][-1] == float("inf")


def test_a_tensor_cannot_claim_more_than_the_file_holds(good):
    """An expanded view of one stored value claims ten billion elements in a file of
    a few kilobytes: refused before any page computes with it."""
    data = data_of(good)
    data["probes"][0]["layers"][0]["hidden"] = torch.zeros(1).expand(10**10)
    content = saved(data)
    assert len(content) < len(good) * 2
    with pytest.raises(CheckpointError, match="not a plain array"):
        checkpoints.load(content)


def test_nesting_and_the_older_format_hidden_behind_an_archive_are_refused(good):
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(CheckpointError, match="nests its data too deeply"):
        checkpoints.load(saved({**data_of(good), "optimizer": {"state": deep}}))
    # the older format, with an empty zip archive after it: torch would read the
    # older format (it looks only at the first bytes), so the file is refused
    legacy = io.BytesIO()
    torch.save(data_of(good), legacy, _use_new_zipfile_serialization=False)
    tail = io.BytesIO()
    with zipfile.ZipFile(tail, "w") as archive:
        archive.writestr("x", b"")
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        checkpoints.load(legacy.getvalue() + tail.getvalue())


def test_an_uploaded_checkpoint_is_verified_and_probed_again(good):
    """From a stranger, the latest full probe is not read but taken again from the
    weights; the optimizer and random states must fit the model."""
    from designer.training.trainer import verified

    loaded = checkpoints.load(good, untrusted=True)
    assert loaded.last_probe is None
    checked = verified(loaded)
    trusted = checkpoints.load(good)
    assert torch.allclose(
        checked.last_probe.layers[0].grad_hidden, trusted.last_probe.layers[0].grad_hidden
    )
    for part, value, expected in [
        ("optimizer", {"state": {}, "param_groups": 5}, "optimizer state does not match"),
        ("rng", torch.zeros(7, dtype=torch.uint8), "random state is damaged"),
    ]:
        with pytest.raises(CheckpointError, match=expected):
            verified(checkpoints.load(saved({**data_of(good), part: value}), untrusted=True))
    data = data_of(good)
    data["optimizer"]["state"][0]["exp_avg"] = torch.zeros(3)  # not its parameter's shape
    with pytest.raises(CheckpointError, match="optimizer state does not match"):
        verified(checkpoints.load(saved(data), untrusted=True))


@examples(60, slow=True)
@given(data=st.data())
def test_a_file_with_bytes_changed_loads_or_is_refused_plainly(good, data):
    """Any bytes of a good file overwritten: it loads (a changed weight is still a
    weight), or CheckpointError says why; nothing else escapes."""
    content = bytearray(good)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(content) - 1))
        content[at] = data.draw(st.integers(0, 255))
    try:
        loaded = checkpoints.load(bytes(content))
        loaded.model()
    except CheckpointError as err:
        assert str(err) and "Traceback" not in str(err)


def test_pickle_protocol_errors_are_checkpoint_errors(good):
    data = pickle.dumps({"experiment": 1})  # a bare pickle, not torch's archive
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        checkpoints.load(data)


def test_a_download_is_the_kept_file_less_its_latest_full_probe(good, tmp_path):
    (tmp_path / "kept.pt").write_bytes(good)
    content = checkpoints.portable(tmp_path / "kept.pt")
    assert len(content) < len(good)
    downloaded, kept = checkpoints.load(content), checkpoints.load(good)
    assert downloaded.last_probe is None and kept.last_probe is not None
    assert downloaded.history == kept.history and downloaded.step == kept.step
    assert all(torch.equal(downloaded.state_dict[k], v) for k, v in kept.state_dict.items())
    best = kept.best["state_dict"]  # the best evaluation's weights stay in the download
    assert downloaded.best["step"] == kept.best["step"] > 0
    assert all(torch.equal(downloaded.best["state_dict"][k], v) for k, v in best.items())


def test_the_best_weights_round_trip(good, tmp_path):
    trainer = Trainer(experiment())
    list(trainer.run(4))
    trainer.save(tmp_path / "run.pt")
    loaded = checkpoints.load(tmp_path / "run.pt", untrusted=True)
    assert (loaded.best["step"], loaded.best["val_loss"]) == (
        trainer.best_step,
        trainer.best_val_loss,
    )
    for name, value in trainer.best["state_dict"].items():
        assert torch.equal(loaded.best["state_dict"][name], value), name
    assert verified(loaded).best is loaded.best
    old = data_of(good)
    del old["best"]  # a file from before the best weights were kept
    assert checkpoints.load(saved(old)).best is None


def _first(best: dict) -> str:
    return next(iter(best["state_dict"]))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b["state_dict"][_first(b)].view(-1).__setitem__(0, float("nan")),
        lambda b: b["state_dict"][_first(b)].view(-1).__setitem__(-1, float("-inf")),
        lambda b: b["state_dict"].update({_first(b): [1.0, 2.0]}),  # not a tensor
        lambda b: b.update(state_dict=[1, 2]),
        lambda b: b.update(step=10**6),  # after the checkpoint's own step
        lambda b: b.update(step=-1),
        lambda b: b.update(val_loss=float("nan")),
        lambda b: b.update(val_loss="low"),
        lambda b: b.clear(),
    ],
)
def test_best_weights_that_are_not_finite_or_not_weights_are_refused(good, damage):
    data = data_of(good)
    damage(data["best"])
    for untrusted in (True, False):
        with pytest.raises(CheckpointError, match="best-weights entry is damaged"):
            checkpoints.load(saved(data), untrusted=untrusted)
    with pytest.raises(CheckpointError, match="best-weights entry is damaged"):
        checkpoints.load(saved({**data_of(good), "best": [1, 2]}))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b["state_dict"].update({_first(b): torch.zeros(3, 3)}),  # not its shape
        lambda b: b["state_dict"].pop(_first(b)),  # a weight missing
        lambda b: b["state_dict"].update({"extra.weight": torch.zeros(2)}),
    ],
)
def test_best_weights_that_do_not_fit_the_model_are_refused(good, damage):
    """As the weights are: an uploaded file is refused when it is verified (before
    the app uses it), and `sample` when it makes the model."""
    data = data_of(good)
    damage(data["best"])
    loaded = checkpoints.load(saved(data), untrusted=True)
    with pytest.raises(CheckpointError, match="best weights do not match its experiment"):
        verified(loaded)
    for best in (True, False):
        with pytest.raises(CheckpointError, match="best weights do not match its experiment"):
            loaded.model(best=best)
    data = data_of(good)  # the weights wrong, the best weights right: the weights named
    data["state_dict"][_first(data["best"])] = torch.zeros(3, 3)
    with pytest.raises(CheckpointError, match="the checkpoint's weights do not match"):
        verified(checkpoints.load(saved(data), untrusted=True))


# --- settings changed while training (the history's `changes`) ----------------------------
def with_changes(good: bytes, changes) -> bytes:
    data = data_of(good)
    data["history"]["changes"] = changes
    return saved(data)


def test_changes_of_settings_load_checked_and_a_run_continues_with_the_last(good):
    changes = [{"step": 1, "lr": 1, "clip_norm": None}, {"step": 4, "lr": 0.5, "clip_norm": 2}]
    loaded = checkpoints.load(with_changes(good, changes), untrusted=True)
    assert loaded.history["changes"] == [
        {"step": 1, "lr": 1.0, "clip_norm": None},
        {"step": 4, "lr": 0.5, "clip_norm": 2.0},
    ]
    assert all(type(c["lr"]) is float for c in loaded.history["changes"])
    trainer = Trainer.from_checkpoint(verified(loaded), probes=False)
    assert (trainer.spec.lr, trainer.spec.clip_norm) == (0.5, 2.0)
    assert trainer.exp.train == experiment().train  # the document as the run began
    assert trainer.train_step()["lr"] == 0.5
    old = data_of(good)
    del old["history"]["changes"]  # a file from before settings could change mid-run
    assert checkpoints.load(saved(old)).history["changes"] == []


@pytest.mark.parametrize(
    "changes",
    [
        "lower",
        {"step": 1, "lr": 0.1, "clip_norm": None},
        [1],
        [None],
        [{"step": 1, "lr": 0.1}],  # a setting missing
        [{"step": 1, "lr": 0.1, "clip_norm": None, "note": "x"}],  # a field too many
        [{"step": 1, "lr": "0.1", "clip_norm": None}],  # text the document's rules would take
        [{"step": 1, "lr": True, "clip_norm": None}],
        [{"step": 1, "lr": 0, "clip_norm": None}],
        [{"step": 1, "lr": -1.0, "clip_norm": None}],
        [{"step": 1, "lr": 11.0, "clip_norm": None}],
        [{"step": 1, "lr": float("nan"), "clip_norm": None}],
        [{"step": 1, "lr": float("inf"), "clip_norm": None}],
        [{"step": 1, "lr": 10**400, "clip_norm": None}],
        [{"step": 1, "lr": 0.1, "clip_norm": 0}],
        [{"step": 1, "lr": 0.1, "clip_norm": -2.0}],
        [{"step": 1, "lr": 0.1, "clip_norm": float("nan")}],
        [{"step": 1, "lr": 0.1, "clip_norm": "off"}],
        [{"step": 1, "lr": 0.1, "clip_norm": [1.0]}],
        [{"step": -1, "lr": 0.1, "clip_norm": None}],
        [{"step": 5, "lr": 0.1, "clip_norm": None}],  # after the checkpoint's own step (4)
        [{"step": 1.0, "lr": 0.1, "clip_norm": None}],
        [{"step": True, "lr": 0.1, "clip_norm": None}],
        [{"step": 2, "lr": 0.1, "clip_norm": None}, {"step": 2, "lr": 0.2, "clip_norm": None}],
        [{"step": 3, "lr": 0.1, "clip_norm": None}, {"step": 1, "lr": 0.2, "clip_norm": None}],
        [{"step": 0, "lr": 0.1, "clip_norm": None}] * 10_001,
    ],
)
def test_crafted_changes_of_settings_are_refused(good, changes):
    for untrusted in (True, False):
        with pytest.raises(CheckpointError, match="training history is damaged"):
            checkpoints.load(with_changes(good, changes), untrusted=untrusted)
