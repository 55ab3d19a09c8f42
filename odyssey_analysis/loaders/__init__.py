"""Loading trials from files and stores: format detection and dispatch.

Each source format has a reader that returns a :class:`RawTrials` (a frame plus the
roles and search space the source records); :func:`load_trials` turns it into a
validated :class:`~odyssey_analysis.trials.TrialTable`, with the user's options taking
precedence over what the source suggests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..space import SearchSpace
from ..trials import TrialTable
from .table import TABLE_FORMATS, read_table


@dataclass
class RawTrials:
    """What a reader found in a source, before validation.

    Attributes
    ----------
    frame
        One row per trial; index = 1-based row (or trial) number in the source.
    hyperparameters, responses, group_keys, status
        Roles the source records (``None`` = let :class:`TrialTable` decide).
    space
        The search space the source records, if any.
    exclusions
        Trials the reader left out already (``row``, ``reason``).
    """

    frame: pd.DataFrame
    hyperparameters: list[str] | None = None
    responses: list[str] | None = None
    group_keys: list[str] | None = None
    status: str | None = None
    space: SearchSpace | None = None
    exclusions: pd.DataFrame | None = None
    maximize: list[str] = field(default_factory=list)


Reader = Callable[..., RawTrials]
#: Registered readers: format name -> (reader, detector). A detector answers whether a
#: path or URL is in its format without reading much.
READERS: dict[str, tuple[Reader, Callable[[str], bool]]] = {}


def register(name: str, detect: Callable[[str], bool]) -> Callable[[Reader], Reader]:
    """Decorator that registers a reader for format ``name``."""

    def wrap(fn: Reader) -> Reader:
        READERS[name] = (fn, detect)
        return fn

    return wrap


def _read_plain(source: str, fmt: str | None = None, **_: object) -> RawTrials:
    path = Path(source)
    frame = read_table(path, fmt)
    return RawTrials(frame=frame, space=_space_beside(path))


SPACE_FILE_NAMES = ("configspace.json", "space.yaml", "space.yml", "space.json")


def _space_beside(path: Path) -> SearchSpace | None:
    """A search space stored next to a table: ``<stem>.space.yaml`` etc. or configspace.json."""
    candidates = [path.with_name(f"{path.stem}.space{ext}") for ext in (".yaml", ".yml", ".json")]
    candidates += [path.with_name(n) for n in SPACE_FILE_NAMES]
    for cand in candidates:
        if cand.is_file():
            return SearchSpace.from_file(cand)
    return None


def detect_format(source: str) -> str:
    """Name the format of ``source`` (a path or URL) or raise :class:`InputError`."""
    for name, (_, detect) in READERS.items():
        try:
            if detect(source):
                return name
        except OSError:
            continue
    suffix = Path(source).suffix.lower()
    if suffix in TABLE_FORMATS:
        return TABLE_FORMATS[suffix]
    if not Path(source).exists() and "://" not in source:
        raise InputError("file not found", file=source)
    known = ", ".join(sorted({*TABLE_FORMATS.values(), *READERS}))
    raise InputError("cannot tell the format", file=source,
                     hint=f"pass --format (one of: {known})")


def load_trials(
    source: str | Path,
    *,
    format: str | None = None,
    hyperparameters: Sequence[str] | None = None,
    responses: Sequence[str] | None = None,
    group_by: Sequence[str] | None = None,
    status: str | None = None,
    space: SearchSpace | str | Path | None = None,
    on_diverged: str = "drop",
    id_column: str | None = None,
    maximize: Sequence[str] = (),
    **options: object,
) -> TrialTable:
    """Load a sweep's trials from a file, folder or store URL.

    Parameters
    ----------
    source
        A table (CSV, TSV, Parquet, JSON, JSON Lines) or another supported sweep
        format (see the README); the format is detected, or given by ``format``.
    format
        Override the detected format.
    hyperparameters, responses, group_by, status, id_column
        Column roles (see :meth:`TrialTable.from_frame`); by default from the source
        or from the column names.
    space
        A :class:`SearchSpace` or a path to a ConfigSpace JSON / YAML spec. By default
        the space recorded by the source (or a space file next to a table), else it
        is inferred when the analysis runs.
    on_diverged
        ``drop`` (default), ``worst`` or ``error`` for runs with non-finite metrics.
    maximize
        Responses where larger is better.
    **options
        Reader-specific options (e.g. ``study`` for Optuna).

    Returns
    -------
    TrialTable
    """
    source = str(source)
    fmt = format or detect_format(source)
    if fmt in READERS:
        raw = READERS[fmt][0](source, **options)
    elif fmt in set(TABLE_FORMATS.values()):
        if options:
            raise InputError(f"options {', '.join(options)} do not apply to {fmt} tables")
        raw = _read_plain(source, fmt)
    else:
        known = ", ".join(sorted({*TABLE_FORMATS.values(), *READERS}))
        raise InputError(f"unknown format '{fmt}'", file=source, hint=f"use one of: {known}")
    if isinstance(space, (str, Path)):
        space = SearchSpace.from_file(space)
    return TrialTable.from_frame(
        raw.frame,
        source=source,
        hyperparameters=hyperparameters if hyperparameters is not None else raw.hyperparameters,
        responses=responses if responses is not None else raw.responses,
        group_by=group_by if group_by is not None else raw.group_keys,
        status=status if status is not None else raw.status,
        space=space if space is not None else raw.space,
        on_diverged=on_diverged,
        id_column=id_column,
        exclusions=raw.exclusions,
        maximize=list(maximize) or raw.maximize,
    )


__all__ = ["RawTrials", "READERS", "register", "detect_format", "load_trials", "read_table"]
