"""Experiment spec + task -> a plain PyTorch model (its per-layer shapes and
parameter counts, computed without torch, are in designer.document.summary).

Every recurrent layer is one fused nn.RNN / nn.LSTM / nn.GRU (num_layers=1), so
training runs on PyTorch's own kernels. The stack reads bottom to top:

    x (B, T) ids or (B, T, F) features
      -> one-hot or embedding            (B, T, input width)
      -> layer 0 ... layer L-1           (B, T, width of each layer)
      -> last step only, if the task scores only the last step
      -> head: nn.Linear to the task's output size
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from designer.document.spec import (
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
from designer.document.summary import GATES, output_width
from designer.export import layers
from designer.export.layers import leaky_rnn
from designer.tasks import Task

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


class Residual(nn.Module):
    """A layer with an optional residual path: its `transform` of the input, plus the
    input through `skip` (itself, or a projection) when the layer has one."""

    skip: nn.Module | None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.transform(x)
        if self.skip is not None:
            out = out + self.skip(x)
        return out


class Recurrent(Residual):
    """One fused recurrent layer, with optional residual path and output dropout (a
    leaky rnn, leak_rate < 1, is stepped through time with the fused module's weights)."""

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
        self.skip = _skip(in_width, output_width(spec, in_width)) if spec.residual else None
        self.dropout = nn.Dropout(spec.dropout)

    @property
    def units(self) -> int:
        """The width of its output: hidden_size per direction."""
        return output_width(self.spec, self.cell.input_size)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The layer without its residual path: (B, T, in) -> (B, T, hidden_size * directions)."""
        if self.spec.leak_rate < 1.0:  # a leaky rnn: stepped through time, same weights
            out = leaky_rnn(self.cell, x, self.spec.leak_rate)
        else:
            out, _ = self.cell(x)
        return self.dropout(out)


class PerStepLinear(Residual):
    """A dense layer applied at every time step (the same weights at each step)."""

    def __init__(self, spec: LinearLayer, in_width: int):
        super().__init__()
        self.spec = spec
        self.linear = nn.Linear(in_width, spec.out_features)
        self.activation = ACTIVATIONS[spec.activation]()
        self.skip = _skip(in_width, spec.out_features) if spec.residual else None
        self.dropout = nn.Dropout(spec.dropout)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The layer without its residual path."""
        return self.dropout(self.activation(self.linear(x)))


class Attention(layers.Attention):
    """The attention layer of designer.export.layers (its one home: the exported model
    is built from the same lines), built from its spec, which it keeps as the other
    layers keep theirs."""

    def __init__(self, spec: AttentionLayer, width: int, causal: bool):
        super().__init__(width, causal, residual=spec.residual)
        self.spec = spec


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


# --- initialization ------------------------------------------------------------------
def initialize(cell: nn.RNNBase, spec) -> None:
    """Apply the spec's `init`, `forget_bias`, `gain`, `spectral_radius` and
    `input_scaling` to a fused recurrent module, in that order.

    PyTorch stacks the gates' weights in one matrix (LSTM: i, f, g, o; GRU: r, z, n),
    so each gate's (hidden x hidden) block is initialised, and rescaled, on its own."""
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
        if spec.gain != 1.0:  # scale the recurrence: the signal grows or fades through time
            for name, param in cell.named_parameters():
                if name.startswith("weight_hh"):
                    param.mul_(spec.gain)
        if spec.spectral_radius is not None:  # an echo state network's reservoir scale
            set_spectral_radius(cell, spec.spectral_radius)
        if spec.input_scaling != 1.0:  # how hard the input drives the layer
            for name, param in cell.named_parameters():
                if name.startswith("weight_ih"):
                    param.mul_(spec.input_scaling)


def set_spectral_radius(cell: nn.RNNBase, radius: float) -> None:
    """Rescale each gate's (H, H) block of the fused cell's recurrent weights (both
    directions) so that its largest |eigenvalue| is `radius`: the scale of an echo
    state network's reservoir, below 1 for fading memory. The eigenvalues are taken in
    float64, so tiny weights (a tiny gain) stay exact; an all-zero block is left as is."""
    h = cell.hidden_size
    with torch.no_grad():
        for name, param in cell.named_parameters():
            if name.startswith("weight_hh"):
                for block in param.split(h, dim=0):  # (H, H), one per gate
                    exact = block.double()
                    current = torch.linalg.eigvals(exact).abs().max()
                    if current > 0:  # an all-zero block has no scale to set
                        block.copy_(exact * (radius / current))


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
