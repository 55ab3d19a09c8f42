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
  sampling weight (equal widths by default);
* a float or integer with a prior (:mod:`.priors`: truncated normal or beta on the
  scale coordinate): the prior's CDF of the position above (an integer: the middle,
  under the prior, of the cell it owns).

Integrating in raw units instead (what the reference ``fanova`` and Optuna do with raw
values) silently changes the measure and can give a hyperparameter with no effect
several percent of "importance".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .priors import Prior
from .validate import validate_column

KINDS = ("float", "int", "categorical", "ordinal", "constant")
SCALES = ("linear", "log", "one_minus_log")
#: Kinds whose values are levels (one interval of the unit cube each).
DISCRETE_KINDS = frozenset({"categorical", "ordinal"})


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
    prior
        The distribution of a float or integer over its range (truncated normal or
        beta on the scale coordinate); uniform on that coordinate when ``None``.
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
    prior: Prior | None = None

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
            with np.errstate(all="ignore"):
                t = self._transform(np.array([lo, hi], dtype=float))
                span = float(t[1] - t[0])
            if not (np.all(np.isfinite(t)) and math.isfinite(span) and span > 0):
                raise InputError(f"the range [{self.lower:g}, {self.upper:g}] is too wide to "
                                 "encode in floating point", column=self.name,
                                 hint="declare the bounds the values were sampled from")
        elif self.is_discrete:
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
        if self.prior is not None:
            if not self.is_numeric:
                raise InputError("only float and integer hyperparameters take a prior "
                                 "(levels take weights)", column=self.name)
            self.prior.check(self.name)
            if self.prior.type == "normal":
                with np.errstate(all="ignore"):
                    t_mu = self._transform(np.array([self.prior.mu], dtype=float))[0]
                if not math.isfinite(t_mu):
                    raise InputError(f"the normal prior's mu {self.prior.mu:g} is not a "
                                     f"value of the {self.scale} scale", column=self.name)

    # -- description -------------------------------------------------------------------
    @property
    def levels(self) -> tuple[Any, ...]:
        """The levels (``choices``) of a categorical, ordinal or constant one; ``()`` for
        a range."""
        return self.choices if self.choices is not None else ()

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lower, upper)`` of a numeric one (checked on creation to be present)."""
        if self.lower is None or self.upper is None:
            raise TypeError(f"{self.name} is {self.kind}: it has levels, not a range")
        return float(self.lower), float(self.upper)

    @property
    def is_numeric(self) -> bool:
        """True for float and int hyperparameters."""
        return self.kind in ("float", "int")

    @property
    def is_discrete(self) -> bool:
        """True for categorical and ordinal hyperparameters (levels, not a range)."""
        return self.kind in DISCRETE_KINDS

    @property
    def is_constant(self) -> bool:
        """True when the hyperparameter cannot vary (constant kind or one level)."""
        if self.kind == "constant":
            return True
        if self.is_discrete:
            return len(self.levels) == 1
        return False

    def describe_measure(self) -> str:
        """The sampling distribution, in words (used in every output)."""
        if self.kind == "constant":
            return f"constant {self.levels[0]!r}"
        if self.is_discrete:
            if self.weights is None:
                return f"uniform over {len(self.levels)} {self.kind} levels"
            text = f"weighted over {len(self.levels)} {self.kind} levels"
            if len(self.levels) <= 8:
                share = np.diff(self._level_edges())
                text += " (" + ", ".join(f"{c}: {p:.3g}" for c, p in
                                         zip(self.levels, share)) + ")"
            return text
        integer = "integer " if self.kind == "int" else ""
        lower, upper = self.bounds
        if self.prior is not None:
            coordinate = {"linear": "", "log": " of log x",
                          "one_minus_log": " of -log(1 - x)"}[self.scale]
            return (f"{self.prior.describe()}{coordinate} {integer}on "
                    f"[{lower:g}, {upper:g}]")
        if self.scale == "log":
            return f"log-uniform {integer}on [{lower:g}, {upper:g}]"
        if self.scale == "one_minus_log":
            return (f"1 - log-uniform {integer}on [{1 - upper:g}, {1 - lower:g}]"
                    f" (values in [{lower:g}, {upper:g}])")
        return f"uniform {integer}on [{lower:g}, {upper:g}]"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (the format read by :meth:`SearchSpace.from_dict`)."""
        out: dict[str, Any] = {"type": self.kind}
        if self.is_numeric:
            out.update(lower=self.lower, upper=self.upper, scale=self.scale)
        if self.choices is not None:
            key = "value" if self.kind == "constant" else "choices"
            out[key] = list(self.levels) if key == "choices" else self.levels[0]
        if self.weights is not None:
            out["weights"] = list(self.weights)
        if self.prior is not None:
            out["prior"] = self.prior.to_dict()
        if self.conditional:
            out["conditional"] = True
            out["default"] = self.default
        out["measure"] = self.describe_measure()
        return out

    # -- encoding ----------------------------------------------------------------------
    def _raw_interval(self) -> tuple[float, float]:
        lo, hi = self.bounds
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
        w = np.ones(len(self.levels)) if self.weights is None else np.asarray(self.weights)
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
        if self.is_discrete:
            idx = self.level_index(list(values))
            edges = self._level_edges()
            return 0.5 * (edges[idx] + edges[idx + 1])
        x = np.asarray(values, dtype=float)
        lo, hi = self._raw_interval()
        t_lo, t_hi = self._transform(np.array([lo, hi]))
        if self.prior is not None:
            t_mu = self._prior_mean()
            prior = self.prior

            def cdf(v: np.ndarray) -> np.ndarray:
                z = (self._transform(v) - t_lo) / (t_hi - t_lo)
                return prior.cdf(z, t_mu, t_lo, t_hi)

            if self.kind == "int" and self.scale != "one_minus_log":
                # The middle, under the prior, of the unit cell the integer owns (as a
                # uniform integer's position is); the cells are cell_edges().
                with np.errstate(all="ignore"):
                    return 0.5 * (cdf(np.maximum(x - 0.5, lo)) + cdf(np.minimum(x + 0.5, hi)))
            return cdf(x)
        u = (self._transform(x) - t_lo) / (t_hi - t_lo)
        return np.clip(u, 0.0, 1.0)

    def _prior_mean(self) -> float | None:
        if self.prior is None or self.prior.type != "normal":
            return None
        return float(self._transform(np.array([self.prior.mu], dtype=float))[0])

    def decode(self, u: np.ndarray) -> np.ndarray:
        """Map encoded coordinates in [0, 1] back to original units.

        Numeric hyperparameters give floats (integers are not rounded, so curves stay
        smooth); categorical and ordinal ones give the level of each coordinate.
        """
        u = np.asarray(u, dtype=float)
        if self.is_discrete or self.kind == "constant":
            if self.kind == "constant":
                return np.array([self.levels[0]] * u.size, dtype=object).reshape(u.shape)
            edges = self._level_edges()
            idx = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, len(self.levels) - 1)
            return np.asarray(self.levels, dtype=object)[idx]
        lo, hi = self._raw_interval()
        t_lo, t_hi = self._transform(np.array([lo, hi]))
        if self.prior is not None:
            u = self.prior.ppf(u, self._prior_mean(), t_lo, t_hi)
        return self._untransform(t_lo + u * (t_hi - t_lo))

    def cell_edges(self) -> np.ndarray | None:
        """Boundaries in [0, 1] of the cells a discrete hyperparameter's values own.

        Categorical and ordinal: the levels' intervals (:meth:`level_edges`). Integers on
        a linear or log scale: the encoding of the half-integers between neighbours,
        so each cell's width is the whole number's probability (under its prior, if it
        has one) and its encoded value lies inside. ``None`` for continuous ranges,
        ``one_minus_log`` integers and constants. A surrogate that splits on these
        boundaries integrates the measure exactly; one that splits midway between
        observed values does not when cells have unequal widths. An integer's array has
        ``upper - lower + 2`` entries: check the range before asking for a wide one.
        """
        if self.is_constant:
            return None
        if self.is_discrete:
            return self._level_edges()
        if self.kind != "int" or self.scale == "one_minus_log":
            return None
        lower, upper = self.bounds
        bounds = np.arange(lower - 0.5, upper + 1.0)
        lo, hi = self._raw_interval()
        t_lo, t_hi = self._transform(np.array([lo, hi]))
        z = (self._transform(bounds) - t_lo) / (t_hi - t_lo)
        if self.prior is not None:
            z = self.prior.cdf(z, self._prior_mean(), t_lo, t_hi)
        z[0], z[-1] = 0.0, 1.0
        return np.clip(z, 0.0, 1.0)

    def level_edges(self) -> np.ndarray:
        """Boundaries of the levels' intervals in [0, 1] (categorical and ordinal)."""
        if not self.is_discrete:
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

    def __iter__(self) -> Iterator[Hyperparameter]:
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
            validate_column(hp, frame[hp.name], source)

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

    # -- constructors (parsers live in readers.py and infer.py) ---------------------------
    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, origin: str = "declared") -> SearchSpace:
        """Read our own spec format (see :func:`odyssey_analysis.space.readers.space_from_dict`).

        ``spec`` is ``{"hyperparameters": {name: {...}}}`` (or the inner mapping alone,
        or a list of entries that carry ``name``). Each entry has ``type`` (float, int,
        categorical, ordinal, constant) and, as fits the type, ``lower``, ``upper``,
        ``log: true`` or ``scale`` (linear, log, one_minus_log), ``choices`` (or
        ``sequence`` for ordinal), ``weights``, ``value`` (constant), and for floats and
        integers ``prior`` (``{type: beta, alpha, beta}`` or ``{type: normal, mu,
        sigma}``; see :mod:`odyssey_analysis.space.priors`).
        """
        from .readers import space_from_dict

        return space_from_dict(spec, origin=origin)

    @classmethod
    def from_configspace(cls, cs: Any, *, origin: str = "ConfigSpace") -> SearchSpace:
        """Convert a ``ConfigSpace.ConfigurationSpace``.

        Uniform, normal and beta floats and integers (log or not), categoricals (with
        weights), ordinals and constants are supported. Children of conditions are
        marked conditional (inactive trials are imputed with the default value).
        """
        from .readers import space_from_configspace

        return space_from_configspace(cs, origin=origin)

    @classmethod
    def from_file(cls, path: str | Path) -> SearchSpace:
        """Read a ConfigSpace JSON file or our own YAML/JSON spec (detected by content)."""
        from .readers import space_from_file

        return space_from_file(path)

    @classmethod
    def infer(cls, frame: pd.DataFrame, columns: Sequence[str], *,
              source: str | None = None) -> SearchSpace:
        """Guess the space from observed values (print it so the user can confirm).

        See :func:`odyssey_analysis.space.infer.infer_space` for the rules.
        """
        from .infer import infer_space

        return infer_space(frame, columns, source=source)
