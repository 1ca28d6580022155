"""Benchmarks behind `python -m designer bench`.

Each benchmark yields result dicts ({"bench": name, ...figures}); `run_all` runs
them in order and prints a line for each when given a `log` function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bench.graph import graph_figure_cost
from bench.step_time import credit_cost, probe_cost, training_overhead


def run_all(
    quick: bool = False, log: Callable[[str], None] | None = None
) -> Iterator[dict[str, Any]]:
    for bench in (training_overhead, probe_cost, credit_cost, graph_figure_cost):
        for result in bench(quick=quick):
            if log is not None:
                log(result["summary"])
            yield result
