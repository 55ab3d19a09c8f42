"""Interaction matrices (the paper's Fig. 6).

For one fit, two lower-triangular grids of heat maps, one cell per pair of
hyperparameters: left, the total joint marginal of the pair (the response averaged
over all other hyperparameters); right, the interaction-only part (joint marginal minus
both main effects plus the mean) on a diverging blue–grey–red scale centred on 0:
grey = no interaction, blue = lower (better) than the main effects predict, red =
higher (worse).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from ..result import LEVEL_KINDS, FanovaResult, PairGrid
from .style import (
    TURNED_LABELS,
    better_note,
    cell_edges,
    chars_in,
    colorbar_ticks,
    get_axes,
    group_text,
    interaction_cmap,
    label,
    levels_turn,
    new_figure,
    set_level_ticks,
    set_value_scale,
    styled,
    total_cmap,
    wrap,
)

KINDS = ("total", "interaction")
#: Most hyperparameters drawn as a full lower-triangular matrix; beyond, the figure shows
#: the largest pairs only.
MATRIX_MAX = 6
#: Pairs shown beyond :data:`MATRIX_MAX` hyperparameters when no count is given.
DEFAULT_TOP_PAIRS = 10
#: Panels per row when the largest pairs are shown one by one.
PAIR_COLUMNS = 5


def plot_pair(
    pair: PairGrid,
    kind: str = "interaction",
    *,
    ax: Axes | None = None,
    norm: Normalize | None = None,
    cmap: Colormap | None = None,
    colorbar: bool = False,
    colorbar_label: str | None = None,
    max_ticks: int | None = None,
    size: float | None = None,
    colorbar_kw: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Axes:
    """Heat map of one pair's joint marginal or interaction, first name on the x axis.

    Parameters
    ----------
    pair
        The pair grid (from a :class:`~odyssey_analysis.result.FanovaResult`).
    kind
        ``"total"`` (joint marginal) or ``"interaction"`` (joint − main effects + mean).
    ax
        Where to draw (default: the current Axes).
    norm
        Colour normalisation; default: the data range for ``total``, limits symmetric
        about 0 with the centre at 0 (:class:`~matplotlib.colors.TwoSlopeNorm`) for
        ``interaction``.
    cmap
        Colour map; default: :func:`~odyssey_analysis.plots.style.total_cmap` or the
        blue–grey–red :func:`~odyssey_analysis.plots.style.interaction_cmap`.
    colorbar
        Add a colour bar beside the Axes.
    colorbar_label
        Its label.
    max_ticks
        Most labelled ticks on a numeric axis (small cells).
    size
        The side of the Axes in inches, when known before the layout is solved (a level
        axis labels as many levels as fit in it; default: measured from the Axes).
    colorbar_kw
        Passed to :meth:`matplotlib.figure.Figure.colorbar`.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.pcolormesh` (e.g. ``edgecolors``).

    Returns
    -------
    matplotlib.axes.Axes
        The mesh is ``ax.collections[0]``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    ax = get_axes(ax)
    values = np.asarray(pair.total_mean if kind == "total" else pair.interaction_mean,
                        dtype=float)
    if norm is None:
        norm = default_norm([values], kind)
    if cmap is None:
        cmap = total_cmap() if kind == "total" else interaction_cmap()
    x_edges, x_ticks = _axis(ax, pair.values_a, pair.scale_a, pair.kind_a, "x", max_ticks)
    y_edges, y_ticks = _axis(ax, pair.values_b, pair.scale_b, pair.kind_b, "y", max_ticks)
    mesh = ax.pcolormesh(x_edges, y_edges, values.T,
                         **{"cmap": cmap, "norm": norm, "shading": "flat", "rasterized": True,
                            **kwargs})
    for axis, ticks in (("x", x_ticks), ("y", y_ticks)):
        if ticks is not None:
            set_level_ticks(ax, ticks, axis, length=size)
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    ax.set_xlabel(label(pair.names[0]))
    ax.set_ylabel(label(pair.names[1]))
    if colorbar:
        cb = ax.figure.colorbar(mesh, ax=ax, **(colorbar_kw or {}))
        colorbar_ticks(cb, symmetric=kind == "interaction")
        if colorbar_label:
            cb.set_label(colorbar_label)
    return ax


def default_norm(arrays: Sequence[np.ndarray], kind: str) -> Normalize:
    """A shared colour scale for several grids: data range (total) or ±max |value|,
    centred on 0 (interaction)."""
    finite = [a[np.isfinite(a)] for a in map(np.asarray, arrays)]
    finite = [a for a in finite if a.size]
    if not finite:
        return Normalize(0, 1) if kind == "total" else TwoSlopeNorm(0.0, -1.0, 1.0)
    lo = float(min(a.min() for a in finite))
    hi = float(max(a.max() for a in finite))
    if kind == "total":
        if hi <= lo:
            hi = lo + max(abs(lo), 1.0) * 1e-9
        return Normalize(lo, hi)
    m = max(abs(lo), abs(hi))
    m = m if m > 0 else 1e-12
    return TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)


def _axis(ax: Axes, values: np.ndarray, scale: str, kind: str, axis: str,
          max_ticks: int | None = None) -> tuple[np.ndarray, list | None]:
    if kind in LEVEL_KINDS:
        levels = list(np.asarray(values, dtype=object).ravel())
        return np.arange(len(levels) + 1) - 0.5, levels
    x = np.asarray(values, dtype=float)
    edges = cell_edges(x, scale)
    set_value_scale(ax, scale, float(edges[0]), float(edges[-1]), axis=axis,
                    integer=kind == "int", max_ticks=max_ticks)
    return edges, None


@styled
def interactions_figure(
    result: FanovaResult,
    *,
    params: Sequence[str] | None = None,
    title: str | None = None,
    direction: str | None = None,
    top_pairs: int | None = None,
) -> Figure:
    """The paper's Fig. 6 for one fit: joint marginals and interactions of the pairs.

    Up to :data:`MATRIX_MAX` hyperparameters (and no ``top_pairs``), every pair is drawn
    as the paper does: two lower-triangular matrices side by side, the cell in row ``i``
    and column ``j < i`` showing the pair (``params[j]``, ``params[i]``), ``params[j]``
    on the x axis. Beyond, or with ``top_pairs``, only the pairs with the largest
    interaction shares are drawn, largest first, one panel each (joint marginals above,
    interactions below). All panels of a kind share one colour scale and one colour bar.

    Parameters
    ----------
    result
        One fit with pair grids.
    params
        Hyperparameters, in order (default: the fit's, in search-space order).
    title
        Figure title (default: the group and response).
    direction
        ``"maximize"`` turns both colour maps round, so that blue (and dark blue) is
        always the better side; ``"minimize"`` or ``None`` keep blue = lower.
    top_pairs
        Show only this many pairs, those with the largest pure-interaction shares
        (default: all pairs up to :data:`MATRIX_MAX` hyperparameters, the
        :data:`DEFAULT_TOP_PAIRS` largest beyond).

    Returns
    -------
    matplotlib.figure.Figure
        Each heat map's Axes has ``gid="<kind>:<x name>:<y name>"``.
    """
    names = list(params) if params is not None else list(result.hyperparameters)
    if len(names) < 2:
        raise ValueError("an interaction matrix needs at least two hyperparameters")
    if top_pairs is not None and top_pairs < 1:
        raise ValueError(f"top_pairs must be at least 1, got {top_pairs}")
    order = {n: i for i, n in enumerate(result.hyperparameters)}

    def pair_of(a: str, b: str) -> PairGrid | None:
        key = (a, b) if order.get(a, 0) <= order.get(b, 0) else (b, a)
        return result.pairs.get(key)

    cells = [(i, j, pair_of(names[j], names[i])) for i in range(1, len(names))
             for j in range(i)]
    missing = [f"{names[j]} × {names[i]}" for i, j, p in cells if p is None]
    if missing:
        raise KeyError(f"no pair grid for {', '.join(missing)} (analyse with pairs=True)")
    response = label(result.response)
    if title is None:
        group = group_text(result.group)
        title = f"Pairwise effects on {response}" + (f" — {group}" if group else "")
    n_pairs = len(cells)
    shown = pairs_shown(len(names), top_pairs)
    if shown == n_pairs and len(names) <= MATRIX_MAX:
        return _matrix_figure(result, names, cells, title, direction)
    return _top_pairs_figure(result, names, cells, shown, title, direction)


def pairs_shown(n_params: int, top_pairs: int | None = None) -> int:
    """How many pairs :func:`interactions_figure` draws for ``n_params`` hyperparameters:
    every pair up to :data:`MATRIX_MAX` of them, else :data:`DEFAULT_TOP_PAIRS`;
    ``top_pairs`` (at most every pair) when given."""
    n_pairs = n_params * (n_params - 1) // 2
    if top_pairs is not None:
        return min(int(top_pairs), n_pairs)
    return n_pairs if n_params <= MATRIX_MAX else min(DEFAULT_TOP_PAIRS, n_pairs)


def _cmap(kind: str, direction: str | None) -> Colormap:
    cmap = total_cmap() if kind == "total" else interaction_cmap()
    return cmap.reversed() if direction == "maximize" else cmap


def _colorbar_label(kind: str, response: str, direction: str | None) -> str:
    return (response if kind == "total" else f"interaction effect on {response}"
            ) + better_note(direction)


def _subtitle(kind: str) -> str:
    return ("joint marginal (others averaged out)" if kind == "total"
            else "interaction only (joint − main effects; grey = none)")


def _values(pair: PairGrid, kind: str) -> np.ndarray:
    return pair.total_mean if kind == "total" else pair.interaction_mean


def _matrix_figure(result: FanovaResult, names: list[str], cells: list, title: str,
                   direction: str | None) -> Figure:
    """Every pair, as two lower-triangular matrices side by side."""
    k = len(names) - 1
    cell = 1.3 if k > 1 else 1.9
    width = min(2 * (cell * k + 0.9), 11.0)
    cell = (width / 2 - 0.9) / k
    x_chars = chars_in(0.95 * cell, 8)
    y_chars = chars_in(0.95 * cell, 8)
    title_text = wrap(title, chars_in(0.95 * width, 10), 2)
    turned = any(_turns(_oriented(p, names[j]), cell) for i, j, p in cells
                 if i == len(names) - 1)  # only the bottom row shows x labels
    fig = new_figure(width, cell * k + 1.2 + 0.2 * title_text.count("\n")
                     + (0.6 if k == 1 else 0) + (TURNED_LABELS if turned else 0))
    subfigs = fig.subfigures(1, 2, wspace=0.02)
    assert isinstance(subfigs, np.ndarray)  # two of them
    response = label(result.response)
    for subfig, kind in zip(subfigs, KINDS):
        oriented = [(i, j, _oriented(p, names[j])) for i, j, p in cells]
        norm = default_norm([_values(p, kind) for _, _, p in oriented], kind)
        cmap = _cmap(kind, direction)
        axes = subfig.subplots(k, k, squeeze=False)
        used = []
        for i, j, pair in oriented:
            ax = axes[i - 1, j]
            plot_pair(pair, kind, ax=ax, norm=norm, cmap=cmap,
                      max_ticks=max(3, int(cell / 0.45)), size=cell)
            ax.set_gid(f"{kind}:{names[j]}:{names[i]}")
            ax.tick_params(labelsize=6)
            ax.set_xlabel(wrap(label(names[j]), x_chars, 3))
            ax.set_ylabel(wrap(label(names[i]), y_chars, 3))
            if i - 1 < k - 1:
                ax.set_xlabel("")
                ax.tick_params(axis="x", labelbottom=False)
            if j > 0:
                ax.set_ylabel("")
                ax.tick_params(axis="y", labelleft=False)
            used.append(ax)
        for r in range(k):
            for c in range(r + 1, k):
                axes[r, c].remove()
        mesh = used[0].collections[0]
        if k >= 2:
            # The colour bar sits in the empty upper triangle, above the cells it explains.
            host = subfig.add_subplot(axes[0, 1].get_gridspec()[0, 1:])
            host.set_axis_off()
            cax = host.inset_axes([0.08, 0.55, 0.84, 0.1])
            cb = subfig.colorbar(mesh, cax=cax, orientation="horizontal")
            cb.ax.xaxis.set_label_position("top")
            cb_chars = chars_in(0.84 * cell * (k - 1), 8)
        else:
            cb = subfig.colorbar(mesh, ax=used, location="bottom", shrink=0.9, aspect=25)
            cb_chars = chars_in(0.9 * cell, 8)
        cb.ax.tick_params(labelsize=6)
        colorbar_ticks(cb, symmetric=kind != "total", nbins=3 if k < 3 else 4)
        cb.set_label(wrap(_colorbar_label(kind, response, direction), cb_chars, 3))
        subfig.suptitle(wrap(_subtitle(kind), chars_in(width / 2, 8), 2), fontsize=8)
    fig.suptitle(title_text)
    return fig


def _top_pairs_figure(result: FanovaResult, names: list[str], cells: list, n: int,
                      title: str, direction: str | None) -> Figure:
    """The ``n`` pairs with the largest interaction shares, one panel each."""
    shares = result.pair_fraction().mean
    ranked = sorted(cells, key=lambda c: -_share(shares, names[c[1]], names[c[0]]))[:n]
    n_rows = -(-n // PAIR_COLUMNS)
    n_cols = -(-n // n_rows)  # rows as full as they can be: 6 pairs are 2 rows of 3
    panel = 1.55
    width = min(n_cols * (panel + 0.75) + 0.9, 11.0)
    panel = (width - 0.9) / n_cols - 0.75
    x_chars = chars_in(panel, 7)
    y_chars = chars_in(panel, 7)
    title_text = wrap(f"{title} — the {n} largest of {len(cells)} pairs", chars_in(
        0.95 * width, 10), 2)
    turned = any(_turns(_oriented(p, names[j]), panel) for _, j, p in ranked)
    fig = new_figure(width, 2 * (n_rows * (panel + 0.75 + (TURNED_LABELS if turned else 0))
                                 + 0.5) + 0.4 + 0.2 * title_text.count("\n"))
    subfigs = fig.subfigures(2, 1, hspace=0.02)
    assert isinstance(subfigs, np.ndarray)  # two of them
    response = label(result.response)
    for subfig, kind in zip(subfigs, KINDS):
        oriented = [(i, j, _oriented(p, names[j])) for i, j, p in ranked]
        norm = default_norm([_values(p, kind) for _, _, p in oriented], kind)
        cmap = _cmap(kind, direction)
        axes = subfig.subplots(n_rows, n_cols, squeeze=False)
        used = []
        for rank, (i, j, pair) in enumerate(oriented):
            ax = axes[rank // n_cols, rank % n_cols]
            plot_pair(pair, kind, ax=ax, norm=norm, cmap=cmap,
                      max_ticks=max(3, int(panel / 0.45)), size=panel)
            ax.set_gid(f"{kind}:{names[j]}:{names[i]}")
            ax.tick_params(labelsize=6)
            ax.set_xlabel(wrap(label(names[j]), x_chars, 2), fontsize=7)
            ax.set_ylabel(wrap(label(names[i]), y_chars, 2), fontsize=7)
            share = _share(shares, names[j], names[i])
            ax.set_title(f"#{rank + 1}" + (f": {100 * share:.1f} %" if np.isfinite(share)
                                           else ""), fontsize=7, loc="left")
            used.append(ax)
        for rank in range(n, n_rows * n_cols):
            axes[rank // n_cols, rank % n_cols].set_visible(False)
        cb = subfig.colorbar(used[0].collections[0], ax=used, shrink=0.9, aspect=30)
        cb.ax.tick_params(labelsize=6)
        colorbar_ticks(cb, symmetric=kind != "total")
        cb.set_label(wrap(_colorbar_label(kind, response, direction),
                          chars_in(0.9 * n_rows * (panel + 0.75), 8), 2))
        subfig.suptitle(_subtitle(kind) + " — #k: share of the variance of the pure "
                        "interaction", fontsize=8)
    fig.suptitle(title_text)
    return fig


def _turns(pair: PairGrid, length: float) -> bool:
    """Whether the x axis of ``pair`` (its first name) has level labels that turn upright
    in ``length`` inches."""
    return pair.kind_a in LEVEL_KINDS and levels_turn(
        list(np.asarray(pair.values_a, dtype=object).ravel()), length)


def _share(shares: Any, a: str, b: str) -> float:
    """The pure-pair share of ``a`` and ``b``; ``-inf`` when unknown (ranked last)."""
    try:
        value = float(shares.loc[a, b])
    except KeyError:
        return float("-inf")
    return value if np.isfinite(value) else float("-inf")


def _oriented(pair: PairGrid, x_name: str) -> PairGrid:
    """The pair with ``x_name`` first (transposed when stored the other way round)."""
    if pair.names[0] == x_name:
        return pair
    return PairGrid(
        (pair.names[1], pair.names[0]), pair.values_b, pair.values_a, pair.scale_b,
        pair.scale_a, pair.kind_b, pair.kind_a, pair.total_mean.T, pair.total_std.T,
        pair.interaction_mean.T, pair.interaction_std.T)
