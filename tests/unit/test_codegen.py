"""The exported PyTorch module: standalone code that runs in a fresh interpreter
without the project, loads the app's checkpoints with strict=True, gives the app's
outputs on the same batch and starts from the app's weights for the same seed; for
every layer type and option and every task. And it passes ruff."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from designer import Experiment, Trainer, build_model, get_task
from designer.export.codegen import ExportError, module_code, notebook, numpy_code, training_code
from designer.tasks import TASKS
from designer.training import checkpoints
from designer.training.schedule import lr_at, make_optimizer, take_step
from designer.training.trainer import verified

ROOT = Path(__file__).resolve().parents[2]
CSV = "a,b\n" + "".join(f"{i % 7},{(i * 3) % 5}\n" for i in range(120))

# every layer type and option, each in some stack
STACKS = {
    "recurrent options": [
        {"type": "rnn", "hidden_size": 6, "nonlinearity": "relu", "init": "identity"},
        {"type": "lstm", "hidden_size": 6, "forget_bias": 1.0, "residual": True},
        {"type": "gru", "hidden_size": 5, "bidirectional": True, "residual": True},
        {"type": "rnn", "hidden_size": 4, "freeze": True, "dropout": 0.2, "init": "orthogonal"},
        {"type": "lstm", "hidden_size": 4, "bidirectional": True, "init": "xavier"},
        {"type": "gru", "hidden_size": 4, "gain": 1.7},  # the recurrence scaled
        # an echo state network's reservoir: per-gate spectral radius, input scaling, leak
        {"type": "lstm", "hidden_size": 5, "spectral_radius": 0.8, "input_scaling": 0.3},
        {
            "type": "rnn",
            "hidden_size": 6,
            "freeze": True,
            "bidirectional": True,
            "spectral_radius": 1.2,
            "leak_rate": 0.4,
        },
        {"type": "rnn", "hidden_size": 4, "nonlinearity": "relu", "leak_rate": 0.7},
        {  # every option at once: the call is wrapped as ruff would wrap it
            "type": "lstm",
            "hidden_size": 3,
            "bidirectional": True,
            "residual": True,
            "dropout": 0.25,
            "freeze": True,
            "init": "orthogonal",
            "forget_bias": -1.5,
            "gain": 0.5,
            "spectral_radius": 0.95,
            "input_scaling": 2.0,
        },
    ],
    "feedforward options": [
        {"type": "linear", "out_features": 6, "activation": "sigmoid"},
        {"type": "linear", "out_features": 6, "activation": "gelu", "residual": True},
        {"type": "linear", "out_features": 5, "activation": "tanh", "residual": True},
        {"type": "linear", "out_features": 5, "activation": "relu", "dropout": 0.1},
        {"type": "linear", "out_features": 3, "activation": "none"},
    ],
    "mixed": [
        {"type": "gru", "hidden_size": 6},
        {"type": "layernorm"},
        {"type": "attention", "residual": True},
        {"type": "dropout", "p": 0.3},
        {"type": "attention"},
        {"type": "lstm", "hidden_size": 5, "dropout": 0.1},
    ],
}


def cases() -> dict[str, Experiment]:
    """Every stack on the adding problem; a small stack on every task, with and
    without an embedding for token tasks."""
    out = {}
    for name, layers in STACKS.items():
        out[name] = Experiment.from_dict(
            {"task": {"name": "adding", "seq_len": 8}, "model": {"layers": layers}}
        )
    for task in TASKS:
        params = {"name": task, "seq_len": 12}
        if task == "csv":
            params.update(data=CSV, targets=["b"])
        if task == "copy":
            params = {"name": task, "symbols": 3, "lag": 2}
        layers = [{"type": "lstm", "hidden_size": 5}, {"type": "attention", "residual": True}]
        out[task] = Experiment.from_dict(
            {"task": params, "model": {"layers": layers}, "train": {"seed": 3}}
        )
        if get_task(out[task].task).token_input:
            out[f"{task} embedded"] = Experiment.from_dict(
                {"task": params, "model": {"embedding_dim": 4, "layers": layers}}
            )
    return out


DRIVER = """
import importlib.util, json, sys, torch
results = {}
for name in json.loads(sys.argv[1]):
    spec = importlib.util.spec_from_file_location("exported", f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = torch.load(f"{name}.data.pt", weights_only=True)
    model = module.Model()
    model.load_state_dict(torch.load(f"{name}.ckpt.pt", weights_only=True)["state_dict"])
    model.eval()
    with torch.no_grad():
        out = model(data["x"])
    torch.manual_seed(data["seed"])
    fresh = module.Model().state_dict()
    results[name] = {
        "outputs": bool(torch.allclose(out, data["out"], atol=1e-5, rtol=1e-5)),
        "start": all(torch.equal(fresh[k], v) for k, v in data["start"].items())
        and set(fresh) == set(data["start"]),
        "project": any("designer" in m for m in sys.modules),
    }
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict[str, Experiment]]:
    folder = tmp_path_factory.mktemp("exported")
    experiments = cases()
    for i, exp in enumerate(experiments.values()):
        key = f"case{i}"
        task = get_task(exp.task)
        (folder / f"{key}.py").write_text(module_code(exp, task))
        trainer = Trainer(exp, probes=False)
        list(trainer.run(2))  # a checkpoint trained by the project
        trainer.save(str(folder / f"{key}.ckpt.pt"))
        x, _ = task.batch(4, seed=11, split="val")
        trainer.model.eval()
        with torch.no_grad():
            out = trainer.model(x)
        start = build_model(exp, task).state_dict()
        torch.save(
            {"x": x, "out": out, "seed": exp.train.seed, "start": start}, folder / f"{key}.data.pt"
        )
    (folder / "driver.py").write_text(DRIVER)
    return folder, experiments


def test_every_case_runs_without_the_project_loads_the_checkpoint_and_agrees(exported):
    folder, experiments = exported
    names = [f"case{i}" for i in range(len(experiments))]
    done = subprocess.run(
        [sys.executable, "-I", "driver.py", json.dumps(names)],  # -I: no project on the path
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    labels = dict(zip(names, experiments, strict=True))
    for key, result in results.items():
        assert result == {"outputs": True, "start": True, "project": False}, labels[key]


def test_the_exported_code_passes_ruff(exported):
    folder, _ = exported
    files = sorted(str(p) for p in folder.glob("case*.py"))
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruff",
                *command,
                "--config",
                str(ROOT / "pyproject.toml"),
                *files,
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_reads_as_the_stack(exported):
    folder, experiments = exported
    code = (folder / "case2.py").read_text()  # the mixed stack
    assert "class Model(nn.Module):" in code and "import designer" not in code
    assert "# layer 3: attention, width 6 -> 6" in code
    assert "h = h[:, -1]  # (B, 5): only the last step is scored" in code
    assert "class PerStepLinear" not in code  # only the classes the stack uses


# --- the training script, the notebook, the NumPy version ---------------------------------
def run(
    args: list[str], cwd: Path, timeout: float = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done


def opened_by_the_app(path: Path) -> checkpoints.Checkpoint:
    """What the app does with a checkpoint file a visitor brings."""
    return verified(checkpoints.load(path.read_bytes(), untrusted=True))


def script_case(task: str) -> Experiment:
    params = {"name": task, "seq_len": 10}  # csv: the shipped example file, read into the script
    if task == "copy":
        params = {"name": task, "symbols": 3, "lag": 2}
    return Experiment.from_dict(
        {
            "task": params,
            "model": {"layers": [{"type": "gru", "hidden_size": 6}, {"type": "layernorm"}]},
            "train": {"steps": 4, "batch_size": 8, "eval_every": 2, "seed": 5},
        }
    )


@pytest.mark.slow
def test_the_training_script_of_every_task_runs_alone_and_writes_a_checkpoint(tmp_path):
    for task in TASKS:
        exp = script_case(task)
        folder = tmp_path / task
        folder.mkdir()
        (folder / "train.py").write_text(training_code(exp))
        run([sys.executable, "-I", "train.py"], folder)  # no project on the path
        checkpoint = opened_by_the_app(folder / "checkpoint.pt")
        saved = checkpoint.experiment  # the task's parameters with their defaults filled in
        assert checkpoint.step == 4 and (saved.model, saved.train) == (exp.model, exp.train)
        given, kept = get_task(exp.task).params, get_task(saved.task).params
        if task == "csv":  # the file's text travels inside the script and its checkpoint
            assert kept.pop("data").startswith("temperature_c,") and not given.pop("data")
        assert kept == given, task
        assert checkpoint.optimizer is not None  # the app can continue it
    scripts = [str(p) for p in tmp_path.glob("*/train.py")]
    run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"), *scripts],
        tmp_path,
    )


@pytest.mark.parametrize(
    "schedule",
    [
        {},
        # the learning rate halves at steps 5 and 9
        {
            "optimizer": "momentum",
            "lr": 0.05,
            "momentum": 0.7,
            "lr_schedule": "step",
            "lr_decay": 0.5,
            "lr_decay_every": 4,
        },
        {"optimizer": "momentum", "lr": 0.05, "momentum": 0.5, "lr_schedule": "cosine"},
    ],
    ids=["constant", "momentum-step", "momentum-cosine"],
)
def test_the_training_script_draws_the_apps_curve(tmp_path, schedule):
    """Alone, the script trains exactly as the app: the same start, batches,
    optimizer, learning rates, clipping and evaluations, so the same curve, bit for
    bit on CPU."""
    exp = Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 10},
            "model": {"layers": [{"type": "lstm", "hidden_size": 6, "dropout": 0.2}]},
            "train": {
                "steps": 12,
                "batch_size": 8,
                "eval_every": 5,
                "clip_norm": 0.5,
                **schedule,
            },
        }
    )
    code = training_code(exp)
    # only a schedule needs it, and then the app's own function, as it is
    assert (inspect.getsource(lr_at) in code) == bool(schedule)
    assert f"MOMENTUM = {exp.train.momentum!r}" in code
    (tmp_path / "train.py").write_text(code)
    if schedule:  # the schedule's code passes ruff too
        lint = [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml")]
        run([*lint, "train.py"], tmp_path)
    output = run([sys.executable, "-I", "train.py", "--out", "run.pt"], tmp_path).stdout
    assert "step     10" in output and "wrote run.pt (12 steps, 1 process)" in output
    script = checkpoints.load(tmp_path / "run.pt")
    app = Trainer(exp, probes=False)
    list(app.run(12))
    assert script.history["loss"] == app.history.loss
    assert script.history["grad_norm"] == app.history.grad_norm
    assert [e["val_loss"] for e in script.history["evals"]] == [
        e["val_loss"] for e in app.history.evals
    ]


@pytest.mark.slow
def test_the_training_script_runs_under_torchrun_on_two_processes(tmp_path):
    exp = script_case("sine")
    (tmp_path / "train.py").write_text(training_code(exp))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    local = ["--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
    loopback = {**os.environ, "GLOO_SOCKET_IFNAME": "lo"}  # the processes talk on 127.0.0.1
    output = run([*torchrun, *local, "train.py", "--steps", "6"], tmp_path, env=loopback).stdout
    assert output.count("wrote ") == 1  # only the first process saves
    assert "(6 steps, 2 processes)" in output
    assert opened_by_the_app(tmp_path / "checkpoint.pt").step == 6


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_notebook_runs_top_to_bottom(tmp_path):
    exp = script_case("brackets")
    book = json.loads(notebook(exp))
    kinds = [cell["cell_type"] for cell in book["cells"]]
    assert kinds[0] == "markdown" and kinds.count("code") == 6
    assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))  # text, code, text...
    cells = ["".join(c["source"]) for c in book["cells"] if c["cell_type"] == "code"]
    runner = (
        "import json, sys\n"
        "cells = json.load(open('cells.json'))\n"
        "space = {'__name__': '__main__'}\n"
        "for cell in cells:\n"
        "    exec(compile(cell, '<cell>', 'exec'), space)\n"
    )
    (tmp_path / "cells.json").write_text(json.dumps(cells))
    (tmp_path / "run.py").write_text(runner)
    output = run([sys.executable, "-I", "run.py"], tmp_path).stdout
    assert "wrote checkpoint.pt (4 steps" in output
    assert opened_by_the_app(tmp_path / "checkpoint.pt").step == 4


NUMPY_STACKS = [
    (
        {"name": "adding", "seq_len": 7},
        [
            {"type": "rnn", "hidden_size": 5},
            {"type": "linear", "out_features": 4, "activation": "gelu"},
            {"type": "rnn", "hidden_size": 3, "nonlinearity": "relu", "init": "identity"},
        ],
    ),
    (
        {"name": "brackets", "seq_len": 8},
        [
            {"type": "linear", "out_features": 6, "activation": "sigmoid"},
            {"type": "rnn", "hidden_size": 4, "freeze": True},
        ],
    ),
    (
        {"name": "sentiment"},
        [
            {"type": "rnn", "hidden_size": 4},
            {"type": "linear", "out_features": 3, "activation": "tanh"},
        ],
    ),
    (
        {"name": "sine", "seq_len": 9},
        [
            {"type": "linear", "out_features": 3, "activation": "relu"},
            {"type": "linear", "out_features": 3, "activation": "none"},
        ],
    ),
    ({"name": "charlm", "seq_len": 6}, [{"type": "rnn", "hidden_size": 4}]),  # loss in bits
]


def test_the_numpy_version_computes_pytorchs_gradients(tmp_path):
    """Forward, loss and backward by hand in NumPy (float64) against autograd on the
    same weights and batch, for every activation, tanh and relu RNN layers, per-step
    and last-step heads, regression and classification (with padded targets)."""
    import importlib.util

    for i, (task_params, layers) in enumerate(NUMPY_STACKS):
        exp = Experiment.from_dict({"task": task_params, "model": {"layers": layers}})
        task = get_task(exp.task)
        path = tmp_path / f"by_hand_{i}.py"
        path.write_text(numpy_code(exp, task))
        spec = importlib.util.spec_from_file_location(f"by_hand_{i}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert_numpy_agrees_with_autograd(module, exp)
    files = [str(p) for p in tmp_path.glob("by_hand_*.py")]
    run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"), *files],
        tmp_path,
    )


def assert_numpy_agrees_with_autograd(module, exp: Experiment) -> None:
    """The NumPy module's loss and gradients are autograd's, on the app's model of `exp`."""
    import numpy as np

    task = get_task(exp.task)
    model = build_model(exp, task)
    x, y = task.batch(6, seed=3)
    loss = task.loss(model(x), y)
    loss.backward()
    W = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    pred, cache = module.forward(W, x.numpy())
    value, dpred = module.loss_and_gradient(pred, y.numpy())
    grads = module.backward(W, cache, dpred)
    assert value == pytest.approx(loss.item(), rel=1e-5), task.name
    for name, param in model.named_parameters():
        expected = param.grad.double().numpy() if param.grad is not None else None
        if expected is None:  # a frozen layer: PyTorch keeps no gradient
            continue
        scale = np.abs(expected).max() + 1e-12
        assert np.abs(grads[name] - expected).max() / scale < 1e-5, (task.name, name)


def test_the_numpy_version_says_which_layers_it_covers():
    exp = Experiment.from_dict(
        {"model": {"layers": [{"type": "lstm"}, {"type": "rnn", "residual": True}]}}
    )
    with pytest.raises(ExportError) as err:
        numpy_code(exp)
    assert "covers stacks of linear layers" in str(err.value)
    assert "layer 0 (LSTM 64): a lstm layer" in str(err.value)
    assert "layer 1 (RNN 64): a residual connection" in str(err.value)


def test_the_numpy_version_refuses_a_leaky_rnn():
    exp = Experiment.from_dict(
        {"model": {"layers": [{"type": "rnn", "hidden_size": 4, "leak_rate": 0.5}]}}
    )
    with pytest.raises(ExportError) as err:
        numpy_code(exp)
    assert "layer 0 (RNN 4): a leak rate (0.5, a leaky integrator)" in str(err.value)
    # the init knobs only set the starting weights, which the NumPy version reads
    reservoir = {"type": "rnn", "hidden_size": 4, "spectral_radius": 0.9, "input_scaling": 0.5}
    assert "def forward(W, x):" in numpy_code(exp.with_layers([reservoir]))


def test_the_training_script_fits_the_readout_as_the_app_does(tmp_path):
    """With ridge_readout the script fits the head in closed form before its first
    step, with the app's own code (a classification task with padded steps, a leaky
    reservoir): the same curve as the app's, bit for bit on CPU."""
    layer = {"type": "rnn", "hidden_size": 12, "freeze": True, "spectral_radius": 0.9}
    exp = Experiment.from_dict(
        {
            "task": {"name": "brackets", "seq_len": 10},
            "model": {"layers": [{**layer, "leak_rate": 0.5}]},
            "train": {"steps": 3, "batch_size": 8, "eval_every": 1, "ridge_readout": 0.01},
        }
    )
    code = training_code(exp)
    assert "def fit_readout(" in code and "def fit_readout(" not in training_code(
        exp.model_copy(update={"train": exp.train.model_copy(update={"ridge_readout": None})})
    )
    (tmp_path / "train.py").write_text(code)
    lint = [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml")]
    run([*lint, "train.py"], tmp_path)
    run([sys.executable, "-I", "train.py", "--out", "run.pt"], tmp_path)
    script = checkpoints.load(tmp_path / "run.pt")
    app = Trainer(exp, probes=False)
    list(app.run(3))
    assert app.readout_rows > 0
    assert script.history["loss"] == app.history.loss
    assert [e["val_loss"] for e in script.history["evals"]] == [
        e["val_loss"] for e in app.history.evals
    ]
    for name, value in app.model.state_dict().items():
        assert torch.equal(script.state_dict[name], value), name


def test_the_exported_layers_are_a_real_module_that_runs_as_it_is():
    """designer/export/layers.py is what the exported model is made of: it imports and
    its layers run, and module_code copies its classes unchanged where nothing is cut."""
    from designer.export import layers

    x = torch.randn(2, 5, 3)
    recurrent = layers.Recurrent("lstm", 3, 4, init="orthogonal", leak_rate=1.0)
    assert recurrent(x).shape == (2, 5, 4)
    leaky = layers.Recurrent("rnn", 3, 4, leak_rate=0.5)
    assert leaky(x).shape == (2, 5, 4)
    assert layers.PerStepLinear(3, 6, torch.nn.Tanh(), residual=True)(x).shape == (2, 5, 6)
    assert layers.Attention(3, causal=True, residual=True)(x).shape == (2, 5, 3)
    exp = Experiment.from_dict(
        {
            "task": {"name": "sine"},
            "model": {
                "layers": [
                    {"type": "lstm", "hidden_size": 4, "init": "orthogonal"},
                    {"type": "rnn", "hidden_size": 4, "leak_rate": 0.5},
                    {"type": "linear", "out_features": 3},
                    {"type": "attention"},
                ]
            },
        }
    )
    code = module_code(exp)
    for piece in (layers.Recurrent, layers.initialize, layers.PerStepLinear, layers.Attention):
        assert inspect.getsource(piece) in code


def test_the_training_scripts_template_is_a_real_module_that_trains_as_the_app(tmp_path):
    """designer/export/train_script.py is what the script's training part is made of: it
    imports and trains its own small experiment as it is, with the app's curve, bit for
    bit on CPU; its settings are the ones the exported script sets."""
    from designer.export import train_script

    out = tmp_path / "run.pt"
    train_script.train(train_script.STEPS, str(out))
    script = checkpoints.load(out)
    app = Trainer(Experiment.from_dict(train_script.EXPERIMENT), probes=False)
    list(app.run(train_script.STEPS))
    assert script.history["loss"] == app.history.loss
    assert script.history["grad_norm"] == app.history.grad_norm
    assert [e["val_loss"] for e in script.history["evals"]] == [
        e["val_loss"] for e in app.history.evals
    ]
    source = inspect.getsource(train_script)
    block = source[source.index("# --- settings ---") : source.index("# --- end of settings ---")]
    template = {line.split(" = ")[0] for line in block.splitlines() if " = " in line}
    everything = Experiment.from_dict(
        {
            **train_script.EXPERIMENT,
            "train": {"lr_schedule": "step", "ridge_readout": 0.01},
        }
    )
    code = training_code(everything)
    rule = "# --- the settings of the experiment"
    exported = code[code.index(rule) : code.index("# --- training, as the app trains")]
    names = {line.split(" = ")[0] for line in exported.splitlines()[1:] if " = " in line}
    assert names == template
    # with a schedule and a read-out, nothing of the template is cut
    pieces = ("evaluate", "start_processes", "save_checkpoint", "train", "main")
    for piece in pieces:
        assert inspect.getsource(getattr(train_script, piece)) in code, piece
    # the optimizer, the schedule and the step are the app's own functions, as they are
    for function in (make_optimizer, lr_at, take_step):
        assert inspect.getsource(function) in code, function.__name__
    constant = training_code(Experiment.from_dict(train_script.EXPERIMENT))
    assert inspect.getsource(take_step) in constant and "def lr_at(" not in constant


def test_the_numpy_template_is_a_real_module_that_computes_the_gradients():
    """designer/export/numpy_template.py is the NumPy version: it imports and computes
    autograd's gradients for its own network as it is, and numpy_code writes the same
    settings, with the experiment's values, into a copy of it."""
    from designer.export import numpy_template

    layers = [
        {"type": "rnn", "hidden_size": 5},
        {"type": "linear", "out_features": 4, "activation": "gelu"},
    ]
    exp = Experiment.from_dict({"task": {"name": "adding"}, "model": {"layers": layers}})
    assert_numpy_agrees_with_autograd(numpy_template, exp)
    source = inspect.getsource(numpy_template)
    block = source[source.index("# --- settings ---") : source.index("# --- end of settings")]
    code = numpy_code(exp)
    assert (
        block.splitlines()[1:]
        == code[code.index("VOCAB_SIZE") : code.index("\n\n\ndef")].splitlines()
    )
    assert code.startswith('"""Adding problem: RNN 5, linear 4 gelu, forward and backward')
    for function in (numpy_template.forward, numpy_template.backward, numpy_template.rnn_backward):
        assert inspect.getsource(function) in code


def test_the_notebook_template_is_a_real_file_that_trains_as_it_is(tmp_path, monkeypatch):
    """designer/export/notebook_template.py is the notebook: run as it is, it trains the
    training script's template (designer/export/train_script.py) and writes its
    checkpoint; its cells alternate text and code, and each code cell but the last is
    named after the part of the script that takes its place."""
    import runpy

    from designer.export import train_script
    from designer.export.codegen import NOTEBOOK, template_cells

    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(NOTEBOOK), run_name="__main__")
    assert checkpoints.load(tmp_path / "checkpoint.pt").step == train_script.STEPS
    cells = template_cells(NOTEBOOK.read_text())
    names = [name for name, _ in cells]
    assert names[::2] == ["[markdown]"] * 6
    assert names[1::2] == ["imports", "model", "task", "settings", "training", ""]
    book = json.loads(notebook(script_case("sine")))
    texts = ["".join(cell["source"]) for cell in book["cells"]]
    assert (
        texts[0].startswith("# Sine wave") and "\n\nExported from Deep RNN Designer. " in texts[0]
    )
    assert texts[-1] == cells[-1][1] == 'train(STEPS, "checkpoint.pt")'


def test_the_csv_scripts_stand_ins_for_files_are_a_real_module():
    """The exported script reads no file: in place of the app's data files it has the
    functions of designer/export/embedded_files.py, as they are, which refuse."""
    from designer.export import embedded_files
    from designer.tasks import TaskDataError

    for stand_in, argument in (
        (embedded_files.readable_path, "/etc/passwd"),
        (embedded_files.upload_path, "ab" * 32),
    ):
        with pytest.raises(TaskDataError, match="the CSV data is inside this script"):
            stand_in(argument)
    code = training_code(script_case("csv"))
    for stand_in in (embedded_files.readable_path, embedded_files.upload_path):
        assert inspect.getsource(stand_in) in code
