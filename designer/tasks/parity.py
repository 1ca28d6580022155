"""Parity of a bit string: is the number of ones odd?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from designer.i18n import N_, _
from designer.tasks.base import MAX_SEQ_LEN, Param, Task


@dataclass
class ParityTask(Task):
    name = "parity"
    title = N_("Parity")
    description = N_(
        "The input is a string of random bits, one per step. After the last bit the network "
        "says whether the string holds an even (class 0) or odd (class 1) number of ones. "
        "The rule is simple, a running on/off switch, but every single bit matters: "
        "flipping any one of them flips the answer, so there is no partial credit for "
        "remembering most of the string. Chance is 50% accuracy."
    )
    lesson = N_(
        "A tiny recurrent net can compute parity exactly by keeping one bit of state, yet "
        "gradient descent finds it hard on long strings: errors only reach early steps "
        "through the whole chain of later ones."
    )
    PARAMS = (Param("seq_len", 20, N_("number of bits"), "int", 1, MAX_SEQ_LEN),)
    kind = "classification"
    per_step = False
    metric_name = N_("accuracy")
    higher_is_better = True
    class_names = (N_("even"), N_("odd"))

    def __post_init__(self) -> None:
        self.input_size = 1
        self.output_size = 2

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        bits = torch.randint(0, 2, (batch_size, self.seq_len), generator=gen)  # (B,T)
        y = bits.sum(1) % 2  # (B,) long
        return bits[:, :, None].float(), y

    def draw_sample(self, fig: Any, x: torch.Tensor, y: torch.Tensor, colors: dict) -> str:
        """The bits as bars, and the count of ones that decides the answer."""
        bits = x[:, 0].tolist()
        ones = int(sum(bits))
        fig.add_bar(x=list(range(len(bits))), y=bits, name=_("bit"), marker_color=colors["input"])
        fig.update_yaxes(range=[0, 1.2], tickvals=[0, 1])
        return (
            _("One sample: {ones} ones, so the answer is odd (class 1)")
            if int(y) == 1
            else _("One sample: {ones} ones, so the answer is even (class 0)")
        ).format(ones=ones)
