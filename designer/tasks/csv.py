"""Next-step forecasting on the user's own CSV file of numeric columns.

Try it with the file shipped with the project: a made-up daily weather table of 400
days (temperature_c, humidity_pct, pressure_hpa), designer/tasks/data/example.csv,
which the parameter `path` also accepts under the short name "example":

    {"task": {"name": "csv", "path": "example", "targets": ["temperature_c"]}}

The data comes from one of three places: `data` (the CSV text itself, which then
travels inside the document and its link), `upload` (the SHA-256 of a file uploaded
to the server) or `path` (a file; which paths a process may read is decided in
designer.tasks.datafiles).
"""

from __future__ import annotations

import csv
import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from designer.i18n import N_, Text, _
from designer.tasks.base import MAX_SEQ_LEN, Param, Task, TaskDataError, shown
from designer.tasks.datafiles import readable_path, upload_path

MAX_BYTES = 20 * 1024 * 1024
MAX_CELLS = 1_000_000
csv.field_size_limit(MAX_BYTES)  # one long cell is refused as a bad number, not a crash


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    values: np.ndarray  # (rows, columns) float64


def train_rows(n: int) -> int:
    """Rows in the training part: the first 80% (integer maths, no rounding surprises)."""
    return n * 4 // 5


def rows_needed(seq_len: int) -> int:
    """The fewest rows that leave a window of seq_len + 1 rows in both parts."""
    n = 2 * (seq_len + 1)
    while min(train_rows(n), n - train_rows(n)) < seq_len + 1:
        n += 1
    return n


def read_table(path: str = "", data: str = "", upload: str = "") -> Table:
    """The table from a file `path`, the CSV text `data` or the uploaded file with the
    SHA-256 `upload` (at most one of them; with none, the shipped example, so the
    task works out of the box)."""
    given = [name for name, value in (("path", path), ("data", data), ("upload", upload)) if value]
    if len(given) > 1:
        if len(given) == 3:
            message = Text(
                "give only one of 'path' (a CSV file), 'data' (the CSV text) and 'upload' "
                "(an uploaded file), not path and data and upload"
            )
        else:
            message = Text(
                "give only one of 'path' (a CSV file), 'data' (the CSV text) and 'upload' "
                "(an uploaded file), not {first} and {second}",
                first=given[0],
                second=given[1],
            )
        raise TaskDataError(message)
    if data:
        try:
            size = len(data.encode())
        except UnicodeEncodeError:  # a lone surrogate, which JSON's "\ud800" can carry
            raise TaskDataError(
                Text("the CSV data holds characters that are not valid text")
            ) from None
        if size > MAX_BYTES:
            raise TaskDataError(
                Text("{source} is too large: {size}", source=Text("the CSV data"), size=_size(size))
            )
        return _parse(data, Text("the CSV data"))
    file, source = source_file(path, upload)
    return _read_file(file, source)


def source_file(path: str = "", upload: str = "") -> tuple[Path, Text]:
    """The file a csv task reads (the uploaded one, the named one where the task may
    read it, or the shipped example) and how messages name it."""
    if upload:
        return upload_path(upload), Text("the uploaded CSV file")
    path = path or "example"
    file = readable_path(path)
    if not file.is_file():
        raise TaskDataError(Text("CSV file not found: {path}", path=path))
    return file, Text("the CSV file {path}", path=path)


def source_text(path: str = "", upload: str = "") -> str:
    """The text of that file, size-checked before it is read."""
    file, source = source_file(path, upload)
    if file.stat().st_size > MAX_BYTES:
        raise TaskDataError(
            Text("{source} is too large: {size}", source=source, size=_size(file.stat().st_size))
        )
    return file.read_text(encoding="utf-8-sig")


def _size(n_bytes: int) -> Text:
    return Text(
        "{size} MB; the limit is {limit} MB",
        size=f"{n_bytes / 2**20:.1f}",
        limit=MAX_BYTES // 2**20,
    )


def _read_file(file: Path, source: Text) -> Table:
    """Size-checked before it is read; `source` names it in messages as the user did."""
    stat = file.stat()
    if stat.st_size > MAX_BYTES:
        raise TaskDataError(
            Text("{source} is too large: {size}", source=source, size=_size(stat.st_size))
        )
    return _read_cached(str(file.resolve()), stat.st_mtime_ns, stat.st_size, source)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int, source: Text) -> Table:
    """Cached on (path, modification time, size): an edited file is read again."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise TaskDataError(
            Text("{source} is not UTF-8 text ({reason})", source=source, reason=e.reason)
        ) from None
    return _parse(text, source)


def parse_upload(content: bytes) -> Table:
    """An uploaded file's table, size-checked before it is decoded or parsed."""
    if len(content) > MAX_BYTES:
        raise TaskDataError(
            Text("{source} is too large: {size}", source=Text("the file"), size=_size(len(content)))
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TaskDataError(
            Text("{source} is not UTF-8 text ({reason})", source=Text("the file"), reason=e.reason)
        ) from None
    return _parse(text, Text("the file"))


@functools.lru_cache(maxsize=8)
def _parse(text: str, source: Text) -> Table:
    """Parse CSV text with a header row into a float table; every problem raises
    TaskDataError naming the column and the line (the header is line 1)."""
    # One kind of line end (old Mac files end lines with a bare CR), and the delimiter
    # guessed from the first lines that hold anything (blank lines confuse the guess).
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    sample = "\n".join(line for line in text[:8192].split("\n") if line.strip())[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return _read_rows(csv.reader(io.StringIO(text), dialect), source)
    except csv.Error as err:
        raise TaskDataError(
            Text("{source} cannot be read as CSV ({reason})", source=source, reason=str(err))
        ) from None


def _read_rows(reader: Any, source: Text) -> Table:
    """The header, then every non-blank row as numbers, checked against the header and
    the size limit; the first thing wrong is a TaskDataError naming its line."""
    columns = _read_header(reader, source)
    rows: list[list[float]] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) > len(columns) and any(cell.strip() for cell in row[len(columns) :]):
            raise TaskDataError(
                Text(
                    "line {line} of {source} has {n} values but the header names {columns} columns",
                    line=line,
                    source=source,
                    n=len(row),
                    columns=len(columns),
                )
            )
        if (len(rows) + 1) * len(columns) > MAX_CELLS:
            raise TaskDataError(
                Text(
                    "{source} is too large: more than {limit} cells (the limit)",
                    source=source,
                    limit=f"{MAX_CELLS:,}",
                )
            )
        rows.append(_row_values(columns, row, line, source))
    return Table(columns, np.array(rows, dtype=np.float64).reshape(len(rows), len(columns)))


def _read_header(reader: Any, source: Text) -> tuple[str, ...]:
    """The first non-blank row: the columns' names, each given and none twice."""
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise TaskDataError(Text("{source} is empty", source=source))
    columns = tuple(cell.strip() for cell in header)
    if all(_is_number(name) for name in columns):
        raise TaskDataError(
            Text(
                "{source} needs a header row naming the columns; its first row holds "
                "numbers ({numbers})",
                source=source,
                numbers=", ".join(columns[:5]),
            )
        )
    for i, name in enumerate(columns):
        if not name:
            raise TaskDataError(
                Text("column {n} of {source} has no name in the header row", n=i + 1, source=source)
            )
        if columns.index(name) != i:
            raise TaskDataError(
                Text("the header of {source} names column '{name}' twice", source=source, name=name)
            )
    return columns


def _row_values(columns: tuple[str, ...], row: list[str], line: int, source: Text) -> list[float]:
    """One row's cells as finite numbers (a short row's missing cells are missing
    values): a word, an empty cell or nan is an error that names its column and line."""
    values = []
    for name, cell in zip(columns, row + [""] * (len(columns) - len(row)), strict=False):
        cell = cell.strip()
        try:
            value = float(cell) if cell else math.nan
        except ValueError:
            raise TaskDataError(
                Text(
                    "column {name} has a non-numeric value on line {line} of {source}: {got}",
                    name=shown(name),
                    line=line,
                    source=source,
                    got=shown(cell),
                )
            ) from None
        if not math.isfinite(value):
            if cell:
                message = Text(
                    "column {name} has a missing value ({got}) on line {line} of {source}",
                    name=shown(name),
                    got=shown(cell),
                    line=line,
                    source=source,
                )
            else:
                message = Text(
                    "column {name} has a missing value on line {line} of {source}",
                    name=shown(name),
                    line=line,
                    source=source,
                )
            raise TaskDataError(message)
        values.append(value)
    return values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class CSVTask(Task):
    name = "csv"
    title = N_("Your own CSV data")
    description = N_(
        "Forecast your own data: a CSV file of numeric columns with a header row, one row "
        "per time step (for example one row per day). At every step the network sees all "
        "columns and predicts the chosen target columns at the next step. Values are "
        "standardised (mean 0, standard deviation 1, measured on the training part), so "
        "the loss is in standard deviations squared. The first 80% of the rows are for "
        "training and the last 20% for validation, as in a real forecast. The baseline is "
        "persistence: the next value equals the current one. Without a file of your own "
        "it trains on the shipped example, 400 days of made-up weather."
    )
    lesson = N_(
        "Real series mix slow trends, cycles and noise: compare a model's loss with "
        "persistence to see whether its memory has found anything to use."
    )
    PARAMS = (
        Param(
            "path", "", N_("path of a CSV file (empty or 'example': the shipped example)"), "str"
        ),
        Param("data", "", N_("the CSV text itself (instead of a path)"), "str"),
        Param("upload", "", N_("SHA-256 of a CSV file uploaded to the server"), "str"),
        Param("upload_name", "", N_("the uploaded file's name, to show"), "str"),
        Param("targets", [], N_("columns to forecast (empty: all of them)"), "strs"),
        Param("seq_len", 50, N_("rows per training window"), "int", 2, MAX_SEQ_LEN),
    )
    kind = "regression"
    per_step = True
    forecasts = True
    metric_name = N_("mse")
    higher_is_better = False
    uploads = True  # the picker offers an uploader for the visitor's own file

    def __post_init__(self) -> None:
        table = read_table(self.params["path"], self.params["data"], self.params["upload"])
        self.use_table(table, tuple(self.params["targets"]))

    def use_table(self, table: Table, targets: tuple[str, ...]) -> None:
        """Forecast `targets` (empty: every column) of `table`: check it, standardise it
        on its first 80% and split it."""
        self.columns = table.columns
        self.target_columns = targets or table.columns
        for name in self.target_columns:
            if name not in table.columns:
                raise TaskDataError(
                    Text(
                        "unknown target column '{name}'; the columns are {columns}",
                        name=name,
                        columns=", ".join(table.columns),
                    )
                )
        n, need = len(table.values), rows_needed(self.seq_len)
        self.rows = n
        if n < need:
            raise TaskDataError(
                Text(
                    "the CSV has {n} data rows; seq_len {seq_len} needs at least {need} "
                    "(a window of {window} rows in both the first 80% for training "
                    "and the last 20% for validation)",
                    n=n,
                    seq_len=self.seq_len,
                    need=need,
                    window=self.seq_len + 1,
                )
            )
        cut = train_rows(n)
        with np.errstate(over="ignore", invalid="ignore"):
            self.mean = table.values[:cut].mean(0)  # (C,) in the file's units
            self.std = table.values[:cut].std(0)
        for name, mean, std in zip(self.columns, self.mean, self.std, strict=True):
            if not (math.isfinite(mean) and math.isfinite(std)):
                raise TaskDataError(
                    Text(
                        "column {name} holds values too large to standardise "
                        "(near the largest number a computer holds)",
                        name=shown(name),
                    )
                )
        self.std[self.std < 1e-12] = 1.0  # a constant column stays constant
        values = torch.from_numpy((table.values - self.mean) / self.std).float()  # (n,C)
        self.splits = {"train": values[:cut], "val": values[cut:]}
        self.target_index = torch.tensor([self.columns.index(c) for c in self.target_columns])
        self.input_size = len(self.columns)
        self.output_size = len(self.target_columns)

    def input_names(self) -> list[str]:
        return list(self.columns)

    def output_names(self) -> list[str]:
        return list(self.target_columns)

    def make_batch(
        self, batch_size: int, gen: torch.Generator, split: Literal["train", "val"]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        data, T = self.splits[split], self.seq_len
        starts = torch.randint(0, len(data) - T, (batch_size, 1), generator=gen)  # (B,1)
        windows = data[starts + torch.arange(T + 1)]  # (B,T+1,C)
        return windows[:, :-1], windows[:, 1:, self.target_index]  # (B,T,C), (B,T,O)

    def baseline_prediction(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Persistence: each target column is predicted to keep its current value."""
        return x[..., self.target_index]

    def standalone(self) -> tuple[str, dict[str, Any]]:
        """The file's text travels inside an exported script (it reads no file)."""
        params = dict(self.params)
        if not params.get("data"):
            params["data"] = source_text(params.get("path", ""), params.get("upload", ""))
            params.update(path="", upload="")
        return "csv", params


# --- real series shipped with the project ---------------------------------------------
@dataclass(frozen=True)
class Series:
    """A real public-domain series in designer/tasks/data (its source and licence are
    in data/SOURCES.md): what it is, which column is forecast, its season."""

    file: str
    target: str
    period: int  # rows per season: the seasonal baseline looks this far back
    title: str  # message ids, translated where shown
    season: str
    source: str


SERIES = {
    "sunspots": Series(
        "sunspots.csv",
        "sunspots",
        11,
        N_("yearly mean sunspot numbers, 1700 to 2008 (309 years)"),
        N_("the same year of the last 11-year solar cycle"),
        N_("NOAA National Geophysical Data Center, public domain"),
    ),
    "co2": Series(
        "co2.csv",
        "co2_ppm",
        12,
        N_("monthly CO₂ at Mauna Loa in ppm, March 1958 to December 2001 (526 months)"),
        N_("the same month a year before"),
        N_("C. D. Keeling and T. P. Whorf, Scripps; CDIAC, US Department of Energy; public domain"),
    ),
    "temperature": Series(
        "temperature.csv",
        "temp_max_c",
        365,
        N_("daily highest and lowest temperature in Seattle in °C, 2012 to 2015 (1,461 days)"),
        N_("the same day a year before"),
        N_("NOAA, public domain"),
    ),
}
DATA = Path(__file__).parent / "data"


@dataclass
class SeriesTask(CSVTask):
    name = "series"
    title = N_("Real series: sunspots, CO₂, temperature")
    description = N_(
        "Forecast a real measured series one step ahead: yearly sunspot numbers (an "
        "irregular cycle of about 11 years), the monthly CO₂ record of Mauna Loa (a rising "
        "trend with a yearly cycle), or daily temperatures in Seattle (a yearly cycle under "
        "day-to-day weather). Values are standardised on the first 80% of the series, which "
        "is for training; the last 20% is for validation, as in a real forecast. Two "
        "baselines tell whether the network found anything: persistence (the next value "
        "equals the current one) and the seasonal forecast (the value one season back)."
    )
    lesson = N_(
        "A cycle longer than the window cannot be learned from the window: give the network "
        "enough steps to see one season, and compare it with the two baselines."
    )
    PARAMS = (
        Param(
            "series",
            "sunspots",
            N_("which real series"),
            "str",
            choices=tuple(SERIES),
            labels=(
                N_("sunspots (yearly)"),
                N_("CO₂ at Mauna Loa (monthly)"),
                N_("temperature (daily)"),
            ),
        ),
        Param("seq_len", 24, N_("rows per training window"), "int", 2, 200),
    )

    uploads = False

    def __post_init__(self) -> None:
        series = SERIES[self.params["series"]]
        self.series = series
        text = (DATA / series.file).read_text(encoding="utf-8")
        self.use_table(
            _parse(text, Text("the series {name}", name=self.params["series"])), (series.target,)
        )

    def standalone(self) -> tuple[str, dict[str, Any]]:
        """Exported as the csv task with the series' text inside: the same numbers."""
        text = (DATA / self.series.file).read_text(encoding="utf-8")
        params = {p.name: p.default for p in CSVTask.PARAMS}
        params.update(data=text, targets=[self.series.target], seq_len=self.seq_len)
        return "csv", params

    def data_note(self) -> str:
        series, scores = self.series, self.seasonal_baselines()
        return _(
            "Data: {title} ({source}). On the validation part persistence scores a mean "
            "squared error of {persistence}, the seasonal forecast ({season}) {seasonal}, in "
            "the loss's units."
        ).format(
            title=_(series.title),
            source=_(series.source),
            persistence=f"{scores['persistence']:.3g}",
            season=_(series.season),
            seasonal=f"{scores['seasonal']:.3g}",
        )

    def seasonal_baselines(self) -> dict[str, float]:
        """Mean squared error (standardised units, as the loss) of persistence and of
        the seasonal forecast on every validation row of the whole series."""
        whole = torch.cat([self.splits["train"], self.splits["val"]])[:, self.target_index]
        cut, period = len(self.splits["train"]), self.series.period
        rows = torch.arange(max(cut, period), len(whole))
        return {
            "persistence": float((whole[rows] - whole[rows - 1]).pow(2).mean()),
            "seasonal": float((whole[rows] - whole[rows - period]).pow(2).mean()),
        }
