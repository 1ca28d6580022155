"""Deep RNN Designer's engine: experiment specs, models, tasks, training, probes.

It never imports streamlit, so it works the same from the app, a notebook, the
command line and the tests.
"""

from designer.model import build_model, summarize
from designer.spec import Experiment, SpecError
from designer.tasks import get_task
from designer.train import BackgroundRunner, Trainer, TrainingDiverged

__all__ = [
    "BackgroundRunner",
    "Experiment",
    "SpecError",
    "Trainer",
    "TrainingDiverged",
    "build_model",
    "get_task",
    "summarize",
]
