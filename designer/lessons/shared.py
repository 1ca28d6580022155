"""The runs that more than one lesson trains: lesson 1's two networks on the adding
problem, which lessons 2 and 9 show again. One document is one shared run
(designer.serving.shared_runs), so a class that took lesson 1 finds them trained; they live
here, beside the lesson framework, so that no lesson imports another."""

from designer.i18n import N_
from designer.lessons.base import LessonRun

# The adding problem: two of fifty numbers are marked; the answer is their sum, asked
# for at the last step. The first mark can be 49 steps back.
ADDING = {"name": "adding", "seq_len": 50}
ADDING_TRAIN = {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1500, "clip_norm": 1.0}


def _adding_run(label: str, title: str, layer_type: str) -> LessonRun:
    """One recurrent layer of 64 units on the adding problem."""
    layers = [{"type": layer_type, "hidden_size": 64}]
    return LessonRun(
        label, title, {"task": ADDING, "model": {"layers": layers}, "train": ADDING_TRAIN}
    )


ADDING_RNN = _adding_run("A", N_("tanh RNN, 64 units"), "rnn")
ADDING_LSTM = _adding_run("B", N_("LSTM, 64 units"), "lstm")
