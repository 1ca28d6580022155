"""Runs kept on the server per link: what a reload, a shared link and a restarted
server see; the limits; and the faults a hosted server meets (a training process
killed from outside, a run whose training raises)."""

import json
import os
import signal
import time
from functools import partial

import pytest

from designer import Experiment, Trainer
from designer.serving.runstore import RunStore, StoredRun
from designer.tasks import datafiles
from designer.training import checkpoints
from designer.training.checkpoints import CheckpointError
from designer.training.runner import ProcessRunner
from tests import helpers

wait_for = partial(helpers.wait_for, timeout=60.0)


def experiment(**train) -> Experiment:
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 10},
            "model": {"layers": [{"type": "gru", "hidden_size": 6}]},
            "train": {"batch_size": 8, "eval_every": 5, "probe_every": 5, **train},
        }
    )


class Finished:
    """A run that has ended, as a runner reports it (without a process)."""

    def __init__(self, steps: int = 10, state: str = "finished"):
        self.record = Trainer(experiment())
        list(self.record.run(steps))
        self.state, self.error, self.total = state, None, steps
        self.busy_seconds, self.alive = 1.5, False
        import threading

        self.model_lock = threading.Lock()

    def stop(self, wait=None):
        pass


def test_a_restarted_server_shows_the_kept_runs_and_reports_the_lost_one(tmp_path):
    store = RunStore(tmp_path)
    link = store.create()
    run = Finished()
    link.start(run, "AAAAAAAAAAA")
    assert link.keep(run, "AAAAAAAAAAA", "Run 1") == []
    link.start(Finished(), "BBBBBBBBBBB")  # training when the server stops

    restarted = RunStore(tmp_path)
    again = restarted.get(link.id)
    assert [r["name"] for r in again.runs()] == ["Run 1"]
    assert "was lost" in again.lost
    assert again.current is None  # the lost run is not shown as running
    shown = again.open("AAAAAAAAAAA")
    assert isinstance(shown, StoredRun) and shown.state == "finished" and not shown.alive
    assert shown.history.loss == run.record.history.loss
    assert [p.step for p in shown.history.probes] == [0, 5, 10]
    assert shown.record.last_probe.layers[0].grad_hidden.shape[1] == 10
    assert shown.busy_seconds == 1.5
    # the lost run is reported once, not again after the next restart
    assert RunStore(tmp_path).get(link.id).lost is None


def test_a_run_killed_as_the_server_stops_is_reported_lost_not_failed(tmp_path):
    store = RunStore(tmp_path)
    link = store.create()
    run = Finished(state="failed")  # its process was killed with the server
    link.start(run, "AAAAAAAAAAA")
    store.close()  # the server is stopping (at exit)
    assert link.keep(run, "AAAAAAAAAAA", "Run 1") == [] and link.runs() == []
    again = RunStore(tmp_path).get(link.id)
    assert "was lost" in again.lost and again.runs() == []


def test_the_current_run_survives_a_reload(tmp_path):
    store = RunStore(tmp_path)
    link = store.create()
    run = Finished()
    link.start(run, "AAAAAAAAAAA")
    store.attach(link)
    link.keep(run, "AAAAAAAAAAA", "Run 1")
    assert store.get(link.id).current is run  # a second session: the same object
    assert RunStore(tmp_path).get(link.id).current.history.step == run.record.history.step


def test_runs_kept_are_bounded_oldest_dropped_first(tmp_path):
    store = RunStore(tmp_path, max_runs=2)
    link = store.create()
    runs = [Finished(steps=3) for _ in range(3)]
    ids = ["AAAAAAAAAA" + c for c in "123"]
    dropped = [link.keep(run, ids[i], f"Run {i}") for i, run in enumerate(runs)]
    assert dropped == [[], [], ["Run 0"]]
    assert [r["name"] for r in link.runs()] == ["Run 1", "Run 2"]
    assert sorted(p.stem for p in (link.folder / "runs").glob("*.pt")) == ids[1:]
    link.delete(ids[1])
    assert [r["name"] for r in link.runs()] == ["Run 2"]


def test_unknown_malformed_and_expired_links_are_not_found(tmp_path):
    store = RunStore(tmp_path, keep_days=1)
    link = store.create()
    for bad in ["", "../../etc/passwd", "x" * 22 + "/", "short", link.id[:-1] + "!"]:
        assert store.get(bad) is None
    assert store.get("A" * 22) is None  # well formed, never made
    with pytest.raises(Exception, match="not kept"):
        link.open("../../../x")
    index = link.folder / "index.json"
    index.write_text(index.read_text().replace('"used": ', '"used": 1, "was": '))
    fresh = RunStore(tmp_path, keep_days=1)  # start-up removes links unused for too long
    assert fresh.get(link.id) is None and not link.folder.exists()


def test_a_link_nobody_shows_stops_its_run_after_the_grace_period(tmp_path):
    store = RunStore(tmp_path, grace_seconds=30)
    link = store.create()
    runner = ProcessRunner(experiment(steps=100_000))
    link.start(runner, "AAAAAAAAAAA")
    runner.on_finish = lambda r: link.keep(r, "AAAAAAAAAAA", "Run 1")
    runner.start()
    later = []
    try:
        store.attach(link)
        assert wait_for(lambda: len(runner.history.step) > 3)
        store.detach(link, later=lambda delay, action: later.append(action))  # a reload...
        store.attach(link)  # ...opens a new session before the grace period ends
        later.pop()()
        time.sleep(0.5)
        assert runner.alive  # still training
        store.detach(link, later=lambda delay, action: later.append(action))  # tab closed
        later.pop()()
        assert wait_for(lambda: not runner.alive)
    finally:
        runner.stop()
    assert runner.state == "stopped" and [r["state"] for r in link.runs()] == ["stopped"]


def test_a_training_process_killed_from_outside_ends_the_run_plainly(tmp_path):
    store = RunStore(tmp_path)
    link = store.create()
    runner = ProcessRunner(experiment(steps=100_000))
    runner.on_finish = lambda r: link.keep(r, "AAAAAAAAAAA", "Run 1")
    link.start(runner, "AAAAAAAAAAA")
    runner.start()
    try:
        assert wait_for(lambda: len(runner.history.step) > 3)
        os.kill(runner.pid, signal.SIGKILL)
        assert wait_for(lambda: not runner.alive)
    finally:
        runner.stop()
    assert runner.state == "failed" and "killed by SIGKILL" in runner.error
    assert link.runs()[0]["state"] == "failed"  # kept, with what it had learnt
    again = ProcessRunner(experiment(steps=5))  # training works again
    again.start()
    assert wait_for(lambda: not again.alive) and again.state == "finished"


def test_a_run_whose_training_raises_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_STORE_DIR", str(tmp_path))
    content = "a,b\n" + "".join(f"{i % 7},{i % 5}\n" for i in range(200))
    digest = datafiles.save_upload(content.encode())
    exp = Experiment.from_dict({"task": {"name": "csv", "upload": digest, "seq_len": 10}})
    runner = ProcessRunner(exp)
    datafiles.upload_path(digest).unlink()  # gone before the training process reads it
    runner.start()
    assert wait_for(lambda: not runner.alive)
    assert runner.state == "failed" and "upload it again" in runner.error


A, B, C = "AAAAAAAAAAA", "BBBBBBBBBBB", "CCCCCCCCCCC"


def shown_pair(tmp_path):
    """A link on show with run A and its variant B (both ended, not kept yet)."""
    store = RunStore(tmp_path)
    link = store.create()
    store.attach(link)
    a, b = Finished(), Finished()
    link.start(a, A)
    link.start(b, B, variant_of=A)
    return link, a, b


def test_a_variant_trains_beside_the_current_run_and_both_are_kept(tmp_path):
    link, a, b = shown_pair(tmp_path)
    assert link.current is a and link.variant is b and link.shown() == [a, b]
    assert link.find(B) is b and link.find(C) is None
    assert link.index["pair"] == [A, B]  # Compare opens on these two
    link.keep(a, A, "Run 1")
    link.keep(b, B, "Run 2")
    assert (link.index["current"], link.index["variant"]) == (A, B)

    again = RunStore(tmp_path).get(link.id)  # a restarted server shows both
    assert again.current.run_id == A and again.variant.run_id == B
    assert again.variant.name == "Run 2" and again.index["pair"] == [A, B]

    link.start(Finished(), B, variant_of=A)  # another variant replaces the variant only
    assert link.current is a and link.variant is not b
    link.open(A)  # a kept run opened is shown alone
    assert link.variant is None and link.current.run_id == A
    link.start(Finished(), C)  # a new run: no variant, no pair
    assert link.variant is None and link.index["pair"] == []
    link.discard()
    assert link.shown() == []


def test_a_run_and_its_variant_lost_in_a_restart_are_both_reported(tmp_path):
    store = RunStore(tmp_path)
    link = store.create()
    link.start(Finished(), A)
    link.start(Finished(), B, variant_of=A)
    again = RunStore(tmp_path).get(link.id)
    assert again.lost.startswith("The 2 runs that were training")
    # an index written before variants existed (one running run as a dict) still reads
    index = link.folder / "index.json"
    data = json.loads(index.read_text())
    data["running"] = {"id": A, "started": 1.0}
    index.write_text(json.dumps(data))
    assert "was lost" in RunStore(tmp_path).get(link.id).lost


def test_kept_runs_can_be_renamed(tmp_path):
    link = RunStore(tmp_path).create()
    run = Finished()
    link.start(run, A)
    link.keep(run, A, "Run 1")
    assert link.rename(A, "  RNN,   no clipping ") == "RNN, no clipping"
    assert link.runs()[0]["name"] == "RNN, no clipping" and link.current.name == "RNN, no clipping"
    assert link.rename(A, "   ") == "RNN, no clipping"  # an empty name is not taken
    assert len(link.rename(A, "x" * 500)) == 80
    with pytest.raises(CheckpointError, match="not kept"):
        link.rename(B, "other")
    assert RunStore(tmp_path).get(link.id).runs()[0]["name"] == "x" * 80


def test_a_checkpoint_brought_from_elsewhere_is_kept_and_shown(tmp_path):
    link = RunStore(tmp_path, max_runs=2).create()
    trainer = Trainer(experiment())
    list(trainer.run(10))
    checkpoint = checkpoints.load(_saved(trainer, tmp_path / "mine.pt"))
    shown, dropped = link.add(checkpoint, "  mine\n" + "x" * 200)
    run_id = shown.run_id
    assert dropped == [] and link.current is shown
    assert shown.history.loss == trainer.history.loss and shown.name == "mine " + "x" * 75
    assert shown.record.resume_state["optimizer"]  # it can be continued exactly
    info = link.runs()[0]
    assert info["step"] == 10 and info["task"] == "adding"
    assert link.path(run_id).is_file()
    link.add(checkpoint, "second")
    _, dropped = link.add(checkpoint, "third")
    assert dropped == [shown.name] and [r["name"] for r in link.runs()] == ["second", "third"]
    with pytest.raises(CheckpointError):
        link.path(run_id)  # dropped: no longer downloadable


def test_another_tab_cannot_leave_a_run_training_unseen(tmp_path):
    """Two tabs of one link: a run set up by one and replaced by the other before it
    started never trains; a variant of a run no longer shown is refused."""
    link = RunStore(tmp_path).create()
    first = ProcessRunner(experiment(steps=100_000))
    first.on_finish = lambda r: link.keep(r, A, "Run 1")
    link.start(first, A)
    link.start(Finished(), B)  # the other tab, before the first tab starts its run
    first.start()
    assert wait_for(lambda: not first.alive)
    assert first.state == "stopped" and not first.history.step
    assert link.index["running"] == [{"id": B, "started": link.index["running"][0]["started"]}]
    assert not link.start(Finished(), C, variant_of=A)  # A is no longer on show
    assert link.variant is None


def test_deleting_a_run_takes_it_off_every_page(tmp_path):
    link, a, b = shown_pair(tmp_path)
    link.keep(a, A, "Run 1")
    link.keep(b, B, "Run 2")
    link.delete(B)
    assert link.variant is None and link.index["variant"] is None
    assert link.index["pair"] == [] and link.current is a


def _saved(trainer, path):
    trainer.save(str(path))
    return path
