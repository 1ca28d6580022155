"""The layer classes of the exported model (designer.export.codegen.module_code copies them,
as they are here, into the code it writes). Real Python, so that ruff checks them and
a test imports and runs them: the exported model is built from these very lines.
The app's own model (designer.training.model) uses two of them as they are: the
attention layer and leaky_rnn, which have no other home.

designer.export.codegen cuts two things out of Recurrent where no layer of a stack uses them:
the call to `initialize`, and the leak rate (see codegen._recurrent_class)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Recurrent(nn.Module):
    """One recurrent layer: a fused nn.RNN, nn.LSTM or nn.GRU run over the whole
    sequence, dropout on its output, and an optional residual path (the input added
    to the output, through a learned projection when their widths differ)."""

    def __init__(
        self,
        kind,
        in_width,
        hidden_size,
        bidirectional=False,
        residual=False,
        dropout=0.0,
        freeze=False,
        init="default",
        forget_bias=None,
        nonlinearity="tanh",
        gain=1.0,
        spectral_radius=None,
        input_scaling=1.0,
        leak_rate=1.0,
    ):
        super().__init__()
        module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
        self.cell = module(
            in_width, hidden_size, batch_first=True, bidirectional=bidirectional, **extra
        )
        initialize(self.cell, hidden_size, init, forget_bias, gain, spectral_radius, input_scaling)
        if freeze:  # a fixed random reservoir, as in an echo state network
            self.cell.requires_grad_(False)
        out_width = hidden_size * (2 if bidirectional else 1)
        self.skip = None
        if residual:
            same = in_width == out_width
            self.skip = nn.Identity() if same else nn.Linear(in_width, out_width, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.leak_rate = leak_rate  # rnn only: below 1, a leaky integrator (see leaky_rnn)

    def forward(self, x):  # x: (B, T, in_width)
        if self.leak_rate < 1.0:  # a leaky rnn: stepped through time, with the same weights
            out = leaky_rnn(self.cell, x, self.leak_rate)  # (B, T, hidden_size * directions)
        else:
            out, _ = self.cell(x)  # (B, T, hidden_size * directions)
        out = self.dropout(out)
        if self.skip is not None:
            out = out + self.skip(x)
        return out


def initialize(
    cell,
    hidden_size,
    init="default",
    forget_bias=None,
    gain=1.0,
    spectral_radius=None,
    input_scaling=1.0,
):
    """The layer's initial weights. PyTorch stacks the gates' weights in one matrix
    (LSTM: input, forget, cell, output; GRU: reset, update, new), so each gate's
    block is initialised, and rescaled, on its own."""
    h = hidden_size
    with torch.no_grad():
        for name, param in cell.named_parameters():
            blocks = param.split(h, dim=0)  # one block per gate
            if init == "default":  # PyTorch's own
                break
            if name.startswith("bias"):
                param.zero_()
            elif name.startswith("weight_hh"):
                for block in blocks:
                    if init == "orthogonal":
                        nn.init.orthogonal_(block)
                    elif init == "xavier":
                        nn.init.xavier_uniform_(block)
                    else:  # identity: the IRNN of Le et al. (2015)
                        block.copy_(torch.eye(h))
            elif name.startswith("weight_ih"):
                for block in blocks:
                    if init == "identity":
                        nn.init.normal_(block, std=0.001)
                    else:
                        nn.init.xavier_uniform_(block)
        if forget_bias is not None:  # the forget gate's total bias (Jozefowicz et al. 2015)
            for name, param in cell.named_parameters():
                if name.startswith("bias_ih"):
                    param[h : 2 * h] = forget_bias
                elif name.startswith("bias_hh"):
                    param[h : 2 * h] = 0.0
        if gain != 1.0:  # the recurrent weights scaled: the signal grows or fades in time
            for name, param in cell.named_parameters():
                if name.startswith("weight_hh"):
                    param.mul_(gain)
        if spectral_radius is not None:  # an echo state network's reservoir (Jaeger 2001)
            for name, param in cell.named_parameters():
                if name.startswith("weight_hh"):
                    for block in param.split(h, dim=0):  # one per gate, (H, H)
                        # its spectral radius (largest |eigenvalue|) set to spectral_radius
                        exact = block.double()
                        radius = torch.linalg.eigvals(exact).abs().max()
                        if radius > 0:
                            block.copy_(exact * (spectral_radius / radius))
        if input_scaling != 1.0:  # how hard the input drives the layer
            for name, param in cell.named_parameters():
                if name.startswith("weight_ih"):
                    param.mul_(input_scaling)


class PerStepLinear(nn.Module):
    """A dense layer applied at every time step (the same weights at each step),
    with an activation, dropout and an optional residual path."""

    def __init__(self, in_width, out_features, activation, residual=False, dropout=0.0):
        super().__init__()
        self.linear = nn.Linear(in_width, out_features)
        self.activation = activation
        self.skip = None
        if residual:
            same = in_width == out_features
            self.skip = nn.Identity() if same else nn.Linear(in_width, out_features, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):  # x: (B, T, in_width)
        out = self.dropout(self.activation(self.linear(x)))  # (B, T, out_features)
        if self.skip is not None:
            out = out + self.skip(x)
        return out


class Attention(nn.Module):
    """Single-head scaled dot-product attention over the time steps. Causal when the
    task predicts at every step: step t looks only at steps up to t."""

    def __init__(self, width, causal, residual=False):
        super().__init__()
        self.causal = causal
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.out = nn.Linear(width, width)
        self.skip = nn.Identity() if residual else None  # the residual path: x itself

    def weights(self, x):
        """The attention weights (B, T, T): row t says where step t looks."""
        q, k = self.query(x), self.key(x)  # (B, T, width) each
        scores = q @ k.transpose(1, 2) / math.sqrt(x.shape[-1])  # (B, T, T)
        if self.causal:
            T = x.shape[1]
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        return F.softmax(scores, dim=-1)

    def transform(self, x):
        """The layer without its residual path: (B, T, width) -> (B, T, width)."""
        return self.out(self.weights(x) @ self.value(x))

    def forward(self, x):  # x: (B, T, width)
        out = self.transform(x)
        if self.skip is not None:
            out = out + self.skip(x)
        return out


def leaky_rnn(cell: nn.RNN, x: torch.Tensor, leak_rate: float) -> torch.Tensor:
    """A leaky-integrator RNN, the reservoir of an echo state network (Jaeger 2001),
    run with the weights of the fused nn.RNN `cell`, one step at a time:

        h_t = (1 - a) h_(t-1) + a f(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh),  h_(-1) = 0

    with a = leak_rate and f the cell's tanh or relu. a = 1 is the cell itself; a
    smaller a keeps more of the last state at each step, so the layer changes slowly.
    x: (B, T, in); the result: (B, T, H), or (B, T, 2H) for a bidirectional cell (the
    backward direction reads the sequence from its end, as PyTorch's does)."""
    f = torch.tanh if cell.nonlinearity == "tanh" else torch.relu
    B, T, _ = x.shape
    a = leak_rate
    directions = []
    for suffix in ("", "_reverse")[: 2 if cell.bidirectional else 1]:
        w_ih = getattr(cell, "weight_ih_l0" + suffix)  # (H, in)
        w_hh = getattr(cell, "weight_hh_l0" + suffix)  # (H, H)
        b = getattr(cell, "bias_ih_l0" + suffix) + getattr(cell, "bias_hh_l0" + suffix)  # (H,)
        drive = x @ w_ih.T + b  # (B, T, H): the input's part of every step at once
        h = x.new_zeros(B, cell.hidden_size)  # (B, H)
        states = [h] * T
        for t in range(T - 1, -1, -1) if suffix else range(T):
            h = (1 - a) * h + a * f(drive[:, t] + h @ w_hh.T)  # (B, H)
            states[t] = h
        directions.append(torch.stack(states, dim=1))  # (B, T, H)
    return torch.cat(directions, dim=-1)  # (B, T, H * directions)
