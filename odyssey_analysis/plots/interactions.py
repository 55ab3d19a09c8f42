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
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from ..result import LEVEL_KINDS, FanovaResult, PairGrid
from .style import (
    better_note,
    cell_edges,
    get_axes,
    group_text,
    interaction_cmap,
    label,
    new_figure,
    set_value_scale,
    styled,
    total_cmap,
)

KINDS = ("total", "interaction")


def plot_pair(
    pair: PairGrid,
    kind: str = "interaction",
    *,
    ax: Axes | None = None,
    norm: Normalize | None = None,
    cmap: Colormap | None = None,
    colorbar: bool = False,
    colorbar_label: str | None = None,
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
    x_edges, x_ticks = _axis(ax, pair.values_a, pair.scale_a, pair.kind_a, "x")
    y_edges, y_ticks = _axis(ax, pair.values_b, pair.scale_b, pair.kind_b, "y")
    mesh = ax.pcolormesh(x_edges, y_edges, values.T,
                         **{"cmap": cmap, "norm": norm, "shading": "flat", "rasterized": True,
                            **kwargs})
    for axis, ticks in (("x", x_ticks), ("y", y_ticks)):
        if ticks is not None:
            getattr(ax, f"set_{axis}ticks")(np.arange(len(ticks)))
            getattr(ax, f"set_{axis}ticklabels")(ticks)
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    ax.set_xlabel(label(pair.names[0]))
    ax.set_ylabel(label(pair.names[1]))
    if colorbar:
        cb = ax.figure.colorbar(mesh, ax=ax, **(colorbar_kw or {}))
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


def _axis(ax: Axes, values: np.ndarray, scale: str, kind: str,
          axis: str) -> tuple[np.ndarray, list[str] | None]:
    if kind in LEVEL_KINDS:
        levels = [str(v) for v in np.asarray(values, dtype=object).ravel()]
        return np.arange(len(levels) + 1) - 0.5, levels
    x = np.asarray(values, dtype=float)
    edges = cell_edges(x, scale)
    set_value_scale(ax, scale, float(edges[0]), float(edges[-1]), axis=axis)
    return edges, None


@styled
def interactions_figure(
    result: FanovaResult,
    *,
    params: Sequence[str] | None = None,
    title: str | None = None,
    direction: str | None = None,
) -> Figure:
    """The paper's Fig. 6 for one fit: joint marginals (left), interactions (right).

    Each matrix is lower-triangular: the cell in row ``i`` and column ``j < i`` shows
    the pair (``params[j]``, ``params[i]``), ``params[j]`` on the x axis. All cells of a
    matrix share one colour scale and one colour bar.

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

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(params) if params is not None else list(result.hyperparameters)
    if len(names) < 2:
        raise ValueError("an interaction matrix needs at least two hyperparameters")
    order = {n: i for i, n in enumerate(result.hyperparameters)}

    def pair_of(a: str, b: str) -> PairGrid | None:
        key = (a, b) if order.get(a, 0) <= order.get(b, 0) else (b, a)
        return result.pairs.get(key)

    cells = [(i, j, pair_of(names[j], names[i])) for i in range(1, len(names))
             for j in range(i)]
    missing = [f"{names[j]} × {names[i]}" for i, j, p in cells if p is None]
    if missing:
        raise KeyError(f"no pair grid for {', '.join(missing)} (analyse with pairs=True)")
    k = len(names) - 1
    side = 1.25 * k
    fig = new_figure(min(2 * side + 1.8, 11.0), side + 1.0)
    subfigs = fig.subfigures(1, 2, wspace=0.02)
    response = label(result.response)
    for subfig, kind in zip(subfigs, KINDS):
        arrays = [(_oriented(p, names[j]).total_mean if kind == "total"
                   else _oriented(p, names[j]).interaction_mean) for _, j, p in cells]
        norm = default_norm(arrays, kind)
        cmap = total_cmap() if kind == "total" else interaction_cmap()
        if direction == "maximize":
            cmap = cmap.reversed()
        axes = subfig.subplots(k, k, squeeze=False)
        used = []
        for i, j, pair in cells:
            ax = axes[i - 1, j]
            plot_pair(_oriented(pair, names[j]), kind, ax=ax, norm=norm, cmap=cmap)
            ax.set_gid(f"{kind}:{names[j]}:{names[i]}")
            ax.tick_params(labelsize=6)
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
        cb_label = (response if kind == "total" else f"interaction effect on {response}"
                    ) + better_note(direction)
        if k >= 2:
            # The colour bar sits in the empty upper triangle, above the cells it explains.
            host = subfig.add_subplot(axes[0, 1].get_gridspec()[0, 1:])
            host.set_axis_off()
            cax = host.inset_axes([0.08, 0.62, 0.84, 0.1])
            cb = subfig.colorbar(mesh, cax=cax, orientation="horizontal")
            cb.ax.xaxis.set_label_position("top")
            cb.ax.tick_params(labelsize=6)
            cb.locator = ticker.MaxNLocator(nbins=4, symmetric=kind != "total")
            cb.formatter = ticker.FuncFormatter(lambda v, _: f"{v:.3g}")
            cb.update_ticks()
        else:
            cb = subfig.colorbar(mesh, ax=used, shrink=0.8, aspect=25)
        cb.set_label(cb_label)
        subfig.suptitle("joint marginal (others averaged out)" if kind == "total"
                        else "interaction only (joint − main effects; grey = none)",
                        fontsize=8)
    if title is None:
        group = group_text(result.group)
        title = f"Pairwise effects on {response}" + (f" — {group}" if group else "")
    fig.suptitle(title)
    return fig


def _oriented(pair: PairGrid, x_name: str) -> PairGrid:
    """The pair with ``x_name`` first (transposed when stored the other way round)."""
    if pair.names[0] == x_name:
        return pair
    return PairGrid(
        (pair.names[1], pair.names[0]), pair.values_b, pair.values_a, pair.scale_b,
        pair.scale_a, pair.kind_b, pair.kind_a, pair.total_mean.T, pair.total_std.T,
        pair.interaction_mean.T, pair.interaction_std.T)
