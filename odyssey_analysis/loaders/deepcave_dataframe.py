"""DeepCAVE's DataFrame runs: a folder with ``trials.csv`` and ``configspace.csv`` (or a
folder of such run folders, the run's folder name becoming the group key ``run``).

``trials.csv`` holds ``config_id``, one column per hyperparameter, one column per
objective named ``metric:<name> [<lower>; <upper>] (<maximize|minimize>)`` (the name
becomes the response, the direction and the bounds are read from it), ``status``
(success, timeout, memoryout, crashed, aborted, failed, not_evaluated, pruned, unknown),
``start_time``, ``end_time``, and optionally ``budget``, ``seed`` and ``additional``.
``configspace.csv`` declares the space, one row per hyperparameter (see
:func:`odyssey_analysis.space.readers.space_from_deepcave_csv`). Several budgets become
the group key ``budget`` unless option ``budget=`` keeps one (a value, or ``max``).
Evaluations that were not made (not evaluated, pruned, unknown status) are counted and
left out; failed ones follow the crashed policy, at the objective's worst bound.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..space.readers import space_from_deepcave_csv
from ..trials import no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    local_path,
    metric_columns,
    reject_unknown_options,
    require_runs,
    run_folders,
    select_budget,
    unique_name,
)
from .base import RawTrials, SourceFormat
from .table import read_table

RUN_FILES = ("trials.csv", "configspace.csv")
#: Statuses of evaluations that were made (the failed ones follow the crashed policy).
MADE = {"success": "success", "timeout": "timeout", "memoryout": "memoryout",
        "crashed": "crashed", "aborted": "aborted", "failed": "failed"}


def _is_run(path: Path) -> bool:
    return all((path / name).is_file() for name in RUN_FILES)


def _folder(source: str) -> Path | None:
    if "://" in source and not source.startswith("file://"):
        return None
    path = local_path(source)
    if path.is_file() and path.name == "trials.csv":
        return path.parent if _is_run(path.parent) else None
    return path if path.is_dir() else None


def _detect(source: str) -> bool:
    path = _folder(source)
    return path is not None and bool(run_folders(path, _is_run))


def read_dataframe_run(source: str, *, budget: object = None,
                       **unknown: object) -> RawTrials:
    """Read a DeepCAVE DataFrame run folder (or a folder of them).

    Parameters
    ----------
    source
        The run folder, its ``trials.csv``, or a folder holding several run folders.
    budget
        Keep one budget: a value, or ``max``. Default: every budget, as the group key
        ``budget`` when there are several.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("deepcave-dataframe", unknown, ("budget",))
    path = _folder(source)
    runs = require_runs(path, _is_run, "DeepCAVE DataFrame", RUN_FILES, source)
    space = None
    frames = []
    excluded: list[tuple[int, str]] = []
    directions: dict[str, str] = {}
    worst: dict[str, float] = {}
    aliases: dict[str, str] = {}
    run_column = "run"
    offset = 0
    for run in runs:
        run_space = space_from_deepcave_csv(run / "configspace.csv")
        if space is None:
            space = run_space
        elif run_space.to_dict()["hyperparameters"] != space.to_dict()["hyperparameters"]:
            raise InputError("this run's search space differs from the first run's",
                             file=str(run / "configspace.csv"),
                             hint="analyse the runs separately")
        trials_file = str(run / "trials.csv")
        frame = read_table(run / "trials.csv", "csv")
        renames, run_directions, run_worst = metric_columns(frame.columns, trials_file)
        if not renames:
            raise InputError("no objective column (named 'metric:<name> [<lower>; <upper>] "
                             "(maximize)' or '(minimize)')", file=trials_file)
        if directions and run_directions != directions:
            raise InputError("this run's objectives differ from the first run's",
                             file=trials_file)
        directions = run_directions
        for name, value in run_worst.items():
            worst[name] = (max(worst.get(name, value), value)
                           if directions[name] == "minimize" else
                           min(worst.get(name, value), value))
        frame = frame.rename(columns=renames)
        aliases.update(renames)
        missing = [n for n in space.names if n not in frame.columns]
        if missing:
            raise InputError("hyperparameter column is missing", file=trials_file,
                             column=missing[0])
        frame.index = frame.index + offset
        offset += len(frame)
        if "status" in frame.columns:
            status = frame["status"].astype(str).str.strip().str.lower()
            made = status.isin(list(MADE)).to_numpy()
            for row, value in zip(frame.index[~made], status[~made]):
                excluded.append((int(row), value.replace("_", " ")))
            frame = frame.loc[made].assign(status=status[made].map(MADE))
        if len(runs) > 1:
            run_column = unique_name("run", set(frame.columns), "deepcave_")
            frame.insert(0, run_column, run.name)
        frames.append(frame)
    assert space is not None
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    if frame.empty:
        raise no_trials_left(count_reasons(excluded), source)
    frame, budget_group = select_budget(frame, budget, source, excluded)
    groups = ([run_column] if len(runs) > 1 else []) + (["budget"] if budget_group else [])
    return RawTrials(frame=frame, hyperparameters=space.names, responses=list(directions),
                     group_keys=groups, status="status" if "status" in frame.columns
                     else None, space=space, exclusions=exclusions_frame(excluded),
                     directions=directions, worst_values=worst, aliases=aliases)


FORMAT = SourceFormat("deepcave-dataframe", _detect, read_dataframe_run,
                      layout="trials.csv, configspace.csv")
