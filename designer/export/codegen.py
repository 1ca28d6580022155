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
from typing import Any

import designer.tasks.base as base_module
from designer.document.spec import Experiment, TrainSpec
from designer.document.summary import GATES, output_width
from designer.document.variants import layer_name, task_words
from designer.export import layers, train_script
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


# --- the training script ----------------------------------------------------------------
THIRD_PARTY = {"torch", "numpy"}
STANDALONE_FILES = '''

def readable_path(path):
    """This script carries its CSV data inside it: it reads no file."""
    raise TaskDataError("the CSV data is inside this script; no file is read")


def upload_path(digest):
    raise TaskDataError("the CSV data is inside this script; no file is read")

'''


def _literal(value: Any) -> str:
    """A Python literal of plain data, wrapped to fit the project's line length."""
    return pprint.pformat(value, width=80, sort_dicts=False)


def _script_header(exp: Experiment, task: Task) -> str:
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    title = textwrap.fill(f"Train {task.title.lower()}: {layers}. From Deep RNN Designer.", 88)
    return f'''"""{title}

Run it as a plain script, or on N processes with DistributedDataParallel (gloo on CPU,
nccl where CUDA is present; each process draws its own batches, only the first one
prints and saves):

    python train.py [--steps N] [--out checkpoint.pt]
    torchrun --nproc_per_node=2 train.py

It trains as the app does (the same initial weights, batches, optimizer, learning rates,
clipping and evaluation: alone, the same curve as the app's run) and writes
checkpoint.pt beside itself, which the app opens (Train, Runs kept: open a checkpoint
file).
"""

'''


# The training part of the script, from its real file (designer/export/train_script.py):
# its constants and functions as they are, less the lines of a learning-rate schedule or
# a closed-form read-out that the experiment does not use.
SCRIPT = inspect.getsource(train_script)
TRAINING = SCRIPT[
    SCRIPT.index("# --- training, as the app trains") : SCRIPT.index("\n\n\ndef main(")
]
MAIN = "\n\n" + SCRIPT[SCRIPT.index("def main(") :]
ENGLISH_ONLY = SCRIPT[SCRIPT.index("def N_(") : SCRIPT.index("# --- end of the tasks' sentences")]
SET_LR = "lr_at(step, LR, LR_SCHEDULE, STEPS, LR_DECAY, LR_DECAY_EVERY)  # the schedule's"
CONSTANT_LR = "LR  # the same at every step"
FIT_READOUT = re.search(r"\n( +if RIDGE_READOUT is not None:.*\n.*\n)", TRAINING)[1]
EVALUATE = "\n\n@torch.no_grad()\ndef evaluate("
assert all(TRAINING.count(lines) == 1 for lines in (SET_LR, FIT_READOUT, EVALUATE))


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
        code = TRAINING.replace(SET_LR, CONSTANT_LR)
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
    the notebook's own process (torchrun is for the script)."""
    import nbformat

    task = task if task is not None else get_task(exp.task)
    parts = _sections(exp, task)
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    scored = "at every step" if task.per_step else "at the last step only"
    cells = [
        md(
            f"# {task.title}: {layers}\n\nExported from Deep RNN Designer. {task.description}"
            "\n\nRun the cells from top to bottom: the last one trains the model as the app "
            "does and writes `checkpoint.pt`, which the app opens (Train, Runs kept)."
        ),
        code(parts["imports"].strip()),
        md(
            "## The model\n\nOne class per kind of layer, then `Model`: the layer stack "
            "bottom to top. Each line of `Model.__init__` is a card of the app's layer stack, "
            f"with the widths it maps between; the prediction is scored {scored}."
        ),
        code(parts["model"].strip()),
        md(
            "## The task\n\nThe app's own code for the task: how each batch of sequences "
            "is drawn (the same batches for the same seed), the loss and the metric."
        ),
        code(parts["task"].strip()),
        md("## The settings\n\nThe experiment's training settings, as in the app."),
        code(parts["settings"].strip()),
        md(
            "## Training\n\nEach step draws a batch, computes the loss, backpropagates, "
            "measures the gradient norm, clips it if it is too large and updates the weights. "
            "Every few steps the model is evaluated on a fixed validation batch."
        ),
        code(parts["training"].strip()),
        md("## Train it\n\nFewer steps for a quick look: `train(200)`."),
        code('train(STEPS, "checkpoint.pt")'),
    ]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nbformat.writes(book)


# --- the NumPy version by hand ----------------------------------------------------------
class ExportError(ValueError):
    """A format that does not cover this experiment; the message says what it covers."""


NUMPY_ACTIVATIONS = {
    # name: (forward of z, derivative as a function of z and the forward's output a)
    "none": ("z", "np.ones_like(z)"),
    "relu": ("np.maximum(z, 0.0)", "(z > 0).astype(z.dtype)"),
    "tanh": ("np.tanh(z)", "1.0 - a**2"),
    "sigmoid": ("1.0 / (1.0 + np.exp(-z))", "a * (1.0 - a)"),
    "gelu": (
        "0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))",
        "0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi)",
    ),
}


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
    connections, dropout or a leak rate); anything else raises ExportError saying so."""
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
    forward, backward = [], []
    width = task.vocab_size if task.token_input else task.input_size
    uses_erf = False
    for i, spec in enumerate(exp.model.layers):
        out = output_width(spec, width)
        name = f"layer {i + 1}: {layer_name(spec)}"
        if spec.type == "rnn":
            act = "np.tanh(a)" if spec.nonlinearity == "tanh" else "np.maximum(a, 0.0)"
            slope = "1.0 - s**2" if spec.nonlinearity == "tanh" else "(s > 0).astype(s.dtype)"
            forward.append(RNN_FORWARD.format(i=i, name=name, width=out, act=act))
            backward.append(RNN_BACKWARD.format(i=i, name=name, slope=slope))
        else:
            f, d = NUMPY_ACTIVATIONS[spec.activation]
            uses_erf = uses_erf or spec.activation == "gelu"
            forward.append(LINEAR_FORWARD.format(i=i, name=name, width=out, act=f))
            backward.append(LINEAR_BACKWARD.format(i=i, name=name, slope=d))
        width = out
    head = HEAD_PER_STEP if task.per_step else HEAD_LAST_STEP
    loss = MSE if task.kind == "regression" else CROSS_ENTROPY
    if task.loss_in_bits:  # as the app's loss (designer.tasks.charlm)
        loss = CROSS_ENTROPY_BITS
    encode = (
        f"    h = np.eye({task.vocab_size})[x]  # (B, T, {task.vocab_size}): one-hot tokens\n"
        if task.token_input
        else "    h = x  # (B, T, features)\n"
    )
    erf = ERF if uses_erf else ""
    layers = ", ".join(layer_name(spec) for spec in exp.model.layers) or "no layers"
    return NUMPY_MODULE.format(
        title=textwrap.fill(f"{task.title}: {layers}, forward and backward by hand.", 88),
        erf=erf,
        math="import math\n\n" if uses_erf else "",
        encode=encode,
        forward="".join(forward),
        head_forward=head[0],
        head_backward=head[1],
        backward="".join(reversed(backward)),
        loss=loss,
    )


NUMPY_MODULE = '''"""{title}

The network of Deep RNN Designer written out in NumPy, forward and backward, as a
textbook writes a multi-layer network by hand: backpropagation for the dense layers,
backpropagation through time (BPTT) for the recurrent ones. The weights are the app's,
by the same names, so its gradients can be checked against PyTorch's autograd:

    W = load_weights("checkpoint.pt")
    pred, cache = forward(W, x)
    loss, dpred = loss_and_gradient(pred, y)
    grads = backward(W, cache, dpred)   # the same names as W: dL/dW
"""

{math}import numpy as np

IGNORE = -100  # a padded target, which the loss skips
{erf}

def load_weights(path):
    """The weights of an app checkpoint as float64 NumPy arrays (torch only reads the file)."""
    import torch

    state = torch.load(path, weights_only=True)["state_dict"]
    return {{name: value.double().numpy() for name, value in state.items()}}


def forward(W, x):
    """The prediction for a batch, and what the backward pass needs of each layer."""
    cache = []
{encode}{forward}{head_forward}    return pred, cache


def loss_and_gradient(pred, y):
    """The loss, and its gradient with respect to the prediction."""
{loss}

def backward(W, cache, dpred):
    """dL/dW for every weight, from dL/dpred: the chain rule, from the top down."""
    grads = {{}}
{head_backward}{backward}    return grads
'''

ERF = """

def erf(z):
    \"\"\"The error function, element by element (NumPy has none of its own).\"\"\"
    return np.vectorize(math.erf)(z)
"""

RNN_FORWARD = """
    # {name}: h_t = f(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh), from h_(-1) = 0
    W_ih, W_hh = W["layers.{i}.cell.weight_ih_l0"], W["layers.{i}.cell.weight_hh_l0"]
    b = W["layers.{i}.cell.bias_ih_l0"] + W["layers.{i}.cell.bias_hh_l0"]
    B, T, _ = h.shape
    states = np.zeros((B, T + 1, {width}))  # states[:, t + 1] is h_t
    for t in range(T):
        a = h[:, t] @ W_ih.T + states[:, t] @ W_hh.T + b
        states[:, t + 1] = {act}
    cache.append((h, states))
    h = states[:, 1:]  # (B, T, {width})
"""

RNN_BACKWARD = """
    # {name}: backpropagation through time. The gradient reaching h_t comes from the
    # layer above (dh[:, t]) and from this layer's own next step (dh_next).
    inputs, states = cache[{i}]
    W_ih, W_hh = W["layers.{i}.cell.weight_ih_l0"], W["layers.{i}.cell.weight_hh_l0"]
    B, T, _ = inputs.shape
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = np.zeros(W_hh.shape[0])
    dinputs = np.zeros_like(inputs)
    dh_next = np.zeros((B, W_hh.shape[0]))
    for t in reversed(range(T)):
        s = states[:, t + 1]
        da = (dh[:, t] + dh_next) * ({slope})  # through the nonlinearity
        dW_ih += da.T @ inputs[:, t]
        dW_hh += da.T @ states[:, t]
        db += da.sum(axis=0)
        dinputs[:, t] = da @ W_ih
        dh_next = da @ W_hh  # to the step before
    grads["layers.{i}.cell.weight_ih_l0"], grads["layers.{i}.cell.weight_hh_l0"] = dW_ih, dW_hh
    grads["layers.{i}.cell.bias_ih_l0"], grads["layers.{i}.cell.bias_hh_l0"] = db, db.copy()
    dh = dinputs
"""

LINEAR_FORWARD = """
    # {name}: a = f(z), z = W h + b at every step
    z = h @ W["layers.{i}.linear.weight"].T + W["layers.{i}.linear.bias"]
    a = {act}
    cache.append((h, z, a))
    h = a  # (B, T, {width})
"""

LINEAR_BACKWARD = """
    # {name}: dz = dL/da * f'(z); dW sums dz x h over the batch and the steps
    inputs, z, a = cache[{i}]
    dz = dh * ({slope})
    grads["layers.{i}.linear.weight"] = np.einsum("btj,bti->ji", dz, inputs)
    grads["layers.{i}.linear.bias"] = dz.sum(axis=(0, 1))
    dh = dz @ W["layers.{i}.linear.weight"]
"""

HEAD_LAST_STEP = (
    """    # the read-out, on the last step only
    last = h[:, -1]  # (B, width)
    pred = last @ W["head.weight"].T + W["head.bias"]
    cache.append(h)
""",
    """    h = cache[-1]
    grads["head.weight"] = dpred.T @ h[:, -1]
    grads["head.bias"] = dpred.sum(axis=0)
    dh = np.zeros_like(h)
    dh[:, -1] = dpred @ W["head.weight"]  # only the last step gets a gradient from the loss
""",
)

HEAD_PER_STEP = (
    """    # the read-out, at every step
    pred = h @ W["head.weight"].T + W["head.bias"]
    cache.append(h)
""",
    """    h = cache[-1]
    grads["head.weight"] = np.einsum("btj,bti->ji", dpred, h)
    grads["head.bias"] = dpred.sum(axis=(0, 1))
    dh = dpred @ W["head.weight"]
""",
)

MSE = """    diff = pred - y
    return np.mean(diff**2), 2.0 * diff / diff.size  # mean squared error
"""

CROSS_ENTROPY = """    # cross-entropy of the softmax, over the targets that are not padding
    logits = pred.reshape(-1, pred.shape[-1])
    targets = y.reshape(-1)
    keep = targets != IGNORE
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    rows = np.arange(len(targets))[keep]
    loss = -np.log(p[rows, targets[keep]]).mean()
    dlogits = p.copy()
    dlogits[rows, targets[keep]] -= 1.0
    dlogits[~keep] = 0.0
    return loss, (dlogits / keep.sum()).reshape(pred.shape)
"""

# The character model's loss: the same cross-entropy in bits (divided by ln 2), so the
# loss reads in the unit of its metric and baseline, bits per character.
CROSS_ENTROPY_BITS = CROSS_ENTROPY.replace(
    "    loss = -np.log(p[rows, targets[keep]]).mean()\n",
    "    loss = -np.log(p[rows, targets[keep]]).mean() / np.log(2)  # in bits\n",
).replace("(dlogits / keep.sum())", "(dlogits / (keep.sum() * np.log(2)))")
assert CROSS_ENTROPY_BITS.count("np.log(2)") == 2
