"""Where the gradient at a time step comes from, and how it got there.

The probe gives the total dL/dh_k of each layer at each step k. Two finer views,
both exact (autograd on the probe's step-by-step graph, designer.inside.probes.trace):

The credit matrix. The loss is a sum over the steps it scores, L = sum_t L_t (each
L_t depends on the prediction at step t alone: a mean squared error or a
cross-entropy is a sum over steps, divided by a count). Its entry credit[t][k] =
||dL_t/dh_k|| says how much the loss at step t asks of the state at step k: the
whole of backpropagation through time, one loss step at a time. A causal stack has
zeros above the diagonal (a state cannot change an earlier prediction); a
bidirectional layer has both sides. A task scored at its last step only has one
row, t = T - 1; a step with no loss (the copy task's first steps) has no row (None:
its L_t is zero).

    g = dL/dpred                       (B, T, out)    one backward pass
    v_t = g with every step but t zeroed                 (the part of L that is L_t)
    dL_t/dh_k = v_t pushed back through pred to h_k     one backward pass per row t

so the matrix costs one backward pass of the probe batch per loss step. Rows are
capped at MAX_CREDIT_ROWS (a longer sequence gets evenly spaced rows among the
scored steps, the last one always among them; the others are None). Several rows
share one pass: the batch is repeated, one copy per row, and each copy is pushed
back from its own loss step (a
small model's step-by-step graph costs mostly per operation, so a pass over many
copies costs little more than over one). In a causal stack L_t does not depend on
the steps after t, so a pass stops at its last row: the matrix costs about half of T
backward passes.

The paths. dL/dh_k of a recurrent layer arrives by exactly three routes, and
autograd gives each one on its own when each route reads its own copy of h_k:
    time  - through the layer's own next step (h_(k+1), or h_(k-1) for the backward
            direction of a bidirectional layer; an LSTM's c_(k+1) too)
    up    - up through the layer directly above (or the output head)
    skip  - around the layer directly above, by its residual connection
and time + up + skip = dL/dh_k. Each entry is a mean over the probe batch of a norm,
and of each path's share: <path, total> / ||total||^2, so the shares of one step
add up to 1 (a share can be negative when a path pulls against the others).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from designer.i18n import _
from designer.inside.probes import probe_batch, trace
from designer.tasks import Task
from designer.tasks.base import IGNORE
from designer.training.model import Attention, Recurrent, RecurrentStack

MAX_CREDIT_ROWS = 50  # loss steps (backward passes) in one credit matrix, at most
CREDIT_ELEMENTS = 4_000_000  # values kept by one pass (kept_per_sequence x copies), at most
PATHS = ("time", "up", "skip")


def kept_per_sequence(model: RecurrentStack, seq_len: int) -> int:
    """About how many values the step-by-step graph keeps for one sequence: each
    recurrent layer's states and gates, each other layer's outputs, and an attention
    layer's T x T weights (which grow fastest with the sequence's length)."""
    width, total = model.input_width, 0
    for layer in model.layers:
        if isinstance(layer, Recurrent):
            width = layer.units
            total += 6 * width * seq_len  # h, c and the gates
        elif isinstance(layer, Attention):
            total += 5 * width * seq_len + 2 * seq_len * seq_len  # q, k, v, out; scores
        else:
            width = getattr(getattr(layer, "linear", None), "out_features", width)
            total += 2 * width * seq_len
    return max(1, total)


def rows_per_pass(model: RecurrentStack, batch: int, seq_len: int) -> int:
    """How many loss steps one pass takes: each needs its own copy of the batch (one
    backward pass of many copies costs little more than of one, as the step-by-step
    graph's cost is mostly per operation), within CREDIT_ELEMENTS of kept values."""
    copies = CREDIT_ELEMENTS // (batch * kept_per_sequence(model, seq_len))
    return max(1, min(MAX_CREDIT_ROWS, copies))


def is_causal(model: RecurrentStack) -> bool:
    """Whether the prediction at step t depends on steps up to t only: a stack scored
    at every step (its attention is then causal) with no bidirectional layer."""
    return model.per_step and not any(
        isinstance(layer, Recurrent) and layer.cell.bidirectional for layer in model.layers
    )


def credit_rows(
    seq_len: int,
    per_step: bool,
    max_rows: int = MAX_CREDIT_ROWS,
    scored: list[int] | None = None,
) -> list[int]:
    """The loss steps t a credit matrix computes: of the steps that carry a loss
    (`scored`, default all; the copy task scores only its last steps), every one if
    they fit, else `max_rows` evenly spaced ones ending at the last; just the last
    step for a task scored there only."""
    if not per_step:
        return [seq_len - 1]
    steps = list(range(seq_len)) if scored is None else sorted(scored)
    if len(steps) <= max_rows:
        return steps
    spacing = (len(steps) - 1) / (max_rows - 1)
    return sorted({steps[round(i * spacing)] for i in range(max_rows)})


def scored_steps(y: torch.Tensor, per_step: bool) -> list[int] | None:
    """The steps of the probe batch where some sequence has a target (class targets
    marked IGNORE are padding or unscored steps); None: every step."""
    if not per_step or y.is_floating_point() or y.dim() < 2:
        return None
    return (y != IGNORE).any(dim=0).nonzero().flatten().tolist()


@dataclass
class LayerCredit:
    index: int  # position in the spec's layer list
    type: str
    matrix: list[list[float] | None]  # credit[t][k] = ||dL_t/dh_k||; None: row not computed


@dataclass
class Credit:
    layers: list[LayerCredit]
    rows: list[int]  # the loss steps t computed
    seq_len: int
    per_step: bool  # False: the task scores the last step only (one row)
    batch: int  # sequences in the probe batch
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "per_step": self.per_step,
            "batch": self.batch,
            "seconds": self.seconds,
            "layers": [{"index": c.index, "type": c.type, "credit": c.matrix} for c in self.layers],
        }


def credit_matrix(
    model: RecurrentStack,
    task: Task,
    seed: int = 0,
    batch_size: int | None = None,
    max_rows: int = MAX_CREDIT_ROWS,
    progress: Callable[[float], None] | None = None,
) -> Credit:
    """||dL_t/dh_k|| for every recurrent layer (both directions together), loss step t
    and state step k: the mean over the probe batch of each sequence's norm.
    `progress` is told the share done after each pass (it takes seconds on a large
    stack)."""
    start = time.perf_counter()
    x, y = probe_batch(model, task, seed, batch_size)
    B, T = x.shape[0], task.seq_len
    rows = credit_rows(T, model.per_step, max_rows, scored_steps(y, model.per_step))
    per_pass = rows_per_pass(model, B, T)
    causal = is_causal(model)
    squares: list[torch.Tensor] = []  # per layer: (rows, B, T), sum of dL_t/dh_k ^ 2
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():  # dL/dpred needs the predictions only, not their graph
            pred = trace(model, x).pred.requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(task.loss(pred, y), pred)  # (B, T, out) or (B, out)
            for first in range(0, len(rows), per_pass):
                chunk = rows[first : first + per_pass]
                n = len(chunk)
                # A causal stack's L_t does not depend on the steps after t: the pass
                # runs only up to the chunk's last loss step.
                length = chunk[-1] + 1 if causal else T
                # n copies of the batch, one per loss step: copy i carries only L_(chunk[i])
                copies = x[:, :length].repeat(n, *[1] * (x.dim() - 1))
                run = trace(model, copies)
                v = torch.zeros_like(run.pred)
                for i, t in enumerate(chunk):
                    copy = slice(i * B, (i + 1) * B)
                    if model.per_step:
                        v[copy, t] = g[:, t]
                    else:
                        v[copy] = g  # the last step's loss is the whole loss
                states = [h for _, _, directions in run.recurrent for d in directions for h in d.h]
                grads = iter(torch.autograd.grad(run.pred, states, v, materialize_grads=True))
                for layer, (_, _, directions) in enumerate(run.recurrent):
                    if len(squares) <= layer:
                        squares.append(torch.zeros(len(rows), B, T, dtype=torch.float64))
                    for _ in directions:
                        for k in range(length):
                            value = next(grads).detach().double().reshape(n, B, -1)
                            squares[layer][first : first + n, :, k] += value.pow(2).sum(2).cpu()
                if progress is not None:
                    progress(min(1.0, (first + n) / len(rows)))
    finally:
        model.train(was_training)

    layers = []
    recurrent = [(i, layer) for i, layer in enumerate(model.layers) if isinstance(layer, Recurrent)]
    for (index, layer), square in zip(recurrent, squares, strict=True):
        norms = square.sqrt().mean(dim=1)  # (rows, T): mean over the batch
        matrix: list[list[float] | None] = [None] * T  # rows with no loss, or not computed
        for i, t in enumerate(rows):
            matrix[t] = norms[i].tolist()
        layers.append(LayerCredit(index, layer.spec.type, matrix))
    return Credit(layers, rows, T, model.per_step, B, time.perf_counter() - start)


@dataclass
class LayerPaths:
    """One recurrent layer's dL/dh_k divided by route. Tensors are (D, T, B, H) as in
    designer.inside.probes.LayerProbe; `total` is dL/dh_k itself."""

    index: int
    type: str
    total: torch.Tensor
    paths: dict[str, torch.Tensor]  # "time", "up", "skip" -> (D, T, B, H)
    residual_above: bool  # whether the layer directly above has a residual connection
    above: str  # what sits directly above, in words (the reader's language when made)

    def norms(self) -> dict[str, list[float]]:
        """Per path and for the total, the mean over the batch of ||.|| at each step
        (both directions together)."""
        out = {"total": _norm(self.total)}
        out.update({name: _norm(value) for name, value in self.paths.items()})
        return out

    def shares(self) -> dict[str, list[float]]:
        """Per path, the mean over the batch of <path, total> / ||total||^2 at each step:
        the shares of one step add up to 1."""
        total = self.total.double()
        denominator = total.pow(2).sum(dim=(0, 3))  # (T, B)
        safe = denominator.clamp_min(1e-300)
        out = {}
        for name, value in self.paths.items():
            dot = (value.double() * total).sum(dim=(0, 3))  # (T, B)
            share = torch.where(denominator > 0, dot / safe, torch.zeros_like(dot))
            out[name] = share.mean(dim=1).tolist()
        return out

    def mean_shares(self) -> dict[str, float]:
        """Each path's share of the layer's whole gradient, all steps and sequences
        together: sum <path, total> / sum ||total||^2 (these add up to 1 too). Steps
        with a large gradient weigh more, as they do in the weight update."""
        total = self.total.double()
        energy = float(total.pow(2).sum())
        if energy == 0:
            return {name: 0.0 for name in self.paths}
        return {
            name: float((value.double() * total).sum()) / energy
            for name, value in self.paths.items()
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "above": self.above,
            "norms": self.norms(),
            "shares": self.shares(),
            "overall": self.mean_shares(),
        }


def _norm(values: torch.Tensor) -> list[float]:
    return values.double().pow(2).sum(dim=(0, 3)).sqrt().mean(dim=1).tolist()  # (T,)


def _by_direction(values: torch.Tensor, D: int, H: int) -> torch.Tensor:
    """(B, T, D*H) -> (D, T, B, H), as the probe keeps its tensors."""
    return values.reshape(values.shape[0], values.shape[1], D, H).permute(2, 1, 0, 3)


def _describe(model: RecurrentStack, index: int) -> str:
    if index >= len(model.layers):
        return _("the output head")
    spec = model.layers[index].spec if hasattr(model.layers[index], "spec") else None
    kind = spec.type if spec is not None else type(model.layers[index]).__name__.lower()
    return _("layer {index} ({kind})").format(index=index, kind=kind)


def gradient_paths(
    model: RecurrentStack, task: Task, seed: int = 0, batch_size: int | None = None
) -> list[LayerPaths]:
    """dL/dh_k of every recurrent layer, divided into its three routes (see above)."""
    x, y = probe_batch(model, task, seed, batch_size)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            run = trace(model, x, split=True)
            loss = task.loss(run.pred, y)
            wanted: list[torch.Tensor] = []
            for index, _, directions in run.recurrent:
                for d in directions:
                    wanted += d.h + d.carried  # type: ignore[operator]
                wanted += [e for e in run.entries[index + 1] if e is not None]
            grads = iter(torch.autograd.grad(loss, wanted, materialize_grads=True))
    finally:
        model.train(was_training)

    result = []
    for index, layer, directions in run.recurrent:
        H, D = layer.cell.hidden_size, len(directions)
        total, through_time = [], []
        for _ in directions:
            T = task.seq_len
            total.append(torch.stack([next(grads) for _ in range(T)]))  # (T, B, H)
            through_time.append(torch.stack([next(grads) for _ in range(T)]))
        main, around = run.entries[index + 1]
        up = next(grads).detach()  # (B, T, D*H) gradient of the input of the layer above
        skip = next(grads).detach() if around is not None else torch.zeros_like(up)

        result.append(
            LayerPaths(
                index=index,
                type=layer.spec.type,
                total=torch.stack(total).detach(),
                paths={
                    "time": torch.stack(through_time).detach(),
                    "up": _by_direction(up, D, H),
                    "skip": _by_direction(skip, D, H),
                },
                residual_above=around is not None,
                above=_describe(model, index + 1),
            )
        )
    return result
