"""Lesson 8: a character language model learns to spell (Karpathy's char-rnn, 2015)."""

from designer.i18n import N_, _
from designer.lessons.base import Lesson, LessonRun, Prediction, RunResult, Step, Verdict, short

MODEL = LessonRun(
    "A",
    N_("LSTM, 128 units, dropout 0.3"),
    {
        "task": {"name": "charlm", "seq_len": 64},
        "model": {"layers": [{"type": "lstm", "hidden_size": 128, "dropout": 0.3}]},
        "train": {
            "optimizer": "adam",
            "lr": 0.005,
            "batch_size": 32,
            "steps": 400,
            "clip_norm": 1.0,
            "eval_every": 50,
        },
    },
)


def best_bits(result: RunResult) -> float:
    """The lowest validation bits per character over the run (the small corpus
    overfits: the run keeps its best weights)."""
    values = [e["val_metric"] for e in result.evals if e.get("val_metric") is not None]
    return min(values) if values else float("inf")


def check(runs: dict[str, RunResult]) -> Verdict:
    run = runs["A"]
    best = best_bits(run)
    passed = run.state == "finished" and best < 3.0
    text = _(
        "At its best the model needs {best} bits per character; knowing only "
        "how often each letter occurs needs {baseline} (the lesson looks for under 3)."
    ).format(best=short(best), baseline=short(run.baseline_metric))
    return Verdict(passed, text, {"best_bits": best, "baseline_bits": run.baseline_metric})


LESSON = Lesson(
    name="char-rnn",
    number=8,
    needs=(1,),
    title=N_("A character language model learns to spell"),
    source=N_("Karpathy (2015), The unreasonable effectiveness of recurrent neural networks"),
    summary=N_(
        "Trained only to predict the next character, an LSTM picks up letters, then "
        "words and spaces, then bits of grammar."
    ),
    prediction=Prediction(
        question=N_(
            "An LSTM reads a 12 KB text one character at a time and learns to predict "
            "the next one. Knowing only how often each letter occurs takes about 4.2 bits "
            "(yes/no questions) per character. After 400 steps, how many will the LSTM need?"
        ),
        choices=(
            N_("about 4: no better than the letters' frequencies"),
            N_("well under 3: it has learnt how words are spelt"),
            N_("under 1: it knows the text by heart"),
        ),
        answer=1,
        why=N_(
            "The next character is very predictable after a few letters of a word, and "
            "the LSTM's state holds those letters. Its loss falls from the letter-frequency "
            "baseline (about 4.2 bits) to around 2.5 bits: in its samples, look for words "
            "spelt right inside sentences that do not hold together. The corpus is small: "
            "after a few hundred steps the model starts memorising it, which is why the "
            "run keeps the weights of its best evaluation."
        ),
    ),
    runs=(MODEL,),
    steps=(
        Step(
            N_("Bits per character"),
            N_(
                "The loss is in bits per character: how many yes/no questions the model "
                "needs, on average, to pin down the next character. The dashed line is the "
                "letters' frequencies alone."
            ),
            "curves",
        ),
        Step(
            N_("Samples"),
            N_(
                "Text the trained model writes, one character at a time, each drawn from its "
                "prediction. Lower temperature: safer, more repetitive text."
            ),
            "sample",
            run="A",
        ),
        Step(
            N_("What the units do"),
            N_(
                "The cell state of every unit (rows) over a stretch of text. Look for units "
                "that switch at spaces or stay on inside words."
            ),
            "states",
            run="A",
        ),
    ),
    check=check,
    try_next=N_(
        "Open it in Design and remove the dropout: the validation loss turns upward "
        "sooner (overfitting). Or try a GRU of the same size."
    ),
)
