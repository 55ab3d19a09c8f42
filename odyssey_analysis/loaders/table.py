"""Plain tables: CSV, TSV, Parquet, JSON (records or columns) and JSON Lines."""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, MissingExtraError
from ._common import parse_json

TABLE_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv", ".parquet": "parquet",
    ".pq": "parquet", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
}


def read_table(path: str | Path, fmt: str | None = None,
               usecols: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a plain table; the index is the 1-based data row number.

    Parameters
    ----------
    path
        The file.
    fmt
        ``csv``, ``tsv``, ``parquet``, ``json`` or ``jsonl``; default: from the
        extension.
    usecols
        Read only these columns (CSV, TSV and Parquet; names missing from the file are
        ignored). Large tables need much less memory when the roles are known.

    Raises
    ------
    InputError
        Empty file, binary or wrongly encoded content, ragged rows, truncated JSON, an
        unknown extension: each naming the file (and the row where known).
    """
    path = Path(path)
    source = str(path)
    fmt = fmt or TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"unknown table format '{path.suffix or '(no extension)'}'",
                         file=source,
                         hint="use .csv, .tsv, .parquet, .json or .jsonl, or pass {format}",
                         parameters=("format",))
    if not path.exists():
        raise InputError("file not found", file=source)
    if path.is_dir():
        raise InputError("is a folder, not a table (no known sweep format found inside)",
                         file=source)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=source)
    if fmt == "parquet":
        return _read_parquet(path, usecols)
    with path.open("rb") as fh:
        head = fh.read(4096)
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("the file is binary, not a text table", file=source,
                         hint="export the sweep as CSV, JSON or Parquet")
    if fmt in ("csv", "tsv"):
        return _read_delimited(path, "\t" if fmt == "tsv" else ",", usecols)
    if fmt == "jsonl":
        return _read_jsonl(path)
    if fmt == "json":
        return _read_json(path)
    raise InputError(f"unknown table format '{fmt}'", file=source)


def _with_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def _encoding(path: Path) -> str:
    with path.open("rb") as fh:
        bom = fh.read(2)
    return "utf-16" if bom in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def _not_utf8(path: Path) -> InputError:
    """Locate the first byte that is not UTF-8 (streaming: the file is never held whole)."""
    line, carry = 1, b""
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            data = carry + chunk
            carry = b""
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                    carry = data[exc.start:]  # a character cut by the chunk boundary
                    line += data[: exc.start].count(b"\n")
                    continue
                line += data[: exc.start].count(b"\n")
                return InputError(
                    f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})",
                    file=str(path), row=line - 1 if line > 1 else None,
                    hint="re-save the file as UTF-8")
            line += data.count(b"\n")
    return InputError("not UTF-8 text (a character is cut short at the end)", file=str(path),
                      hint="re-save the file as UTF-8")


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line})",
                         file=str(path), row=line - 1 if line > 1 else None,
                         hint="re-save the file as UTF-8") from None


_PARSER_LINE = re.compile(r"(?:Expected (\d+) fields in )?line (\d+), saw (\d+)")


def header_columns(path: Path, sep: str = ",") -> list[str]:
    """The column names in the first record of a delimited file (cheap: reads the header,
    quoted line breaks included)."""
    with path.open("r", encoding=_encoding(path), errors="replace", newline="") as fh:
        try:
            row = next(csv.reader(fh, delimiter=sep, skipinitialspace=True))
        except (StopIteration, csv.Error):
            return []
    return [c.strip() for c in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_header(path: Path, header: list[str]) -> None:
    """Refuse header names that cannot be read as given: a first line of numbers only (a
    table without a header, whose first row would be lost), a repeated name (pandas would
    rename it silently) or a name with a line break or tab."""
    if header and all(name and _is_number(name) for name in header):
        shown = ", ".join(header[:4]) + (", ..." if len(header) > 4 else "")
        raise InputError(f"the first line holds numbers only ({shown}): the table has no "
                         "header, and its first row would be read as column names",
                         file=str(path), hint="add a first line naming the columns")
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        where = f"column {i + 1} of the header"
        if any(ch in name for ch in "\r\n\t"):
            raise InputError(f"{where} has a line break or tab in its name ({name!r})",
                             file=str(path), hint="rename the column in the header")
        if name in seen and name:
            raise InputError(f"the header names column {name!r} twice (columns "
                             f"{seen[name] + 1} and {i + 1})", file=str(path), column=name,
                             hint="rename one of them")
        seen[name] = i


#: pandas' placeholder for a column without a name (``Unnamed: 0``), which a table read
#: with its index and saved again carries as a literal header.
_PLACEHOLDER = re.compile(r"^Unnamed: \d+(\.\d+)?$")


def _is_row_index(values: pd.Series) -> bool:
    """Whether a column holds the row numbers ``DataFrame.to_csv`` writes (0, 1, 2, ...)."""
    if not pd.api.types.is_integer_dtype(values) or values.empty:
        return False
    x = values.to_numpy()
    return bool(x[0] in (0, 1) and np.all(np.diff(x) == 1))


def _unnamed_columns(path: Path, frame: pd.DataFrame, header: list[str]
                     ) -> tuple[pd.DataFrame, list[str]]:
    """Columns without a name: dropped when empty; dropped as the row index
    ``DataFrame.to_csv`` writes when it holds unique integers (the first column), or row
    numbers under pandas' placeholder name (a table saved twice); else refused.

    ``frame``'s columns are the header's names, the empty ones as ``\x00<position>``.
    """
    notes = []
    for pos, name in enumerate(header):
        column = f"\x00{pos}" if not name else name
        if column not in frame.columns or (name and not _PLACEHOLDER.match(name)):
            continue
        values = frame[column]
        if not name and values.isna().all():
            frame = frame.drop(columns=[column])
        elif not name and pos == 0 and pd.api.types.is_integer_dtype(values) \
                and values.is_unique:
            frame = frame.drop(columns=[column])
            notes.append("the first column has no name and holds a row index (as "
                         "DataFrame.to_csv writes it): it is not analysed")
        elif name and _is_row_index(values):
            frame = frame.drop(columns=[column])
            notes.append(f"column {name!r} holds row numbers under pandas' name for a "
                         "column without one (a table saved twice): it is not analysed")
        elif not name:
            raise InputError(f"column {pos + 1} of the header has no name", file=str(path),
                             hint="give every column a name in the header")
    return frame, notes


def _read_delimited(path: Path, sep: str,
                    usecols: Sequence[str] | None = None) -> pd.DataFrame:
    encoding = _encoding(path)
    header = header_columns(path, sep)
    _check_header(path, header)
    # Naming the columns to read (by position) lets pandas' C parser skip holding the
    # whole file: the peak memory falls to about 1.7 times the frame instead of 3 to 4.
    # It also makes pandas ignore surplus fields, so rows are checked separately below.
    positions: list[int] | None = list(range(len(header))) if header else None
    if usecols is not None and header:
        wanted = set(usecols)
        positions = [i for i, c in enumerate(header) if c in wanted] or positions
    if header:
        # Before parsing, so the check's buffers are gone before the frame is built.
        _check_rows(path, sep, encoding, len(header))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            frame = pd.read_csv(path, sep=sep, encoding=encoding, engine="c",
                                skipinitialspace=True, keep_default_na=True,
                                na_values=["nan", "NaN"], usecols=positions)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except pd.errors.EmptyDataError:
        raise InputError("the file has no header and no rows", file=str(path)) from None
    except (pd.errors.ParserError, ValueError) as exc:
        _check_rows(path, sep, encoding, len(header))
        m = _PARSER_LINE.search(str(exc))
        if m:
            expected, line, saw = m.group(1), int(m.group(2)), m.group(3)
            raise InputError(f"ragged row: {saw} fields where the header has "
                             f"{expected or 'fewer'}", file=str(path), row=line - 1,
                             hint="every row needs one value per header column") from None
        raise InputError(f"cannot parse the table: {exc}".splitlines()[0],
                         file=str(path)) from None
    if header and positions is not None and frame.shape[1] == len(positions):
        # The header's own names: pandas would rename a repeated or empty one.
        frame.columns = [header[p] or f"\x00{p}" for p in positions]
    frame, notes = _unnamed_columns(path, frame, header)
    if frame.shape[1] == 0:
        raise InputError("the file has no columns", file=str(path))
    frame.attrs["notes"] = notes
    return _with_rows(frame)


def _ragged(path: Path, row: int, fields: int, width: int) -> InputError:
    return InputError(f"ragged row: {fields} fields where the header has {width}",
                      file=str(path), row=row,
                      hint="every row needs one value per header column")


#: Bytes read at a time by the row-width check.
ROW_CHECK_BLOCK = 1 << 22


def _check_rows(path: Path, sep: str, encoding: str, width: int) -> None:
    """Raise for the first data row whose number of fields differs from the header's.

    Counts separators per line with numpy, a block at a time (a fraction of the parse
    time, little memory); files with quoted fields go through the csv module instead.
    """
    if encoding != "utf-8-sig" or len(sep) != 1:
        _check_rows_csv(path, sep, encoding, width)
        return
    sep_byte = ord(sep)
    row = -1  # the header line is row 0
    carry = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(ROW_CHECK_BLOCK)
            data = carry + chunk
            if not data:
                return
            if b'"' in data:
                _check_rows_csv(path, sep, encoding, width)
                return
            if chunk:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
            elif not data.endswith(b"\n"):
                data += b"\n"
            arr = np.frombuffer(data, dtype=np.uint8)
            ends = np.flatnonzero(arr == 10)
            starts = np.concatenate(([0], ends[:-1] + 1))
            seps = np.flatnonzero(arr == sep_byte)
            counts = np.searchsorted(seps, ends) - np.searchsorted(seps, starts)
            lengths = ends - starts
            blank = (lengths == 0) | ((lengths == 1) & (arr[np.minimum(starts, len(arr) - 1)]
                                                         == 13))
            rows = row + np.cumsum(~blank)
            bad = ~blank & (counts != width - 1) & (rows >= 1)
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise _ragged(path, int(rows[first]), int(counts[first]) + 1, width)
            row = int(rows[-1]) if len(rows) else row
            if not chunk:
                return


def _check_rows_csv(path: Path, sep: str, encoding: str, width: int) -> None:
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, skipinitialspace=True)
        try:
            width = len(next(reader))
        except StopIteration:
            return
        row = 0
        for fields in reader:
            if not fields:
                continue  # blank lines are skipped by the table reader too
            row += 1
            if len(fields) != width:
                raise _ragged(path, row, len(fields), width)


def _read_jsonl(path: Path) -> pd.DataFrame:
    records = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        obj = parse_json(line, file=str(path), row=number)
        if not isinstance(obj, dict):
            raise InputError("each line must be a JSON object", file=str(path), row=number)
        records.append(obj)
    if not records:
        raise InputError("the file has no records", file=str(path))
    return _with_rows(pd.json_normalize(records, sep="."))


def _read_json(path: Path) -> pd.DataFrame:
    text = _read_text(path)
    obj = parse_json(text, file=str(path))
    if isinstance(obj, dict):
        for key in ("trials", "runs", "records", "data", "rows"):
            if isinstance(obj.get(key), list):
                obj = obj[key]
                break
        else:
            if obj and all(isinstance(v, list) for v in obj.values()):
                lengths = {len(v) for v in obj.values()}
                if len(lengths) != 1:
                    raise InputError("columns have different lengths", file=str(path))
                return _with_rows(pd.DataFrame(obj))
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise InputError("expected a list of records (one object per trial)", file=str(path))
    if not obj:
        raise InputError("the file has no records", file=str(path))
    return _with_rows(pd.json_normalize(obj, sep="."))


def _read_parquet(path: Path, usecols: Sequence[str] | None = None) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet", "reading Parquet files") from None
    try:
        columns = None
        if usecols is not None:
            names = pq.ParquetFile(path).schema_arrow.names
            columns = [c for c in names if c in set(usecols)] or None
            if columns is not None and len(columns) < len(set(usecols) & set(names)):
                columns = None
        frame = pd.read_parquet(path, columns=columns)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds
        raise InputError(f"cannot read Parquet: {exc}".splitlines()[0], file=str(path)) from None
    labels = None if isinstance(frame.index, pd.RangeIndex) else [str(v) for v in frame.index]
    frame = _with_rows(frame.reset_index(drop=True))
    if labels is not None:  # e.g. AMLTK's trial names, which hold the budget
        frame.attrs["index_labels"] = labels
    return frame
