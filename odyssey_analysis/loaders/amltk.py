"""AMLTK run folders: ``history.parquet`` (AMLTK's trial history) and ``configspace.json``
(or a folder of such run folders, the run's folder name becoming the group key ``run``).

The history holds one row per trial: ``config:<hyperparameter>`` columns (the
ConfigSpace's names after the prefix), objective columns named ``metric:<name>
[<lower>, <upper>] (<maximize|minimize>)`` (the name becomes the response, the direction
and bounds are read from it), ``status`` (success, fail, crashed), ``trial_seed``, the
trial's name (``config_id=..._seed=..._budget=..._instance=...``, from which the budget
of a multi-fidelity run is read) and timing and profiling columns, which are bookkeeping.
Several budgets become the group key ``budget`` unless option ``budget=`` keeps one.
Reading Parquet needs ``pyarrow`` (the ``parquet`` extra).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ._common import (
    exclusions_frame,
    local_path,
    metric_columns,
    reject_unknown_options,
    require_runs,
    run_folders,
    run_space,
    select_budget,
    unique_name,
)
from .base import RawTrials, SourceFormat
from .table import read_table

RUN_FILES = ("history.parquet", "configspace.json")
STATUS = {"success": "success", "fail": "failed", "failed": "failed", "crashed": "crashed"}
_BUDGET = re.compile(r"(?:^|_)budget=([-+0-9.eE]+|None)(?:_|$)")


def _is_run(path: Path) -> bool:
    return all((path / name).is_file() for name in RUN_FILES)


def _detect(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = local_path(source)
    return path.is_dir() and bool(run_folders(path, _is_run))


def _budgets(names: pd.Series) -> pd.Series:
    def one(name: object) -> float:
        m = _BUDGET.search(str(name))
        return float(m.group(1)) if m and m.group(1) != "None" else float("nan")

    return names.map(one).astype(float)


def read_amltk(source: str, *, budget: object = None, **unknown: object) -> RawTrials:
    """Read an AMLTK run folder (or a folder of them).

    Parameters
    ----------
    source
        The run folder, or a folder holding several.
    budget
        Keep one budget: a value, or ``max``. Default: every budget, as the group key
        ``budget`` when there are several.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("amltk", unknown, ("budget",))
    path = local_path(source)
    runs = require_runs(path, _is_run, "AMLTK", RUN_FILES, source)
    first = None
    frames = []
    directions: dict[str, str] = {}
    worst: dict[str, float] = {}
    aliases: dict[str, str] = {}
    offset = 0
    for run in runs:
        first = run_space(run, first, "AMLTK")
        space = first[1]
        history = str(run / "history.parquet")
        frame = read_table(run / "history.parquet", "parquet")
        names = pd.Series(frame.attrs.pop("index_labels", []), dtype=object)
        renames, run_directions, run_worst = metric_columns(frame.columns, history)
        if not renames:
            raise InputError("no objective column (named 'metric:<name> [<lower>, <upper>] "
                             "(maximize)' or '(minimize)')", file=history)
        if directions and run_directions != directions:
            raise InputError("this run's objectives differ from the first run's",
                             file=history)
        directions = run_directions
        worst.update(run_worst)
        configs = {c: c[len("config:"):] for c in frame.columns if str(c).startswith("config:")}
        missing = [n for n in space.names if n not in configs.values()]
        if missing:
            raise InputError(f"no column config:{missing[0]} for a hyperparameter of "
                             "configspace.json", file=history, column=missing[0])
        taken = set(configs.values()) | set(renames.values())
        frame = frame.rename(columns={**renames, **configs})
        aliases.update({**renames, **configs})
        if "status" in frame.columns:
            frame["status"] = frame["status"].astype(str).str.strip().str.lower().map(
                lambda s: STATUS.get(s, s))
        if "budget" not in taken and len(names) == len(frame):
            budgets = _budgets(names)
            if budgets.notna().any():
                frame.insert(0, unique_name("budget", taken, "amltk_"), budgets.to_numpy())
        frame.index = frame.index + offset
        offset += len(frame)
        if len(runs) > 1:
            frame.insert(0, unique_name("run", taken, "amltk_"), run.name)
        frames.append(frame)
    assert first is not None
    space = first[1]
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    excluded: list[tuple[int, str]] = []
    budget_column = next((c for c in frame.columns if c in ("budget", "amltk_budget")),
                         "budget")
    frame, budget_group = select_budget(frame, budget, source, excluded,
                                        column=budget_column)
    groups = [c for c in frame.columns if c in ("run", "amltk_run")][:1]
    groups += [budget_column] if budget_group else []
    return RawTrials(frame=frame, hyperparameters=space.names, responses=list(directions),
                     group_keys=groups, status="status" if "status" in frame.columns
                     else None, space=space, exclusions=exclusions_frame(excluded),
                     directions=directions, worst_values=worst, aliases=aliases)


FORMAT = SourceFormat("amltk", _detect, read_amltk,
                      layout="history.parquet, configspace.json")
