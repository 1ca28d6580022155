"""The trainer: records, determinism, optimizers, clipping, divergence, checkpoints,
the run record read back from a checkpoint, and the classic LSTM-vs-RNN result."""

import json
import math
import os
from functools import partial

import pytest
import torch

from designer import Experiment, SpecError, Trainer, TrainingDiverged
from designer.document.spec import TrainSpec
from designer.training import checkpoints
from designer.training.trainer import History, RunRecord, scheduled_lr
from tests import helpers


def experiment(layers=None, task=None, **train) -> Experiment:
    data = {"version": 1, "train": {"batch_size": 16, "eval_every": 5, **train}}
    data["model"] = {"layers": layers or [{"type": "lstm", "hidden_size": 8}]}
    data["task"] = task or {"name": "adding", "seq_len": 12}
    return Experiment.from_dict(data)


def test_run_yields_step_and_eval_records():
    trainer = Trainer(experiment())
    records = list(trainer.run(12))
    steps = [r for r in records if r["event"] == "step"]
    evals = [r for r in records if r["event"] == "eval"]
    assert [r["step"] for r in steps] == list(range(1, 13))
    assert [r["step"] for r in evals] == [5, 10, 12]  # every eval_every, and at the end
    for r in steps:
        assert math.isfinite(r["loss"]) and r["grad_norm"] >= 0 and r["lr"] == 0.003
        assert r["time"] > 0
    assert all(math.isfinite(r["val_loss"]) and math.isfinite(r["val_metric"]) for r in evals)
    assert len(trainer.history.loss) == 12 and len(trainer.history.evals) == 3
    # a second run continues where the first stopped
    more = [r for r in trainer.run(3) if r["event"] == "step"]
    assert [r["step"] for r in more] == [13, 14, 15]


def test_same_seed_same_curve_bit_for_bit():
    layers = [{"type": "gru", "hidden_size": 8, "dropout": 0.3}, {"type": "lstm", "hidden_size": 6}]

    def curve(seed):
        trainer = Trainer(experiment(layers, seed=seed))
        return [(r.get("loss"), r.get("val_loss")) for r in trainer.run(15)]

    assert curve(3) == curve(3)
    assert curve(3) != curve(4)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "adamw", "rmsprop"])
def test_optimizers_reduce_the_loss(optimizer):
    lr = {"sgd": 0.5, "momentum": 0.05}.get(optimizer, 0.01)
    exp = experiment(
        [{"type": "linear", "out_features": 16, "activation": "tanh"}],
        {"name": "sine", "seq_len": 20},
        optimizer=optimizer,
        lr=lr,
        batch_size=32,
        weight_decay=0.0001,
    )
    trainer = Trainer(exp)
    first = trainer.evaluate()["val_loss"]
    list(trainer.run(60))
    assert trainer.evaluate()["val_loss"] < first
    kind = type(trainer.optimizer).__name__
    assert kind == {"momentum": "SGD", "sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}.get(
        optimizer, "RMSprop"
    )
    assert trainer.optimizer.param_groups[0]["weight_decay"] == 0.0001


def step_norms(trainer: Trainer) -> list[float]:
    """The gradient norm each optimizer step of `trainer` applies (after clipping),
    appended as the steps run."""
    seen = []
    original = trainer.optimizer.step

    def spy():
        grads = [p.grad for p in trainer.params if p.grad is not None]
        seen.append(float(torch.nn.utils.get_total_norm(grads)))
        original()

    trainer.optimizer.step = spy
    return seen


def test_clipping_caps_the_norm_and_counts_steps():
    exp = experiment(clip_norm=1e-3, lr=0.1)
    trainer = Trainer(exp)
    seen = step_norms(trainer)
    records = [r for r in trainer.run(5) if r["event"] == "step"]
    assert all(r["clipped"] for r in records) and trainer.clipped_steps == 5
    assert all(n == pytest.approx(1e-3, rel=1e-4) for n in seen)
    assert all(r["grad_norm"] > 1e-3 for r in records)  # the norm before clipping
    unclipped = Trainer(experiment(clip_norm=None))
    assert not any(r.get("clipped") for r in unclipped.run(3))
    assert unclipped.clipped_steps == 0


def test_momentum_reaches_the_torch_optimizer():
    tuned = Trainer(experiment(optimizer="momentum", momentum=0.5), probes=False)
    assert type(tuned.optimizer).__name__ == "SGD"
    assert tuned.optimizer.param_groups[0]["momentum"] == 0.5
    default = Trainer(experiment(optimizer="momentum"), probes=False)
    assert default.optimizer.param_groups[0]["momentum"] == 0.9
    plain = Trainer(experiment(optimizer="sgd", momentum=0.5), probes=False)
    assert plain.optimizer.param_groups[0]["momentum"] == 0  # plain SGD has none
    # a different momentum is a different curve
    list(tuned.run(3))
    list(default.run(3))
    assert tuned.history.loss[:1] == default.history.loss[:1]  # the same first step
    assert tuned.history.loss[2] != default.history.loss[2]


def test_scheduled_lr_of_each_schedule():
    constant = TrainSpec(lr=0.1, steps=100)
    assert [scheduled_lr(constant, s) for s in (1, 50, 100, 500)] == [0.1] * 4
    step = TrainSpec(lr=0.1, lr_schedule="step", lr_decay=0.5, lr_decay_every=3)
    assert [scheduled_lr(step, s) for s in range(1, 11)] == [
        0.1,
        0.1,
        0.1,
        0.05,
        0.05,
        0.05,
        0.025,
        0.025,
        0.025,
        0.0125,
    ]
    cosine = TrainSpec(lr=0.1, lr_schedule="cosine", steps=4)
    got = [scheduled_lr(cosine, s) for s in range(1, 7)]
    half = 0.1 * 0.5 * (1 + math.cos(math.pi / 4))
    assert got[0] == 0.1 and got[1] == pytest.approx(half)
    assert got[2] == pytest.approx(0.05) and got[3] == pytest.approx(0.1 - half)
    assert got[4:] == [0.0, 0.0]  # past `steps`, the schedule stays at its end
    assert all(a > b for a, b in zip(got[:4], got[1:5], strict=True))  # falling


def test_a_step_schedule_sets_the_learning_rate_each_step_and_records_it():
    exp = experiment(optimizer="sgd", lr=0.1, lr_schedule="step", lr_decay=0.5, lr_decay_every=2)
    trainer = Trainer(exp, probes=False)
    used = []
    original = trainer.optimizer.step

    def spy():
        used.append([group["lr"] for group in trainer.optimizer.param_groups])
        original()

    trainer.optimizer.step = spy
    records = [r for r in trainer.run(5) if r["event"] == "step"]
    assert [r["lr"] for r in records] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert [lrs[0] for lrs in used] == [r["lr"] for r in records]  # what the update used
    assert all(len(set(lrs)) == 1 for lrs in used)  # every parameter group


def test_divergence_stops_with_step_norm_and_advice():
    exp = experiment(
        [{"type": "rnn", "hidden_size": 32, "nonlinearity": "relu", "init": "identity"}],
        optimizer="sgd",
        lr=10.0,
        clip_norm=None,
    )
    trainer = Trainer(exp)
    with pytest.raises(TrainingDiverged) as info:
        list(trainer.run(200))
    err = info.value
    assert 1 <= err.step <= 200
    message = str(err)
    assert f"step {err.step}" in message and "learning rate" in message and "clip" in message
    assert "gradient norm" in message
    # what the run saw before it blew up: a number, never "inf" or "nan"
    last = message.split("last finite gradient norm ")[1].split(")")[0]
    assert last == "not measured yet" or math.isfinite(float(last)), message
    assert err.grad_norm is None or math.isfinite(err.grad_norm)
    # the weights were not overwritten with NaN
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_the_trainers_step_is_take_step_the_one_the_exported_script_carries(monkeypatch):
    """Trainer.train_step updates the weights through take_step (designer.training.schedule)
    with the step's batch, scheduled learning rate and clipping: the function the exported
    training script copies as it is, so the two loops are one."""
    from designer.training import schedule
    from designer.training import trainer as trainer_module

    calls = []

    def spy(*args):
        calls.append(args)
        return schedule.take_step(*args)

    monkeypatch.setattr(trainer_module, "take_step", spy)
    trainer = Trainer(experiment(clip_norm=1e-3, lr_schedule="cosine", steps=4))
    records = [trainer.train_step() for _ in range(2)]
    assert len(calls) == 2
    for args, record in zip(calls, records, strict=True):
        model, params, optimizer, task, batch, lr, clip_norm = args
        assert (model, params, optimizer, task) == (
            trainer.model,
            trainer.params,
            trainer.optimizer,
            trainer.task,
        )
        x, y = task.batch(16, trainer.batch_seed(record["step"]))
        assert torch.equal(batch[0], x) and torch.equal(batch[1], y)
        assert (lr, clip_norm) == (record["lr"], 1e-3) and record["clipped"]
    assert records[1]["lr"] < records[0]["lr"]  # the cosine schedule, step by step


def test_nan_loss_is_divergence():
    trainer = Trainer(experiment())
    with torch.no_grad():
        trainer.model.head.bias.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="step 1.*loss became nan"):
        trainer.train_step()


def test_checkpoint_round_trip(tmp_path):
    trainer = Trainer(experiment())
    list(trainer.run(6))
    path = tmp_path / "run.pt"
    trainer.save(str(path))
    restored = Trainer.from_checkpoint(checkpoints.load(path))
    assert restored.exp == trainer.exp and restored.step_count == 6
    history = restored.history
    assert history.loss == trainer.history.loss and history.evals == trainer.history.evals
    assert [p.step for p in history.probes] == [p.step for p in trainer.history.probes]
    assert torch.equal(
        restored.last_probe.layers[0].grad_hidden,
        trainer.last_probe.layers[0].grad_hidden,
    )
    x, _ = trainer.task.batch(4, seed=9)
    trainer.model.eval()
    model = restored.model.eval()
    assert torch.equal(model(x), trainer.model(x))
    raw = torch.load(path, weights_only=True)
    assert set(raw) >= {"experiment", "state_dict", "history"}


def test_the_weights_of_the_lowest_validation_loss_are_kept(tmp_path):
    """Each evaluation that beats the lowest validation loss so far keeps a copy of
    the weights; worse ones later (here the weights are spoilt) leave it alone. A
    checkpoint carries it, and a run read back from one has it."""
    trainer = Trainer(experiment(eval_every=2), probes=False)
    weights_at = {}
    for record in trainer.run(10):
        if record["event"] == "eval":
            weights_at[record["step"]] = {
                k: v.clone() for k, v in trainer.model.state_dict().items()
            }
    lowest = min(trainer.history.evals, key=lambda e: e["val_loss"])
    assert (trainer.best_step, trainer.best_val_loss) == (lowest["step"], lowest["val_loss"])
    with torch.no_grad():  # the validation loss rises from here on
        for param in trainer.model.parameters():
            param.add_(5.0)
    list(trainer.run(4))
    later = [e["val_loss"] for e in trainer.history.evals if e["step"] > 10]
    assert len(later) == 2 and min(later) > lowest["val_loss"]
    assert (trainer.best_step, trainer.best_val_loss) == (lowest["step"], lowest["val_loss"])
    for name, value in weights_at[lowest["step"]].items():  # a copy, not the model's own
        assert torch.equal(trainer.best["state_dict"][name], value), name
    x, _ = trainer.task.batch(4, seed=9)
    trainer.model.load_state_dict(weights_at[lowest["step"]])
    expected = trainer.model.eval()(x)
    assert torch.equal(trainer.best_model()(x), expected)
    trainer.save(str(tmp_path / "run.pt"))
    saved = checkpoints.load(tmp_path / "run.pt")
    assert (saved.best["step"], saved.best["val_loss"]) == (lowest["step"], lowest["val_loss"])
    assert torch.equal(saved.model(best=True).eval()(x), expected)
    restored = Trainer.from_checkpoint(saved, probes=False)
    assert (restored.best_step, restored.best_val_loss) == (lowest["step"], lowest["val_loss"])
    assert torch.equal(restored.best_model()(x), expected)


class _RunsCode:
    """A pickle that would run code when loaded (it must never be)."""

    def __reduce__(self):
        return (os.system, ("touch ran-code",))


def test_checkpoint_loader_refuses_what_is_not_a_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.pt"
    Trainer(experiment()).save(str(good))
    cases = {
        "random.pt": (os.urandom(4096), "not a checkpoint"),
        "code.pt": (None, "could run code"),
        "truncated.pt": (good.read_bytes()[:2000], "damaged or truncated"),
    }
    torch.save({"experiment": {}, "x": _RunsCode()}, tmp_path / "code.pt")
    for name, (content, expected) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(checkpoints.CheckpointError, match=expected):
            checkpoints.load(tmp_path / name)
    assert not (tmp_path / "ran-code").exists()
    data = torch.load(good, weights_only=True)
    data["state_dict"]["head.weight"] = torch.zeros(3, 3)
    torch.save(data, tmp_path / "mismatch.pt")
    with pytest.raises(checkpoints.CheckpointError, match="do not match"):
        checkpoints.load(tmp_path / "mismatch.pt").model()
    monkeypatch.setattr(checkpoints, "MAX_BYTES", 100)
    with pytest.raises(checkpoints.CheckpointError, match="the limit is"):
        checkpoints.load(good)


def test_cuda_request_falls_back_to_cpu_without_gpu():
    trainer = Trainer(experiment(device="cuda"))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert trainer.device.type == expected
    assert next(trainer.model.parameters()).device.type == expected
    trainer.train_step()


wait_for = partial(helpers.wait_for, timeout=10.0)


@pytest.mark.slow
def test_lstm_solves_adding_where_tanh_rnn_fails():
    """The classic result (Hochreiter & Schmidhuber 1997), on CPU: seq_len 50."""

    def final_val(kind: str) -> float:
        exp = Experiment.from_dict(
            {
                "version": 1,
                "task": {"name": "adding", "seq_len": 50},
                "model": {"layers": [{"type": kind, "hidden_size": 64}]},
                "train": {"lr": 0.003, "batch_size": 64, "clip_norm": 1.0, "eval_every": 250},
            }
        )
        trainer = Trainer(exp)
        evals = [r["val_loss"] for r in trainer.run(2000) if r["event"] == "eval"]
        return min(evals) if kind == "lstm" else evals[-1]

    baseline = 1 / 6
    assert final_val("lstm") < 0.01
    assert final_val("rnn") > 0.1  # about the constant predictor's 1/6
    assert baseline > 0.1


@pytest.mark.parametrize(
    "train",
    [
        {"optimizer": "adam"},
        # the learning rate drops at steps 4, 7 and 10: on both sides of the resume
        {
            "optimizer": "momentum",
            "lr": 0.05,
            "momentum": 0.8,
            "lr_schedule": "step",
            "lr_decay": 0.5,
            "lr_decay_every": 3,
        },
        {"optimizer": "adam", "lr_schedule": "cosine", "steps": 10},
    ],
    ids=["adam", "momentum-step", "adam-cosine"],
)
def test_a_resumed_run_follows_the_uninterrupted_curve_bit_for_bit(tmp_path, train):
    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 10},
            "model": {
                "layers": [
                    {"type": "lstm", "hidden_size": 8, "dropout": 0.3},
                    {"type": "dropout", "p": 0.2},
                    {"type": "gru", "hidden_size": 6},
                ]
            },
            "train": {**train, "batch_size": 8, "eval_every": 4},
        }
    )
    whole = Trainer(exp, probes=False)
    list(whole.run(10))
    first = Trainer(exp, probes=False)
    list(first.run(6))  # stopped between two evaluations
    first.save(str(tmp_path / "half.pt"))
    torch.manual_seed(12345)  # whatever happens to the random state in between
    resumed = Trainer.from_checkpoint(checkpoints.load(tmp_path / "half.pt"), probes=False)
    list(resumed.run(4))
    assert resumed.history.loss == whole.history.loss
    assert resumed.history.grad_norm == whole.history.grad_norm
    # the interrupted run also evaluated where it stopped (step 6); the validation
    # numbers at every step both evaluated are the same
    both = {e["step"]: e for e in whole.history.evals}
    for e in resumed.history.evals:
        if e["step"] in both:
            assert (e["val_loss"], e["val_metric"]) == (
                both[e["step"]]["val_loss"],
                both[e["step"]]["val_metric"],
            )
    for name, value in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_resume_from_the_command_line(tmp_path, capsys):
    from designer.__main__ import main

    spec = tmp_path / "exp.json"
    spec.write_text(experiment().to_json())
    assert main(["train", str(spec), "--steps", "8", "--save", str(tmp_path / "a.pt")]) == 0
    assert main(["train", str(spec), "--steps", "4", "--save", str(tmp_path / "b.pt")]) == 0
    capsys.readouterr()
    args = ["train", "--resume", str(tmp_path / "b.pt"), "--steps", "8", "--json"]
    assert main([*args, "--save", str(tmp_path / "c.pt")]) == 0
    done = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert done["event"] == "done" and done["step"] == 8
    a, c = checkpoints.load(tmp_path / "a.pt"), checkpoints.load(tmp_path / "c.pt")
    assert a.history["loss"] == c.history["loss"]
    assert all(torch.equal(a.state_dict[k], c.state_dict[k]) for k in a.state_dict)
    assert main(["train", "--resume", str(tmp_path / "a.pt"), "--steps", "8"]) == 2
    assert "already at step 8" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "nope.pt")]) == 2
    assert "cannot resume" in capsys.readouterr().err


# --- the read-out in closed form (ridge_readout) ------------------------------------------
def reservoir(task, ridge=None, width=10, **train) -> Experiment:
    layer = {"type": "rnn", "hidden_size": width, "freeze": True, "spectral_radius": 0.9}
    return experiment([layer], task, ridge_readout=ridge, **train)


@pytest.mark.parametrize(
    "task",
    [
        {"name": "sine", "seq_len": 15},  # regression at every step
        {"name": "adding", "seq_len": 8},  # regression at the last step only
        {"name": "brackets", "seq_len": 12},  # classes at every step, padded steps skipped
    ],
    ids=lambda t: t["name"],
)
def test_the_ridge_readout_is_numpys_closed_form_on_the_same_features(task):
    import numpy as np

    from designer.tasks import IGNORE
    from designer.training.trainer import READOUT_BATCHES, READOUT_SEED_OFFSET

    exp = reservoir(task, ridge=0.5)
    trainer = Trainer(exp, probes=False)
    model, task = trainer.model, trainer.task
    features, targets = [], []
    with torch.no_grad():  # the head's input by hand: the encoded input through the layers
        for i in range(READOUT_BATCHES):
            x, y = task.batch(16, READOUT_SEED_OFFSET + exp.train.seed * 1_000_003 + i)
            h = model.layers[0](model.encode(x))
            h = h if task.per_step else h[:, -1]
            features.append(h.reshape(-1, 10).double().numpy())
            targets.append(y.reshape(len(features[-1]), -1).numpy())
    X, Y = np.concatenate(features), np.concatenate(targets)
    if task.kind == "classification":
        keep = Y[:, 0] != IGNORE
        X, Y = X[keep], np.eye(task.output_size)[Y[keep, 0]]
    X = np.hstack([X, np.ones((len(X), 1))])  # the bias column
    penalty = 0.5 * np.eye(11)
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    expected = np.linalg.solve(X.T @ X + penalty, X.T @ Y)  # (11, outputs)

    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer.fit_readout_if_due()
    assert trainer.readout_rows == len(X)
    np.testing.assert_allclose(model.head.weight.detach().numpy(), expected[:-1].T, rtol=1e-4)
    np.testing.assert_allclose(model.head.bias.detach().numpy(), expected[-1], rtol=1e-4)
    for name, value in model.state_dict().items():  # only the head changed
        assert name.startswith("head.") or torch.equal(value, before[name]), name
    assert model.training  # left in the mode it was in


def test_the_ridge_readout_forecasts_a_sine_far_better_than_a_random_head():
    """A frozen random reservoir with a read-out fitted in closed form (before any
    gradient step) beats persistence, and an untrained head by far."""
    sine = {"name": "sine", "seq_len": 40}
    fitted = Trainer(reservoir(sine, ridge=1e-4, width=40), probes=False)
    fitted.fit_readout_if_due()
    untrained = Trainer(reservoir(sine, width=40), probes=False)
    loss = fitted.evaluate()["val_loss"]
    assert loss < 0.05 * untrained.evaluate()["val_loss"]
    assert loss < 0.5 * fitted.task.baseline_loss()  # persistence


def test_the_readout_is_fitted_once_before_the_first_step_and_probe():
    exp = reservoir({"name": "sine", "seq_len": 10}, ridge=1e-3, steps=3)
    trainer = Trainer(exp)
    head = trainer.model.head.weight.clone()
    records = list(trainer.run(2))
    assert records[0]["event"] == "probe" and trainer.readout_rows == 8 * 16 * 10
    assert not torch.equal(trainer.model.head.weight, head)
    fitted = Trainer(exp, probes=False)
    fitted.fit_readout_if_due()
    first = fitted.train_step()  # the same first step: the fit came before it, once
    assert first["loss"] == trainer.history.loss[0]
    weights = fitted.model.head.weight.clone()
    fitted.fit_readout_if_due()  # a second call does nothing
    assert torch.equal(fitted.model.head.weight, weights)
    plain = Trainer(reservoir({"name": "sine", "seq_len": 10}, steps=3), probes=False)
    assert plain.train_step()["loss"] != first["loss"] and plain.readout_rows is None


def test_the_readout_fit_stops_at_its_row_limit():
    from designer.training.trainer import fit_readout

    trainer = Trainer(reservoir({"name": "sine", "seq_len": 10}), probes=False)
    batches = (trainer.task.batch(16, seed) for seed in range(100))
    assert fit_readout(trainer.model, trainer.task, batches, 1.0, max_rows=250) == 250
    x, _ = next(batches)  # it drew only the two batches it needed (160 rows each)
    assert torch.equal(x, trainer.task.batch(16, 2)[0])


# --- settings changed while training (Trainer.change) -------------------------------------
def sgd_steps(trainer: Trainer, steps: int) -> list[dict]:
    return [r for r in trainer.run(steps) if r["event"] == "step"]


def test_a_changed_learning_rate_acts_from_the_next_step_and_is_recorded():
    trainer = Trainer(experiment(optimizer="sgd", lr=0.1), probes=False)
    assert [r["lr"] for r in sgd_steps(trainer, 3)] == [0.1] * 3
    record = trainer.change(lr=0.01)
    assert record == {"event": "change", "step": 3, "lr": 0.01, "clip_norm": 1.0}
    used = []
    original = trainer.optimizer.step

    def spy():
        used.append(trainer.optimizer.param_groups[0]["lr"])
        original()

    trainer.optimizer.step = spy
    assert [r["lr"] for r in sgd_steps(trainer, 2)] == [0.01, 0.01] == used
    assert trainer.history.changes == [{"step": 3, "lr": 0.01, "clip_norm": 1.0}]
    assert trainer.spec.lr == 0.01 and trainer.exp.train.lr == 0.1  # the document as it began
    assert trainer.change(lr=0.01) is None  # nothing changed: nothing recorded
    # two changes before the next step are one record: the settings from that step on
    trainer.change(lr=0.5)
    trainer.change(clip_norm=None)
    assert trainer.history.changes[1:] == [{"step": 5, "lr": 0.5, "clip_norm": None}]
    assert sgd_steps(trainer, 1)[0]["lr"] == 0.5


def test_changed_clipping_acts_from_the_next_step():
    trainer = Trainer(experiment(clip_norm=None, lr=0.1), probes=False)
    seen = step_norms(trainer)
    assert not any(r["clipped"] for r in sgd_steps(trainer, 2))
    trainer.change(clip_norm=1e-3)
    clipped = sgd_steps(trainer, 2)
    assert all(r["clipped"] and r["grad_norm"] > 1e-3 for r in clipped)
    assert seen[2:] == [pytest.approx(1e-3, rel=1e-4)] * 2 and trainer.clipped_steps == 2
    trainer.change(clip_norm=None)
    assert not any(r["clipped"] for r in sgd_steps(trainer, 2))
    assert [c["clip_norm"] for c in trainer.history.changes] == [1e-3, None]


@pytest.mark.parametrize(
    "change, field, value",
    [
        ({"lr": 0}, "lr", 0),
        ({"lr": -0.1}, "lr", -0.1),
        ({"lr": 11.0}, "lr", 11.0),
        ({"lr": float("nan")}, "lr", float("nan")),
        ({"lr": float("inf")}, "lr", float("inf")),
        ({"lr": None}, "lr", None),
        ({"clip_norm": 0}, "clip_norm", 0),
        ({"clip_norm": -1.0}, "clip_norm", -1.0),
        ({"clip_norm": float("nan")}, "clip_norm", float("nan")),
        ({"clip_norm": "off"}, "clip_norm", "off"),
    ],
)
def test_a_changed_value_is_checked_as_the_document_checks_it(change, field, value):
    trainer = Trainer(experiment(), probes=False)
    list(trainer.run(1))
    with pytest.raises(SpecError) as info:
        trainer.change(**change)
    document = experiment().to_dict()
    document["train"][field] = value
    with pytest.raises(SpecError) as same:
        Experiment.from_dict(document)
    assert str(info.value) == str(same.value) and str(info.value).startswith(f"train.{field}:")
    assert trainer.history.changes == [] and trainer.spec == trainer.exp.train  # unchanged


@pytest.mark.parametrize(
    "schedule, expected",
    [
        # step 1-3 at base 0.1 (halved every 2 steps), then base 1.0 from step 4 on
        ({"lr_schedule": "step", "lr_decay": 0.5, "lr_decay_every": 2}, [0.5, 0.25, 0.25]),
        ({"lr_schedule": "cosine", "steps": 6}, None),
    ],
    ids=["step", "cosine"],
)
def test_a_schedule_goes_on_from_the_changed_base_rate(schedule, expected):
    trainer = Trainer(experiment(optimizer="sgd", lr=0.1, **schedule), probes=False)
    before = [r["lr"] for r in sgd_steps(trainer, 3)]
    assert before == [scheduled_lr(trainer.exp.train, s) for s in (1, 2, 3)]
    trainer.change(lr=1.0)
    after = [r["lr"] for r in sgd_steps(trainer, 3)]
    # the schedule at the point it had reached, scaled to the new base: a function of
    # the (changed) settings and the step alone
    assert after == [scheduled_lr(trainer.spec, s) for s in (4, 5, 6)]
    assert after == pytest.approx([10 * scheduled_lr(trainer.exp.train, s) for s in (4, 5, 6)])
    if expected is not None:
        assert after == expected


def test_the_changes_round_trip_through_the_history_and_a_checkpoint(tmp_path):
    trainer = Trainer(experiment(), probes=False)
    list(trainer.run(2))
    trainer.change(lr=0.01)
    list(trainer.run(2))
    trainer.change(clip_norm=None)
    changes = [
        {"step": 2, "lr": 0.01, "clip_norm": 1.0},
        {"step": 4, "lr": 0.01, "clip_norm": None},
    ]
    assert trainer.history.changes == changes == trainer.history.snapshot().changes
    assert History.from_dict(trainer.history.to_dict()).changes == changes
    old = trainer.history.to_dict()
    del old["changes"]  # a history from before settings could change mid-run
    assert History.from_dict(old).changes == []
    trainer.save(str(tmp_path / "run.pt"))
    saved = checkpoints.load(tmp_path / "run.pt")
    assert saved.history["changes"] == changes
    record = RunRecord.from_checkpoint(saved)  # how the app shows a kept run
    assert record.history.changes == changes and record.exp == trainer.exp
    assert (record.spec.lr, record.spec.clip_norm) == (0.01, None) and record.spec == trainer.spec


@pytest.mark.parametrize("stop_at", [4, 6], ids=["at-the-change", "after-it"])
def test_a_resumed_run_goes_on_with_the_changed_settings_bit_for_bit(tmp_path, stop_at):
    """A run whose learning rate and clipping were changed at step 4, saved at the
    change or after it and continued, draws the uninterrupted run's curve."""
    exp = experiment(
        [{"type": "lstm", "hidden_size": 8, "dropout": 0.3}, {"type": "gru", "hidden_size": 6}],
        optimizer="momentum",
        lr=0.05,
        lr_schedule="step",
        lr_decay=0.5,
        lr_decay_every=3,
        eval_every=4,
    )

    def changed(trainer):
        trainer.change(lr=0.2, clip_norm=0.05)

    whole = Trainer(exp, probes=False)
    list(whole.run(4))
    changed(whole)
    whole_steps = sgd_steps(whole, 6)
    assert any(r["clipped"] for r in whole_steps)  # the new threshold acts
    first = Trainer(exp, probes=False)
    list(first.run(4))
    changed(first)
    list(first.run(stop_at - 4))
    first.save(str(tmp_path / "part.pt"))
    torch.manual_seed(12345)  # whatever happens to the random state in between
    resumed = Trainer.from_checkpoint(checkpoints.load(tmp_path / "part.pt"), probes=False)
    assert (resumed.spec.lr, resumed.spec.clip_norm) == (0.2, 0.05)
    steps = sgd_steps(resumed, 10 - stop_at)
    assert [r["lr"] for r in steps] == [r["lr"] for r in whole_steps[stop_at - 4 :]]
    assert resumed.history.loss == whole.history.loss
    assert resumed.history.grad_norm == whole.history.grad_norm
    assert resumed.history.clipped == whole.history.clipped
    assert resumed.history.changes == whole.history.changes
    for name, value in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], value), name


def test_the_command_line_resumes_with_the_changed_settings(tmp_path, capsys):
    from designer.__main__ import main

    exp = experiment(steps=8)
    whole = Trainer(exp, probes=False)
    list(whole.run(3))
    whole.change(lr=0.03, clip_norm=None)
    list(whole.run(5))
    part = Trainer(exp, probes=False)
    list(part.run(3))
    part.change(lr=0.03, clip_norm=None)
    list(part.run(2))
    part.save(str(tmp_path / "part.pt"))
    args = ["train", "--resume", str(tmp_path / "part.pt"), "--json"]
    assert main([*args, "--save", str(tmp_path / "done.pt")]) == 0
    capsys.readouterr()
    done = checkpoints.load(tmp_path / "done.pt")
    assert done.step == 8 and done.history["loss"] == whole.history.loss
    assert done.history["changes"] == whole.history.changes
