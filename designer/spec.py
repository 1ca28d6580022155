"""The experiment document (schema version 1): one JSON object that says everything
about an experiment. The URL encodes it, Import/Export reads and writes it, and the
command line takes it.

pydantic does the structural checks (types, ranges, unknown keys); this module adds
the checks that need the task (its parameters, the total parameter count) and words
every problem as a plain sentence that names the layer and the field.
"""

from __future__ import annotations

import base64
import difflib
import json
import zlib
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from designer.summary import count_parameters
from designer.tasks import MAX_SEQ_LEN, TaskDataError, check_task_params, make_task
from designer.tasks.base import shown

SCHEMA_VERSION = 1
MAX_LAYERS = 16
MAX_WIDTH = 1024
MAX_BATCH = 512
MAX_STEPS = 100_000
MAX_PARAMETERS = 5_000_000
MAX_DOCUMENT_BYTES = 2_000_000  # inline CSV data included

RECURRENT_TYPES = ("rnn", "lstm", "gru")
LAYER_TYPES = ("rnn", "lstm", "gru", "linear", "layernorm", "dropout", "attention")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FieldError(ValueError):
    """A check of a section's own that fails on one of its fields: `field` names it
    (the problem's path ends with it), the message says what is wrong."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# --- layers -----------------------------------------------------------------------
Width = Annotated[int, Field(ge=1, le=MAX_WIDTH)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]


class _Recurrent(_Strict):
    hidden_size: Width = 64
    bidirectional: bool = False
    residual: bool = False  # add the layer's input to its output
    dropout: Rate = 0.0  # on this layer's output, while training
    freeze: bool = False  # input and recurrent weights fixed: a reservoir
    init: Literal["default", "orthogonal", "xavier", "identity"] = "default"
    # The recurrent weights W_hh times this after their init: above 1 the signal (and
    # the gradient) grows through time, below 1 it fades (explosion shown by weights).
    gain: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    # Echo state network knobs (Jaeger 2001), for a reservoir above all (freeze: true).
    # After the init and the gain, each gate's W_hh block rescaled so that its spectral
    # radius (largest |eigenvalue|) is this: below 1 the echo of an input fades, above 1
    # it can grow. Set, it decides the recurrent scale, so `gain` then changes nothing.
    spectral_radius: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    # The input weights W_ih times this after their init: how hard the input drives it.
    input_scaling: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    # rnn only: leaky integration, h_t = (1 - a) h_(t-1) + a f(W_ih x_t + W_hh h_(t-1) + b)
    # with a the leak rate; 1 is the plain RNN, a smaller rate a slower layer that keeps
    # more of its past (it runs step by step, not in PyTorch's fused kernel).
    leak_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0

    @model_validator(mode="after")
    def _leak_on_rnn_only(self) -> _Recurrent:
        kind = getattr(self, "type", "rnn")
        if self.leak_rate != 1.0 and kind != "rnn":
            layer = {"lstm": "an LSTM", "gru": "a GRU"}.get(kind, kind)
            raise FieldError(
                "leak_rate",
                f"a leak rate applies to rnn layers only, not to {layer}; set it to 1 or "
                f"make the layer an rnn, got {self.leak_rate!r}",
            )
        return self


class RNNLayer(_Recurrent):
    type: Literal["rnn"] = "rnn"
    nonlinearity: Literal["tanh", "relu"] = "tanh"


class LSTMLayer(_Recurrent):
    type: Literal["lstm"] = "lstm"
    # The forget gate's total bias (b_if + b_hf). 1.0 keeps the cell's memory open at
    # the start of training (Jozefowicz et al. 2015); None keeps PyTorch's init.
    forget_bias: Annotated[float, Field(ge=-10, le=10)] | None = None


class GRULayer(_Recurrent):
    type: Literal["gru"] = "gru"


class LinearLayer(_Strict):
    type: Literal["linear"] = "linear"
    out_features: Width = 64
    activation: Literal["none", "relu", "tanh", "sigmoid", "gelu"] = "none"
    residual: bool = False
    dropout: Rate = 0.0


class LayerNormLayer(_Strict):
    type: Literal["layernorm"] = "layernorm"


class DropoutLayer(_Strict):
    type: Literal["dropout"] = "dropout"
    p: Rate = 0.1


class AttentionLayer(_Strict):
    """Single-head attention over time steps; causal when the task predicts at
    every step (a step may not look at the future it is asked to predict)."""

    type: Literal["attention"] = "attention"
    residual: bool = False


Layer = Annotated[
    RNNLayer | LSTMLayer | GRULayer | LinearLayer | LayerNormLayer | DropoutLayer | AttentionLayer,
    Field(discriminator="type"),
]


def default_layers() -> list[Any]:
    return [LSTMLayer(hidden_size=64)]


# --- sections -----------------------------------------------------------------------
class ModelSpec(_Strict):
    # Token tasks only: width of a learned embedding; None feeds one-hot vectors.
    embedding_dim: Width | None = None
    layers: list[Layer] = Field(default_factory=default_layers, max_length=MAX_LAYERS)


class TaskSpec(BaseModel):
    """`name` plus the task's own parameters, kept in `params` and checked against
    the task's declaration (see designer.tasks)."""

    model_config = ConfigDict(extra="allow")
    name: str = "adding"

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class TrainSpec(_Strict):
    optimizer: Literal["sgd", "momentum", "adam", "adamw", "rmsprop"] = "adam"
    lr: Annotated[float, Field(gt=0.0, le=10.0)] = 0.003
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] = 64
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 1500
    clip_norm: Annotated[float, Field(gt=0.0)] | None = 1.0
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    # The momentum of optimizer "momentum" (SGD with momentum): the share of the last
    # update carried into the next. Plain "sgd" has none; the other optimizers ignore it.
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.9
    # The learning rate over the run, from the step number alone: "constant" keeps `lr`;
    # "step" multiplies it by `lr_decay` every `lr_decay_every` steps; "cosine" takes it
    # from `lr` down to 0 along half a cosine over `steps` steps (0 past them).
    lr_schedule: Literal["constant", "step", "cosine"] = "constant"
    lr_decay: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1
    lr_decay_every: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 500
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    eval_every: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 100
    # Probe (hidden states, gates, dL/dh_t) every this many steps; None: as often as
    # a budget of a few percent of the training time allows.
    probe_every: Annotated[int, Field(ge=1, le=MAX_STEPS)] | None = None
    # Before the first step, fit the read-out (the head, the final linear layer) in
    # closed form by ridge regression with this penalty, as echo state networks do
    # (designer.trainer.fit_readout); training then goes on by gradient as usual.
    ridge_readout: Annotated[float, Field(gt=0.0, le=1e6)] | None = None
    device: Literal["cpu", "cuda", "auto"] = "cpu"

    def changed(self, **values: Any) -> TrainSpec:
        """A copy with `values` changed, checked as the document's `train` section is
        (the same limits, and a SpecError in the same words, naming `train.<field>`):
        a run's learning rate or clipping changed while it trains
        (designer.trainer.Trainer.change) must be a setting the document allows."""
        data = {**self.model_dump(), **values}
        try:
            return TrainSpec.model_validate(data)
        except ValidationError as err:
            raise SpecError(_explain(err, {"train": data}, within=("train",))) from None


class Experiment(_Strict):
    version: Literal[1] = SCHEMA_VERSION
    task: TaskSpec = Field(default_factory=TaskSpec)
    model: ModelSpec = Field(default_factory=ModelSpec)
    train: TrainSpec = Field(default_factory=TrainSpec)

    @model_validator(mode="after")
    def _check_against_task(self) -> Experiment:
        problems = _task_problems(self)
        if problems:
            raise SpecError(problems)
        return self

    # --- codecs ---------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any) -> Experiment:
        """Parse and check a document; every problem at once in one SpecError."""
        if not isinstance(data, dict):
            raise SpecError([Problem("", "the experiment must be a JSON object")])
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise SpecError(_explain(err, data)) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Experiment:
        if len(text) > MAX_DOCUMENT_BYTES:
            raise SpecError(
                [Problem("", f"the document is larger than {MAX_DOCUMENT_BYTES:,} bytes")]
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            where = f" (line {err.lineno}, column {err.colno})"
            raise SpecError([Problem("", f"not valid JSON{where}: {err.msg}")]) from None
        except UnicodeDecodeError as err:
            raise SpecError([Problem("", f"not valid JSON: {err}")]) from None
        except RecursionError:
            raise SpecError([Problem("", "not valid JSON: it is nested too deeply")]) from None
        except ValueError:  # an integer of over 4,300 digits, which Python refuses to read
            raise SpecError(
                [Problem("", "not valid JSON: it holds a number too long to read")]
            ) from None
        return cls.from_dict(data)

    def to_dict(self, compact: bool = False) -> dict[str, Any]:
        """The document as plain JSON data. `compact` leaves out every default
        (but always keeps `version` and each layer's `type`), for short URLs."""
        if not compact:
            return self.model_dump(mode="json")
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["version"] = SCHEMA_VERSION
        if self.model.layers != default_layers() or "model" in data:
            layers = [
                {"type": layer.type, **layer.model_dump(mode="json", exclude_defaults=True)}
                for layer in self.model.layers
            ]
            data.setdefault("model", {})["layers"] = layers
        if "task" in data or self.task.name != TaskSpec().name:
            data["task"] = {"name": self.task.name, **self.task.params}
        return {key: data[key] for key in ("version", "task", "model", "train") if key in data}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_url(self) -> str:
        """The compact document, deflated and base64url-encoded, for a query parameter."""
        raw = json.dumps(self.to_dict(compact=True), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")

    @classmethod
    def from_url(cls, token: str) -> Experiment:
        try:
            padded = token + "=" * (-len(token) % 4)
            raw = zlib.decompressobj().decompress(
                base64.urlsafe_b64decode(padded.encode()), MAX_DOCUMENT_BYTES + 1
            )
        except (ValueError, zlib.error):
            raise SpecError([Problem("", "the link is damaged or incomplete")]) from None
        return cls.from_json(raw)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """A JSON Schema of the document, for editors."""
        return cls.model_json_schema()

    def with_layers(self, layers: list[Any]) -> Experiment:
        """A copy with another layer list (dicts or layer models), checked."""
        data = self.to_dict()
        data["model"]["layers"] = [
            layer if isinstance(layer, dict) else layer.model_dump(mode="json") for layer in layers
        ]
        return Experiment.from_dict(data)


# --- what a field allows, for the widgets that edit it ----------------------------------
def field_range(section: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """(lowest, highest) a numeric field accepts (None: unbounded), so that a widget's
    limits are the document's own and never spelt out twice."""
    info = section.model_fields[name]
    rules = list(info.metadata)
    for arg in get_args(info.annotation):  # an optional field: Annotated[...] | None
        for extra in get_args(arg)[1:]:
            rules += getattr(extra, "metadata", [])
    low = high = None
    for rule in rules:
        for attr in ("ge", "gt"):
            if getattr(rule, attr, None) is not None:
                low = getattr(rule, attr)
        for attr in ("le", "lt"):
            if getattr(rule, attr, None) is not None:
                high = getattr(rule, attr)
    return low, high


def field_choices(section: type[BaseModel], name: str) -> list[Any]:
    """The values a Literal field accepts, in the order the document declares them."""
    return list(get_args(section.model_fields[name].annotation))


# --- problems, worded for people -----------------------------------------------------
class Problem:
    """One thing wrong with a document: where (a dotted path such as
    `model.layers[2].hidden_size`), what, and a label a person reads."""

    def __init__(self, path: str, message: str, label: str | None = None):
        self.path = path
        self.message = _printable(message)
        self.label = _printable(path if label is None else label, limit=100)

    def __str__(self) -> str:
        return f"{self.label}: {self.message}" if self.label else self.message

    def __repr__(self) -> str:
        return f"Problem({self.path!r}, {self.message!r})"

    @property
    def layer(self) -> int | None:
        """The index of the layer the problem is about, if any."""
        prefix = "model.layers["
        if self.path.startswith(prefix):
            return int(self.path[len(prefix) :].split("]")[0])
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "layer": self.layer, "message": self.message}


def _printable(text: str, limit: int = 500) -> str:
    """A message that any page can show: a document's text may hold lone surrogates
    (JSON's "\\ud800"), which cannot be encoded, and keys of any length."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SpecError(ValueError):
    """An experiment document that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems]
        super().__init__(
            lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n- " + "\n- ".join(lines)
        )


_LAYER_MODELS: dict[str, type[BaseModel]] = {
    "rnn": RNNLayer,
    "lstm": LSTMLayer,
    "gru": GRULayer,
    "linear": LinearLayer,
    "layernorm": LayerNormLayer,
    "dropout": DropoutLayer,
    "attention": AttentionLayer,
}


def _locate(loc: tuple[Any, ...], data: Any) -> tuple[str, str, type[BaseModel] | None]:
    """pydantic's error location -> (path, label, the model that holds the field).

    ('model', 'layers', 2, 'lstm', 'hidden_size') -> ('model.layers[2].hidden_size',
    'layer 2 (lstm) hidden_size', LSTMLayer). pydantic names the union member right
    after the index; it is dropped (a field may be called 'dropout', like a type)."""
    if len(loc) >= 3 and loc[:2] == ("model", "layers") and isinstance(loc[2], int):
        index = loc[2]
        rest = loc[4:] if len(loc) > 3 and loc[3] in _LAYER_MODELS else loc[3:]
        layers = data.get("model", {}).get("layers") if isinstance(data, dict) else None
        layer = layers[index] if isinstance(layers, list) and index < len(layers) else None
        kind = layer.get("type") if isinstance(layer, dict) else None
        kind = kind[:20] if isinstance(kind, str) else None  # the visitor's own text
        path = f"model.layers[{index}]" + "".join(f".{k}" for k in rest)
        label = f"layer {index}" + (f" ({kind})" if kind else "")
        label += "".join(f" {k}" for k in rest)
        owner = _LAYER_MODELS.get(loc[3]) if len(loc) > 3 else None
        return path, label, owner
    path = ".".join(str(k) for k in loc)
    owner: Any = Experiment
    for key in loc[:-1]:
        field = owner.model_fields.get(key) if owner else None
        owner = field.annotation if field and isinstance(field.annotation, type) else None
    return path, path, owner


def _explain(err: ValidationError, data: Any, within: tuple[str, ...] = ()) -> list[Problem]:
    """pydantic's errors as Problems; `within`: where in the document the validated
    part sits (("train",) for a TrainSpec checked on its own), `data` the document."""
    problems = []
    for e in err.errors(include_url=False):
        error = e.get("ctx", {}).get("error")
        if isinstance(error, SpecError):  # raised by the checks against the task
            problems.extend(error.problems)
            continue
        loc = within + tuple(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            path, label, _ = _locate(loc[:-1], data)
            name = str(loc[-1])
            _, _, owner = _locate(loc, data)
            known = list(owner.model_fields) if owner else []
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(Problem(path, f"unknown field '{name}'{extra}", label))
            continue
        path, label, _ = _locate(loc, data)
        got = e.get("input")
        if kind == "union_tag_invalid":
            got_type = got.get("type") if isinstance(got, dict) else got
            typed = got_type if isinstance(got_type, str) else ""
            hint = difflib.get_close_matches(typed, LAYER_TYPES, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            message = (
                f"unknown layer type {shown(got_type)}{extra}; "
                f"the types are {', '.join(LAYER_TYPES)}"
            )
        elif kind == "union_tag_not_found":
            message = f"a layer needs a 'type', one of {', '.join(LAYER_TYPES)}"
        elif kind == "too_long" and loc[-1] == "layers":
            message = f"at most {MAX_LAYERS} layers are allowed (the layer limit), got {len(got)}"
        elif kind == "less_than_equal" and loc[-1] in ("hidden_size", "out_features"):
            message = f"must be at most {MAX_WIDTH} (the width limit), got {shown(got)}"
        elif kind == "less_than_equal" and loc[-1] == "batch_size":
            message = f"must be at most {MAX_BATCH} (the batch size limit), got {shown(got)}"
        elif kind == "less_than_equal" and loc[-1] == "steps":
            message = f"must be at most {MAX_STEPS:,} (the step limit), got {shown(got)}"
        elif kind == "value_error" and isinstance(error, FieldError):
            path, label = f"{path}.{error.field}", f"{label} {error.field}"
            message = str(error)
        elif kind == "missing":
            message = "is required"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            # pydantic's words name the class ("or instance of ModelSpec")
            message = f"must be a JSON object, got {shown(got)}"
        else:
            message = f"{e['msg'][0].lower()}{e['msg'][1:]}, got {shown(got)}"
        problems.append(Problem(path, message, label))
    return problems


def _task_problems(exp: Experiment) -> list[Problem]:
    """Checks that need the task: its parameters, the sequence length limit, the
    parameter count of the whole model."""
    problems = [
        Problem(f"task.{field}", message)
        for field, message in check_task_params(exp.task.name, exp.task.params)
    ]
    if problems:
        return problems
    try:
        task = make_task(exp.task.name, exp.task.params)
    except TaskDataError as err:
        return [Problem("task", str(err))]
    if task.seq_len > MAX_SEQ_LEN:
        problems.append(
            Problem(
                "task",
                f"the sequences are {task.seq_len} steps long; at most {MAX_SEQ_LEN} are allowed",
            )
        )
    total = count_parameters(exp.model, task)
    if total > MAX_PARAMETERS:
        problems.append(
            Problem(
                "model",
                f"the model has {total:,} parameters; at most {MAX_PARAMETERS:,} are allowed "
                "(make layers narrower or fewer)",
            )
        )
    return problems
