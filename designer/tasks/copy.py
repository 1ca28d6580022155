"""The copy task: remember a few symbols, wait, then write them out again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from designer.i18n import N_
from designer.tasks.base import IGNORE, Param, Task

PAD, BLANK, GO = 0, 1, 2  # token ids; the alphabet's symbols follow from id 3


@dataclass
class CopyTask(Task):
    name = "copy"
    title = N_("Copy after a delay")
    description = N_(
        "The network first reads `symbols` random symbols, then `lag` blank steps, then a "
        "go marker followed by more blanks. From the go marker on it must write the symbols "
        "back in the order it saw them, one per step: the answer is only scored at these "
        "last `symbols` steps. The sequence length is therefore 2 x symbols + lag (at most "
        "1000). Guessing gives 1/alphabet accuracy."
    )
    lesson = N_(
        "The symbols must survive `lag` steps of nothing: a clean test of how long a memory "
        "lasts, and of how much a recurrent state can hold at once."
    )
    PARAMS = (
        Param("symbols", 5, N_("how many symbols to remember"), "int", 1, 50),
        Param("alphabet", 8, N_("number of distinct symbols"), "int", 2, 30),
        # 2 x 50 + 900 = 1000 = MAX_SEQ_LEN, so no parameter choice gives a longer sequence.
        Param("lag", 10, N_("blank steps between the symbols and the go marker"), "int", 0, 900),
    )
    kind = "classification"
    per_step = True
    metric_name = N_("accuracy")
    higher_is_better = True

    def __post_init__(self) -> None:
        self.vocab_size = self.params["alphabet"] + 3  # pad, blank, go, symbols
        self.input_size = self.vocab_size
        self.output_size = self.params["alphabet"]

    @property
    def seq_len(self) -> int:
        return 2 * self.params["symbols"] + self.params["lag"]

    def token_labels(self, ids: list[int]) -> list[str]:
        """Padding '·', a blank '_', the go marker 'go', the symbols A, B, C, ..."""
        names = {0: "·", BLANK: "_", GO: "go"}
        return [names.get(i, chr(ord("A") + i - 3)) for i in ids]

    def class_label(self, c: int) -> str:
        """The symbol to write: A, B, C, ..."""
        return chr(ord("A") + c)

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, k, lag = batch_size, self.params["symbols"], self.params["lag"]
        symbols = torch.randint(0, self.params["alphabet"], (B, k), generator=gen)  # (B,k)
        # x: symbols | lag blanks | go | k-1 blanks      (B, 2k+lag)
        x = torch.full((B, self.seq_len), BLANK, dtype=torch.long)
        x[:, :k] = symbols + 3
        x[:, k + lag] = GO
        # y: scored only on the last k steps, starting at the go marker
        y = torch.full((B, self.seq_len), IGNORE, dtype=torch.long)
        y[:, k + lag :] = symbols
        return x, y
