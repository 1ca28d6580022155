"""Experiment spec + task -> a plain PyTorch model, and its per-layer summary.

Every recurrent layer is one fused nn.RNN / nn.LSTM / nn.GRU (num_layers=1), so
training runs on PyTorch's own kernels. The stack reads bottom to top:

    x (B, T) ids or (B, T, F) features
      -> one-hot or embedding            (B, T, input width)
      -> layer 0 ... layer L-1           (B, T, width of each layer)
      -> last step only, if the task scores only the last step
      -> head: nn.Linear to the task's output size
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from designer.spec import (
    AttentionLayer,
    DropoutLayer,
    Experiment,
    GRULayer,
    LayerNormLayer,
    LinearLayer,
    LSTMLayer,
    ModelSpec,
    RNNLayer,
)
from designer.tasks import Task

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # weight blocks per recurrent cell
GATE_NAMES = {
    "rnn": (),
    "lstm": ("input", "forget", "cell", "output"),
    "gru": ("reset", "update", "new"),
}
ACTIVATIONS = {
    "none": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
}


# --- layers ------------------------------------------------------------------------
def _skip(in_width: int, out_width: int) -> nn.Module:
    """The residual path: the input itself, or a learned projection when widths differ."""
    return nn.Identity() if in_width == out_width else nn.Linear(in_width, out_width, bias=False)


class Recurrent(nn.Module):
    """One fused recurrent layer, with optional residual path and output dropout."""

    def __init__(self, spec: RNNLayer | LSTMLayer | GRULayer, in_width: int):
        super().__init__()
        self.spec = spec
        module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[spec.type]
        extra = {"nonlinearity": spec.nonlinearity} if spec.type == "rnn" else {}
        self.cell = module(
            in_width, spec.hidden_size, batch_first=True, bidirectional=spec.bidirectional, **extra
        )
        initialize(self.cell, spec)
        if spec.freeze:  # a fixed random reservoir, as in an echo state network
            self.cell.requires_grad_(False)
        self.skip = _skip(in_width, spec.width) if spec.residual else None
        self.dropout = nn.Dropout(spec.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.cell(x)  # (B, T, hidden_size * directions)
        out = self.dropout(out)
        if self.skip is not None:
            out = out + self.skip(x)
        return out


class PerStepLinear(nn.Module):
    """A dense layer applied at every time step (the same weights at each step)."""

    def __init__(self, spec: LinearLayer, in_width: int):
        super().__init__()
        self.spec = spec
        self.linear = nn.Linear(in_width, spec.out_features)
        self.activation = ACTIVATIONS[spec.activation]()
        self.skip = _skip(in_width, spec.out_features) if spec.residual else None
        self.dropout = nn.Dropout(spec.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout(self.activation(self.linear(x)))
        if self.skip is not None:
            out = out + self.skip(x)
        return out


class Attention(nn.Module):
    """Single-head scaled dot-product attention over time steps.

    Causal when the task predicts at every step: step t only sees steps <= t."""

    def __init__(self, spec: AttentionLayer, width: int, causal: bool):
        super().__init__()
        self.spec = spec
        self.causal = causal
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.out = nn.Linear(width, width)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, T, T): row t says where step t looks."""
        q, k = self.query(x), self.key(x)  # (B, T, D)
        scores = q @ k.transpose(1, 2) / math.sqrt(x.shape[-1])  # (B, T, T)
        if self.causal:
            T = x.shape[1]
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        return F.softmax(scores, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.out(self.weights(x) @ self.value(x))  # (B, T, D)
        return out + x if self.spec.residual else out


def make_layer(spec, in_width: int, causal: bool) -> nn.Module:
    """The torch module for one layer spec, given the width of its input."""
    if spec.type in GATES:
        return Recurrent(spec, in_width)
    if isinstance(spec, LinearLayer):
        return PerStepLinear(spec, in_width)
    if isinstance(spec, LayerNormLayer):
        return nn.LayerNorm(in_width)
    if isinstance(spec, DropoutLayer):
        return nn.Dropout(spec.p)
    if isinstance(spec, AttentionLayer):
        return Attention(spec, in_width, causal)
    raise ValueError(f"unknown layer type {spec.type!r}")


def output_width(spec, in_width: int) -> int:
    """Features per time step after a layer."""
    if spec.type in GATES:
        return spec.width
    if isinstance(spec, LinearLayer):
        return spec.out_features
    return in_width


# --- initialization ------------------------------------------------------------------
def initialize(cell: nn.RNNBase, spec) -> None:
    """Apply the spec's `init` and `forget_bias` to a fused recurrent module.

    PyTorch stacks the gates' weights in one matrix (LSTM: i, f, g, o; GRU: r, z, n),
    so each gate's (hidden x hidden) block is initialised on its own."""
    h = spec.hidden_size
    with torch.no_grad():
        for name, param in cell.named_parameters():
            blocks = param.split(h, dim=0)  # one block per gate
            if spec.init == "default":
                break
            if name.startswith("bias"):
                param.zero_()
            elif name.startswith("weight_hh"):
                for block in blocks:
                    if spec.init == "orthogonal":
                        nn.init.orthogonal_(block)
                    elif spec.init == "xavier":
                        nn.init.xavier_uniform_(block)
                    else:  # identity: the IRNN of Le et al. (2015)
                        block.copy_(torch.eye(h))
            elif name.startswith("weight_ih"):
                for block in blocks:
                    if spec.init == "identity":
                        nn.init.normal_(block, std=0.001)
                    else:
                        nn.init.xavier_uniform_(block)
        if getattr(spec, "forget_bias", None) is not None:
            for name, param in cell.named_parameters():
                if name.startswith("bias_ih"):
                    param[h : 2 * h] = spec.forget_bias
                elif name.startswith("bias_hh"):
                    param[h : 2 * h] = 0.0


# --- the whole model -----------------------------------------------------------------
class RecurrentStack(nn.Module):
    """The model an experiment describes: input encoding, the layer stack, the head."""

    def __init__(self, model_spec: ModelSpec, task: Task):
        super().__init__()
        self.per_step = task.per_step
        self.vocab_size = task.vocab_size
        self.embedding: nn.Embedding | None = None
        width = task.input_size
        if task.token_input and model_spec.embedding_dim:
            self.embedding = nn.Embedding(task.vocab_size, model_spec.embedding_dim, padding_idx=0)
            width = model_spec.embedding_dim
        self.input_width = width
        layers = []
        for spec in model_spec.layers:
            layers.append(make_layer(spec, width, causal=task.per_step))
            width = output_width(spec, width)
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(width, task.output_size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Token ids -> vectors (embedding or one-hot); features pass through."""
        if self.vocab_size is None:
            return x
        if self.embedding is not None:
            return self.embedding(x)
        return F.one_hot(x, self.vocab_size).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encode(x)  # (B, T, input width)
        for layer in self.layers:
            h = layer(h)  # (B, T, layer width)
        if not self.per_step:
            h = h[:, -1]  # (B, width): only the last step is scored
        return self.head(h)


def build_model(exp: Experiment, task: Task, seed: int | None = None) -> RecurrentStack:
    """The model for an experiment, initialised from `seed` (default: the
    experiment's training seed) without disturbing the global random state."""
    seed = exp.train.seed if seed is None else seed
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RecurrentStack(exp.model, task)


# --- summary -------------------------------------------------------------------------
@dataclass
class LayerSummary:
    index: int | None  # position in the spec's layer list; None for input and head
    type: str
    description: str
    output_shape: str
    trainable: int
    frozen: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> int:
        return self.trainable + self.frozen

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "type": self.type,
            "description": self.description,
            "output_shape": self.output_shape,
            "parameters": self.parameters,
            "trainable": self.trainable,
            "frozen": self.frozen,
            "notes": self.notes,
        }


@dataclass
class Summary:
    rows: list[LayerSummary]

    @property
    def trainable(self) -> int:
        return sum(r.trainable for r in self.rows)

    @property
    def frozen(self) -> int:
        return sum(r.frozen for r in self.rows)

    @property
    def total(self) -> int:
        return self.trainable + self.frozen

    def to_dict(self) -> dict:
        return {
            "layers": [r.to_dict() for r in self.rows],
            "trainable": self.trainable,
            "frozen": self.frozen,
            "total": self.total,
        }


def _shape(task: Task, width: int, per_step: bool = True) -> str:
    return f"(B, {task.seq_len}, {width})" if per_step else f"(B, {width})"


def _describe(spec) -> str:
    if spec.type in GATES:
        flags = [f"{spec.hidden_size} units"]
        flags += ["bidirectional"] * spec.bidirectional + ["residual"] * spec.residual
        flags += ["frozen"] * spec.freeze
        if spec.type == "rnn":
            flags.append(spec.nonlinearity)
        if spec.dropout:
            flags.append(f"dropout {spec.dropout:g}")
        if spec.init != "default":
            flags.append(f"{spec.init} init")
        if getattr(spec, "forget_bias", None) is not None:
            flags.append(f"forget bias {spec.forget_bias:g}")
        return ", ".join(flags)
    if isinstance(spec, LinearLayer):
        flags = [f"{spec.out_features} units", spec.activation]
        flags += ["residual"] * spec.residual
        if spec.dropout:
            flags.append(f"dropout {spec.dropout:g}")
        return ", ".join(flags)
    if isinstance(spec, DropoutLayer):
        return f"p = {spec.p:g}"
    if isinstance(spec, AttentionLayer):
        return "single head" + (", residual" if spec.residual else "")
    return "per time step"


def summarize(exp: Experiment | ModelSpec, task: Task) -> Summary:
    """Per layer: output shape and parameter count, computed from the spec alone
    (no model is built), so it is instant even for the largest allowed stack. The
    counts follow PyTorch's own layouts; a unit test checks them against it."""
    model_spec = exp.model if isinstance(exp, Experiment) else exp
    rows = []
    width = task.input_size
    if task.token_input:
        if model_spec.embedding_dim:
            width = model_spec.embedding_dim
            rows.append(
                LayerSummary(
                    None,
                    "embedding",
                    f"{task.vocab_size} tokens -> {width}",
                    _shape(task, width),
                    task.vocab_size * width,
                )
            )
        else:
            rows.append(
                LayerSummary(None, "input", f"one-hot of {width} tokens", _shape(task, width), 0)
            )
    else:
        rows.append(
            LayerSummary(None, "input", f"{width} features per step", _shape(task, width), 0)
        )
    for index, spec in enumerate(model_spec.layers):
        out = output_width(spec, width)
        trainable, frozen, notes = 0, 0, []
        if spec.type in GATES:
            directions = 2 if spec.bidirectional else 1
            h = spec.hidden_size
            # per direction: W_ih (gates*h, in), W_hh (gates*h, h), b_ih and b_hh (gates*h)
            cell = directions * GATES[spec.type] * (h * width + h * h + 2 * h)
            if spec.freeze:
                frozen += cell
            else:
                trainable += cell
        elif isinstance(spec, LinearLayer):
            trainable += width * out + out
        elif isinstance(spec, LayerNormLayer):
            trainable += 2 * width
        elif isinstance(spec, AttentionLayer):
            trainable += 4 * (width * width + width)  # query, key, value, output
        if (
            getattr(spec, "residual", False)
            and width != out
            and not isinstance(spec, AttentionLayer)
        ):
            trainable += width * out
            notes.append(f"residual projection {width}->{out}: {width * out:,} parameters")
        rows.append(
            LayerSummary(
                index, spec.type, _describe(spec), _shape(task, out), trainable, frozen, notes
            )
        )
        width = out
    head = width * task.output_size + task.output_size
    kind = "per step" if task.per_step else "last step"
    rows.append(
        LayerSummary(
            None,
            "head",
            f"linear {width}->{task.output_size}, {kind}, {task.kind}",
            _shape(task, task.output_size, task.per_step),
            head,
        )
    )
    return Summary(rows)


def count_parameters(model_spec: ModelSpec, task: Task) -> int:
    """Total parameters of the model a spec describes, without building it."""
    return summarize(model_spec, task).total
