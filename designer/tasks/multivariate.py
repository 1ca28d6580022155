"""A synthetic weather station: coupled channels that follow each other with a delay."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from designer.i18n import N_
from designer.tasks.base import MAX_SEQ_LEN, Param, Task

CHANNELS = ("wind", "temperature", "humidity", "pressure", "cloud", "rain")
SIGNS = (1.0, -1.0, 1.0, -1.0, 1.0, 1.0)  # how each channel answers the one before it
DAY = 24  # steps per daily cycle
GUST = 4  # the wind is white noise averaged over this many steps


@dataclass
class MultivariateTask(Task):
    name = "multivariate"
    title = N_("Weather station (several channels)")
    description = N_(
        "A made-up weather station records up to six channels in standardised units: wind, "
        "temperature, humidity, pressure, cloud and rain. The wind is gusty and hard to "
        "predict. Every other channel echoes the channel before it `lag` steps later (when "
        "the wind picks up, the temperature drops `lag` steps after; the humidity follows "
        "the temperature another `lag` steps on, and so on), on top of a daily cycle of 24 "
        "steps and some measurement noise. At every step the network sees all channels and "
        "forecasts all of them one step ahead. The baseline is persistence: tomorrow "
        "equals today."
    )
    lesson = N_(
        "The answer is already in the data, `lag` steps back in another channel: a network "
        "that remembers that far beats persistence easily; one that cannot, barely does."
    )
    PARAMS = (
        Param("seq_len", 60, N_("time steps per sequence"), "int", 2, MAX_SEQ_LEN),
        Param("channels", 4, N_("number of channels (wind, temperature, ...)"), "int", 2, 6),
        Param("lag", 5, N_("delay in steps between a channel and the next"), "int", 1, 50),
        Param("noise", 0.1, N_("standard deviation of the measurement noise"), "float", 0.0, 1.0),
    )
    kind = "regression"
    per_step = True
    forecasts = True
    metric_name = N_("mse")
    higher_is_better = False

    def __post_init__(self) -> None:
        self.input_size = self.params["channels"]
        self.output_size = self.params["channels"]

    @property
    def channel_names(self) -> tuple[str, ...]:
        return CHANNELS[: self.params["channels"]]

    def input_names(self) -> list[str]:
        return list(self.channel_names)

    def output_names(self) -> list[str]:
        return list(self.channel_names)

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, C, lag = batch_size, self.seq_len, self.params["channels"], self.params["lag"]
        n = T + 1 + (C - 1) * lag  # the wind must start early enough for the last channel
        # wind: gusts (white noise averaged over GUST steps, unit variance) + a slow front
        white = torch.randn(B, n + GUST - 1, generator=gen)
        gusts = white.unfold(1, GUST, 1).sum(-1) / math.sqrt(GUST)  # (B,n)
        t = torch.arange(n, dtype=torch.float32)
        front_freq = 0.01 + 0.02 * torch.rand(B, 1, generator=gen)
        front_phase = 2 * math.pi * torch.rand(B, 1, generator=gen)
        wind = gusts + 0.7 * torch.sin(2 * math.pi * front_freq * t + front_phase)  # (B,n)
        # channel c echoes the wind c*lag steps later: it is the wind shifted by c*lag
        starts = [(C - 1 - c) * lag for c in range(C)]
        echo = torch.stack([wind[:, s : s + T + 1] for s in starts], dim=-1)  # (B,T+1,C)
        signs = torch.tensor(SIGNS[:C])
        day_phase = 2 * math.pi * torch.rand(B, 1, 1, generator=gen)
        day_shift = torch.arange(C) * (2 * math.pi / C)  # each channel peaks at its own hour
        hours = torch.arange(T + 1, dtype=torch.float32)[:, None]  # (T+1,1)
        daily = 0.5 * torch.sin(2 * math.pi * hours / DAY + day_shift + day_phase)  # (B,T+1,C)
        noise = self.params["noise"] * torch.randn(B, T + 1, C, generator=gen)
        series = signs * echo + daily + noise  # (B,T+1,C)
        return series[:, :-1], series[:, 1:]  # all channels at t -> all channels at t+1

    def baseline_prediction(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Persistence: every channel is predicted to keep its current value."""
        return x
