"""The adding problem (Hochreiter & Schmidhuber, 1997)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from designer.i18n import N_, _
from designer.tasks.base import MAX_SEQ_LEN, Param, Task


@dataclass
class AddingTask(Task):
    name = "adding"
    title = N_("Adding problem")
    description = N_(
        "Every step carries two numbers: a random value between 0 and 1, and a marker that "
        "is 1 at exactly two steps (one in the first half of the sequence, one in the second "
        "half) and 0 everywhere else. After reading the whole sequence the network must "
        "output the sum of the two marked values. Guessing the average sum (1) always gives "
        "a mean squared error of about 1/6, so any loss clearly below 0.167 means the network "
        "has learned to remember a value over many steps."
    )
    lesson = N_(
        "The first marked value must be carried across half the sequence while everything "
        "else is ignored: plain RNNs lose it as the sequence grows, LSTMs and GRUs keep it."
    )
    PARAMS = (Param("seq_len", 50, N_("time steps per sequence"), "int", 2, MAX_SEQ_LEN),)
    kind = "regression"
    per_step = False
    metric_name = N_("mse")
    higher_is_better = False

    def __post_init__(self) -> None:
        self.input_size = 2
        self.output_size = 1

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T = batch_size, self.seq_len
        half = T // 2
        values = torch.rand(B, T, generator=gen)  # (B,T)
        first = torch.randint(0, half, (B,), generator=gen)  # in the first half
        second = torch.randint(half, T, (B,), generator=gen)  # in the second half
        marker = torch.zeros(B, T)
        rows = torch.arange(B)
        marker[rows, first] = 1.0
        marker[rows, second] = 1.0
        x = torch.stack([values, marker], dim=-1)  # (B,T,2)
        y = (values[rows, first] + values[rows, second])[:, None]  # (B,1)
        return x, y

    def input_names(self) -> list[str]:
        return [_("value"), _("marker")]

    def marked_steps(self, x: torch.Tensor) -> list[int]:
        """The two steps whose values are added: where the marker (feature 1) is 1."""
        return (x[:, 1] > 0.5).nonzero().flatten().tolist()

    def draw_sample(self, fig: Any, x: torch.Tensor, y: torch.Tensor, colors: dict) -> str:
        """The values, the two marked ones starred, and their sum in the title."""
        values, marked = x[:, 0].tolist(), self.marked_steps(x)
        t = list(range(len(values)))
        fig.add_scatter(
            x=t, y=values, mode="lines+markers", name=_("value"), line_color=colors["input"]
        )
        fig.add_scatter(
            x=marked,
            y=[values[i] for i in marked],
            mode="markers",
            name=_("marked"),
            marker=dict(size=14, color=colors["mark"], symbol="star"),
        )
        fig.update_yaxes(range=[-0.05, 1.1])
        terms = " + ".join(f"{values[i]:.2f}" for i in marked)
        return _("One sample: target = {terms} = {total}").format(
            terms=terms, total=f"{float(y[0]):.2f}"
        )
