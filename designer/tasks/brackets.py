"""Tag each bracket of a string as matched or not: a task where looking ahead helps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from designer.i18n import N_
from designer.tasks.base import IGNORE, MAX_SEQ_LEN, Param, Task

PAD, OPEN, CLOSE = 0, 1, 2  # token ids
CHARS = {OPEN: "(", CLOSE: ")"}


def bracket_tags(x: torch.Tensor) -> torch.Tensor:
    """Matched (1) / unmatched (0) tag of every bracket of (B,T) token ids, IGNORE at padding.

    With h the running depth (+1 per '(', -1 per ')'), a ')' is matched iff the depth
    before it is above every earlier depth (an '(' is still open), and an '(' is matched
    iff the depth later falls back to the level it started from (a later ')' closes it).
    """
    valid = x != PAD
    step = (x == OPEN).long() - (x == CLOSE).long()  # (B,T) +1, -1, 0 at padding
    depth = torch.cumsum(step, 1)  # depth after each step
    before = depth - step  # depth before each step
    start = torch.zeros_like(depth[:, :1])
    lowest_before = torch.cummin(torch.cat([start, depth[:, :-1]], 1), 1).values  # (B,T)
    close_matched = before > lowest_before
    later = torch.where(valid, depth, x.shape[1] + 1)  # padding never closes anything
    lowest_after = torch.cummin(later.flip(1), 1).values.flip(1)  # min depth from t onwards
    open_matched = lowest_after <= before
    tags = torch.where(x == OPEN, open_matched, close_matched).long()
    return torch.where(valid, tags, IGNORE)


@dataclass
class BracketsTask(Task):
    name = "brackets"
    title = N_("Matched brackets (look-ahead)")
    description = N_(
        "The input is a string of round brackets such as '(()))(('. For every bracket the "
        "network answers: is it matched? A ')' is matched if an earlier '(' is still open; "
        "an '(' is matched only if some LATER ')' closes it, which cannot be known yet when "
        "the '(' is read. Strings have random lengths (the shorter ones are padded at the "
        "end, and padded steps do not count) and a random mix of opening and closing "
        "brackets, so about two thirds of the brackets are matched."
    )
    lesson = N_(
        "A unidirectional layer can only guess for '(' from the past; a bidirectional layer "
        "also reads the string backwards and gets every bracket right."
    )
    PARAMS = (
        Param(
            "seq_len", 30, N_("longest string; lengths vary from half of it"), "int", 2, MAX_SEQ_LEN
        ),
    )
    kind = "classification"
    per_step = True
    metric_name = N_("accuracy")
    higher_is_better = True

    def __post_init__(self) -> None:
        self.vocab_size = 3  # pad, '(', ')'
        self.input_size = self.vocab_size
        self.output_size = 2

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T = batch_size, self.seq_len
        lengths = torch.randint(max(T // 2, 1), T + 1, (B, 1), generator=gen)  # (B,1)
        # Each string has its own share of '(' (30-70%): some are mostly balanced, some
        # leave many '(' or ')' unmatched, so the past alone cannot tell an '(' its tag.
        p_open = 0.3 + 0.4 * torch.rand(B, 1, generator=gen)
        opens = torch.rand(B, T, generator=gen) < p_open  # (B,T)
        x = torch.where(opens, OPEN, CLOSE)
        x = x.masked_fill(torch.arange(T) >= lengths, PAD)  # (B,T), padded at the end
        return x, bracket_tags(x)

    def token_labels(self, ids: list[int]) -> list[str]:
        return [CHARS.get(int(i), "·") for i in ids]

    def class_label(self, c: int) -> str:
        """A bracket's tag: matched ✓, unmatched ✗."""
        return "✓" if c == 1 else "✗"

    @staticmethod
    def decode(ids: torch.Tensor | list[int]) -> str:
        """The bracket string of one row of token ids, padding dropped."""
        return "".join(CHARS.get(int(i), "") for i in ids)
