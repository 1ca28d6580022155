"""The command line: output formats, exit codes, and no tracebacks for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from designer import Experiment
from designer.__main__ import main
from designer.inside.credit import credit_matrix
from designer.tasks import get_task
from designer.tasks.charlm import sample_text
from designer.training import checkpoints
from designer.training.model import build_model
from tests.helpers import experiment_doc, layer_doc

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, data, name="spec.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


SMALL = {
    "version": 1,
    "task": {"name": "adding", "seq_len": 10},
    "model": {"layers": [{"type": "gru", "hidden_size": 8}]},
    "train": {"steps": 6, "eval_every": 3, "batch_size": 8},
}


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_tasks_lists_every_task(capsys):
    assert main(["tasks", "--json"]) == 0
    names = [r["name"] for r in json_lines(capsys.readouterr().out)]
    assert names == [
        "sine",
        "multivariate",
        "adding",
        "copy",
        "parity",
        "brackets",
        "sentiment",
        "charlm",
        "series",
        "csv",
    ]
    assert main(["tasks"]) == 0
    assert "adding" in capsys.readouterr().out


def test_validate_prints_summary(tmp_path, capsys):
    spec = write(tmp_path, {**SMALL, "model": {"layers": [{"type": "lstm"}] * 3}})
    assert main(["validate", spec, "--json"]) == 0
    (record,) = json_lines(capsys.readouterr().out)
    expected = sum(p.numel() for p in torch.nn.LSTM(2, 64, num_layers=3).parameters()) + 65
    assert record["valid"] and record["total"] == expected
    assert [row["type"] for row in record["layers"]] == ["input", "lstm", "lstm", "lstm", "head"]
    assert main(["validate", spec]) == 0
    out = capsys.readouterr().out
    assert f"total parameters: {expected:,}" in out and "(B, 10, 64)" in out


def test_validate_bad_spec_exits_2_one_line_per_problem(tmp_path, capsys):
    bad = {"model": {"layers": [{"type": "lstm", "hiden_size": 3}, {"type": "gru", "dropout": 5}]}}
    assert main(["validate", write(tmp_path, bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert "layer 0 (lstm)" in err[0] and "did you mean 'hidden_size'" in err[0]
    assert "layer 1 (gru) dropout" in err[1]
    assert main(["validate", write(tmp_path, bad), "--json"]) == 2
    captured = capsys.readouterr()
    (record,) = json_lines(captured.out)
    assert record["valid"] is False and len(record["problems"]) == 2
    assert record["problems"][1]["layer"] == 1


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["validate", "/no/such/file.json"], "cannot read"),
        (["frobnicate"], "invalid choice"),
        (["train"], "required"),
        (["train", "SPEC", "--steps", "many"], "invalid int"),
        (["train", "SPEC", "--task", "addin"], "unknown task"),
        (["train", "SPEC", "--steps", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, needle, tmp_path, capsys):
    spec = write(tmp_path, SMALL)
    argv = [spec if a == "SPEC" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_train_json_lines_and_checkpoint(tmp_path, capsys):
    ckpt = tmp_path / "run.pt"
    assert main(["train", write(tmp_path, SMALL), "--json", "--save", str(ckpt)]) == 0
    records = json_lines(capsys.readouterr().out)
    assert [r["event"] for r in records] == ["eval", "eval", "done"]
    done = records[-1]
    assert done["step"] == 6
    for key in ("train_loss", "val_loss", "val_metric", "baseline_loss", "baseline_metric"):
        assert isinstance(done[key], float)
    assert abs(done["baseline_loss"] - 1 / 6) < 0.02
    lowest = min(records[:-1], key=lambda r: r["val_loss"])  # its weights are saved too
    assert (done["best_step"], done["best_val_loss"]) == (lowest["step"], lowest["val_loss"])
    saved = torch.load(ckpt, weights_only=True)
    assert saved["experiment"]["task"]["name"] == "adding"
    assert saved["best"]["step"] == lowest["step"]
    assert saved["best"]["val_loss"] == lowest["val_loss"]


def test_train_json_each_step(tmp_path, capsys):
    assert main(["train", write(tmp_path, SMALL), "--json", "--each-step"]) == 0
    records = json_lines(capsys.readouterr().out)
    steps = [r for r in records if r["event"] == "step"]
    assert [r["step"] for r in steps] == list(range(1, 7))
    assert all({"loss", "grad_norm", "clipped"} <= r.keys() for r in steps)


def test_train_overrides_task_steps_seed(tmp_path, capsys):
    spec = write(tmp_path, SMALL)
    assert main(["train", spec, "--json", "--task", "parity", "--steps", "4", "--seed", "2"]) == 0
    done = json_lines(capsys.readouterr().out)[-1]
    assert done["step"] == 4 and done["metric"] == "accuracy"
    assert main(["train", spec, "--json", "--seed", "2", "--steps", "4"]) == 0
    first = json_lines(capsys.readouterr().out)[-1]
    assert main(["train", spec, "--json", "--seed", "2", "--steps", "4"]) == 0
    assert json_lines(capsys.readouterr().out)[-1]["val_loss"] == first["val_loss"]


def test_train_divergence_exits_1_with_message(tmp_path, capsys):
    spec = {
        **SMALL,
        "model": {
            "layers": [
                {"type": "rnn", "hidden_size": 32, "nonlinearity": "relu", "init": "identity"}
            ]
        },
        "train": {"optimizer": "sgd", "lr": 10.0, "clip_norm": None, "steps": 300},
    }
    assert main(["train", write(tmp_path, spec), "--json"]) == 1
    captured = capsys.readouterr()
    assert json_lines(captured.out)[-1]["event"] == "diverged"
    assert "diverged at step" in captured.err and "Traceback" not in captured.err


def test_module_entry_point_runs_in_a_fresh_process(tmp_path):
    spec = write(tmp_path, SMALL)
    result = subprocess.run(
        [sys.executable, "-m", "designer", "train", spec, "--steps", "3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "done: 3 steps" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "designer", "validate", write(tmp_path, "{oops", "bad.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr and "Traceback" not in bad.stderr


def test_bench_quick_reports_the_ratio(capsys):
    assert main(["bench", "--quick", "--json"]) == 0
    records = json_lines(capsys.readouterr().out)
    overhead = [r for r in records if r["bench"] == "training_overhead"]
    assert [r["config"] for r in overhead] == ["small", "large"]
    assert all(r["ratio"] > 0 and r["bare_ms"] > 0 for r in overhead)
    (credit,) = [r for r in records if r["bench"] == "credit_cost"]
    assert credit["credit_ms"] > 0 and credit["step_ms"] > 0 and "50 loss steps" in credit["config"]
    assert credit["influence_ms"] > 0 and credit["cell_ms"] > 0


def test_probe_prints_design_format(tmp_path, capsys):
    spec = write(
        tmp_path,
        {
            **SMALL,
            "model": {
                "layers": [
                    {"type": "lstm", "hidden_size": 8},
                    {"type": "linear", "out_features": 4},
                    {"type": "gru", "hidden_size": 4, "bidirectional": True},
                ]
            },
        },
    )
    assert main(["probe", spec, "--json"]) == 0
    (record,) = json_lines(capsys.readouterr().out)
    assert isinstance(record["loss"], float)
    assert [(layer["index"], layer["type"], layer["directions"]) for layer in record["layers"]] == [
        (0, "lstm", 1),
        (2, "gru", 2),
    ]
    for layer in record["layers"]:
        assert len(layer["grad_norm"]) == 10 and len(layer["hidden_norm"]) == 10
    assert main(["probe", spec]) == 0
    assert "layer 2 (gru, both directions)" in capsys.readouterr().out


def test_probe_credit_and_paths(tmp_path, capsys):
    """--credit adds each recurrent layer's T x T matrix credit[t][k], --paths the
    three routes of dL/dh_k; both in words without --json."""
    document = {
        **SMALL,
        **experiment_doc(
            "sine", 7, layer_doc("gru", 4, bidirectional=True), layer_doc("lstm", 8, residual=True)
        ),
    }
    spec = write(tmp_path, document)
    assert main(["probe", spec, "--credit", "--paths", "--memory", "--json"]) == 0
    (record,) = json_lines(capsys.readouterr().out)
    assert record["credit_rows"] == list(range(7))
    exp = Experiment.from_dict(document)
    task = get_task(exp.task)
    expected = credit_matrix(build_model(exp, task), task, seed=exp.train.seed)
    for layer, reference in zip(record["layers"], expected.layers, strict=True):
        matrix = layer["credit"]
        assert len(matrix) == 7 and all(len(row) == 7 for row in matrix)
        for row, expected_row in zip(matrix, reference.matrix, strict=True):
            assert row == pytest.approx(expected_row, rel=1e-6)
        assert set(layer["paths"]["shares"]) == {"time", "up", "skip"}
        assert layer["memory"]["delays"] == list(range(1, 7)) and layer["memory"]["total"] >= 0
    bidirectional, causal = record["layers"]
    assert causal["credit"][0][6] == 0.0 and bidirectional["credit"][0][6] > 0.0
    assert bidirectional["paths"]["above"] == "layer 1 (lstm)"
    assert max(bidirectional["paths"]["norms"]["skip"]) > 0
    assert main(["probe", spec, "--credit", "--paths", "--memory"]) == 0
    out = capsys.readouterr().out
    assert "credit ||dL_t/dh_k|| over 7 loss steps of 7" in out
    assert "up from the output head" in out
    assert "layer 1 (lstm): memory of random inputs, R² at k = 1" in out


def test_probe_inputs_gives_the_influence_that_anyone_can_recompute(tmp_path, capsys):
    """--inputs adds input_influence[sample][output step][input step], the output steps
    and the samples' inputs x; recomputed here from x with the checkpoint's model."""
    ckpt = tmp_path / "run.pt"
    assert main(["train", write(tmp_path, SMALL), "--json", "--save", str(ckpt)]) == 0
    capsys.readouterr()
    assert main(["probe", "--checkpoint", str(ckpt), "--inputs", "--json"]) == 0
    (record,) = json_lines(capsys.readouterr().out)
    assert record["output_steps"] == [9]  # the adding problem answers at its last step
    x = torch.tensor(record["x"]).requires_grad_(True)  # (S, T, 2)
    model = checkpoints.load(ckpt).model().eval()
    (grad,) = torch.autograd.grad(model(x).sum(), x)  # samples are independent
    expected = grad.norm(dim=-1)  # (S, T): one output unit
    got = torch.tensor(record["input_influence"])[:, 0]
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-7)
    assert main(["probe", "--checkpoint", str(ckpt), "--inputs"]) == 0
    assert "most influential input steps" in capsys.readouterr().out


def test_cell_walks_one_step_of_a_trained_layer(tmp_path, capsys):
    ckpt = tmp_path / "run.pt"
    assert main(["train", write(tmp_path, SMALL), "--json", "--save", str(ckpt)]) == 0
    capsys.readouterr()
    args = ["cell", "--checkpoint", str(ckpt), "--layer", "0", "--step", "4", "--sample", "2"]
    assert main([*args, "--json"]) == 0
    (record,) = json_lines(capsys.readouterr().out)
    assert record["type"] == "gru" and record["step"] == 4 and record["sample"] == 2
    for key in ("x", "h_prev", "r", "z", "n", "h", "grad_h", "grad_h_prev"):
        assert len(record[key]) == (2 if key == "x" else 8), key
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "the update gate's path" in out and "one step back multiplies" in out
    assert main(["cell", "--checkpoint", str(ckpt), "--layer", "3", "--step", "0"]) == 2
    assert "layer 3 is not a recurrent layer" in capsys.readouterr().err
    assert main(["cell", "--checkpoint", str(ckpt), "--layer", "0", "--step", "10"]) == 2
    assert "outside the sequence (0 to 9)" in capsys.readouterr().err


def test_probe_from_checkpoint_and_bad_checkpoint(tmp_path, capsys):
    ckpt = tmp_path / "run.pt"
    spec = write(tmp_path, SMALL)
    assert main(["train", spec, "--json", "--save", str(ckpt)]) == 0
    capsys.readouterr()
    assert main(["probe", "--checkpoint", str(ckpt), "--json", "--seed", "1"]) == 0
    assert json_lines(capsys.readouterr().out)[0]["layers"][0]["type"] == "gru"
    assert main(["probe", "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    assert "cannot load checkpoint" in capsys.readouterr().err
    assert main(["probe"]) == 2


def test_sample_writes_text_from_a_character_model(tmp_path, capsys):
    charlm = {
        "version": 1,
        "task": {"name": "charlm", "seq_len": 16},
        "model": {"layers": [{"type": "gru", "hidden_size": 8}]},
        "train": {"steps": 3, "batch_size": 4},
    }
    spec = tmp_path / "charlm.json"
    spec.write_text(json.dumps(charlm))
    ckpt = tmp_path / "charlm.pt"
    assert main(["train", str(spec), "--save", str(ckpt)]) == 0
    capsys.readouterr()
    args = ["sample", "--checkpoint", str(ckpt), "--length", "40", "--json"]
    assert main([*args, "--prompt", "The sea"]) == 0
    first = json_lines(capsys.readouterr().out)[0]
    assert len(first["text"]) == 40 and first["prompt"] == "The sea"
    assert main([*args, "--prompt", "The sea"]) == 0  # the same seed, the same text
    assert json_lines(capsys.readouterr().out)[0]["text"] == first["text"]
    # the best evaluation's weights by default, the last ones with --last
    saved = checkpoints.load(ckpt)  # train --save wrote the best weights too
    assert saved.best is not None and saved.best["step"] == 3
    assert first["weights"] == "best" and first["weights_step"] == 3
    task = get_task(saved.experiment.task)
    torch.manual_seed(0)
    fresh = build_model(saved.experiment, task)  # best weights unlike the last ones
    data = checkpoints.to_data(saved)
    data["best"] = {"step": 1, "val_loss": 5.0, "state_dict": fresh.state_dict()}
    torch.save(data, ckpt)
    assert main([*args, "--temperature", "0"]) == 0
    best = json_lines(capsys.readouterr().out)[0]
    assert (best["weights"], best["weights_step"]) == ("best", 1)
    assert best["text"] == sample_text(fresh, task, "The lighthouse", 40, 0)
    assert main([*args, "--temperature", "0", "--last"]) == 0
    last = json_lines(capsys.readouterr().out)[0]
    assert (last["weights"], last["weights_step"]) == ("last", 3)
    assert last["text"] == sample_text(saved.model(), task, "The lighthouse", 40, 0)
    assert last["text"] != best["text"]
    assert main(["sample", "--checkpoint", str(ckpt), "--length", "5"]) == 0
    assert "weights of step 1, the best evaluation" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(ckpt), "--length", "5", "--last"]) == 0
    assert "the last weights, of step 3" in capsys.readouterr().err
    # a model of another task, or no checkpoint: one plain line, exit 2
    other = tmp_path / "adding.pt"
    assert main(["train", write(tmp_path, SMALL), "--save", str(other)]) == 0
    capsys.readouterr()
    assert main(["sample", "--checkpoint", str(other)]) == 2
    assert "needs a character language model" in capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(tmp_path / "missing.pt")]) == 2
    assert "cannot load checkpoint" in capsys.readouterr().err
