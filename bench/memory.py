"""The server's memory, in PSS (a page that forked processes share counts once, split
between them), against the floor app of the same pages served in the same run.

Every session is a light client (bench/light_client.py): the server does for it all it
does for a browser, and nothing on this machine draws. The figures, in MB:
- `import_pss_mb`: a bare Python process that imports what the server's warm-up imports
  (streamlit, every module of the engine and the panels), by mapping;
- `ready_pss_mb`: the server once `/ready` answers (imports, catalogs, the forkserver);
- `visited_pss_mb`: at rest, after one session has visited every page (Design, Graph,
  Train and a run, Inspect with each view, Compare, Lessons) and closed;
- `run_pss_mb`: what the whole tree grows by while one run trains, at its peak (the
  training process, less what it shares with the forkserver it forked from), and
  `run_mirror_mb`: what the server keeps of the run once it has ended (the parent's
  mirror and the link's record);
- `idle_session_mb`: the server's growth per session left open on Design;
- `class_pss_mb`: the whole tree with `--class` sessions open on Train, each holding a
  finished run of the default design (trained `--class-steps` steps, two at a time).
Each figure comes with its breakdown by mapping (torch's libraries, other libraries,
Python's heap and anonymous memory). Memory figures barely move with the machine's
load; the seconds printed beside them do.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.app_load import progress
from bench.cold_start import floor_script
from bench.served import ROOT, process_tree, served_app, server_pid
from designer import Experiment

PAGES = ("design", "graph", "train", "inspect", "compare", "lessons")
VIEWS = ("probe", "credit", "inputs", "paths", "memory", "whatif")
IDLE_SESSIONS = 10
TARGETS_MB = {"visited": 400, "run": 80, "idle_session": 5, "class": 1536}

# What the server's warm-up imports (components/shell/startup.py), the forkserver left out
IMPORTS = """
import importlib, pkgutil, streamlit
from components.shell import startup
for package in startup.PACKAGES:
    module = importlib.import_module(package)
    for found in pkgutil.walk_packages(module.__path__, package + "."):
        if found.name not in getattr(startup, "NOT_IMPORTED", ()):
            importlib.import_module(found.name)
print(open("/proc/self/smaps_rollup").read().split("Pss:")[1].split()[0])
"""


def pss_kb(pid: int) -> int:
    """A process's PSS in kB; 0 for one that has ended."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return int(text.split("\nPss:")[1].split()[0])


def by_mapping(pids: list[int]) -> dict[str, float]:
    """PSS in MB summed over `pids`, by what is mapped: torch's own libraries, other
    shared libraries, and the rest (Python's heap, anonymous memory, the stacks)."""
    groups = {"torch_libraries": 0, "other_libraries": 0, "heap_and_anonymous": 0}
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
        except OSError:
            continue
        group = "heap_and_anonymous"
        for line in lines:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
                path = fields[5] if len(fields) > 5 else ""
                if "/torch/" in path:
                    group = "torch_libraries"
                elif ".so" in path:
                    group = "other_libraries"
                else:
                    group = "heap_and_anonymous"
            elif fields[0] == "Pss:":
                groups[group] += int(fields[1])
    return {name: round(kb / 1024, 1) for name, kb in groups.items()}


class Tree:
    """The server's process tree: the server itself, the forkserver, the runs."""

    def __init__(self, url: str):
        self.root = server_pid(url)

    def parts(self) -> dict[str, list[int]]:
        below = process_tree(self.root)
        runs = process_tree(self.root, min_depth=2)
        helpers = [pid for pid in below if pid != self.root and pid not in runs]
        return {"server": [self.root], "forkserver": helpers, "runs": runs}

    def pss_mb(self, part: str | None = None) -> float:
        parts = self.parts()
        pids = parts[part] if part else [pid for group in parts.values() for pid in group]
        return round(sum(pss_kb(pid) for pid in pids) / 1024, 1)

    def figure(self) -> dict:
        parts = self.parts()
        return {
            "pss_mb": self.pss_mb(),
            "server_mb": self.pss_mb("server"),
            "forkserver_mb": self.pss_mb("forkserver"),
            "runs_mb": self.pss_mb("runs"),
            "processes": sum(len(p) for p in parts.values()),
            "server_by_mapping_mb": by_mapping(parts["server"]),
        }


def imports_alone() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return {"pss_mb": round(int(done.stdout.split()[-1]) / 1024, 1)}


def experiment(steps: int) -> Experiment:
    """The default design, trained `steps` steps."""
    return Experiment.from_dict({"train": {"steps": steps}})


async def settle(seconds: float = 3.0) -> None:
    """Let the server finish what a closed session left (its last runs, its cleanup)."""
    await asyncio.sleep(seconds)


async def visit(session, page: str, query: str, timeout: float = 120.0) -> None:
    """One page run, to its end."""
    from bench.light_client import wait_until

    if page != session.page:  # the page's name, not the hash of the one shown
        session.page_hash = ""
    session.page, session.query = page, query
    await session.rerun()
    if not await wait_until(session.finished.is_set, timeout):
        raise RuntimeError(f"the {page} page did not finish a run within {timeout:g} s")


def kept_runs(store: Path) -> int:
    return len(list(store.rglob("runs/*.pt")))


async def train_one(session, x: str, store: Path, timeout: float = 600.0) -> None:
    """Start a run on the Train page and wait until the link keeps it (it ended)."""
    from bench.light_client import wait_until

    await visit(session, "train", f"x={x}")
    before = kept_runs(store)
    await session.rerun(click="train_start")
    if not await wait_until(lambda: kept_runs(store) > before, timeout):
        raise RuntimeError(f"a run did not end within {timeout:g} s")


async def peak_while(tree: Tree, work, part: str = "runs") -> tuple[float, object]:
    """The peak PSS of `part` of the tree, sampled every 0.25 s while `work` runs."""
    peak, task = 0.0, asyncio.ensure_future(work)
    while not task.done():
        peak = max(peak, tree.pss_mb(part))
        await asyncio.sleep(0.25)
    return peak, task.result()


async def one_visitor(url: str, tree: Tree, store: Path | None, x: str) -> dict:
    """One session visits every page (a run trained on Train) and leaves."""
    from bench.light_client import LightSession

    session = LightSession(url, "design", f"x={x}")
    await session.open()
    await visit(session, "design", f"x={x}")
    await visit(session, "graph", f"x={x}")
    figures = {}
    if store is None:  # the floor app: its pages only write text
        await visit(session, "train", "")
    else:
        await visit(session, "train", f"x={x}")
        await settle()
        before, server = tree.pss_mb(), tree.pss_mb("server")
        peak, _ = await peak_while(tree, train_one(session, x, store), part=None)
        figures["run_pss_mb"] = round(peak - before, 1)
        await settle()
        figures["run_mirror_mb"] = round(tree.pss_mb("server") - server, 1)
    query = session.query  # the run's link (r=), where the app keeps one
    for view in VIEWS:
        await visit(session, "inspect", f"{query}&view={view}")
    for page in ("compare", "lessons"):
        await visit(session, page, query)
    await session.close()
    await settle()
    return figures


async def idle_sessions(url: str, tree: Tree, x: str, count: int = IDLE_SESSIONS) -> float:
    """The server's growth per session left open on Design, in MB."""
    from bench.light_client import LightSession

    before = tree.pss_mb("server")
    sessions = [LightSession(url, "design", f"x={x}") for _ in range(count)]
    await asyncio.gather(*(s.open() for s in sessions))
    await asyncio.gather(*(visit(s, "design", f"x={x}") for s in sessions))
    await settle()
    grown = (tree.pss_mb("server") - before) / count
    await asyncio.gather(*(s.close() for s in sessions))
    return round(grown, 2)


async def a_class(url: str, tree: Tree, store: Path, sessions: int, steps: int) -> dict:
    """`sessions` sessions on Train, each with a finished run of the default design."""
    from bench.light_client import LightSession, wait_until

    x = experiment(steps).to_url()
    students = [LightSession(url, "train", f"x={x}") for _ in range(sessions)]
    await asyncio.gather(*(s.open() for s in students))
    await asyncio.gather(*(visit(s, "train", f"x={x}") for s in students))
    started, before = time.perf_counter(), kept_runs(store)
    await asyncio.gather(*(s.rerun(click="train_start") for s in students))
    peak, ended = await peak_while(
        tree, wait_until(lambda: kept_runs(store) >= before + sessions, 1800), part=None
    )
    if not ended:
        raise RuntimeError(f"{sessions} runs did not all end within 30 minutes")
    trained_s = time.perf_counter() - started
    await settle(5)
    figure = {"sessions": sessions, "steps": steps, **tree.figure()}
    figure.update(peak_while_training_mb=peak, trained_s=round(trained_s))
    await asyncio.gather(*(s.close() for s in students))
    return figure


def app_memory(sessions: int, steps: int) -> dict:
    """The app's figures, on a fresh server with two training slots."""
    x = experiment(steps).to_url()
    with tempfile.TemporaryDirectory(prefix="designer-bench-") as folder:
        store = Path(folder)
        env = {"DESIGNER_MAX_TRAININGS": "2", "DESIGNER_STORE_DIR": folder}
        with served_app(env, timeout=180) as url:
            tree = Tree(url)
            asyncio.run(settle())
            ready = tree.figure()
            progress("memory: one session visits every page")
            run = asyncio.run(one_visitor(url, tree, store, x))
            visited = tree.figure()
            idle = statistics.median(asyncio.run(idle_sessions(url, tree, x)) for _ in range(2))
        with served_app(env, timeout=180) as url:  # a fresh server: the class alone
            tree = Tree(url)
            progress(f"memory: a class of {sessions} trains")
            crowd = asyncio.run(a_class(url, tree, store, sessions, steps)) if sessions else None
    return {"ready": ready, "visited": visited, **run, "idle_session_mb": idle, "class": crowd}


def floor_memory() -> dict:
    """The floor app's figures: the same pages, each writing a line of text."""
    progress("memory: the floor app")
    with tempfile.TemporaryDirectory(prefix="designer-floor-") as folder:
        pages = {name: (f"/{name}", name.title()) for name in PAGES}
        script = floor_script(Path(folder), pages)
        with served_app(script=script, ready_path="/_stcore/health") as url:
            tree = Tree(url)
            asyncio.run(settle())
            ready = tree.pss_mb()
            asyncio.run(one_visitor(url, tree, None, ""))
            visited = tree.pss_mb()
            idle = asyncio.run(idle_sessions(url, tree, ""))
    return {"ready_pss_mb": ready, "visited_pss_mb": visited, "idle_session_mb": idle}


def memory(sessions: int = 30, steps: int = 1500) -> dict:
    """The `memory` line of `python -m bench.app_load --only memory`."""
    started = time.perf_counter()
    app = app_memory(sessions, steps)
    crowd = app["class"]
    return {
        "bench": "memory",
        "import_pss_mb": imports_alone()["pss_mb"],
        "ready_pss_mb": app["ready"]["pss_mb"],
        "visited_pss_mb": app["visited"]["pss_mb"],
        "run_pss_mb": app["run_pss_mb"],
        "run_mirror_mb": app["run_mirror_mb"],
        "idle_session_mb": app["idle_session_mb"],
        "class_pss_mb": crowd["pss_mb"] if crowd else None,
        "breakdown": {"ready": app["ready"], "visited": app["visited"], "class": crowd},
        "floor": floor_memory(),
        "targets_mb": TARGETS_MB,
        "wall_s": round(time.perf_counter() - started),
    }
