"""Shared test setup.

One torch thread: on a small shared machine more threads oversubscribe the cores
and a step can take twenty times longer (the app's training processes do the same).

Property-based tests (hypothesis) run a CI-sized number of examples by default; the
profile "long" runs 25 times as many, for a local search:
HYPOTHESIS_PROFILE=long python -m pytest tests/unit/test_untrusted_input.py (or
pytest's --hypothesis-profile=long)."""

import atexit
import os
import shutil
import tempfile

import torch
from hypothesis import settings

torch.set_num_threads(1)

settings.register_profile("long", max_examples=2500)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

# Runs and uploads the app keeps on the server go to a folder of this test run's own
# (the browser tests' servers inherit it).
os.environ["DESIGNER_STORE_DIR"] = tempfile.mkdtemp(prefix="designer-test-store-")
atexit.register(shutil.rmtree, os.environ["DESIGNER_STORE_DIR"], True)
