"""Helpers that the test folders share (pytest's fixtures are for what needs set-up
and tear-down; these are plain functions)."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from designer import Experiment
from designer.inside.probes import ProbeSummary
from designer.lessons.base import RunResult

# Property-based tests: examples per test scale with the hypothesis profile, 1x by
# default, 25x with the "long" profile (tests/conftest.py registers it).
SCALE = max(1, settings().max_examples // 100)


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # ignored by git


def artifact(name: str) -> Path:
    """Where a test leaves a file for a person to look at: never a tracked file (the
    README's pictures are copied from here by `python -m tools.screenshots`)."""
    path = ARTIFACTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def examples(n: int, *, slow: bool = False) -> settings:
    """`n` examples (times SCALE), no per-example deadline: a module's timeout catches
    a hang, and a shared 2-core machine makes single examples' times noisy."""
    suppress = [HealthCheck.too_slow, HealthCheck.data_too_large] if slow else []
    suppress.append(HealthCheck.function_scoped_fixture)
    return settings(max_examples=n * SCALE, deadline=None, suppress_health_check=suppress)


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass: runs train in a process
    of their own, so a test waits for what it expects to see."""
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def diverging_experiment() -> Experiment:
    """A ReLU RNN with identity recurrence trained by SGD at lr 10, unclipped: its
    loss becomes infinite within a few steps, every time."""
    return Experiment.from_dict(
        {
            "task": {"name": "adding", "seq_len": 12},
            "model": {
                "layers": [
                    {"type": "rnn", "hidden_size": 32, "nonlinearity": "relu", "init": "identity"}
                ]
            },
            "train": {"optimizer": "sgd", "lr": 10.0, "clip_norm": None, "batch_size": 16},
        }
    )


def layer_doc(kind: str, size: int | None = None, **options: Any) -> dict:
    """One layer of a document: layer_doc("gru", 4, residual=True)."""
    return {"type": kind, **({"hidden_size": size} if size is not None else {}), **options}


def experiment_doc(task: str, seq_len: int, *layers: dict, **train: Any) -> dict:
    """An experiment's document: `task` over `seq_len` steps through `layers`, with
    these training settings (none: the defaults)."""
    found: dict = {"task": {"name": task, "seq_len": seq_len}, "model": {"layers": list(layers)}}
    if train:
        found["train"] = train
    return found


def run_result(
    label: str,
    val: float | None,
    *,
    baseline: float = 0.16,
    state: str = "finished",
    first: list[float] | None = None,
    last: list[float] | None = None,
    evals: list[dict] | None = None,
    metric: str = "mse",
    error: str | None = None,
    grad_norms: tuple[float, ...] = (1.0,),
) -> RunResult:
    """A made-up run result, for checking a lesson's check and its sentences: `first`
    and `last` are one recurrent layer's ||dL/dh_t|| at the first and last probe."""

    def probe(norms: list[float] | None) -> ProbeSummary | None:
        return ProbeSummary(0, 0.0, [{"grad_norm": norms}], [], {}) if norms else None

    return RunResult(
        label=label,
        title=label,
        state=state,
        error=error,
        steps=100,
        seconds=1.0,
        val_loss=val,
        val_metric=val,
        baseline_loss=baseline,
        baseline_metric=baseline,
        metric_name=metric,
        grad_norms=list(grad_norms),
        evals=[{"val_metric": val}] if evals is None else evals,
        first_probe=probe(first),
        last_probe=probe(last),
    )


# --- the app through AppTest ------------------------------------------------------------
def link_of(at: Any) -> Any:
    """The link an AppTest's page shows (its runs, kept on the server), or None."""
    from components.shell.links import run_store

    link_id = at.session_state["link_id"] if "link_id" in at.session_state else None  # noqa: SIM401
    return run_store().get(link_id) if link_id else None


def open_lessons_page(lang: str | None = None, **params: str) -> Any:
    """The app's Lessons page, opened from a link with `params` (and `lang`)."""
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parents[1] / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    for key, value in {**({"lang": lang} if lang else {}), **params}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/lessons.py").run()
    assert not at.exception, at.exception
    return at


def checkpoint_file(exp: Experiment, name: str = "from home", steps: int = 10) -> bytes:
    """A checkpoint file of a run trained elsewhere, named `name` (a visitor's own
    words, not the app's)."""
    import io

    import torch

    from designer import Trainer
    from designer.training import checkpoints

    trainer = Trainer(exp)
    list(trainer.run(steps))
    buffer = io.BytesIO()
    torch.save(checkpoints.to_data(trainer.checkpoint(run={"name": name})), buffer)
    return buffer.getvalue()


def upload_checkpoint(at: Any, name: str, content: bytes) -> Any:
    """A checkpoint file brought to the runs kept for the link (Train and Compare)."""
    (uploader,) = [u for u in at.file_uploader if (u.key or "").startswith("checkpoint_upload")]
    uploader.upload(name, content, "application/octet-stream")
    at.run()
    assert not at.exception, at.exception
    return at


def query_param(at: Any, name: str) -> str | None:
    """One parameter of an AppTest page's address (AppTest may keep it as a list)."""
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def english_left(at: Any) -> list[str]:
    """The English sentences an AppTest page shows (none on a Chinese page: names,
    code and units aside); the page ran without an exception."""
    assert not at.exception, at.exception
    return [s for text in visible_texts(at) for s in english_sentences(text)]


def figure_texts(at: Any) -> str:
    """Every figure of an AppTest page as JSON, with its unicode as it reads."""
    return " ".join(
        json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")
    )


def live_charts(at: Any) -> list[dict]:
    """What an AppTest's page gave the canvas chart components to draw."""
    return [
        json.loads(c.proto.json)
        for c in at.get("bidi_component")
        if c.proto.component_name.endswith("live_chart")
    ]


# --- languages ------------------------------------------------------------------------------
# Names, code and units that stay as they are in a Chinese page (proper names of models,
# optimizers, tools and people; activation functions; file formats).
KEPT_WORDS = {
    word.lower()
    for line in (
        "LSTM GRU RNN RNNs IRNN LSTMs GRUs PyTorch torch nn Adam AdamW RMSprop SGD ReLU relu",
        "tanh sigmoid gelu GELU MSE BPTT torchrun DDP CUDA CPU GPU CSV JSON NumPy Jupyter",
        "Streamlit Chromium Elman Jordan Karpathy Hochreiter Schmidhuber Bengio Jaeger Mikolov",
        "Le Jaitly Hinton Graves Pascanu Schuster Paliwal He Zhang Ren Sun Cho Gers Cummins",
        "Werbos Williams Zipser ESN ipynb py pt zip csv json md dropout layernorm softmax",
        "Viridis OK PCA gloo nccl plotly networkx Babel English x_t h_t c_t dL dh dx",
    )
    for word in line.split()
}
_WORD = re.compile(r"(?<![\w/.\\{])[A-Za-z][A-Za-z']+(?![\w/\\}])")
_GAP = re.compile(r"^[\s,;:()\-–—'\"“”‘’]*$")


def english_sentences(text: str, words: int = 2) -> list[str]:
    """Runs of `words` or more English words in a row (names, code and units in
    KEPT_WORDS not counted): what a Chinese page must not show."""
    found, run, last_end = [], [], None
    for match in _WORD.finditer(text):
        gap = text[last_end : match.start()] if last_end is not None else ""
        if run and not _GAP.match(gap):
            if len(run) >= words:
                found.append(" ".join(run))
            run = []
        if match.group().lower() in KEPT_WORDS:
            if len(run) >= words:
                found.append(" ".join(run))
            run = []
        else:
            run.append(match.group())
        last_end = match.end()
    if len(run) >= words:
        found.append(" ".join(run))
    return found


def _chart_texts(spec: str) -> list[str]:
    """Titles, axis titles, annotations, legend names and button labels of a figure."""
    figure = json.loads(spec)
    texts = []
    layout = figure.get("layout", {})

    def title(value: Any) -> None:
        if isinstance(value, dict):
            value = value.get("text")
        if isinstance(value, str):
            texts.append(value)

    title(layout.get("title"))
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(value, dict):
            title(value.get("title"))
    for note in layout.get("annotations", []):
        title(note.get("text"))
    for menu in layout.get("updatemenus", []):
        texts += [b.get("label", "") for b in menu.get("buttons", [])]
    for trace in figure.get("data", []):
        if trace.get("showlegend", True) and isinstance(trace.get("name"), str):
            texts.append(trace["name"])
        title(trace.get("colorbar", {}).get("title"))
        title((trace.get("marker") or {}).get("colorbar", {}).get("title"))
    return texts


def svg_texts(markup: str) -> list[str]:
    """The texts an SVG figure (designer.figures.svg) draws: its title, legend, labels."""
    root = ET.fromstring(markup)
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]


def visible_texts(at: Any) -> list[str]:
    """Every text an AppTest page shows: headings, text, messages, widget labels, help
    and options, metrics, tabs, expanders, and the figures' titles and legends."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning"):
        texts += [e.value for e in getattr(at, kind) if not e.value.startswith("<svg ")]
    texts += [t for e in at.markdown if e.value.startswith("<svg ") for t in svg_texts(e.value)]
    texts += [e.value for e in at.error] + [e.value for e in at.success]
    widgets = (
        "button", "toggle", "checkbox", "radio", "selectbox", "multiselect", "slider",
        "select_slider", "number_input", "text_input", "text_area", "segmented_control",
    )  # fmt: skip
    for kind in widgets:
        for widget in getattr(at, kind):
            texts.append(widget.label)
            if getattr(widget, "help", None):
                texts.append(widget.help)
            texts += [str(o) for o in getattr(widget, "options", []) or []]
    texts += [m.label for m in at.metric] + [t.label for t in at.tabs]
    texts += [e.label for e in at.expander]
    for chart in at.get("plotly_chart"):
        texts += _chart_texts(chart.proto.spec)
    return [t for t in texts if t]


def raw_markdown(at: Any) -> list[str]:
    """The texts of an AppTest page whose Markdown would show literally: a `**` that
    CommonMark (the rules Streamlit's renderer follows) does not read as bold, as
    beside a full-width colon ("**它说明了什么：**记忆…")."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success")
    texts = [e.value for kind in kinds for e in getattr(at, kind)]
    texts += [
        w.label for kind in ("button", "toggle", "checkbox", "radio") for w in getattr(at, kind)
    ]
    return [t for t in texts if t and shows_markdown_literally(t)]


def shows_markdown_literally(text: str) -> bool:
    """Whether a `**` of `text` stays on the page as written: CommonMark does not read
    it as bold (a full-width colon just inside it, say)."""
    from markdown_it import MarkdownIt

    return "**" in MarkdownIt("commonmark").render(text)


def lesson_texts(lesson: Any) -> list[str]:
    """Every text a lesson shows (designer.i18n.Translated for a lesson document's):
    its title, source, summary, read-more, prediction, runs' titles, steps, the
    verdict's sentences, and what to try next."""
    question = lesson.prediction
    found = [lesson.title, lesson.source, lesson.summary, lesson.read_more, lesson.try_next]
    found += [question.question, *question.choices, question.why]
    found += [run.title for run in lesson.runs]
    for step in lesson.steps:
        found += [step.title, step.text]
    found += [getattr(lesson.check, "passed", ""), getattr(lesson.check, "failed", "")]
    return [text for text in found if text]
