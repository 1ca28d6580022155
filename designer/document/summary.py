"""Per-layer widths, shapes and parameter counts of a design, from the spec alone.

No model is built and torch is not imported, so the summary is instant even for the
largest allowed stack, and the spec can check its parameter limit with it. Every
part of the project that needs a layer's width reads it here (`in_width`, `width`)
instead of working it out again. The counts follow PyTorch's own layouts; a unit
test checks them against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from designer.i18n import _

if TYPE_CHECKING:
    from designer.document.spec import Experiment, ModelSpec
    from designer.tasks import Task

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # weight blocks per recurrent cell


def output_width(spec: Any, in_width: int) -> int:
    """Features per time step after a layer, given the features it receives."""
    if spec.type in GATES:
        return spec.hidden_size * (2 if spec.bidirectional else 1)
    if spec.type == "linear":
        return spec.out_features
    return in_width


@dataclass
class LayerSummary:
    index: int | None  # position in the spec's layer list; None for input and head
    type: str
    description: str
    output_shape: str
    trainable: int
    frozen: int = 0
    notes: list[str] = field(default_factory=list)
    in_width: int = 0  # features per step this row receives
    width: int = 0  # features per step it gives (for the head: the output size)

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
    rows: list[LayerSummary]  # the input (or embedding), each layer, the head
    notes: list[str] = field(default_factory=list)  # about the stack as a whole

    @property
    def layers(self) -> list[LayerSummary]:
        """The rows of the spec's layers, in order (without the input and the head)."""
        return self.rows[1:-1]

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
            "notes": self.notes,
        }


def _shape(task: Task, width: int, per_step: bool = True) -> str:
    return f"(B, {task.seq_len}, {width})" if per_step else f"(B, {width})"


def _describe(spec: Any) -> str:
    if spec.type in GATES:
        flags = [_("{n} units").format(n=spec.hidden_size)]
        flags += [_("bidirectional")] * spec.bidirectional + [_("residual")] * spec.residual
        flags += [_("frozen")] * spec.freeze
        if spec.type == "rnn":
            flags.append(spec.nonlinearity)
        if spec.dropout:
            flags.append(_("dropout {p}").format(p=f"{spec.dropout:g}"))
        if spec.init != "default":
            flags.append(_("{init} init").format(init=spec.init))
        if getattr(spec, "forget_bias", None) is not None:
            flags.append(_("forget bias {bias}").format(bias=f"{spec.forget_bias:g}"))
        if spec.gain != 1.0:
            flags.append(_("recurrent gain {gain}").format(gain=f"{spec.gain:g}"))
        if spec.spectral_radius is not None:
            radius = f"{spec.spectral_radius:g}"
            flags.append(_("spectral radius {radius}").format(radius=radius))
        if spec.input_scaling != 1.0:
            flags.append(_("input scaling {scale}").format(scale=f"{spec.input_scaling:g}"))
        if spec.leak_rate != 1.0:
            flags.append(_("leak rate {rate}").format(rate=f"{spec.leak_rate:g}"))
        return _(", ").join(flags)
    if spec.type == "linear":
        flags = [_("{n} units").format(n=spec.out_features), spec.activation]
        flags += [_("residual")] * spec.residual
        if spec.dropout:
            flags.append(_("dropout {p}").format(p=f"{spec.dropout:g}"))
        return _(", ").join(flags)
    if spec.type == "dropout":
        return f"p = {spec.p:g}"
    if spec.type == "attention":
        return _("single head, residual") if spec.residual else _("single head")
    return _("per time step")


def _weights(spec: Any, width: int, out: int) -> tuple[int, int, list[str]]:
    """(trainable, frozen, notes) of one layer that receives `width` features."""
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
    elif spec.type == "linear":
        trainable += width * out + out
    elif spec.type == "layernorm":
        trainable += 2 * width
    elif spec.type == "attention":
        trainable += 4 * (width * width + width)  # query, key, value, output
    if getattr(spec, "residual", False) and width != out and spec.type != "attention":
        trainable += width * out
        notes.append(
            _("residual projection {width}->{out}: {n} parameters").format(
                width=width, out=out, n=f"{width * out:,}"
            )
        )
    return trainable, frozen, notes


def summarize(exp: Experiment | ModelSpec, task: Task) -> Summary:
    """Per layer: widths, output shape and parameter count (see the module's docstring)."""
    model_spec = getattr(exp, "model", exp)
    rows = []
    width = task.input_size
    if task.token_input and model_spec.embedding_dim:
        width = model_spec.embedding_dim
        rows.append(
            LayerSummary(
                None,
                "embedding",
                _("{n} tokens -> {width}").format(n=task.vocab_size, width=width),
                _shape(task, width),
                task.vocab_size * width,
                in_width=task.input_size,
                width=width,
            )
        )
    else:
        what = (
            _("one-hot of {n} tokens").format(n=width)
            if task.token_input
            else _("{n} features per step").format(n=width)
        )
        rows.append(
            LayerSummary(None, "input", what, _shape(task, width), 0, in_width=width, width=width)
        )
    for index, spec in enumerate(model_spec.layers):
        out = output_width(spec, width)
        trainable, frozen, notes = _weights(spec, width, out)
        rows.append(
            LayerSummary(
                index,
                spec.type,
                _describe(spec),
                _shape(task, out),
                trainable,
                frozen,
                notes,
                in_width=width,
                width=out,
            )
        )
        width = out
    head = {
        (True, "regression"): _("linear {width}->{out}, per step, regression"),
        (False, "regression"): _("linear {width}->{out}, last step, regression"),
        (True, "classification"): _("linear {width}->{out}, per step, classification"),
        (False, "classification"): _("linear {width}->{out}, last step, classification"),
    }[bool(task.per_step), task.kind]
    rows.append(
        LayerSummary(
            None,
            "head",
            head.format(width=width, out=task.output_size),
            _shape(task, task.output_size, task.per_step),
            width * task.output_size + task.output_size,
            in_width=width,
            width=task.output_size,
        )
    )
    notes = []
    if not task.per_step and not any(
        spec.type in (*GATES, "attention") for spec in model_spec.layers
    ):
        notes.append(
            _(
                "No layer here looks across time steps (no recurrent or attention layer), and "
                "this task scores only the last step: each layer is applied at every step on "
                "its own, so the prediction sees the last step's input and nothing before it."
            )
        )
    return Summary(rows, notes)


def count_parameters(model_spec: ModelSpec, task: Task) -> int:
    """Total parameters of the model a spec describes, without building it."""
    return summarize(model_spec, task).total
