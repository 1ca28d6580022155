"""Exact per-time-step views of a model: hidden states, gates, and dL/dh_t.

What "the gradient at time step t" means here: dL/dh_t is the TOTAL derivative of the
loss with respect to the hidden state h_t, summing every path from h_t to the loss:
through the layers above and through this layer's own later steps (backpropagation
through time). `retain_grad()` on a fused nn.LSTM's output cannot give it: that
tensor's gradient holds only the path through the layer above.

So the probe re-runs a small batch step by step with the fused modules' own weights
(the cell equations written out, so the gates are visible), keeps every h_t (and c_t)
in the autograd graph, and asks autograd for the gradient of the loss with respect
to all of them at once. Training itself keeps PyTorch's fused kernels.

PyTorch's weight layout, per direction (suffix "_reverse" for the backward one):
    weight_ih_l0 (G*H, in), weight_hh_l0 (G*H, H), bias_ih_l0, bias_hh_l0 (G*H)
    with the G gate blocks in the order LSTM: i, f, g, o; GRU: r, z, n.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

from designer.i18n import N_, _, language
from designer.tasks import Task
from designer.training.model import GATE_NAMES, Recurrent, RecurrentStack

PROBE_SEED = 424_242  # the probe batch is fixed, so probes over training compare
PROBE_BATCH = 8
PROBE_ELEMENTS = 2_000_000  # per kept tensor kind (h, dL/dh, ...), summed over layers


def default_batch_size(model: RecurrentStack, task: Task) -> int:
    """Up to PROBE_BATCH samples, fewer for very long and wide stacks, so that a
    probe's kept tensors stay a few tens of MB on a shared server."""
    units = sum(layer.units for layer in model.layers if isinstance(layer, Recurrent))
    if units == 0:
        return PROBE_BATCH
    return max(1, min(PROBE_BATCH, PROBE_ELEMENTS // (task.seq_len * units)))


def probe_batch(
    model: RecurrentStack, task: Task, seed: int = 0, batch_size: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed probe batch (seed PROBE_SEED + seed, from the validation split), on
    the model's device; real values in the model's precision (a float64 model is
    checked against finite differences), token ids and class labels as they are."""
    weight = next(model.parameters())
    size = default_batch_size(model, task) if batch_size is None else batch_size
    x, y = task.batch(size, PROBE_SEED + seed, split="val")
    x, y = (v.to(weight.device, weight.dtype if v.is_floating_point() else v.dtype) for v in (x, y))
    return x, y


# --- gates and lists in words --------------------------------------------------------
GATE_LABELS = {
    "input": N_("input gate"),
    "forget": N_("forget gate"),
    "cell": N_("cell gate"),
    "output": N_("output gate"),
    "reset": N_("reset gate"),
    "update": N_("update gate"),
    "new": N_("new gate"),
}


def gate_label(gate: str) -> str:
    """'forget' -> 'forget gate' in the reader's language."""
    return _(GATE_LABELS[gate]) if gate in GATE_LABELS else _("{gate} gate").format(gate=gate)


def listed(items: list[str] | tuple[str, ...]) -> str:
    """Items in a sentence: 'a, b, c' in English, 'a、b、c' in Chinese."""
    return ("、" if language() == "zh" else ", ").join(items)


# --- what-if edits ----------------------------------------------------------------------
@dataclass(frozen=True)
class Edit:
    """A change to a trained network while it runs, to see what a part of it does
    without retraining: silence units of a recurrent layer (their h_t is zero at every
    step, so neither the layer above nor the layer's own next step sees them), or clamp
    one of its gates to a constant (an LSTM whose forget gate is held at 1 never
    forgets; at 0 it keeps nothing from the step before)."""

    layer: int  # index in the spec's layer list
    units: tuple[int, ...] | None = None  # of the layer's output (→ first, then ←); None: all
    gate: str | None = None  # None: silence the units; else clamp this gate on them
    value: float = 0.0  # the clamped gate's value

    def describe(self) -> str:
        """The edit in words, in the reader's language."""
        value = f"{self.value:g}"
        if self.units is None:
            if self.gate is None:
                return _("layer {layer}: all units silenced").format(layer=self.layer)
            return _("layer {layer}: {gate} held at {value} (all units)").format(
                layer=self.layer, gate=gate_label(self.gate), value=value
            )
        units = listed([str(u) for u in self.units])
        if self.gate is None:
            return _("layer {layer}: units {units} silenced").format(layer=self.layer, units=units)
        return _("layer {layer}: {gate} held at {value} (units {units})").format(
            layer=self.layer, gate=gate_label(self.gate), value=value, units=units
        )


def _unit_mask(edit: Edit, hidden: int, direction: int, like: torch.Tensor) -> torch.Tensor:
    """1.0 for the units of this direction that `edit` touches, else 0.0: shape (H,)."""
    mask = like.new_zeros(hidden)
    if edit.units is None:
        mask.fill_(1.0)
    else:
        for unit in edit.units:
            if direction * hidden <= unit < (direction + 1) * hidden:
                mask[unit - direction * hidden] = 1.0
    return mask


# --- one recurrent layer, step by step -------------------------------------------------
@dataclass
class DirectionTrace:
    """One direction of one layer over a sequence; lists are indexed by time step t."""

    h: list[torch.Tensor]  # T x (B, H)
    c: list[torch.Tensor] | None  # LSTM cell states, T x (B, H)
    gates: dict[str, list[torch.Tensor]]  # gate name -> T x (B, H)
    # With split=True: T x (B, H) copies of h_t that only the layer's own next step
    # reads, so autograd can tell how much of dL/dh_t travels through time.
    carried: list[torch.Tensor] | None = None


def _weights(cell: nn.RNNBase, reverse: bool) -> tuple[torch.Tensor, ...]:
    suffix = "_reverse" if reverse else ""
    return tuple(
        getattr(cell, f"{name}_l0{suffix}")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


def run_direction(
    cell: nn.RNNBase,
    x: torch.Tensor,
    reverse: bool,
    leak_rate: float = 1.0,
    silence: torch.Tensor | None = None,
    clamp: dict[str, list[tuple[torch.Tensor, float]]] | None = None,
    split: bool = False,
) -> DirectionTrace:
    """The cell's equations, one step at a time, for x of shape (B, T, in). An rnn
    layer's leak rate a < 1 makes it a leaky integrator: h_t = (1 - a) h_(t-1) + a f(...)
    (see designer.training.model.leaky_rnn). What-if edits: `silence` (H,) is 1 for units whose
    h_t is zeroed; `clamp` maps a gate to [((H,) mask, value), ...] held on those units."""
    kind = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}[type(cell)]
    clamp = clamp or {}

    def gate(name: str, value: torch.Tensor) -> torch.Tensor:
        for mask, held in clamp.get(name, ()):  # in the order given: the last one wins
            value = value * (1 - mask) + held * mask
        return value

    w_ih, w_hh, b_ih, b_hh = _weights(cell, reverse)
    B, T, _ = x.shape
    H = cell.hidden_size
    x_proj = x @ w_ih.T + b_ih  # (B, T, G*H): the input's part of every step at once
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    hs: list[torch.Tensor] = [None] * T  # type: ignore[list-item]
    cs: list[torch.Tensor] = [None] * T  # type: ignore[list-item]
    carried: list[torch.Tensor] = [None] * T  # type: ignore[list-item]
    gates: dict[str, list[torch.Tensor]] = {name: [None] * T for name in GATE_NAMES[kind]}  # type: ignore[misc]
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        if kind == "lstm":
            i, f, g, o = (x_proj[:, t] + h @ w_hh.T + b_hh).chunk(4, dim=1)
            i, f = gate("input", torch.sigmoid(i)), gate("forget", torch.sigmoid(f))
            g, o = gate("cell", torch.tanh(g)), gate("output", torch.sigmoid(o))
            c = f * c + i * g  # the cell state: a sum, so gradient can flow far back
            h = o * torch.tanh(c)
            cs[t] = c
            for name, value in zip(GATE_NAMES[kind], (i, f, g, o), strict=True):
                gates[name][t] = value
        elif kind == "gru":
            x_r, x_z, x_n = x_proj[:, t].chunk(3, dim=1)
            h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=1)
            r = gate("reset", torch.sigmoid(x_r + h_r))
            z = gate("update", torch.sigmoid(x_z + h_z))
            n = gate("new", torch.tanh(x_n + r * h_n))
            h = (1 - z) * n + z * h
            for name, value in zip(GATE_NAMES[kind], (r, z, n), strict=True):
                gates[name][t] = value
        else:
            pre = x_proj[:, t] + h @ w_hh.T + b_hh
            new = torch.tanh(pre) if cell.nonlinearity == "tanh" else torch.relu(pre)
            h = new if leak_rate == 1.0 else (1 - leak_rate) * h + leak_rate * new
        if silence is not None:
            h = h * (1 - silence)
        hs[t] = h
        if split:  # the next step reads a copy: its gradient is the path through time
            h = carried[t] = h.clone()
    return DirectionTrace(hs, cs if kind == "lstm" else None, gates, carried if split else None)


def run_recurrent(
    layer: Recurrent,
    x: torch.Tensor,
    skip_input: torch.Tensor | None = None,
    edits: tuple[Edit, ...] = (),
    split: bool = False,
) -> tuple[torch.Tensor, list[DirectionTrace]]:
    """The layer's output (as its forward in eval mode) and the trace of each direction.
    The residual path reads `skip_input` (default: x itself), so that with a copy of x
    autograd can tell how much gradient goes around the layer."""
    leak = layer.spec.leak_rate
    H = layer.cell.hidden_size
    directions = []
    for d in range(2 if layer.cell.bidirectional else 1):
        silence, clamp = None, {}
        for edit in edits:
            mask = _unit_mask(edit, H, d, x)
            if edit.gate is None:
                silence = mask if silence is None else torch.maximum(silence, mask)
            else:
                clamp.setdefault(edit.gate, []).append((mask, edit.value))
        directions.append(run_direction(layer.cell, x, d == 1, leak, silence, clamp, split=split))
    out = torch.cat([torch.stack(d.h, dim=1) for d in directions], dim=-1)  # (B, T, D*H)
    if layer.skip is not None:
        out = out + layer.skip(x if skip_input is None else skip_input)
    return out, directions


# --- the whole model, step by step ----------------------------------------------------------
@dataclass
class Trace:
    """The model run on one batch with every recurrent layer stepped through time, all
    in one autograd graph: what the probe, the credit matrix and the gradient paths
    take their gradients from."""

    inputs: torch.Tensor  # (B, T, F) the encoded input (made to require grad)
    recurrent: list[tuple[int, Recurrent, list[DirectionTrace]]]  # (index in the spec, ...)
    pred: torch.Tensor  # (B, T, out) or (B, out) for last-step tasks
    # With split=True, per layer index (and len(layers) for the head): the copies of its
    # input that the layer's own transform and its residual path read (None: no residual).
    entries: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = field(default_factory=dict)


def trace(
    model: RecurrentStack, x: torch.Tensor, edits: tuple[Edit, ...] = (), split: bool = False
) -> Trace:
    """Run `model` (in eval mode: the caller sets it) on x step by step. With `split`,
    each layer reads copies of its input (one for the layer, one for its residual
    path) and each recurrent step a copy of the last state: gradients with respect to
    the copies divide dL/dh_t into its paths (see designer.inside.credit)."""
    h = model.encode(x)  # (B, T, F)
    if not h.requires_grad:  # raw features or one-hot: make dL/dx_t reachable
        h = h.detach().requires_grad_(True)
    inputs = h
    recurrent: list[tuple[int, Recurrent, list[DirectionTrace]]] = []
    entries: dict[int, tuple[torch.Tensor, torch.Tensor | None]] = {}
    for index, layer in enumerate(model.layers):
        skip = getattr(layer, "skip", None)
        main, around = h, None
        if split:
            main = h.clone()
            around = h.clone() if skip is not None else None
            entries[index] = (main, around)
        if isinstance(layer, Recurrent):
            mine = tuple(edit for edit in edits if edit.layer == index)
            h, directions = run_recurrent(layer, main, around, mine, split)
            recurrent.append((index, layer, directions))
        elif skip is not None:
            h = layer.transform(main) + skip(main if around is None else around)
        else:
            h = layer(main)
    if split:
        h = h.clone()
        entries[len(model.layers)] = (h, None)
    if not model.per_step:
        h = h[:, -1]  # (B, width): only the last step is scored
    return Trace(inputs, recurrent, model.head(h), entries)


# --- the probe result ---------------------------------------------------------------------
@dataclass
class LayerProbe:
    """One recurrent layer. Tensors are (D, T, B, H): direction, time, sample, unit."""

    index: int  # position in the spec's layer list
    type: str
    hidden: torch.Tensor
    grad_hidden: torch.Tensor  # dL/dh_t, the total derivative
    cell: torch.Tensor | None = None  # LSTM c_t
    grad_cell: torch.Tensor | None = None  # dL/dc_t
    gates: dict[str, torch.Tensor] = field(default_factory=dict)
    spectral_radius: dict[str, list[float]] = field(default_factory=dict)  # gate -> per direction

    @property
    def directions(self) -> int:
        return self.hidden.shape[0]

    @staticmethod
    def _norm(values: torch.Tensor) -> list[float]:
        """Mean over the batch of the norm over both directions' units, per step."""
        return values.pow(2).sum(dim=(0, 3)).sqrt().mean(dim=1).tolist()  # (T,)

    @property
    def hidden_norm(self) -> list[float]:
        return self._norm(self.hidden)

    @property
    def grad_norm(self) -> list[float]:
        return self._norm(self.grad_hidden)

    @property
    def cell_grad_norm(self) -> list[float] | None:
        return None if self.grad_cell is None else self._norm(self.grad_cell)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "index": self.index,
            "type": self.type,
            "directions": self.directions,
            "grad_norm": self.grad_norm,
            "hidden_norm": self.hidden_norm,
            "spectral_radius": self.spectral_radius,
        }
        if self.grad_cell is not None:
            data["cell_grad_norm"] = self.cell_grad_norm
        return data


@dataclass
class ProbeResult:
    loss: float
    layers: list[LayerProbe]
    input_grad: torch.Tensor  # dL/dx_t of the (encoded) model input, (T, B, F)
    param_grad_norms: dict[str, float]  # trainable parameter name -> ||dL/dW||
    x: torch.Tensor  # the probe batch
    y: torch.Tensor
    step: int | None = None  # the training step it was taken at
    seconds: float = 0.0  # what it cost

    @property
    def input_grad_norm(self) -> list[float]:
        return self.input_grad.norm(dim=2).mean(dim=1).tolist()

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "step": self.step,
            "input_grad_norm": self.input_grad_norm,
            "param_grad_norms": self.param_grad_norms,
            "layers": [layer.to_dict() for layer in self.layers],
        }

    def summary(self) -> ProbeSummary:
        """What a training history keeps of this probe: every norm, and the states and
        gates in half precision (the gradients only as norms: they can be far
        smaller than half precision reaches)."""
        layers = []
        for layer in self.layers:
            data = layer.to_dict()
            data["hidden"] = layer.hidden.half()
            data["cell"] = None if layer.cell is None else layer.cell.half()
            data["gates"] = {name: g.half() for name, g in layer.gates.items()}
            layers.append(data)
        return ProbeSummary(
            step=self.step,
            loss=self.loss,
            layers=layers,
            input_grad_norm=self.input_grad_norm,
            param_grad_norms=self.param_grad_norms,
        )


@dataclass
class ProbeSummary:
    """One probe as a training history keeps it. Each entry of `layers` is
    LayerProbe.to_dict() plus 'hidden', 'cell' and 'gates' tensors (D, T, B, H)."""

    step: int | None
    loss: float
    layers: list[dict[str, Any]]
    input_grad_norm: list[float]
    param_grad_norms: dict[str, float]

    @property
    def elements(self) -> int:
        """How many tensor elements it holds (for the history's memory budget)."""
        total = 0
        for layer in self.layers:
            tensors = [layer["hidden"], layer["cell"], *layer["gates"].values()]
            total += sum(t.numel() for t in tensors if t is not None)
        return total


def spectral_radius(cell: nn.RNNBase) -> dict[str, list[float]]:
    """Largest |eigenvalue| of each gate's recurrent block W_hh, per direction: above 1
    a linearised recurrence amplifies, below 1 it forgets."""
    kind = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}[type(cell)]
    names = GATE_NAMES[kind] or ("recurrent",)
    radii: dict[str, list[float]] = {name: [] for name in names}
    for reverse in (False, True)[: 2 if cell.bidirectional else 1]:
        w_hh = _weights(cell, reverse)[1].detach().float().cpu()
        for name, block in zip(names, w_hh.split(cell.hidden_size, dim=0), strict=True):
            radii[name].append(float(torch.linalg.eigvals(block).abs().max()))
    return radii


# --- the probe ---------------------------------------------------------------------------
def probe(
    model: RecurrentStack,
    task: Task,
    seed: int = 0,
    batch_size: int | None = None,
    step: int | None = None,
    with_spectral_radius: bool = True,
    edits: tuple[Edit, ...] = (),
) -> ProbeResult:
    """Run a fixed probe batch step by step and take dL/dh_t for every layer and step.

    The model is left as it was: its train/eval mode, its parameters and their .grad
    (gradients come from torch.autograd.grad, which does not accumulate into .grad).
    Dropout is off while probing, so the numbers are those of the model itself.
    `edits` probe the model with units silenced or gates clamped (see Edit)."""
    start = time.perf_counter()
    x, y = probe_batch(model, task, seed, batch_size)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            run = trace(model, x, edits)
            loss = task.loss(run.pred, y)
            traces = run.recurrent
            states = [run.inputs]
            for _, _, directions in traces:
                for d in directions:
                    states += d.h + (d.c or [])
            named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
            grads = torch.autograd.grad(
                loss, states + [p for _, p in named], allow_unused=True, materialize_grads=True
            )
    finally:
        model.train(was_training)

    state_grads = iter(grads[: len(states)])
    input_grad = next(state_grads).detach().transpose(0, 1)  # (T, B, F)
    layers = []
    for index, layer, directions in traces:
        hidden, grad_hidden, cells, grad_cells = [], [], [], []
        for d in directions:
            T = len(d.h)
            hidden.append(torch.stack(d.h))
            grad_hidden.append(torch.stack([next(state_grads) for _ in range(T)]))
            if d.c is not None:
                cells.append(torch.stack(d.c))
                grad_cells.append(torch.stack([next(state_grads) for _ in range(T)]))
        gates = {
            name: torch.stack([torch.stack(d.gates[name]) for d in directions]).detach()
            for name in directions[0].gates
        }
        layers.append(
            LayerProbe(
                index=index,
                type=layer.spec.type,
                hidden=torch.stack(hidden).detach(),
                grad_hidden=torch.stack(grad_hidden).detach(),
                cell=torch.stack(cells).detach() if cells else None,
                grad_cell=torch.stack(grad_cells).detach() if grad_cells else None,
                gates=gates,
                spectral_radius=spectral_radius(layer.cell) if with_spectral_radius else {},
            )
        )
    param_grads = grads[len(states) :]
    return ProbeResult(
        loss=loss.item(),
        layers=layers,
        input_grad=input_grad,
        param_grad_norms={n: float(g.norm()) for (n, _), g in zip(named, param_grads, strict=True)},
        x=x.cpu(),
        y=y.cpu(),
        step=step,
        seconds=time.perf_counter() - start,
    )
