"""SMAC3 run folders (2.x and 1.x): ``runhistory.json`` with ``configspace.json`` beside it.

``runhistory.json`` holds ``data`` (one entry per evaluation: ``config_id``,
``instance``, ``seed``, ``budget``, ``cost``, ``time``, ``status``, ``starttime``,
``endtime``, ``additional_info``; as objects or, in older files, as lists in that
order; SMAC 1.x writes ``[[config_id, instance, seed, budget], [cost, time, status,
starttime, endtime, additional_info]]`` with statuses as ``{"__enum__":
"StatusType.SUCCESS"}``), ``configs`` (id → configuration) and ``config_origins``.
Only evaluations with status SUCCESS are analysed; running, crashed, timed-out and
out-of-memory ones are counted. The costs are the responses, named by
``scenario.json``'s ``objectives``
(``cost`` by default); SMAC minimises them all. Several budgets become the group key
``budget`` unless option ``budget=`` keeps one (a value or ``max``). A folder holding
several run folders (SMAC writes one per seed) is read with the group key ``run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..roles import MINIMIZE
from ..space import SearchSpace
from ..trials import no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    field_names,
    local_path,
    read_json_file,
    reject_unknown_options,
    run_space,
    select_budget,
)
from .base import RawTrials, SourceFormat

#: SMAC's status codes (``smac.runhistory.enumerations.StatusType``).
STATUS = {0: "running", 1: "success", 2: "crashed", 3: "timeout", 4: "memoryout"}
#: Entries kept in the table: the successful ones and the failed ones (their recorded
#: cost is SMAC's crash cost), which the crashed policy drops or keeps.
STATUS_KEPT = (1, 2, 3, 4)
_FIELDS = ("config_id", "instance", "seed", "budget", "cost", "time", "status", "starttime",
           "endtime", "additional_info")


def _is_run(path: Path) -> bool:
    return (path / "runhistory.json").is_file() and (path / "configspace.json").is_file()


def _run_dirs(path: Path) -> list[Path]:
    if _is_run(path):
        return [path]
    return [c for c in sorted(path.iterdir(), key=_natural) if c.is_dir() and _is_run(c)]


def _natural(path: Path) -> tuple[int, Any]:
    return (0, int(path.name)) if path.name.isdigit() else (1, path.name)


def _folder(source: str) -> Path | None:
    if "://" in source and not source.startswith("file://"):
        return None
    path = local_path(source)
    if path.is_file() and path.name == "runhistory.json":
        return path.parent
    return path if path.is_dir() else None


#: Columns of SMAC's own, kept apart from hyperparameters and objectives of the same name.
_COLUMNS = (*_FIELDS, "run", "origin")


def _detect(source: str) -> bool:
    path = _folder(source)
    if path is None:
        return False
    if _is_run(path):
        return True
    return any(c.is_dir() and _is_run(c) for c in path.iterdir())


def read_smac(source: str, *, budget: object = None, **unknown: object) -> RawTrials:
    """Read a SMAC3 run folder (or a folder of them).

    Parameters
    ----------
    source
        The folder with ``runhistory.json`` and ``configspace.json`` (or the
        ``runhistory.json`` file itself, or a folder of such folders).
    budget
        Keep one budget: a value, or ``max``.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("smac", unknown, ("budget",))
    path = _folder(source)
    if path is None:
        raise InputError("not a SMAC run folder", file=source)
    runs = _run_dirs(path)
    if not runs:
        raise InputError("no SMAC run here (a run folder holds runhistory.json and "
                         "configspace.json)", file=source)
    several = len(runs) > 1
    first: tuple[Any, SearchSpace] | None = None
    objectives: list[str] | None = None
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    excluded: list[tuple[int, str]] = []
    row = 0
    for run in runs:
        first = run_space(run, first, "SMAC")
        space = first[1]
        names = _objectives(run)
        if objectives is None:
            objectives = names
        elif names != objectives:
            raise InputError("this run's objectives differ from the first run's",
                             file=str(run / "scenario.json"))
        history_file = run / "runhistory.json"
        history = read_json_file(history_file, what="runhistory.json")
        if not isinstance(history, dict) or not isinstance(history.get("data"), list) \
                or not isinstance(history.get("configs"), dict):
            raise InputError("not a SMAC 2 run history (expected 'data' and 'configs')",
                             file=str(history_file))
        configs = history["configs"]
        origins = history.get("config_origins") or {}
        for position, entry in enumerate(history["data"], start=1):
            row += 1
            rec = _entry(entry, str(history_file), position)
            status = rec.pop("status")
            if status not in STATUS_KEPT:
                excluded.append((row, STATUS.get(status, f"status {status}")))
                continue
            config = configs.get(str(rec["config_id"]))
            if not isinstance(config, dict):
                raise InputError(f"config id {rec['config_id']!r} is not in 'configs'",
                                 file=str(history_file), row=position)
            cost = rec.pop("cost")
            costs = cost if isinstance(cost, list) else [cost]
            if len(costs) != len(names):
                raise InputError(f"{len(costs)} cost values for {len(names)} objectives",
                                 file=str(history_file), row=position)
            fields = field_names(_COLUMNS, [*space.names, *names], "smac_")
            out: dict[str, Any] = {fields["run"]: run.name} if several else {}
            out.update({fields[k]: v for k, v in rec.items()})
            out.update(config)
            for name, value in zip(names, costs):
                out[name] = float("nan") if value is None else value
            out[fields["origin"]] = origins.get(str(rec["config_id"]))
            out[fields["status"]] = STATUS[status]
            records.append(out)
            rows.append(row)
    assert first is not None and objectives is not None
    space = first[1]
    if not records:
        raise no_trials_left(count_reasons(excluded), source)
    fields = field_names(_COLUMNS, [*space.names, *objectives], "smac_")
    columns = ([fields["run"]] if several else []) + [
        fields[f] for f in ("config_id", "instance", "seed", "budget")]
    columns += space.names + objectives + [fields[f] for f in ("time", "starttime", "endtime",
                                                               "origin", "status")]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame.index = pd.Index(rows, dtype="int64")
    for col in ("instance", "budget", "origin"):
        if frame[fields[col]].isna().all():
            frame = frame.drop(columns=[fields[col]])
    frame, budget_group = select_budget(frame, budget, source, excluded,
                                        column=fields["budget"])
    groups = ([fields["run"]] if several else []) + ([fields["budget"]] if budget_group
                                                     else [])
    return RawTrials(frame=frame, hyperparameters=space.names, responses=objectives,
                     group_keys=groups, status=fields["status"], space=space,
                     exclusions=exclusions_frame(excluded),
                     directions=dict.fromkeys(objectives, MINIMIZE),  # SMAC minimises costs
                     design=_design(frame[fields["origin"]] if fields["origin"] in frame
                                    else None))


#: Words of SMAC's config origins for configurations its model chose.
_MODEL_ORIGINS = ("local search", "sorted", "acquisition", "model")


def _design(origins: pd.Series | None) -> str:
    """SMAC's design in words: how many configurations its model chose."""
    if origins is None or origins.isna().all():
        return "model-based: SMAC is Bayesian optimisation (no config origins recorded)"
    text = origins.dropna().astype(str)
    chosen = text.str.lower().map(lambda o: any(w in o for w in _MODEL_ORIGINS))
    kinds = ", ".join(f"{k} {v}" for k, v in text.value_counts().items())
    return (f"model-based: SMAC's model chose {int(chosen.sum())} of {len(text)} "
            f"configurations (config origins: {kinds})")


def _objectives(run: Path) -> list[str]:
    scenario = run / "scenario.json"
    if not scenario.is_file():
        return ["cost"]
    spec = read_json_file(scenario, what="scenario.json")
    value = spec.get("objectives", "cost") if isinstance(spec, dict) else "cost"
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError("'objectives' must be a name or a list of names", file=str(scenario))


def _entry(entry: Any, file: str, position: int) -> dict[str, Any]:
    if isinstance(entry, dict):
        missing = [f for f in ("config_id", "cost", "status") if f not in entry]
        if missing:
            raise InputError(f"run history entry lacks {', '.join(missing)}", file=file,
                             row=position)
        rec = {f: entry.get(f) for f in _FIELDS}
    elif (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)
          and isinstance(entry[1], list) and len(entry[0]) >= 3 and len(entry[1]) >= 3):
        # SMAC 1.x: [[config_id, instance, seed, budget], [cost, time, status,
        # starttime, endtime, additional_info]]
        key, value = entry
        rec = dict(zip(("config_id", "instance", "seed", "budget"), key))
        rec.update(zip(("cost", "time", "status", "starttime", "endtime",
                        "additional_info"), value))
        rec = {f: rec.get(f) for f in _FIELDS}
    elif isinstance(entry, list) and len(entry) >= 7:
        rec = dict(zip(_FIELDS, entry))
        rec.setdefault("starttime", None)
        rec.setdefault("endtime", None)
    else:
        raise InputError("run history entry is neither an object, a list of its fields "
                         "(SMAC 2) nor a [key, value] pair (SMAC 1)", file=file,
                         row=position)
    status = rec["status"]
    if isinstance(status, dict):  # very old files: {"__enum__": "StatusType.SUCCESS"}
        name = str(status.get("__enum__", "")).rsplit(".", 1)[-1].lower()
        status = next((k for k, v in STATUS.items() if v == name), -1)
    if not isinstance(status, int):
        raise InputError(f"status {status!r} is not a SMAC status code", file=file,
                         row=position)
    rec["status"] = status
    rec.pop("additional_info", None)
    return rec


FORMAT = SourceFormat("smac", _detect, read_smac,
                      layout="runhistory.json, configspace.json")
