"""The server's start-up imports what the pages need and nothing that runs or weighs
for nothing; the forkserver imports what a run needs, once, with its heap frozen."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from components.shell import startup

ROOT = Path(__file__).resolve().parents[2]

# The warm-up's imports, the forkserver left out (it would take seconds, and is tested
# below), in a fresh interpreter whose working folder is `tmp_path`.
WARM_UP = """
import gc, json, os, sys
sys.path.insert(0, sys.argv[1])
from designer.training import runner
runner.warm_up = lambda: None
from components.shell.startup import warm_up
warm_up()
first_run = ["plotly.graph_objs.layout._title", "plotly.graph_objs.heatmap._colorbar",
             "pyarrow.pandas_compat", "PIL.Image", "streamlit.material_icon_names"]
print(json.dumps({"dynamo": "torch._dynamo" in sys.modules, "files": os.listdir("."),
                  "services": sorted({"ray", "redis"} & set(sys.modules)),
                  "frozen": gc.get_freeze_count(),
                  "first_run_missing": [m for m in first_run if m not in sys.modules]}))
"""

PRELOAD = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
import designer.training.forkserver_preload
print(json.dumps({"dynamo": "torch._dynamo" in sys.modules, "frozen": gc.get_freeze_count()}))
"""


def _run(script: str, cwd: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_the_warm_up_trains_nothing_writes_nothing_and_leaves_dynamo_to_the_forkserver(
    tmp_path,
):
    """The exported notebook trains when imported: the warm-up once trained a model
    in the server and wrote checkpoint.pt where the server ran. torch._dynamo (70 MB)
    is for the training processes only."""
    found = _run(WARM_UP, tmp_path)
    assert found["files"] == []
    assert found["dynamo"] is False
    assert found["services"] == []  # a server alone loads neither Redis's client nor Ray
    # what a first page run would otherwise import (a figure's layout parts, a table's
    # pandas layer, the page icon's image library) is imported, and the heap frozen
    assert found["first_run_missing"] == []
    assert found["frozen"] > 10_000


def test_the_forkserver_preloads_dynamo_and_freezes_its_heap(tmp_path):
    found = _run(PRELOAD, tmp_path)
    assert found["dynamo"] is True
    assert found["frozen"] > 10_000  # torch's and the engine's objects, frozen


def test_the_first_run_modules_exist():
    # a module renamed by a Streamlit upgrade would be skipped without a word
    for name in startup.FIRST_RUN_MODULES:
        assert importlib.util.find_spec(name) is not None, name


def test_the_warm_up_skips_only_files_that_exist():
    # a renamed template would otherwise be imported (and run) at start-up again
    for name in startup.NOT_IMPORTED:
        assert importlib.util.find_spec(name) is not None, name
