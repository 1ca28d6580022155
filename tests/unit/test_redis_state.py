"""State shared by replicas through a real redis-server: two RunStores (two servers)
see each other's links, runs, renames, deletes and uploads and lose none of them when
they change the same link at once; records tampered with in Redis are refused; the
training queue counts every replica; a shared lesson run trains once; a Redis restart
keeps every finished run. And a server alone never loads redis or ray."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import redis

from designer.serving.link_index import LINK_KEY
from designer.serving.runstore import RunStore
from designer.serving.shared_runs import CLAIM_KEY, ElsewhereRun, SharedRuns, run_key
from designer.serving.slots import RedisSlots
from tests import helpers, services
from tests.unit.test_lessons import TINY, make, wait
from tests.unit.test_runstore import Finished as Ended

redis_server = services.redis_server  # the fixture: a real redis-server
A, B = "AAAAAAAAAAA", "BBBBBBBBBBB"
DIGEST = "ab" * 32


class Finished(Ended):
    """An ended run with a name, as every runner has."""

    name = ""


def client(server) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=5)


def two_stores(server, root):
    return (
        RunStore(root, redis=client(server), replica="one"),
        RunStore(root, redis=client(server), replica="two"),
    )


@pytest.mark.services
def test_two_servers_see_the_same_links_runs_renames_deletes_and_uploads(redis_server, tmp_path):
    one, two = two_stores(redis_server, tmp_path)
    link = one.create()
    there = two.get(link.id)
    assert there is not None and there.runs() == []
    run = Finished()
    link.start(run, A)
    link.keep(run, A, "Run 1")
    assert [r["name"] for r in there.runs()] == ["Run 1"]
    assert there.current.run_id == A  # kept: read back from the shared store
    assert there.rename(A, "renamed there") == "renamed there"
    assert link.runs()[0]["name"] == "renamed there"
    there.add_upload(DIGEST, "mine.csv")
    assert link.has_upload(DIGEST)
    link.delete(A)
    assert there.runs() == [] and there.current is None
    assert not (tmp_path / link.id / "runs" / f"{A}.pt").exists()
    # keeping the same run again (both servers followed it) lists it once
    link.start(run, B)
    link.keep(run, B, "Run 2")
    there.keep(run, B, "Run 2")
    assert [r["id"] for r in one.get(link.id).runs()] == [B]


@pytest.mark.services
def test_changes_from_two_servers_at_once_lose_nothing(redis_server, tmp_path):
    one, two = two_stores(redis_server, tmp_path)
    link = one.create()
    links = [link, two.get(link.id)]

    def upload(side: int) -> None:
        for n in range(25):
            links[side].add_upload(f"{side:02x}{n:062x}", f"file {side} {n}")

    threads = [threading.Thread(target=upload, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    index = json.loads(client(redis_server).get(LINK_KEY + link.id))
    assert len(index["uploads"]) == 50
    assert 0 < client(redis_server).ttl(LINK_KEY + link.id) <= one.keep_days * 86400


@pytest.mark.services
@pytest.mark.parametrize(
    "tamper",
    [
        lambda index: "{not json",
        lambda index: json.dumps({**index, "extra": 1}),
        lambda index: json.dumps({**index, "current": "../../../etc"}),
        lambda index: json.dumps({**index, "runs": [{**index["runs"][0], "id": "../../x/abcd"}]}),
    ],
    ids=["bad JSON", "an extra key", "a path for the current run", "a path for a run id"],
)
def test_a_record_tampered_with_in_redis_is_refused(redis_server, tmp_path, tamper):
    one, two = two_stores(redis_server, tmp_path)
    link = one.create()
    run = Finished()
    link.start(run, A)
    link.keep(run, A, "Run 1")
    raw = client(redis_server)
    raw.set(LINK_KEY + link.id, tamper(json.loads(raw.get(LINK_KEY + link.id))))
    assert two.get(link.id) is None  # a bad record is absent


@pytest.mark.services
def test_the_training_limit_counts_every_server_and_serves_the_queue_in_order(redis_server):
    one, two = RedisSlots(client(redis_server), 1), RedisSlots(client(redis_server), 1)
    first, second, third = object(), object(), object()
    release = threading.Event()
    order = []

    def train(slots, owner, name):
        with slots.hold(owner, lambda: False) as got:
            order.append((name, got))
            release.wait(30)

    holder = threading.Thread(target=train, args=(one, first, "first"))
    holder.start()
    assert helpers.wait_for(lambda: one.position(first) == 0, 10)
    waiters = [threading.Thread(target=train, args=(two, second, "second"))]
    waiters[0].start()
    assert helpers.wait_for(lambda: two.position(second) == 1, 10)
    waiters.append(threading.Thread(target=train, args=(one, third, "third")))
    waiters[1].start()
    assert helpers.wait_for(lambda: one.position(third) == 2, 10)
    assert (two.running, two.waiting) == (1, 2)
    release.set()
    for thread in [holder, *waiters]:
        thread.join(30)
    assert order == [("first", True), ("second", True), ("third", True)]
    assert (one.running, one.waiting) == (0, 0)


@pytest.mark.services
def test_a_killed_server_frees_its_training_slot_when_its_lease_expires(redis_server):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import redis, sys, time\n"
            "from designer.serving.slots import RedisSlots\n"
            f"slots = RedisSlots(redis.Redis.from_url({redis_server.url!r}), 1, lease_seconds=2)\n"
            "with slots.hold(object(), lambda: False):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    slots = RedisSlots(client(redis_server), 1)
    assert slots.running == 1
    holder.kill()
    holder.wait(10)
    start = time.monotonic()
    with slots.hold(object(), lambda: time.monotonic() - start > 20) as got:
        assert got  # the dead server's lease expired within seconds


@pytest.mark.services
def test_two_servers_train_a_shared_run_once(redis_server, tmp_path):
    one = SharedRuns(tmp_path, make, redis=client(redis_server), replica="one")
    two = SharedRuns(tmp_path, make, redis=client(redis_server), replica="two")
    first = one.start(TINY)
    elsewhere = two.start(TINY)
    assert isinstance(elsewhere, ElsewhereRun) and elsewhere.state == "queued"
    assert (one.started, two.started) == (1, 0)
    wait(first)
    assert elsewhere.step <= TINY.train.steps  # its progress key is gone once it ended
    kept = two.get(TINY)
    assert not isinstance(kept, ElsewhereRun) and not kept.alive
    assert kept.record.history.loss == first.record.history.loss
    assert two.started == 0


@pytest.mark.services
def test_a_claim_whose_server_is_gone_is_taken_again(redis_server, tmp_path):
    raw = client(redis_server)
    claim = {"actor": None, "replica": "gone", "state": "running"}
    raw.set(CLAIM_KEY + run_key(TINY), json.dumps(claim))  # no heartbeat of "gone"
    mine = SharedRuns(tmp_path, make, redis=raw, replica="here")
    runner = mine.start(TINY)
    assert mine.started == 1 and not isinstance(runner, ElsewhereRun)
    wait(runner)
    assert json.loads(raw.get(CLAIM_KEY + run_key(TINY)))["replica"] == "here"


@pytest.mark.services
def test_a_redis_restart_keeps_every_finished_run(redis_server, tmp_path):
    one, _ = two_stores(redis_server, tmp_path)
    link = one.create()
    for run_id in (A, B):
        run = Finished()
        link.start(run, run_id)
        link.keep(run, run_id, f"Run {run_id[0]}")
    redis_server.restart()
    again = RunStore(tmp_path, redis=client(redis_server), replica="three").get(link.id)
    assert [r["id"] for r in again.runs()] == [A, B]
    assert again.load(A).record.step_count == 10


def test_a_server_alone_loads_neither_redis_nor_ray():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESIGNER_R")}
    code = (
        "import sys, designer, designer.serving.deployment, designer.serving.runstore\n"
        "import designer.serving.shared_runs, components.train.runs\n"
        "import components.lessons.lesson_runs, components.shell.links\n"
        "from designer.serving import deployment\n"
        "deployment.training_slots(2)\n"
        "print(sorted(m for m in ('redis', 'ray') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
