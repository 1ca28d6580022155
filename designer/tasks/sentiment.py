"""Sentiment of short made-up reviews, where word order and negation decide the label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from designer.i18n import N_
from designer.tasks.base import Param, Task

DETERMINERS = ("the", "this")
NOUNS = ("film", "movie", "plot", "acting", "music", "ending", "story", "cast")
VERBS = ("is", "was", "seems", "felt")
INTENSIFIERS = ("very", "really", "so")
POSITIVE = ("good", "great", "fun", "lovely", "clever", "charming", "moving", "fresh")
NEGATIVE = ("bad", "boring", "dull", "awful", "silly", "slow", "messy", "bland")
VOCABULARY: tuple[str, ...] = (
    ("<pad>", "not", "but", "and", "it")
    + DETERMINERS + NOUNS + VERBS + INTENSIFIERS + POSITIVE + NEGATIVE
)  # fmt: skip
ID = {word: i for i, word in enumerate(VOCABULARY)}


def _ids(words: tuple[str, ...]) -> torch.Tensor:
    return torch.tensor([ID[w] for w in words])


# Slots of the longest sentence, e.g. "the film was not very good but it is really dull":
# det noun verb not1 very1 adj1 | conj it verb2 not2 very2 adj2
DET, NOUN, VERB, NOT1, VERY1, ADJ1, CONJ, IT, VERB2, NOT2, VERY2, ADJ2 = range(12)
# The words each slot can hold, as a (12, 16) table of ids (short groups repeat).
SLOT_WORDS = (
    DETERMINERS, NOUNS, VERBS, ("not",), INTENSIFIERS, POSITIVE + NEGATIVE,
    ("but", "and"), ("it",), VERBS, ("not",), INTENSIFIERS, POSITIVE + NEGATIVE,
)  # fmt: skip
WIDEST = max(len(words) for words in SLOT_WORDS)
SLOT_TABLE = torch.stack([_ids(w).repeat(WIDEST)[:WIDEST] for w in SLOT_WORDS])  # (12,16)
SLOT_SIZES = torch.tensor([len(w) for w in SLOT_WORDS])  # (12,)
SLOT_ON = torch.tensor([1, 1, 1, 0.35, 0.35, 1, 0.6, 0.5, 1, 0.35, 0.35, 1])  # P(slot used)
POSITIVE_IDS = _ids(POSITIVE)


@dataclass
class SentimentTask(Task):
    name = "sentiment"
    title = N_("Sentiment with negation and 'but'")
    description = N_(
        "Short made-up reviews such as 'the plot was not very clever but it is really fun'. "
        "Each clause has a positive or negative word; 'not' flips it, and 'very', 'really' "
        "or 'so' make it count double. With 'but' the clause after it decides the label "
        "('fun but silly' is negative, 'silly but fun' positive); with 'and' the stronger "
        "clause wins ('good and really dull' is negative). Sentences are padded at the "
        "front, so the last step is always the last word, where the network says negative "
        "(0) or positive (1)."
    )
    lesson = N_(
        "The same words in another order mean the opposite, so counting words (a "
        "bag of words) fails: the network must remember which clause came last and what "
        "modified each word."
    )
    PARAMS = (Param("seq_len", 12, N_("longest sentence, in words"), "int", 4, 40),)
    kind = "classification"
    per_step = False
    metric_name = N_("accuracy")
    higher_is_better = True
    class_names = (N_("negative"), N_("positive"))

    vocabulary = list(VOCABULARY)  # index = token id; 0 is padding

    def __post_init__(self) -> None:
        self.vocab_size = len(VOCABULARY)
        self.input_size = self.vocab_size
        self.output_size = 2

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B = batch_size
        # 1. every slot gets a random word of its group and is switched on with its
        #    probability; the second clause ("but/and ...") only exists with its conjunction
        u = torch.rand(B, 24, generator=gen)  # (B,24): 12 word draws, 12 on/off draws
        slots = SLOT_TABLE.gather(1, (u[:, :12] * SLOT_SIZES).long().T).T  # (B,12)
        on = u[:, 12:] < SLOT_ON  # (B,12)
        on[:, CONJ:] &= on[:, CONJ : CONJ + 1].clone()  # clone: overlaps when B == 1
        on[:, VERB2] = on[:, IT]  # "but it is dull" or "but dull"
        positive = torch.isin(slots, POSITIVE_IDS)  # (B,12)
        adj, neg, very = [ADJ1, ADJ2], [NOT1, NOT2], [VERY1, VERY2]
        # "good and bad" would be a tie: toggle the second intensifier to break it
        sign = (positive[:, adj] ^ on[:, neg]).long() * 2 - 1  # (B,2) polarity of each clause
        tie = on[:, CONJ] & (slots[:, CONJ] == ID["and"]) & (on[:, VERY1] == on[:, VERY2])
        on[:, VERY2] ^= tie & (sign[:, 0] != sign[:, 1])

        # 2. too long for seq_len: drop words that do not change the meaning, then the
        #    second clause, then the first intensifier ("film was not good" has 4 words)
        for drop in ([DET], [IT, VERB2], list(range(CONJ, ADJ2 + 1)), [VERY1]):
            if self.seq_len >= 12:
                break  # every sentence fits
            too_long = on.sum(1) > self.seq_len
            on[:, drop] &= ~too_long[:, None]

        # 3. the label: score = +-1 per clause, x2 if intensified, 0 if the clause is gone;
        #    after "but" only the second clause counts, after "and" both add up
        score = sign * (1 + on[:, very].long()) * on[:, adj]  # (B,2)
        is_but = on[:, CONJ] & (slots[:, CONJ] == ID["but"])
        total = torch.where(is_but, score[:, 1], score.sum(1))  # (B,), never 0
        y = (total > 0).long()

        # 4. drop the switched-off slots and pad on the left: a stable sort puts the
        #    off slots (key 0) first and keeps the words in order
        order = torch.sort(on.long(), dim=1, stable=True).indices
        words = (slots * on).gather(1, order)  # (B,12)
        x = torch.zeros(B, self.seq_len, dtype=torch.long)
        width = min(12, self.seq_len)
        x[:, -width:] = words[:, -width:]
        return x, y

    def token_labels(self, ids: list[int]) -> list[str]:
        return [VOCABULARY[i] if i else "·" for i in ids]

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """The sentence of one row of token ids, padding dropped."""
        return " ".join(VOCABULARY[int(i)] for i in ids if int(i) != 0)

    def encode(self, sentence: str) -> torch.Tensor:
        """Token ids of a sentence, left-padded to seq_len, shape (seq_len,); words outside
        the vocabulary are dropped."""
        ids = [ID[w] for w in sentence.lower().split() if w in ID and w != "<pad>"]
        ids = ids[-self.seq_len :]
        return torch.tensor([0] * (self.seq_len - len(ids)) + ids, dtype=torch.long)
