"""A class's predictions on disk: counted once per voter, kept with the shared run and
removed with it, bounded, and never a path built from a link's text."""

from __future__ import annotations

import os

import pytest

from designer.serving import shared_runs, tallies
from designer.serving.shared_runs import SharedRuns
from designer.serving.tallies import Tallies

KEY = "a" * 32  # the shape of a shared run's key


def test_votes_are_counted_once_per_voter(tmp_path):
    store = Tallies(tmp_path)
    made, secret = store.new_class(KEY, "why-gates")
    alice, bob = tallies.new_voter(), tallies.new_voter()
    assert store.vote(made, alice, 1)
    assert store.vote(made, bob, 0)
    assert store.vote(made, alice, 2)  # a changed mind replaces the vote
    assert store.count(made, 4) == [1, 0, 1, 0]
    assert store.is_teacher(made, secret)
    assert not store.is_teacher(made, secret[:-1] + ("x" if secret[-1] != "x" else "y"))
    assert not list(tmp_path.rglob("*.part"))  # every write was whole


def test_a_second_replica_on_the_same_store_counts_the_same_class(tmp_path):
    made, secret = Tallies(tmp_path).new_class(KEY, "why-gates")
    other = Tallies(tmp_path)  # another server process, the store shared
    found = other.find(KEY, made.id, "why-gates")
    assert found is not None and other.is_teacher(found, secret)
    other.vote(found, tallies.new_voter(), 3)
    assert Tallies(tmp_path).count(made, 4) == [0, 0, 0, 1]


@pytest.mark.parametrize(
    "class_id", ["", "../../etc", "..", "a/b/c/d/e/f", "x" * 200, "short", "ok_id_but\x00nul"]
)
def test_a_crafted_class_id_never_reaches_the_disk(tmp_path, class_id):
    store = Tallies(tmp_path)
    store.new_class(KEY, "why-gates")
    assert store.find(KEY, class_id, "why-gates") is None


def test_a_class_opens_only_its_own_lesson(tmp_path):
    store = Tallies(tmp_path)
    made, _ = store.new_class(KEY, "why-gates")
    assert store.find(KEY, made.id, "irnn") is None
    assert store.find("b" * 32, made.id, "why-gates") is None


def test_a_bad_voter_or_choice_is_refused(tmp_path):
    store = Tallies(tmp_path)
    made, _ = store.new_class(KEY, "why-gates")
    assert not store.vote(made, "../../x", 1)
    assert not store.vote(made, tallies.new_voter(), -1)
    (made.folder / "votes" / "notavoteatall").write_text("zzz")  # unreadable: skipped
    (made.folder / "votes" / "outofrangevote").write_text("99")
    assert store.count(made, 3) == [0, 0, 0]


def test_a_full_class_keeps_its_votes_and_refuses_new_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(tallies, "MAX_VOTES", 3)
    store = Tallies(tmp_path)
    made, _ = store.new_class(KEY, "why-gates")
    voters = [tallies.new_voter() for _ in range(4)]
    assert all(store.vote(made, v, 0) for v in voters[:3])
    assert not store.vote(made, voters[3], 0)
    assert store.vote(made, voters[0], 1)  # one already counted may still change it
    assert store.count(made, 2) == [2, 1]


def test_the_oldest_classes_of_a_run_go_first(tmp_path, monkeypatch):
    monkeypatch.setattr(tallies, "MAX_CLASSES", 3)
    store = Tallies(tmp_path)
    made = [store.new_class(KEY, "why-gates")[0] for _ in range(5)]
    kept = [m for m in made if store.find(KEY, m.id, "why-gates") is not None]
    assert len(list((tmp_path / tallies.FOLDER / KEY).iterdir())) == 3
    assert made[-1] in kept


def test_a_removed_class_is_gone_for_its_screens(tmp_path):
    store = Tallies(tmp_path)
    made, _ = store.new_class(KEY, "why-gates")
    store.remove_run(KEY)
    assert store.find(KEY, made.id, "why-gates") is None
    assert not store.vote(made, tallies.new_voter(), 0)
    assert store.count(made, 2) == [0, 0]


def test_the_tallies_leave_with_their_shared_run(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_runs, "MAX_ON_DISK", 1)
    runs = SharedRuns(tmp_path, make=None)
    old, new = "c" * 32, "d" * 32
    (tmp_path / f"{old}.pt").write_bytes(b"")
    store = Tallies(tmp_path)
    gone, _ = store.new_class(old, "why-gates")
    kept, _ = store.new_class(new, "why-gates")
    (tmp_path / f"{new}.pt").write_bytes(b"")
    os.utime(tmp_path / f"{old}.pt", (1, 1))  # the older run
    runs._prune()
    assert not (tmp_path / f"{old}.pt").exists()
    assert store.find(old, gone.id, "why-gates") is None
    assert store.find(new, kept.id, "why-gates") is not None
