"""Variant box plots (the paper's Fig. 3).

One box per variant of a task's test metric: box = 25th–75th percentile, whiskers = the
full range (minimum to maximum), red dot = mean, red line = median. Variants whose
difference from the reference is significant (from the comparison table) are drawn in
blue with thick lines; grey bars on a right axis show the mean number of parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..choices import choose, table_of
from ..compare import Comparison
from ..naming import value_text
from .style import (
    HIGHLIGHT_COLOR,
    MEAN_MEDIAN_COLOR,
    chars_in,
    get_axes,
    label,
    legend_columns,
    new_figure,
    set_level_ticks,
    shorten,
    styled,
    variant_color,
    variant_order,
    wrap,
)

#: Ratio of the largest value to the median above which the metric axis turns log.
LOG_SPAN = 50.0


def plot_variant_boxes(
    data: pd.DataFrame,
    metric: str | None = None,
    *,
    variant_key: str = "variant",
    order: Sequence[Any] | None = None,
    reference: Any = None,
    significant: Iterable[Any] | Mapping[Any, bool] = (),
    ylabel: str | None = None,
    yscale: str = "auto",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw one box per variant of ``metric``.

    Parameters
    ----------
    data
        The trials to draw (one task; all trials or the top ones), with columns
        ``variant_key`` and ``metric``.
    metric
        The column drawn (default: chosen from ``data`` as the command line chooses it,
        :func:`~odyssey_analysis.choices.choose`: ``test_error``, else the first test
        metric, else the first column that looks like a metric).
    variant_key
        The variant column.
    order
        Variants to draw, left to right; default: the paper's order, reference first.
    reference
        The reference variant, drawn first (default: as the command line chooses it:
        ``V`` if present, else the first variant in order).
    significant
        Variants to highlight (blue, thick lines): an iterable of variants or a
        mapping variant -> bool, e.g. from the comparison table.
    ylabel
        Label of the metric axis (default: the metric's display name).
    yscale
        ``"linear"``, ``"log"`` or ``"auto"``: log when every value is positive and the
        largest is more than :data:`LOG_SPAN` times the median (a few runs that nearly
        diverged would otherwise flatten every box).
    ax
        Where to draw (default: the current Axes).
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.boxplot` (e.g. ``widths``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the boxes; box patches carry ``gid="box:<variant>"``. Add the
        parameter bars with :func:`plot_params_bars`.
    """
    if metric is None or reference is None:
        chosen = choose(table_of(data), variant_key=variant_key, metric=metric,
                        reference=reference, with_time=False)
        metric, reference = chosen.metric, chosen.reference
    ax = get_axes(ax)
    if isinstance(significant, Mapping):
        highlight = {v for v, flag in significant.items() if bool(flag)}
    else:
        highlight = set(significant)
    present = list(dict.fromkeys(data[variant_key].tolist()))
    variants = list(order) if order is not None else variant_order(present, reference)
    values = [pd.to_numeric(data.loc[data[variant_key] == v, metric], errors="coerce")
              .to_numpy(dtype=float) for v in variants]
    values = [x[np.isfinite(x)] for x in values]
    keep = [i for i, x in enumerate(values) if x.size]
    variants = [variants[i] for i in keep]
    values = [values[i] for i in keep]
    positions = np.arange(len(variants))  # the ticks of set_level_ticks

    if not variants:
        ax.text(0.5, 0.5, "no trials", transform=ax.transAxes, ha="center", va="center")
        return ax
    style = {"widths": 0.6, "whis": (0, 100), "showmeans": True, "patch_artist": True,
             "showfliers": False,
             "meanprops": {"marker": "o", "markerfacecolor": MEAN_MEDIAN_COLOR,
                           "markeredgecolor": MEAN_MEDIAN_COLOR, "markersize": 3.5},
             "medianprops": {"color": MEAN_MEDIAN_COLOR, "linewidth": 1.3}}
    parts = ax.boxplot(values, positions=positions, **{**style, **kwargs})
    for i, variant in enumerate(variants):
        strong = variant in highlight
        edge = HIGHLIGHT_COLOR if strong else "black"
        width = 2.2 if strong else 0.9
        box = parts["boxes"][i]
        box.set_facecolor(to_rgba(variant_color(variant, present), 0.35))
        box.set_edgecolor(edge)
        box.set_linewidth(width)
        box.set_gid(f"box:{variant}")
        for line in parts["whiskers"][2 * i: 2 * i + 2] + parts["caps"][2 * i: 2 * i + 2]:
            line.set_color(edge)
            line.set_linewidth(width)
    if yscale == "auto":
        pooled = np.concatenate(values)
        wide = pooled.min() > 0 and pooled.max() > LOG_SPAN * np.median(pooled)
        yscale = "log" if wide else "linear"
    ax.set_yscale(yscale)
    # Horizontal when the names fit side by side, else upright and shortened, and only
    # every k-th named when even upright ones would overlap (the rules of every axis).
    set_level_ticks(ax, variants)
    ax.set_xlim(-0.6, len(variants) - 0.4)
    ax.set_ylabel(ylabel if ylabel is not None else label(metric))
    ax.grid(axis="y", color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


def plot_params_bars(
    params: Mapping[Any, float],
    *,
    ax: Axes,
    label_text: str = "parameters",
    **kwargs: Any,
) -> Axes | None:
    """Grey bars of each variant's parameter count on a right axis behind the boxes.

    Parameters
    ----------
    params
        Mean parameter count per variant (e.g. ``top_params_mean`` of the comparison).
    ax
        Axes drawn by :func:`plot_variant_boxes`: one bar under each of its boxes.
    label_text
        Label of the right axis.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.bar`.

    Returns
    -------
    matplotlib.axes.Axes or None
        The right axis with the bars, or ``None`` when no variant has a count.
    """
    by_name = {str(k): v for k, v in params.items()}
    # The boxes name their variants (gid "box:<variant>"), left to right from 0.
    variants = [str(p.get_gid())[4:] for p in ax.patches
                if str(p.get_gid()).startswith("box:")]
    heights = np.array([float(by_name.get(v, np.nan)) for v in variants])
    if not variants or not np.isfinite(heights).any():
        return None
    twin = ax.twinx()
    style = {"width": 0.8, "color": "0.88", "edgecolor": "none", "zorder": 0}
    twin.bar(np.arange(len(variants)), np.nan_to_num(heights), label=label_text,
             **{**style, **kwargs})
    twin.set_ylabel(label_text, color="0.45")
    twin.tick_params(axis="y", colors="0.45")
    twin.yaxis.set_major_formatter(ticker.EngFormatter(sep=""))
    twin.set_ylim(0, np.nanmax(heights) * 1.15)
    twin.spines["right"].set_visible(True)
    twin.spines["right"].set_color("0.6")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    return twin


@styled
def variants_figure(
    comparison: Comparison,
    *,
    tasks: Sequence[Any] | None = None,
    task_titles: Mapping[Any, str] | None = None,
) -> Figure:
    """The paper's Fig. 3: all trials (top row) and the best runs (bottom row) per task.

    Parameters
    ----------
    comparison
        The output of :func:`~odyssey_analysis.compare.compare`: the trials it tested
        are drawn (all of them on the top row, its top runs on the bottom row), its
        significant variants are highlighted (``significant_all`` on the top row,
        ``significant`` on the bottom row) and its parameter means are the bars
        (``top_params_mean``).
    tasks
        Tasks to draw, in order (default: as in the comparison).
    task_titles
        Column titles per task (default: the task name and, when the trials have a
        ``metric`` column, its value, e.g. ``speech — classification error``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    metric, reference = comparison.metric, comparison.reference
    better = "higher is better" if comparison.maximize else "lower is better"
    tasks = list(tasks) if tasks is not None else comparison.tasks
    n = max(1, len(tasks))
    width = min(max(2.1 * n + 0.9, 3.6), 11.0)
    fig = new_figure(width, 5.6)
    y_chars = chars_in(2.0, 8)
    axes = fig.subplots(2, n, squeeze=False)
    percent = f"{100 * comparison.top_fraction:g}%"
    has_bars = False
    for col, task in enumerate(tasks):
        rows = comparison.rows(task)
        comp = comparison.tests(task)
        order = [v for v in comp.index if v in set(rows["_variant"])]
        params = (comp["top_params_mean"].to_dict()
                  if "top_params_mean" in comp and comp["top_params_mean"].notna().any()
                  else None)
        ax_all = plot_variant_boxes(
            rows, metric, variant_key="_variant", order=order, reference=reference,
            significant=comp.get("significant_all", pd.Series(dtype=bool)).to_dict(),
            ylabel=wrap(f"{label(metric)}, all trials", y_chars, 2) + f"\n({better})"
            if col == 0 else "",
            ax=axes[0, col])
        ax_top = plot_variant_boxes(
            comparison.rows(task, top=True), metric, variant_key="_variant", order=order,
            reference=reference, significant=comp["significant"].to_dict(),
            ylabel=wrap(f"{label(metric)}, top {percent}", y_chars, 2) + "\n"
            + wrap(f"(by {label(comparison.select_by)})", y_chars, 2)
            if col == 0 else "", ax=axes[1, col])
        if params is not None:
            twin = plot_params_bars(params, ax=ax_top, label_text="parameters (top runs)"
                                    if col == n - 1 else "")
            has_bars = has_bars or twin is not None
        title = (task_titles or {}).get(task) or _task_title(task, rows)
        ax_all.set_title(wrap(title, chars_in(0.9 * width / n, 9), 2))
        ax_all.set_xticklabels([])
    handles = [
        Line2D([], [], marker="o", color=MEAN_MEDIAN_COLOR, linestyle="none", markersize=3.5,
               label="mean"),
        Line2D([], [], color=MEAN_MEDIAN_COLOR, label="median"),
        Patch(facecolor="white", edgecolor="black", label="25–75th percentile"),
        Line2D([], [], color="black", linewidth=0.9, label="whiskers: min–max"),
        Patch(facecolor="white", edgecolor=HIGHLIGHT_COLOR, linewidth=2.2,
              label=f"significant vs {shorten(value_text(reference), 16)} (Welch)"),
    ]
    if has_bars:
        handles.append(Patch(facecolor="0.88", label="parameters (top runs)"))
    fig.legend(handles=handles, loc="outside lower center",
               ncol=legend_columns([str(h.get_label()) for h in handles], width, most=3),
               frameon=False)
    return fig


def _task_title(task: Any, rows: pd.DataFrame) -> str:
    if "metric" in rows.columns:
        kinds = rows["metric"].dropna().astype(str).unique()
        if len(kinds) == 1 and kinds[0].strip():
            return f"{value_text(task)} — {label(kinds[0])}"
    return value_text(task)
