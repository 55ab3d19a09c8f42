"""Column roles from a small spec file (YAML or JSON).

Example ``columns.yaml``::

    group_by: [task, variant]
    hyperparameters: [learning_rate, hidden_size, momentum, input_noise]
    responses: [test_error, valid_error, train_time]
    status: status
    id: trial
    maximize: []                     # responses where larger is better
    minimize: []                     # ... and smaller (most names tell by themselves)
    on_diverged: drop
    on_crashed: drop                 # or worst: failed runs count at their worst value
    diverged_threshold: {test_error: 37.4}   # runs worse than this count as diverged
    space: odyssey_mini.space.yaml   # a path (relative to this file) or an inline mapping
    # what the comparison and the figures use (see ``odyssey report --help``):
    task: task                       # the task column
    variant: variant                 # the model-variant column
    reference: V                     # the variant the others are compared with
    metric: test_error               # the compared metric
    select_by: valid_error           # the column that picks the top runs
    time: train_time                 # the training-time response of Fig. 4
    params: n_params                 # the parameter-count column of Fig. 3

Every key is optional; options given on the command line take precedence. A spec named
``<table>.columns.yaml`` next to a table is used automatically.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InputError
from .settings_file import read_settings_file
from .space import SearchSpace

_LIST_KEYS = ("group_by", "hyperparameters", "responses", "maximize", "minimize")
_SCALAR_KEYS = ("status", "id", "on_diverged", "on_crashed", "format")
#: Keys naming what the comparison and the figures use (kept on the table as ``roles``).
ROLE_KEYS = ("task", "variant", "reference", "metric", "select_by", "time", "params")


def _says_none(value: Any) -> bool:
    """``id: null``, ``id: ''``, ``id: none`` or ``id: false``: the table has no id."""
    return value is None or value is False or (
        isinstance(value, str) and value.strip().lower() in ("", "none", "null", "false"))


def read_column_spec(path: str | Path) -> dict[str, Any]:
    """Read a column-role spec into keyword arguments of :func:`load_trials`.

    Returns
    -------
    dict
        Keys among ``group_by``, ``hyperparameters``, ``responses``, ``maximize``,
        ``minimize``, ``roles`` (the comparison's task, variant, reference, ...),
        ``status``, ``id_column``, ``on_diverged``, ``format``, ``space``.
    """
    path = Path(path)
    spec, _ = read_settings_file(path, "column spec")
    if not isinstance(spec, Mapping):
        raise InputError("a column spec must be a mapping (group_by, responses, ...)",
                         file=str(path))
    try:
        return spec_from_mapping(spec, base=path.parent, name=path.name)
    except InputError as err:
        raise err.located(file=str(path)) from None


def spec_from_mapping(spec: Mapping[str, Any], *, base: Path,
                      name: str = "the column spec") -> dict[str, Any]:
    """Check a column-role mapping and turn it into :func:`load_trials` arguments.

    Parameters
    ----------
    spec
        The mapping (keys as in the module docstring).
    base
        Folder that a ``space`` file name is relative to.
    name
        How to call the spec in the space's origin.
    """
    known = (*_LIST_KEYS, *_SCALAR_KEYS, *ROLE_KEYS, "diverged_threshold", "space")
    unknown = set(spec) - set(known)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} in the "
                         "column spec", hint=f"use {', '.join(known)}")
    out: dict[str, Any] = {}
    for key in _LIST_KEYS:
        if key in spec:
            value = spec[key]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(f"'{key}' must be a list of column names")
            out[key] = value
    for key in _SCALAR_KEYS:
        if key == "id" and key in spec and _says_none(spec[key]):
            out["id_column"] = ""  # no trial id column: none is looked for
        elif key in spec and spec[key] is not None:
            out["id_column" if key == "id" else key] = str(spec[key])
    roles = {key: spec[key] for key in ROLE_KEYS if spec.get(key) is not None}
    for key, value in roles.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise InputError(f"'{key}' must be a column name (or, for reference, a value)")
    if roles:
        out["roles"] = {k: (v if k == "reference" else str(v)) for k, v in roles.items()}
    if "diverged_threshold" in spec:
        limits = spec["diverged_threshold"]
        if not isinstance(limits, Mapping):
            raise InputError("'diverged_threshold' must map response names to numbers")
        try:
            out["diverged_threshold"] = {str(k): float(v) for k, v in limits.items()}
        except (TypeError, ValueError):
            raise InputError("'diverged_threshold' must map response names to numbers"
                             ) from None
    if "space" in spec:
        space = spec["space"]
        if isinstance(space, str):
            out["space"] = SearchSpace.from_file(base / space)
        elif isinstance(space, Mapping):
            out["space"] = SearchSpace.from_dict(space, origin=f"declared in {name}")
        else:
            raise InputError("'space' must be a file name or a mapping")
    return out
