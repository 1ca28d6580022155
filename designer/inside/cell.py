"""One cell at one time step, both ways: the forward arithmetic one operation at a
time with the model's own numbers, then the backward step that turns dL/dh_t into
the gradient at h_(t-1) (and c_(t-1)) and at the layer below.

The backward step is written out by hand, as a student would on paper, from the
cell's equations (designer.document.equations). What comes in is the total gradient at the
step's outputs, taken from the probe (designer.inside.probes): dL/dh_t, and for an LSTM the
part of dL/dc_t that arrives from the next step's cell state, f_(t+1) * dL/dc_(t+1).
What goes out is the part of dL/dh_(t-1) that travels back through this step (the
rest reaches h_(t-1) from the layer above at its own step: the two add up to the
probe's total), and the gradient this step sends to the layer below.

The factor that shrinks or grows the gradient on its way back one step:
    tanh RNN   dL/dh_(t-1) = W_hh^T diag(1 - h_t^2) dL/dh_t
    LSTM       dL/dc_(t-1) = diag(f_t) dL/dc_t           (the forget gate's path)
    GRU        dL/dh_(t-1) = diag(z_t) dL/dh_t + ...     (the update gate's path)
Multiplied over many steps, a factor below 1 is a vanishing gradient.

Bidirectional layers: the backward direction's previous step is t + 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from designer.i18n import N_, Text, TextError
from designer.inside.probes import _weights, probe, probe_batch, trace
from designer.tasks import Task
from designer.training.model import Recurrent, RecurrentStack

LETTERS = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ()}


class CellError(TextError):
    """A layer or step that has no cell to step through; the message quotes only the
    numbers the user gave."""


@dataclass
class Operation:
    """One line of the arithmetic: the equation (LaTeX), what it computes, in words
    (a message id, translated where shown), and the vectors it reads and makes."""

    equation: str
    words: str
    values: dict[str, list[float]]
    norm: tuple[str, float] | None = None  # the quantity whose size matters here


@dataclass
class CellStep:
    """Layer `layer` (index in the spec) of type `type`, at step `step` of sample
    `sample`, direction 0 (forward) or 1 (the backward direction)."""

    type: str
    layer: int
    step: int
    sample: int
    direction: int
    x: torch.Tensor  # (in,) the layer's input at this step
    h_prev: torch.Tensor  # (H,)
    pre: dict[str, torch.Tensor]  # gate letter (or "a" for an rnn) -> pre-activation
    gates: dict[str, torch.Tensor]  # gate letter -> value
    h: torch.Tensor
    grad_h: torch.Tensor  # dL/dh_t, total
    grad_h_prev: torch.Tensor  # the part of dL/dh_(t-1) through this step
    grad_h_prev_total: torch.Tensor | None  # the probe's total dL/dh_(t-1); None at the start
    grad_x: torch.Tensor  # what this step sends to the layer below
    factor_norm: float  # the spectral norm of the one-step factor (see the module's text)
    c_prev: torch.Tensor | None = None
    c: torch.Tensor | None = None
    grad_c_later: torch.Tensor | None = None  # f_(t+1) * dL/dc_(t+1)
    grad_c: torch.Tensor | None = None  # dL/dc_t, total
    grad_c_prev: torch.Tensor | None = None  # the forget gate's path to c_(t-1)
    forward: list[Operation] = field(default_factory=list)
    backward: list[Operation] = field(default_factory=list)

    @property
    def gain(self) -> float:
        """||through this step to h_(t-1)|| / ||dL/dh_t||; for an LSTM the cell
        state's ||dL/dc_(t-1)|| / ||dL/dc_t||."""
        if self.grad_c is not None and self.grad_c_prev is not None:
            return _ratio(self.grad_c_prev, self.grad_c)
        return _ratio(self.grad_h_prev, self.grad_h)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "layer": self.layer,
            "step": self.step,
            "sample": self.sample,
            "direction": "backward" if self.direction else "forward",
            "x": self.x.tolist(),
            "h_prev": self.h_prev.tolist(),
        }
        if self.c_prev is not None:
            data["c_prev"] = self.c_prev.tolist()
        data["pre"] = {name: v.tolist() for name, v in self.pre.items()}
        data.update({name: v.tolist() for name, v in self.gates.items()})
        if self.c is not None:
            data["c"] = self.c.tolist()
        data["h"] = self.h.tolist()
        data["grad_h"] = self.grad_h.tolist()
        if self.grad_c is not None:
            data["grad_c_later"] = self.grad_c_later.tolist()
            data["grad_c"] = self.grad_c.tolist()
            data["grad_c_prev"] = self.grad_c_prev.tolist()
        data["grad_h_prev"] = self.grad_h_prev.tolist()
        total = self.grad_h_prev_total
        data["grad_h_prev_total"] = None if total is None else total.tolist()
        data["grad_x"] = self.grad_x.tolist()
        data["factor_norm"] = self.factor_norm
        data["gain"] = self.gain
        return data


def _ratio(a: torch.Tensor, b: torch.Tensor) -> float:
    below = float(b.norm())
    return float(a.norm()) / below if below > 0 else 0.0


# How the vectors of an operation are named where they are shown
SHOWN = {
    "h_prev": "h_(t-1)",
    "c_prev": "c_(t-1)",
    "dL_dh_t": "dL/dh_t",
    "dL_da_t": "dL/da_t",
    "dL_dc_t": "dL/dc_t",
    "dL_dc_prev": "dL/dc_(t-1)",
    "dL_dh_prev": "dL/dh_(t-1)",
    "dL_dx_t": "dL/dx_t",
    "from_next": "f_(t+1) ⊙ dL/dc_(t+1)",
    "direct": "z_t ⊙ dL/dh_t",
}


def _shown(name: str) -> str:
    """A vector's name where it is shown (pre_i: a_i, i's pre-activation; delta_i: δ_i)."""
    if name in SHOWN:
        return SHOWN[name]
    if name.startswith("pre_"):
        return f"a_{name[4:]}"
    return name.replace("delta_", "δ_")


def _op(equation: str, words: str, size: str | None = None, **vectors: torch.Tensor) -> Operation:
    """One operation; `size` names the vector whose norm it reports."""
    values = {_shown(name): value.tolist() for name, value in vectors.items()}
    norm = None if size is None else (_shown(size), float(vectors[size].norm()))
    return Operation(equation, words, values, norm)


# The operations every cell shares
ARRIVES = N_("what reaches h_t: from the layer above and from the next step")
DOWN = N_("down to the layer below (or the input)")
DL_DH = r"\partial L/\partial h_t"


@dataclass
class StepInputs:
    """What one step of a cell reads: its input, the previous state (zeros before the
    first step), the weights of its direction, and the gradient that reaches it."""

    x: torch.Tensor  # (in,)
    h_prev: torch.Tensor  # (H,)
    c_prev: torch.Tensor  # (H,) an LSTM's previous cell state (zeros for the others)
    grad_h: torch.Tensor  # dL/dh_t, total
    grad_c_later: torch.Tensor  # an LSTM's f_(t+1) * dL/dc_(t+1) (zeros for the others)
    w_ih: torch.Tensor
    w_hh: torch.Tensor
    b_ih: torch.Tensor
    b_hh: torch.Tensor

    def pre(self) -> torch.Tensor:
        """Every gate's pre-activation at once: W_ih x_t + b_ih + W_hh h_(t-1) + b_hh."""
        return self.w_ih @ self.x + self.b_ih + self.w_hh @ self.h_prev + self.b_hh


def _prime(value: torch.Tensor, kind: str) -> torch.Tensor:
    """The derivative of sigmoid / tanh from its value; of relu from its output."""
    if kind == "sigmoid":
        return value * (1 - value)
    if kind == "tanh":
        return 1 - value**2
    return (value > 0).to(value.dtype)  # relu


def _checked(
    model: RecurrentStack, task: Task, layer: int, step: int, sample: int, direction: int, seed: int
) -> tuple[Recurrent, torch.Tensor]:
    """The recurrent layer cell_step asked for and the probe batch, or a CellError that
    says which part of the request lies outside the model or the batch."""
    module = model.layers[layer] if 0 <= layer < len(model.layers) else None
    if not isinstance(module, Recurrent):
        raise CellError(
            Text("layer {layer} is not a recurrent layer: it has no cell to step", layer=layer)
        )
    T = task.seq_len
    if not 0 <= step < T:
        raise CellError(
            Text("step {step} is outside the sequence (0 to {last})", step=step, last=T - 1)
        )
    if not 0 <= direction < (2 if module.cell.bidirectional else 1):
        raise CellError(Text("this layer has one direction only"))
    x_batch, _ = probe_batch(model, task, seed)
    if not 0 <= sample < x_batch.shape[0]:
        raise CellError(
            Text(
                "sample {sample} is outside the probe batch (0 to {last})",
                sample=sample,
                last=x_batch.shape[0] - 1,
            )
        )
    return module, x_batch


def cell_step(
    model: RecurrentStack,
    task: Task,
    layer: int,
    step: int,
    sample: int = 0,
    direction: int = 0,
    seed: int = 0,
) -> CellStep:
    """The cell of layer `layer` (index in the spec's layer list) at `step`, for
    sample `sample` of the probe batch (the same batch the probe reads)."""
    module, x_batch = _checked(model, task, layer, step, sample, direction, seed)
    T = task.seq_len
    probed = next(
        p
        for p in probe(model, task, seed=seed, with_spectral_radius=False).layers
        if p.index == layer
    )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            run = trace(model, x_batch, split=True)
    finally:
        model.train(was_training)

    def at(values: torch.Tensor | None, t: int) -> torch.Tensor:
        """(D, T, B, H) -> (H,) of this direction and sample; zeros outside the sequence."""
        if values is None or not 0 <= t < T:
            return torch.zeros(module.cell.hidden_size, dtype=x_batch.dtype)
        return values[direction, t, sample].detach()

    later = 1 if direction == 0 else -1  # the next step of this direction is step + later
    prev, after = step - later, step + later
    grad_c_later = at(probed.grad_cell, after) * at(probed.gates.get("forget"), after)
    weights = (w.detach() for w in _weights(module.cell, reverse=direction == 1))
    inputs = StepInputs(
        run.entries[layer][0][sample, step].detach(),  # the layer's input (in,)
        at(probed.hidden, prev),
        at(probed.cell, prev),
        at(probed.grad_hidden, step),
        grad_c_later,
        *weights,
    )
    kind = module.spec.type
    if kind == "lstm":
        fields = _lstm(inputs)
    elif kind == "gru":
        fields = _gru(inputs)
    else:
        fields = _rnn(inputs, module.cell.nonlinearity == "relu", module.spec.leak_rate)
    return CellStep(
        type=kind,
        layer=layer,
        step=step,
        sample=sample,
        direction=direction,
        x=inputs.x,
        h_prev=inputs.h_prev,
        grad_h=inputs.grad_h,
        grad_h_prev_total=at(probed.grad_hidden, prev) if 0 <= prev < T else None,
        **fields,
    )


def _rnn(s: StepInputs, relu: bool, a: float) -> dict[str, Any]:
    """h_t = (1 - a) h_(t-1) + a f(a_t), f = tanh or relu (a = 1: the plain RNN)."""
    pre = s.pre()  # (H,)
    new = torch.relu(pre) if relu else torch.tanh(pre)
    h = (1 - a) * s.h_prev + a * new
    f = r"\operatorname{ReLU}" if relu else r"\tanh"
    update = rf"h_t = {f}(a_t)" if a == 1.0 else rf"h_t = (1-a)\,h_{{t-1}} + a\,{f}(a_t)"
    forward = [
        _op(
            r"a_t = W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh}",
            N_("the pre-activation: the input's part plus the previous state's part"),
            x_t=s.x,
            h_prev=s.h_prev,
            a_t=pre,
        ),
        _op(update, N_("the new state"), "h_t", a_t=pre, h_t=h),
    ]
    # backward: dL/da_t = dL/dh_t * a * f'(a_t); dL/dh_(t-1) = (1 - a) dL/dh_t + W_hh^T dL/da_t
    slope = a * (_prime(pre, "relu") if relu else _prime(new, "tanh"))  # (H,)
    da = s.grad_h * slope
    dh_prev = (1 - a) * s.grad_h + s.w_hh.T @ da
    dx = s.w_ih.T @ da
    factor = s.w_hh.T @ torch.diag(slope) + (1 - a) * torch.eye(len(h), dtype=h.dtype)
    deriv = r"\mathbb{1}[a_t > 0]" if relu else r"\left(1 - h_t^2\right)"
    leak = "" if a == 1.0 else r"\cdot a"
    carry = "" if a == 1.0 else r" + (1-a)\,\partial L/\partial h_t"
    backward = [
        _op(DL_DH, ARRIVES, "dL_dh_t", dL_dh_t=s.grad_h),
        _op(
            rf"\partial L/\partial a_t = \partial L/\partial h_t \odot {deriv}{leak}",
            N_("back through the nonlinearity: a saturated unit lets almost nothing through"),
            dL_da_t=da,
        ),
        _op(
            r"\partial L/\partial h_{t-1} \mathrel{+}= W_{hh}^\top\,\partial L/\partial a_t"
            + carry,
            N_("back one step in time: this is the factor that repeats at every step"),
            "dL_dh_prev",
            dL_dh_prev=dh_prev,
        ),
        _op(
            r"\partial L/\partial x_t = W_{ih}^\top\,\partial L/\partial a_t",
            DOWN,
            "dL_dx_t",
            dL_dx_t=dx,
        ),
    ]
    return dict(
        pre={"a": pre},
        gates={},
        h=h,
        grad_h_prev=dh_prev,
        grad_x=dx,
        factor_norm=float(torch.linalg.matrix_norm(factor, ord=2)),
        forward=forward,
        backward=backward,
    )


def _gate_line(name: str, act: str) -> str:
    return (
        rf"{name}_t = {act}\left(W_{{i{name}}}\,x_t + b_{{i{name}}} "
        rf"+ W_{{h{name}}}\,h_{{t-1}} + b_{{h{name}}}\right)"
    )


def _lstm(s: StepInputs) -> dict[str, Any]:
    """PyTorch's LSTM: gates i, f, g, o; c_t = f c_(t-1) + i g; h_t = o tanh(c_t)."""
    pre, gates, c, h, forward = _lstm_forward(s)
    back = _lstm_backward(s, gates, c)
    return dict(
        pre=pre,
        gates=gates,
        h=h,
        c_prev=s.c_prev,
        c=c,
        grad_c_later=s.grad_c_later,
        **back,
        factor_norm=float(gates["f"].abs().max()),  # diag(f_t): its largest entry
        forward=forward,
    )


def _lstm_forward(s: StepInputs) -> tuple[dict, dict, torch.Tensor, torch.Tensor, list]:
    """The four gates, then the cell state, then the state: (pre-activations by gate
    letter, gates by letter, c_t, h_t, the operations)."""
    pre_i, pre_f, pre_g, pre_o = s.pre().chunk(4)  # each (H,)
    i, f, g, o = torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g), torch.sigmoid(pre_o)
    c = f * s.c_prev + i * g  # (H,)
    h = o * torch.tanh(c)  # (H,)
    forward = [
        _op(
            _gate_line("i", r"\sigma"),
            N_("the input gate: how much of the candidate to write"),
            pre_i=pre_i,
            i_t=i,
        ),
        _op(
            _gate_line("f", r"\sigma"),
            N_("the forget gate: how much of the old cell state to keep"),
            pre_f=pre_f,
            f_t=f,
        ),
        _op(
            _gate_line("g", r"\tanh"),
            N_("the cell gate: the candidate to write"),
            pre_g=pre_g,
            g_t=g,
        ),
        _op(
            _gate_line("o", r"\sigma"),
            N_("the output gate: how much of the cell state to show"),
            pre_o=pre_o,
            o_t=o,
        ),
        _op(
            r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
            N_("the new cell state: what the forget gate keeps plus what the input gate writes"),
            "c_t",
            c_prev=s.c_prev,
            c_t=c,
        ),
        _op(r"h_t = o_t \odot \tanh(c_t)", N_("the new state"), "h_t", h_t=h),
    ]
    pre = dict(zip("ifgo", (pre_i, pre_f, pre_g, pre_o), strict=True))
    return pre, dict(zip("ifgo", (i, f, g, o), strict=True)), c, h, forward


def _lstm_backward(
    s: StepInputs, gates: dict[str, torch.Tensor], c: torch.Tensor
) -> dict[str, Any]:
    """From dL/dh_t (and what the next cell state sends) back to dL/dc_t, the gates'
    pre-activations, c_(t-1), h_(t-1) and the input."""
    i, f, g, o = (gates[letter] for letter in "ifgo")
    tanh_c = torch.tanh(c)
    dc = s.grad_c_later + s.grad_h * o * (1 - tanh_c**2)  # dL/dc_t, total (H,)
    d_i = dc * g * _prime(i, "sigmoid")
    d_f = dc * s.c_prev * _prime(f, "sigmoid")
    d_g = dc * i * _prime(g, "tanh")
    d_o = s.grad_h * tanh_c * _prime(o, "sigmoid")
    delta = torch.cat([d_i, d_f, d_g, d_o])  # the pre-activations' gradient, (4H,)
    dc_prev = f * dc  # (H,)
    dh_prev = s.w_hh.T @ delta  # (H,)
    dx = s.w_ih.T @ delta  # (in,)
    backward = [
        _op(DL_DH, ARRIVES, "dL_dh_t", dL_dh_t=s.grad_h),
        _op(
            r"\begin{aligned}\partial L/\partial c_t &= \partial L/\partial h_t \odot o_t \odot "
            r"\left(1 - \tanh^2 c_t\right) \\ &\quad + f_{t+1} \odot \partial L/\partial c_{t+1}"
            r"\end{aligned}",
            N_(
                "the cell state's gradient: through h_t, plus what the next step's cell state sends"
            ),
            "dL_dc_t",
            from_next=s.grad_c_later,
            dL_dc_t=dc,
        ),
        _op(
            r"\partial L/\partial c_{t-1} \mathrel{+}= f_t \odot \partial L/\partial c_t",
            N_("the forget gate's path: multiplied by f_t and nothing else, so it can travel far"),
            "dL_dc_prev",
            f_t=f,
            dL_dc_prev=dc_prev,
        ),
        _op(
            r"\begin{aligned}\delta_i &= \partial L/\partial c_t \odot g_t \odot i_t(1-i_t) \\ "
            r"\delta_f &= \partial L/\partial c_t \odot c_{t-1} \odot f_t(1-f_t) \\ "
            r"\delta_g &= \partial L/\partial c_t \odot i_t \odot (1-g_t^2) \\ "
            r"\delta_o &= \partial L/\partial h_t \odot \tanh c_t \odot o_t(1-o_t)\end{aligned}",
            N_("back through each gate's nonlinearity"),
            delta_i=d_i,
            delta_f=d_f,
            delta_g=d_g,
            delta_o=d_o,
        ),
        _op(
            r"\partial L/\partial h_{t-1} \mathrel{+}= W_{hh}^\top\,\delta",
            N_("back one step in time through the gates"),
            "dL_dh_prev",
            dL_dh_prev=dh_prev,
        ),
        _op(r"\partial L/\partial x_t = W_{ih}^\top\,\delta", DOWN, "dL_dx_t", dL_dx_t=dx),
    ]
    return dict(grad_c=dc, grad_c_prev=dc_prev, grad_h_prev=dh_prev, grad_x=dx, backward=backward)


def _gru(s: StepInputs) -> dict[str, Any]:
    """PyTorch's GRU: r, z, n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h_t = (1-z) n + z h."""
    pre, gates, h, h_n, forward = _gru_forward(s)
    back = _gru_backward(s, gates, h_n)
    return dict(
        pre=pre,
        gates=gates,
        h=h,
        **back,
        factor_norm=float(gates["z"].abs().max()),  # diag(z_t): its largest entry
        forward=forward,
    )


def _gru_forward(s: StepInputs) -> tuple[dict, dict, torch.Tensor, torch.Tensor, list]:
    """The reset and update gates, the candidate, then the state: (pre-activations by
    gate letter, gates by letter, h_t, W_hn h_(t-1) + b_hn, the operations)."""
    x_r, x_z, x_n = (s.w_ih @ s.x + s.b_ih).chunk(3)  # each (H,)
    h_r, h_z, h_n = (s.w_hh @ s.h_prev + s.b_hh).chunk(3)  # each (H,)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    pre_n = x_n + r * h_n
    n = torch.tanh(pre_n)
    h = (1 - z) * n + z * s.h_prev  # (H,)
    forward = [
        _op(
            _gate_line("r", r"\sigma"),
            N_("the reset gate: how much of the old state the candidate may read"),
            pre_r=x_r + h_r,
            r_t=r,
        ),
        _op(
            _gate_line("z", r"\sigma"),
            N_("the update gate: how much of the old state to keep"),
            pre_z=x_z + h_z,
            z_t=z,
        ),
        _op(
            r"n_t = \tanh\left(W_{in}\,x_t + b_{in} + r_t \odot "
            r"\left(W_{hn}\,h_{t-1} + b_{hn}\right)\right)",
            N_("the candidate state"),
            pre_n=pre_n,
            n_t=n,
        ),
        _op(
            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
            N_("the new state: a mix of the candidate and the old state"),
            "h_t",
            h_prev=s.h_prev,
            h_t=h,
        ),
    ]
    pre = {"r": x_r + h_r, "z": x_z + h_z, "n": pre_n}
    return pre, {"r": r, "z": z, "n": n}, h, h_n, forward


def _gru_backward(s: StepInputs, gates: dict[str, torch.Tensor], h_n: torch.Tensor) -> dict:
    """From dL/dh_t back through the update gate's direct path and through the gates
    to h_(t-1) and the input."""
    r, z, n = gates["r"], gates["z"], gates["n"]
    dh = s.grad_h
    d_n = dh * (1 - z) * _prime(n, "tanh")  # the candidate's pre-activation
    d_r = d_n * h_n * _prime(r, "sigmoid")
    d_z = dh * (s.h_prev - n) * _prime(z, "sigmoid")
    direct = z * dh
    dh_prev = direct + s.w_hh.T @ torch.cat([d_r, d_z, d_n * r])  # (H,)
    dx = s.w_ih.T @ torch.cat([d_r, d_z, d_n])  # (in,)
    backward = [
        _op(DL_DH, ARRIVES, "dL_dh_t", dL_dh_t=dh),
        _op(
            r"\partial L/\partial h_{t-1} \mathrel{+}= z_t \odot \partial L/\partial h_t",
            N_("the update gate's path: multiplied by z_t and nothing else, so it can travel far"),
            "direct",
            z_t=z,
            direct=direct,
        ),
        _op(
            r"\begin{aligned}\delta_n &= \partial L/\partial h_t \odot (1-z_t) \odot (1-n_t^2) \\ "
            r"\delta_r &= \delta_n \odot \left(W_{hn} h_{t-1} + b_{hn}\right) \odot r_t(1-r_t) \\ "
            r"\delta_z &= \partial L/\partial h_t \odot (h_{t-1} - n_t) \odot z_t(1-z_t)"
            r"\end{aligned}",
            N_("back through each gate's nonlinearity"),
            delta_n=d_n,
            delta_r=d_r,
            delta_z=d_z,
        ),
        _op(
            r"\begin{aligned}\partial L/\partial h_{t-1} &\mathrel{+}= W_{hr}^\top \delta_r "
            r"+ W_{hz}^\top \delta_z \\ &\quad + W_{hn}^\top (r_t \odot \delta_n)\end{aligned}",
            N_("back one step in time through the gates, added to the update gate's path"),
            "dL_dh_prev",
            dL_dh_prev=dh_prev,
        ),
        _op(
            r"\partial L/\partial x_t = W_{ir}^\top \delta_r + W_{iz}^\top \delta_z "
            r"+ W_{in}^\top \delta_n",
            DOWN,
            "dL_dx_t",
            dL_dx_t=dx,
        ),
    ]
    return dict(grad_h_prev=dh_prev, grad_x=dx, backward=backward)
