"""MLflow experiments in a local tracking store (``mlruns`` folder or ``sqlite:///mlflow.db``).

Read through ``mlflow.tracking.MlflowClient`` (extra ``mlflow``: ``mlflow-skinny``).
Params (stored as text) are typed: whole numbers, numbers, true/false, else text.
Metrics (their latest value) are the responses. Runs that are parents of nested runs
are excluded and counted; their children carry the parent's run name as the group key
``parent`` when there are several parents. Only finished runs are analysed; failed,
killed and running ones are counted. SQLite stores are opened read-only.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..trials import no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    local_path,
    option_list,
    reject_unknown_options,
    require_module,
    sqlite_file,
    sqlite_tables,
    sqlite_url,
    type_text_column,
)
from .base import RawTrials, SourceFormat

_MLFLOW_TABLES = {"experiments", "runs", "params", "metrics"}
_PURPOSE = "Reading MLflow tracking stores"
_PARENT_TAG = "mlflow.parentRunId"


def _is_experiment_dir(path: Path) -> bool:
    meta = path / "meta.yaml"
    if not meta.is_file():
        return False
    with meta.open("r", encoding="utf-8", errors="replace") as fh:
        head = fh.read(4096)
    return "experiment_id:" in head and "artifact_location:" in head and "run_id:" not in head


def _file_store(source: str) -> tuple[Path, str | None] | None:
    """(store folder, experiment id) of a file store or one of its experiment folders."""
    if "://" in source and not source.startswith("file://"):
        return None
    path = local_path(source)
    if not path.is_dir():
        return None
    if _is_experiment_dir(path) and path.parent.is_dir():
        return path.parent, path.name
    count = 0
    for child in path.iterdir():
        if child.is_dir() and not child.name.startswith("."):
            count += 1
            if _is_experiment_dir(child):
                return path, None
            if count > 50:
                break
    return None


def _detect(source: str) -> bool:
    db = sqlite_file(source)
    if db is not None:
        return db.is_file() and _MLFLOW_TABLES <= sqlite_tables(db, source)
    return _file_store(source) is not None


@contextlib.contextmanager
def _reading_only() -> Iterator[None]:
    """Open a store to read it: nothing is created on disk.

    MLflow 3 refuses a file store unless told (reading old ones is our job), and it makes
    the parent folder of an SQLite URL before connecting, which for our read-only
    ``file:`` URI would be a folder literally named ``file:`` in the working folder.
    """
    key = "MLFLOW_ALLOW_FILE_STORE"
    old = os.environ.get(key)
    os.environ[key] = "true"
    db_utils: Any = sys.modules.get("mlflow.store.db.utils")
    if db_utils is None:
        with contextlib.suppress(ImportError):
            db_utils = importlib.import_module("mlflow.store.db.utils")
    make_dirs = getattr(db_utils, "_make_parent_dirs_if_sqlite", None)
    if make_dirs is not None:
        db_utils._make_parent_dirs_if_sqlite = _make_no_folder
    try:
        yield
    finally:
        if make_dirs is not None:
            db_utils._make_parent_dirs_if_sqlite = make_dirs
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def _make_no_folder(db_uri: str) -> None:
    """Stands in for MLflow's folder-making step while a store is read."""


def _tracking_uri(source: str) -> tuple[str, str | None]:
    db = sqlite_file(source)
    if db is not None:
        tables = sqlite_tables(db, source)
        if not _MLFLOW_TABLES <= tables:
            raise InputError("not an MLflow tracking database (no experiments/runs tables)",
                             file=source)
        return sqlite_url(db, read_only=True), None
    store = _file_store(source)
    if store is not None:
        return store[0].resolve().as_uri(), store[1]
    raise InputError("not an MLflow tracking store", file=source,
                     hint="give an mlruns folder or sqlite:///mlflow.db")


def _all_pages(call: Any, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        items.extend(page)
        token = page.token
        if not token:
            return items


def read_mlflow(source: str, *, experiment: object = None, group_tags: object = None,
                **unknown: object) -> RawTrials:
    """Read the runs of MLflow experiments.

    Parameters
    ----------
    source
        An ``mlruns`` folder (file store), one experiment folder inside it, a
        ``file://`` URL to either, ``sqlite:///mlflow.db`` or a path to that file.
    experiment
        Experiment name or id. Default: every experiment with runs except
        ``Default`` (unless it is the only one); group key ``experiment`` when there
        are several.
    group_tags
        Run tags whose values become group keys (a list, or comma-separated text).

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("mlflow", unknown, ("experiment", "group_tags"))
    require_module("mlflow", "mlflow", _PURPOSE)
    tracking = require_module("mlflow.tracking", "mlflow", _PURPOSE)
    exceptions = require_module("mlflow.exceptions", "mlflow", _PURPOSE)
    uri, experiment_dir = _tracking_uri(source)
    if experiment is None and experiment_dir is not None:
        experiment = experiment_dir
    tags = option_list(group_tags)
    with _reading_only():
        try:
            client = tracking.MlflowClient(tracking_uri=uri)
            experiments = _all_pages(client.search_experiments, max_results=1000)
            chosen = _choose_experiments(client, experiments, experiment, source)
            runs = {e.experiment_id: _all_pages(client.search_runs,
                                                experiment_ids=[e.experiment_id],
                                                max_results=1000,
                                                order_by=["attributes.start_time ASC"])
                    for e in chosen}
        except InputError:
            raise
        except (exceptions.MlflowException, OSError, ValueError) as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"cannot read the MLflow store ({text})", file=source) from None
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy errors for broken databases
            if type(exc).__module__.startswith("sqlalchemy"):
                text = str(exc).strip().splitlines()[0]
                raise InputError(f"cannot read the MLflow store ({text})",
                                 file=source) from None
            raise
    return _to_raw(chosen, runs, tags, source)


def _choose_experiments(client: Any, experiments: list[Any], wanted: object,
                        source: str) -> list[Any]:
    if wanted is not None:
        key = str(wanted)
        for e in experiments:
            if key in (e.name, str(e.experiment_id)):
                return [e]
        listing = ", ".join(f"{e.name} (id {e.experiment_id})" for e in experiments)
        raise InputError(f"no experiment named or numbered {key!r}", file=source,
                         hint=f"experiments present: {listing or 'none'}")
    with_runs = [e for e in experiments
                 if client.search_runs(experiment_ids=[e.experiment_id], max_results=1)]
    if not with_runs:
        raise InputError("the tracking store holds no runs", file=source)
    named = [e for e in with_runs if str(e.experiment_id) != "0"]
    return named or with_runs


def _to_raw(experiments: list[Any], runs: dict[str, list[Any]], group_tags: list[str],
            source: str) -> RawTrials:
    several = len(experiments) > 1
    names = {e.experiment_id: e.name for e in experiments}
    all_runs = [(e.experiment_id, r) for e in experiments for r in runs[e.experiment_id]]
    if not all_runs:
        raise InputError("the experiment has no runs", file=source)
    by_id = {r.info.run_id: r for _, r in all_runs}
    children: dict[str, int] = {}
    for _, r in all_runs:
        parent = r.data.tags.get(_PARENT_TAG)
        if parent:
            children[parent] = children.get(parent, 0) + 1

    param_names: list[str] = []
    metric_names: list[str] = []
    for _, r in all_runs:
        if r.info.run_id in children:
            continue
        param_names += [k for k in r.data.params if k not in param_names]
        metric_names += [k for k in r.data.metrics if k not in metric_names]
    # MLflow keeps no order for params and metrics (a file store lists them by name).
    param_names.sort()
    metric_names.sort()
    both = set(param_names) & set(metric_names)
    pcol = {p: (f"params.{p}" if p in both else p) for p in param_names}
    mcol = {m: (f"metrics.{m}" if m in both else m) for m in metric_names}

    excluded: list[tuple[int, str]] = []
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    parents_seen: dict[str, str] = {}
    for row, (exp_id, r) in enumerate(all_runs, start=1):
        run_id = r.info.run_id
        if run_id in children:
            excluded.append((row, f"parent run (holds {children[run_id]} nested runs)"))
            continue
        status = str(r.info.status).upper()
        if status != "FINISHED":
            excluded.append((row, f"status {status.lower()}"))
            continue
        rec: dict[str, Any] = {"experiment": names[exp_id], "run_id": run_id,
                               "run_name": r.info.run_name}
        parent = r.data.tags.get(_PARENT_TAG)
        if parent:
            parent_run = by_id.get(parent)
            label = (parent_run.info.run_name if parent_run is not None
                     and parent_run.info.run_name else parent)
            parents_seen[parent] = label
            rec["parent"] = label
        for tag in group_tags:
            rec[f"tag.{tag}"] = r.data.tags.get(tag)
        for k, v in r.data.params.items():
            rec[pcol[k]] = v
        for k, v in r.data.metrics.items():
            rec[mcol[k]] = v
        records.append(rec)
        rows.append(row)
    if not records:
        raise no_trials_left(count_reasons(excluded), source)

    for tag in group_tags:
        if all(rec[f"tag.{tag}"] is None for rec in records):
            present = sorted({k for _, r in all_runs for k in r.data.tags
                              if not k.startswith("mlflow.")})
            raise InputError(f"no run has the tag {tag!r}", file=source,
                             hint=f"tags present: {', '.join(present) or 'none'}")
    tag_cols = {f"tag.{t}": (t if t not in pcol.values() and t not in mcol.values()
                             and t not in ("experiment", "run_id", "run_name", "parent")
                             else f"tag.{t}") for t in group_tags}
    frame = pd.DataFrame.from_records(records)
    frame.index = pd.Index(rows, dtype="int64")
    frame = frame.rename(columns=tag_cols)
    for p in pcol.values():
        if p in frame.columns:
            frame[p] = type_text_column(frame[p])
        else:
            frame[p] = pd.Series(float("nan"), index=frame.index)
    for m in mcol.values():
        if m not in frame.columns:
            frame[m] = pd.Series(float("nan"), index=frame.index)

    groups: list[str] = []
    if several:
        groups.append("experiment")
    else:
        frame = frame.drop(columns=["experiment"])
    if len(parents_seen) > 1:
        groups.append("parent")
    elif "parent" in frame.columns:
        frame = frame.drop(columns=["parent"])
    groups += list(tag_cols.values())
    leading = [c for c in ("experiment", "parent", *tag_cols.values(), "run_id", "run_name")
               if c in frame.columns]
    frame = frame[leading + list(pcol.values()) + list(mcol.values())]
    return RawTrials(
        frame=frame,
        hyperparameters=list(pcol.values()),
        responses=list(mcol.values()),
        group_keys=groups,
        status=None,
        space=None,
        exclusions=exclusions_frame(excluded),
    )


FORMAT = SourceFormat("mlflow", _detect, read_mlflow,
                      layout="an mlruns folder (meta.yaml per experiment), or sqlite:///")
