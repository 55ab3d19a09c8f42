"""Ray Tune results: an experiment folder, or the CSV of ``ResultGrid.get_dataframe()``.

An experiment folder (what ``Tuner.fit()`` writes under ``storage_path/name``) holds one
sub-folder per trial with ``params.json`` (the configuration) and ``result.json`` (one
JSON object per reported result) and/or ``progress.csv``. Each trial contributes its
last result (option ``result=last``, the default) or its best one (``result=best`` with
``metric=`` and ``mode=min|max``). Trials that errored (``error.txt``) or reported
nothing are counted and left out. Nested configurations are flattened with ``/``, as
Ray Tune does.

In the results CSV, ``config/``-prefixed columns are the hyperparameters (the prefix is
stripped) and the other numeric columns that are not Ray Tune's own bookkeeping are the
responses. Ray Tune keeps its search space in pickles only, so the space is inferred.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..numeric import mostly_numeric
from ..roles import MAXIMIZE, MINIMIZE
from ..trials import no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    flatten,
    iter_json_lines,
    local_path,
    option_choice,
    read_json_file,
    reject_unknown_options,
    scalar,
)
from .base import RawTrials, SourceFormat
from .table import header_columns, read_table

#: Keys Ray Tune adds to every result; never responses.
RAY_KEYS = frozenset({
    "timestamp", "checkpoint_dir_name", "done", "training_iteration", "trial_id", "date",
    "time_this_iter_s", "time_total_s", "pid", "hostname", "node_ip", "time_since_restore",
    "iterations_since_restore", "timesteps_since_restore", "timesteps_total",
    "episodes_total", "experiment_id", "experiment_tag", "should_checkpoint", "logdir",
    "warmup_time", "trial_name", "experiment_name", "config", "error", "done_time",
    "checkpoint", "trial_status",
})
_STATE_FILES = ("experiment_state-", "basic-variant-state-")


def _trial_dirs(path: Path, limit: int | None = None) -> list[Path]:
    out = []
    for child in sorted(path.iterdir()):
        if child.is_dir() and (child / "params.json").is_file():
            out.append(child)
            if limit is not None and len(out) >= limit:
                break
    return out


def _detect(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = local_path(source)
    if path.is_dir():
        names = [p.name for p in path.iterdir()]
        if "tuner.pkl" in names or any(n.startswith(_STATE_FILES) for n in names):
            return True
        for trial in _trial_dirs(path, limit=1):
            return (trial / "result.json").is_file() or (trial / "progress.csv").is_file()
        return False
    if path.is_file() and path.suffix.lower() == ".csv":
        cols = header_columns(path)
        return any(c.startswith("config/") for c in cols) and (
            "trial_id" in cols or "training_iteration" in cols)
    return False


def read_raytune(source: str, *, result: object = None, metric: object = None,
                 mode: object = None, **unknown: object) -> RawTrials:
    """Read a Ray Tune experiment folder or results CSV.

    Parameters
    ----------
    source
        The experiment folder, or a CSV written from ``ResultGrid.get_dataframe()``.
    result
        ``last`` (default): each trial's last reported result; ``best``: its best
        result by ``metric`` and ``mode`` (experiment folders only).
    metric, mode
        For ``result=best``: the metric and ``min`` or ``max``.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("raytune", unknown, ("result", "metric", "mode"))
    which = option_choice("result", result, ("last", "best"), "last")
    path = local_path(source)
    if which == "best":
        if metric is None:
            raise InputError("option result=best needs metric=NAME", file=source)
        direction = option_choice("mode", mode, ("min", "max"), "")
        if not direction:
            raise InputError("option result=best needs mode=min or mode=max", file=source)
    else:
        direction = option_choice("mode", mode, ("min", "max"), "min")
    if path.is_file():
        if which == "best":
            raise InputError("result=best needs the experiment folder (the results CSV "
                             "holds one result per trial)", file=source)
        raw = _from_dataframe_csv(path, source)
    elif path.is_dir():
        raw = _from_folder(path, source, which, None if metric is None else str(metric),
                           direction)
    else:
        raise InputError("not found", file=source)
    if metric is not None and mode is not None and str(metric) in (raw.responses or ()):
        raw.directions[str(metric)] = MAXIMIZE if direction == "max" else MINIMIZE
    return raw


def _from_dataframe_csv(path: Path, source: str) -> RawTrials:
    frame = read_table(path, "csv")
    columns = [str(c) for c in frame.columns]
    config = [c for c in columns if c.startswith("config/")]
    others = [c for c in columns if not c.startswith("config/")]
    renames = {c: (c[len("config/"):] if c[len("config/"):] not in others else c)
               for c in config}
    frame = frame.rename(columns=renames)
    responses = [c for c in others if c not in RAY_KEYS and c.split("/")[0] not in RAY_KEYS
                 and mostly_numeric(frame[c])]
    if not responses:
        raise InputError("no metric column found to use as a response", file=source,
                         hint="name one with {responses:['COLUMN']}",
                         parameters=("responses",))
    return RawTrials(frame=frame, hyperparameters=list(renames.values()), responses=responses,
                     group_keys=[], status=None, space=None)


def _results(trial: Path, source: str) -> list[dict[str, Any]]:
    result_file = trial / "result.json"
    if result_file.is_file() and result_file.stat().st_size > 0:
        out = []
        lines = list(_lenient_lines(result_file))
        for _, obj in lines:
            if isinstance(obj, dict):
                out.append(flatten({k: v for k, v in obj.items() if k != "config"}, sep="/"))
        if out:
            return out
    progress = trial / "progress.csv"
    if progress.is_file() and progress.stat().st_size > 0:
        frame = read_table(progress, "csv")
        frame = frame[[c for c in frame.columns if not str(c).startswith("config/")]]
        return frame.to_dict("records")
    return []


def _lenient_lines(path: Path) -> list[tuple[int, Any]]:
    """JSON lines; a last line cut short (a trial stopped while writing) is skipped."""
    items: list[tuple[int, Any]] = []
    try:
        for item in iter_json_lines(path):
            items.append(item)
    except InputError as err:
        with path.open("rb") as fh:
            n_lines = sum(1 for _ in fh)
        if err.row != n_lines:
            raise
    return items


def _from_folder(path: Path, source: str, which: str, metric: str | None,
                 direction: str) -> RawTrials:
    trials = _trial_dirs(path)
    if not trials:
        raise InputError("no trial folders (with params.json) in the experiment folder",
                         file=source)
    excluded: list[tuple[int, str]] = []
    records: list[dict[str | tuple[str, str], Any]] = []
    rows: list[int] = []
    param_keys: list[str] = []
    metric_keys: list[str] = []
    for row, trial in enumerate(trials, start=1):
        params = read_json_file(trial / "params.json", what="params.json")
        if not isinstance(params, dict):
            raise InputError("params.json must hold a mapping", file=str(trial / "params.json"))
        flat = {k: scalar(v) for k, v in flatten(params, sep="/").items()}
        if (trial / "error.txt").is_file() or (trial / "error.pkl").is_file():
            excluded.append((row, "errored"))
            continue
        results = _results(trial, source)
        if not results:
            excluded.append((row, "no results reported"))
            continue
        if which == "best":
            assert metric is not None  # result=best needs one (checked by read_raytune)
            scored = [(r.get(metric), i) for i, r in enumerate(results)]
            scored = [(float(v), i) for v, i in scored if isinstance(v, (int, float))
                      and not isinstance(v, bool) and math.isfinite(float(v))]
            if not scored:
                if not any(metric in r for r in results):
                    raise InputError(f"metric {metric!r} is not reported by the trial",
                                     file=str(trial), hint="metrics reported: " + ", ".join(
                                         k for k in results[-1] if k not in RAY_KEYS))
                excluded.append((row, f"no finite {metric}"))
                continue
            pick = (min if direction == "min" else max)(scored)[1]
            chosen = results[pick]
        else:
            chosen = results[-1]
        rec: dict[str | tuple[str, str], Any] = {"trial_id": chosen.get("trial_id", trial.name)}
        rec.update({("param", k): v for k, v in flat.items()})
        for k, v in chosen.items():
            if k in RAY_KEYS and k not in ("training_iteration", "time_total_s"):
                continue
            rec[("result", k)] = v
        param_keys += [k for k in flat if k not in param_keys]
        metric_keys += [k for k in chosen if k not in metric_keys
                        and (k not in RAY_KEYS or k in ("training_iteration", "time_total_s"))]
        records.append(rec)
        rows.append(row)
    if not records:
        raise no_trials_left(count_reasons(excluded), source)
    names: dict[tuple[str, str], str] = {}
    for k in param_keys:
        names[("param", k)] = k
    for k in metric_keys:
        names[("result", k)] = k if k not in param_keys and k != "trial_id" else f"result/{k}"
    frame = pd.DataFrame.from_records(
        [{(names[c] if isinstance(c, tuple) else c): v for c, v in r.items()} for r in records],
        columns=["trial_id", *names.values()])
    frame.index = pd.Index(rows, dtype="int64")
    responses = [names[("result", k)] for k in metric_keys
                 if k not in RAY_KEYS and mostly_numeric(frame[names[("result", k)]])]
    if not responses:
        raise InputError("the trials report no numeric metric to use as a response",
                         file=source)
    notes = [f"each trial's {which} result"
             + (f" by {metric} ({direction})" if which == "best" else "")]
    return RawTrials(frame=frame, hyperparameters=[names[("param", k)] for k in param_keys],
                     responses=responses, group_keys=[], status=None, space=None,
                     exclusions=exclusions_frame(excluded), notes=notes)


FORMAT = SourceFormat("raytune", _detect, read_raytune,
                      layout="trial folders with params.json and result.json or "
                             "progress.csv")
