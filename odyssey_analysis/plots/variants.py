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

from ..compare import top_trials
from ..trials import TrialTable
from .style import (
    HIGHLIGHT_COLOR,
    MEAN_MEDIAN_COLOR,
    get_axes,
    label,
    new_figure,
    styled,
    variant_color,
    variant_order,
)

#: Ratio of the largest value to the median above which the metric axis turns log.
LOG_SPAN = 50.0


def plot_variant_boxes(
    data: pd.DataFrame,
    metric: str = "test_error",
    *,
    variant_key: str = "variant",
    order: Sequence[Any] | None = None,
    reference: Any = "V",
    significant: Iterable[Any] | Mapping[Any, bool] = (),
    params: Mapping[Any, float] | None = None,
    params_label: str = "parameters",
    ylabel: str | None = None,
    yscale: str = "auto",
    ax: Axes | None = None,
) -> Axes:
    """Draw one box per variant of ``metric``.

    Parameters
    ----------
    data
        The trials to draw (one task; all trials or the top ones), with columns
        ``variant_key`` and ``metric``.
    metric
        The column drawn.
    variant_key
        The variant column.
    order
        Variants to draw, left to right; default: the paper's order, reference first.
    reference
        The reference variant (first by default).
    significant
        Variants to highlight (blue, thick lines): an iterable of variants or a
        mapping variant -> bool, e.g. from the comparison table.
    params
        Mean parameter count per variant, drawn as grey bars on a right axis.
    params_label
        Label of the right axis.
    ylabel
        Label of the metric axis (default: the metric's display name).
    yscale
        ``"linear"``, ``"log"`` or ``"auto"``: log when every value is positive and the
        largest is more than :data:`LOG_SPAN` times the median (a few runs that nearly
        diverged would otherwise flatten every box).
    ax
        Where to draw (default: the current Axes).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the boxes; box patches carry ``gid="box:<variant>"``, and the
        parameter axis (if any) is ``ax.params_axis``.
    """
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
    positions = np.arange(1, len(variants) + 1)

    if params is not None and len(variants):
        heights = np.array([float(params.get(v, np.nan)) for v in variants])
        if np.isfinite(heights).any():
            twin = ax.twinx()
            twin.bar(positions, np.nan_to_num(heights), width=0.8, color="0.88",
                     edgecolor="none", zorder=0, label=params_label)
            twin.set_ylabel(params_label, color="0.45")
            twin.tick_params(axis="y", colors="0.45")
            twin.yaxis.set_major_formatter(ticker.EngFormatter(sep=""))
            twin.set_ylim(0, np.nanmax(heights) * 1.15)
            twin.spines["right"].set_visible(True)
            twin.spines["right"].set_color("0.6")
            ax.set_zorder(twin.get_zorder() + 1)
            ax.patch.set_visible(False)
            ax.params_axis = twin

    if not variants:
        ax.text(0.5, 0.5, "no trials", transform=ax.transAxes, ha="center", va="center")
        return ax
    parts = ax.boxplot(
        values, positions=positions, widths=0.6, whis=(0, 100), showmeans=True,
        patch_artist=True, showfliers=False,
        meanprops={"marker": "o", "markerfacecolor": MEAN_MEDIAN_COLOR,
                   "markeredgecolor": MEAN_MEDIAN_COLOR, "markersize": 3.5},
        medianprops={"color": MEAN_MEDIAN_COLOR, "linewidth": 1.3},
    )
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
    ax.set_xticks(positions)
    ax.set_xticklabels([str(v) for v in variants], rotation=90)
    ax.set_xlim(0.4, len(variants) + 0.6)
    ax.set_ylabel(ylabel if ylabel is not None else label(metric))
    ax.grid(axis="y", color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax


@styled
def variants_figure(
    trials: TrialTable | pd.DataFrame,
    comparison: pd.DataFrame,
    *,
    metric: str | None = None,
    select_by: str | None = None,
    top_fraction: float = 0.1,
    task_key: str | None = "task",
    variant_key: str = "variant",
    reference: Any = None,
    maximize: bool = False,
    tasks: Sequence[Any] | None = None,
    task_titles: Mapping[Any, str] | None = None,
) -> Figure:
    """The paper's Fig. 3: all trials (top row) and the best runs (bottom row) per task.

    Parameters
    ----------
    trials
        The trials (a TrialTable's analysed rows or a DataFrame).
    comparison
        The output of :func:`~odyssey_analysis.compare.compare_variants` for the same
        trials; it decides the highlighted variants (``significant_all`` on the top row,
        ``significant`` on the bottom row) and the parameter bars (``top_params_mean``).
    metric, select_by, reference
        Default: the ones recorded in ``comparison``.
    top_fraction
        Share of each variant's trials on the bottom row (as in the comparison).
    task_key, variant_key
        Column names (``task_key=None``: one column for all trials).
    maximize
        Larger ``select_by`` is better (as in the comparison).
    tasks
        Tasks to draw, in order (default: as in ``comparison``).
    task_titles
        Column titles per task (default: the task name and, when the trials have a
        ``metric`` column, its value, e.g. ``speech — classification error``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    frame = trials.frame if isinstance(trials, TrialTable) else trials
    metric = metric or _recorded(comparison, "metric", "test_error")
    select_by = select_by or _recorded(comparison, "select_by", metric)
    reference = reference if reference is not None else _recorded(comparison, "reference", "V")
    if task_key is None:
        frame = frame.assign(_task="all")
        comparison = comparison.assign(_task="all")
        task_key = "_task"
    if tasks is None:
        tasks = list(dict.fromkeys(comparison[task_key]))
    n = max(1, len(tasks))
    fig = new_figure(min(2.1 * n + 0.9, 11.0), 5.4)
    axes = fig.subplots(2, n, squeeze=False)
    percent = f"{100 * top_fraction:g}%"
    for col, task in enumerate(tasks):
        rows = frame[frame[task_key] == task]
        comp = comparison[comparison[task_key] == task].set_index("variant")
        order = [v for v in comp.index if v in set(rows[variant_key])]
        top = top_trials(rows, select_by, top_fraction, by=[variant_key], maximize=maximize)
        params = (comp["top_params_mean"].to_dict()
                  if "top_params_mean" in comp and comp["top_params_mean"].notna().any()
                  else None)
        ax_all = plot_variant_boxes(
            rows, metric, variant_key=variant_key, order=order, reference=reference,
            significant=comp.get("significant_all", pd.Series(dtype=bool)).to_dict(),
            ylabel=f"{label(metric)}, all trials" if col == 0 else "", ax=axes[0, col])
        plot_variant_boxes(
            top, metric, variant_key=variant_key, order=order, reference=reference,
            significant=comp["significant"].to_dict(), params=params,
            params_label="parameters (top runs)" if col == n - 1 else "",
            ylabel=f"{label(metric)}, top {percent}" if col == 0 else "", ax=axes[1, col])
        title = (task_titles or {}).get(task) or _task_title(task, rows)
        ax_all.set_title(title)
        ax_all.set_xticklabels([])
    handles = [
        Line2D([], [], marker="o", color=MEAN_MEDIAN_COLOR, linestyle="none", markersize=3.5,
               label="mean"),
        Line2D([], [], color=MEAN_MEDIAN_COLOR, label="median"),
        Patch(facecolor="white", edgecolor="black", label="25–75th percentile"),
        Line2D([], [], color="black", linewidth=0.9, label="whiskers: min–max"),
        Patch(facecolor="white", edgecolor=HIGHLIGHT_COLOR, linewidth=2.2,
              label=f"significant vs {reference} (Welch)"),
    ]
    if any(getattr(ax, "params_axis", None) is not None for ax in axes[1]):
        handles.append(Patch(facecolor="0.88", label="parameters (top runs)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=3 if n >= 2 else 2,
               frameon=False)
    return fig


def _recorded(comparison: pd.DataFrame, column: str, default: Any) -> Any:
    if column in comparison.columns and len(comparison):
        return comparison[column].iloc[0]
    return default


def _task_title(task: Any, rows: pd.DataFrame) -> str:
    if "metric" in rows.columns:
        kinds = rows["metric"].dropna().astype(str).unique()
        if len(kinds) == 1 and kinds[0].strip():
            return f"{task} — {label(kinds[0])}"
    return str(task)
