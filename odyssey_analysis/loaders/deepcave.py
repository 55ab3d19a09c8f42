"""DeepCAVE recorder folders (``configspace.json``, ``configs.json``, ``history.jsonl``,
``meta.json``), or a folder holding several of them (the run's folder name becomes the
group key ``run``).

Each line of ``history.jsonl`` is one evaluation: ``[config_id, budget, seed, costs,
start, end, status, additional]`` (older recorders write no seed). The objectives named
in ``meta.json`` are the responses (``optimize: upper`` means maximised); several
budgets become the group key ``budget`` unless option ``budget=`` keeps one (a value,
or ``max``); seeds are a column (-1: none recorded). Evaluations that did not succeed
(crashed, timed out, out of memory, aborted, not evaluated) are counted and left out.
The ConfigSpace is the search space; hyperparameters that are inactive for a
configuration (conditions) arrive as missing values and are marked conditional.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..roles import MAXIMIZE, MINIMIZE
from ..space import SearchSpace
from ..trials import no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    field_names,
    iter_json_lines,
    local_path,
    read_json_file,
    reject_unknown_options,
    run_space,
    select_budget,
)
from .base import RawTrials, SourceFormat

RUN_FILES = ("configspace.json", "configs.json", "history.jsonl", "meta.json")
#: DeepCAVE's status codes (``deepcave.runs.status.Status``).
STATUS = {1: "success", 2: "timeout", 3: "memoryout", 4: "crashed", 5: "aborted",
          6: "not evaluated (or running)", 7: "not evaluated"}
#: Evaluations kept in the table: the successful ones, and the failed ones (a crash, a
#: timeout, ...), which the crashed policy drops or keeps at their worst values.
STATUS_KEPT = (1, 2, 3, 4, 5)


def _is_run(path: Path) -> bool:
    return all((path / name).is_file() for name in RUN_FILES)


def _run_dirs(path: Path) -> list[Path]:
    if _is_run(path):
        return [path]
    return [c for c in sorted(path.iterdir()) if c.is_dir() and _is_run(c)]


#: DeepCAVE's own fields, kept apart from hyperparameters and objectives of the same name.
_FIELDS = ("run", "config_id", "budget", "seed", "start", "end", "status")


def _detect(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = local_path(source)
    if not path.is_dir():
        return False
    if _is_run(path):
        return True
    for child in path.iterdir():
        if child.is_dir() and _is_run(child):
            return True
    return False


def read_deepcave(source: str, *, budget: object = None, **unknown: object) -> RawTrials:
    """Read one DeepCAVE run folder, or a folder of run folders.

    Parameters
    ----------
    source
        The run folder (or the folder holding several).
    budget
        Keep one budget: a value, or ``max`` for the largest. Default: every budget,
        as the group key ``budget`` when there are several.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("deepcave", unknown, ("budget",))
    path = local_path(source)
    if not path.is_dir():
        raise InputError("not a folder", file=source)
    runs = _run_dirs(path)
    if not runs:
        raise InputError("no DeepCAVE run here (a run folder holds "
                         + ", ".join(RUN_FILES) + ")", file=source)
    several = len(runs) > 1
    first: tuple[Any, SearchSpace] | None = None
    objectives: list[dict[str, Any]] | None = None
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    excluded: list[tuple[int, str]] = []
    row = 0
    for run in runs:
        first = run_space(run, first, "DeepCAVE")
        space = first[1]
        meta = read_json_file(run / "meta.json", what="meta.json")
        objs = meta.get("objectives") if isinstance(meta, dict) else None
        if not isinstance(objs, list) or not objs or not all(
                isinstance(o, dict) and "name" in o for o in objs):
            raise InputError("meta.json lists no objectives (each with a name)",
                             file=str(run / "meta.json"))
        if objectives is None:
            objectives = objs
        elif [o["name"] for o in objs] != [o["name"] for o in objectives]:
            raise InputError("this run's objectives differ from the first run's",
                             file=str(run / "meta.json"))
        configs = read_json_file(run / "configs.json", what="configs.json")
        if not isinstance(configs, dict):
            raise InputError("configs.json must map config ids to configurations",
                             file=str(run / "configs.json"))
        names = [str(o["name"]) for o in objs]
        fields = field_names(_FIELDS, [*space.names, *names], "deepcave_")
        history = run / "history.jsonl"
        for line, entry in iter_json_lines(history):
            row += 1
            rec = _evaluation(entry, configs, names, str(history), line, fields)
            status = rec.pop("__status")
            if status not in STATUS_KEPT:
                excluded.append((row, STATUS.get(status, f"status {status}")))
                continue
            rec[fields["status"]] = STATUS[status]
            if several:
                rec = {fields["run"]: run.name, **rec}
            records.append(rec)
            rows.append(row)
    assert first is not None and objectives is not None
    space = first[1]
    names = [str(o["name"]) for o in objectives]
    if not records:
        raise no_trials_left(count_reasons(excluded), source)
    fields = field_names(_FIELDS, [*space.names, *names], "deepcave_")
    columns = ([fields["run"]] if several else []) + [fields[f] for f in
                                                      ("config_id", "budget", "seed")]
    columns += space.names + names + [fields["start"], fields["end"], fields["status"]]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame.index = pd.Index(rows, dtype="int64")
    for field in ("seed", "budget"):
        if frame[fields[field]].isna().all():
            frame = frame.drop(columns=[fields[field]])
    frame, budget_group = select_budget(frame, budget, source, excluded,
                                        column=fields["budget"])
    groups = ([fields["run"]] if several else []) + ([fields["budget"]] if budget_group
                                                     else [])
    directions = {str(o["name"]): MAXIMIZE if str(o.get("optimize", "lower")).lower()
                  in ("upper", "max", "maximize") else MINIMIZE for o in objectives}
    return RawTrials(frame=frame, hyperparameters=space.names, responses=names,
                     group_keys=groups, status=fields["status"], space=space,
                     exclusions=exclusions_frame(excluded), directions=directions,
                     worst_values=_worst_values(objectives, runs))


def _worst_values(objectives: list[dict[str, Any]], runs: list[Path]) -> dict[str, float]:
    """Each objective's worst value as DeepCAVE takes it: its upper bound when it is
    minimised, its lower bound when maximised (merged over the runs: the widest)."""
    out: dict[str, float] = {}
    for pos, objective in enumerate(objectives):
        up = str(objective.get("optimize", "lower")).lower() in ("upper", "max", "maximize")
        bounds = []
        for run in runs:
            meta = read_json_file(run / "meta.json", what="meta.json")
            entry = meta["objectives"][pos]
            value = entry.get("lower" if up else "upper")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                bounds.append(float(value))
        finite = [b for b in bounds if math.isfinite(b)]
        if finite:
            out[str(objective["name"])] = min(finite) if up else max(finite)
    return out


def _evaluation(entry: Any, configs: dict[str, Any], objectives: list[str], file: str,
                line: int, fields: dict[str, str]) -> dict[str, Any]:
    if not isinstance(entry, list) or len(entry) not in (7, 8):
        raise InputError("expected [config_id, budget, seed, costs, start, end, status, "
                         "additional]", file=file, row=line)
    if len(entry) == 8:
        config_id, budget, seed, costs, start, end, status, _ = entry
    else:
        config_id, budget, costs, start, end, status, _ = entry
        seed = None
    config = configs.get(str(config_id))
    if not isinstance(config, dict):
        raise InputError(f"config id {config_id!r} is not in configs.json", file=file,
                         row=line)
    if not isinstance(costs, list):
        costs = [costs]
    if len(costs) != len(objectives):
        raise InputError(f"{len(costs)} cost values for {len(objectives)} objectives "
                         f"({', '.join(objectives)})", file=file, row=line)
    if not isinstance(status, int):
        raise InputError(f"status {status!r} is not a DeepCAVE status code", file=file,
                         row=line)
    rec: dict[str, Any] = {fields["config_id"]: config_id, fields["budget"]: budget,
                           fields["seed"]: seed}
    rec.update(config)
    for name, cost in zip(objectives, costs):
        rec[name] = float("nan") if cost is None else cost
    rec[fields["start"]], rec[fields["end"]] = start, end
    rec["__status"] = status
    return rec


FORMAT = SourceFormat("deepcave", _detect, read_deepcave,
                      layout="configspace.json, configs.json, history.jsonl, meta.json")
