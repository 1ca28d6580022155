"""The runs that more than one lesson trains: lesson 1's two networks on the adding
problem, which lessons 2 and 9 show again. One document is one shared run
(designer.shared_runs), so a class that took lesson 1 finds them trained; they live
here, beside the lesson framework, so that no lesson imports another."""

from designer.i18n import N_
from designer.lessons.base import LessonRun

# The adding problem: two of fifty numbers are marked; the answer is their sum, asked
# for at the last step. The first mark can be 49 steps back.
ADDING = {"name": "adding", "seq_len": 50}
ADDING_TRAIN = {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 1500, "clip_norm": 1.0}
ADDING_RNN = LessonRun(
    "A",
    N_("tanh RNN, 64 units"),
    {
        "task": ADDING,
        "model": {"layers": [{"type": "rnn", "hidden_size": 64}]},
        "train": ADDING_TRAIN,
    },
)
ADDING_LSTM = LessonRun(
    "B",
    N_("LSTM, 64 units"),
    {
        "task": ADDING,
        "model": {"layers": [{"type": "lstm", "hidden_size": 64}]},
        "train": ADDING_TRAIN,
    },
)
