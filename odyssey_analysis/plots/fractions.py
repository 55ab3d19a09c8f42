"""Variance fractions (the paper's Fig. 5).

A pie per task: the share of the response's variance explained by each
hyperparameter's main effect, with everything else (pairwise and higher
interactions) folded into one "higher order" wedge, as the paper draws it. A bar chart
beside it shows the same shares with their standard deviation across trees, plus the
largest pairwise interactions and the remainder beyond pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..choices import study_roles
from ..result import FanovaResult, StudyResult
from .marginals import _shown, select_rows
from .style import (
    HIGHER_ORDER_COLOR,
    LINE_HEIGHT,
    PAIR_COLOR,
    chars_in,
    get_axes,
    label,
    legend_columns,
    new_figure,
    param_colors,
    shorten,
    styled,
    wrap,
)

#: Longest bar label (characters); longer names end in an ellipsis (the legend has them).
BAR_LABEL_CHARS = 34
#: Longest legend entry (characters).
LEGEND_CHARS = 36

HIGHER_ORDER_LABEL = "higher order"


def plot_fraction_pie(
    result: FanovaResult,
    *,
    ax: Axes | None = None,
    colors: Mapping[str, str] | None = None,
    min_pct_label: float = 8.0,
    **kwargs: Any,
) -> Axes:
    """A pie of the main effects' shares of variance plus "higher order" (the rest).

    Parameters
    ----------
    result
        One fit.
    ax
        Where to draw (default: the current Axes).
    colors
        Colour per hyperparameter (default: the fixed palette).
    min_pct_label
        Wedges smaller than this (in percent) get no percentage printed on them.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.pie` (e.g. ``radius``, ``wedgeprops``).

    Returns
    -------
    matplotlib.axes.Axes
        Wedges carry ``gid=<hyperparameter>`` (and ``"higher order"``).
    """
    ax = get_axes(ax)
    names = list(result.hyperparameters)
    colors = dict(colors or param_colors(names))
    if _no_signal(result, ax):
        return ax
    mean = result.main_fraction().mean.to_numpy()
    if not np.isfinite(mean).all():
        ax.text(0.5, 0.5, "no variance to share", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    shares = np.clip(mean, 0.0, None)
    rest = max(0.0, 1.0 - float(shares.sum()))
    sizes = np.append(shares, rest)
    labels = [*names, HIGHER_ORDER_LABEL]
    wedge_colors = [colors.get(n, PAIR_COLOR) for n in names] + [HIGHER_ORDER_COLOR]

    def pct(value: float) -> str:
        return f"{value:.0f}%" if value >= min_pct_label else ""

    style = {"startangle": 90, "counterclock": False, "autopct": pct, "pctdistance": 0.7,
             "wedgeprops": {"linewidth": 0.8, "edgecolor": "white"},
             "textprops": {"fontsize": 7}}
    wedges, _texts, autotexts = ax.pie(sizes, colors=wedge_colors, **{**style, **kwargs})
    for wedge, name in zip(wedges, labels):
        wedge.set_gid(name)
    for text, color in zip(autotexts, wedge_colors):
        text.set_color("black" if color == HIGHER_ORDER_COLOR else "white")
    ax.set_aspect("equal")
    return ax


def _no_signal(result: FanovaResult, ax: Axes) -> bool:
    """Without detectable signal, write the fit's note in place of its shares."""
    note = getattr(result, "signal_note", None)
    if note is None:
        return False
    ax.text(0.5, 0.5, note.replace(" (", "\n("), ha="center", va="center", fontsize=7,
            color="0.25", transform=ax.transAxes)
    ax.set_axis_off()
    return True


class FractionBar(NamedTuple):
    """One bar of :func:`plot_fraction_bars` (shares as fractions, not percent).

    ``kind`` is the hyperparameter for a main effect, ``"pair"`` or ``"higher"``;
    ``lower``/``upper`` are the calibrated interval (NaN without a bootstrap).
    """

    label: str
    mean: float
    std: float
    kind: str
    lower: float = float("nan")
    upper: float = float("nan")


def fraction_bars_data(result: FanovaResult, n_pairs: int = 3) -> list[FractionBar]:
    """The bars of :func:`plot_fraction_bars`.

    Main effects (largest first), the ``n_pairs`` largest pairs, then the remainder
    beyond pairs (which has no interval).
    """
    names = list(result.hyperparameters)
    d = len(names)
    mean, std = (s.to_numpy() for s in result.main_fraction())
    pmean, pstd = (s.to_numpy() for s in result.pair_fraction())
    ci = result.intervals
    lo, hi = (ci.main_lower, ci.main_upper) if ci else (np.full(d, np.nan),) * 2
    plo, phi = (ci.pair_lower, ci.pair_upper) if ci else (np.full((d, d), np.nan),) * 2
    bars = [FractionBar(label(n), float(mean[j]), float(std[j]), n, float(lo[j]),
                        float(hi[j])) for j, n in enumerate(names)]
    bars.sort(key=lambda b: -b.mean if np.isfinite(b.mean) else 0.0)
    pairs = [FractionBar(f"{label(names[j])} × {label(names[k])}", float(pmean[j, k]),
                         float(pstd[j, k]), "pair", float(plo[j, k]), float(phi[j, k]))
             for j in range(d) for k in range(j + 1, d)]
    pairs.sort(key=lambda b: -b.mean if np.isfinite(b.mean) else 0.0)
    h_mean, h_std = result.higher_order_fraction()
    return [*bars, *pairs[:n_pairs], FractionBar("beyond pairs", h_mean, h_std, "higher")]


def plot_fraction_bars(
    result: FanovaResult,
    *,
    ax: Axes | None = None,
    n_pairs: int = 3,
    colors: Mapping[str, str] | None = None,
    errorbar_kw: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> Axes:
    """Horizontal bars of the variance shares, with their calibrated intervals.

    A fit with a bootstrap draws each share's interval (which is centred on the
    bias-corrected share, so it need not be symmetric about the bar); without one the
    whiskers are ± one standard deviation across the trees, a measure of the trees'
    disagreement and not an interval, and the axis label says so.

    Parameters
    ----------
    result
        One fit.
    ax
        Where to draw (default: the current Axes).
    n_pairs
        How many of the largest pairwise interactions to list.
    colors
        Colour per hyperparameter.
    errorbar_kw
        Passed to :meth:`matplotlib.axes.Axes.errorbar` for the whiskers.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh` (e.g. ``height``, ``alpha``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax)
    if _no_signal(result, ax):
        return ax
    colors = dict(colors or param_colors(result.hyperparameters))
    bars = fraction_bars_data(result, n_pairs)
    y = np.arange(len(bars))[::-1]
    means = np.array([100 * b.mean for b in bars])
    if result.intervals is not None:
        lower = np.array([100 * b.lower for b in bars])
        upper = np.array([100 * b.upper for b in bars])
    else:
        stds = np.nan_to_num(np.array([100 * b.std for b in bars]))
        lower, upper = means - stds, means + stds
    fill = [colors.get(b.kind, PAIR_COLOR) if b.kind not in ("pair", "higher") else
            (PAIR_COLOR if b.kind == "pair" else HIGHER_ORDER_COLOR) for b in bars]
    ax.barh(y, np.nan_to_num(means), **{"color": fill, "height": 0.7, **kwargs})
    shown = np.isfinite(lower) & np.isfinite(upper)
    whiskers = {"fmt": "none", "elinewidth": 0.8, "capsize": 2, "ecolor": "0.2"}
    ax.errorbar(0.5 * (lower + upper)[shown], y[shown], xerr=0.5 * (upper - lower)[shown],
                **{**whiskers, **(errorbar_kw or {})})
    ax.set_yticks(y)
    ax.set_yticklabels([_bar_label(b) for b in bars])
    ax.set_xlabel("share of variance [%]" + (
        f" — whiskers: {100 * result.intervals.conf_level:.0f} % interval"
        if result.intervals is not None
        else " — whiskers: spread across trees"))
    reach = np.fmax(np.nan_to_num(means), np.nan_to_num(upper))
    top = float(np.max(reach)) if np.isfinite(means).any() else 1.0
    limit = max(5.0, min(100.0, top * 1.08))
    ax.set_xlim(0, limit)
    for yi, m, lo, hi in zip(y, means, lower, upper):
        if not np.isfinite(m):
            continue
        text = f"{m:.1f}%"
        left = min(m, lo) if np.isfinite(lo) else m
        right = max(m, hi) if np.isfinite(hi) else m
        if m > 0.6 * limit:
            ax.text(left - 0.01 * limit, yi, text, va="center", ha="right", fontsize=6,
                    color="white")
        else:
            ax.text(right + 0.01 * limit, yi, text, va="center", ha="left", fontsize=6,
                    color="0.25")
    ax.grid(axis="x", color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


def _bar_label(bar: FractionBar) -> str:
    """A bar's label within :data:`BAR_LABEL_CHARS`; a pair shortens each of its names."""
    if bar.kind == "pair" and len(bar.label) > BAR_LABEL_CHARS:
        half = (BAR_LABEL_CHARS - 3) // 2
        return " × ".join(shorten(part, half) for part in bar.label.split(" × ", 1))
    return shorten(bar.label, BAR_LABEL_CHARS)


@styled
def fractions_figure(
    study: StudyResult,
    *,
    response: str | None = None,
    variant: Any = None,
    task_key: str | None = None,
    variant_key: str | None = None,
    tasks: Sequence[Any] | None = None,
    n_pairs: int = 3,
    where: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> Figure:
    """The paper's Fig. 5: per task (rows), a pie and the shares with their spread.

    Parameters
    ----------
    study
        The analysed study.
    response, variant, task_key, variant_key
        The response whose variance is shared out, the variant shown (when the study
        is grouped by ``variant_key``) and the group keys of the task and the variant;
        each left at ``None`` is chosen from the study as the command line chooses it
        (:func:`~odyssey_analysis.choices.study_roles`).
    tasks
        Columns in order (default: every task of the study).
    n_pairs
        Pairs listed in each bar chart.
    where
        Values of the study's other group keys that the figure shows.
    title
        Figure title (default: the response and every group value shown).

    Returns
    -------
    matplotlib.figure.Figure
    """
    response, variant, task_key, variant_key = study_roles(
        study, response=response, variant=variant, task_key=task_key,
        variant_key=variant_key)
    fig_title = title or f"Share of the variance of {label(response)}" + _shown(
        study, variant, variant_key, where)
    rows = select_rows(study, response, variant=variant, task_key=task_key,
                       variant_key=variant_key, tasks=tasks, where=where)
    n = len(rows)
    names = list(rows[0][1].hyperparameters)
    colors = param_colors(names)
    n_bars = len(names) + min(n_pairs, len(names) * (len(names) - 1) // 2) + 1
    longest = max(len(_bar_label(b)) for b in fraction_bars_data(rows[0][1], n_pairs))
    width = min(6.4 + max(0, longest - 24) * 0.06, 8.5)
    handles = [Patch(facecolor=colors[name], label=shorten(label(name), LEGEND_CHARS))
               for name in names]
    handles.append(Patch(facecolor=HIGHER_ORDER_COLOR, label=wrap(
        "higher order (pie: all interactions; bars: beyond pairs)", LEGEND_CHARS, 2)))
    handles.append(Patch(facecolor=PAIR_COLOR, label="pairwise interaction"))
    ncol = legend_columns([str(h.get_label()) for h in handles], width)
    legend_height = (-(-len(handles) // ncol) + 1) * LINE_HEIGHT * 7 / 72 * 1.15
    title_text = wrap(fig_title, chars_in(0.95 * width, 10), 2)
    row_height = max(1.9, 0.14 * n_bars + 0.75)
    fig = new_figure(width, row_height * n + 0.5 + legend_height
                     + 0.2 * (title_text.count("\n") + 1))
    axes = fig.subplots(n, 2, squeeze=False, width_ratios=[1.0, 1.9])
    for row, (row_title, result) in enumerate(rows):
        plot_fraction_pie(result, ax=axes[row, 0], colors=colors)
        axes[row, 0].set_title(wrap(row_title, chars_in(0.3 * width, 9), 2), loc="left")
        plot_fraction_bars(result, ax=axes[row, 1], n_pairs=n_pairs, colors=colors)
        if row < n - 1:
            axes[row, 1].set_xlabel("")
    fig.suptitle(title_text)
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, frameon=False)
    return fig
