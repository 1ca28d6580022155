"""The trainer's overhead: its step time against a bare PyTorch loop.

Both loops train the same LSTM sizes on the same batches (the adding task, drawn
the same way), with Adam and gradient clipping, on one thread, as the app's
training processes do. They run interleaved, a block of steps each in turn, so
that drifting machine load hits both alike; we report medians over blocks.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn as nn

from designer.document.spec import Experiment
from designer.training.trainer import Trainer

CONFIGS = (
    # name, layers, hidden, seq_len, batch, blocks, steps per block
    ("small", 1, 32, 50, 32, 30, 25),
    ("large", 4, 128, 100, 64, 8, 4),
)


class BareLoop:
    """What a student would write by hand: nn.LSTM(num_layers=L) plus a head."""

    def __init__(self, trainer: Trainer, layers: int, hidden: int):
        torch.manual_seed(0)
        self.task = trainer.task
        self.spec = trainer.spec
        self.seed = trainer.batch_seed
        self.lstm = nn.LSTM(self.task.input_size, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, self.task.output_size)
        params = list(self.lstm.parameters()) + list(self.head.parameters())
        self.params = params
        self.optimizer = torch.optim.Adam(params, lr=self.spec.lr)
        self.step_count = 0

    def train_step(self) -> float:
        self.step_count += 1
        x, y = self.task.batch(self.spec.batch_size, self.seed(self.step_count))
        out, _ = self.lstm(x)  # (B, T, H)
        loss = nn.functional.mse_loss(self.head(out[:, -1]), y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.params, self.spec.clip_norm)
        self.optimizer.step()
        return loss.item()


def _experiment(
    layers: int, hidden: int, seq_len: int, batch: int, task: str = "adding"
) -> Experiment:
    return Experiment.from_dict(
        {
            "version": 1,
            "task": {"name": task, "seq_len": seq_len},
            "model": {"layers": [{"type": "lstm", "hidden_size": hidden}] * layers},
            "train": {"batch_size": batch, "lr": 0.001, "clip_norm": 1.0},
        }
    )


def _time_block(step, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


@contextmanager
def _one_thread() -> Iterator[None]:
    """Torch on one thread while a bench times, as in the app's training processes;
    the caller's thread count again afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def probe_cost(quick: bool = False) -> Iterator[dict[str, Any]]:
    """One probe against one training step of the large model (4x128 LSTM, T=100)."""
    with _one_thread():
        exp = _experiment(4, 128, 100, 64)
        trainer = Trainer(exp)
        repeats = 2 if quick else 5
        trainer.take_probe()  # warm up
        trainer.train_step()
        steps, probes = [], []
        for _ in range(repeats):  # interleaved
            steps.append(_time_block(trainer.train_step, 1))
            probes.append(trainer.take_probe()["seconds"])
        step_s, probe_s = statistics.median(steps), statistics.median(probes)
        yield {
            "bench": "probe_cost",
            "config": "4x128 LSTM, T=100, batch 64, probe batch 8",
            "probe_ms": round(probe_s * 1000, 2),
            "step_ms": round(step_s * 1000, 2),
            "ratio": round(probe_s / step_s, 3),
            "summary": (
                f"probe cost (4x128 LSTM, T=100): one probe {probe_s * 1000:.0f} ms, one "
                f"training step {step_s * 1000:.0f} ms, ratio {probe_s / step_s:.2f}"
            ),
        }


def credit_cost(quick: bool = False) -> Iterator[dict[str, Any]]:
    """The credit matrix and the gradient paths (designer.inside.credit), the input influence
    (designer.inside.influence) and one cell's walk-through (designer.inside.cell) against one
    training step of the large model, on a task scored at every step (the sine wave,
    T=100), so that the matrix and the influence have their full number of rows."""
    from designer.inside.cell import cell_step
    from designer.inside.credit import credit_matrix, gradient_paths
    from designer.inside.influence import input_influence

    with _one_thread():
        exp = _experiment(4, 128, 100, 64, task="sine")
        trainer = Trainer(exp, probes=False)
        trainer.train_step()  # warm up
        repeats = 1 if quick else 3
        steps, credits, paths, influences, cells = [], [], [], [], []
        rows = 0
        for _ in range(repeats):  # interleaved
            steps.append(_time_block(trainer.train_step, 1))
            result = credit_matrix(trainer.model, trainer.task)
            credits.append(result.seconds)
            rows = len(result.rows)
            start = time.perf_counter()
            gradient_paths(trainer.model, trainer.task)
            paths.append(time.perf_counter() - start)
            influences.append(input_influence(trainer.model, trainer.task).seconds)
            start = time.perf_counter()
            cell_step(trainer.model, trainer.task, layer=0, step=50)
            cells.append(time.perf_counter() - start)
        step_s = statistics.median(steps)
        credit_s, paths_s = statistics.median(credits), statistics.median(paths)
        influence_s, cell_s = statistics.median(influences), statistics.median(cells)
        yield {
            "bench": "credit_cost",
            "config": f"4x128 LSTM, sine T=100, batch 64, probe batch 8, {rows} loss steps",
            "credit_ms": round(credit_s * 1000, 1),
            "paths_ms": round(paths_s * 1000, 1),
            "influence_ms": round(influence_s * 1000, 1),
            "cell_ms": round(cell_s * 1000, 1),
            "step_ms": round(step_s * 1000, 2),
            "ratio": round(credit_s / step_s, 2),
            "summary": (
                f"credit matrix (4x128 LSTM, T=100, {rows} of 100 loss steps): "
                f"{credit_s:.2f} s = {credit_s / step_s:.1f} training steps of "
                f"{step_s * 1000:.0f} ms; gradient paths {paths_s * 1000:.0f} ms; input "
                f"influence (4 samples, 50 output steps) {influence_s * 1000:.0f} ms; one "
                f"cell's walk-through {cell_s * 1000:.0f} ms"
            ),
        }


def training_overhead(quick: bool = False) -> Iterator[dict[str, Any]]:
    with _one_thread():
        for name, layers, hidden, seq_len, batch, blocks, per_block in CONFIGS:
            if quick:
                blocks, per_block = 3, 2
            exp = _experiment(layers, hidden, seq_len, batch)
            trainer = Trainer(exp)
            bare = BareLoop(trainer, layers, hidden)

            def designer_step(trainer: Trainer = trainer) -> None:
                trainer.advance(total=10**9)  # evaluations and probes when due

            trainer.take_probe()  # as a run starts: the model at initialisation
            for _ in range(3):  # warm up both (first calls at a new shape are slow)
                designer_step()
                bare.train_step()
            ours, theirs = [], []
            probe_before, train_before = trainer.probe_time, trainer.train_time
            for _ in range(blocks):
                ours.append(_time_block(designer_step, per_block))
                theirs.append(_time_block(bare.train_step, per_block))
            ours_ms = statistics.median(ours) * 1000
            bare_ms = statistics.median(theirs) * 1000
            ratio = ours_ms / bare_ms
            probe_share = (trainer.probe_time - probe_before) / (
                trainer.train_time - train_before + trainer.probe_time - probe_before
            )
            mean_ratio = sum(ours) / sum(theirs)
            yield {
                "bench": "training_overhead",
                "config": name,
                "layers": layers,
                "hidden": hidden,
                "seq_len": seq_len,
                "batch": batch,
                "designer_ms": round(ours_ms, 3),
                "bare_ms": round(bare_ms, 3),
                "ratio": round(ratio, 3),
                "probes": len(trainer.history.probes),
                "probe_share": round(probe_share, 4),
                "mean_ratio": round(mean_ratio, 3),
                "target": 1.10,
                "summary": (
                    f"training overhead, {name} ({layers}x{hidden} LSTM, T={seq_len}, "
                    f"batch {batch}): designer {ours_ms:.2f} ms/step, bare nn.LSTM "
                    f"{bare_ms:.2f} ms/step, ratio {ratio:.3f} (mean {mean_ratio:.3f}; "
                    f"target <= 1.10); probing took {probe_share:.1%} of the time"
                ),
            }
