"""Reading search spaces: our YAML/JSON spec, ConfigSpace objects and JSON files."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from ..errors import InputError
from ..settings_file import read_settings_file
from .model import Hyperparameter, SearchSpace
from .priors import configspace_prior, prior_from_spec


def space_from_dict(spec: Mapping[str, Any] | list, *, origin: str = "declared"
                    ) -> SearchSpace:
    """Read our own spec format (see :meth:`SearchSpace.from_dict`).

    Raises
    ------
    InputError
        For an entry that is not a valid hyperparameter, naming it.
    """
    body = spec.get("hyperparameters", spec) if isinstance(spec, Mapping) else spec
    if isinstance(body, Mapping):
        items = [(str(k), v) for k, v in body.items()]
    elif isinstance(body, list):
        items = []
        for entry in body:
            if not isinstance(entry, Mapping) or "name" not in entry:
                raise InputError("each hyperparameter entry needs a 'name'")
            items.append((str(entry["name"]), entry))
    else:
        raise InputError("a space spec must map hyperparameter names to their settings")
    hps = [_hp_from_entry(name, entry) for name, entry in items]
    if not hps:
        raise InputError("the space spec declares no hyperparameters")
    return SearchSpace(tuple(hps), origin=origin)


def space_from_configspace(cs: Any, *, origin: str = "ConfigSpace") -> SearchSpace:
    """Convert a ``ConfigSpace.ConfigurationSpace`` (see :meth:`SearchSpace.from_configspace`)."""
    import ConfigSpace as CS

    conditional = set()
    for cond in cs.conditions:
        child = getattr(cond, "child", None)
        if child is not None:
            conditional.add(child.name)
        for sub in getattr(cond, "components", []) or []:
            conditional.add(sub.child.name)
    hps = []
    for hp in cs.values():
        cond = hp.name in conditional
        default = getattr(hp, "default_value", None)
        prior_kind = ("normal" if isinstance(hp, (CS.NormalFloatHyperparameter,
                                                  CS.NormalIntegerHyperparameter))
                      else "beta" if isinstance(hp, (CS.BetaFloatHyperparameter,
                                                     CS.BetaIntegerHyperparameter))
                      else None)
        if prior_kind is not None:
            integer = isinstance(hp, (CS.NormalIntegerHyperparameter,
                                      CS.BetaIntegerHyperparameter))
            params = ({"mu": hp.mu, "sigma": hp.sigma} if prior_kind == "normal"
                      else {"alpha": hp.alpha, "beta": hp.beta})
            prior = configspace_prior(prior_kind, params, float(hp.lower), float(hp.upper),
                                      bool(hp.log), integer, hp.name)
            hps.append(Hyperparameter(hp.name, "int" if integer else "float",
                                      float(hp.lower), float(hp.upper),
                                      "log" if hp.log else "linear", conditional=cond,
                                      default=default, prior=prior))
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            hps.append(Hyperparameter(hp.name, "float", float(hp.lower), float(hp.upper),
                                      "log" if hp.log else "linear",
                                      conditional=cond, default=default))
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            hps.append(Hyperparameter(hp.name, "int", float(hp.lower), float(hp.upper),
                                      "log" if hp.log else "linear",
                                      conditional=cond, default=default))
        elif isinstance(hp, CS.CategoricalHyperparameter):
            w = tuple(float(x) for x in hp.weights) if hp.weights is not None else None
            hps.append(Hyperparameter(hp.name, "categorical", choices=tuple(hp.choices),
                                      weights=w, conditional=cond, default=default))
        elif isinstance(hp, CS.OrdinalHyperparameter):
            hps.append(Hyperparameter(hp.name, "ordinal", choices=tuple(hp.sequence),
                                      conditional=cond, default=default))
        elif isinstance(hp, CS.Constant):
            hps.append(Hyperparameter(hp.name, "constant", choices=(hp.value,),
                                      conditional=cond, default=hp.value))
        else:
            raise InputError(
                f"hyperparameter type {type(hp).__name__} is not supported "
                "(use uniform, normal or beta floats and integers, categorical, ordinal "
                "or constant)",
                column=hp.name)
    return SearchSpace(tuple(hps), origin=origin)


def space_from_file(path: str | Path) -> SearchSpace:
    """Read a ConfigSpace JSON file or our own YAML/JSON spec (detected by content)."""
    path = Path(path)
    spec, text = read_settings_file(path, "search space")
    if not isinstance(spec, (Mapping, list)):
        raise InputError("a search space file must hold a mapping", file=str(path))
    try:
        if _looks_like_configspace(spec):
            from ConfigSpace import ConfigurationSpace

            _check_entries(spec)
            # ConfigSpace computes with the bounds as it reads them: huge ones overflow
            # with NumPy warnings, which would print before our one-line error.
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                cs = ConfigurationSpace.from_json(io.StringIO(text))
                return space_from_configspace(cs, origin=f"ConfigSpace JSON {path.name}")
        return space_from_dict(spec, origin=f"declared in {path.name}")
    except InputError as err:
        raise err.located(file=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - ConfigSpace raises many kinds
        raise InputError(f"not a valid search space: {exc}".splitlines()[0],
                         file=str(path)) from None


def _check_entries(spec: Mapping[str, Any]) -> None:
    """Refuse what ConfigSpace would refuse (or misread) with a message that does not
    name the hyperparameter, before it reads the file: bounds whose range overflows
    floating point, invalid priors and weights."""
    for entry in spec.get("hyperparameters", []):
        _check_prior_entry(entry)
        lower, upper = entry.get("lower"), entry.get("upper")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in (lower, upper)):
            continue
        with np.errstate(all="ignore"):
            span = np.float64(upper) - np.float64(lower)
        if not np.isfinite(span):
            raise InputError(f"the range [{lower:g}, {upper:g}] is too wide to encode in "
                             "floating point", column=str(entry.get("name")),
                             hint="declare the bounds the values were sampled from")


def _check_prior_entry(entry: Mapping[str, Any]) -> None:
    name = str(entry.get("name"))
    kind = str(entry.get("type", ""))
    if kind.startswith("normal_"):
        sigma = entry.get("sigma")
        if sigma is None or not _number(sigma) or sigma <= 0:
            raise InputError(f"a normal prior needs sigma > 0, got {sigma!r}", column=name)
    if kind.startswith("beta_"):
        for key in ("alpha", "beta"):
            value = entry.get(key)
            if value is None or not _number(value) or value <= 0:
                raise InputError(f"a beta prior needs {key} > 0, got {value!r}",
                                 column=name)
            if value < 1:
                raise InputError(f"ConfigSpace needs a beta prior's {key} >= 1, got "
                                 f"{value!r}", column=name)
    weights = entry.get("weights")
    if weights is not None:
        _check_weights(weights, entry.get("choices", entry.get("sequence")), name)


def _check_weights(weights: Any, levels: Any, name: str) -> None:
    if not isinstance(weights, list) or not all(_number(w) for w in weights):
        raise InputError(f"'weights' must be a list of numbers, got {weights!r}", column=name)
    if isinstance(levels, list) and len(weights) != len(levels):
        raise InputError(f"{len(weights)} weights for {len(levels)} levels", column=name)
    if any(w <= 0 for w in weights):
        raise InputError(f"weights must be positive, got {weights!r}", column=name,
                         hint="drop a level that is never drawn")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def _looks_like_configspace(spec: Any) -> TypeGuard[Mapping[str, Any]]:
    if not isinstance(spec, Mapping):
        return False
    hps = spec.get("hyperparameters")
    return isinstance(hps, list) and all(isinstance(h, Mapping) and "type" in h and "name" in h
                                         for h in hps) and (
        "conditions" in spec or "format_version" in spec or "python_module_version" in spec
        or any(str(h.get("type", "")).startswith(("uniform_", "normal_", "beta_"))
               for h in hps))


_TYPE_ALIASES = {
    "float": "float", "real": "float", "uniform_float": "float", "continuous": "float",
    "int": "int", "integer": "int", "uniform_int": "int",
    "categorical": "categorical", "cat": "categorical", "choice": "categorical",
    "ordinal": "ordinal", "constant": "constant", "fixed": "constant",
}


def _hp_from_entry(name: str, entry: Any) -> Hyperparameter:
    if not isinstance(entry, Mapping):
        raise InputError("settings must be a mapping (type, lower, upper, ...)", column=name)
    raw_type = str(entry.get("type", "")).lower()
    if raw_type not in _TYPE_ALIASES:
        raise InputError(f"unknown type '{entry.get('type')}' "
                         "(use float, int, categorical, ordinal or constant)", column=name)
    kind = _TYPE_ALIASES[raw_type]
    scale = str(entry.get("scale", "log" if entry.get("log") else "linear")).lower()
    scale = {"log-uniform": "log", "loguniform": "log", "uniform": "linear",
             "1-log": "one_minus_log", "one-minus-log": "one_minus_log"}.get(scale, scale)
    conditional = bool(entry.get("conditional", False))
    if kind in ("float", "int"):
        try:
            lower, upper = float(entry["lower"]), float(entry["upper"])
        except (KeyError, TypeError, ValueError):
            raise InputError("needs numeric 'lower' and 'upper'", column=name) from None
        default = entry.get("default")
        if conditional and default is None:
            default = lower
        prior = entry.get("prior")
        return Hyperparameter(name, kind, lower, upper, scale, conditional=conditional,
                              default=default,
                              prior=None if prior is None else prior_from_spec(prior, name))
    if entry.get("prior") is not None:
        raise InputError("only float and integer hyperparameters take a prior (levels "
                         "take 'weights')", column=name)
    if kind == "constant":
        if "value" not in entry:
            raise InputError("a constant needs a 'value'", column=name)
        return Hyperparameter(name, "constant", choices=(entry["value"],),
                              default=entry["value"])
    levels = entry.get("choices", entry.get("sequence"))
    if not isinstance(levels, list) or not levels:
        raise InputError("needs a non-empty list of 'choices'", column=name)
    weights = entry.get("weights")
    if weights is not None:
        _check_weights(weights, levels, name)
    default = entry.get("default", levels[0] if conditional else None)
    return Hyperparameter(name, kind, choices=tuple(levels),
                          weights=None if weights is None else tuple(float(w) for w in weights),
                          conditional=conditional, default=default)



_TRUE_TEXT = ("true", "1", "yes")


def space_from_deepcave_csv(path: str | Path) -> SearchSpace:
    """Read the search space of a DeepCAVE DataFrame run (``configspace.csv``).

    One row per hyperparameter: ``name``, ``type`` (float, integer, categorical),
    ``log``, ``lower``, ``upper``, ``default``, ``distribution`` (uniform, normal with
    ``distribution_mu`` and ``distribution_sigma``, beta with ``distribution_alpha`` and
    ``distribution_beta``, as ConfigSpace defines them), the levels in ``item_0``,
    ``item_1``, ... and ``ordered`` (an ordinal categorical).

    Raises
    ------
    InputError
        Naming the row and column of an entry that cannot be read.
    """
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the search space: {exc}".splitlines()[0],
                         file=str(path)) from None
    missing = [c for c in ("name", "type") if c not in frame.columns]
    if missing:
        raise InputError(f"configspace.csv needs the columns name and type (missing: "
                         f"{', '.join(missing)})", file=str(path))
    items = sorted((c for c in frame.columns if c.startswith("item_")),
                   key=lambda c: int(c[5:]) if c[5:].isdigit() else 1 << 30)
    hps = []
    for row, entry in enumerate(frame.to_dict("records"), start=1):
        name = str(entry["name"]).strip()
        kind = str(entry["type"]).strip().lower()
        try:
            hps.append(_deepcave_csv_entry(name, kind, entry, items))
        except InputError as err:
            raise InputError(err.message, file=str(path), row=row, column=err.column or name,
                             hint=err.hint) from None
    if not hps:
        raise InputError("the search space declares no hyperparameters", file=str(path))
    return SearchSpace(tuple(hps), origin=f"DeepCAVE {path.name}")


def _deepcave_csv_entry(name: str, kind: str, entry: Mapping[str, Any],
                        items: list[str]) -> Hyperparameter:
    distribution = str(entry.get("distribution", "") or "uniform").strip().lower()
    if kind in ("float", "integer", "int"):
        if distribution not in ("", "uniform", "normal", "beta"):
            raise InputError(f"unknown distribution '{distribution}' (uniform, normal or "
                             "beta)", column=name,
                             hint="declare the space as the trials were sampled, with {space}",
                             parameters=("space",))
        try:
            lower, upper = float(entry["lower"]), float(entry["upper"])
        except (KeyError, TypeError, ValueError):
            raise InputError("needs numeric lower and upper bounds", column=name) from None
        log = str(entry.get("log", "")).strip().lower() in _TRUE_TEXT
        prior = None
        if distribution in ("normal", "beta"):
            keys = ("mu", "sigma") if distribution == "normal" else ("alpha", "beta")
            params = {}
            for key in keys:
                column = f"distribution_{key}"
                try:
                    params[key] = float(entry[column])
                except (KeyError, TypeError, ValueError):
                    raise InputError(f"a {distribution} distribution needs a number in "
                                     f"{column}", column=name) from None
            prior = configspace_prior(distribution, params, lower, upper, log,
                                      kind != "float", name)
        return Hyperparameter(name, "float" if kind == "float" else "int", lower, upper,
                              "log" if log else "linear", prior=prior)
    if kind in ("categorical", "ordinal"):
        levels = [_level(entry[c]) for c in items if str(entry.get(c, "")).strip() != ""]
        if not levels:
            raise InputError("a categorical hyperparameter needs its levels in item_0, "
                             "item_1, ...", column=name)
        ordered = kind == "ordinal" or str(entry.get("ordered", "")).strip().lower() \
            in _TRUE_TEXT
        return Hyperparameter(name, "ordinal" if ordered else "categorical",
                              choices=tuple(levels))
    if kind == "constant":
        value = _level(entry.get("default", entry.get("item_0", "")))
        return Hyperparameter(name, "constant", choices=(value,), default=value)
    raise InputError(f"unknown type '{kind}' (float, integer, categorical)", column=name)


def _level(text: Any) -> Any:
    """A level as written in a CSV cell: a number when it reads as one, else the text."""
    text = str(text).strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text
