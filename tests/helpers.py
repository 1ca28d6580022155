"""Helpers that the test folders share (pytest's fixtures are for what needs set-up
and tear-down; these are plain functions)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

from designer import Experiment

# Property-based tests: examples per test scale with the hypothesis profile, 1x by
# default, 25x with the "long" profile (tests/conftest.py registers it).
SCALE = max(1, settings().max_examples // 100)


def examples(n: int, *, slow: bool = False) -> settings:
    """`n` examples (times SCALE), no per-example deadline: a module's timeout catches
    a hang, and a shared 2-core machine makes single examples' times noisy."""
    suppress = [HealthCheck.too_slow, HealthCheck.data_too_large] if slow else []
    suppress.append(HealthCheck.function_scoped_fixture)
    return settings(max_examples=n * SCALE, deadline=None, suppress_health_check=suppress)


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


# --- the app through AppTest ------------------------------------------------------------
def link_of(at: Any) -> Any:
    """The link an AppTest's page shows (its runs, kept on the server), or None."""
    from components.links import run_store

    link_id = at.session_state["link_id"] if "link_id" in at.session_state else None  # noqa: SIM401
    return run_store().get(link_id) if link_id else None


def live_charts(at: Any) -> list[dict]:
    """What an AppTest's page gave the canvas chart components to draw."""
    return [
        json.loads(c.proto.json)
        for c in at.get("bidi_component")
        if c.proto.component_name.endswith("live_chart")
    ]
