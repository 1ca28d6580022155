"""Shared test setup.

One torch thread: on a small shared machine more threads oversubscribe the cores
and a step can take twenty times longer (the app's training thread does the same)."""

import torch

torch.set_num_threads(1)
