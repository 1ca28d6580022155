"""What-if: change a trained network for a moment and see what it does without a part.

Silence units of a recurrent layer, or the whole layer, or hold one of its gates at
a constant (designer.inside.probes.Edit), then run the validation batch step by step with
the change in place: the loss and the metric say what that part was doing, and a
probe with the same change shows how the states and gradients move. Nothing is
trained and the model's weights are never touched; removing the edits is the undo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from designer.i18n import _, language
from designer.inside.probes import Edit, ProbeResult, gate_label, listed, probe, trace
from designer.tasks import Task
from designer.training.model import GATE_NAMES, Recurrent, RecurrentStack
from designer.training.trainer import VAL_BATCH, VAL_SEED_OFFSET

EVALUATE_ELEMENTS = 8_000_000  # kept state values (h, c, gates) per chunk of an edited run
MAX_EDITS = 16  # at once: more is no longer a question one can read the answer to
# sigmoid gates live in [0, 1]; the LSTM's cell candidate and the GRU's new state in [-1, 1]
TANH_GATES = ("cell", "new")


# each gate as a reader names it (the keys are the model's gate names, kept in links)
class EditError(ValueError):
    """An edit that does not fit the model, as a sentence for the page."""


def check_edit(model: RecurrentStack, edit: Edit) -> None:
    """Raise EditError unless `edit` names a recurrent layer of `model`, units it has,
    a gate of its kind and a value that gate can take."""
    if not 0 <= edit.layer < len(model.layers) or not isinstance(
        model.layers[edit.layer], Recurrent
    ):
        raise EditError(
            _("layer {layer} is not a recurrent layer of this model").format(layer=edit.layer)
        )
    layer = model.layers[edit.layer]
    units = layer.units
    if edit.units is not None:
        if not edit.units:
            raise EditError(_("choose at least one unit"))
        outside = [u for u in edit.units if not 0 <= u < units]
        if outside:
            raise EditError(
                _("layer {layer} has units 0 to {last}, not {unit}").format(
                    layer=edit.layer, last=units - 1, unit=outside[0]
                )
            )
    if edit.gate is not None:
        gates = GATE_NAMES[layer.spec.type]
        if edit.gate not in gates:
            parts = {"layer": edit.layer, "kind": layer.spec.type, "gate": gate_label(edit.gate)}
            if not gates:
                raise EditError(
                    _("layer {layer} ({kind}) has no {gate} (its gates: none)").format(**parts)
                )
            # English names the gates as the model does; Chinese as a reader does
            have = listed(list(gates) if language() == "en" else [gate_label(g) for g in gates])
            raise EditError(
                _("layer {layer} ({kind}) has no {gate} (its gates: {have})").format(
                    have=have, **parts
                )
            )
        low = -1.0 if edit.gate in TANH_GATES else 0.0
        if not low <= edit.value <= 1.0:
            raise EditError(
                _("the {gate} takes values from {low} to 1, not {value}").format(
                    gate=gate_label(edit.gate), low=f"{low:g}", value=f"{edit.value:g}"
                )
            )


# --- edits in a link --------------------------------------------------------------------
# One edit: the layer, then "_GATE_VALUE" to hold a gate, then "_uA.B.C" for some units:
# "2" silences layer 2, "0_u3.7" units 3 and 7 of layer 0, "1_forget_1" holds layer 1's
# forget gate at 1. Edits are joined by "~". Nothing else is accepted.
_GATES = "|".join(sorted({g for names in GATE_NAMES.values() for g in names}))
_EDIT = re.compile(
    rf"(?P<layer>\d{{1,3}})(?:_(?P<gate>{_GATES})_(?P<value>-?\d{{1,2}}(?:\.\d{{1,6}})?))?"
    r"(?:_u(?P<units>\d{1,4}(?:\.\d{1,4}){0,511}))?"
)
MAX_TEXT = 4000  # characters of edits in a link, at most


def edits_to_text(edits: tuple[Edit, ...] | list[Edit]) -> str:
    """The edits as a link keeps them (see above)."""
    parts = []
    for edit in edits:
        text = str(edit.layer)
        if edit.gate is not None:
            value = f"{edit.value:.6f}".rstrip("0").rstrip(".")  # never 1e-05
            text += f"_{edit.gate}_{'0' if value in ('', '-0') else value}"
        if edit.units is not None:
            text += "_u" + ".".join(map(str, edit.units))
        parts.append(text)
    return "~".join(parts)


def edits_from_text(text: str) -> tuple[Edit, ...]:
    """The edits a link holds. A link is untrusted input: anything but the exact form
    above, or more than MAX_EDITS edits, raises EditError quoting none of it."""
    if not text:
        return ()
    parts = text.split("~")
    if len(text) > MAX_TEXT or len(parts) > MAX_EDITS:
        raise EditError(_("a link holds at most {n} what-if changes").format(n=MAX_EDITS))
    edits = []
    for part in parts:
        match = _EDIT.fullmatch(part)
        if match is None:
            raise EditError(_("the link's what-if changes are damaged"))
        units = match["units"]
        edits.append(
            Edit(
                layer=int(match["layer"]),
                units=tuple(sorted({int(u) for u in units.split(".")})) if units else None,
                gate=match["gate"],
                value=float(match["value"]) if match["value"] else 0.0,
            )
        )
    return tuple(edits)


@dataclass
class Outcome:
    loss: float
    metric: float


@torch.no_grad()
def evaluate(
    model: RecurrentStack, task: Task, edits: tuple[Edit, ...] = (), seed: int = 0
) -> Outcome:
    """Loss and metric on the run's validation batch (the one Trainer.evaluate uses),
    with `edits` in place, run step by step."""
    for edit in edits:
        check_edit(model, edit)
    weight = next(model.parameters())
    x, y = task.batch(VAL_BATCH, VAL_SEED_OFFSET + seed, split="val")
    x, y = (v.to(weight.device, weight.dtype if v.is_floating_point() else v.dtype) for v in (x, y))
    was_training = model.training
    model.eval()
    try:
        if not edits:  # the model as it is: its own fused forward, as Trainer.evaluate
            pred = model(x)
        else:  # step by step, a few sequences at a time: the trace keeps every state
            units = sum(layer.units for layer in model.layers if isinstance(layer, Recurrent))
            chunk = max(1, EVALUATE_ELEMENTS // max(1, x.shape[1] * units * 6))
            parts = [trace(model, x[i : i + chunk], edits).pred for i in range(0, len(x), chunk)]
            pred = torch.cat(parts)
    finally:
        model.train(was_training)
    return Outcome(float(task.loss(pred, y)), float(task.metric(pred, y)))


@dataclass
class WhatIf:
    edits: tuple[Edit, ...]
    before: Outcome
    after: Outcome
    plain: ProbeResult  # the model as it is
    probe: ProbeResult  # with the edits in place


def baseline(model: RecurrentStack, task: Task, seed: int = 0) -> tuple[Outcome, ProbeResult]:
    """The model as it is: its validation loss and metric, and its probe (what every
    what-if of these weights is compared with, so worth keeping once)."""
    return evaluate(model, task, (), seed), probe(model, task, seed=seed)


def what_if(
    model: RecurrentStack,
    task: Task,
    edits: tuple[Edit, ...],
    seed: int = 0,
    base: tuple[Outcome, ProbeResult] | None = None,
) -> WhatIf:
    """The model with and without `edits`: the validation loss and metric, and a
    probe, of both (`base`: the baseline, when it is at hand)."""
    before, plain = base if base is not None else baseline(model, task, seed)
    return WhatIf(
        edits=edits,
        before=before,
        after=evaluate(model, task, edits, seed),
        plain=plain,
        probe=probe(model, task, seed=seed, edits=edits),
    )
