"""The trial table: one row per training run, with the role of every column.

:class:`TrialTable` is what every loader produces and every analysis consumes: a
validated :class:`pandas.DataFrame` whose index is the 1-based row number in the source
(so messages can name the row), plus which columns are group keys, hyperparameters,
responses and status. Rows that are not analysed are never dropped silently: each one
is recorded in :attr:`TrialTable.exclusions` with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError
from .space import SearchSpace

DIVERGED_POLICIES = ("drop", "worst", "error")

#: Status values that mean "the run finished and its metrics count".
FINISHED_STATUSES = frozenset({
    "ok", "complete", "completed", "finished", "success", "succeeded", "done", "sat",
    "trialstate.complete", "terminated",
})
#: Status values that mean "the run diverged" (handled by the diverged policy).
DIVERGED_STATUSES = frozenset({"diverged", "nan", "inf"})

#: Columns kept when a loader reads only the columns that play a role: the variant
#: comparison and its figure use them where they exist.
AUXILIARY_COLUMNS = ("n_params", "num_params", "metric", "seed", "epochs", "diverged")
#: Column names treated as group keys when none are given (the paper's).
DEFAULT_GROUP_KEYS = ("task", "variant")
#: Columns that are never hyperparameters or responses unless asked for explicitly.
BOOKKEEPING = frozenset({
    "trial", "trial_id", "trial_index", "id", "run", "run_id", "run_name", "index", "number",
    "seed", "epochs", "epoch", "n_params", "num_params", "params", "diverged", "metric",
    "status", "state", "start", "end", "started", "finished", "datetime_start",
    "datetime_complete", "duration", "timestamp", "budget", "iteration", "iterations",
    "step", "steps", "name", "notes", "origin", "date", "time_stamp",
})
_RESPONSE_PATTERN = re.compile(
    r"(error|loss|acc|accuracy|score|metric|nll|perplexity|cost|objective|value|"
    r"train_time|training_time|runtime|wall_time|f1|auc|rmse|mse|mae)", re.IGNORECASE)
_ID_COLUMNS = ("trial_id", "run_id", "id", "trial", "number")


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
        One row per excluded trial: ``row`` (source row number) and ``reason``.
    diverged_policy
        How non-finite responses were handled (``drop``, ``worst`` or ``error``).
    maximize
        Responses where larger is better (given by the user or recorded by the source).
    diverged_threshold
        Values beyond which a response counts as diverged.
    notes
        Things the user should know (e.g. values replaced by the worst policy).
    """

    frame: pd.DataFrame
    hyperparameters: list[str]
    responses: list[str]
    group_keys: list[str] = field(default_factory=list)
    status: str | None = None
    source: str = "<table>"
    space: SearchSpace | None = None
    exclusions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"row": pd.Series(dtype="int64"),
                                              "reason": pd.Series(dtype="object")}))
    diverged_policy: str = "drop"
    notes: list[str] = field(default_factory=list)
    maximize: list[str] = field(default_factory=list)
    diverged_threshold: dict[str, float] = field(default_factory=dict)

    # -- summaries ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

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

    def resolve_space(self, space: SearchSpace | None = None) -> SearchSpace:
        """The space to analyse with: given, recorded by the source, or inferred.

        The space is restricted to :attr:`hyperparameters` and every value is checked
        against it.
        """
        chosen = space or self.space
        if chosen is None:
            chosen = SearchSpace.infer(self.frame, self.hyperparameters, source=self.source)
        missing = [n for n in self.hyperparameters if n not in chosen]
        if missing:
            raise InputError(
                f"hyperparameter(s) {', '.join(missing)} are not in the search space "
                f"({chosen.origin})", file=self.source,
                hint="declare them in the space file or choose hyperparameters with --param")
        chosen = chosen.subset(self.hyperparameters)
        chosen.validate(self.frame, source=self.source)
        return chosen

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
        diverged_threshold: Mapping[str, float] | None = None,
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
        maximize
            Responses for which larger is better (affects ``worst`` and
            ``diverged_threshold``).
        diverged_threshold
            ``{response: value}``: a run whose response is worse than ``value`` (above it,
            or below it for a maximised response) counts as diverged too, e.g. a loss that
            exploded without becoming NaN. The diverged policy then applies.

        Raises
        ------
        InputError
            For any problem, naming the file, row and column.
        """
        if on_diverged not in DIVERGED_POLICIES:
            raise InputError(f"unknown diverged policy '{on_diverged}' "
                             f"(use {', '.join(DIVERGED_POLICIES)})")
        if frame.shape[1] == 0:
            raise InputError("the table has no columns", file=source)
        if len(frame) == 0:
            raise InputError("the table has a header but no rows", file=source)
        frame = _with_row_numbers(frame)
        frame.columns = [str(c) for c in frame.columns]
        dup_cols = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        if dup_cols:
            raise InputError("column appears more than once", file=source,
                             column=dup_cols[0])
        columns = list(frame.columns)

        def require(cols: Sequence[str], role: str) -> None:
            for c in cols:
                if c not in columns:
                    raise InputError(f"{role} column is missing", file=source, column=c,
                                     hint=f"columns present: {', '.join(columns)}")

        groups = ([c for c in DEFAULT_GROUP_KEYS if c in columns]
                  if group_by is None else list(group_by))
        require(groups, "group key")
        if status is None:
            status = next((c for c in ("status", "state") if c in columns), None)
        elif status not in columns:
            require([status], "status")
        if id_column is None:
            id_column = next((c for c in _ID_COLUMNS if c in columns), None)
        else:
            require([id_column], "trial id")

        if hyperparameters is None and space is not None:
            hyperparameters = [n for n in space.names]
        if responses is None:
            taken = set(groups) | {status} | set(hyperparameters or ())
            responses = [c for c in columns if c not in taken and c not in BOOKKEEPING
                         and _RESPONSE_PATTERN.search(c)
                         and _mostly_numeric(frame[c])]
            if not responses:
                raise InputError("no response (metric) column found", file=source,
                                 hint="name it with --response COLUMN")
        responses = list(responses)
        require(responses, "response")
        if hyperparameters is None:
            taken = set(groups) | {status, id_column} | set(responses)
            hyperparameters = [c for c in columns if c not in taken and c not in BOOKKEEPING]
            if not hyperparameters:
                raise InputError("no hyperparameter columns found", file=source,
                                 hint="name them with --param COLUMN or give --space FILE")
        hyperparameters = list(hyperparameters)
        require(hyperparameters, "hyperparameter")
        overlap = set(hyperparameters) & set(responses)
        if overlap:
            raise InputError("column is both a hyperparameter and a response", file=source,
                             column=sorted(overlap)[0])

        excluded = [] if exclusions is None else [exclusions[["row", "reason"]]]
        n_from_reader = len(excluded)
        keep = np.ones(len(frame), dtype=bool)
        diverged_status = np.zeros(len(frame), dtype=bool)
        if status is not None:
            st = frame[status].astype(str).str.strip().str.lower()
            finished = st.isin(FINISHED_STATUSES).to_numpy()
            diverged_status = st.isin(DIVERGED_STATUSES).to_numpy()
            other = ~(finished | diverged_status)
            if other.any():
                excluded.append(pd.DataFrame({
                    "row": frame.index[other],
                    "reason": ("status " + frame.loc[other, status].astype(str)).to_numpy()}))
            keep &= ~other

        values = {}
        for col in responses:
            values[col] = _numeric_response(frame[col], source, col, keep)
        thresholds = dict(diverged_threshold or {})
        for col in thresholds:
            if col not in responses:
                raise InputError("a divergence threshold names a column that is not a "
                                 "response", file=source, column=col)
        # Per response: which values count as diverged, and why.
        bad = {col: ~np.isfinite(values[col]) for col in responses}
        reasons = np.full(len(frame), "", dtype=object)
        for col in responses:
            reasons[keep & bad[col] & (reasons == "")] = "diverged (non-finite metric)"
        for col, limit in thresholds.items():
            x = values[col]
            with np.errstate(invalid="ignore"):
                worse = (x < limit) if col in set(maximize) else (x > limit)
            worse &= ~bad[col]
            side = "below" if col in set(maximize) else "above"
            reasons[keep & worse & (reasons == "")] = f"diverged ({col} {side} {limit:g})"
            bad[col] = bad[col] | worse
        reasons[keep & diverged_status & (reasons == "")] = "diverged (status)"
        diverged = keep & (reasons != "")
        notes: list[str] = []
        if diverged.any():
            if on_diverged == "error":
                pos = int(np.flatnonzero(diverged)[0])
                bad_col = next((c for c in responses if bad[c][pos]), status)
                raise InputError(f"{reasons[pos]}", file=source,
                                 row=int(frame.index[pos]), column=bad_col,
                                 hint="use --on-diverged drop or worst to keep going")
            if on_diverged == "drop":
                excluded.append(pd.DataFrame({"row": frame.index[diverged],
                                              "reason": reasons[diverged]}))
                keep &= ~diverged
        frame = frame.copy() if on_diverged == "worst" and diverged.any() else frame
        for col in responses:
            if frame[col].dtype != np.float64:  # already float: no copy of the column
                frame[col] = values[col]
        if on_diverged == "worst" and diverged.any():
            n = _replace_with_worst(frame, responses, groups, bad, diverged, keep,
                                    maximize=set(maximize), source=source)
            notes.append(f"{n} diverged run(s) kept with the worst value of the group's "
                         "other runs")

        kept = frame if keep.all() else frame.loc[keep]  # no copy when every row stays
        if kept.empty:
            raise InputError("no rows left to analyse after excluding "
                             + ", ".join(f"{v} {k}" for k, v in _count(excluded).items()),
                             file=source)
        if id_column is not None:
            dup = kept.duplicated(subset=[*groups, id_column], keep="first").to_numpy()
            if dup.any():
                pos = int(np.flatnonzero(dup)[0])
                dup_id = kept[id_column].tolist()[pos]  # a Python value: no np.int64(...)
                raise InputError(f"duplicated trial id {dup_id!r}",
                                 file=source, row=int(kept.index[pos]), column=id_column,
                                 hint="each trial must appear once per group")
        table = cls(
            frame=kept,
            hyperparameters=hyperparameters,
            responses=responses,
            group_keys=groups,
            status=status,
            source=source,
            space=space,
            exclusions=_exclusions_with_groups(excluded, n_from_reader, frame, groups),
            diverged_policy=on_diverged,
            notes=notes,
            maximize=[m for m in maximize if m in responses],
            diverged_threshold=thresholds,
        )
        if space is not None:
            table.resolve_space(space)
        return table


def _exclusions_with_groups(parts: list[pd.DataFrame], n_from_reader: int,
                            frame: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """All excluded rows; those excluded here also carry their group key values."""
    if not parts:
        return pd.DataFrame({"row": pd.Series(dtype="int64"),
                             "reason": pd.Series(dtype="object")})
    out = []
    for i, part in enumerate(parts):
        part = part.reset_index(drop=True)
        if groups and i >= n_from_reader:  # row numbers of this very frame
            keys = frame.loc[part["row"].to_numpy(), list(groups)].reset_index(drop=True)
            part = pd.concat([part, keys], axis=1)
        out.append(part)
    return pd.concat(out, ignore_index=True)


def _with_row_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
        frame = frame.copy(deep=False)
        frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def _mostly_numeric(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col):
        return False
    if pd.api.types.is_numeric_dtype(col):
        return True
    converted = pd.to_numeric(col.replace(_NONFINITE_TEXT), errors="coerce")
    return converted.notna().mean() >= 0.5


_NONFINITE_TEXT = {"nan": np.nan, "NaN": np.nan, "NAN": np.nan, "inf": np.inf, "Inf": np.inf,
                   "INF": np.inf, "-inf": -np.inf, "-Inf": -np.inf, "infinity": np.inf,
                   "Infinity": np.inf, "-Infinity": -np.inf, "": np.nan}


def _numeric_response(col: pd.Series, source: str, name: str, keep: np.ndarray) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        raise InputError("a response must be numeric, found true/false values", file=source,
                         column=name)
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float)
    text = col.where(col.isna(), col.astype(str).str.strip())
    converted = pd.to_numeric(text.replace(_NONFINITE_TEXT), errors="coerce")
    bad = (converted.isna() & text.notna() & ~text.isin(list(_NONFINITE_TEXT))).to_numpy()
    bad = bad & keep  # to_numpy() may give a read-only view (copy-on-write)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected a number, found {col.iloc[pos]!r}", file=source,
                         row=int(col.index[pos]), column=name)
    return converted.to_numpy(dtype=float)


def _replace_with_worst(frame: pd.DataFrame, responses: Sequence[str], groups: Sequence[str],
                        bad: dict[str, np.ndarray], diverged: np.ndarray, keep: np.ndarray, *,
                        maximize: set[str], source: str) -> int:
    """Replace each diverged value by the worst value of the group's runs that did not."""
    keys = (frame[list(groups)].astype(str).agg("\x1f".join, axis=1) if groups
            else pd.Series("", index=frame.index))
    healthy = keep & ~diverged
    for col in responses:
        replace = bad[col] & keep
        if not replace.any():
            continue
        x = frame[col].to_numpy(dtype=float).copy()
        for key in pd.unique(keys[replace]):
            in_group = (keys == key).to_numpy()
            pool = x[in_group & healthy]
            if pool.size == 0:
                raise InputError(f"every run of group {key!r} diverged: no worst value to use",
                                 file=source, column=col)
            worst = pool.min() if col in maximize else pool.max()
            x[in_group & replace] = worst
        frame[col] = x
    return int(diverged.sum())


def _count(excluded: list[pd.DataFrame]) -> dict[str, int]:
    if not excluded:
        return {}
    return pd.concat(excluded)["reason"].value_counts().to_dict()
