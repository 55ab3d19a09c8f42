"""Loading trials from files and stores: format detection and dispatch.

Each source format has a reader that returns a :class:`~.base.RawTrials` (a frame plus
the roles and search space the source records); :func:`load_trials` turns it into a
validated :class:`~odyssey_analysis.trials.TrialTable`, with the user's options taking
precedence over what the source suggests.

Plain tables (CSV, TSV, Parquet, JSON, JSON Lines) are read by :mod:`.table`; every
other format lives in a module of its own (``optuna``, ``mlflow``, ``wandb``,
``raytune``, ``deepcave``, ``smac``) that defines a ``FORMAT`` with a cheap detector,
listed in :mod:`.registry`. Optional libraries (Optuna, MLflow, pyarrow) are imported
only when a reader needs them, so importing this package stays light.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..roles import AUXILIARY_COLUMNS, DEFAULT_GROUP_KEYS
from ..space import SearchSpace
from ..trials import TrialTable
from ._common import is_remote, local_path, sqlite_file, sqlite_tables
from .base import RawTrials
from .registry import source_formats
from .table import TABLE_FORMATS, header_columns, read_table

SPACE_FILE_NAMES = ("configspace.json", "space.yaml", "space.yml", "space.json")


def _space_beside(path: Path) -> SearchSpace | None:
    """A search space stored next to a table: ``<stem>.space.yaml`` etc., configspace.json,
    or DeepCAVE's configspace.csv (``--space none`` declines it)."""
    candidates = [path.with_name(f"{path.stem}.space{ext}") for ext in (".yaml", ".yml", ".json")]
    candidates += [path.with_name(n) for n in SPACE_FILE_NAMES]
    for cand in candidates:
        if cand.is_file():
            return SearchSpace.from_file(cand)
    deepcave_csv = path.with_name("configspace.csv")  # DeepCAVE's DataFrame layout
    if deepcave_csv.is_file() and deepcave_csv != path:
        from ..space.readers import space_from_deepcave_csv

        return space_from_deepcave_csv(deepcave_csv)
    return None


def _known_formats() -> str:
    return ", ".join(sorted({*TABLE_FORMATS.values(), *source_formats()}))


def detect_format(source: str) -> str:
    """Name the format of ``source`` (a path or URL) or raise :class:`InputError`."""
    source = str(source)
    for name, fmt in source_formats().items():
        try:
            if fmt.detect(source):
                return name
        except OSError:
            continue
    path = local_path(source)
    if is_remote(source) or source.startswith("sqlite:"):
        if source.startswith("sqlite:") and not (sqlite_file(source) or Path()).is_file():
            raise InputError("database file not found", file=source)
        raise InputError("cannot tell the format of this URL", file=source,
                         parameters=("format",),
                         hint=f"pass {{format}} (one of: {_known_formats()}); remote "
                              "files must be downloaded first")
    if not path.exists():
        raise InputError("file not found", file=source)
    db = sqlite_file(source)
    if db is not None:
        tables = sqlite_tables(db, source)
        raise InputError("an SQLite database with neither Optuna nor MLflow tables "
                         f"(tables: {', '.join(sorted(tables)) or 'none'})", file=source)
    suffix = path.suffix.lower()
    if suffix in TABLE_FORMATS and path.is_file():
        return TABLE_FORMATS[suffix]
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir())
        found = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "") or "nothing"
        reads = "; ".join(f"{name}: {fmt.layout}" for name, fmt in
                          sorted(source_formats().items()) if fmt.layout)
        raise InputError(f"cannot tell the format of this folder (found: {found}); a run "
                         f"folder, or a folder of run folders, is read as {reads}",
                         file=source, hint="or pass {format}", parameters=("format",))
    raise InputError("cannot tell the format (a file in no known sweep format)", file=source,
                     hint=f"pass {{format}} (one of: {_known_formats()})",
                     parameters=("format",))


def _wanted_columns(hyperparameters: Sequence[str] | None, responses: Sequence[str] | None,
                    group_by: Sequence[str] | None, status: str | None,
                    id_column: str | None, space: SearchSpace | None,
                    extra: Sequence[str] = ()) -> tuple[list[str], list[str]] | None:
    """The columns a plain table needs when the roles are known (``None``: all of them).

    Returns the columns to read and those of them the user named (which must exist).
    """
    if responses is None:
        return None
    if hyperparameters is None:
        if space is None:
            return None
        hyperparameters = space.names
    required = [*hyperparameters, *responses, *(group_by or ()), *extra]
    required += [c for c in (status, id_column) if c]
    wanted = list(required)
    wanted += list(DEFAULT_GROUP_KEYS)  # the trial ids are counted within them
    if status is None:
        wanted += ["status", "state"]
    if id_column is None:
        wanted += ["trial_id", "run_id", "id", "trial", "number"]
    wanted += list(AUXILIARY_COLUMNS)  # used by the comparison and the figures when present
    return list(dict.fromkeys(wanted)), list(dict.fromkeys(required))


def _read_plain(source: str, fmt: str,
                columns: tuple[list[str], list[str]] | None) -> RawTrials:
    path = local_path(source)
    wanted = None
    if columns is not None and fmt in ("csv", "tsv") and path.is_file():
        header = set(header_columns(path, "\t" if fmt == "tsv" else ","))
        # Read everything when a named column is missing, so the error lists them all.
        wanted = columns[0] if set(columns[1]) <= header else None
    elif columns is not None and fmt == "parquet":
        wanted = columns[0]
    frame = read_table(path, fmt, usecols=wanted)
    notes = list(frame.attrs.pop("notes", []))
    return RawTrials(frame=frame, space=_space_beside(path), notes=notes)


def load_trials(
    source: str | Path,
    *,
    format: str | None = None,
    hyperparameters: Sequence[str] | None = None,
    responses: Sequence[str] | None = None,
    group_by: Sequence[str] | None = None,
    status: str | None = None,
    space: SearchSpace | str | Path | None = None,
    on_diverged: str | None = None,
    on_crashed: str | None = None,
    id_column: str | None = None,
    maximize: Sequence[str] = (),
    minimize: Sequence[str] = (),
    diverged_threshold: Mapping[str, float] | None = None,
    columns: str | Path | Mapping[str, Any] | None = None,
    budget: object = None,
    **options: object,
) -> TrialTable:
    """Load a sweep's trials from a file, folder or store URL.

    Parameters
    ----------
    source
        A table (CSV, TSV, Parquet, JSON, JSON Lines), an Optuna storage
        (``sqlite:///study.db``), an MLflow tracking store (``mlruns`` folder or
        ``sqlite:///mlflow.db``), a Weights & Biases export, a Ray Tune experiment
        folder or results CSV, a DeepCAVE run folder or a SMAC3 run folder (see
        ``docs/formats.md``); the format is detected, or given by ``format``.
    format
        Override the detected format.
    hyperparameters, responses, group_by, status, id_column
        Column roles (see :meth:`TrialTable.from_frame`); by default from the source
        or from the column names.
    space
        A :class:`SearchSpace` or a path to a ConfigSpace JSON / YAML spec. By default
        the space recorded by the source (or a space file next to a table), else it
        is inferred when the analysis runs. ``"none"`` declines the space the source
        records: the hyperparameters are then the columns (or ``hyperparameters``) and
        the space is inferred.
    on_diverged
        ``drop`` (default), ``worst`` or ``error`` for diverged runs (non-finite
        metrics, a diverged status, or beyond ``diverged_threshold``).
    on_crashed
        ``drop`` (default) or ``worst`` for runs the source records as failed (crashed,
        timed out, out of memory; Optuna's FAIL, DeepCAVE's and SMAC's crashes, a status
        column's ``crashed``/``failed``): ``worst`` keeps them with each response at its
        worst value, as DeepCAVE does.
    maximize
        Responses where larger is better; by default what the source records.
    diverged_threshold
        ``{response: value}``: runs worse than ``value`` count as diverged.
    columns
        Column roles from a spec file or mapping (see :mod:`odyssey_analysis.spec`);
        by default a ``<table>.columns.yaml`` next to a table is used when present.
        Arguments given here take precedence over the spec.
    budget
        Keep the trials of one budget (fidelity): a value, or ``"max"`` for the largest.
        By default a budget column with several values (named ``budget`` or
        ``fidelity``, or the budget a multi-fidelity source records) makes each budget a
        group of its own, which ``odyssey info`` states.
    **options
        Reader-specific options (e.g. ``study`` for Optuna, ``experiment`` for MLflow;
        see ``docs/formats.md``). Values may be given as text, as the command line's
        ``--option KEY=VALUE`` does.

    Returns
    -------
    TrialTable

    Raises
    ------
    InputError
        For anything wrong with the source, naming the file, row and column.
    MissingExtraError
        When the format needs an optional library that is not installed.
    """
    source = str(source)
    spec = _column_spec(source, columns)
    format = format or spec.get("format")
    hyperparameters = hyperparameters if hyperparameters is not None else spec.get(
        "hyperparameters")
    responses = responses if responses is not None else spec.get("responses")
    group_by = group_by if group_by is not None else spec.get("group_by")
    status = status if status is not None else spec.get("status")
    id_column = id_column if id_column is not None else spec.get("id_column")
    space = space if space is not None else spec.get("space")
    on_diverged = on_diverged or spec.get("on_diverged", "drop")
    on_crashed = on_crashed or spec.get("on_crashed", "drop")
    maximize = list(maximize) or spec.get("maximize", [])
    minimize = list(minimize) or spec.get("minimize", [])
    diverged_threshold = (diverged_threshold if diverged_threshold is not None
                          else spec.get("diverged_threshold"))
    fmt = format or detect_format(source)
    declined = isinstance(space, str) and space.strip().lower() == "none"
    if declined:
        space = None
    elif isinstance(space, (str, Path)):
        space = SearchSpace.from_file(space)
    formats = source_formats()
    if budget is not None and fmt in formats and _reads_budget(formats[fmt]):
        options = {**options, "budget": budget}
        budget = None
    if fmt in formats:
        try:
            raw = formats[fmt].read(source, **options)
        except InputError as err:
            raise err.located(file=source) from None
    elif fmt in set(TABLE_FORMATS.values()):
        if options:
            raise InputError(f"options {', '.join(options)} do not apply to {fmt} tables",
                             file=source)
        wanted = _wanted_columns(hyperparameters, responses, group_by, status, id_column,
                                 space, extra=list(diverged_threshold or ()))
        raw = _read_plain(source, fmt, wanted)
    else:
        raise InputError(f"unknown format '{fmt}'", file=source,
                         hint=f"use one of: {_known_formats()}")
    if raw.aliases:
        hyperparameters, responses, group_by = (
            None if names is None else [raw.aliases.get(n, n) for n in names]
            for names in (hyperparameters, responses, group_by))
    if budget is not None:
        raw = _keep_budget(raw, budget, source, hyperparameters)
    if declined and raw.space is not None:
        raw = replace(raw, space=None, hyperparameters=None, notes=[
            *raw.notes, f"the search space the source records ({raw.space.origin}) is "
                        "declined (--space none): the space is inferred from the data"])
    table = TrialTable.from_frame(
        raw.frame,
        source=source,
        hyperparameters=hyperparameters if hyperparameters is not None else raw.hyperparameters,
        responses=responses if responses is not None else raw.responses,
        group_by=group_by if group_by is not None else raw.group_keys,
        status=status if status is not None else raw.status,
        space=space if space is not None else raw.space,
        on_diverged=on_diverged,
        on_crashed=on_crashed,
        worst_values=raw.worst_values,
        id_column=id_column,
        exclusions=raw.exclusions,
        maximize=maximize,
        minimize=minimize,
        directions=raw.directions,
        diverged_threshold=diverged_threshold,
    )
    table.notes[:0] = raw.notes
    if raw.design:
        from ..design import MEANINGS, MODEL_BASED

        table.design = raw.design
        table.notes.append(f"design: {raw.design}: {MEANINGS[MODEL_BASED]}")
    table.roles.update(spec.get("roles", {}))
    if spec.get("path"):
        table.notes.insert(0, f"column roles from {Path(spec['path']).name}")
    return table


def _reads_budget(fmt: Any) -> bool:
    """Whether a source format's reader takes the ``budget`` option itself."""
    import inspect

    return "budget" in inspect.signature(fmt.read).parameters


def _keep_budget(raw: RawTrials, budget: object, source: str,
                 hyperparameters: Sequence[str] | None) -> RawTrials:
    """Keep one budget of a table whose budget column is found by its name."""
    from ..roles import BUDGET, bookkeeping_kind
    from ._common import exclusions_frame, select_budget

    named = set(hyperparameters or raw.hyperparameters or ())
    candidates = [c for c in raw.frame.columns if c not in named
                  and bookkeeping_kind(str(c)) == BUDGET]
    if not candidates:
        raise InputError("{budget} was given but no column is a budget (a column named "
                         "budget or fidelity)", file=source, parameters=("budget",))
    excluded: list[tuple[int, str]] = []
    frame, _ = select_budget(raw.frame, budget, source, excluded, column=candidates[0])
    before = raw.exclusions
    added = exclusions_frame(excluded)
    exclusions = added if before is None else pd.concat([before, added], ignore_index=True)
    groups = None if raw.group_keys is None else [g for g in raw.group_keys
                                                  if g != candidates[0]]
    kept = ", ".join(f"{v:g}" for v in pd.unique(pd.to_numeric(frame[candidates[0]])))
    notes = [*raw.notes, f"only {candidates[0]} = {kept} (--budget {budget}) is analysed; "
                         f"{len(excluded)} trial(s) at other budgets are left out"]
    return replace(raw, frame=frame, exclusions=exclusions, group_keys=groups, notes=notes)


COLUMN_SPEC_SUFFIXES = (".columns.yaml", ".columns.yml", ".columns.json")


def _column_spec(source: str, columns: str | Path | Mapping[str, Any] | None
                 ) -> dict[str, Any]:
    """The column-role spec: given, or a ``<table>.columns.yaml`` next to a table file."""
    from ..spec import read_column_spec, spec_from_mapping

    if isinstance(columns, Mapping):
        return spec_from_mapping(columns, base=Path("."))
    if columns is not None:
        return {**read_column_spec(columns), "path": str(columns)}
    path = Path(source)
    if "://" in source or not path.is_file():
        return {}
    for suffix in COLUMN_SPEC_SUFFIXES:
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return {**read_column_spec(candidate), "path": str(candidate)}
    return {}


__all__ = ["RawTrials", "detect_format", "load_trials", "read_table"]
