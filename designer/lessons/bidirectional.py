"""Lesson 6: bidirectional tagging (Schuster & Paliwal 1997)."""

from designer.i18n import N_, _
from designer.lessons.base import (
    Lesson,
    LessonRun,
    Prediction,
    RunResult,
    Step,
    Verdict,
    loss_words,
)

# Each bracket is tagged: is it matched? For a '(' that depends on what comes AFTER it.
TASK = {"name": "brackets", "seq_len": 30}
TRAIN = {"optimizer": "adam", "lr": 0.003, "batch_size": 64, "steps": 800, "clip_norm": 1.0}
ONE_WAY = LessonRun(
    "A",
    N_("GRU, 64 units, left to right"),
    {"task": TASK, "model": {"layers": [{"type": "gru", "hidden_size": 64}]}, "train": TRAIN},
)
BOTH_WAYS = LessonRun(
    "B",
    N_("bidirectional GRU, 32 units each way"),
    {
        "task": TASK,
        "model": {"layers": [{"type": "gru", "hidden_size": 32, "bidirectional": True}]},
        "train": TRAIN,
    },
)


def check(runs: dict[str, RunResult]) -> Verdict:
    one, both = runs["A"], runs["B"]
    passed = (
        both.val_metric is not None
        and one.val_metric is not None
        and both.val_metric > 0.97
        and both.val_metric - one.val_metric > 0.05
    )
    text = _("Reading both ways: {both}. Reading left to right only: {one}.").format(
        both=loss_words(both), one=loss_words(one)
    )
    return Verdict(
        passed,
        text,
        {"bidirectional_accuracy": both.val_metric, "one_way_accuracy": one.val_metric},
    )


LESSON = Lesson(
    name="bidirectional",
    number=6,
    needs=(1,),
    title=N_("Reading both ways: bidirectional tagging"),
    source=N_("Schuster & Paliwal (1997), Bidirectional recurrent neural networks"),
    summary=N_(
        "Whether an opening bracket is ever closed depends on what follows it: a "
        "network that reads only left to right cannot know, one that reads both ways can."
    ),
    prediction=Prediction(
        question=N_(
            "Each bracket of a string like '(()))((' is tagged matched or unmatched. "
            "A one-way GRU of 64 units against a bidirectional GRU of 32 units each way (the "
            "same number of units). Which tags better?"
        ),
        choices=(
            N_("the one-way GRU: more units per direction"),
            N_("the bidirectional GRU"),
            N_("the same"),
        ),
        answer=1,
        why=N_(
            "A ')' can be tagged from the past alone (was there an open '(' to close?), but "
            "a '(' is matched only if a ')' comes later. The bidirectional layer runs a second "
            "GRU from right to left and joins both states at every step, so every tag sees "
            "the whole string. About a sixth of the tags need the future: that is the one-way "
            "network's ceiling."
        ),
    ),
    runs=(ONE_WAY, BOTH_WAYS),
    steps=(
        Step(
            N_("Accuracy"),
            N_(
                "The metric is the share of brackets tagged right; the dashed line is always "
                "guessing the commonest tag."
            ),
            "curves",
        ),
        Step(
            N_("Two directions on the graph"),
            N_(
                "The bidirectional layer unrolled: one row runs forward, one backward, and "
                "every output joins both."
            ),
            "graph",
            run="B",
        ),
        Step(N_("The numbers"), N_("Final accuracy of each."), "table"),
    ),
    check=check,
    try_next=N_(
        "Could a one-way network do it if it answered later? Try the copy task with a "
        "lag, or give the one-way GRU a second layer: the future is still out of reach."
    ),
)
