"""What the comparison and the figures use, when the user has not said: chosen aloud.

The report and the ``compare`` command need more than the column roles of a trial
table: which column holds the task and the model variant, the reference variant, the
compared metric, the column that picks the top runs, the training-time response of
Fig. 4 and the parameter count of Fig. 3. :func:`choose` takes each from the command's
options, else from the column spec (``TrialTable.roles``), else by a default rule; every
default it applies is written down in :attr:`Choices.chosen`, and every doubtful choice
in :attr:`Choices.warnings`, so the console and the report can say what was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .numeric import mostly_numeric
from .ordering import order_variants
from .roles import name_words
from .trials import TrialTable

#: Names of a parameter-count column, in order of preference.
PARAMS_COLUMNS = ("n_params", "num_params", "n_parameters", "num_parameters", "param_count",
                  "parameters", "params")
#: Words of a training-time response.
TIME_WORDS = frozenset({"time", "runtime", "walltime", "duration", "seconds", "secs"})
#: Words of a validation (selection) column.
VALIDATION_WORDS = frozenset({"valid", "validation", "val", "dev", "development"})
_TEST_WORDS = ("test", "eval", "evaluation", "holdout")


@dataclass(frozen=True)
class Choices:
    """The roles of the comparison and the figures.

    Attributes
    ----------
    task_key, variant_key
        The task and variant columns (``None``: there is none).
    reference
        The variant the others are compared with (``None`` without a variant column).
    metric
        The compared metric and the response of the figures.
    select_by
        The column whose best values pick the top runs.
    time
        The training-time response drawn on Fig. 4's right axis (``None``: none).
    params
        The parameter-count column of Fig. 3's bars (``None``: none).
    extra_keys
        Group keys that are neither the task nor the variant (each figure fixes them).
    chosen
        Every default applied, as a sentence (``metric: val_loss, the first response``).
    warnings
        Doubtful choices (e.g. the top runs picked by the compared column itself).
    """

    task_key: str | None
    variant_key: str | None
    reference: Any
    metric: str
    select_by: str
    time: str | None
    params: str | None
    extra_keys: tuple[str, ...] = ()
    chosen: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def task_keys(self) -> list[str]:
        """The columns that make a task for the comparison: the task and the extra keys."""
        return [k for k in (self.task_key, *self.extra_keys) if k is not None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"task": self.task_key, "variant": self.variant_key,
                "reference": self.reference, "metric": self.metric,
                "select_by": self.select_by, "time": self.time, "params": self.params,
                "other_group_keys": list(self.extra_keys), "defaults": list(self.chosen),
                "warnings": list(self.warnings)}


def choose(table: TrialTable, *, responses: Sequence[str] | None = None,
           group_by: Sequence[str] | None = None, task_key: str | None = None,
           variant_key: str | None = None, reference: Any = None, metric: str | None = None,
           select_by: str | None = None, time: str | None = None,
           params: str | None = None, with_time: bool = True) -> Choices:
    """Decide the roles of the comparison and the figures (see the module docstring).

    Parameters
    ----------
    table
        The trials.
    responses
        The responses that will be analysed (default: the table's).
    group_by
        The group keys of the analysis (default: the table's).
    task_key, variant_key, reference, metric, select_by, time, params
        What the user asked for (``None``: the column spec's, else the default).
    with_time
        Choose a training-time response (the report's Fig. 4 needs one; ``compare``
        does not).

    Raises
    ------
    InputError
        A named column that is missing, or a reference that is not a variant.
    """
    roles = table.roles
    chosen: list[str] = []
    warnings: list[str] = []
    columns = set(table.frame.columns)
    responses = list(responses or table.responses)
    keys = list(table.group_keys if group_by is None else group_by)

    def given(value: Any, key: str) -> Any:
        return value if value is not None else roles.get(key)

    def require(column: str | None, what: str, setting: str) -> None:
        if column is not None and column not in columns:
            raise InputError(f"the {what} ({{{setting}}}) column is missing",
                             file=table.source, column=column, parameters=(setting,),
                             hint=f"columns present: {', '.join(map(str, table.frame.columns))}")

    task = given(task_key, "task")
    require(task, "task", "task_key")
    if task is None and "task" in columns:
        task = "task"
    variant = given(variant_key, "variant")
    require(variant, "variant", "variant_key")
    if variant is None and "variant" in columns:
        variant = "variant"
    if variant is None:
        warnings.append("no variant column: the variant comparison (Fig. 3) is skipped and "
                        "Figs. 4–6 show each group; name the model-variant column with "
                        "--variant-key COLUMN (or 'variant:' in the column spec)")

    metric = given(metric, "metric")
    if metric is None:
        tested = [r for r in responses if set(name_words(r)) & set(_TEST_WORDS)]
        if "test_error" in responses:
            metric, why = "test_error", "the default"
        elif tested:
            metric, why = tested[0], "the first test metric"
        else:
            metric, why = responses[0], "the first response"
        chosen.append(f"metric: {metric} ({why}; choose with --metric)")
    require(metric, "metric", "metric")
    select = given(select_by, "select_by")
    if select is None:
        select = _validation_for(metric, table)
        if select != metric:
            chosen.append(f"top runs picked by: {select} (choose with --select-by)")
    require(select, "selection", "select_by")
    if select == metric and variant is not None:
        warnings.append(f"the top runs are picked by the compared column itself ({metric}): "
                        "their mean is biased in its favour; give a validation column with "
                        "--select-by")

    time_response = given(time, "time") if with_time else None
    require(time_response, "time", "time_response")
    if time_response is None and with_time:
        time_response = _time_response(responses, metric)
        if time_response is not None:
            chosen.append(f"training time (Fig. 4, right axis): {time_response} "
                          "(choose with --time)")
        else:
            warnings.append("no training-time response: Fig. 4 draws no time curve (name one "
                            "with --time)")
    params_column = given(params, "params")
    require(params_column, "parameter count", "params_column")
    if params_column is None:
        params_column = next((c for c in PARAMS_COLUMNS if c in columns
                              and mostly_numeric(table.frame[c])), None)
        if params_column is not None and params_column != "n_params":
            chosen.append(f"parameter counts (Fig. 3 bars): {params_column} "
                          "(choose with --params-column)")
        elif params_column is None and variant is not None:
            warnings.append("no parameter-count column: Fig. 3 draws no parameter bars (name "
                            "one with --params-column)")

    ref = given(reference, "reference")
    if variant is not None:
        present = list(dict.fromkeys(table.frame[variant].tolist()))
        if ref is None:
            ref = "V" if "V" in present else order_variants(present)[0]
            if ref != "V":
                chosen.append(f"reference variant: {ref} (the first; choose with --reference)")
        elif ref not in present:
            matches = [v for v in present if str(v) == str(ref)]
            if not matches:
                raise InputError(f"reference variant {ref!r} not found", file=table.source,
                                 column=variant,
                                 hint="variants present: " + ", ".join(map(str, present))
                                 + "; choose one with {reference}",
                                 parameters=("reference",))
            ref = matches[0]
    extra = tuple(k for k in keys if k not in (task, variant))
    return Choices(task_key=task, variant_key=variant, reference=ref, metric=metric,
                   select_by=select, time=time_response, params=params_column,
                   extra_keys=extra, chosen=chosen, warnings=warnings)


def table_of(data: Any) -> Any:
    """``data`` as :func:`choose` reads it: a :class:`~odyssey_analysis.trials.TrialTable`
    as it is; a plain DataFrame by the naming rules alone (its responses: the columns that
    look like metrics; its group keys: those of the default ones it has)."""
    from types import SimpleNamespace

    from .roles import DEFAULT_GROUP_KEYS, looks_like_response

    if isinstance(data, TrialTable):
        return data
    return SimpleNamespace(
        frame=data, roles={}, source=None,
        responses=[c for c in data.columns if looks_like_response(c, data[c])],
        group_keys=[k for k in DEFAULT_GROUP_KEYS if k in data.columns])


def study_roles(study: Any, *, response: str | None = None, variant: Any = None,
                task_key: str | None = None, variant_key: str | None = None
                ) -> tuple[str, Any, str | None, str | None]:
    """``(response, variant, task_key, variant_key)`` of a figure of ``study``: each given
    one as it is, each left at ``None`` chosen as :func:`choose` chooses it for a table
    with the study's group keys and responses (the metric: ``test_error``, else the first
    test metric, else the first response; the variant: ``V``, else the first one).
    """
    from types import SimpleNamespace

    import pandas as pd

    keys = list(study.group_keys)
    if task_key is not None and task_key not in keys:
        task_key = None  # a key the study does not group by (a factor, say) is ignored
    if variant_key is not None and variant_key not in keys:
        variant_key, variant = None, None
    frame = pd.DataFrame(list(study.groups()), columns=keys)
    for r in study.responses:
        frame[r] = float("nan")
    table = SimpleNamespace(frame=frame, roles={}, source=None,
                            responses=list(study.responses), group_keys=keys)
    chosen = choose(table, responses=study.responses, group_by=keys,  # type: ignore[arg-type]
                    task_key=task_key, variant_key=variant_key,
                    reference=variant, metric=response, with_time=False)
    return chosen.metric, chosen.reference, chosen.task_key, chosen.variant_key


def _validation_for(metric: str, table: TrialTable) -> str:
    """The validation twin of ``metric`` (``test_acc`` → ``val_acc``), else ``metric``."""
    columns = [str(c) for c in table.frame.columns]
    if "valid_error" in columns and metric == "test_error":
        return "valid_error"
    words = name_words(metric)
    rest = [w for w in words if w not in _TEST_WORDS]
    candidates = []
    for col in columns:
        if col == metric:
            continue
        col_words = name_words(col)
        if set(col_words) & VALIDATION_WORDS and [w for w in col_words
                                                  if w not in VALIDATION_WORDS] == rest:
            candidates.append(col)
    if candidates:
        return candidates[0]
    validation = [c for c in [*table.responses, *columns] if c != metric
                  and set(name_words(c)) & VALIDATION_WORDS]
    return validation[0] if validation else metric


def _time_response(responses: Sequence[str], metric: str) -> str | None:
    for name in ("train_time", "training_time"):
        if name in responses and name != metric:
            return name
    return next((r for r in responses if r != metric and set(name_words(r)) & TIME_WORDS),
                None)
