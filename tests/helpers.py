"""Helpers that the test folders share (pytest's fixtures are for what needs set-up
and tear-down; these are plain functions)."""

from __future__ import annotations

import time
from collections.abc import Callable

from designer import Experiment


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass: runs train in a process
    of their own, so a test waits for what it expects to see."""
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def diverging_experiment() -> Experiment:
    """A ReLU RNN with identity recurrence trained by SGD at lr 10, unclipped: its
    loss becomes infinite within a few steps, every time."""
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 12},
            "model": {
                "layers": [
                    {"type": "rnn", "hidden_size": 32, "nonlinearity": "relu", "init": "identity"}
                ]
            },
            "train": {"optimizer": "sgd", "lr": 10.0, "clip_norm": None, "batch_size": 16},
        }
    )
