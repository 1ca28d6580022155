"""The largest graph figure: build time and JSON size.

The largest stack the document allows: 16 layers (one bidirectional), 1000 steps,
drawn the way the Graph page draws it (the middle steps collapsed)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

from designer.document.spec import Experiment
from designer.figures.graph import graph_figure
from designer.inside.graph import unroll, visible_steps
from designer.tasks import get_task


def largest_experiment() -> Experiment:
    layers = [{"type": "gru", "hidden_size": 32, "bidirectional": True, "residual": True}]
    layers += [{"type": "lstm", "hidden_size": 32, "residual": True}] * 15
    return Experiment.from_dict(
        {"version": 1, "task": {"name": "sine", "seq_len": 1000}, "model": {"layers": layers}}
    )


def graph_figure_cost(quick: bool = False) -> Iterator[dict[str, Any]]:
    exp = largest_experiment()
    task = get_task(exp.task)
    times, size = [], 0
    for _ in range(2 if quick else 7):
        start = time.perf_counter()
        G = unroll(exp, task, steps=visible_steps(task.seq_len))
        size = len(graph_figure(G, highlight_t=task.seq_len - 1).to_json())
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    yield {
        "bench": "graph_figure",
        "config": "16 layers (1 bidirectional, all residual), seq_len 1000, per-step loss",
        "nodes": G.number_of_nodes(),
        "build_s": round(seconds, 4),
        "json_bytes": size,
        "targets": {"build_s": 0.3, "json_bytes": 1_000_000},
        "summary": (
            f"graph figure (16 layers, 1 bidirectional, T=1000): built and serialised in "
            f"{seconds * 1000:.0f} ms (target < 300), {size / 1000:.0f} kB of JSON "
            "(target < 1000)"
        ),
    }
