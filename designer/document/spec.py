"""The experiment document (schema version 1): one JSON object that says everything
about an experiment. The URL encodes it, Import/Export reads and writes it, and the
command line takes it.

pydantic does the structural checks (types, ranges, unknown keys); this module adds
the checks that need the task (its parameters, the total parameter count) and words
every problem as a plain sentence that names the layer and the field.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from designer.document.summary import count_parameters
from designer.i18n import DEFAULT, N_, Text, _, language, unknown_name
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


# The json module's words for what is wrong (its err.msg), to translate.
_JSON_ERRORS = {
    message: message
    for message in (
        N_("Expecting value"),
        N_("Expecting property name enclosed in double quotes"),
        N_("Expecting ',' delimiter"),
        N_("Expecting ':' delimiter"),
        N_("Unterminated string starting at"),
        N_("Invalid control character at"),
        N_("Invalid \\escape"),
        N_("Invalid \\uXXXX escape"),
        N_("Extra data"),
        N_("Illegal trailing comma before end of object"),
        N_("Illegal trailing comma before end of array"),
    )
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FieldError(ValueError):
    """A check of a section's own that fails on one of its fields: `field` names it
    (the problem's path ends with it), the message says what is wrong."""

    def __init__(self, field: str, message: Text):
        self.field = field
        self.text = message
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.text)


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
            got = repr(self.leak_rate)
            if kind == "lstm":
                message = Text(
                    "a leak rate applies to rnn layers only, not to an LSTM; set it to 1 or "
                    "make the layer an rnn, got {got}",
                    got=got,
                )
            elif kind == "gru":
                message = Text(
                    "a leak rate applies to rnn layers only, not to a GRU; set it to 1 or "
                    "make the layer an rnn, got {got}",
                    got=got,
                )
            else:
                message = Text(
                    "a leak rate applies to rnn layers only, not to {layer}; set it to 1 or "
                    "make the layer an rnn, got {got}",
                    layer=kind,
                    got=got,
                )
            raise FieldError("leak_rate", message)
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
    # (designer.training.trainer.fit_readout); training then goes on by gradient as usual.
    ridge_readout: Annotated[float, Field(gt=0.0, le=1e6)] | None = None
    device: Literal["cpu", "cuda", "auto"] = "cpu"

    def changed(self, **values: Any) -> TrainSpec:
        """A copy with `values` changed, checked as the document's `train` section is
        (the same limits, and a SpecError in the same words, naming `train.<field>`):
        a run's learning rate or clipping changed while it trains
        (designer.training.trainer.Trainer.change) must be a setting the document allows."""
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
            raise SpecError([Problem("", Text("the experiment must be a JSON object"))])
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise SpecError(_explain(err, data)) from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Experiment:
        return cls.from_dict(read_json(text, MAX_DOCUMENT_BYTES))

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
            message = Text("the link is damaged or incomplete")
            raise SpecError([Problem("", message)]) from None
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


def read_json(text: str | bytes, limit: int) -> Any:
    """JSON text of at most `limit` bytes as data; a SpecError in the reader's words
    when it is too large or not JSON (an experiment's and a lesson's documents)."""
    if len(text) > limit:  # characters of a str: each at least a byte
        message = Text("the document is larger than {limit} bytes", limit=f"{limit:,}")
        raise SpecError([Problem("", message)])
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        message = Text(
            "not valid JSON (line {line}, column {column}): {reason}",
            line=err.lineno,
            column=err.colno,
            reason=Text(_JSON_ERRORS[err.msg]) if err.msg in _JSON_ERRORS else err.msg,
        )
        raise SpecError([Problem("", message)]) from None
    except UnicodeDecodeError as err:
        message = Text("not valid JSON: {reason}", reason=str(err))
        raise SpecError([Problem("", message)]) from None
    except RecursionError:
        message = Text("not valid JSON: it is nested too deeply")
        raise SpecError([Problem("", message)]) from None
    except ValueError:  # an integer of over 4,300 digits, which Python refuses to read
        message = Text("not valid JSON: it holds a number too long to read")
        raise SpecError([Problem("", message)]) from None


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
def english(text: str | Text) -> str:
    """A message in English whatever the reader's language (the command line's --json)."""
    if isinstance(text, Text):
        return text.message.format(**{k: english(v) for k, v in text.parts.items()})
    if isinstance(text, str):  # a plain str, also of a str subclass (designer.training.runner.Said)
        return str.__str__(text)
    return text


class Problem:
    """One thing wrong with a document: where (a dotted path such as
    `model.layers[2].hidden_size`), what, and a label a person reads.

    `message` and `label` may be Texts, rendered in the reader's language when read;
    `whole` is the message id of the whole sentence, label included (its part
    `{where}` is the label, its other parts the message's), for languages where the
    label belongs inside the sentence rather than before a colon."""

    def __init__(
        self,
        path: str,
        message: str | Text,
        label: str | Text | None = None,
        whole: str | None = None,
    ):
        self.path = path
        self._message = message
        self._label = path if label is None else label
        self._whole = whole

    @property
    def message(self) -> str:
        return _printable(str(self._message))

    @property
    def label(self) -> str:
        return _printable(str(self._label), limit=100)

    def __str__(self) -> str:
        label = self.label
        if not label:
            return self.message
        whole = self._whole
        if whole is not None and isinstance(self._message, Text) and _(whole) != whole:
            parts = {**self._message.parts, "where": label}
            return _printable(str(Text(whole, **parts)), limit=700)
        if language() == DEFAULT:
            return f"{label}: {self.message}"
        return str(Text("{where}: {problem}", where=label, problem=self.message))

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
        """The problem as JSON data, its message in English (--json output)."""
        message = _printable(english(self._message))
        return {"path": self.path, "layer": self.layer, "message": message}


def _printable(text: str, limit: int = 500) -> str:
    """A message that any page can show: a document's text may hold lone surrogates
    (JSON's "\\ud800"), which cannot be encoded, and keys of any length."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SpecError(ValueError):
    """An experiment document that cannot be used; `problems` lists every reason.
    str(error) renders them in the reader's language."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(self._lines())

    def _lines(self) -> str:
        lines = [str(p) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return str(Text("{n} problems:", n=len(lines))) + "\n- " + "\n- ".join(lines)

    def __str__(self) -> str:
        if not isinstance(getattr(self, "problems", None), list):
            return super().__str__()
        return self._lines()

    def __reduce__(self):  # picklable with its problems (it may travel from a process)
        return (SpecError, (self.problems,))


_LAYER_MODELS: dict[str, type[BaseModel]] = {
    "rnn": RNNLayer,
    "lstm": LSTMLayer,
    "gru": GRULayer,
    "linear": LinearLayer,
    "layernorm": LayerNormLayer,
    "dropout": DropoutLayer,
    "attention": AttentionLayer,
}


def _layer_label(index: int, kind: str | None, field: str) -> Text:
    """'layer 2 (lstm) hidden_size', as a Text (the field and the type stay as written)."""
    if kind and field:
        return Text("layer {index} ({kind}) {field}", index=index, kind=kind, field=field)
    if kind:
        return Text("layer {index} ({kind})", index=index, kind=kind)
    if field:
        return Text("layer {index} {field}", index=index, field=field)
    return Text("layer {index}", index=index)


def _locate(loc: tuple[Any, ...], data: Any) -> tuple[str, str | Text, type[BaseModel] | None]:
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
        label = _layer_label(index, kind, " ".join(str(k) for k in rest))
        owner = _LAYER_MODELS.get(loc[3]) if len(loc) > 3 else None
        return path, label, owner
    path = ".".join(str(k) for k in loc)
    owner: Any = Experiment
    for key in loc[:-1]:
        field = owner.model_fields.get(key) if owner else None
        owner = field.annotation if field and isinstance(field.annotation, type) else None
    return path, path, owner


# pydantic's own checks, worded as the document's: the error type -> (the message, the
# whole sentence with the label), both the English pydantic gives (lower-cased, with
# ", got ..." after it), their parts from pydantic's context.
_PYDANTIC: dict[str, tuple[str, str]] = {
    "greater_than_equal": (
        N_("input should be greater than or equal to {ge}, got {got}"),
        N_("{where}: input should be greater than or equal to {ge}, got {got}"),
    ),
    "greater_than": (
        N_("input should be greater than {gt}, got {got}"),
        N_("{where}: input should be greater than {gt}, got {got}"),
    ),
    "less_than_equal": (
        N_("input should be less than or equal to {le}, got {got}"),
        N_("{where}: input should be less than or equal to {le}, got {got}"),
    ),
    "less_than": (
        N_("input should be less than {lt}, got {got}"),
        N_("{where}: input should be less than {lt}, got {got}"),
    ),
    "literal_error": (
        N_("input should be {expected}, got {got}"),
        N_("{where}: input should be {expected}, got {got}"),
    ),
    "int_type": (
        N_("input should be a valid integer, got {got}"),
        N_("{where}: input should be a valid integer, got {got}"),
    ),
    "int_parsing": (
        N_("input should be a valid integer, unable to parse string as an integer, got {got}"),
        N_(
            "{where}: input should be a valid integer, unable to parse string as an integer, "
            "got {got}"
        ),
    ),
    "int_from_float": (
        N_("input should be a valid integer, got a number with a fractional part, got {got}"),
        N_(
            "{where}: input should be a valid integer, got a number with a fractional part, "
            "got {got}"
        ),
    ),
    "float_type": (
        N_("input should be a valid number, got {got}"),
        N_("{where}: input should be a valid number, got {got}"),
    ),
    "float_parsing": (
        N_("input should be a valid number, unable to parse string as a number, got {got}"),
        N_(
            "{where}: input should be a valid number, unable to parse string as a number, got {got}"
        ),
    ),
    "finite_number": (
        N_("input should be a finite number, got {got}"),
        N_("{where}: input should be a finite number, got {got}"),
    ),
    "bool_type": (
        N_("input should be a valid boolean, got {got}"),
        N_("{where}: input should be a valid boolean, got {got}"),
    ),
    "bool_parsing": (
        N_("input should be a valid boolean, unable to interpret input, got {got}"),
        N_("{where}: input should be a valid boolean, unable to interpret input, got {got}"),
    ),
    "string_type": (
        N_("input should be a valid string, got {got}"),
        N_("{where}: input should be a valid string, got {got}"),
    ),
    "list_type": (
        N_("input should be a valid list, got {got}"),
        N_("{where}: input should be a valid list, got {got}"),
    ),
    "too_long": (
        N_(
            "list should have at most {max_length} items after validation, not {actual_length}, "
            "got {got}"
        ),
        N_(
            "{where}: list should have at most {max_length} items after validation, not "
            "{actual_length}, got {got}"
        ),
    ),
}


def _number(value: Any) -> Any:
    """A limit as pydantic writes it in its messages (0.0 as 0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _pydantic_problem(e: Any, path: str, label: str | Text, got: Any) -> Problem:
    """One of pydantic's own errors as a Problem: in the reader's language when its
    type is one of _PYDANTIC's (and its English is pydantic's), else pydantic's words."""
    legacy = f"{e['msg'][0].lower()}{e['msg'][1:]}, got {english(shown(got))}"
    if e["type"] in _PYDANTIC:
        short, whole = _PYDANTIC[e["type"]]
        parts = {
            k: _number(v)
            for k, v in (e.get("ctx") or {}).items()
            if isinstance(v, (int, float, str))
        }
        parts["got"] = shown(got)
        expected = parts.get("expected")
        if isinstance(expected, str) and " or " in expected:  # "'a', 'b' or 'c'"
            first, last = expected.rsplit(" or ", 1)
            parts["expected"] = Text("{first} or {last}", first=first, last=last)
        try:
            message = Text(short, **parts)
            if english(message) == legacy:
                return Problem(path, message, label, whole)
        except (KeyError, IndexError, ValueError):
            pass
    return Problem(path, legacy, label)


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
        if e["type"] == "extra_forbidden":
            problems.append(_unknown_field(loc, data))
        elif e["type"] == "value_error" and isinstance(error, FieldError):
            path, label, _owner = _locate(loc + (error.field,), data)
            problems.append(Problem(path, error.text, label, _FIELD_ERRORS.get(error.text.message)))
        else:
            path, label, _owner = _locate(loc, data)
            got = e.get("input")
            said = _in_own_words(e["type"], loc, got)
            if said is None:
                problems.append(_pydantic_problem(e, path, label, got))
            else:
                problems.append(Problem(path, said[0], label, said[1]))
    return problems


def _unknown_field(loc: tuple[Any, ...], data: Any) -> Problem:
    """A field the document's part does not have, with the nearest one it has."""
    path, label, _owner = _locate(loc[:-1], data)
    _path, _label, owner = _locate(loc, data)
    return unknown_field(path, str(loc[-1]), list(owner.model_fields) if owner else [], label)


def unknown_field(
    path: str, name: str, known: list[str], label: str | Text | None = None
) -> Problem:
    """The Problem of a field `name` at `path` that is none of `known`, with the nearest
    one (an experiment's document and a lesson's word it alike)."""
    message = unknown_name(
        name,
        known,
        N_("unknown field '{name}' (did you mean '{hint}'?)"),
        N_("unknown field '{name}'"),
        name=name,
    )
    if "hint" in message.parts:
        whole = N_("{where}: unknown field '{name}' (did you mean '{hint}'?)")
    else:
        whole = N_("{where}: unknown field '{name}'")
    return Problem(path, message, label, whole)


def _in_own_words(kind: str, loc: tuple[Any, ...], got: Any) -> tuple[Text, str] | None:
    """(message, whole sentence) for the errors the document words itself: the layer
    types, the app's limits, a missing field, a part that is not an object; None for
    the rest (pydantic's words, translated where _PYDANTIC knows them)."""
    if kind == "union_tag_invalid":
        return _unknown_layer_type(got)
    if kind == "union_tag_not_found":
        return (
            Text("a layer needs a 'type', one of {types}", types=", ".join(LAYER_TYPES)),
            N_("{where}: a layer needs a 'type', one of {types}"),
        )
    if kind == "too_long" and loc[-1] == "layers":
        return (
            Text(
                "at most {limit} layers are allowed (the layer limit), got {got}",
                limit=MAX_LAYERS,
                got=len(got),
            ),
            N_("{where}: at most {limit} layers are allowed (the layer limit), got {got}"),
        )
    if kind == "less_than_equal" and loc[-1] in ("hidden_size", "out_features"):
        return (
            Text(
                "must be at most {limit} (the width limit), got {got}",
                limit=MAX_WIDTH,
                got=shown(got),
            ),
            N_("{where}: must be at most {limit} (the width limit), got {got}"),
        )
    if kind == "less_than_equal" and loc[-1] == "batch_size":
        return (
            Text(
                "must be at most {limit} (the batch size limit), got {got}",
                limit=MAX_BATCH,
                got=shown(got),
            ),
            N_("{where}: must be at most {limit} (the batch size limit), got {got}"),
        )
    if kind == "less_than_equal" and loc[-1] == "steps":
        return (
            Text(
                "must be at most {limit} (the step limit), got {got}",
                limit=f"{MAX_STEPS:,}",
                got=shown(got),
            ),
            N_("{where}: must be at most {limit} (the step limit), got {got}"),
        )
    if kind == "missing":
        return Text("is required"), N_("{where}: is required")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        # pydantic's words name the class ("or instance of ModelSpec")
        return (
            Text("must be a JSON object, got {got}", got=shown(got)),
            N_("{where}: must be a JSON object, got {got}"),
        )
    return None


def _unknown_layer_type(got: Any) -> tuple[Text, str]:
    """A layer whose type is none of LAYER_TYPES, with the nearest one."""
    got_type = got.get("type") if isinstance(got, dict) else got
    typed = got_type if isinstance(got_type, str) else ""
    message = unknown_name(
        typed,
        LAYER_TYPES,
        N_("unknown layer type {got} (did you mean '{hint}'?); the types are {types}"),
        N_("unknown layer type {got}; the types are {types}"),
        got=shown(got_type),
        types=", ".join(LAYER_TYPES),
    )
    if "hint" in message.parts:
        whole = N_(
            "{where}: unknown layer type {got} (did you mean '{hint}'?); the types are {types}"
        )
    else:
        whole = N_("{where}: unknown layer type {got}; the types are {types}")
    return message, whole


# The FieldErrors' messages -> their whole sentences, label included.
_FIELD_ERRORS = {
    "a leak rate applies to rnn layers only, not to an LSTM; set it to 1 or "
    "make the layer an rnn, got {got}": N_(
        "{where}: a leak rate applies to rnn layers only, not to an LSTM; set it to 1 or "
        "make the layer an rnn, got {got}"
    ),
    "a leak rate applies to rnn layers only, not to a GRU; set it to 1 or "
    "make the layer an rnn, got {got}": N_(
        "{where}: a leak rate applies to rnn layers only, not to a GRU; set it to 1 or "
        "make the layer an rnn, got {got}"
    ),
    "a leak rate applies to rnn layers only, not to {layer}; set it to 1 or "
    "make the layer an rnn, got {got}": N_(
        "{where}: a leak rate applies to rnn layers only, not to {layer}; set it to 1 or "
        "make the layer an rnn, got {got}"
    ),
}


# The task parameters' problems (designer.tasks.Param.check, check_task_params) -> their
# whole sentences, the parameter's path included.
_TASK_ERRORS = {
    "must be a whole number, got {got}": N_("{where}: must be a whole number, got {got}"),
    "must be a number, got {got}": N_("{where}: must be a number, got {got}"),
    "must be a finite number, got {got}": N_("{where}: must be a finite number, got {got}"),
    "must be true or false, got {got}": N_("{where}: must be true or false, got {got}"),
    "must be text, got {got}": N_("{where}: must be text, got {got}"),
    "must be a non-empty list of numbers, got {got}": N_(
        "{where}: must be a non-empty list of numbers, got {got}"
    ),
    "must be a list of numbers, got {got}": N_("{where}: must be a list of numbers, got {got}"),
    "must be a list of finite numbers, got {got}": N_(
        "{where}: must be a list of finite numbers, got {got}"
    ),
    "must be a list of names, got {got}": N_("{where}: must be a list of names, got {got}"),
    "names {name} twice": N_("{where}: names {name} twice"),
    "must have at most {limit} items, got {n}": N_(
        "{where}: must have at most {limit} items, got {n}"
    ),
    "must be one of {choices}, got {got}": N_("{where}: must be one of {choices}, got {got}"),
    "must be at least {limit}, got {got}": N_("{where}: must be at least {limit}, got {got}"),
    "must be at most {limit}, got {got}": N_("{where}: must be at most {limit}, got {got}"),
}


def _task_problems(exp: Experiment) -> list[Problem]:
    """Checks that need the task: its parameters, the sequence length limit, the
    parameter count of the whole model."""
    problems = [
        Problem(f"task.{field}", message, whole=_TASK_ERRORS.get(message.message))
        for field, message in check_task_params(exp.task.name, exp.task.params)
    ]
    if problems:
        return problems
    try:
        task = make_task(exp.task.name, exp.task.params)
    except TaskDataError as err:
        return [Problem("task", err.text)]
    if task.seq_len > MAX_SEQ_LEN:
        message = Text(
            "the sequences are {n} steps long; at most {limit} are allowed",
            n=task.seq_len,
            limit=MAX_SEQ_LEN,
        )
        problems.append(Problem("task", message))
    total = count_parameters(exp.model, task)
    if total > MAX_PARAMETERS:
        message = Text(
            "the model has {n} parameters; at most {limit} are allowed "
            "(make layers narrower or fewer)",
            n=f"{total:,}",
            limit=f"{MAX_PARAMETERS:,}",
        )
        problems.append(Problem("model", message))
    return problems
