"""The trial table: one row per training run, with the role of every column.

:class:`TrialTable` is what every loader produces and every analysis consumes: a
validated :class:`pandas.DataFrame` whose index is the 1-based row number in the source
(so messages can name the row), plus which columns are group keys, hyperparameters,
responses and status. Rows that are not analysed are never dropped silently: each one
is recorded in :attr:`TrialTable.exclusions` with its reason.

:meth:`TrialTable.from_frame` is a pipeline of small steps, each a function below:
number the rows, assign the roles, apply the status filter, read the responses, find
the diverged runs, apply the diverged policy, check the trial ids, check the space.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .numeric import read_numbers
from .roles import (
    AUXILIARY_COLUMNS,
    BUDGET,
    DEFAULT_GROUP_KEYS,
    DIVERGED_STATUSES,
    FAILED_STATUSES,
    FINISHED_STATUSES,
    ID_COLUMNS,
    MAXIMIZE,
    MINIMIZE,
    STATUS_COLUMNS,
    bookkeeping_kind,
    direction_from_name,
    first_present,
    looks_like_response,
)
from .space import SearchSpace

DIVERGED_POLICIES = ("drop", "worst", "error")
CRASHED_POLICIES = ("drop", "worst")
#: The settings that declare which way a response is better.
DIRECTION_SETTINGS = ("maximize", "minimize")


def declare_direction(column: str) -> str:
    """How to declare which way ``column`` is better, as a hint naming
    :data:`DIRECTION_SETTINGS` (``declare it with maximize=['y'] or minimize=['y']``;
    the command line reads ``--maximize y or --minimize y``)."""
    return f"declare it with {{maximize:[{column!r}]}} or {{minimize:[{column!r}]}}"

__all__ = ["AUXILIARY_COLUMNS", "DEFAULT_GROUP_KEYS", "DIVERGED_POLICIES", "TrialTable",
           "no_trials_left"]


def _empty_exclusions() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "reason": pd.Series(dtype="object")})


@dataclass
class TrialTable:
    """Trials with the role of each column.

    Attributes
    ----------
    frame
        The rows that are analysed; the index is the 1-based row number in the source.
    hyperparameters
        Hyperparameter columns, in the order of :attr:`space` when there is one.
    responses
        Metric columns (e.g. ``valid_error``, ``test_error``, ``train_time``).
    group_keys
        Columns that split the trials into independent analyses (e.g. task, variant).
    status
        The status column, if any (only finished runs are kept).
    source
        The file or URL the trials came from.
    space
        The search space recorded by the source or declared by the user (``None``
        means it will be inferred).
    exclusions
        One row per excluded trial: ``row`` (source row number) and ``reason``, plus the
        group key values of rows excluded by the table's own policies.
    diverged_policy
        How non-finite responses were handled (``drop``, ``worst`` or ``error``).
    crashed_policy
        How failed runs (crashed, timed out, out of memory) were handled: ``drop`` or
        ``worst``.
    directions
        ``response -> "minimize" | "maximize"`` where it is known: declared by the user,
        recorded by the source, or read from the name (see :attr:`direction_origins`).
    direction_origins
        ``response -> "declared" | "recorded by the source" | "inferred from the name"``.
    diverged_threshold
        Values beyond which a run counts as diverged, per column.
    roles
        What the comparison and the figures use, as the column spec names it: ``task``,
        ``variant``, ``reference``, ``metric``, ``select_by``, ``time``, ``params``
        (options of the commands take precedence).
    notes
        Things the user should know (e.g. values replaced by the worst policy).
    bookkeeping
        ``column -> kind`` for the columns that are neither hyperparameters, responses,
        group keys nor the status: ids, timestamps, seeds, budgets, durations, empty
        columns, ... (see :func:`odyssey_analysis.roles.bookkeeping_kind`), and
        ``other metric`` for metric-like columns that are not a chosen response.
    id_column
        The trial id column, if any (each id appears once per group).
    design
        Why the trials are not a random sample of the space, where the source says so
        (a model-based optimiser chose them), else ``None``; see
        :func:`odyssey_analysis.design.assess_design`.
    hyperparameters_declared
        Whether the hyperparameters were named (by the user, a column spec or a space)
        rather than guessed from the columns: a declared design column stays a factor.
    """

    frame: pd.DataFrame
    hyperparameters: list[str]
    responses: list[str]
    group_keys: list[str] = field(default_factory=list)
    status: str | None = None
    source: str = "<table>"
    space: SearchSpace | None = None
    exclusions: pd.DataFrame = field(default_factory=_empty_exclusions)
    diverged_policy: str = "drop"
    crashed_policy: str = "drop"
    notes: list[str] = field(default_factory=list)
    directions: dict[str, str] = field(default_factory=dict)
    direction_origins: dict[str, str] = field(default_factory=dict)
    diverged_threshold: dict[str, float] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    bookkeeping: dict[str, str] = field(default_factory=dict)
    id_column: str | None = None
    design: str | None = None
    hyperparameters_declared: bool = False
    _resolved: SearchSpace | None = field(default=None, init=False, repr=False,
                                          compare=False)

    # -- summaries ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

    def __repr__(self) -> str:
        groups = (f"{self.n_groups} groups by {', '.join(self.group_keys)}" if self.group_keys
                  else "one group")
        return (f"TrialTable({len(self)} trials from {self.source!r}, {groups}; "
                f"hyperparameters: {', '.join(self.hyperparameters)}; "
                f"responses: {', '.join(self.responses)}; {self.n_excluded} excluded)")

    def _repr_html_(self) -> str:
        import html

        e = html.escape
        rows = [("source", self.source), ("trials", f"{len(self)} ({self.n_excluded} excluded)"),
                ("groups", (f"{self.n_groups} by {', '.join(self.group_keys)}"
                            if self.group_keys else "one")),
                ("hyperparameters", ", ".join(self.hyperparameters)),
                ("responses", ", ".join(self.responses))]
        body = "".join(f"<tr><th style='text-align:left'>{e(k)}</th><td style='text-align:"
                       f"left'>{e(str(v))}</td></tr>" for k, v in rows)
        return f"<table><caption>TrialTable</caption>{body}</table>"

    @property
    def maximize(self) -> list[str]:
        """The responses where larger is better."""
        return [r for r in self.responses if self.directions.get(r) == MAXIMIZE]

    def direction(self, response: str, *, needed_for: str = "this") -> str:
        """``"minimize"`` or ``"maximize"`` for a response, or an error asking to declare it.

        Parameters
        ----------
        response
            The response (or any column with a known direction).
        needed_for
            What needs it, for the message (e.g. ``"the top runs"``).

        Raises
        ------
        InputError
            When neither the user, the source nor the name says which way is better.
        """
        if response in self.directions:
            return self.directions[response]
        guess = direction_from_name(response)
        if guess is not None and response not in self.responses:
            return guess
        raise InputError(f"{needed_for} needs to know whether larger or smaller values are "
                         "better, and the name does not say", file=self.source,
                         column=response,
                         hint=declare_direction(response)
                         + " (or maximize:/minimize: in the column spec)",
                         parameters=DIRECTION_SETTINGS)

    @property
    def n_groups(self) -> int:
        """Number of groups (1 without group keys)."""
        if not self.group_keys:
            return 1
        return int(self.frame.groupby(self.group_keys, observed=True, dropna=False).ngroups)

    @property
    def n_excluded(self) -> int:
        """Number of source rows that are not analysed."""
        return len(self.exclusions)

    def excluded_counts(self) -> dict[str, int]:
        """Excluded rows counted by reason (largest first)."""
        if self.exclusions.empty:
            return {}
        counts = self.exclusions["reason"].value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def excluded_in_group(self, group: Mapping[str, Any]) -> dict[str, int]:
        """The excluded rows of one group, counted by reason.

        Rows a reader excluded carry no group values; they are counted for the whole
        table only (an empty ``group``).
        """
        excl = self.exclusions
        if not group:
            return self.excluded_counts()
        if excl.empty or not all(k in excl.columns for k in group):
            return {}
        mask = np.ones(len(excl), dtype=bool)
        for key, value in group.items():
            mask &= (excl[key].astype(str) == str(value)).to_numpy()
        return {str(k): int(v) for k, v in excl.loc[mask, "reason"].value_counts().items()}

    def resolve_space(self, space: SearchSpace | None = None) -> SearchSpace:
        """The space to analyse with: given, recorded by the source, or inferred.

        The space is restricted to :attr:`hyperparameters` and every value is checked
        against it, once: the table's own space is kept for later calls.
        """
        if space is None and self._resolved is not None:
            return self._resolved
        chosen = space or self.space
        if chosen is None:
            chosen = SearchSpace.infer(self.frame, self.hyperparameters, source=self.source)
        missing = [n for n in self.hyperparameters if n not in chosen]
        if missing:
            raise InputError(
                f"hyperparameter(s) {', '.join(missing)} are not in the search space "
                f"({chosen.origin})", file=self.source,
                hint="declare them in the space file or choose them with {hyperparameters}",
                parameters=("hyperparameters",))
        chosen = chosen.subset(self.hyperparameters)
        chosen.validate(self.frame, source=self.source)
        if space is None:
            self._resolved = chosen
            from .design import GRID, assess_design, design_note

            design = assess_design(self, chosen)
            if design["kind"] == GRID and design_note(design) not in self.notes:
                self.notes.append(design_note(design))
        return chosen

    def subset(self, **group: Any) -> TrialTable:
        """The trials of one group (or several keys' values), as a table of their own.

        Parameters
        ----------
        **group
            Group key values, e.g. ``task="speech", variant="V"``; values are matched as
            given or as text.

        Returns
        -------
        TrialTable
            Same roles and space; only the matching rows, and only their exclusions.

        Raises
        ------
        KeyError
            A key that is not a group key.
        InputError
            No trial matches.
        """
        unknown = sorted(set(group) - set(self.group_keys))
        if unknown:
            raise KeyError(f"not group keys: {', '.join(unknown)} "
                           f"(group keys: {', '.join(self.group_keys) or 'none'})")
        mask = np.ones(len(self.frame), dtype=bool)
        for key, value in group.items():
            col = self.frame[key]
            mask &= ((col == value) | (col.astype(str) == str(value))).to_numpy()
        if not mask.any():
            where = ", ".join(f"{k}={v}" for k, v in group.items())
            raise InputError(f"no trials in group {where}", file=self.source)
        excl = self.exclusions
        if not excl.empty and all(k in excl.columns for k in group):
            keep = np.ones(len(excl), dtype=bool)
            for key, value in group.items():
                keep &= (excl[key].astype(str) == str(value)).to_numpy()
            excl = excl.loc[keep].reset_index(drop=True)
        else:
            excl = _empty_exclusions()
        out = TrialTable(
            frame=self.frame.loc[mask], hyperparameters=list(self.hyperparameters),
            responses=list(self.responses), group_keys=list(self.group_keys),
            status=self.status, source=self.source, space=self.space, exclusions=excl,
            diverged_policy=self.diverged_policy, crashed_policy=self.crashed_policy,
            notes=list(self.notes), directions=dict(self.directions),
            direction_origins=dict(self.direction_origins),
            diverged_threshold=dict(self.diverged_threshold), roles=dict(self.roles),
            bookkeeping=dict(self.bookkeeping), id_column=self.id_column,
            design=self.design, hyperparameters_declared=self.hyperparameters_declared)
        if self._resolved is not None:
            out._resolved = self._resolved
        return out

    def regrouped(self, group_keys: Sequence[str]) -> TrialTable:
        """The same trials grouped by ``group_keys``; a key that was a hyperparameter
        stops being one (each group holds one of its values).

        Raises
        ------
        InputError
            A key that is not a column, or a response.
        """
        keys = list(group_keys)
        for key in keys:
            if key not in self.frame.columns:
                raise InputError("group key column is missing", file=self.source, column=key)
            if key in self.responses:
                raise InputError("a response cannot be a group key", file=self.source,
                                 column=key)
        hps = [h for h in self.hyperparameters if h not in keys]
        if not hps:
            raise InputError("no hyperparameter is left once the groups are formed",
                             file=self.source, hint="group by fewer columns")
        out = TrialTable(
            frame=self.frame, hyperparameters=hps, responses=list(self.responses),
            group_keys=keys, status=self.status, source=self.source,
            space=None if self.space is None else self.space.subset(
                [h for h in self.space.names if h in hps]),
            exclusions=self.exclusions, diverged_policy=self.diverged_policy,
            crashed_policy=self.crashed_policy, notes=list(self.notes),
            directions=dict(self.directions),
            direction_origins=dict(self.direction_origins),
            diverged_threshold=dict(self.diverged_threshold), roles=dict(self.roles),
            bookkeeping={c: k for c, k in self.bookkeeping.items() if c not in keys},
            id_column=self.id_column, design=self.design,
            hyperparameters_declared=self.hyperparameters_declared)
        if self._resolved is not None:
            out._resolved = self._resolved.subset([h for h in self._resolved.names
                                                   if h in hps])
        return out

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        source: str = "<table>",
        hyperparameters: Sequence[str] | None = None,
        responses: Sequence[str] | None = None,
        group_by: Sequence[str] | None = None,
        status: str | None = None,
        space: SearchSpace | None = None,
        on_diverged: str = "drop",
        id_column: str | None = None,
        exclusions: pd.DataFrame | None = None,
        maximize: Sequence[str] = (),
        minimize: Sequence[str] = (),
        directions: Mapping[str, str] | None = None,
        diverged_threshold: Mapping[str, float] | None = None,
        on_crashed: str = "drop",
        worst_values: Mapping[str, float] | None = None,
    ) -> TrialTable:
        """Assign column roles, validate, and apply the status and diverged policies.

        Parameters
        ----------
        frame
            One row per trial. Its index should be the 1-based row number in the source
            (a default ``RangeIndex`` is renumbered from 1).
        source
            File or URL, for messages.
        hyperparameters
            Hyperparameter columns; default: the space's names, else every column that
            is not a group key, response, status or bookkeeping column.
        responses
            Metric columns; default: numeric columns whose names look like metrics
            (error, loss, accuracy, score, time, ...).
        group_by
            Group key columns; default: ``task`` and ``variant`` where present. Pass an
            empty list for no grouping.
        status
            Status column; default: ``status`` or ``state`` where present. Only rows with
            a finished status are kept; diverged statuses follow ``on_diverged``.
        space
            Declared search space (takes precedence over inference).
        on_diverged
            ``"drop"`` (default; counted), ``"worst"`` (replace non-finite responses by
            the worst finite value of the same group) or ``"error"``.
        id_column
            Trial id column; duplicates within a group are an error. Default: the first
            of trial_id, run_id, id, trial, number that is present.
        exclusions
            Rows a loader already excluded (``row``, ``reason``).
        maximize, minimize
            Responses for which larger (smaller) is better, as declared by the user.
        directions
            ``response -> "minimize" | "maximize"`` as recorded by the source (Optuna's
            study directions, DeepCAVE's and SMAC's objectives, Ray Tune's ``mode``).
            Declarations win over the source, the source over the response's name
            (accuracy, f1, score ... are maximised; loss, error, nll, time ...
            minimised). Where none tells, the direction is unknown until something
            needs it (the top runs, the worst policy, a threshold), which then asks for
            a declaration.
        diverged_threshold
            ``{response: value}``: a run whose response is worse than ``value`` (above it,
            or below it for a maximised response) counts as diverged too, e.g. a loss that
            exploded without becoming NaN. The diverged policy then applies.
        on_crashed
            Runs whose status says they failed (crashed, timed out, out of memory,
            aborted): ``"drop"`` (default; counted) or ``"worst"`` (kept, each missing
            response at its worst value, as DeepCAVE counts them: the value in
            ``worst_values``, else the worst of the group's runs that did not fail).
        worst_values
            ``response -> value`` a failed run gets under ``on_crashed="worst"``, as the
            source records it (DeepCAVE's objective bounds).

        Raises
        ------
        InputError
            For any problem, naming the file, row and column.
        """
        if on_diverged not in DIVERGED_POLICIES:
            raise InputError(f"unknown diverged policy '{on_diverged}' "
                             f"(use {', '.join(DIVERGED_POLICIES)})")
        if on_crashed not in CRASHED_POLICIES:
            raise InputError(f"unknown crashed policy '{on_crashed}' "
                             f"(use {', '.join(CRASHED_POLICIES)})")
        frame = _numbered(frame, source)
        roles = _assign_roles(frame, source, hyperparameters=hyperparameters,
                              responses=responses, group_by=group_by, status=status,
                              id_column=id_column, space=space)
        _check_flat(frame, [*roles.groups, *roles.hyperparameters, *roles.responses,
                            *([roles.status] if roles.status else [])], source)
        log = _ExclusionLog(exclusions, frame, roles.groups)
        keep, diverged_status, failed = _apply_status(frame, roles.status, log, on_crashed)
        values = {col: read_numbers(frame[col], source=source, column=col, check=keep)
                  for col in roles.responses}
        chosen, origins = _directions(roles.responses, maximize, minimize, directions, source)
        notes: list[str] = list(roles.notes)
        if roles.other_metrics:
            notes.append(f"metric-like column(s) {', '.join(roles.other_metrics)} are not "
                         "analysed (not a chosen response) and are not hyperparameters; "
                         "name them with --response or --param to use them")
        thresholds = _check_thresholds(diverged_threshold, frame, roles, source)
        need = _DirectionNeed(chosen, roles.responses, source)
        if failed.any():
            n_kept = _fill_failed(values, failed, keep, frame, roles, need, worst_values,
                                  source)
            frame = frame.copy()
            for col in roles.responses:
                frame[col] = values[col]
            notes.append(f"{n_kept} failed run(s) kept with the worst value of each response "
                         "(--on-crashed worst)")
        limited = {col: values[col] if col in values else
                   read_numbers(frame[col], source=source, column=col, check=keep)
                   for col in thresholds}
        bad, reasons, where = _diverged(values, limited, thresholds, need, keep,
                                        diverged_status)
        frame, keep, diverged_notes = _apply_diverged_policy(
            frame, values, bad, (reasons, where), keep, on_diverged, roles, need, log, source)
        notes += diverged_notes
        kept = frame if keep.all() else frame.loc[keep]  # no copy when every row stays
        if kept.empty:
            raise no_trials_left(log.counts(), source, "after excluding")
        id_column = _check_ids(kept, roles, source)
        table = cls(
            frame=kept, hyperparameters=roles.hyperparameters, responses=roles.responses,
            group_keys=roles.groups, status=roles.status, source=source, space=space,
            exclusions=log.frame(), diverged_policy=on_diverged, crashed_policy=on_crashed,
            notes=notes,
            directions=chosen, direction_origins=origins, diverged_threshold=thresholds,
            bookkeeping=roles.bookkeeping, id_column=id_column,
            hyperparameters_declared=hyperparameters is not None or space is not None)
        if space is not None:
            table.resolve_space()
        return table


def no_trials_left(excluded: Mapping[str, int], source: str | None,
                   when: str = "after excluding") -> InputError:
    """The error for a source none of whose trials can be analysed.

    Parameters
    ----------
    excluded
        The excluded trials counted by reason.
    source
        The file or URL.
    when
        How the count is introduced (``"after excluding"``).
    """
    detail = ", ".join(f"{n} {reason}" for reason, n in excluded.items())
    return InputError(f"no trials left to analyse {when} {detail}" if detail
                      else "no trials to analyse (the source holds none)", file=source)


# -- the steps of from_frame ------------------------------------------------------------

@dataclass(frozen=True)
class _Roles:
    groups: list[str]
    status: str | None
    id_column: str | None
    hyperparameters: list[str]
    responses: list[str]
    other_metrics: list[str] = field(default_factory=list)
    bookkeeping: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _numbered(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The frame with 1-based row numbers and text column names; no duplicated names."""
    if frame.shape[1] == 0:
        raise InputError("the table has no columns", file=source)
    if len(frame) == 0:
        raise InputError("the table has a header but no rows", file=source)
    frame = frame.copy(deep=False)  # the caller's frame keeps its index and names
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame.index = pd.RangeIndex(1, len(frame) + 1)
    frame.columns = [str(c) for c in frame.columns]
    names = list(frame.columns)
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise InputError("column appears more than once", file=source, column=dup[0])
    return frame


def _budget_groups(frame: pd.DataFrame, bookkeeping: Mapping[str, str]
                   ) -> tuple[list[str], list[str]]:
    """Budget columns with several values, which become group keys, and the note."""
    keys, notes = [], []
    for col, kind in bookkeeping.items():
        if kind != BUDGET:
            continue
        levels = pd.unique(frame[col].dropna())
        if len(levels) > 1:
            keys.append(col)
            numeric = all(isinstance(v, (int, float, np.number)) for v in levels)
            ordered = sorted(levels) if numeric else sorted(levels, key=str)
            shown = ", ".join(f"{v:g}" if numeric else str(v) for v in ordered[:6])
            more = ", ..." if len(levels) > 6 else ""
            notes.append(f"{col} is a budget with {len(levels)} values ({shown}{more}): each "
                         "budget is analysed as a group of its own; keep one with --budget "
                         "max or --budget VALUE")
    return keys, notes


def _assign_roles(frame: pd.DataFrame, source: str, *, hyperparameters, responses, group_by,
                  status, id_column, space) -> _Roles:
    """Group keys, status, id, responses and hyperparameters: given, else by name.

    Bookkeeping columns (ids, timestamps, seeds, budgets, durations, empty columns; see
    :func:`~odyssey_analysis.roles.bookkeeping_kind`) are never hyperparameters or
    responses unless named; a budget with several values becomes a group key unless
    the groups are given.
    """
    columns = list(frame.columns)

    def require(cols: Sequence[str], role: str) -> None:
        for c in cols:
            if c not in columns:
                raise InputError(f"{role} column is missing", file=source, column=c,
                                 hint=f"columns present: {', '.join(columns)}")

    named = {*(hyperparameters or ()), *(responses or ()), *(group_by or ())}
    if hyperparameters is None and space is not None:
        named |= set(space.names)
    kinds = {c: kind for c in columns if c not in named
             and (kind := bookkeeping_kind(c, frame[c])) is not None}
    notes: list[str] = []
    groups = ([c for c in DEFAULT_GROUP_KEYS if c in columns]
              if group_by is None else list(group_by))
    if group_by is None:
        budgets, budget_notes = _budget_groups(frame, kinds)
        groups += budgets
        notes += budget_notes
    require(groups, "group key")
    if status is None:
        status = first_present(STATUS_COLUMNS, columns)
    require([status] if status is not None else [], "status")
    if id_column is None:
        id_column = first_present(ID_COLUMNS, columns)
    elif id_column:
        require([id_column], "trial id")
    id_column = id_column or None
    if hyperparameters is None and space is not None:
        hyperparameters = list(space.names)
    if responses is None:
        taken = set(groups) | {status} | set(hyperparameters or ())
        responses = [c for c in columns if c not in taken and c not in kinds
                     and looks_like_response(c, frame[c])]
        if not responses:
            raise InputError("no response (metric) column found", file=source,
                             hint="name it with {responses:['COLUMN']}",
                             parameters=("responses",))
    responses = list(responses)
    require(responses, "response")
    other_metrics: list[str] = []
    if hyperparameters is None:
        taken = set(groups) | {status, id_column} | set(responses)
        # Metric-like columns that were not chosen as responses are other results of
        # the run (a second metric, a runtime), not settings: never hyperparameters.
        other_metrics = [c for c in columns if c not in taken and c not in kinds
                         and looks_like_response(c, frame[c])]
        taken |= set(other_metrics)
        hyperparameters = [c for c in columns if c not in taken and c not in kinds]
        if not hyperparameters:
            raise InputError("no hyperparameter columns found", file=source,
                             hint="name them with {hyperparameters:['COLUMN']} or give "
                                  "{space:'FILE'}", parameters=("hyperparameters", "space"))
    hyperparameters = list(hyperparameters)
    require(hyperparameters, "hyperparameter")
    overlap = set(hyperparameters) & set(responses)
    if overlap:
        raise InputError("column is both a hyperparameter and a response", file=source,
                         column=sorted(overlap)[0])
    used = {*groups, *hyperparameters, *responses, status}
    bookkeeping = {c: k for c, k in kinds.items() if c not in used}
    bookkeeping.update((c, "other metric") for c in other_metrics if c not in used)
    return _Roles(groups, status, id_column, hyperparameters, responses, other_metrics,
                  bookkeeping, notes)


_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)


def _check_flat(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    """Every cell of a column with a role holds one value (no list, mapping or array)."""
    for col in columns:
        values = frame[col]
        if values.dtype != object:
            continue
        nested = values.map(lambda v: isinstance(v, _NESTED)).to_numpy(dtype=bool)
        if nested.any():
            pos = int(np.flatnonzero(nested)[0])
            kind = type(values.iloc[pos]).__name__
            raise InputError(f"a nested value ({kind}) where one value per cell is expected",
                             file=source, row=int(frame.index[pos]), column=col,
                             hint="flatten it into columns of their own, or leave the "
                                  "column out")


class _ExclusionLog:
    """The excluded rows, by reason: the reader's, then this table's own."""

    def __init__(self, from_reader: pd.DataFrame | None, frame: pd.DataFrame,
                 groups: Sequence[str]) -> None:
        self._reader = None if from_reader is None else from_reader[["row", "reason"]]
        self._own: list[pd.DataFrame] = []
        self._frame = frame
        self._groups = list(groups)

    def add(self, mask: np.ndarray, reasons: np.ndarray | pd.Series) -> None:
        """Exclude the rows of ``frame`` under ``mask``, each with its reason."""
        reasons = np.asarray(reasons, dtype=object)
        self._own.append(pd.DataFrame({"row": self._frame.index[mask],
                                       "reason": reasons}))

    def counts(self) -> dict[str, int]:
        parts = ([self._reader] if self._reader is not None else []) + self._own
        if not parts:
            return {}
        return {str(k): int(v) for k, v in
                pd.concat(parts)["reason"].value_counts().items()}

    def frame(self) -> pd.DataFrame:
        """All excluded rows; those excluded here also carry their group key values."""
        parts = [] if self._reader is None else [self._reader.reset_index(drop=True)]
        for part in self._own:
            part = part.reset_index(drop=True)
            if self._groups:
                keys = self._frame.loc[part["row"].to_numpy(), self._groups]
                part = pd.concat([part, keys.reset_index(drop=True)], axis=1)
            parts.append(part)
        if not parts:
            return _empty_exclusions()
        return pd.concat(parts, ignore_index=True)


def _apply_status(frame: pd.DataFrame, status: str | None, log: _ExclusionLog,
                  on_crashed: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a finished (or diverged) status are kept, failed ones by the crashed
    policy; others are excluded. Returns the kept, diverged and kept-failed rows."""
    n = len(frame)
    keep = np.ones(n, dtype=bool)
    diverged_status = np.zeros(n, dtype=bool)
    if status is None:
        return keep, diverged_status, np.zeros(n, dtype=bool)
    st = frame[status].astype(str).str.strip().str.lower()
    finished = st.isin(FINISHED_STATUSES).to_numpy()
    diverged_status = st.isin(DIVERGED_STATUSES).to_numpy()
    failed = st.isin(FAILED_STATUSES).to_numpy()
    other = ~(finished | diverged_status | failed)
    if other.any():
        log.add(other, ("status " + frame.loc[other, status].astype(str)).to_numpy())
    if on_crashed == "drop" and failed.any():
        log.add(failed, st[failed].to_numpy())
        return keep & ~other & ~failed, diverged_status, np.zeros(n, dtype=bool)
    return keep & ~other, diverged_status, failed


def _fill_failed(values: dict[str, np.ndarray], failed: np.ndarray, keep: np.ndarray,
                 frame: pd.DataFrame, roles: _Roles, need: _DirectionNeed,
                 worst_values: Mapping[str, float] | None, source: str) -> int:
    """Give each failed run's missing responses their worst value (the source's, else the
    worst of the group's runs that did not fail), in place."""
    fixed = dict(worst_values or {})
    keys = (frame[roles.groups].astype(str).agg("\x1f".join, axis=1) if roles.groups
            else pd.Series("", index=frame.index))
    healthy = keep & ~failed
    for col in roles.responses:
        x = values[col] = np.array(values[col], dtype=float)  # a copy: written below
        replace = failed & ~np.isfinite(x)
        if not replace.any():
            continue
        if col in fixed and np.isfinite(fixed[col]):
            x[replace] = fixed[col]
            continue
        up = need.maximized(col, "the 'worst' crashed policy")
        for key in pd.unique(keys[replace]):
            in_group = (keys == key).to_numpy()
            pool = x[in_group & healthy & np.isfinite(x)]
            if pool.size == 0:
                raise InputError(f"every run of group {key!r} failed: no worst value to use",
                                 file=source, column=col)
            x[in_group & replace] = pool.min() if up else pool.max()
    return int(failed.sum())


def _directions(responses: Sequence[str], maximize: Sequence[str], minimize: Sequence[str],
                recorded: Mapping[str, str] | None, source: str
                ) -> tuple[dict[str, str], dict[str, str]]:
    """Each response's direction and where it came from: declared, recorded, or named."""
    both = sorted(set(maximize) & set(minimize))
    if both:
        raise InputError("declared both maximised and minimised", file=source, column=both[0])
    declared = {**dict.fromkeys(minimize, MINIMIZE), **dict.fromkeys(maximize, MAXIMIZE)}
    for col in declared:
        if col not in responses:
            raise InputError("a direction is declared for a column that is not a response",
                             file=source, column=col,
                             hint=f"responses: {', '.join(responses)}")
    chosen: dict[str, str] = {}
    origins: dict[str, str] = {}
    for col in responses:
        if col in declared:
            chosen[col], origins[col] = declared[col], "declared"
        elif recorded and col in recorded:
            chosen[col], origins[col] = recorded[col], "recorded by the source"
        elif (guess := direction_from_name(col)) is not None:
            chosen[col], origins[col] = guess, "inferred from the name"
    return chosen, origins


class _DirectionNeed:
    """Looks up a column's direction where a step needs it, or asks for a declaration.

    Responses have the directions resolved for them; another column (one that only a
    divergence threshold names) is read from its name.
    """

    def __init__(self, directions: Mapping[str, str], responses: Sequence[str],
                 source: str) -> None:
        self.directions = dict(directions)
        self.responses = set(responses)
        self.source = source

    def maximized(self, column: str, needed_for: str) -> bool:
        if column not in self.directions and column not in self.responses:
            guess = direction_from_name(column)
            if guess is not None:
                return guess == MAXIMIZE
        if column not in self.directions:
            raise InputError(f"{needed_for} needs to know whether larger or smaller values "
                             "are better, and the name does not say", file=self.source,
                             column=column,
                             hint=declare_direction(column), parameters=DIRECTION_SETTINGS)
        return self.directions[column] == MAXIMIZE


def _check_thresholds(thresholds: Mapping[str, float] | None, frame: pd.DataFrame,
                      roles: _Roles, source: str) -> dict[str, float]:
    """Thresholds may name any metric column: a run that crosses one diverged, whatever is
    analysed (so choosing one response keeps the same runs); never a hyperparameter."""
    out = dict(thresholds or {})
    for col in out:
        if col not in frame.columns:
            raise InputError("a divergence threshold names a column that is not in the "
                             "table", file=source, column=col)
        if col in roles.hyperparameters or col in roles.groups:
            raise InputError("a divergence threshold names a hyperparameter or group key, "
                             "not a metric", file=source, column=col)
    return out


def _diverged(values: dict[str, np.ndarray], limited: dict[str, np.ndarray],
              thresholds: Mapping[str, float], need: _DirectionNeed, keep: np.ndarray,
              diverged_status: np.ndarray
              ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Per response, which values count as diverged; per row, the first reason why and
    the column it was found in.

    ``limited`` holds the values of every column a threshold names.
    """
    bad = {col: ~np.isfinite(x) for col, x in values.items()}
    reasons = np.full(len(keep), "", dtype=object)
    where = np.full(len(keep), None, dtype=object)
    for col in values:
        first = keep & bad[col] & (reasons == "")
        reasons[first] = "diverged (non-finite metric)"
        where[first] = col
    for col, limit in thresholds.items():
        x = limited[col]
        up = need.maximized(col, "a divergence threshold")
        with np.errstate(invalid="ignore"):
            worse = (x < limit) if up else (x > limit)
        worse &= np.isfinite(x)
        side = "below" if up else "above"
        first = keep & worse & (reasons == "")
        reasons[first] = f"diverged ({col} {side} {limit:g})"
        where[first] = col
        if col in bad:
            bad[col] = bad[col] | worse
    reasons[keep & diverged_status & (reasons == "")] = "diverged (status)"
    return bad, reasons, where


def _apply_diverged_policy(frame: pd.DataFrame, values: dict[str, np.ndarray],
                           bad: dict[str, np.ndarray], why: tuple[np.ndarray, np.ndarray],
                           keep: np.ndarray,
                           policy: str, roles: _Roles, need: _DirectionNeed,
                           log: _ExclusionLog, source: str
                           ) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Drop the diverged runs, raise on them, or give them the group's worst value."""
    reasons, where = why
    diverged = keep & (reasons != "")
    notes: list[str] = []
    if diverged.any() and policy == "error":
        pos = int(np.flatnonzero(diverged)[0])
        bad_col = where[pos] if where[pos] is not None else roles.status
        raise InputError(f"{reasons[pos]}", file=source, row=int(frame.index[pos]),
                         column=bad_col, parameters=("on_diverged",),
                         hint="use {on_diverged:'drop'} or {on_diverged:'worst'} to keep going")
    if diverged.any() and policy == "drop":
        log.add(diverged, reasons[diverged])
        keep = keep & ~diverged
    worst = policy == "worst" and diverged.any()
    frame = frame.copy() if worst else frame
    for col in roles.responses:
        if frame[col].dtype != np.float64:  # already float: no copy of the column
            frame[col] = values[col]
    if worst:
        n = _replace_with_worst(frame, roles.responses, roles.groups, bad, diverged, keep,
                                need=need, source=source)
        notes.append(f"{n} diverged run(s) kept with the worst value of the group's "
                     "other runs")
    return frame, keep, notes


def _replace_with_worst(frame: pd.DataFrame, responses: Sequence[str], groups: Sequence[str],
                        bad: dict[str, np.ndarray], diverged: np.ndarray, keep: np.ndarray, *,
                        need: _DirectionNeed, source: str) -> int:
    """Replace each diverged value by the worst value of the group's runs that did not."""
    keys = (frame[list(groups)].astype(str).agg("\x1f".join, axis=1) if groups
            else pd.Series("", index=frame.index))
    healthy = keep & ~diverged
    for col in responses:
        replace = bad[col] & keep
        if not replace.any():
            continue
        up = need.maximized(col, "the 'worst' diverged policy")
        x = frame[col].to_numpy(dtype=float).copy()
        for key in pd.unique(keys[replace]):
            in_group = (keys == key).to_numpy()
            pool = x[in_group & healthy]
            if pool.size == 0:
                raise InputError(f"every run of group {key!r} diverged: no worst value to use",
                                 file=source, column=col)
            worst = pool.min() if up else pool.max()
            x[in_group & replace] = worst
        frame[col] = x
    return int(diverged.sum())


def _check_ids(kept: pd.DataFrame, roles: _Roles, source: str) -> str | None:
    """Each trial id appears once per group; returns the id column.

    Ids are counted within the group keys, the task and variant columns where present (a
    study numbers its trials per task and variant, whatever the analysis groups by), and
    the levels of a text-valued hyperparameter (a design column declared a
    hyperparameter, the variant as a factor, takes the place of a group key).
    """
    if roles.id_column is None:
        return None
    levels = [c for c in roles.hyperparameters if c in kept.columns
              and not pd.api.types.is_numeric_dtype(kept[c])]
    keys = list(dict.fromkeys([*roles.groups, *(k for k in DEFAULT_GROUP_KEYS
                                                 if k in kept.columns), *levels]))
    keys = [k for k in keys if k != roles.id_column]
    dup = kept.duplicated(subset=[*keys, roles.id_column], keep="first").to_numpy()
    if not dup.any():
        return roles.id_column
    pos = int(np.flatnonzero(dup)[0])
    dup_id = kept[roles.id_column].tolist()[pos]  # a Python value: no np.int64(...)
    raise InputError(f"duplicated trial id {dup_id!r}", file=source,
                     row=int(kept.index[pos]), column=roles.id_column,
                     hint="each trial must appear once per group")
