"""Deep RNN Designer's engine: experiment specs, models, tasks, training, probes.

It never imports streamlit, so it works the same from the app, a notebook, the
command line and the tests.
"""

from designer.document.spec import Experiment, SpecError
from designer.document.summary import summarize
from designer.tasks import get_task
from designer.training.model import build_model
from designer.training.trainer import Trainer, TrainingDiverged

__all__ = [
    "Experiment",
    "SpecError",
    "Trainer",
    "TrainingDiverged",
    "build_model",
    "get_task",
    "summarize",
]
