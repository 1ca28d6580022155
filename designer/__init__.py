"""Deep RNN Designer's engine: experiment specs, models, tasks, training, probes.

It never imports streamlit, so it works the same from the app, a notebook, the
command line and the tests.
"""

from designer.model import build_model
from designer.spec import Experiment, SpecError
from designer.summary import summarize
from designer.tasks import get_task
from designer.trainer import Trainer, TrainingDiverged

__all__ = [
    "Experiment",
    "SpecError",
    "Trainer",
    "TrainingDiverged",
    "build_model",
    "get_task",
    "summarize",
]
