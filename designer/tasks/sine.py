"""Next-step forecasting of a noisy sum of sine waves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from designer.i18n import N_
from designer.tasks.base import MAX_SEQ_LEN, Param, Task

MAX_WAVES = 16  # a batch holds (batch, waves, seq_len) values: keep it bounded


@dataclass
class SineTask(Task):
    name = "sine"
    title = N_("Sine wave forecasting")
    description = N_(
        "Each sequence is a sum of sine waves with the given frequencies (in cycles per "
        "step), a random phase and a random amplitude, plus a little noise. At every step "
        "the network sees the current value and predicts the next one. Because phase and "
        "amplitude change from sequence to sequence, the network has to work them out from "
        "the values it has seen so far: its first guesses are poor and improve as the "
        "sequence goes on. The dashed baseline is persistence, which simply repeats the "
        "current value."
    )
    lesson = N_(
        "Memory lets the network infer a hidden state (the phase and amplitude of each wave) "
        "that no single step shows; more frequencies need more capacity to untangle."
    )
    PARAMS = (
        Param("seq_len", 50, N_("time steps per sequence"), "int", 2, MAX_SEQ_LEN),
        Param("noise", 0.05, N_("standard deviation of the added noise"), "float", 0.0, 1.0),
        Param(
            "frequencies",
            [0.05, 0.11],
            N_("cycles per step of each wave"),
            "floats",
            0.001,
            0.5,
            max_items=MAX_WAVES,
        ),
    )
    kind = "regression"
    per_step = True
    forecasts = True
    metric_name = N_("mse")
    higher_is_better = False

    def __post_init__(self) -> None:
        self.input_size = 1
        self.output_size = 1

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T = batch_size, self.seq_len
        freqs = torch.tensor(self.params["frequencies"], dtype=torch.float32)  # (K,)
        K = len(freqs)
        phase = torch.rand(B, K, 1, generator=gen) * (2 * math.pi)  # (B,K,1)
        amp = 0.5 + torch.rand(B, K, 1, generator=gen)  # (B,K,1) in [0.5, 1.5)
        t = torch.arange(T + 1, dtype=torch.float32)  # (T+1,)
        waves = amp * torch.sin(2 * math.pi * freqs[:, None] * t + phase)  # (B,K,T+1)
        series = waves.sum(1) / math.sqrt(K)  # (B,T+1), variance about 0.5 for any K
        series = series + self.params["noise"] * torch.randn(B, T + 1, generator=gen)
        return series[:, :-1, None], series[:, 1:, None]  # value at t -> value at t+1

    def baseline_prediction(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Persistence: the next value is predicted to equal the current one."""
        return x
