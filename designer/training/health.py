"""Signs that a run is heading for divergence, read from its history before the loss
becomes infinite: a loss far above what always answering the baseline costs, or a
gradient norm that jumps by orders of magnitude over its recent level.

Exploding gradients are sudden: a run can go from a normal step to not-a-number in a
handful of steps. Saying so at the first spike (with the numbers) lets a student see
the run-up, and act (lower the learning rate, clip) before the run is lost."""

from __future__ import annotations

import math
import statistics

from designer.i18n import _
from designer.training.trainer import History

LOSS_FACTOR = 10.0  # the recent training loss this many times the baseline's
SPIKE_FACTOR = 100.0  # a gradient norm this many times the median before it
RECENT = 10  # steps the recent loss is averaged over
BEFORE = 50  # steps whose median gradient norm a spike is measured against


def explosion_warning(history: History, baseline_loss: float) -> str | None:
    """A sentence, with the numbers, when the run's latest steps look like the start
    of an explosion; None when they do not."""
    losses = [v for v in history.loss[-RECENT:] if math.isfinite(v)]
    if len(losses) == RECENT and baseline_loss > 0:
        recent = sum(losses) / RECENT
        if recent > LOSS_FACTOR * baseline_loss:
            return _(
                "The training loss over the last {steps} steps ({recent}) is {times} times "
                "the baseline's ({baseline}): the run is heading for divergence. Lower the "
                "learning rate, or clip the gradient harder."
            ).format(
                steps=RECENT,
                recent=f"{recent:.3g}",
                times=f"{recent / baseline_loss:.0f}",
                baseline=f"{baseline_loss:.3g}",
            )
    norms = history.grad_norm
    if len(norms) > BEFORE:
        before = statistics.median(norms[-BEFORE - RECENT : -RECENT])
        peak = max(norms[-RECENT:])
        if before > 0 and math.isfinite(peak) and peak > SPIKE_FACTOR * before:
            return _(
                "The gradient norm jumped to {peak}, {times} times its earlier level "
                "({before}): a gradient explosion. Clipping bounds the step such a gradient "
                "takes."
            ).format(peak=f"{peak:.3g}", times=f"{peak / before:.0f}", before=f"{before:.3g}")
    return None
