"""Weights & Biases exports (no network and no ``wandb`` package needed).

Three layouts are read:

* the CSV exported from a project's or sweep's runs table: W&B's own columns
  (``Name``, ``State``, ``Notes``, ``User``, ``Tags``, ``Created``, ``Runtime``,
  ``Sweep``, ...) followed by the config and summary keys, nested keys dotted; columns
  prefixed ``config.`` / ``summary.`` are taken by their prefix, others by name
  (metric-like numeric columns are responses, the rest hyperparameters);
* the usual public-API export as JSON or JSON Lines: a list of runs, each with
  ``config`` and ``summary`` mappings and maybe ``name``, ``id``, ``state``, ``tags``,
  ``sweep``;
* the same export written as CSV by pandas (``config`` and ``summary`` columns whose
  cells are the mappings' text).

Config keys are the hyperparameters, summary keys the responses. Keys starting with
``_`` (``_step``, ``_runtime``, ``_timestamp``, ``_wandb``) are dropped, W&B's
``{"value": x}`` config wrapping is unwrapped, and summary entries that are media or
histograms (mappings with ``_type``) are left out. Only finished runs are analysed.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

import pandas as pd

from ..errors import InputError
from ..numeric import mostly_numeric
from ..roles import is_bookkeeping, looks_like_response
from ._common import (
    flatten,
    iter_json_lines,
    local_path,
    read_json_file,
    reject_unknown_options,
    scalar,
)
from .base import RawTrials, SourceFormat
from .table import header_columns, read_table

#: Columns of W&B's runs-table CSV export that describe the run, not its config/summary.
RUN_COLUMNS = ("Name", "ID", "State", "Notes", "User", "Tags", "Created", "Runtime", "Sweep",
               "Group", "Job Type", "Hostname", "Commit", "GitHub", "Updated", "End Time",
               "Heartbeat", "GPU Type", "GPU Count", "Description")
_RUN_KEYS = ("name", "id", "state", "tags", "sweep", "group", "job_type", "created_at",
             "url", "path", "entity", "project", "display_name", "notes", "user")
_JSON_MARKERS = re.compile(r'"(config|summary)"\s*:\s*\{')


def _detect(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = local_path(source)
    if not path.is_file():
        return False
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        cols = set(header_columns(path, "\t" if suffix == ".tsv" else ","))
        return _is_wandb_header(cols)
    if suffix in (".json", ".jsonl", ".ndjson"):
        with path.open("rb") as fh:
            head = fh.read(65536).decode("utf-8", errors="replace")
        markers = set(_JSON_MARKERS.findall(head))
        return markers == {"config", "summary"} or '"_wandb"' in head
    return False


def _is_wandb_header(cols: set[str]) -> bool:
    if {"config", "summary"} <= cols:
        return True
    if any(c == "_wandb" or c.startswith(("_wandb.", "summary._wandb")) for c in cols):
        return True
    return {"Name", "State"} <= cols and bool(
        cols & {"Runtime", "Sweep", "Created", "Notes", "User", "Tags"})


def read_wandb(source: str, **unknown: object) -> RawTrials:
    """Read a Weights & Biases runs export (CSV, JSON or JSON Lines).

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("wandb", unknown, ())
    path = local_path(source)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        if suffix == ".json":
            data = read_json_file(path, what="W&B export")
            if isinstance(data, dict):
                data = data.get("runs", data.get("data", data))
            if not isinstance(data, list):
                raise InputError("expected a list of runs (each with config and summary)",
                                 file=source)
            items = list(enumerate(data, start=1))
        else:
            items = list(iter_json_lines(path))
        return _from_runs(items, source)
    frame = read_table(path, "tsv" if suffix == ".tsv" else "csv")
    if {"config", "summary"} <= set(frame.columns):
        items = []
        for row, rec in zip(frame.index, frame.to_dict("records")):
            run = {k: v for k, v in rec.items() if not str(k).startswith("Unnamed: ")}
            for key in ("config", "summary"):
                run[key] = _parse_mapping(run.get(key), source, int(row), key)
            items.append((int(row), run))
        return _from_runs(items, source)
    return _from_flat(frame, source)


# -- the public-API export: runs with config and summary mappings ----------------------------

def _parse_mapping(cell: Any, source: str, row: int, column: str) -> dict[str, Any]:
    """A mapping written into a CSV cell, as JSON or as Python's text of a dict."""
    if isinstance(cell, dict):
        return cell
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return {}
    text = str(cell).strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        try:
            value = _literal(ast.parse(text, mode="eval").body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise InputError("cannot read the mapping in this cell", file=source, row=row,
                             column=column) from None
    if not isinstance(value, dict):
        raise InputError("expected a mapping ({...}) in this cell", file=source, row=row,
                         column=column)
    return value


_NAMES = {"nan": math.nan, "NaN": math.nan, "inf": math.inf, "Infinity": math.inf,
          "True": True, "False": False, "None": None, "true": True, "false": False,
          "null": None}


def _literal(node: ast.AST) -> Any:
    """Python literals plus the bare names nan/inf that Python prints for floats."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)
                if k is not None}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id == "float" and len(node.args) == 1:
            return float(_literal(node.args[0]))
    raise ValueError("not a literal")


def _unwrap_config(config: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        if isinstance(value, dict):
            value = _unwrap_config(value)
        out[key] = value
    return out


def _summary_values(summary: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def walk(obj: dict[str, Any], prefix: str) -> None:
        for key, value in obj.items():
            key = str(key)
            if key.startswith("_"):
                continue
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                if "_type" in value:
                    continue  # media, histograms, tables
                walk(value, name)
            elif isinstance(value, (list, tuple)):
                continue
            else:
                out[name] = value

    walk(summary, "")
    return out


def _from_runs(items: list[tuple[int, Any]], source: str) -> RawTrials:
    if not items:
        raise InputError("the export holds no runs", file=source)
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    config_keys: list[str] = []
    summary_keys: list[str] = []
    for row, run in items:
        if not isinstance(run, dict):
            raise InputError("each run must be a mapping with config and summary",
                             file=source, row=row)
        config = run.get("config") or {}
        summary = run.get("summary") or run.get("summaryMetrics") or {}
        if isinstance(config, str):
            config = _parse_mapping(config, source, row, "config")
        if isinstance(summary, str):
            summary = _parse_mapping(summary, source, row, "summary")
        if not isinstance(config, dict) or not isinstance(summary, dict):
            raise InputError("config and summary must be mappings", file=source, row=row)
        flat_config = {k: scalar(v) for k, v in
                       flatten(_unwrap_config(config), skip_private=True).items()}
        flat_summary = _summary_values(summary)
        rec: dict[str, Any] = {}
        for key in _RUN_KEYS:
            if key in run and not isinstance(run[key], (dict, list)):
                rec[key] = run[key]
            elif key == "tags" and isinstance(run.get(key), list):
                rec[key] = ",".join(map(str, run[key]))
        rec.update({("config", k): v for k, v in flat_config.items()})
        rec.update({("summary", k): v for k, v in flat_summary.items()})
        config_keys += [k for k in flat_config if k not in config_keys]
        summary_keys += [k for k in flat_summary if k not in summary_keys]
        records.append(rec)
        rows.append(row)
    meta = [k for k in _RUN_KEYS if any(k in r for r in records)]
    taken = set(meta)
    names: dict[tuple[str, str], str] = {}
    for k in config_keys:
        names[("config", k)] = k if k not in taken else f"config.{k}"
        taken.add(names[("config", k)])
    for k in summary_keys:
        names[("summary", k)] = k if k not in taken else f"summary.{k}"
        taken.add(names[("summary", k)])
    frame = pd.DataFrame.from_records(
        [{(names[c] if isinstance(c, tuple) else c): v for c, v in r.items()} for r in records],
        columns=meta + list(names.values()))
    frame.index = pd.Index(rows, dtype="int64")
    # A seed or an id among the config keys is bookkeeping, reported as such, not analysed.
    hyperparameters = [names[("config", k)] for k in config_keys
                       if not is_bookkeeping(k)]
    responses = [names[("summary", k)] for k in summary_keys
                 if not is_bookkeeping(k.split(".")[-1])
                 and mostly_numeric(frame[names[("summary", k)]])]
    if not responses:
        raise InputError("no numeric summary metric found to use as a response",
                         file=source, hint="name one with {responses:['COLUMN']}",
                         parameters=("responses",))
    return RawTrials(frame=frame, hyperparameters=hyperparameters, responses=responses,
                     group_keys=[], status="state" if "state" in frame.columns else None,
                     space=None)


# -- the runs-table CSV: one flat column per key ----------------------------------------------

def _from_flat(frame: pd.DataFrame, source: str) -> RawTrials:
    columns = [str(c) for c in frame.columns]
    run_cols = [c for c in columns if c in RUN_COLUMNS]
    private = [c for c in columns if c.split(".")[-1].startswith("_")
               or c.startswith(("_", "summary._", "config._"))]
    frame = frame.drop(columns=private)
    rest = [c for c in frame.columns if c not in run_cols]
    hyperparameters: list[str] = []
    responses: list[str] = []
    renames: dict[str, str] = {}
    for c in rest:
        if c.startswith("config."):
            name = c[len("config."):]
            renames[c] = name if name not in columns else c
            if not is_bookkeeping(name):  # config.seed: bookkeeping
                hyperparameters.append(renames[c])
        elif c.startswith("summary."):
            name = c[len("summary."):]
            renames[c] = name if name not in columns and name not in renames.values() else c
            if mostly_numeric(frame[c]):
                responses.append(renames[c])
        elif is_bookkeeping(c):
            continue
        elif looks_like_response(c, frame[c]):
            responses.append(c)
        else:
            hyperparameters.append(c)
    frame = frame.rename(columns=renames)
    if not responses:
        raise InputError("no metric column found to use as a response", file=source,
                         hint="name one with {responses:['COLUMN']}",
                         parameters=("responses",))
    return RawTrials(frame=frame, hyperparameters=hyperparameters, responses=responses,
                     group_keys=[], status="State" if "State" in frame.columns else None,
                     space=None)


FORMAT = SourceFormat("wandb", _detect, read_wandb,
                      layout="a runs export (CSV, JSON or JSON Lines with config and "
                             "summary)")
