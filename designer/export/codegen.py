"""Export: an experiment's model as standalone PyTorch code a student can read.

`module_code(exp)` writes one `Model(nn.Module)` class, plus the few small layer
classes it uses, importing only torch. It builds its modules in the same order and
with the same shapes as designer.training.model, so that
- its parameter names are the project's own (`layers.0.cell.weight_ih_l0`, ...): a
  checkpoint from the app loads with `load_state_dict(strict=True)` and gives the same
  outputs on the same batch;
- after `torch.manual_seed(seed)` it starts from the very weights the app starts from.
Each layer's line carries a comment that ties it to its card in the app, with the
shapes it maps between."""

from __future__ import annotations

import ast
import inspect
import json
import pprint
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import designer.tasks.base as base_module
from designer.document.spec import Experiment, TrainSpec
from designer.document.summary import GATES, output_width
from designer.document.variants import layer_name, task_words
from designer.export import embedded_files, layers, numpy_template, train_script
from designer.i18n import Text, _
from designer.tasks import TASKS, Task, get_task
from designer.training import schedule, trainer
from designer.training.trainer import fit_readout, readout_batches, readout_inputs

# the layers' classes, from their real file
RECURRENT = "\n\n" + inspect.getsource(layers.Recurrent)
INITIALIZE = "\n\n" + inspect.getsource(layers.initialize)
PER_STEP_LINEAR = "\n\n" + inspect.getsource(layers.PerStepLinear)
ATTENTION = "\n\n" + inspect.getsource(layers.Attention)
RECURRENT_INITIALIZE = (
    "        initialize(self.cell, hidden_size, init, forget_bias, gain, spectral_radius, "
    "input_scaling)\n"
)
RECURRENT_LEAK = (  # the argument, the attribute, and the forward pass with and without
    "        leak_rate=1.0,\n",
    "        self.leak_rate = leak_rate  # rnn only: below 1, a leaky integrator (see leaky_rnn)\n",
    """        if self.leak_rate < 1.0:  # a leaky rnn: stepped through time, with the same weights
            out = leaky_rnn(self.cell, x, self.leak_rate)  # (B, T, hidden_size * directions)
        else:
            out, _ = self.cell(x)  # (B, T, hidden_size * directions)
""",
    "        out, _ = self.cell(x)  # (B, T, hidden_size * directions)\n",
)


LINE = 100  # the longest line, as the project's ruff settings have it
ACTIVATIONS = {
    "none": "nn.Identity()",
    "relu": "nn.ReLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "gelu": "nn.GELU()",
}


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def _args(values: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    """Keyword arguments that differ from their defaults, as source text."""
    return [f"{k}={_value(v)}" for k, v in values.items() if v != defaults.get(k)]


def _call(name: str, args: list[str], indent: int, tail: str = ",") -> list[str]:
    """A call as lines of source, wrapped as `ruff format` wraps it."""
    pad = " " * indent
    inline = f"{pad}{name}({', '.join(args)}){tail}"
    if len(inline) <= LINE:
        return [inline]
    inner = " " * (indent + 4)
    joined = f"{inner}{', '.join(args)}"
    if len(joined) <= LINE:
        return [f"{pad}{name}(", joined, f"{pad}){tail}"]
    return [f"{pad}{name}(", *(f"{inner}{a}," for a in args), f"{pad}){tail}"]


RECURRENT_DEFAULTS = {
    "bidirectional": False,
    "residual": False,
    "dropout": 0.0,
    "freeze": False,
    "init": "default",
    "forget_bias": None,
    "nonlinearity": "tanh",
    "gain": 1.0,
    "spectral_radius": None,
    "input_scaling": 1.0,
    "leak_rate": 1.0,
}


def _layer_source(spec: Any, width: int, causal: bool, indent: int) -> list[str]:
    """The lines that build one layer (it must build its modules in the order
    designer.training.model does, for the same initial weights from the same seed)."""
    if spec.type in GATES:
        options = {
            "bidirectional": spec.bidirectional,
            "residual": spec.residual,
            "dropout": spec.dropout,
            "freeze": spec.freeze,
            "init": spec.init,
            "forget_bias": getattr(spec, "forget_bias", None),
            "nonlinearity": getattr(spec, "nonlinearity", "tanh"),
            "gain": spec.gain,
            "spectral_radius": spec.spectral_radius,
            "input_scaling": spec.input_scaling,
            "leak_rate": spec.leak_rate,
        }
        args = [_value(spec.type), str(width), str(spec.hidden_size)]
        return _call("Recurrent", args + _args(options, RECURRENT_DEFAULTS), indent)
    if spec.type == "linear":
        options = {"residual": spec.residual, "dropout": spec.dropout}
        args = [str(width), str(spec.out_features), ACTIVATIONS[spec.activation]]
        return _call("PerStepLinear", args + _args(options, RECURRENT_DEFAULTS), indent)
    if spec.type == "layernorm":
        return _call("nn.LayerNorm", [str(width)], indent)
    if spec.type == "dropout":
        return _call("nn.Dropout", [repr(spec.p)], indent)
    residual = ["residual=True"] if spec.residual else []
    return _call("Attention", [str(width), f"causal={causal}", *residual], indent)


def _shape(task: Task, width: int) -> str:
    return f"(B, {task.seq_len}, {width})"


def _recurrent_class(initialized: bool, leaky: bool) -> str:
    """The Recurrent class, without the lines that no layer of the stack uses: the
    call to `initialize` (every layer keeps PyTorch's init) and the leak rate (no
    layer leaks: the fused module runs every layer)."""
    cuts = [] if initialized else [(RECURRENT_INITIALIZE, "")]
    if not leaky:
        argument, attribute, leaky_forward, plain_forward = RECURRENT_LEAK
        cuts += [(argument, ""), (attribute, ""), (leaky_forward, plain_forward)]
    code = RECURRENT
    for old, new in cuts:
        assert code.count(old) == 1, old  # the template and these lines agree
        code = code.replace(old, new)
    return code


def module_code(exp: Experiment, task: Task | None = None) -> str:
    """Standalone PyTorch source of the experiment's model (see the module's doc)."""
    task = task if task is not None else get_task(exp.task)
    specs = exp.model.layers
    kinds = {spec.type for spec in specs}
    recurrent = bool(kinds & set(GATES))
    initialized = any(
        spec.type in GATES
        and (
            spec.init != "default"
            or getattr(spec, "forget_bias", None) is not None
            or spec.gain != 1.0
            or spec.spectral_radius is not None
            or spec.input_scaling != 1.0
        )
        for spec in specs
    )
    leaky = any(spec.type in GATES and spec.leak_rate < 1.0 for spec in specs)

    parts = [_header(exp, task)]
    imports = ["import math\n\n"] if "attention" in kinds else []
    if initialized or leaky or "attention" in kinds:
        imports.append("import torch\n")
    imports.append("import torch.nn as nn\n")
    if "attention" in kinds or (task.token_input and not exp.model.embedding_dim):
        imports.append("import torch.nn.functional as F\n")
    parts.append("".join(imports))
    if recurrent:
        parts.append(_recurrent_class(initialized, leaky))
        if leaky:
            parts.append("\n\n" + inspect.getsource(layers.leaky_rnn))
        if initialized:
            parts.append(INITIALIZE)
    if "linear" in kinds:
        parts.append(PER_STEP_LINEAR)
    if "attention" in kinds:
        parts.append(ATTENTION)
    parts.append(_model_class(exp, task))
    return "".join(parts)


def _header(exp: Experiment, task: Task) -> str:
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    if task.token_input:
        given = f"(B, {task.seq_len}) token ids (vocabulary {task.vocab_size})"
    else:
        given = f"{_shape(task, task.input_size)} features"
    scored = "every step" if task.per_step else "the last step only"
    out = (
        f"(B, {task.seq_len}, {task.output_size})" if task.per_step else f"(B, {task.output_size})"
    )
    title = textwrap.fill(f"{task.title}: {layers}. Exported from Deep RNN Designer.", 88)
    about = textwrap.fill(
        f"Task: {task_words(exp)}. Input {given}; output {out}, scored at {scored}.", 88
    )
    return f'''"""{title}

{about}

The parameter names are the app's own, so a checkpoint from the app loads as it is:

    import torch

    model = Model()
    checkpoint = torch.load("run.pt", weights_only=True)
    model.load_state_dict(checkpoint["state_dict"])

After torch.manual_seed({exp.train.seed}), Model() starts from the same weights as the app's
run of this experiment.
"""

'''


def _model_class(exp: Experiment, task: Task) -> str:
    lines = [
        "",
        "",
        "class Model(nn.Module):",
        f'    """{task.title}: the layer stack of the experiment, bottom to top."""',
        "",
        "    def __init__(self):",
        "        super().__init__()",
    ]
    width = task.input_size
    forward = ["", "    def forward(self, x):"]
    if task.token_input:
        forward.append(f"        # x: (B, {task.seq_len}) token ids")
        if exp.model.embedding_dim:
            width = exp.model.embedding_dim
            lines.append(f"        # each token id -> a learned vector of {width} numbers")
            lines.append(
                f"        self.embedding = nn.Embedding({task.vocab_size}, {width}, padding_idx=0)"
            )
            forward.append(f"        h = self.embedding(x)  # {_shape(task, width)}")
        else:
            forward.append(
                f"        h = F.one_hot(x, {task.vocab_size}).float()  "
                f"# {_shape(task, task.vocab_size)}: one-hot vectors"
            )
    else:
        forward.append(f"        h = x  # {_shape(task, width)}")
    lines.append("        self.layers = nn.ModuleList(")
    lines.append("            [")
    for i, spec in enumerate(exp.model.layers):
        out = output_width(spec, width)
        lines.append(f"                # layer {i + 1}: {layer_name(spec)}, width {width} -> {out}")
        lines.extend(_layer_source(spec, width, task.per_step, indent=16))
        forward.append(
            f"        h = self.layers[{i}](h)  # layer {i + 1}, {layer_name(spec)}: "
            f"{_shape(task, out)}"
        )
        width = out
    lines.append("            ]")
    lines.append("        )")
    lines.append(f"        self.head = nn.Linear({width}, {task.output_size})  # the read-out")
    if task.per_step:
        forward.append(
            f"        return self.head(h)  # (B, {task.seq_len}, {task.output_size}): every step"
        )
    else:
        forward.append(f"        h = h[:, -1]  # (B, {width}): only the last step is scored")
        forward.append(f"        return self.head(h)  # (B, {task.output_size})")
    return "\n".join(lines + forward) + "\n"


# the notebook's cells, from a real file; read, not imported (as it is, it trains)
NOTEBOOK = Path(__file__).with_name("notebook_template.py")


# --- the training script ----------------------------------------------------------------
THIRD_PARTY = {"torch", "numpy"}
# what the script has in place of the app's data files (a CSV task's data travels inside it)
STAND_INS = (embedded_files.readable_path, embedded_files.upload_path)
STANDALONE_FILES = "".join("\n\n" + inspect.getsource(f) for f in STAND_INS) + "\n"


def _literal(value: Any) -> str:
    """A Python literal of plain data, wrapped to fit the project's line length."""
    return pprint.pformat(value, width=80, sort_dicts=False)


def _script_header(exp: Experiment, task: Task) -> str:
    """The script's docstring: the template's (designer/export/train_script.py), with the
    experiment's title in place of the template's."""
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    title = textwrap.fill(f"Train {task.title.lower()}: {layers}. From Deep RNN Designer.", 88)
    return _docstring(train_script, title)


# The training part of the script, from its real file (designer/export/train_script.py):
# its constants and functions as they are, less the lines of a learning-rate schedule or
# a closed-form read-out that the experiment does not use.
SCRIPT = inspect.getsource(train_script)
TRAINING = SCRIPT[
    SCRIPT.index("# --- training, as the app trains") : SCRIPT.index("\n\n\ndef main(")
]
MAIN = "\n\n" + SCRIPT[SCRIPT.index("def main(") :]
ENGLISH_ONLY = SCRIPT[SCRIPT.index("def N_(") : SCRIPT.index("# --- end of the tasks' sentences")]
# the learning rate of a step: the schedule's, or (a constant one) LR itself
SCHEDULED_LR = "lr_at(step, LR, LR_SCHEDULE, STEPS, LR_DECAY, LR_DECAY_EVERY)  # the schedule's"
CONSTANT_LR = "LR  # the same at every step"
FIT_READOUT = re.search(r"\n( +if RIDGE_READOUT is not None:.*\n.*\n)", TRAINING)[1]
EVALUATE = "\n\n@torch.no_grad()\ndef evaluate("
assert all(TRAINING.count(lines) == 1 for lines in (SCHEDULED_LR, FIT_READOUT, EVALUATE))


# the block at the end of a task's class that answers the exporter's questions (Task's
# loss_in_bits, embedded_data): the exporter's business, not the script's
EXPORT_QUESTIONS = re.compile(
    r"\n+ *# --- the exported code's questions .*?# --- end of the exported code's questions ---\n",
    re.DOTALL,
)


def _task_source(task: Task) -> tuple[str, list[ast.stmt]]:
    """The app's own code of the task (its module and the tasks' base), without
    their imports (returned apart, to merge) and docstrings."""
    modules = [base_module, sys.modules[type(task).__module__]]
    body, imports = [], []
    for module in modules:
        source = EXPORT_QUESTIONS.sub("\n", inspect.getsource(module))
        tree = ast.parse(source)
        lines = source.splitlines()
        skip: set[int] = set()
        for node in tree.body:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if isinstance(node, (ast.Import, ast.ImportFrom)) or docstring:
                skip.update(range(node.lineno - 1, node.end_lineno or node.lineno))
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    imports.append(node)
        kept = "\n".join(line for i, line in enumerate(lines) if i not in skip).strip()
        body.append(kept)
    if any("designer.i18n" in inspect.getsource(module) for module in modules):
        body.insert(0, ENGLISH_ONLY.strip())
    return "\n\n\n".join(body), imports


def _import_block(nodes: list[ast.stmt]) -> str:
    """One import block from many, as ruff's isort orders it: the standard library,
    then torch and numpy; plain imports before from-imports; project imports left out."""
    plain: dict[str, set[str]] = {"std": set(), "third": set()}
    froms: dict[str, dict[str, set[str]]] = {"std": {}, "third": {}}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                section = "third" if alias.name.split(".")[0] in THIRD_PARTY else "std"
                as_ = f" as {alias.asname}" if alias.asname else ""
                plain[section].add(f"import {alias.name}{as_}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "__future__" or node.module.startswith("designer"):
                continue
            section = "third" if node.module.split(".")[0] in THIRD_PARTY else "std"
            names = froms[section].setdefault(node.module, set())
            names.update(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    blocks = []
    for section in ("std", "third"):
        lines = sorted(plain[section], key=lambda line: line.split()[1].lower())
        lines += [
            f"from {module} import {', '.join(sorted(names, key=_isort_key))}"
            for module, names in sorted(froms[section].items())
        ]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _isort_key(name: str) -> tuple[int, str]:
    """isort's order of imported names: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def _sections(exp: Experiment, task: Task) -> dict[str, str]:
    """The training script's parts: imports, model, task, settings, training."""
    model = module_code(exp, task)
    docstring_end = model.index('"""', 3) + 3
    model_imports, model_classes = model[docstring_end:].split("\n\n\n", 1)
    task_code, task_imports = _task_source(task)
    embedded = task.embedded_data()
    if embedded is not None:  # the task's data travels inside the script
        reads, constant, text = embedded
        assert task_code.count(reads) == 1, reads  # the task's code and its answer agree
        task_code = task_code.replace(reads, f"{constant}  # the chosen text")
        task_code += f"\n\n\n{constant} = {_literal(text)}\n"
    if "csv.field_size_limit(MAX_BYTES)" in task_code:  # a task that reads CSV files
        task_code = task_code.replace(
            "csv.field_size_limit(MAX_BYTES)",
            STANDALONE_FILES + "\ncsv.field_size_limit(MAX_BYTES)",
        )
    name, params = task.standalone()
    task_code += f"\n\n\nTASK = {TASKS[name].__name__}(params={_literal(params)})\n"
    spec = exp.train
    document = exp.to_dict()
    # the checkpoint names the task as the app knows it (a shipped series by its name,
    # though the script builds it from the CSV text inside)
    shipped = name != task.name
    document["task"] = {"name": task.name, **(task.params if shipped else params)}
    name = f"{task.title}: {', '.join(layer_name(s) for s in exp.model.layers)}"
    settings = [
        f"NAME = {_value(name)}",
        f"METRIC = {_value(task.metric_name)}",
        f"OPTIMIZER = {_value(spec.optimizer)}",
        f"LR = {spec.lr!r}",
        f"WEIGHT_DECAY = {spec.weight_decay!r}",
        f'MOMENTUM = {spec.momentum!r}  # of SGD with momentum (OPTIMIZER "momentum")',
        *_schedule_settings(spec),
        f"BATCH_SIZE = {spec.batch_size}",
        f"STEPS = {spec.steps}",
        f"CLIP_NORM = {spec.clip_norm!r}",
        f"SEED = {spec.seed}",
        f"EVAL_EVERY = {spec.eval_every}",
        *_readout_settings(spec),
        "# the experiment document, for the checkpoint",
        f"EXPERIMENT = {_literal(document)}",
    ]
    script_imports = [
        n for n in ast.parse(SCRIPT).body if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    imports = script_imports + ast.parse(model_imports).body + task_imports
    if spec.ridge_readout is not None:  # what fit_readout's signature names
        imports += ast.parse(READOUT_IMPORTS).body
    return {
        "imports": "from __future__ import annotations\n\n" + _import_block(imports),
        "model": model_classes.strip() + "\n",
        "task": task_code.strip() + "\n",
        "settings": "\n".join(settings) + "\n",
        "training": _with_readout(_training(spec), spec).strip() + "\n",
    }


def _schedule_settings(spec: TrainSpec) -> list[str]:
    """The settings of a learning-rate schedule other than constant (see lr_at)."""
    if spec.lr_schedule == "constant":
        return []
    return [
        '# the learning rate of each step (see lr_at): with the schedule "step", LR times',
        '# LR_DECAY every LR_DECAY_EVERY steps; "cosine", from LR to 0 along half a cosine',
        f"LR_SCHEDULE = {_value(spec.lr_schedule)}",
        f"LR_DECAY = {spec.lr_decay!r}",
        f"LR_DECAY_EVERY = {spec.lr_decay_every}",
    ]


def _training(spec: TrainSpec) -> str:
    """The training loop with the app's own `make_optimizer` and `take_step` (the step
    the trainer takes); with a learning-rate schedule, the app's `lr_at`, which a
    constant learning rate does without."""
    shared = [schedule.make_optimizer, schedule.take_step]
    if spec.lr_schedule == "constant":
        code = TRAINING.replace(SCHEDULED_LR, CONSTANT_LR)
        return code.replace(EVALUATE, _functions(shared) + EVALUATE)
    return TRAINING.replace(EVALUATE, _functions([*shared, schedule.lr_at]) + EVALUATE)


def _functions(functions: list[Any]) -> str:
    """The app's own functions, as they are, each after two blank lines."""
    return "".join("\n\n" + inspect.getsource(f) for f in functions)


READOUT_IMPORTS = "from collections.abc import Iterable, Iterator\n"


def _readout_settings(spec: TrainSpec) -> list[str]:
    if spec.ridge_readout is None:
        return []
    return [
        "# the read-out fitted by ridge regression with this penalty first (see fit_readout)",
        f"RIDGE_READOUT = {spec.ridge_readout!r}",
    ]


def _with_readout(code: str, spec: TrainSpec) -> str:
    """The training loop, with `ridge_readout` set: the app's own closed-form read-out
    (designer.training.trainer: its limits, its batches, the fit), which the loop fits
    before the first step, on every rank alike; without it, the loop less those lines."""
    if spec.ridge_readout is None:
        return code.replace(FIT_READOUT, "")
    constants = [
        line for line in inspect.getsource(trainer).splitlines() if line.startswith("READOUT_")
    ]
    functions = [inspect.getsource(f) for f in (readout_batches, readout_inputs, fit_readout)]
    readout = "\n\n" + "\n".join(constants) + "\n\n\n" + "\n\n".join(functions)
    return code.replace(EVALUATE, readout + EVALUATE)


def _rule(title: str) -> str:
    return f"# --- {title} ".ljust(LINE - 10, "-")


def training_code(exp: Experiment, task: Task | None = None) -> str:
    """A standalone training script: the module, the task's data, loss and metric (the
    app's own code), and the app's training loop, which also runs unchanged under
    `torchrun --nproc_per_node=N` with DistributedDataParallel. It writes a checkpoint
    the app can open."""
    task = task if task is not None else get_task(exp.task)
    parts = _sections(exp, task)
    return (
        _script_header(exp, task)
        + parts["imports"]
        + f"\n\n{_rule('the model')}\n"
        + parts["model"]
        + f"\n\n{_rule('the task: its data, loss and metric, as the app has them')}\n"
        + parts["task"]
        + f"\n\n{_rule('the settings of the experiment')}\n"
        + parts["settings"]
        + f"\n\n{_rule('training, as the app trains')}\n"
        + parts["training"]
        + MAIN
    )


def notebook(exp: Experiment, task: Task | None = None) -> str:
    """The training script as a Jupyter notebook (nbformat 4): cells where a student
    would run them, each after a markdown cell that says what it does. It trains in
    the notebook's own process (torchrun is for the script). Its cells are those of
    designer/export/notebook_template.py, split at its `# %%` markers."""
    import nbformat

    task = task if task is not None else get_task(exp.task)
    parts = _sections(exp, task)
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    words = {
        "title": f"{task.title}: {layers}",
        "description": task.description,
        "scored": "at every step" if task.per_step else "at the last step only",
    }
    cells = []
    for name, source in template_cells(NOTEBOOK.read_text()):
        if name == "[markdown]":
            cells.append(nbformat.v4.new_markdown_cell(source.format(**words)))
        else:  # a part of the script in place of the template's stand-in
            cells.append(nbformat.v4.new_code_cell(parts[name].strip() if name else source))
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nbformat.writes(book)


def template_cells(source: str) -> list[tuple[str, str]]:
    """The cells of a file split at its `# %%` markers, as (the marker's name, the
    cell's text): a markdown cell's text is its comment lines without the `#`, each
    paragraph on one line; a code cell's, its lines as they are. What comes before the
    first marker (the file's own docstring) is left out."""
    cells = []
    for chunk in source.split("\n# %%")[1:]:
        name, _newline, body = chunk.partition("\n")
        name = name.strip()
        if name == "[markdown]":
            lines = [line.removeprefix("#").removeprefix(" ") for line in body.splitlines()]
            paragraphs = "\n".join(lines).strip().split("\n\n")
            body = "\n\n".join(" ".join(p.splitlines()) for p in paragraphs)
        cells.append((name, body.strip()))
    return cells


# --- the NumPy version by hand ----------------------------------------------------------
class ExportError(ValueError):
    """A format that does not cover this experiment; the message says what it covers."""


def numpy_problems(exp: Experiment, task: Task) -> list[Text]:
    """Why the NumPy version does not cover this experiment (empty when it does)."""
    problems = []
    if task.token_input and exp.model.embedding_dim:
        problems.append(Text("an embedding (the NumPy version feeds tokens as one-hot vectors)"))
    for i, spec in enumerate(exp.model.layers):
        where = {"n": i, "name": layer_name(spec)}
        if spec.type not in ("linear", "rnn"):
            problems.append(Text("layer {n} ({name}): a {type} layer", type=spec.type, **where))
        elif spec.residual:
            problems.append(Text("layer {n} ({name}): a residual connection", **where))
        elif spec.dropout:
            problems.append(Text("layer {n} ({name}): dropout", **where))
        elif spec.type == "rnn" and spec.bidirectional:
            problems.append(Text("layer {n} ({name}): a bidirectional layer", **where))
        elif spec.type == "rnn" and spec.leak_rate < 1.0:
            problems.append(
                Text(
                    "layer {n} ({name}): a leak rate ({rate}, a leaky integrator)",
                    rate=f"{spec.leak_rate:g}",
                    **where,
                )
            )
    return problems


def numpy_code(exp: Experiment, task: Task | None = None) -> str:
    """The forward and backward passes written out in NumPy, as a textbook writes
    them: backpropagation for the per-step dense layers, backpropagation through time
    for the tanh/relu RNN layers. Only those layers (one-way, without residual
    connections, dropout or a leak rate); anything else raises ExportError saying so.
    The code is designer/export/numpy_template.py's, with the experiment's network in
    its settings."""
    task = task if task is not None else get_task(exp.task)
    problems = numpy_problems(exp, task)
    if problems:
        raise ExportError(
            _(
                "the NumPy version covers stacks of linear layers (any activation) and one-way "
                "tanh or relu RNN layers, without residual connections, dropout, leak rates or "
                "embeddings; this experiment has {problems}"
            ).format(problems="; ".join(str(p) for p in problems))
        )
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    title = textwrap.fill(f"{task.title}: {layers}, forward and backward by hand.", 88)
    source = inspect.getsource(numpy_template)
    body = source[source.index("import math\n") :]
    start, end = body.index(SETTINGS), body.index(END_OF_SETTINGS) + len(END_OF_SETTINGS)
    settings = "\n".join(_numpy_settings(exp, task)) + "\n"
    return _docstring(numpy_template, title) + body[:start] + settings + body[end:]


SETTINGS, END_OF_SETTINGS = "# --- settings ---\n", "# --- end of settings ---\n"


def _numpy_settings(exp: Experiment, task: Task) -> list[str]:
    """The network, as the NumPy template's settings: its input, layers, read-out and loss."""
    width = task.vocab_size if task.token_input else task.input_size
    vocab = task.vocab_size if task.token_input else None
    lines = [
        "# the network of the experiment",
        f"VOCAB_SIZE = {vocab}  # token ids are fed as one-hot vectors of this size (None: "
        "features)",
        "LAYERS = [  # bottom to top: (the kind of layer, its nonlinearity)",
    ]
    for i, spec in enumerate(exp.model.layers):
        out = output_width(spec, width)
        act = spec.nonlinearity if spec.type == "rnn" else spec.activation
        where = f"layer {i + 1}: {layer_name(spec)}, width {width} -> {out}"
        lines.append(f"    ({_value(spec.type)}, {_value(act)}),  # {where}")
        width = out
    loss = "mse" if task.kind == "regression" else "cross_entropy"
    if task.loss_in_bits:  # as the app's loss (designer.tasks.charlm)
        loss = "bits"
    scored = "at every step" if task.per_step else "on the last step only"
    return lines + [
        "]",
        f"PER_STEP = {task.per_step}  # the read-out {scored}",
        f'LOSS = "{loss}"  # "mse", "cross_entropy", or "bits": the cross-entropy in bits',
    ]


def _docstring(module: Any, title: str) -> str:
    """A template module's docstring with `title` in place of its first paragraph."""
    about = module.__doc__.split("\n\n", 1)[1]
    return f'"""{title}\n\n{about}"""\n\n'
