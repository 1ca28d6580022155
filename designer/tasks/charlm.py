"""A character-level language model on a text shipped with the project: a short story
written for it, or a public-domain book in English or Chinese (their sources and
licences are in data/SOURCES.md)."""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from designer.i18n import N_, Text, _
from designer.tasks.base import MAX_SEQ_LEN, Param, Task, TaskDataError

DATA = Path(__file__).parent / "data"
TEXTS = {  # name -> (file, what it is: a message id)
    "lighthouse": (
        "corpus.txt",
        N_("a short story about a year in a lighthouse, written for this app (12 KB)"),
    ),
    "holmes": (
        "holmes.txt",
        N_(
            "The Adventures of Sherlock Holmes by Arthur Conan Doyle, 1892 (Project Gutenberg "
            "eBook 1661, public domain; 563,000 characters)"
        ),
    ),
    "xiyouji": (
        "xiyouji.txt",
        N_(
            "Journey to the West (西游记) by Wu Cheng'en, chapters 1 to 22 (Project Gutenberg "
            "eBook 23962, public domain; 156,000 characters)"
        ),
    ),
}
TRAIN_FRACTION = 0.9
MAX_CHARS = 1500  # distinct characters kept; the rarer ones (4% of the Chinese text) read as RARE
RARE = "□"
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥"}  # a space, a line end and a tab, made visible


def corpus_text(name: str = "lighthouse") -> str:
    """The whole text of one of TEXTS."""
    return (DATA / TEXTS[name][0]).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=len(TEXTS))
def load_corpus(name: str = "lighthouse") -> tuple[str, tuple[str, ...], torch.Tensor]:
    """The text, its sorted characters, and the text as token ids (1..V, 0 = pad). A
    text of more than MAX_CHARS distinct characters keeps its most frequent ones."""
    text = corpus_text(name)
    counts = Counter(text)
    if len(counts) > MAX_CHARS:
        kept = {c for c, _ in counts.most_common(MAX_CHARS - 1)}
        text = "".join(c if c in kept else RARE for c in text)
    chars = tuple(sorted(set(text)))
    index = {c: i + 1 for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    return text, chars, ids


@dataclass
class CharLMTask(Task):
    name = "charlm"
    title = N_("Character language model")
    description = N_(
        "The network reads a text one character at a time (a short story about a lighthouse, "
        "a Sherlock Holmes book, or the first chapters of Journey to the West in Chinese) "
        "and, at every step, predicts the next character. The score is bits per character: "
        "how many yes/no questions the network still needs, on average, to pin down the "
        "next character (for the English texts about 4.2 for a model that only knows how "
        "common each letter is, well under 2.5 for one that has learned words). The short "
        "story repeats some lines, so a trained model soon writes text that looks like it; "
        "the books are too long to be learned by heart. The last 10% of the text is kept "
        "apart for validation."
    )
    lesson = N_(
        "Spelling needs a few characters of memory, grammar and repeated lines need many: "
        "stacking layers lets the upper ones work with the words the lower ones have found."
    )
    PARAMS = (
        Param("seq_len", 64, N_("characters per training window"), "int", 2, MAX_SEQ_LEN),
        Param(
            "text",
            "lighthouse",
            N_("which text to learn"),
            "str",
            choices=tuple(TEXTS),
            labels=(
                N_("a lighthouse story (short)"),
                N_("Sherlock Holmes (English book)"),
                N_("Journey to the West (Chinese book)"),
            ),
        ),
    )
    kind = "classification"
    per_step = True
    forecasts = True
    metric_name = N_("bits per char")
    loss_unit = N_("bits per char")  # the loss is the metric: cross-entropy in bits
    higher_is_better = False
    generates_text = True

    def __post_init__(self) -> None:
        text, self.chars, ids = load_corpus(self.params["text"])
        cut = int(len(ids) * TRAIN_FRACTION)
        self.splits = {"train": ids[:cut], "val": ids[cut:]}
        shortest = min(len(part) for part in self.splits.values())
        if shortest < self.seq_len + 1:
            raise TaskDataError(
                Text(
                    "the corpus's validation part has {n} characters; "
                    "seq_len {seq_len} needs at least {need}",
                    n=shortest,
                    seq_len=self.seq_len,
                    need=self.seq_len + 1,
                )
            )
        self.vocab_size = len(self.chars) + 1  # ids 1..V, 0 = padding
        self.input_size = self.vocab_size
        self.output_size = len(self.chars)  # the target is id - 1, in 0..V-1

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        data, T = self.splits[split], self.seq_len
        starts = torch.randint(0, len(data) - T, (batch_size, 1), generator=gen)  # (B,1)
        windows = data[starts + torch.arange(T + 1)]  # (B,T+1)
        return windows[:, :-1], windows[:, 1:] - 1  # ids at t -> class of the char at t+1

    def loss(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy in bits (base 2), not nats: divided by ln 2 so that the loss
        curve, the metric (bits per character) and the baseline all read in one unit."""
        return super().loss(pred, y) / math.log(2)

    def metric(self, pred: torch.Tensor, y: torch.Tensor) -> float:
        """Bits per character: the loss, which is already the cross-entropy in base 2."""
        return float(self.loss(pred, y))

    def data_note(self) -> str:
        what = TEXTS[self.params["text"]][1]
        return _("Text: {what}; {chars} distinct characters.").format(
            what=_(what), chars=f"{len(self.chars):,}"
        )

    def token_labels(self, ids: list[int]) -> list[str]:
        """Each character, with a space, a line end and a tab made visible."""
        return [VISIBLE.get(self.chars[i - 1], self.chars[i - 1]) if i else "·" for i in ids]

    def class_label(self, c: int) -> str:
        """The character to predict (class c is the character of id c + 1), made visible."""
        return VISIBLE.get(self.chars[c], self.chars[c])

    def sample_text(
        self, model: torch.nn.Module, prompt: str, length: int, temperature: float, seed: int
    ) -> str:
        return sample_text(model, self, prompt, length, temperature, seed)

    def encode(self, text: str) -> torch.Tensor:
        """Token ids (1..V) of `text`, shape (len,); characters not in the corpus are dropped."""
        index = {c: i + 1 for i, c in enumerate(self.chars)}
        return torch.tensor([index[c] for c in text if c in index], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """The text of token ids (1..V); padding (0) is dropped."""
        return "".join(self.chars[int(i) - 1] for i in ids if int(i) != 0)

    # --- the exported code's questions (designer.export), left out of the exported script ---
    loss_in_bits = True  # the loss is the cross-entropy in bits, as loss() has it

    def embedded_data(self) -> tuple[str, str, str]:
        """The chosen text, which the exported script carries as CORPUS."""
        reads = '(DATA / TEXTS[name][0]).read_text(encoding="utf-8")'
        return reads, "CORPUS", corpus_text(self.params["text"])

    # --- end of the exported code's questions ---


@torch.no_grad()
def sample_text(
    model: torch.nn.Module,
    task: CharLMTask,
    prompt: str,
    length: int,
    temperature: float = 0.8,
    seed: int = 0,
) -> str:
    """`length` new characters that continue `prompt`, sampled from `model`.

    `model` maps (1,T) token ids to (1,T,V) logits over the corpus characters. Prompt
    characters outside the corpus are dropped; an empty prompt starts after a newline.
    Temperature <= 0 picks the most likely character every time (greedy). The same seed
    gives the same text. Only the last seq_len characters are fed back each step.
    """
    gen = torch.Generator().manual_seed(int(seed))
    context = task.encode(prompt)
    if len(context) == 0:
        context = task.encode("\n")
    was_training = model.training
    model.eval()
    out: list[int] = []
    try:
        for _ in range(length):
            logits = model(context[None, -task.seq_len :])[0, -1].float()  # (V,)
            if temperature <= 0:
                choice = int(logits.argmax())
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                choice = int(torch.multinomial(probs, 1, generator=gen))
            out.append(choice + 1)  # class j is the character with id j+1
            context = torch.cat([context, torch.tensor([choice + 1])])
    finally:
        model.train(was_training)
    return task.decode(out)
