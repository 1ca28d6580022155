"""Training on a real local Ray head: the same curve as a process of this server, the
same controls, a Continue, followers in this and other processes that rebuild the
same history, a run that outlives the process that started it, and a lost worker
reported as such."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch

from designer.training.ray_runner import RayRunner, connect
from designer.training.runner import ProcessRunner
from tests.services import ray_head  # noqa: F401  (a fixture)
from tests.unit.test_runner import experiment, finished, wait_for

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
LOST = "The Ray worker training this run ended; the run is lost."


@pytest.fixture(scope="module")
def cluster(ray_head):  # noqa: F811
    import ray

    os.environ["DESIGNER_RAY_ADDRESS"] = ray_head.address
    connect()
    try:
        yield ray_head
    finally:
        ray.shutdown()
        del os.environ["DESIGNER_RAY_ADDRESS"]


def name() -> str:
    return f"run-{uuid.uuid4().hex[:8]}"


def python(cluster, code: str, *args: str) -> subprocess.Popen:
    """Another Python process that joins the head, runs `code` and prints JSON."""
    env = {**cluster.env(), "DESIGNER_RAY_ADDRESS": cluster.address, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def curve(runner) -> tuple:
    history = runner.snapshot()
    return history.step, history.loss, [e["val_loss"] for e in history.evals]


def test_trains_the_same_curve_as_a_process_and_continues(cluster):
    here = finished(ProcessRunner(experiment(steps=40)))
    done = []
    there = finished(RayRunner(experiment(steps=40), actor_name=name(), on_finish=done.append))
    assert done == [there] and there.error is None
    assert curve(there) == curve(here)  # bit for bit
    assert there.record.best["step"] == here.record.best["step"]
    weights = there.record.model.state_dict()
    assert all(torch.equal(v, here.record.model.state_dict()[k]) for k, v in weights.items())
    # Continue: the second part on Ray draws the rest of the uninterrupted curve
    first = finished(RayRunner(experiment(steps=40), actor_name=name(), steps=15))
    checkpoint = first.record.checkpoint(run={"busy_seconds": first.busy_seconds})
    more = finished(RayRunner(experiment(steps=40), actor_name=name(), start=checkpoint))
    assert more.history.loss == here.history.loss
    assert more.busy_seconds > first.busy_seconds
    # an ended run's actor goes once released: nothing is left to follow
    assert wait_for(lambda: RayRunner.follow(there.actor_name, None) is None)


def test_controls_and_a_follower_in_this_process(cluster):
    runner = RayRunner(experiment(steps=100_000, optimizer="sgd", lr=0.01), actor_name=name())
    runner.start(paused=True)
    try:
        assert wait_for(lambda: runner.state == "paused")
        # one step at a time: two steps asked for between two polls of the training
        # loop are one step (the loop takes a step when one is asked for)
        runner.step_once()
        assert wait_for(lambda: len(runner.history.step) == 1)
        runner.step_once()
        assert wait_for(lambda: len(runner.history.step) == 2)
        follower = RayRunner.follow(runner.actor_name, None)
        assert follower is not None
        assert wait_for(lambda: follower.state == "paused" and curve(follower) == curve(runner))
        assert runner.change(lr=0.05)
        assert wait_for(lambda: follower.history.changes == runner.history.changes != [])
        assert follower.record.spec.lr == 0.05
        runner.resume()
        assert wait_for(lambda: len(follower.history.step) > 20)  # live
    finally:
        runner.stop()
    assert wait_for(lambda: not runner.alive and not follower.alive)
    assert runner.state == follower.state == "stopped"
    assert curve(follower) == curve(runner)
    assert follower.record.best["step"] == runner.record.best["step"]


START = """
import json, sys
from designer.training.ray_runner import RayRunner
from tests.unit.test_runner import experiment, wait_for
runner = RayRunner(experiment(steps=100_000), actor_name=sys.argv[1])
runner.start()
assert wait_for(lambda: len(runner.history.step) >= 10)
print(json.dumps(len(runner.history.step)), flush=True)
"""

FOLLOW = """
import json, sys
from designer.training.ray_runner import RayRunner
from tests.unit.test_runner import wait_for
runner = RayRunner.follow(sys.argv[1], None)
assert wait_for(lambda: runner.state == "paused")
print(json.dumps(runner.snapshot().loss), flush=True)
assert wait_for(lambda: runner.state == "failed")
print(json.dumps(str(runner.error)), flush=True)
"""


def test_a_run_outlives_its_starter_and_a_lost_worker_fails_it(cluster):
    import ray

    actor = name()
    starter = python(cluster, START, actor)
    started, _ = starter.communicate(timeout=120)
    assert starter.returncode == 0 and json.loads(started) >= 10  # and it has exited
    runner = RayRunner.follow(actor, None)
    assert runner is not None
    assert wait_for(lambda: len(runner.history.step) > json.loads(started) + 10)  # still trains
    runner.pause()
    assert wait_for(lambda: runner.state == "paused")
    other = python(cluster, FOLLOW, actor)
    losses = json.loads(other.stdout.readline())
    assert losses == runner.snapshot().loss  # the same history, rebuilt elsewhere
    handle = ray.get_actor(actor)
    os.kill(ray.get(handle.pid.remote()), 9)
    lost = time.monotonic()
    assert wait_for(lambda: runner.state == "failed") and runner.error == LOST
    assert time.monotonic() - lost < 10
    assert json.loads(other.stdout.readline()) == LOST  # the other follower too
    assert other.wait(30) == 0
