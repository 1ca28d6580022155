"""What the forkserver imports once, before it forks a training process for each run
(designer.training.runner.context): only what a training process needs.

torch._dynamo is here, not in the runner: torch imports it lazily when the first
optimizer is built, which would add 1.5 s to every run's start, and the app's own
process, which builds no optimizer, would carry its 70 MB for nothing.

Then gc.freeze(): every object imported so far moves to the collector's permanent
generation. A forked process shares the forkserver's memory until it writes to a page;
a garbage collection in the child would walk (and so write the headers of) every
object there, copying most of the forkserver's heap into each run."""

import gc

import torch._dynamo  # noqa: F401

import designer.training.runner  # noqa: F401

gc.freeze()
