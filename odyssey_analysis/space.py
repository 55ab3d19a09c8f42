"""Search spaces and the encoding in which the variance decomposition integrates.

Each hyperparameter is mapped to a coordinate in [0, 1] by the cumulative distribution
function (CDF) of the distribution its values were sampled from. Under that encoding
the sampling distribution becomes the uniform measure on the unit cube, so the exact
integrals of the decomposition engine are integrals under the measure the trials were
actually drawn from:

* uniform float ``[a, b]``: ``(x - a) / (b - a)``;
* log-uniform float: the same in ``log x``;
* the paper's momentum, ``m = 1 - u`` with ``u`` log-uniform on ``[a, b]``:
  ``1 - (log(1 - m) - log a) / (log b - log a)``;
* integers: as floats on ``[lower - 0.5, upper + 0.5]`` (each integer owns the unit
  interval around it), in log coordinates when log-scaled;
* categorical and ordinal: one interval per level, of width proportional to its
  sampling weight (equal widths by default).

Integrating in raw units instead (what the reference ``fanova`` and Optuna do with raw
values) silently changes the measure and can give a hyperparameter with no effect
several percent of "importance".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

KINDS = ("float", "int", "categorical", "ordinal", "constant")
SCALES = ("linear", "log", "one_minus_log")

#: Ratio of largest to smallest value from which inference tries a log scale.
MIN_LOG_SPAN = 10.0
# Relative slack for values that sit on a bound but were rounded on the way to disk.
_BOUND_SLACK = 1e-9


@dataclass(frozen=True)
class Hyperparameter:
    """One dimension of a search space and its sampling distribution.

    Parameters
    ----------
    name
        Column name in the trial table.
    kind
        ``"float"``, ``"int"``, ``"categorical"``, ``"ordinal"`` or ``"constant"``.
    lower, upper
        Bounds in original units (numeric kinds). For ``one_minus_log`` they bound the
        hyperparameter itself, e.g. momentum in ``[0, 0.99]`` for ``1 - u``,
        ``u`` log-uniform on ``[0.01, 1]``.
    scale
        ``"linear"`` (uniform), ``"log"`` (log-uniform) or ``"one_minus_log"``
        (``1 - log-uniform``).
    choices
        Levels of a categorical or ordinal hyperparameter (in order for ordinal), or the
        single value of a constant.
    weights
        Sampling probabilities of the levels (categorical/ordinal); equal when ``None``.
    conditional
        Whether the hyperparameter is only active for some configurations; inactive
        trials (missing values) are imputed with ``default``.
    default
        Value used for inactive (missing) entries of a conditional hyperparameter.
    """

    name: str
    kind: str
    lower: float | None = None
    upper: float | None = None
    scale: str = "linear"
    choices: tuple[Any, ...] | None = None
    weights: tuple[float, ...] | None = None
    conditional: bool = False
    default: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"unknown kind '{self.kind}' (use one of {', '.join(KINDS)})",
                             column=self.name)
        if self.scale not in SCALES:
            raise InputError(f"unknown scale '{self.scale}' (use one of {', '.join(SCALES)})",
                             column=self.name)
        if self.kind in ("float", "int"):
            if self.lower is None or self.upper is None:
                raise InputError("a numeric hyperparameter needs lower and upper bounds",
                                 column=self.name)
            if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
                raise InputError("bounds must be finite", column=self.name)
            if self.upper <= self.lower:
                raise InputError(
                    f"upper bound {self.upper:g} is not above lower bound {self.lower:g}",
                    column=self.name)
            lo, hi = self._raw_interval()
            if self.scale == "log" and (self.lower <= 0 or lo <= 0):
                raise InputError(f"log scale needs a positive range, got lower={self.lower:g}",
                                 column=self.name)
            if self.scale == "one_minus_log" and (1 - hi <= 0):
                raise InputError("'one_minus_log' needs upper < 1 (values are 1 - u, u > 0)",
                                 column=self.name)
        elif self.kind in ("categorical", "ordinal"):
            if not self.choices:
                raise InputError("a categorical or ordinal hyperparameter needs levels",
                                 column=self.name)
            if len(set(self.choices)) != len(self.choices):
                raise InputError("levels must be distinct", column=self.name)
            if self.weights is not None:
                w = np.asarray(self.weights, dtype=float)
                if len(w) != len(self.choices) or np.any(w <= 0) or not np.all(np.isfinite(w)):
                    raise InputError("weights must be positive, one per level",
                                     column=self.name)
        elif self.kind == "constant" and (self.choices is None or len(self.choices) != 1):
            raise InputError("a constant needs exactly one value", column=self.name)

    # -- description -------------------------------------------------------------------
    @property
    def is_numeric(self) -> bool:
        """True for float and int hyperparameters."""
        return self.kind in ("float", "int")

    @property
    def is_constant(self) -> bool:
        """True when the hyperparameter cannot vary (constant kind or one level)."""
        if self.kind == "constant":
            return True
        if self.kind in ("categorical", "ordinal"):
            return len(self.choices or ()) == 1
        return False

    def describe_measure(self) -> str:
        """The sampling distribution, in words (used in every output)."""
        if self.kind == "constant":
            return f"constant {self.choices[0]!r}"
        if self.kind in ("categorical", "ordinal"):
            how = "weighted" if self.weights is not None else "uniform"
            return f"{how} over {len(self.choices)} {self.kind} levels"
        integer = "integer " if self.kind == "int" else ""
        if self.scale == "log":
            return f"log-uniform {integer}on [{self.lower:g}, {self.upper:g}]"
        if self.scale == "one_minus_log":
            return (f"1 - log-uniform {integer}on [{1 - self.upper:g}, {1 - self.lower:g}]"
                    f" (values in [{self.lower:g}, {self.upper:g}])")
        return f"uniform {integer}on [{self.lower:g}, {self.upper:g}]"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (the format read by :meth:`SearchSpace.from_dict`)."""
        out: dict[str, Any] = {"type": self.kind}
        if self.is_numeric:
            out.update(lower=self.lower, upper=self.upper, scale=self.scale)
        if self.choices is not None:
            key = "value" if self.kind == "constant" else "choices"
            out[key] = list(self.choices) if key == "choices" else self.choices[0]
        if self.weights is not None:
            out["weights"] = list(self.weights)
        if self.conditional:
            out["conditional"] = True
            out["default"] = self.default
        out["measure"] = self.describe_measure()
        return out

    # -- encoding ----------------------------------------------------------------------
    def _raw_interval(self) -> tuple[float, float]:
        lo, hi = float(self.lower), float(self.upper)
        if self.kind == "int" and self.scale != "one_minus_log":
            # Each integer owns the unit interval around it.
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi

    def _transform(self, x: np.ndarray) -> np.ndarray:
        if self.scale == "log":
            return np.log(x)
        if self.scale == "one_minus_log":
            return -np.log1p(-x)
        return x

    def _untransform(self, t: np.ndarray) -> np.ndarray:
        if self.scale == "log":
            return np.exp(t)
        if self.scale == "one_minus_log":
            return -np.expm1(-t)
        return t

    def _level_edges(self) -> np.ndarray:
        w = np.ones(len(self.choices)) if self.weights is None else np.asarray(self.weights)
        edges = np.concatenate([[0.0], np.cumsum(w / w.sum())])
        edges[-1] = 1.0
        return edges

    def level_index(self, values: Sequence[Any]) -> np.ndarray:
        """Index of each value among the levels (-1 where it is not a level)."""
        lookup: dict[Any, int] = {}
        for i, level in enumerate(self.choices or ()):
            lookup[level] = i
            lookup[str(level)] = i
        out = np.empty(len(values), dtype=np.int64)
        for j, v in enumerate(values):
            key = v
            if isinstance(v, float) and v.is_integer() and int(v) in lookup:
                key = int(v)
            out[j] = lookup.get(key, lookup.get(str(key), -1))
        return out

    def encode(self, values: Sequence[Any] | np.ndarray | pd.Series) -> np.ndarray:
        """Map values in original units to [0, 1] (the CDF of the sampling distribution).

        Values are assumed valid; :meth:`SearchSpace.validate` checks them first.
        """
        if self.kind == "constant" or self.is_constant:
            return np.full(len(values), 0.5)
        if self.kind in ("categorical", "ordinal"):
            idx = self.level_index(list(values))
            edges = self._level_edges()
            return 0.5 * (edges[idx] + edges[idx + 1])
        x = np.asarray(values, dtype=float)
        lo, hi = self._raw_interval()
        t_lo, t_hi = self._transform(np.array([lo, hi]))
        u = (self._transform(x) - t_lo) / (t_hi - t_lo)
        return np.clip(u, 0.0, 1.0)

    def decode(self, u: np.ndarray) -> np.ndarray:
        """Map encoded coordinates in [0, 1] back to original units.

        Numeric hyperparameters give floats (integers are not rounded, so curves stay
        smooth); categorical and ordinal ones give the level of each coordinate.
        """
        u = np.asarray(u, dtype=float)
        if self.kind in ("categorical", "ordinal", "constant"):
            if self.kind == "constant":
                return np.array([self.choices[0]] * u.size, dtype=object).reshape(u.shape)
            edges = self._level_edges()
            idx = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(self.choices) - 1)
            return np.asarray(self.choices, dtype=object)[idx]
        lo, hi = self._raw_interval()
        t_lo, t_hi = self._transform(np.array([lo, hi]))
        return self._untransform(t_lo + u * (t_hi - t_lo))

    def level_edges(self) -> np.ndarray:
        """Boundaries of the levels' intervals in [0, 1] (categorical and ordinal)."""
        if self.kind not in ("categorical", "ordinal"):
            raise TypeError(f"'{self.name}' has no levels")
        return self._level_edges()


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of hyperparameters with their sampling distributions.

    Build one from a ConfigSpace object or JSON file (:meth:`from_configspace`,
    :meth:`from_file`), from our own small YAML/JSON spec (:meth:`from_dict`,
    :meth:`from_file`), from :func:`odyssey_analysis.presets.odyssey_space`, or infer
    it from the data (:meth:`infer`).

    Parameters
    ----------
    hyperparameters
        The dimensions, in order.
    origin
        Where the space came from (``"declared: space.yaml"``, ``"inferred"``, ...).
    """

    hyperparameters: tuple[Hyperparameter, ...]
    origin: str = "declared"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [hp.name for hp in self.hyperparameters]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"hyperparameter declared twice: {', '.join(dup)}")

    # -- access ------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Hyperparameter names in order."""
        return [hp.name for hp in self.hyperparameters]

    def __len__(self) -> int:
        return len(self.hyperparameters)

    def __iter__(self):
        return iter(self.hyperparameters)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Hyperparameter:
        for hp in self.hyperparameters:
            if hp.name == name:
                return hp
        raise KeyError(name)

    def subset(self, names: Iterable[str]) -> SearchSpace:
        """The space restricted to ``names`` (in the given order)."""
        names = list(names)
        missing = [n for n in names if n not in self]
        if missing:
            raise InputError(f"not in the search space: {', '.join(missing)}")
        return SearchSpace(tuple(self[n] for n in names), origin=self.origin, notes=self.notes)

    def measures(self) -> dict[str, str]:
        """Each hyperparameter's sampling distribution, in words."""
        return {hp.name: hp.describe_measure() for hp in self.hyperparameters}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description that :meth:`from_dict` reads back."""
        return {
            "origin": self.origin,
            "encoding": "each coordinate is the CDF of its sampling distribution; "
                        "integrals are uniform on the unit cube",
            "hyperparameters": {hp.name: hp.to_dict() for hp in self.hyperparameters},
        }

    # -- validation and encoding ---------------------------------------------------------
    def validate(self, frame: pd.DataFrame, *, source: str | None = None) -> None:
        """Check every value of every hyperparameter column against the space.

        Raises
        ------
        InputError
            Naming the first offending row and column: a missing column, text in a
            numeric column, a missing value, a non-integer for an integer, a value out
            of bounds, a non-positive value on a log scale, or an unknown level.
        """
        for hp in self.hyperparameters:
            if hp.name not in frame.columns:
                raise InputError("hyperparameter column is missing", file=source,
                                 column=hp.name,
                                 hint=f"columns present: {', '.join(map(str, frame.columns))}")
            _validate_column(hp, frame[hp.name], source)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """The design matrix in [0, 1]^d (rows of ``frame``, columns in space order)."""
        cols = []
        for hp in self.hyperparameters:
            values = frame[hp.name]
            if hp.conditional:
                values = values.where(values.notna(), hp.default)
            cols.append(hp.encode(values.to_numpy()))
        if not cols:
            return np.empty((len(frame), 0))
        return np.column_stack(cols).astype(float)

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, origin: str = "declared") -> SearchSpace:
        """Read our own spec format.

        ``spec`` is ``{"hyperparameters": {name: {...}}}`` (or the inner mapping alone,
        or a list of entries that carry ``name``). Each entry has ``type`` (float, int,
        categorical, ordinal, constant) and, as fits the type, ``lower``, ``upper``,
        ``log: true`` or ``scale`` (linear, log, one_minus_log), ``choices`` (or
        ``sequence`` for ordinal), ``weights``, ``value`` (constant).
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
        return cls(tuple(hps), origin=origin)

    @classmethod
    def from_configspace(cls, cs: Any, *, origin: str = "ConfigSpace") -> SearchSpace:
        """Convert a ``ConfigSpace.ConfigurationSpace``.

        Uniform floats and integers (log or not), categoricals (with weights), ordinals
        and constants are supported; normal and beta distributions are rejected with a
        clear message. Children of conditions are marked conditional (inactive trials
        are imputed with the default value).
        """
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
            if isinstance(hp, CS.UniformFloatHyperparameter):
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
                    "(use uniform, log-uniform, integer, categorical, ordinal or constant)",
                    column=hp.name)
        return cls(tuple(hps), origin=origin)

    @classmethod
    def from_file(cls, path: str | Path) -> SearchSpace:
        """Read a ConfigSpace JSON file or our own YAML/JSON spec (detected by content)."""
        from .settings_file import read_settings_file

        path = Path(path)
        spec, text = read_settings_file(path, "search space")
        if not isinstance(spec, (Mapping, list)):
            raise InputError("a search space file must hold a mapping", file=str(path))
        try:
            if _looks_like_configspace(spec):
                import io

                from ConfigSpace import ConfigurationSpace

                cs = ConfigurationSpace.from_json(io.StringIO(text))
                return cls.from_configspace(cs, origin=f"ConfigSpace JSON {path.name}")
            return cls.from_dict(spec, origin=f"declared in {path.name}")
        except InputError as err:
            raise err.located(file=str(path)) from None
        except Exception as exc:  # noqa: BLE001 - ConfigSpace raises many kinds
            raise InputError(f"not a valid search space: {exc}".splitlines()[0],
                             file=str(path)) from None

    @classmethod
    def infer(
        cls,
        frame: pd.DataFrame,
        columns: Sequence[str],
        *,
        source: str | None = None,
    ) -> SearchSpace:
        """Guess the space from observed values (print it so the user can confirm).

        Rules: text or booleans are categorical; numbers that are all whole are
        integers; positive numbers spanning at least a decade are log-scaled when
        they are spread more evenly in log than in raw units (likewise ``1 - x`` for a
        momentum-like hyperparameter in [0, 1)); the bounds are the observed minimum and
        maximum.
        """
        hps = []
        notes = []
        for name in columns:
            if name not in frame.columns:
                raise InputError("hyperparameter column is missing", file=source, column=name,
                                 hint=f"columns present: {', '.join(map(str, frame.columns))}")
            col = frame[name]
            hp = _infer_one(name, col, source)
            hps.append(hp)
            if hp.is_constant:
                notes.append(f"{name} is constant ({hp.choices[0]!r}); its effect is 0")
        return cls(tuple(hps), origin="inferred from the data", notes=tuple(notes))


# -- helpers ----------------------------------------------------------------------------

def _looks_like_configspace(spec: Any) -> bool:
    if not isinstance(spec, Mapping):
        return False
    hps = spec.get("hyperparameters")
    return isinstance(hps, list) and all(isinstance(h, Mapping) and "type" in h and "name" in h
                                         for h in hps) and (
        "conditions" in spec or "format_version" in spec or "python_module_version" in spec
        or any(str(h.get("type", "")).startswith(("uniform_", "normal_")) for h in hps))


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
        return Hyperparameter(name, kind, lower, upper, scale, conditional=conditional,
                              default=default)
    if kind == "constant":
        if "value" not in entry:
            raise InputError("a constant needs a 'value'", column=name)
        return Hyperparameter(name, "constant", choices=(entry["value"],),
                              default=entry["value"])
    levels = entry.get("choices", entry.get("sequence"))
    if not isinstance(levels, list) or not levels:
        raise InputError("needs a non-empty list of 'choices'", column=name)
    weights = entry.get("weights")
    default = entry.get("default", levels[0] if conditional else None)
    return Hyperparameter(name, kind, choices=tuple(levels),
                          weights=None if weights is None else tuple(float(w) for w in weights),
                          conditional=conditional, default=default)


def _first_bad(mask: np.ndarray, index: pd.Index) -> int:
    pos = int(np.flatnonzero(mask)[0])
    label = index[pos]
    return int(label) if isinstance(label, (int, np.integer)) else pos + 1


def _validate_column(hp: Hyperparameter, col: pd.Series, source: str | None) -> None:
    missing = col.isna().to_numpy()
    if missing.any() and not hp.conditional:
        raise InputError("missing value for a hyperparameter", file=source,
                         row=_first_bad(missing, col.index), column=hp.name,
                         hint="fill it in, or declare the hyperparameter conditional")
    present = col[~missing]
    if hp.kind == "constant":
        return
    if hp.kind in ("categorical", "ordinal"):
        idx = hp.level_index(present.tolist())
        bad = idx < 0
        if bad.any():
            value = present.iloc[int(np.flatnonzero(bad)[0])]
            raise InputError(
                f"unknown level {value!r} (declared: {', '.join(map(str, hp.choices))})",
                file=source, row=_first_bad(bad, present.index), column=hp.name)
        return
    numeric = pd.to_numeric(present, errors="coerce")
    not_number = numeric.isna().to_numpy()
    if not_number.any():
        value = present.iloc[int(np.flatnonzero(not_number)[0])]
        raise InputError(f"expected a number, found {value!r}", file=source,
                         row=_first_bad(not_number, present.index), column=hp.name)
    x = numeric.to_numpy(dtype=float)
    nonfinite = ~np.isfinite(x)
    if nonfinite.any():
        raise InputError(f"value {x[nonfinite][0]} is not finite", file=source,
                         row=_first_bad(nonfinite, present.index), column=hp.name)
    if hp.scale == "log":
        nonpos = x <= 0
        if nonpos.any():
            raise InputError(
                f"value {x[nonpos][0]:g} is not positive but the scale is logarithmic",
                file=source, row=_first_bad(nonpos, present.index), column=hp.name)
    if hp.kind == "int":
        frac = np.abs(x - np.round(x)) > 1e-9 * np.maximum(1.0, np.abs(x))
        if frac.any():
            raise InputError(f"value {x[frac][0]:g} is not a whole number", file=source,
                             row=_first_bad(frac, present.index), column=hp.name)
    span = hp.upper - hp.lower
    slack = _BOUND_SLACK * max(span, abs(hp.lower), abs(hp.upper))
    out = (x < hp.lower - slack) | (x > hp.upper + slack)
    if out.any():
        raise InputError(
            f"value {x[out][0]:g} is outside the declared range [{hp.lower:g}, {hp.upper:g}]",
            file=source, row=_first_bad(out, present.index), column=hp.name,
            hint="fix the value or widen the search space")


def _infer_one(name: str, col: pd.Series, source: str | None) -> Hyperparameter:
    present = col.dropna()
    if present.empty:
        raise InputError("the hyperparameter column has no values", file=source, column=name)
    if col.isna().any():
        raise InputError("missing value for a hyperparameter", file=source,
                         row=_first_bad(col.isna().to_numpy(), col.index), column=name,
                         hint="fill it in, or declare the space with the hyperparameter "
                              "marked conditional")
    if pd.api.types.is_bool_dtype(present) or present.map(type).eq(bool).all():
        levels = tuple(sorted(present.unique().tolist()))
        return _categorical_or_constant(name, levels)
    numeric = pd.to_numeric(present, errors="coerce")
    if numeric.notna().all():
        x = numeric.to_numpy(dtype=float)
        if not np.all(np.isfinite(x)):
            bad = ~np.isfinite(x)
            raise InputError(f"value {x[bad][0]} is not finite", file=source,
                             row=_first_bad(bad, present.index), column=name)
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            value = int(lo) if float(lo).is_integer() else lo
            return Hyperparameter(name, "constant", choices=(value,), default=value)
        whole = bool(np.all(np.abs(x - np.round(x)) == 0))
        return Hyperparameter(name, "int" if whole else "float", lo, hi,
                              _infer_scale(x, whole))
    if numeric.notna().any():
        # Mostly numbers with some text: a typo, not a categorical.
        share = numeric.notna().mean()
        if share >= 0.5:
            bad = numeric.isna().to_numpy()
            value = present.iloc[int(np.flatnonzero(bad)[0])]
            raise InputError(f"expected a number, found {value!r} (mixed types)", file=source,
                             row=_first_bad(bad, present.index), column=name)
    levels = tuple(sorted(present.astype(str).unique().tolist()))
    return _categorical_or_constant(name, levels)


def _uniformity_gap(t: np.ndarray) -> float:
    """Kolmogorov–Smirnov distance of ``t`` from the uniform law on its range."""
    t = np.sort(t)
    u = (t - t[0]) / (t[-1] - t[0])
    n = u.size
    ranks = np.arange(1, n + 1) / n
    return float(max(np.max(ranks - u), np.max(u - (ranks - 1 / n))))


def _infer_scale(x: np.ndarray, whole: bool) -> str:
    """Pick the scale under which the observed values look most uniformly spread.

    A positive range of at least a decade is a candidate for log scale, and values in
    [0, 1) whose distance from 1 spans a decade for the paper's 1 − log-uniform
    momentum; the candidate wins only when the values are closer to uniform in its
    coordinate than in raw units (uniform samples on [0, 1] span several decades too).
    """
    lo, hi = float(x.min()), float(x.max())
    candidates = {"linear": _uniformity_gap(x)}
    if lo > 0 and hi / lo >= MIN_LOG_SPAN:
        candidates["log"] = _uniformity_gap(np.log(x))
    if not whole and lo >= 0 and hi < 1 and (1 - lo) / (1 - hi) >= MIN_LOG_SPAN:
        candidates["one_minus_log"] = _uniformity_gap(-np.log1p(-x))
    return min(candidates, key=candidates.get)


def _categorical_or_constant(name: str, levels: tuple[Any, ...]) -> Hyperparameter:
    if len(levels) == 1:
        return Hyperparameter(name, "constant", choices=levels, default=levels[0])
    return Hyperparameter(name, "categorical", choices=levels)
