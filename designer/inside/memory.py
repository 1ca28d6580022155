"""Memory capacity: how far back each recurrent layer's state still holds the input.

The memory curve of an echo state network (Jaeger 2001): for each delay k, fit a
linear read-out that recovers the input x_(t-k) from the layer's state h_t, and score
how well it does. A layer that forgets quickly scores well at k = 1 and near nothing
a few steps later; a layer with long memory keeps a high score far back. The sum of
the scores over k is the layer's memory capacity, MC = sum_k R²_k: at most the number
of units for a linear reservoir driven by i.i.d. input.

Why a linear read-out: it asks what the state holds in plain view, the way the next
layer or the head (both linear in h_t) can use it. It is fitted in closed form (ridge
regression in float64, as designer.training.trainer.fit_readout fits an echo state network's
head), so no training is needed and a whole curve costs a few matrix products.

Why held-out scoring: a wide layer fitted on few rows can fit anything, even noise,
to an R² near 1. So the read-out is fitted on the first half of the sequences and
scored on the other half, which it never saw.

    states  (N, T, H)   h_t of every sequence n and step t (H: units, both directions)
    inputs  (N, T, F)   features, or (N, T) token ids
    row (n, t) at delay k pairs h_t with x_(t-k), for t >= k

Scores: for features, R² = 1 - SSE/SST pooled over the F input features on the
held-out rows, clamped at 0 as the classic memory capacity does (a read-out worse
than the held-out mean knows nothing about x_(t-k)). For token ids, the accuracy of
the largest output of a ridge read-out onto one-hot tokens; chance is the held-out
frequency of the most common token. Padding (id 0) is never a target.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F

from designer.i18n import _
from designer.tasks import Task
from designer.training.model import Recurrent, RecurrentStack, leaky_rnn, set_spectral_radius

RIDGE = 1e-6  # relative to the states' mean variance, so the scores ignore their scale
MAX_DELAY = 30  # the longest delay k of a default curve (at most T - 1)
MAX_ROWS = 4_096  # sequences x steps of the batch: bounds the cost of each fit
MIN_SEQUENCES, MAX_SEQUENCES = 8, 256  # half fits the read-out, half scores it
SWEEP_RADII = (0.5, 0.8, 0.9, 0.95, 1.0, 1.05, 1.2, 1.5)
MAX_RADII = 16

Kind = Literal["features", "tokens"]


@dataclass
class MemoryCurve:
    """One layer's memory: scores[i] is how well x_(t-k) is read from h_t, k = delays[i]."""

    delays: list[int]
    scores: list[float]  # R² (features) or accuracy (tokens), on held-out sequences
    kind: Kind
    chance: float  # what knowing nothing scores: 0 for R², the majority token's share
    layer_index: int | None = None  # position in the spec's layer list
    layer_type: str = ""
    sequences: int = 0  # in the batch: half fit the read-out, half score it
    seconds: float = 0.0  # what this curve cost (its share of the forward pass included)

    @property
    def total(self) -> float:
        """The memory capacity: sum over k of R²_k for features. For tokens, the sum of
        the accuracy above chance, as a share of what is above chance, (acc - chance) /
        (1 - chance) clamped at 0: how many steps' worth of tokens the state holds.
        NaN when the states blew up (a radius far past 1)."""
        if self.kind == "features":
            return float(sum(self.scores))
        room = max(1.0 - self.chance, 1e-12)
        return float(sum(max(0.0, (s - self.chance) / room) for s in self.scores))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


# --- hidden states --------------------------------------------------------------------------
@contextmanager
def _evaluating(model: torch.nn.Module) -> Iterator[None]:
    """Dropout off and no autograd graph while inside; the model's mode restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def cell_states(layer: Recurrent, x: torch.Tensor) -> torch.Tensor:
    """The layer's hidden states h_t, (B, T, D*H): its cell's output for input x (B, T,
    in), before dropout and before the residual skip is added."""
    if layer.spec.leak_rate < 1.0:  # a leaky rnn is stepped through time (see model.py)
        return leaky_rnn(layer.cell, x, layer.spec.leak_rate)
    out, _last = layer.cell(x)  # (B, T, D*H)
    return out


def layer_states(model: RecurrentStack, x: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
    """(layer index, hidden states (B, T, D*H)) of each recurrent layer for the batch x,
    in eval mode (dropout off), without gradients; the layers above the last recurrent
    one are not run."""
    recurrent = [i for i, layer in enumerate(model.layers) if isinstance(layer, Recurrent)]
    kept = []
    with _evaluating(model):
        h = model.encode(x)  # (B, T, input width)
        for index, layer in enumerate(model.layers[: recurrent[-1] + 1] if recurrent else []):
            if isinstance(layer, Recurrent):
                states = cell_states(layer, h)  # (B, T, D*H)
                kept.append((index, states))
                # what the layer passes up (as its forward does; dropout is off in eval)
                h = states if layer.skip is None else states + layer.skip(h)
            else:
                h = layer(h)
    return kept


# --- one curve, from states and inputs ---------------------------------------------------------
def ridge_fit(
    features: torch.Tensor, targets: torch.Tensor, ridge: float = RIDGE
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ridge regression of targets (n, F) on features (n, H), with a bias that is
    not shrunk, in closed form: (weight (H, F), bias (F,)). Centring both sides first is
    the same as a column of ones whose penalty is 0. The penalty is `ridge` times the
    features' mean variance, so that the fit, and every score, ignores their scale."""
    mean_h, mean_y = features.mean(0), targets.mean(0)
    hc, yc = features - mean_h, targets - mean_y  # (n, H), (n, F)
    gram = hc.T @ hc  # (H, H)
    scale = gram.diagonal().mean()
    if scale == 0:  # constant states: nothing to read, the read-out is the mean
        weight = features.new_zeros(features.shape[1], targets.shape[1])
    else:
        eye = torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
        weight = torch.linalg.solve(gram + ridge * scale * eye, hc.T @ yc)  # (H, F)
    return weight, mean_y - mean_h @ weight


def _score(pred: torch.Tensor, truth: torch.Tensor, kind: Kind) -> float:
    """R² pooled over the columns, clamped at 0 (features); accuracy (tokens)."""
    if len(truth) == 0:
        return float("nan")
    if kind == "tokens":
        return float((pred.argmax(1) == truth.argmax(1)).double().mean())
    sse = (truth - pred).pow(2).sum()
    sst = (truth - truth.mean(0)).pow(2).sum()
    if sst == 0:  # a constant input: nothing to recover
        return 0.0
    return max(0.0, float(1 - sse / sst))


def memory_curve(
    states: torch.Tensor,
    inputs: torch.Tensor,
    max_delay: int,
    ridge: float = RIDGE,
    kind: Kind = "features",
    vocab: int | None = None,
    layer_index: int | None = None,
) -> MemoryCurve:
    """For k = 1..max_delay, how well a linear read-out of h_t recovers x_(t-k): fitted
    on the first half of the sequences, scored on the rest (see the module's docstring).

    states (N, T, H); inputs (N, T, F) features, or (N, T) token ids in [0, vocab) with
    0 the padding (kind="tokens"). States that are not finite score NaN."""
    N, T, _units = states.shape
    if kind not in ("features", "tokens"):
        raise ValueError(f"kind must be 'features' or 'tokens', got {kind!r}")
    if tuple(inputs.shape[:2]) != (N, T):
        raise ValueError(f"inputs {tuple(inputs.shape)} do not match states {tuple(states.shape)}")
    if N < 2:
        raise ValueError(_("a memory curve needs 2 sequences or more: half fit, half score"))
    if not 1 <= max_delay <= T - 1:
        raise ValueError(
            _("the delay must be between 1 and {last} steps, got {delay}").format(
                last=T - 1, delay=max_delay
            )
        )
    states = states.detach().double().cpu()
    fit, held = slice(0, N // 2), slice(N // 2, N)

    # the targets, one row per (sequence, step), and which rows have one
    if kind == "tokens":
        ids = inputs.detach().long().cpu()  # (N, T)
        vocab = vocab or int(ids.max()) + 1
        keep = ids != 0  # padding is never a target
        targets = F.one_hot((ids - 1).clamp_min(0), vocab - 1).double()  # (N, T, V-1)
        seen = ids[held][keep[held]]
        counts = torch.bincount(seen, minlength=vocab)
        chance = float(counts.max() / counts.sum()) if len(seen) else float("nan")
    else:
        targets = inputs.detach().double().cpu()
        targets = targets[..., None] if targets.dim() == 2 else targets  # (N, T, F)
        keep = torch.ones(N, T, dtype=torch.bool)
        chance = 0.0

    delays = list(range(1, max_delay + 1))
    if not torch.isfinite(states).all():  # the states blew up: nothing to fit
        nan = [float("nan")] * max_delay
        return MemoryCurve(delays, nan, kind, chance, layer_index=layer_index, sequences=N)
    scores = []
    for k in delays:
        h_now = states[:, k:]  # (N, T-k, H): h_t for t >= k
        x_then = targets[:, : T - k]  # (N, T-k, F): x_(t-k), the input k steps earlier
        has = keep[:, : T - k]  # (N, T-k)
        rows_fit = has[fit]  # boolean indexing flattens (sequence, step) to rows
        if not rows_fit.any():
            scores.append(float("nan"))
            continue
        weight, bias = ridge_fit(h_now[fit][rows_fit], x_then[fit][rows_fit], ridge)
        rows_held = has[held]
        pred = h_now[held][rows_held] @ weight + bias  # (rows, F)
        scores.append(_score(pred, x_then[held][rows_held], kind))
    return MemoryCurve(delays, scores, kind, chance, layer_index=layer_index, sequences=N)


# --- a model on a task ----------------------------------------------------------------------
def default_sequences(seq_len: int) -> int:
    """Enough sequences for about MAX_ROWS rows, at least MIN_SEQUENCES (short tasks
    get more sequences, so their long delays still have rows to fit)."""
    return max(MIN_SEQUENCES, min(MAX_SEQUENCES, MAX_ROWS // seq_len))


def default_max_delay(seq_len: int) -> int:
    return max(1, min(MAX_DELAY, seq_len - 1))


NOISE_SEED = 77_777  # the random inputs never share a seed with the task's batches


def random_inputs(x: torch.Tensor, token_input: bool, seed: int) -> torch.Tensor:
    """Inputs like `x` but with every step drawn afresh and independently: the classic
    memory capacity's input. A task's own sequences are often predictable from their
    past (a smooth wave), so a read-out recalls x(t-k) from the recent inputs alone and
    every layer seems to remember; random steps leave only what the state kept.
    Features keep each channel's mean and spread; tokens are drawn uniformly from the
    tokens the batch uses (never the padding id 0)."""
    generator = torch.Generator().manual_seed(NOISE_SEED + seed)
    if token_input:
        seen = torch.unique(x[x != 0]) if (x != 0).any() else torch.unique(x)
        picks = torch.randint(len(seen), x.shape, generator=generator)
        return seen[picks]
    mean = x.float().mean(dim=(0, 1))  # (F,)
    spread = x.float().std(dim=(0, 1)).clamp_min(1e-6)
    return mean + spread * torch.randn(x.shape, generator=generator)


def _memory_batch(
    task: Task, max_delay: int | None, sequences: int | None, seed: int, noise: bool = False
) -> tuple[torch.Tensor, int, Kind]:
    """The fixed validation batch the curves are measured on (or random inputs of its
    scale, with `noise`), the delay and the kind."""
    n = sequences or default_sequences(task.seq_len)
    x, _targets = task.batch(n, seed, split="val")  # (N, T) ids or (N, T, F)
    if noise:
        x = random_inputs(x, task.token_input, seed)
    T = x.shape[1]
    if T < 2:
        raise ValueError(_("a memory curve needs sequences of 2 steps or more"))
    K = default_max_delay(T) if max_delay is None else max_delay
    return x, K, "tokens" if task.token_input else "features"


def _on_model(model: RecurrentStack, x: torch.Tensor) -> torch.Tensor:
    """x on the model's device; real values in its precision (token ids as they are)."""
    weight = model.head.weight
    return x.to(weight.device, weight.dtype if x.is_floating_point() else x.dtype)


def memory_capacity(
    model: RecurrentStack,
    task: Task,
    max_delay: int | None = None,
    sequences: int | None = None,
    seed: int = 0,
    noise: bool = False,
) -> list[MemoryCurve]:
    """One memory curve per recurrent layer (none for a stack without one), of the
    task's raw input (token ids or features) on a fixed validation batch: `sequences`
    of them (default: about MAX_ROWS rows), delays 1..max_delay (default min(30, T-1)).
    With `noise`, of random inputs of the same scale instead (see random_inputs)."""
    start = time.perf_counter()
    x, K, kind = _memory_batch(task, max_delay, sequences, seed, noise)
    kept = layer_states(model, _on_model(model, x))
    forward = (time.perf_counter() - start) / max(len(kept), 1)  # each layer's share
    curves = []
    for index, states in kept:
        begun = time.perf_counter()
        curve = memory_curve(states, x, K, kind=kind, vocab=task.vocab_size, layer_index=index)
        curve.layer_type = model.layers[index].spec.type
        curve.seconds = forward + time.perf_counter() - begun
        curves.append(curve)
    return curves


def memory_sweep(
    model: RecurrentStack,
    task: Task,
    layer_index: int,
    radii: Sequence[float] = SWEEP_RADII,
    max_delay: int | None = None,
    sequences: int | None = None,
    seed: int = 0,
    noise: bool = False,
) -> list[tuple[float, MemoryCurve]]:
    """(radius, memory curve) of one recurrent layer with each gate's recurrent weight
    block rescaled to that spectral radius (a copy: the model is left as it is). The
    layers below are run once, and the read-out is refitted in closed form for each
    radius, so nothing is retrained: memory grows as the radius nears 1, then breaks
    down past it. Each curve's `seconds` includes its share of running the layers below."""
    layer = model.layers[layer_index]
    if not isinstance(layer, Recurrent):
        raise ValueError(_("layer {index} is not a recurrent layer").format(index=layer_index))
    if not 1 <= len(radii) <= MAX_RADII:
        raise ValueError(
            _("a sweep takes 1 to {most} radii, got {n}").format(most=MAX_RADII, n=len(radii))
        )
    start = time.perf_counter()
    x, K, kind = _memory_batch(task, max_delay, sequences, seed, noise)
    with _evaluating(model):
        h = model.encode(_on_model(model, x))  # (N, T, input width)
        for below in model.layers[:layer_index]:
            h = below(h)  # the layer's input: the same for every radius
    shared = (time.perf_counter() - start) / len(radii)
    sweep = []
    for radius in radii:
        begun = time.perf_counter()
        rescaled = copy.deepcopy(layer)
        set_spectral_radius(rescaled.cell, float(radius))
        with _evaluating(rescaled):
            states = cell_states(rescaled, h)  # (N, T, D*H)
        curve = memory_curve(
            states, x, K, kind=kind, vocab=task.vocab_size, layer_index=layer_index
        )
        curve.layer_type = layer.spec.type
        curve.seconds = shared + time.perf_counter() - begun
        sweep.append((float(radius), curve))
    return sweep
