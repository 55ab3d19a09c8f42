"""Results of the decomposition: per fit (:class:`FanovaResult`) and per study.

Containers of numbers; the figures and tables draw and print them and never recompute
them. A fit can keep its trees as leaf boxes (never the surrogate itself), from which
closed fractions of larger subsets are computed on request.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .fanova import LeafBoxes, closed_variances, zero_variance
from .quality import format_r2
from .space import DISCRETE_KINDS, SearchSpace

PAIR_SEPARATOR = " × "
HIGHER_ORDER = "higher order"
#: The remainder's name when pairs were not computed (it then holds every interaction).
NO_PAIRS_REMAINDER = "interactions (pairs not computed)"
#: ``order`` of the higher-order remainder (every interaction of three or more) in the
#: Python tables; ``importance.csv`` writes it as ``higher``.
HIGHER_ORDER_ORDER = 3
ORDER_LABELS = {1: "1", 2: "2", HIGHER_ORDER_ORDER: "higher"}
#: Kinds whose curves are drawn as points per level rather than as lines.
LEVEL_KINDS = DISCRETE_KINDS | {"constant"}
IMPORTANCE_COLUMNS = ["response", "effect", "order", "param_a", "param_b", "fraction",
                      "fraction_std", "n_trials", "n_trees"]


class Share(NamedTuple):
    """A share of the variance over trees: mean and standard deviation, labelled.

    Attributes
    ----------
    mean, std
        :class:`pandas.Series` indexed by hyperparameter (main effects), or square
        :class:`pandas.DataFrame` indexed by hyperparameter on both axes (pairs).
    """

    mean: Any
    std: Any


def effect_orders(order: pd.Series) -> pd.Series:
    """An importance table's ``order`` column as integers (``higher`` → 3).

    Accepts the Python tables' integers and the text of ``importance.csv``.
    """
    text = order.astype(str).str.strip().str.lower()
    return text.map(lambda v: HIGHER_ORDER_ORDER if v == "higher" else int(float(v))
                    ).astype("int64")


def importance_csv(table: pd.DataFrame) -> str:
    """The text of ``importance.csv``: ``order`` as ``1``, ``2`` or ``higher``."""
    out = table.assign(order=effect_orders(table["order"]).map(ORDER_LABELS))
    return out.to_csv(index=False)


@dataclass
class Marginal:
    """One hyperparameter's marginal (mean prediction with it fixed), over trees.

    Attributes
    ----------
    name, kind, scale
        The hyperparameter, its kind and its scale (``log`` means a log axis).
    grid
        Points in the encoded unit interval.
    values
        The same points in original units (levels for categorical and ordinal).
    mean, std
        Mean and standard deviation across trees of the marginal at each point.
    """

    name: str
    kind: str
    scale: str
    grid: np.ndarray
    values: np.ndarray
    mean: np.ndarray
    std: np.ndarray

    @property
    def drawn_as_levels(self) -> bool:
        """Whether the values are levels (categorical, ordinal or constant), not a range."""
        return self.kind in LEVEL_KINDS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready arrays."""
        return {"name": self.name, "kind": self.kind, "scale": self.scale,
                "values": _jsonable(self.values), "mean": self.mean.tolist(),
                "std": self.std.tolist()}


@dataclass
class PairGrid:
    """The joint marginal of a pair of hyperparameters on a grid, over trees.

    Attributes
    ----------
    names
        The pair, in search-space order.
    values_a, values_b
        Grid points in original units (lengths ``na``, ``nb``).
    total_mean, total_std
        ``(na, nb)`` joint marginal: mean prediction with both fixed.
    interaction_mean, interaction_std
        ``(na, nb)`` pure interaction: joint marginal − both main effects + mean
        (0 means no interaction).
    """

    names: tuple[str, str]
    values_a: np.ndarray
    values_b: np.ndarray
    scale_a: str
    scale_b: str
    kind_a: str
    kind_b: str
    total_mean: np.ndarray
    total_std: np.ndarray
    interaction_mean: np.ndarray
    interaction_std: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready arrays."""
        return {"names": list(self.names), "values_a": _jsonable(self.values_a),
                "values_b": _jsonable(self.values_b),
                "total_mean": self.total_mean.tolist(),
                "interaction_mean": self.interaction_mean.tolist()}


@dataclass
class FanovaResult:
    """The functional ANOVA of one response in one group.

    The per-tree arrays hold every tree of the forest; fractions use only the trees
    with non-zero variance (a constant tree has no variance to share out).

    Attributes
    ----------
    group
        Group key values, e.g. ``{"task": "speech", "variant": "V"}``.
    response
        The response analysed.
    hyperparameters
        In search-space order.
    tree_mean, tree_variance
        ``(n_trees_total,)`` per tree.
    main_variance
        ``(n_trees_total, d)`` variance of each main effect per tree.
    pair_variance
        ``(n_trees_total, d, d)`` variance of each pure pairwise effect per tree.
    n_trials
        Trials the forest was fitted on.
    oob_r2
        Out-of-bag R² of the forest.
    marginals, pairs
        Curves and grids for the figures.
    measures
        Each hyperparameter's sampling distribution, in words: the measure integrated.
    fit
        Details of the fit (forest settings, cutoffs, rows used, warnings).
    trees
        Each tree's leaf boxes (cutoffs applied), when the fit was asked to keep them.
    """

    group: dict[str, Any]
    response: str
    hyperparameters: list[str]
    tree_mean: np.ndarray
    tree_variance: np.ndarray
    main_variance: np.ndarray
    pair_variance: np.ndarray
    n_trials: int
    oob_r2: float
    marginals: dict[str, Marginal] = field(default_factory=dict)
    pairs: dict[tuple[str, str], PairGrid] = field(default_factory=dict)
    measures: dict[str, str] = field(default_factory=dict)
    fit: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    trees: list[LeafBoxes] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.group.items())
        head = f"FanovaResult({self.response}" + (f", {where}" if where else "")
        mean, _ = self.main_fraction()
        top = ", ".join(f"{name} {100 * v:.1f}%" for name, v in
                        mean.sort_values(ascending=False).head(4).items()) or "–"
        h_mean, _ = self.higher_order_fraction()
        return (f"{head}: {self.n_trials} trials, {self.n_trees} trees, OOB R² "
                f"{format_r2(self.oob_r2)}; main effects {top}; higher order "
                f"{100 * h_mean:.1f}%)")

    def _repr_html_(self) -> str:
        e = html.escape
        mean, std = self.main_fraction()
        where = ", ".join(f"{k}={v}" for k, v in self.group.items())
        rows = "".join(f"<tr><td style='text-align:left'>{e(str(name))}</td>"
                       f"<td>{100 * m:.1f} ± {100 * s:.1f}</td></tr>"
                       for (name, m), s in zip(mean.items(), std.to_numpy()))
        h_mean, h_std = self.higher_order_fraction()
        rows += (f"<tr><td style='text-align:left'>{HIGHER_ORDER}</td>"
                 f"<td>{100 * h_mean:.1f} ± {100 * h_std:.1f}</td></tr>")
        return (f"<table><caption>{e(self.response)}{e(' — ' + where if where else '')}: "
                f"{self.n_trials} trials, {self.n_trees} trees, OOB R² "
                f"{format_r2(self.oob_r2)}</caption><thead><tr><th>effect</th>"
                f"<th>share of variance [%]</th></tr></thead><tbody>{rows}</tbody></table>")

    # -- trees ---------------------------------------------------------------------------
    @property
    def valid_trees(self) -> np.ndarray:
        """Mask of trees with non-zero variance."""
        return ~zero_variance(self.tree_variance, self.tree_mean)

    @property
    def n_trees(self) -> int:
        """Trees used for the fractions (non-zero variance)."""
        return int(self.valid_trees.sum())

    @property
    def n_zero_variance_trees(self) -> int:
        """Trees skipped because they predict a constant."""
        return int((~self.valid_trees).sum())

    # -- fractions -----------------------------------------------------------------------
    def _per_tree_fractions(self) -> tuple[np.ndarray, np.ndarray]:
        ok = self.valid_trees
        var = self.tree_variance[ok]
        return (self.main_variance[ok] / var[:, None],
                self.pair_variance[ok] / var[:, None, None])

    def main_fraction(self) -> Share:
        """Mean and std over trees of each main effect's share of the variance.

        Returns
        -------
        Share
            ``(mean, std)``, each a :class:`pandas.Series` indexed by hyperparameter.
        """
        main, _ = self._per_tree_fractions()
        mean, std = _mean_std(main, (len(self.hyperparameters),))
        names = pd.Index(self.hyperparameters, name="hyperparameter")
        return Share(pd.Series(mean, index=names, name="mean"),
                     pd.Series(std, index=names, name="std"))

    def pair_fraction(self) -> Share:
        """Mean and std over trees of each pure pair's share.

        Returns
        -------
        Share
            ``(mean, std)``, each a symmetric :class:`pandas.DataFrame` with the
            hyperparameters as index and columns (zero on the diagonal).
        """
        _, pair = self._per_tree_fractions()
        d = len(self.hyperparameters)
        mean, std = _mean_std(pair, (d, d))
        names = pd.Index(self.hyperparameters, name="hyperparameter")
        return Share(pd.DataFrame(mean, index=names, columns=names),
                     pd.DataFrame(std, index=names, columns=names))

    def higher_order_per_tree(self) -> np.ndarray:
        """Per valid tree: 1 − all main fractions − all pair fractions."""
        main, pair = self._per_tree_fractions()
        d = len(self.hyperparameters)
        iu = np.triu_indices(d, 1)
        return 1.0 - main.sum(axis=1) - pair[:, iu[0], iu[1]].sum(axis=1)

    def higher_order_fraction(self) -> tuple[float, float]:
        """Mean and std over trees of the share left to interactions of order ≥ 3."""
        h = self.higher_order_per_tree()
        if h.size == 0:
            return float("nan"), float("nan")
        return float(h.mean()), float(h.std())

    def total_fraction(self, names: Sequence[str]) -> tuple[float, float]:
        """Closed ("total") share of a subset: the variance of its joint marginal.

        That is every effect whose hyperparameters all lie in ``names`` (its main
        effects, the pairs among them, ...), as a mean and std over trees. Subsets of
        one or two hyperparameters come from the stored variances; larger ones need the
        trees (``analyze(..., keep_trees=True)``) and are computed exactly from their
        leaves.
        """
        idx = sorted({self.hyperparameters.index(n) for n in names})
        ok = self.valid_trees
        if not idx:
            return 0.0, 0.0
        if len(idx) <= 2:
            closed = self.main_variance[:, idx].sum(axis=1)
            if len(idx) == 2:
                closed = closed + self.pair_variance[:, idx[0], idx[1]]
        elif len(idx) == len(self.hyperparameters):
            closed = self.tree_variance.copy()
        else:
            if self.trees is None:
                raise ValueError("subsets of three or more hyperparameters need the trees: "
                                 "run analyze(..., keep_trees=True)")
            closed = closed_variances(self.trees, idx)
        frac = closed[ok] / self.tree_variance[ok]
        if frac.size == 0:
            return float("nan"), float("nan")
        return float(frac.mean()), float(frac.std())

    # -- tables --------------------------------------------------------------------------
    def importance_table(self) -> pd.DataFrame:
        """One row per effect: mains, pairs, then the higher-order remainder.

        ``order`` is 1, 2 or 3 (:data:`HIGHER_ORDER_ORDER`: the remainder of every
        interaction of three or more hyperparameters); :func:`importance_csv` writes
        the file's ``1``, ``2``, ``higher``. A fit without pairs has no pair rows, and
        its remainder (every interaction) is called ``interactions (pairs not computed)``.
        """
        names = self.hyperparameters
        mean, std = (s.to_numpy() for s in self.main_fraction())
        pmean, pstd = (s.to_numpy() for s in self.pair_fraction())
        rows = []
        base = {"response": self.response, "n_trials": self.n_trials, "n_trees": self.n_trees}
        for j, name in enumerate(names):
            rows.append({**base, "effect": name, "order": 1, "param_a": name, "param_b": "",
                         "fraction": mean[j], "fraction_std": std[j]})
        with_pairs = self.fit.get("pairs_computed", True)
        for j in range(len(names) if with_pairs else 0):
            for k in range(j + 1, len(names)):
                rows.append({**base, "effect": names[j] + PAIR_SEPARATOR + names[k],
                             "order": 2, "param_a": names[j], "param_b": names[k],
                             "fraction": pmean[j, k], "fraction_std": pstd[j, k]})
        h_mean, h_std = self.higher_order_fraction()
        rows.append({**base, "effect": HIGHER_ORDER if with_pairs else NO_PAIRS_REMAINDER,
                     "order": HIGHER_ORDER_ORDER,
                     "param_a": "",
                     "param_b": "", "fraction": h_mean, "fraction_std": h_std})
        return pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS)

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """A JSON-ready summary: fractions, the measure, and the details of the fit."""
        mean, std = (s.to_numpy() for s in self.main_fraction())
        h_mean, h_std = self.higher_order_fraction()
        out: dict[str, Any] = {
            "group": {k: _scalar(v) for k, v in self.group.items()},
            "response": self.response,
            "hyperparameters": list(self.hyperparameters),
            "measure": self.measures,
            "n_trials": self.n_trials,
            "n_trees": self.n_trees,
            "n_zero_variance_trees": self.n_zero_variance_trees,
            "oob_r2": None if not np.isfinite(self.oob_r2) else self.oob_r2,
            "mean": float(np.mean(self.tree_mean)),
            "variance_mean": float(np.mean(self.tree_variance)),
            "main_fraction": dict(zip(self.hyperparameters, mean.tolist())),
            "main_fraction_std": dict(zip(self.hyperparameters, std.tolist())),
            "higher_order_fraction": h_mean,
            "higher_order_fraction_std": h_std,
            "fit": self.fit,
            "warnings": list(self.warnings),
        }
        if curves:
            out["marginals"] = {k: m.to_dict() for k, m in self.marginals.items()}
            out["pairs"] = [p.to_dict() for p in self.pairs.values()]
        return _clean(out)


class StudyResult:
    """All fits of a study: one :class:`FanovaResult` per group and response.

    Parameters
    ----------
    results
        ``{(group values tuple, response): FanovaResult}``.
    group_keys
        Names of the group columns.
    responses
        Responses analysed.
    space
        The search space used (with its measure).
    table_info
        Facts about the trial table (source, rows, exclusions).
    """

    def __init__(self, results: dict[tuple[tuple, str], FanovaResult], group_keys: list[str],
                 responses: list[str], space: SearchSpace,
                 table_info: dict[str, Any] | None = None,
                 method: dict[str, Any] | None = None) -> None:
        self.results = results
        self.group_keys = list(group_keys)
        self.responses = list(responses)
        self.space = space
        self.table_info = table_info or {}
        self.method = dict(method or {})

    def __len__(self) -> int:
        return len(self.results)

    def __repr__(self) -> str:
        groups = (f"{len(self.groups())} groups by {', '.join(self.group_keys)}"
                  if self.group_keys else "one group")
        return (f"StudyResult({len(self)} fits: {groups} × {len(self.responses)} "
                f"response(s) {', '.join(self.responses)}; hyperparameters "
                f"{', '.join(self.space.names)})")

    def _repr_html_(self) -> str:
        e = html.escape
        response = self.responses[0] if self.responses else ""
        names = self.space.names
        head = "".join(f"<th>{e(k)}</th>" for k in self.group_keys)
        head += "".join(f"<th>{e(n)} [%]</th>" for n in names) + "<th>higher order [%]</th>"
        rows = []
        for fit in self:
            if fit.response != response:
                continue
            mean, _ = fit.main_fraction()
            cells = "".join(f"<td style='text-align:left'>{e(str(fit.group[k]))}</td>"
                            for k in self.group_keys)
            cells += "".join(f"<td>{100 * v:.1f}</td>" for v in mean.to_numpy())
            cells += f"<td>{100 * fit.higher_order_fraction()[0]:.1f}</td>"
            rows.append(f"<tr>{cells}</tr>")
        return (f"<table><caption>{e(repr(self))}<br>main effects on {e(response)}, mean "
                f"over trees</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
                "</tbody></table>")

    def __iter__(self):
        return iter(self.results.values())

    def groups(self) -> list[tuple]:
        """Group value tuples in order."""
        seen: dict[tuple, None] = {}
        for key, _ in self.results:
            seen.setdefault(key, None)
        return list(seen)

    def get(self, response: str | None = None, **group: Any) -> FanovaResult:
        """The result for ``response`` in the group given by keyword values."""
        response = response or self.responses[0]
        unknown = set(group) - set(self.group_keys)
        if unknown:
            raise KeyError(f"not group keys: {', '.join(sorted(unknown))}")
        matches = [r for (key, resp), r in self.results.items() if resp == response
                   and all(_same(r.group.get(k), v) for k, v in group.items())]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} results match response={response!r} {group}")
        return matches[0]

    def importance_table(self) -> pd.DataFrame:
        """The long table of ``importance.csv``: group columns, then effects (see
        :meth:`FanovaResult.importance_table`; :func:`importance_csv` writes it)."""
        frames = []
        for result in self.results.values():
            t = result.importance_table()
            for pos, key in enumerate(self.group_keys):
                t.insert(pos, key, result.group[key])
            frames.append(t)
        if not frames:
            return pd.DataFrame(columns=[*self.group_keys, *IMPORTANCE_COLUMNS])
        return pd.concat(frames, ignore_index=True)

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """JSON-ready: the space and its encoding, the table facts, and every fit."""
        return _clean({
            "method": self.method,
            "space": self.space.to_dict(),
            "group_keys": self.group_keys,
            "responses": self.responses,
            "table": self.table_info,
            "fits": [r.to_dict(curves=curves) for r in self.results.values()],
        })


def _mean_std(x: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[0] == 0:
        return np.full(shape, np.nan), np.full(shape, np.nan)
    return x.mean(axis=0), x.std(axis=0)


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a) == str(b)


def _scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _jsonable(values: np.ndarray) -> list:
    return [_scalar(v) for v in np.asarray(values).tolist()]


def _clean(obj: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
