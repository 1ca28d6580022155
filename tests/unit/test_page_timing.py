"""The page runs' timing hook (components/shell/timing.py) that the load benchmark
reads, and the start-up warm-up's list of files it must not import."""

import json

from components.shell import timing


def test_a_run_writes_its_sections_once_enabled(tmp_path, monkeypatch):
    path = tmp_path / "times.jsonl"
    monkeypatch.setattr(timing, "PATH", str(path))
    timing.begin()
    timing.mark("sidebar")
    timing.mark("figures")
    timing.mark("figures")  # a section marked twice adds up
    timing.end("design", completed=True)
    timing.begin()
    timing.end("train", completed=False)
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert first["page"] == "design" and first["completed"]
    assert list(first["sections"]) == ["sidebar", "figures", "rest"]
    assert sum(first["sections"].values()) <= first["seconds"] + 1e-3
    assert second["page"] == "train" and not second["completed"]
    assert list(second["sections"]) == ["rest"]


def test_nothing_is_written_or_kept_when_disabled(tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "PATH", None)
    monkeypatch.chdir(tmp_path)
    timing.begin()
    timing.mark("sidebar")
    timing.end("design", completed=True)
    assert getattr(timing._run, "record", None) is None
    assert list(tmp_path.iterdir()) == []
