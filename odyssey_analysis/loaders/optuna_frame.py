"""Optuna's own table of trials, saved to a file: ``study.trials_dataframe()`` as CSV,
TSV or Parquet.

Optuna writes one row per trial with the columns ``number``, ``value`` (one objective)
or ``values_0``, ``values_1``, ... (several; ``values_<name>`` when the study named its
metrics), ``datetime_start``, ``datetime_complete``, ``duration``, ``params_<name>``
for each hyperparameter, ``user_attrs_<name>``, ``system_attrs_<name>`` and ``state``
(COMPLETE, PRUNED, FAIL, RUNNING, WAITING). It is read as the trials it describes:

* ``params_<name>`` are the hyperparameters, named ``<name>`` (the prefix is kept where
  the short name would collide with another column);
* the objective values are the responses (``values_0`` becomes ``value_0``,
  ``values_<metric>`` becomes ``<metric>``), and so are numeric ``user_attrs_<name>``
  columns whose names read as a metric (``user_attrs_val_accuracy``);
* only COMPLETE trials are analysed; the others are counted by their state;
* ids, times and ``system_attrs_*`` are bookkeeping.

The table does not record the study's direction(s) or distributions: the search space
is inferred from the values, and a direction must be declared (``--minimize value``)
where a command needs one. A study in a storage (``sqlite:///study.db``) has both: read
it there where you can.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..roles import looks_like_response
from ._common import local_path, reject_unknown_options
from .base import RawTrials, SourceFormat
from .table import header_columns, read_table

#: Suffixes of the files this format reads, with their table format.
SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}
#: The columns every ``trials_dataframe()`` holds, whatever the study.
REQUIRED = frozenset({"number", "state"})
_STATES = {"PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
           "WAITING": "waiting"}


def _columns(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:  # without pyarrow no Parquet format is detected at all
            return []
        try:
            return list(pq.read_schema(path).names)
        except Exception:  # not Parquet after all: another reader will say so
            return []
    return header_columns(path, "\t" if suffix == ".tsv" else ",")


def is_optuna_frame(columns: list[str]) -> bool:
    """Whether a header is that of ``trials_dataframe()``: ``number``, ``state``, an
    objective column and at least one ``params_`` column."""
    cols = set(columns)
    objective = "value" in cols or any(c.startswith("values_") for c in cols)
    return REQUIRED <= cols and objective and any(c.startswith("params_") for c in cols)


def _detect(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = local_path(source)
    return (path.suffix.lower() in SUFFIXES and path.is_file()
            and is_optuna_frame(_columns(path)))


def _short(column: str, prefix: str, taken: set[str]) -> str:
    """``column`` without ``prefix`` unless that name is taken."""
    name = column[len(prefix):]
    return name if name and name not in taken else column


def read_optuna_frame(source: str, **unknown: object) -> RawTrials:
    """Read a table written from Optuna's ``study.trials_dataframe()``.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("optuna-table", unknown, ())
    path = local_path(source)
    frame = read_table(path, SUFFIXES.get(path.suffix.lower()))
    columns = [str(c) for c in frame.columns]
    if not is_optuna_frame(columns):
        raise InputError("not an Optuna trials table (it needs the columns number, state, "
                         "value or values_0, ... and params_<name>)", file=source)
    taken = set(columns)
    renames: dict[str, str] = {}
    hyperparameters, responses = [], []
    for c in columns:
        if c.startswith("params_"):
            renames[c] = _short(c, "params_", taken)
            hyperparameters.append(renames[c])
        elif c == "value":
            responses.append(c)
        elif c.startswith("values_"):
            rest = c[len("values_"):]
            renames[c] = (f"value_{rest}" if rest.isdigit() and f"value_{rest}" not in taken
                          else _short(c, "values_", taken))
            responses.append(renames[c])
        elif c.startswith("user_attrs_") and looks_like_response(c[len("user_attrs_"):],
                                                                  frame[c]):
            renames[c] = _short(c, "user_attrs_", taken)
            responses.append(renames[c])
        taken |= set(renames.values())
    frame = frame.rename(columns=renames)
    frame["state"] = frame["state"].map(
        lambda s: _STATES.get(str(s).strip().upper(), str(s).strip().lower()))
    notes = ["an Optuna trials table records neither the study's direction nor its "
             "distributions: the space is inferred from the values (read the study's "
             "storage, sqlite:///study.db, to have both)"]
    return RawTrials(frame=frame, hyperparameters=hyperparameters, responses=responses,
                     group_keys=[], status="state", space=None, notes=notes,
                     aliases={old: new for old, new in renames.items()})


FORMAT = SourceFormat("optuna-table", _detect, read_optuna_frame,
                      layout="Optuna's trials_dataframe() saved as CSV, TSV or Parquet")
