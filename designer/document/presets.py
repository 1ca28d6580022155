"""Ready-made experiments that load in one click: each a classic architecture on a
task that shows what it is good at.

PRESETS maps a short name to {"title", "description" (one sentence for a student),
"experiment" (a full experiment document)}; the title and description are marked for
translation (N_) and shown through _(). Every preset validates and trains (a
unit test builds each one and runs two training steps).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from designer.document.spec import Experiment
from designer.i18n import N_, _

# The first screen of the app: a deep network that works on a memory task.
DEFAULT_PRESET = "deep_lstm"

PRESETS: dict[str, dict[str, Any]] = {
    "tanh_rnn": {
        "title": N_("1-layer tanh RNN"),
        "description": N_(
            "The simplest recurrent network: one layer of 32 tanh units forecasting a "
            "sine wave one step ahead; switch the task to 'adding' to watch it forget."
        ),
        "experiment": {
            "version": 1,
            "task": {"name": "sine", "seq_len": 50},
            "model": {"layers": [{"type": "rnn", "hidden_size": 32, "nonlinearity": "tanh"}]},
            "train": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1000},
        },
    },
    "deep_lstm": {
        "title": N_("Deep LSTM (4 × 64)"),
        "description": N_(
            "Four stacked LSTM layers of 64 units remember one marked number across 50 "
            "steps to solve the adding problem, where a plain RNN fails."
        ),
        "experiment": {
            "version": 1,
            "task": {"name": "adding", "seq_len": 50},
            "model": {"layers": [{"type": "lstm", "hidden_size": 64} for _ in range(4)]},
            "train": {
                "optimizer": "adam",
                "lr": 0.003,
                "batch_size": 64,
                "steps": 1500,
                "clip_norm": 1.0,
            },
        },
    },
    "residual_gru": {
        "title": N_("Residual deep GRU"),
        "description": N_(
            "Six GRU layers with skip connections around each upper layer, so gradients "
            "reach the bottom of a deep stack, forecasting a weather station's channels."
        ),
        "experiment": {
            "version": 1,
            "task": {"name": "multivariate", "seq_len": 60, "channels": 4, "lag": 5},
            "model": {
                "layers": [{"type": "gru", "hidden_size": 48}]
                + [{"type": "gru", "hidden_size": 48, "residual": True} for _ in range(5)]
            },
            "train": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1500},
        },
    },
    "bi_gru_tagger": {
        "title": N_("Bidirectional GRU tagger"),
        "description": N_(
            "A GRU that reads the brackets both forwards and backwards, so it can tell "
            "whether an '(' is closed later on, which a one-way network cannot know."
        ),
        "experiment": {
            "version": 1,
            "task": {"name": "brackets", "seq_len": 30},
            "model": {
                "layers": [
                    {"type": "gru", "hidden_size": 32, "bidirectional": True},
                    {"type": "linear", "out_features": 32, "activation": "relu"},
                ]
            },
            "train": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 800},
        },
    },
    "echo_state": {
        "title": N_("Echo state network"),
        "description": N_(
            "A frozen random reservoir of 200 tanh units that is never trained: only the "
            "linear read-out on top learns to forecast the sine wave."
        ),
        "experiment": {
            "version": 1,
            "task": {"name": "sine", "seq_len": 100},
            "model": {
                "layers": [
                    {"type": "rnn", "hidden_size": 200, "nonlinearity": "tanh", "freeze": True}
                ]
            },
            "train": {"optimizer": "adam", "lr": 0.01, "batch_size": 64, "steps": 500},
        },
    },
    "lstm_attention": {
        "title": N_("LSTM with attention"),
        "description": N_(
            "An LSTM followed by an attention layer that can look straight back at the "
            "symbols it must copy, instead of carrying them through the whole delay."
        ),
        "experiment": {
            "version": 1,
            "task": {"name": "copy", "symbols": 5, "alphabet": 8, "lag": 10},
            "model": {
                "layers": [
                    {"type": "lstm", "hidden_size": 64},
                    {"type": "attention", "residual": True},
                ]
            },
            "train": {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1500},
        },
    },
}


def preset_title(name: str) -> str:
    """The preset's title in the reader's language."""
    title = PRESETS[name]["title"]
    return _(title)


def preset_description(name: str) -> str:
    """The preset's one-sentence description in the reader's language."""
    description = PRESETS[name]["description"]
    return _(description)


def preset_experiment(name: str) -> Experiment:
    """The preset's experiment, checked (KeyError for an unknown name)."""
    return Experiment.from_dict(copy.deepcopy(PRESETS[name]["experiment"]))


def default_experiment() -> Experiment:
    """The experiment a newcomer sees first."""
    return preset_experiment(DEFAULT_PRESET)


@functools.cache
def _normalized(name: str) -> str:
    return preset_experiment(name).to_json()


def matching_preset(exp: Experiment) -> str | None:
    """The name of the preset this experiment is exactly, if any."""
    text = exp.to_json()
    return next((name for name in PRESETS if _normalized(name) == text), None)
