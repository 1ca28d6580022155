"""Which inputs the output uses: the influence of each input step k on the output
at step t, ||dy_t/dx_k||, exact by autograd (the "connectivity" of Madsen's
"Visualizing memorization in RNNs", Distill 2019).

What y_t is. For a regression task, the whole output vector at step t: the entry is
the Frobenius norm of the Jacobian dy_t/dx_k (every output unit, every input
feature). For a classifier, the logit of the class the model picks at step t (its
answer; a logit does not saturate as a probability does). A task scored at its last
step has one output step, T - 1.

What x_k is. The model's encoded input at step k: the raw features, the one-hot
vector of a token, or, with an embedding, the embedding vector (the gradient of a
token id does not exist; its embedding is what the network reads).

How it is computed. The step-by-step graph of designer.inside.probes.trace, one backward
pass per output step t:

    v = e_t (the unit vector of y_t's entry r, zero at every other step)
    dy_t/dx = v pushed back through pred to the inputs       (S, T, F)

A regression task with R outputs needs R pushes per step for the Jacobian's norm.
Several pushes share one pass: the shown samples are repeated, one copy per
(output step, output unit), as the credit matrix does (designer.inside.credit), within the
same budget of kept values; a causal stack's pass stops at its last output step
(an output cannot depend on a later input). Samples do not mix in eval mode (layer
normalisation is per step and sample), so each copy's gradient is its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from designer.inside.credit import credit_rows, is_causal, rows_per_pass, scored_steps
from designer.inside.probes import probe_batch, trace
from designer.tasks import Task
from designer.training.model import RecurrentStack

MAX_OUTPUT_STEPS = 50  # output steps computed, at most (evenly spaced, the last included)
SHOWN_SAMPLES = 4  # samples of the probe batch whose influence is computed


@dataclass
class Influence:
    """influence[s][i][k] = ||dy_t/dx_k|| for shown sample s, output step
    t = output_steps[i], input step k."""

    output_steps: list[int]
    influence: list[list[list[float]]]
    x: torch.Tensor  # (S, T) token ids or (S, T, F) features: the samples' inputs
    per_step: bool
    regression: bool  # y_t is the whole output vector (else: the chosen class's logit)
    passes: int  # backward passes it took
    seconds: float

    def row(self, sample: int, step: int) -> list[float]:
        """The influence of every input step on the output at `step`."""
        return self.influence[sample][self.output_steps.index(step)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "output_steps": self.output_steps,
            "input_influence": self.influence,
            "x": self.x.tolist(),
            "per_step": self.per_step,
            "output": "vector" if self.regression else "chosen class logit",
            "passes": self.passes,
            "seconds": self.seconds,
        }


def output_steps(task: Task, y: torch.Tensor, max_steps: int = MAX_OUTPUT_STEPS) -> list[int]:
    """The output steps whose influence is computed: those the task scores (the copy
    task's last steps only), every one if they fit, else evenly spaced ones ending at
    the last; just the last step for a task scored there only."""
    return credit_rows(task.seq_len, task.per_step, max_steps, scored_steps(y, task.per_step))


def input_influence(
    model: RecurrentStack,
    task: Task,
    seed: int = 0,
    samples: int = SHOWN_SAMPLES,
    max_steps: int = MAX_OUTPUT_STEPS,
    progress: Callable[[float], None] | None = None,
) -> Influence:
    """||dy_t/dx_k|| for the first `samples` sequences of the probe batch (the same
    sequences the probe and the credit matrix read), every computed output step t
    and every input step k. `progress` is told the share done after each pass."""
    start = time.perf_counter()
    x, y = probe_batch(model, task, seed)
    x, y = x[:samples], y[:samples]
    S, T = x.shape[0], task.seq_len
    steps = output_steps(task, y, max_steps)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            pred = trace(model, x).pred  # (S, T, out) or (S, out)
        regression = task.kind == "regression"
        units = pred.shape[-1] if regression else 1  # pushes per output step
        # each push is a copy of the samples: as many as the credit matrix's budget allows
        per_pass = max(1, rows_per_pass(model, S * units, T))
        causal = is_causal(model)
        squares = torch.zeros(len(steps), S, T, dtype=torch.float64)
        passes = 0
        with torch.enable_grad():
            for first in range(0, len(steps), per_pass):
                chunk = steps[first : first + per_pass]
                length = chunk[-1] + 1 if causal else T
                n = len(chunk) * units
                copies = x[:, :length].repeat(n, *[1] * (x.dim() - 1))
                run = trace(model, copies)
                v = torch.zeros_like(run.pred)
                for i, t in enumerate(chunk):
                    for r in range(units):
                        rows = slice((i * units + r) * S, (i * units + r + 1) * S)
                        at = v[rows, t] if task.per_step else v[rows]  # (S, out)
                        if regression:
                            at[:, r] = 1.0
                        else:
                            out = pred[:, t] if task.per_step else pred
                            at[torch.arange(S), out.argmax(-1)] = 1.0
                (grad,) = torch.autograd.grad(run.pred, run.inputs, v)  # (n*S, length, F)
                square = grad.detach().double().pow(2).sum(-1).reshape(len(chunk), units, S, -1)
                squares[first : first + len(chunk), :, :length] = square.sum(1).cpu()
                passes += 1
                if progress is not None:
                    progress(min(1.0, (first + len(chunk)) / len(steps)))
    finally:
        model.train(was_training)
    norms = squares.sqrt()  # (steps, S, T)
    table = [[norms[i, s].tolist() for i in range(len(steps))] for s in range(S)]
    return Influence(
        steps, table, x.cpu(), task.per_step, regression, passes, time.perf_counter() - start
    )
