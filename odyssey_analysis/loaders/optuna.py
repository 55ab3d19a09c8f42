"""Optuna studies in an RDB storage (``sqlite:///study.db``, or a bare ``.db`` path).

One study (option ``study=``) or all of them (the study name becomes the group key
``study``). Only completed trials are analysed; pruned, failed, running and waiting
trials are counted with their reason. The trials' distributions become the search
space, so nothing has to be inferred:

* ``FloatDistribution``: uniform or log-uniform float; with a ``step`` the grid values
  are equally likely, so each owns an interval one step wide (bounds widened by half a
  step);
* ``IntDistribution``: uniform or log-uniform integer; with a ``step`` > 1 an ordinal of
  the grid values (equally likely);
* ``CategoricalDistribution``: categorical (``None`` becomes the level ``"None"``).

Responses are the objective values: ``value`` (or the metric name) for one objective,
``value_0``, ``value_1``, ... (or the metric names) for several; option ``objective=``
keeps one, by name or index. Maximised objectives are reported as such.
SQLite storages are opened read-only, so the file is never changed.

:func:`load_study` reads a live ``optuna.Study`` (any storage, in-memory included) with
the same converter, without a round trip through a database file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..roles import MAXIMIZE, MINIMIZE
from ..space import Hyperparameter, SearchSpace
from ..trials import TrialTable, no_trials_left
from ._common import (
    count_reasons,
    exclusions_frame,
    frame_from_records,
    reject_unknown_options,
    require_module,
    sqlite_file,
    sqlite_tables,
    sqlite_url,
)
from .base import RawTrials, SourceFormat

_OPTUNA_TABLES = {"studies", "trials", "trial_params"}
_SERVER_SCHEMES = ("postgresql", "mysql", "oracle", "mssql", "mariadb")
_STATE_REASONS = {"PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
                  "WAITING": "waiting"}
#: Ordinal levels are used for stepped integers up to this many grid points.
_MAX_ORDINAL_LEVELS = 1000


def _detect(source: str) -> bool:
    db = sqlite_file(source)
    if db is None:
        return False
    if not db.is_file():
        return False
    return _OPTUNA_TABLES <= sqlite_tables(db, source)


def _storage(source: str) -> tuple[Any, str]:
    """An Optuna RDB storage for ``source`` (read-only for SQLite) and its display name."""
    optuna = require_module("optuna", "optuna", "Reading Optuna studies")
    db = sqlite_file(source)
    if db is not None:
        tables = sqlite_tables(db, source)
        if not _OPTUNA_TABLES <= tables:
            raise InputError("not an Optuna storage (no studies/trials tables)", file=source)
        url = sqlite_url(db, read_only=True)
    elif source.split(":", 1)[0].split("+", 1)[0] in _SERVER_SCHEMES:
        url = source
    else:
        raise InputError("not an Optuna storage URL", file=source,
                         hint="use sqlite:///path/to/study.db or a database server URL")
    try:
        storage = optuna.storages.RDBStorage(url, skip_table_creation=True)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and Optuna raise many kinds
        raise _read_error(source, exc) from None
    return storage, source


def _read_error(source: str, exc: BaseException) -> InputError:
    """The error for a storage that could not be read: corrupted, or something else."""
    db = sqlite_file(source)
    if db is not None:
        sqlite_tables(db, source, integrity=True)  # raises when the file is corrupted
    return InputError(f"cannot read the Optuna storage ({_first_line(exc)})", file=source,
                      hint="it may be damaged, or written by an incompatible Optuna")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _objective_names(study: Any) -> list[str]:
    n = len(study.directions)
    names = getattr(study, "metric_names", None)
    if names and len(names) == n:
        return [str(x) for x in names]
    return ["value"] if n == 1 else [f"value_{i}" for i in range(n)]


def _pick_objective(objective: object, names: list[str], source: str) -> int | None:
    if objective is None:
        return None
    text = str(objective).strip()
    if text in names:
        return names.index(text)
    if text.lstrip("-").isdigit():
        index = int(text)
        if 0 <= index < len(names):
            return index
    raise InputError(f"objective {objective!r} is not in the study",
                     file=source, hint=f"objectives: {', '.join(names)} "
                                       f"(or an index 0..{len(names) - 1})")


def _distribution_key(dist: Any) -> tuple:
    kind = type(dist).__name__
    if kind == "CategoricalDistribution":
        return (kind,)
    return (kind, bool(getattr(dist, "log", False)), getattr(dist, "step", None))


def _merge(name: str, dists: list[Any], source: str, notes: list[str]) -> Any:
    """One distribution for a parameter whose distribution may vary between trials."""
    first = dists[0]
    keys = {_distribution_key(d) for d in dists}
    if len(keys) > 1:
        raise InputError("the parameter is sampled from different kinds of distribution "
                         f"in different trials ({', '.join(sorted(map(str, keys)))})",
                         file=source, column=name,
                         hint="choose one study with {study:'NAME'}, or pass {space}",
                         parameters=("study", "space"))
    if len({repr(d) for d in dists}) == 1:
        return first
    if type(first).__name__ == "CategoricalDistribution":
        choices: list[Any] = []
        for d in dists:
            choices += [c for c in d.choices if c not in choices]
        notes.append(f"{name}: the trials use different choices; using their union")
        return type(first)(choices)
    low = min(d.low for d in dists)
    high = max(d.high for d in dists)
    notes.append(f"{name}: the trials use different bounds; using their union "
                 f"[{low:g}, {high:g}]")
    kwargs: dict[str, Any] = {"log": first.log}
    if first.step is not None:
        kwargs["step"] = first.step
    return type(first)(low, high, **kwargs)


def _hyperparameter(name: str, dist: Any, conditional: bool,
                    notes: list[str]) -> Hyperparameter:
    kind = type(dist).__name__
    if kind == "CategoricalDistribution":
        choices = tuple("None" if c is None else c for c in dist.choices)
        return Hyperparameter(name, "categorical", choices=choices, conditional=conditional,
                              default=choices[0])
    low, high = float(dist.low), float(dist.high)
    log = bool(dist.log)
    step = dist.step
    if kind == "IntDistribution":
        if low == high:
            return Hyperparameter(name, "constant", choices=(int(low),), default=int(low))
        if step is not None and int(step) > 1:
            levels = tuple(range(int(low), int(high) + 1, int(step)))
            if len(levels) <= _MAX_ORDINAL_LEVELS:
                notes.append(f"{name}: integers {int(low)}..{int(high)} in steps of "
                             f"{int(step)}, taken as {len(levels)} equally likely levels")
                return Hyperparameter(name, "ordinal", choices=levels,
                                      conditional=conditional, default=levels[0])
            half = int(step) / 2
            return Hyperparameter(name, "float", low - half, high + half,
                                  conditional=conditional, default=(low + high) / 2)
        default = round(math.sqrt(low * high)) if log else round((low + high) / 2)
        return Hyperparameter(name, "int", low, high, "log" if log else "linear",
                              conditional=conditional, default=default)
    if low == high:
        return Hyperparameter(name, "constant", choices=(low,), default=low)
    if step is not None:
        half = float(step) / 2
        notes.append(f"{name}: floats {low:g}..{high:g} in steps of {float(step):g}; each "
                     f"grid value owns an interval one step wide")
        return Hyperparameter(name, "float", low - half, high + half,
                              conditional=conditional, default=(low + high) / 2)
    middle = math.sqrt(low * high) if log else (low + high) / 2
    return Hyperparameter(name, "float", low, high, "log" if log else "linear",
                          conditional=conditional, default=middle)


def read_optuna(source: str, *, study: object = None, objective: object = None,
                **unknown: object) -> RawTrials:
    """Read one study, or every study, of an Optuna RDB storage.

    Parameters
    ----------
    source
        ``sqlite:///path.db``, a path to an SQLite file holding Optuna tables, or a
        database server URL (``postgresql://...``, ``mysql://...``).
    study
        The study name; default: every study in the storage (group key ``study``
        when there are several).
    objective
        For multi-objective studies: keep one objective, by metric name or index.

    Returns
    -------
    RawTrials
    """
    reject_unknown_options("optuna", unknown, ("study", "objective"))
    optuna = require_module("optuna", "optuna", "Reading Optuna studies")
    storage, where = _storage(source)
    sqlalchemy_error: type[BaseException] = require_module(
        "sqlalchemy.exc", "optuna", "Reading Optuna studies").SQLAlchemyError
    try:
        names = optuna.study.get_all_study_names(storage)
        if study is not None:
            if str(study) not in names:
                raise InputError(f"no study named {str(study)!r} in the storage", file=where,
                                 hint="studies present: " + (", ".join(names) or "none"))
            names = [str(study)]
        if not names:
            raise InputError("the storage holds no studies", file=where)
        studies = [optuna.load_study(study_name=n, storage=storage) for n in names]
        trials = {s.study_name: s.get_trials(deepcopy=False) for s in studies}
    except sqlalchemy_error as exc:
        raise _read_error(where, exc) from None
    finally:
        engine = getattr(storage, "engine", None)
        if engine is not None:
            engine.dispose()
    return _to_raw(studies, trials, objective, where, several=study is None)


def load_study(
    study: Any,
    *,
    objective: object = None,
    target: Callable[[Any], float] | None = None,
    target_name: str = "target",
    params: Sequence[str] | None = None,
    trials: Sequence[Any] | None = None,
    on_diverged: str = "drop",
) -> TrialTable:
    """Read a live ``optuna.Study`` into a :class:`TrialTable`, with no storage round trip.

    The same converter as the storage reader (``load_trials("sqlite:///...")``): only
    completed trials are analysed (the others are counted with their reason), and the
    trials' distributions are the search space.

    Parameters
    ----------
    study
        An ``optuna.Study`` in any storage (in-memory included); its trials are read with
        ``study.get_trials(deepcopy=False)``.
    objective
        For multi-objective studies: keep one objective, by metric name or index.
    target
        A function of a ``FrozenTrial`` giving the response instead of the objectives
        (as Optuna's ``target=``), e.g. ``lambda t: t.duration.total_seconds()``.
    target_name
        The response column's name when ``target`` is given.
    params
        Keep only these parameters (default: every parameter of the completed trials;
        one that only some trials have is conditional).
    trials
        The trials to read instead of all of the study's.
    on_diverged
        ``drop`` (default), ``worst`` or ``error`` for non-finite responses.

    Returns
    -------
    TrialTable

    Raises
    ------
    InputError
        No completed trials, an unknown objective, both ``objective`` and ``target``, a
        parameter whose kind of distribution changes between trials, and so on.
    MissingExtraError
        When Optuna is not installed.
    """
    require_module("optuna", "optuna", "Reading Optuna studies")
    name = str(study.study_name)
    source = f"Optuna study {name!r}"
    chosen = study.get_trials(deepcopy=False) if trials is None else list(trials)
    raw = _to_raw([study], {name: chosen}, objective, source, several=False, target=target,
                  target_name=target_name, params=params,
                  origin=f"Optuna distributions (study {name!r})")
    table = TrialTable.from_frame(
        raw.frame, source=source, hyperparameters=raw.hyperparameters,
        responses=raw.responses, group_by=raw.group_keys, status=raw.status,
        space=raw.space, on_diverged=on_diverged, exclusions=raw.exclusions,
        directions=raw.directions)
    table.notes[:0] = raw.notes
    return table


def _to_raw(studies: list[Any], trials: dict[str, list[Any]], objective: object, source: str,
            several: bool, *, target: Callable[[Any], float] | None = None,
            target_name: str = "target", params: Sequence[str] | None = None,
            origin: str | None = None) -> RawTrials:
    """Turn studies and their trials into :class:`RawTrials`: the one converter.

    ``target`` replaces the objectives by one response named ``target_name``;
    ``params`` keeps only those parameters; ``origin`` names the space's source
    (default: the storage file's name).
    """
    optuna = require_module("optuna", "optuna", "Reading Optuna studies")
    complete = optuna.trial.TrialState.COMPLETE
    maximize_dir = optuna.study.StudyDirection.MAXIMIZE

    objectives = {s.study_name: _objective_names(s) for s in studies}
    directions = {s.study_name: [d == maximize_dir for d in s.directions] for s in studies}
    first = studies[0].study_name
    for s in studies[1:]:
        if objectives[s.study_name] != objectives[first]:
            raise InputError(
                f"studies {first!r} and {s.study_name!r} have different objectives "
                f"({', '.join(objectives[first])} vs {', '.join(objectives[s.study_name])})",
                file=source, hint="choose one with {study:'NAME'}",
                         parameters=("study",))
    names = objectives[first]
    if target is not None and objective is not None:
        raise InputError("give either an objective or a target, not both", file=source)
    index = _pick_objective(objective, names, source)
    keep_objectives = list(range(len(names))) if index is None else [index]
    wanted = None if params is None else set(params)

    params_by_study: dict[str, set[str]] = {}
    dists: dict[str, list[Any]] = {}
    for s in studies:
        ps: set[str] = set()
        for t in trials[s.study_name]:
            if t.state != complete:
                continue
            for p, d in t.distributions.items():
                if wanted is not None and p not in wanted:
                    continue
                ps.add(p)
                dists.setdefault(p, []).append(d)
        params_by_study[s.study_name] = ps
    param_sets = {frozenset(v) for k, v in params_by_study.items() if v}
    if len(param_sets) > 1:
        detail = "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in params_by_study.items())
        raise InputError(f"the studies have different parameters ({detail})", file=source,
                         hint="choose one with {study:'NAME'}",
                         parameters=("study",))

    taken = set(dists)
    response_names = ([target_name] if target is not None
                      else [names[i] for i in keep_objectives])
    clash = [r for r in response_names if r in taken]
    if clash:
        what = "the target" if target is not None else "an objective"
        raise InputError(f"{what} has the same name as a parameter", file=source,
                         column=clash[0])
    taken |= set(response_names)
    number_col = "number" if "number" not in taken else "trial_number"
    study_col = "study" if "study" not in taken else "study_name"
    duration_col = "duration" if "duration" not in taken else "trial_duration"
    state_col = "state" if "state" not in taken else "trial_state"
    multi = several and len(studies) > 1
    fail = optuna.trial.TrialState.FAIL

    records: list[dict[str, Any]] = []
    rows: list[int] = []
    excluded: list[tuple[int, str]] = []
    row = 0
    attr_names: list[str] = []
    for s in studies:
        for t in trials[s.study_name]:
            row += 1
            failed = t.state == fail and target is None
            if t.state != complete and not failed:
                excluded.append((row, _STATE_REASONS.get(t.state.name, t.state.name.lower())))
                continue
            rec: dict[str, Any] = {state_col: "failed" if failed else "complete"}
            if multi:
                rec[study_col] = s.study_name
            rec[number_col] = t.number
            for p, v in t.params.items():
                if wanted is None or p in wanted:
                    rec[p] = "None" if v is None else v
            if target is not None:
                rec[target_name] = float(target(t))
            else:
                values = t.values or []
                for i in keep_objectives:
                    rec[names[i]] = values[i] if i < len(values) else math.nan
            if t.datetime_start is not None and t.datetime_complete is not None:
                rec[duration_col] = (t.datetime_complete - t.datetime_start).total_seconds()
            for k, v in (t.user_attrs or {}).items():
                if isinstance(v, (int, float, str, bool)) or v is None:
                    col = f"user_attrs.{k}"
                    if col not in attr_names:
                        attr_names.append(col)
                    rec[col] = v
            records.append(rec)
            rows.append(row)

    if not records:
        raise no_trials_left(count_reasons(excluded), source)
    notes: list[str] = []
    hps = []
    completed = [r for r in records if r[state_col] == "complete"]
    for p in sorted(dists, key=lambda p: _first_seen(p, records)):
        dist = _merge(p, dists[p], source, notes)
        present = sum(1 for r in completed if p in r)
        hps.append(_hyperparameter(p, dist, present < len(completed), notes))
    origin = origin or f"Optuna distributions ({Path(source).name})"
    space = SearchSpace(tuple(hps), origin=origin, notes=tuple(notes)) if hps else None
    columns = ([study_col] if multi else []) + [number_col] + [h.name for h in hps]
    columns += response_names
    columns += [duration_col] if any(duration_col in r for r in records) else []
    columns += [state_col]
    frame = frame_from_records(records, rows, columns + attr_names)
    recorded = ({} if target is not None else
                {names[i]: MAXIMIZE if directions[first][i] else MINIMIZE
                 for i in keep_objectives})
    return RawTrials(
        frame=frame,
        hyperparameters=[h.name for h in hps],
        responses=response_names,
        group_keys=[study_col] if multi else [],
        status=state_col,
        space=space,
        exclusions=exclusions_frame(excluded),
        directions=recorded,
    )


def _first_seen(param: str, records: list[dict[str, Any]]) -> int:
    for i, r in enumerate(records):
        if param in r:
            return i
    return len(records)


FORMAT = SourceFormat("optuna", _detect, read_optuna,
                      layout="an Optuna storage, sqlite:///study.db")
