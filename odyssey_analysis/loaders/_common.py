"""Helpers shared by the readers: options, paths and URLs, JSON, SQLite, typing text."""

from __future__ import annotations

import importlib
import json
import math
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, unquote, urlparse

import numpy as np
import pandas as pd

from ..errors import InputError, MissingExtraError

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")
_SQLITE_MAGIC = b"SQLite format 3\x00"


# -- optional libraries ---------------------------------------------------------------------

def require_module(name: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional library or raise :class:`MissingExtraError` naming the extra."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingExtraError(name, extra, purpose) from None


# -- options --------------------------------------------------------------------------------

def reject_unknown_options(fmt: str, unknown: Mapping[str, object],
                           accepted: Sequence[str]) -> None:
    """Raise :class:`InputError` for reader options the reader does not know."""
    if unknown:
        names = ", ".join(sorted(unknown))
        hint = (f"the {fmt} reader accepts: {', '.join(accepted)}" if accepted
                else f"the {fmt} reader takes no options")
        raise InputError(f"unknown option(s) for the {fmt} reader: {names}", hint=hint)


def option_list(value: object) -> list[str]:
    """A list option given as a list or as comma-separated text (``a,b``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


def option_choice(name: str, value: object, choices: Sequence[str], default: str) -> str:
    """A text option restricted to ``choices``."""
    if value is None:
        return default
    text = str(value).strip().lower()
    if text not in choices:
        raise InputError(f"option {name}={value!r} is not one of {', '.join(choices)}")
    return text


# -- paths and URLs -------------------------------------------------------------------------

def local_path(source: str) -> Path:
    """The local path of a path or ``file://`` URL."""
    if source.startswith("file://"):
        parsed = urlparse(source)
        return Path(unquote(parsed.path))
    return Path(source)


def is_remote(source: str) -> bool:
    """True for URLs that name something that is not a local file."""
    return "://" in source and not source.startswith(("file://", "sqlite://"))


def sqlite_file(source: str) -> Path | None:
    """The database file of an ``sqlite:///`` URL or of a path to an SQLite file.

    ``None`` when ``source`` is neither (a plain table, a folder, another URL).
    """
    if source.startswith("sqlite:"):
        rest = source[len("sqlite:"):].split("?", 1)[0]
        if not rest.startswith("///") or len(rest) == 3:
            return None  # in-memory or malformed: not a file
        return Path(unquote(rest[3:]))  # sqlite:///rel.db or sqlite:////abs/path.db
    if "://" in source:
        return None
    path = Path(source)
    if path.suffix.lower() in SQLITE_SUFFIXES and path.is_file():
        return path
    if path.is_file() and path.suffix == "":
        with path.open("rb") as fh:
            if fh.read(16) == _SQLITE_MAGIC:
                return path
    return None


def sqlite_uri(path: Path, *, read_only: bool = True) -> str:
    """An SQLite ``file:`` URI for ``path``, every special character percent-encoded
    (a ``#``, ``?`` or ``%`` in the name is part of the name), read-only by default so
    that the file is neither changed nor created."""
    uri = f"file:{quote(str(path.resolve()), safe='/')}"
    return f"{uri}?mode=ro" if read_only else uri


def sqlite_url(path: Path, *, read_only: bool = True) -> str:
    """An SQLAlchemy URL for ``path`` (read-only by default, so the file is never changed).

    SQLAlchemy decodes the database part of its URL once and SQLite decodes the URI
    again, so the path is encoded twice.
    """
    uri = quote(sqlite_uri(path, read_only=read_only), safe="/:?=&")
    return f"sqlite:///{uri}&uri=true" if read_only else f"sqlite:///{uri}?uri=true"


def corrupted_sqlite(where: str, detail: object) -> InputError:
    """The error for an SQLite file that cannot be read."""
    text = str(detail).splitlines()[0] if str(detail) else "unreadable"
    return InputError(f"the SQLite database is corrupted ({text})", file=where,
                      hint="restore it from a backup or export the study again")


def sqlite_tables(path: Path, source: str | None = None, *,
                  integrity: bool = False) -> set[str]:
    """Names of the tables in an SQLite file, read without changing it.

    With ``integrity`` the whole file is checked too (``PRAGMA quick_check``).

    Raises
    ------
    InputError
        The file is missing, empty, not an SQLite database, or corrupted.
    """
    where = source or str(path)
    if not path.is_file():
        raise InputError("database file not found", file=where)
    if path.stat().st_size == 0:
        raise InputError("the database file is empty", file=where)
    with path.open("rb") as fh:
        head = fh.read(16)
    if head != _SQLITE_MAGIC:
        raise InputError("not an SQLite database (the file does not start with the SQLite "
                         "header)", file=where)
    try:
        con = sqlite3.connect(sqlite_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"cannot open the SQLite database ({exc})", file=where) from None
    try:
        rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        check = con.execute("PRAGMA quick_check").fetchone() if integrity else ("ok",)
    except sqlite3.DatabaseError as exc:
        raise corrupted_sqlite(where, exc) from None
    finally:
        con.close()
    if check is None or str(check[0]).lower() != "ok":
        detail = "" if check is None else str(check[0]).splitlines()[0]
        raise corrupted_sqlite(where, detail)
    return {str(r[0]) for r in rows}


# -- JSON -----------------------------------------------------------------------------------

def read_json_file(path: Path, *, what: str = "JSON file") -> Any:
    """Parse a JSON file (NaN and Infinity allowed), raising :class:`InputError` on trouble."""
    if not path.is_file():
        raise InputError(f"{what} not found", file=str(path))
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"the {what} is empty", file=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line})",
                         file=str(path)) from None
    return parse_json(text, file=str(path))


def parse_json(text: str, *, file: str, row: int | None = None) -> Any:
    """Parse JSON text (NaN and Infinity allowed), raising :class:`InputError` on trouble.

    Malformed text names its line; values nested too deeply for the parser are refused
    too (instead of exhausting the interpreter's recursion).
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = "" if row is not None else f" at line {exc.lineno}"
        cut = "the line cut short" if row is not None else "it truncated"
        raise InputError(f"invalid JSON{where} ({exc.msg}); is {cut}?", file=file,
                         row=row) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read", file=file, row=row,
                         hint="flatten the values to one level per trial") from None


def iter_json_lines(path: Path) -> Iterable[tuple[int, Any]]:
    """(line number, value) for each non-blank line of a JSON Lines file."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("not UTF-8 text", file=str(path), row=number) from None
            yield number, parse_json(text, file=str(path), row=number)


def flatten(obj: Mapping[str, Any], sep: str = ".", prefix: str = "",
            skip_private: bool = False) -> dict[str, Any]:
    """Flatten nested mappings into ``{"a.b": value}`` (lists are kept as values)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        key = str(key)
        if skip_private and key.startswith("_"):
            continue
        name = f"{prefix}{sep}{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(flatten(value, sep, name, skip_private))
        else:
            out[name] = value
    return out


def scalar(value: Any) -> Any:
    """A value fit for a table cell: lists and tuples become their JSON text."""
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return value


# -- frames ---------------------------------------------------------------------------------

def frame_from_records(records: list[dict[str, Any]], rows: Sequence[int],
                       columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A frame whose index is the given 1-based source row numbers."""
    frame = pd.DataFrame.from_records(records, columns=list(columns) if columns else None)
    frame.index = pd.Index(list(rows), dtype="int64")
    return frame


def count_reasons(items: Sequence[tuple[int, str]]) -> dict[str, int]:
    """Excluded ``(row, reason)`` items counted by reason, largest first."""
    counts = pd.Series([reason for _, reason in items], dtype=object).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def exclusions_frame(items: Sequence[tuple[int, str]]) -> pd.DataFrame:
    """The ``row, reason`` frame of trials a reader left out."""
    return pd.DataFrame({"row": pd.Series([int(r) for r, _ in items], dtype="int64"),
                         "reason": pd.Series([str(x) for _, x in items], dtype="object")})


_INT_TEXT = re.compile(r"^[+-]?\d+$")
_BOOL_TEXT = {"true": True, "false": False}
_MISSING_TEXT = {"", "none", "null", "nan"}


def type_text_column(values: pd.Series) -> pd.Series:
    """Type a column of text values (as MLflow stores params) as int, float, bool or text.

    Missing values and ``None``/``null`` stay missing. A column is numeric only if every
    present value parses as a number, boolean only if every present value is true/false.
    """
    text = values.where(values.isna(), values.astype(str).str.strip())
    missing = text.isna() | text.str.lower().isin(_MISSING_TEXT)
    present = text[~missing]
    if present.empty:
        return pd.Series(np.nan, index=values.index, dtype=float)
    if present.map(lambda s: bool(_INT_TEXT.match(s))).all():
        numbers = pd.to_numeric(present)
        out = pd.Series(np.nan, index=values.index, dtype=float)
        out[~missing] = numbers.astype(float)
        if not missing.any():
            return out.astype("int64")
        return out
    lowered = present.str.lower()
    if lowered.isin(list(_BOOL_TEXT)).all():
        out = pd.Series(None, index=values.index, dtype=object)
        out[~missing] = lowered.map(_BOOL_TEXT)
        return out.astype(bool) if not missing.any() else out
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        out = pd.Series(np.nan, index=values.index, dtype=float)
        out[~missing] = numbers.astype(float)
        return out
    out = pd.Series(None, index=values.index, dtype=object)
    out[~missing] = present
    return out


def select_budget(frame: pd.DataFrame, budget: object, source: str,
                  excluded: list[tuple[int, str]], column: str = "budget"
                  ) -> tuple[pd.DataFrame, bool]:
    """Apply the ``budget=`` option (a value or ``max``) to a frame with a budget column.

    Returns the kept rows and whether the budget ``column`` should be a group key
    (several budgets remain). Rows at other budgets are recorded in ``excluded``.
    """
    if column not in frame.columns:
        if budget is not None:
            raise InputError("option budget= was given but the run records no budgets",
                             file=source)
        return frame, False
    levels = pd.unique(frame[column].dropna())
    if budget is None:
        return frame, len(levels) > 1
    x = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if str(budget).strip().lower() == "max":
        target = float(np.nanmax(x)) if np.isfinite(x).any() else math.nan
    else:
        try:
            target = float(budget)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"option budget={budget!r} is neither a number nor 'max'",
                             file=source) from None
    keep = np.isclose(x, target, rtol=1e-9, atol=1e-12)
    if not keep.any():
        present = ", ".join(f"{float(v):g}" for v in sorted(levels))
        raise InputError(f"no trials at budget {budget}", file=source,
                         hint=f"budgets present: {present}")
    for row in frame.index[~keep]:
        excluded.append((int(row), "other budget (not selected)"))
    return frame.loc[keep], False


def unique_name(name: str, taken: set[str], prefix: str) -> str:
    """``name``, or ``prefix + name`` when ``name`` is already taken."""
    return name if name not in taken else f"{prefix}{name}"


def run_space(run: Path, first: tuple[Any, Any] | None, tool: str) -> tuple[Any, Any]:
    """The search space of one run folder (its ``configspace.json``), which must be the
    first run's when there was one.

    Returns
    -------
    spec, space
        The parsed JSON (to compare the next run with) and the
        :class:`~odyssey_analysis.space.SearchSpace` (the first run's when given).
    """
    from ..space import SearchSpace

    path = run / "configspace.json"
    spec = read_json_file(path, what="configspace.json")
    if first is not None:
        if spec != first[0]:
            raise InputError("this run's search space differs from the first run's",
                             file=str(path), hint="analyse the runs separately")
        return first
    space = SearchSpace.from_file(path)
    return spec, SearchSpace(space.hyperparameters,
                             origin=f"{tool} configspace.json ({run.name})", notes=space.notes)


def field_names(fields: Sequence[str], taken: Iterable[str], prefix: str) -> dict[str, str]:
    """Column names for a source's own fields (``budget``, ``seed``, ...) that keep clear
    of the hyperparameters' and objectives' names (``budget`` -> ``smac_budget``)."""
    taken = set(taken)
    return {f: unique_name(f, taken, prefix) for f in fields}


# -- DeepCAVE's and AMLTK's objective columns ---------------------------------------------

_METRIC_COLUMN = re.compile(
    r"^metric:(?P<name>.+?)\s*\[\s*(?P<lo>[^;,\]]+?)\s*[;,]\s*(?P<hi>[^\]]+?)\s*\]\s*"
    r"\((?P<dir>maximi[sz]e|minimi[sz]e)\)\s*$", re.IGNORECASE)


def metric_column(column: str) -> tuple[str, float, float, str] | None:
    """``metric:<name> [<lower>; <upper>] (<maximize|minimize>)`` (DeepCAVE's DataFrame
    runs; AMLTK writes a comma between the bounds) as ``(name, lower, upper,
    direction)``; ``None`` for another column."""
    m = _METRIC_COLUMN.match(str(column))
    if m is None:
        return None
    try:
        lo, hi = float(m["lo"]), float(m["hi"])
    except ValueError:
        return None
    direction = "maximize" if m["dir"].lower().startswith("maxim") else "minimize"
    return m["name"].strip(), lo, hi, direction


def metric_columns(columns: Iterable[str], source: str
                   ) -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
    """The objective columns among ``columns``: ``{column: name}``, each name's direction
    and its worst value (the upper bound when minimised, the lower when maximised)."""
    renames: dict[str, str] = {}
    directions: dict[str, str] = {}
    worst: dict[str, float] = {}
    for column in columns:
        parsed = metric_column(column)
        if parsed is None:
            continue
        name, lo, hi, direction = parsed
        if name in directions:
            raise InputError(f"two objective columns are named {name!r}", file=source,
                             column=column)
        renames[column] = name
        directions[name] = direction
        bound = lo if direction == "maximize" else hi
        if math.isfinite(bound):
            worst[name] = bound
    return renames, directions, worst


def run_folders(path: Path, is_run: Any) -> list[Path]:
    """``[path]`` when it is a run folder, else its sub-folders that are (sorted
    naturally: ``run_2`` before ``run_10``)."""
    if is_run(path):
        return [path]
    if not path.is_dir():
        return []

    def natural(p: Path) -> list[Any]:
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]

    return sorted((c for c in path.iterdir() if c.is_dir() and is_run(c)), key=natural)


def require_runs(path: Path | None, is_run: Any, tool: str, run_files: Sequence[str],
                 source: str) -> list[Path]:
    """:func:`run_folders` of ``path``, or the error that names what a run folder of
    ``tool`` holds when there is none."""
    runs = run_folders(path, is_run) if path is not None and path.is_dir() else []
    if not runs:
        raise InputError(f"no {tool} run here (a run folder holds "
                         f"{' and '.join(run_files)})", file=source)
    return runs
