"""BOHB (HpBandSter) run folders: ``results.json``, ``configs.json`` and ``configspace.json``
(or a folder of such run folders, the run's folder name becoming the group key ``run``).

Each line of ``results.json`` is one evaluation: ``[config_id, budget, timestamps, result,
exception]``, where ``config_id`` is HpBandSter's triple ``[iteration, bracket, index]``,
``timestamps`` holds ``submitted``, ``started`` and ``finished``, and ``result`` is
``{"loss": ..., "info": ...}`` or ``null`` for a run that crashed. Each line of
``configs.json`` is ``[config_id, configuration, {"model_based_pick": ...}]``. The loss
is the response (minimised); several budgets become the group key ``budget`` unless
option ``budget=`` keeps one (a value, or ``max``). Configurations that BOHB's model
picked (``model_based_pick``) make the design model-based, which the table states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..roles import MINIMIZE
from ..trials import no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    field_names,
    iter_json_lines,
    local_path,
    reject_unknown_options,
    require_runs,
    run_folders,
    run_space,
    select_budget,
)
from .base import RawTrials, SourceFormat

RUN_FILES = ("results.json", "configs.json", "configspace.json")
_FIELDS = ("run", "config_id", "budget", "submitted", "started", "finished", "status",
           "model_based_pick")


def _is_run(path: Path) -> bool:
    return all((path / name).is_file() for name in RUN_FILES)


def _detect(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = local_path(source)
    return path.is_dir() and bool(run_folders(path, _is_run))


def _key(value: Any, file: str, line: int) -> str:
    if not isinstance(value, list) or not value:
        raise InputError(f"config id {value!r} is not HpBandSter's [iteration, bracket, "
                         "index]", file=file, row=line)
    return "_".join(str(v) for v in value)


def read_bohb(source: str, *, budget: object = None, **unknown: object) -> RawTrials:
    """Read a BOHB run folder (or a folder of them).

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
    reject_unknown_options("bohb", unknown, ("budget",))
    path = local_path(source)
    runs = require_runs(path, _is_run, "BOHB", RUN_FILES, source)
    first = None
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    excluded: list[tuple[int, str]] = []
    row = 0
    for run in runs:
        first = run_space(run, first, "BOHB")
        space = first[1]
        fields = field_names(_FIELDS, [*space.names, "loss"], "bohb_")
        configs: dict[str, tuple[dict[str, Any], Any]] = {}
        config_file = run / "configs.json"
        for line, entry in iter_json_lines(config_file):
            if not isinstance(entry, list) or len(entry) < 2 or not isinstance(entry[1], dict):
                raise InputError("expected [config_id, configuration, info]",
                                 file=str(config_file), row=line)
            info = entry[2] if len(entry) > 2 and isinstance(entry[2], dict) else {}
            configs[_key(entry[0], str(config_file), line)] = (
                entry[1], info.get("model_based_pick"))
        results = run / "results.json"
        for line, entry in iter_json_lines(results):
            row += 1
            if not isinstance(entry, list) or len(entry) < 4:
                raise InputError("expected [config_id, budget, timestamps, result, "
                                 "exception]", file=str(results), row=line)
            key = _key(entry[0], str(results), line)
            if key not in configs:
                raise InputError(f"config id {entry[0]!r} is not in configs.json",
                                 file=str(results), row=line)
            config, picked = configs[key]
            times = entry[2] if isinstance(entry[2], dict) else {}
            result = entry[3]
            loss = result.get("loss") if isinstance(result, dict) else None
            rec: dict[str, Any] = {fields["run"]: run.name} if len(runs) > 1 else {}
            rec.update({fields["config_id"]: key, fields["budget"]: entry[1]})
            rec.update(config)
            rec["loss"] = float("nan") if loss is None else loss
            rec.update({fields[k]: times.get(k) for k in ("submitted", "started",
                                                           "finished")})
            rec[fields["status"]] = "success" if loss is not None else "crashed"
            rec[fields["model_based_pick"]] = picked
            records.append(rec)
            rows.append(row)
    assert first is not None
    space = first[1]
    if not records:
        raise no_trials_left(count_reasons(excluded), source)
    fields = field_names(_FIELDS, [*space.names, "loss"], "bohb_")
    columns = ([fields["run"]] if len(runs) > 1 else []) + [fields["config_id"],
                                                            fields["budget"]]
    columns += space.names + ["loss"] + [fields[f] for f in
                                         ("submitted", "started", "finished", "status",
                                          "model_based_pick")]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame.index = pd.Index(rows, dtype="int64")
    frame, budget_group = select_budget(frame, budget, source, excluded,
                                        column=fields["budget"])
    groups = ([fields["run"]] if len(runs) > 1 else []) + ([fields["budget"]]
                                                          if budget_group else [])
    picks = frame[fields["model_based_pick"]]
    design = None
    if picks.astype(bool).any():
        design = (f"model-based: BOHB's model picked {int(picks.astype(bool).sum())} of "
                  f"{len(frame)} configurations (model_based_pick in configs.json)")
    return RawTrials(frame=frame, hyperparameters=space.names, responses=["loss"],
                     group_keys=groups, status=fields["status"], space=space,
                     exclusions=exclusions_frame(excluded),
                     directions={"loss": MINIMIZE}, design=design)


FORMAT = SourceFormat("bohb", _detect, read_bohb,
                      layout="results.json, configs.json, configspace.json")
