"""Shared test setup.

One torch thread: on a small shared machine more threads oversubscribe the cores
and a step can take twenty times longer (the app's training thread does the same)."""

import atexit
import os
import shutil
import tempfile

import torch

torch.set_num_threads(1)

# Runs and uploads the app keeps on the server go to a folder of this test run's own
# (the browser tests' servers inherit it).
os.environ["DESIGNER_STORE_DIR"] = tempfile.mkdtemp(prefix="designer-test-store-")
atexit.register(shutil.rmtree, os.environ["DESIGNER_STORE_DIR"], True)
