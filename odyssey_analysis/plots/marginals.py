"""Marginal curves (the paper's Fig. 4).

The fANOVA marginal of a response over one hyperparameter: the mean over the forest's
trees as a line, the standard deviation across trees as a shaded band (how much the
trees disagree, not the spread of the data). Log-sampled hyperparameters get a log
axis; ticks are in original units. Categorical and ordinal hyperparameters are drawn as
points with error bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..choices import study_roles
from ..naming import value_text
from ..ordering import GroupOrder, order_tasks
from ..quality import format_r2, low_oob_r2
from ..result import FanovaResult, Marginal, StudyResult
from .style import (
    BAND_ALPHA,
    LINE_HEIGHT,
    TURNED_LABELS,
    axes_length,
    better_note,
    chars_in,
    get_axes,
    group_text,
    label,
    legend_columns,
    levels_turn,
    new_figure,
    set_level_ticks,
    set_value_scale,
    styled,
    wrap,
)

PRIMARY_COLOR = "#1f3a93"
SECONDARY_COLOR = "#c0392b"
RUG_COLOR = "0.35"
#: Most hyperparameters side by side; more wrap onto further rows of the same task.
MAX_COLUMNS = 5
#: Width and height of one panel of :func:`marginals_figure` (inches).
PANEL_WIDTH = 1.95
PANEL_HEIGHT = 1.45


def plot_marginal(
    marginal: Marginal,
    *,
    ax: Axes | None = None,
    color: str = PRIMARY_COLOR,
    linestyle: str = "-",
    band: bool = True,
    label_text: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    rug: bool = True,
    **kwargs: Any,
) -> Axes:
    """Draw one hyperparameter's marginal: mean over trees ± std across trees.

    Parameters
    ----------
    marginal
        The curve (from a :class:`~odyssey_analysis.result.FanovaResult`).
    ax
        Where to draw (default: the current Axes).
    color, linestyle
        Style of the mean curve; the band takes the same colour, lighter.
    band
        Draw the ± one standard deviation band (a PolyCollection).
    label_text
        Legend label of the curve.
    xlabel, ylabel
        Axis labels (default: the hyperparameter's display name; no y label).
    rug
        Mark the observed trials (``marginal.observed``) along the bottom of the Axes:
        one tick per trial at its value, spread across the width of its level for
        categorical and ordinal hyperparameters (a Line2D with ``gid="rug"``).
    **kwargs
        Passed to the artist of the mean: :meth:`~matplotlib.axes.Axes.plot` for a
        numeric hyperparameter, :meth:`~matplotlib.axes.Axes.errorbar` for levels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = get_axes(ax)
    mean = np.asarray(marginal.mean, dtype=float)
    std = np.asarray(marginal.std, dtype=float)
    if marginal.drawn_as_levels:
        raw = list(np.asarray(marginal.values, dtype=object).ravel())
        levels = [str(v) for v in raw]
        unique = list(dict.fromkeys(levels))
        first = [levels.index(level) for level in unique]
        pos = np.arange(len(unique))
        many = len(unique) > 12
        style = {"fmt": "o", "color": color, "ecolor": color,
                 "elinewidth": 0.8 if many else 1.2, "capsize": 1.5 if many else 3,
                 "markersize": 2.5 if many else 4, "linestyle": "none", "label": label_text}
        ax.errorbar(pos, mean[first], yerr=std[first] if band else None,
                    **{**style, **kwargs})
        set_level_ticks(ax, [raw[i] for i in first])
        ax.set_xlim(-0.5, len(unique) - 0.5)
        if rug and marginal.observed is not None:
            _level_rug(ax, marginal.observed, unique)
    else:
        x = np.asarray(marginal.values, dtype=float)
        ax.plot(x, mean, **{"color": color, "linestyle": linestyle, "label": label_text,
                            **kwargs})
        if band:
            ax.fill_between(x, mean - std, mean + std, color=color, alpha=BAND_ALPHA,
                            linewidth=0)
        set_value_scale(ax, marginal.scale, float(x.min()), float(x.max()),
                        integer=marginal.kind == "int",
                        max_ticks=max(2, int(axes_length(ax) / 0.45)))
        ax.set_xlim(float(x.min()), float(x.max()))
        if rug and marginal.observed is not None:
            seen = np.asarray(marginal.observed, dtype=float)
            _rug(ax, seen[np.isfinite(seen)])
    ax.set_xlabel(wrap(label(marginal.name), chars_in(axes_length(ax), 8), 2)
                  if xlabel is None else xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def _rug(ax: Axes, x: np.ndarray) -> None:
    """Ticks along the bottom edge at ``x`` (data units across, Axes units up)."""
    if not x.size:
        return
    ax.plot(x, np.full(x.size, 0.0), linestyle="none", marker="|", markersize=4,
            markeredgewidth=0.5, color=RUG_COLOR, alpha=0.6,
            transform=ax.get_xaxis_transform(), clip_on=True, gid="rug", zorder=1)


def _level_rug(ax: Axes, observed: np.ndarray, levels: list[str]) -> None:
    """The trials of each level spread evenly across ±0.3 of its position (no jitter:
    the same trials give the same image)."""
    text = np.array([str(v) for v in np.asarray(observed, dtype=object).ravel()])
    xs = []
    for i, level in enumerate(levels):
        count = int((text == level).sum())
        if count:
            xs.append(i + (np.linspace(-0.3, 0.3, count) if count > 1 else np.zeros(1)))
    if xs:
        _rug(ax, np.concatenate(xs))


def plot_marginals_twin(
    result: FanovaResult,
    name: str,
    secondary: FanovaResult | None = None,
    *,
    ax: Axes | None = None,
    ylabel: str | None = None,
    secondary_ylabel: str | None = None,
    xlabel: str | None = None,
    marginal_kw: Mapping[str, Any] | None = None,
    secondary_kw: Mapping[str, Any] | None = None,
) -> tuple[Axes, Axes | None]:
    """One hyperparameter's marginal of a response, with a second response on a twin axis.

    Parameters
    ----------
    result
        The fit of the main response (e.g. test error).
    name
        The hyperparameter.
    secondary
        The fit of a second response in the same group (e.g. training time), drawn
        dashed on a right axis; ``None`` for none.
    ax
        Where to draw.
    ylabel, secondary_ylabel
        Axis labels (default: the responses' display names; ``""`` for none).
    xlabel
        The x label (default: the hyperparameter's display name).
    marginal_kw, secondary_kw
        Passed to :func:`plot_marginal` for the main response's curve and the second
        response's (e.g. ``{"band": False}``, ``{"color": "black"}``).

    Returns
    -------
    ax, twin
        The main Axes and the right axis of the second response (``None`` without one).
    """
    ax = get_axes(ax)
    plot_marginal(result.marginals[name], ax=ax, **{
        "color": PRIMARY_COLOR, "xlabel": xlabel,
        "ylabel": label(result.response) if ylabel is None else ylabel,
        "label_text": label(result.response), **(marginal_kw or {})})
    ax.tick_params(axis="y", colors=(marginal_kw or {}).get("color", PRIMARY_COLOR))
    if secondary is not None and name in secondary.marginals:
        twin = ax.twinx()
        plot_marginal(secondary.marginals[name], ax=twin, **{
            "color": SECONDARY_COLOR, "linestyle": "--", "xlabel": ax.get_xlabel(),
            "rug": False, "label_text": label(secondary.response),
            "ylabel": (label(secondary.response) if secondary_ylabel is None
                       else secondary_ylabel), **(secondary_kw or {})})
        twin.tick_params(axis="y", colors=(secondary_kw or {}).get("color", SECONDARY_COLOR))
        twin.spines["right"].set_visible(True)
        return ax, twin
    return ax, None


@styled
def marginals_figure(
    study: StudyResult,
    *,
    response: str | None = None,
    secondary: str | None = None,
    params: Sequence[str] | None = None,
    variant: Any = None,
    task_key: str | None = None,
    variant_key: str | None = None,
    tasks: Sequence[Any] | None = None,
    where: Mapping[str, Any] | None = None,
    direction: str | None = None,
    title: str | None = None,
    marginal_kw: Mapping[str, Any] | None = None,
    secondary_kw: Mapping[str, Any] | None = None,
) -> Figure:
    """The paper's Fig. 4: tasks as rows, hyperparameters as columns, for one variant.

    Parameters
    ----------
    study
        The analysed study (with ``response`` and, optionally, ``secondary``).
    response
        The response whose marginals are drawn (left axis); ``None``: chosen from the
        study as the command line chooses it (as are ``variant``, ``task_key`` and
        ``variant_key``: :func:`~odyssey_analysis.choices.study_roles`).
    secondary
        A second response drawn dashed on a right axis, e.g. the training time as in
        the paper (default ``None``, or one absent from the study: none).
    params
        Hyperparameters (columns), default: all of the study's.
    variant
        The variant shown, when the study is grouped by ``variant_key``.
    task_key, variant_key
        Group keys (a key the study does not group by is ignored).
    tasks
        Rows in order (default: every task of the study).
    where
        Values of the study's other group keys that the figure shows (every group key
        but the task's and the variant's must be fixed when the study has more).
    direction
        ``"minimize"`` or ``"maximize"``: said in the legend.
    title
        Figure title (default: the response and every group value shown).
    marginal_kw, secondary_kw
        Passed to :func:`plot_marginal` for every panel's curve of ``response`` and of
        ``secondary`` (e.g. ``{"band": False}``); the legend follows their ``color`` and
        ``linestyle``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    response, variant, task_key, variant_key = study_roles(
        study, response=response, variant=variant, task_key=task_key,
        variant_key=variant_key)
    fig_title = title or f"Marginals of {label(response)}" + _shown(study, variant,
                                                                    variant_key, where)
    rows = select_rows(study, response, variant=variant, task_key=task_key,
                       variant_key=variant_key, tasks=tasks, where=where)
    params = list(params) if params is not None else list(rows[0][1].hyperparameters)
    has_secondary = secondary is not None and secondary in study.responses
    secondary_text = label(secondary) if secondary is not None else ""
    n_params = len(params)
    blocks = -(-n_params // MAX_COLUMNS)  # rows of panels per task
    n_cols = -(-n_params // blocks)  # as even as can be: 6 are two rows of 3
    n_rows = len(rows) * blocks
    width = min(PANEL_WIDTH * n_cols + 1.2 + (0.5 if has_secondary else 0), 11.0)
    x_chars = chars_in(0.9 * (width - 1.2) / n_cols, 8)
    y_chars = chars_in(PANEL_HEIGHT - 0.35, 8)
    title_text = wrap(fig_title, chars_in(0.95 * width, 10), max_lines=2)
    main_style = {"color": PRIMARY_COLOR, "linestyle": "-", **(marginal_kw or {})}
    second_style = {"color": SECONDARY_COLOR, "linestyle": "--", **(secondary_kw or {})}
    main_text = wrap(f"{label(response)} (mean over trees){better_note(direction)}",
                     chars_in(0.6 * width, 7), 2)
    handles: list[Artist] = [Line2D([], [], color=main_style["color"],
                                    linestyle=main_style["linestyle"], label=main_text)]
    if main_style.get("band", True):
        handles.append(Patch(facecolor=main_style["color"], alpha=BAND_ALPHA,
                             label="± std across trees"))
    if any(r.marginals[p].observed is not None for _, r in rows for p in params
           if p in r.marginals):
        handles.append(Line2D([], [], color=RUG_COLOR, marker="|", linestyle="none",
                              label="observed trials (rug)"))
    if has_secondary:
        handles.append(Line2D([], [], color=second_style["color"],
                              linestyle=second_style["linestyle"],
                              label=wrap(f"{secondary_text} (right axis)",
                                         chars_in(0.6 * width, 7), 2)))
    labels = [str(h.get_label()) for h in handles]
    ncol = legend_columns(labels, width)
    legend_lines = sum(max(t.count("\n") + 1 for t in labels[c::ncol])
                       for c in range(ncol)) if ncol == 1 else \
        -(-len(labels) // ncol) * max(t.count("\n") + 1 for t in labels)
    extra = (title_text.count("\n") + 1) * 0.2 + legend_lines * LINE_HEIGHT * 7 / 72 + 0.35
    panel_width = (width - 1.2 - (0.5 if has_secondary else 0)) / n_cols
    turned = any(m.drawn_as_levels and levels_turn(list(dict.fromkeys(
        map(str, np.asarray(m.values, dtype=object).ravel()))), panel_width)
        for _, r in rows for p in params if (m := r.marginals.get(p)) is not None)
    row_height = PANEL_HEIGHT + (0.25 if blocks > 1 else 0) + (TURNED_LABELS if turned else 0)
    fig = new_figure(width, row_height * n_rows + extra)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i, (row_title, result) in enumerate(rows):
        other = (study.get(secondary, **_group_filter(result.group, study.group_keys))
                 if has_secondary else None)
        twins: list[Axes] = []
        y_text = wrap(f"{row_title}: {label(response)}" if row_title else label(response),
                      y_chars, 3)
        for j, name in enumerate(params):
            r, c = i * blocks + j // n_cols, j % n_cols
            ax = axes[r, c]
            last_in_row = c == n_cols - 1 or j == n_params - 1
            if j > 0:
                ax.sharey(axes[i * blocks, 0])
            _, twin = plot_marginals_twin(
                result, name, other, ax=ax, xlabel=wrap(label(name), x_chars, 2),
                ylabel=y_text if c == 0 else "",
                secondary_ylabel=(wrap(secondary_text, y_chars, 3)
                                  if last_in_row and other else ""),
                marginal_kw=marginal_kw, secondary_kw=secondary_kw)
            if c > 0:
                ax.tick_params(axis="y", labelleft=False)
            if twin is not None:
                if twins:
                    twin.sharey(twins[0])
                twins.append(twin)
                if not last_in_row:
                    twin.tick_params(axis="y", labelright=False)
            if blocks == 1 and i < len(rows) - 1:
                ax.set_xlabel("")
            if low_oob_r2(result.oob_r2) and j == n_params - 1:
                ax.text(0.98, 0.95, f"OOB R² {format_r2(result.oob_r2)}", transform=ax.transAxes,
                        ha="right", va="top", fontsize=6, color="#b35900")
        for j in range(n_params, blocks * n_cols):
            axes[i * blocks + j // n_cols, j % n_cols].set_visible(False)
        for twin in twins:
            twin.autoscale(axis="y")
    fig.suptitle(title_text)
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, frameon=False)
    return fig


def select_rows(
    study: StudyResult,
    response: str | None = None,
    *,
    variant: Any = None,
    task_key: str | None = None,
    variant_key: str | None = None,
    tasks: Sequence[Any] | None = None,
    where: Mapping[str, Any] | None = None,
) -> list[tuple[str, FanovaResult]]:
    """The fits of one variant, one per task, as ``(task title, result)`` in order.

    Roles left at ``None`` are chosen from the study
    (:func:`~odyssey_analysis.choices.study_roles`). Keys the study does not group by
    are ignored; ``where`` fixes the values of other group keys. With no task key there
    is one row per remaining group, titled by its values (an empty title when nothing is
    left to tell the rows apart).

    Raises
    ------
    KeyError
        When no fit matches.
    """
    response, variant, task_key, variant_key = study_roles(
        study, response=response, variant=variant, task_key=task_key,
        variant_key=variant_key)
    fixed = dict(where or {})
    out = []
    for result in study:
        if result.response != response:
            continue
        if variant_key in study.group_keys and str(result.group.get(variant_key)) != str(variant):
            continue
        if any(str(result.group.get(k)) != str(v) for k, v in fixed.items()):
            continue
        out.append(result)
    if task_key in study.group_keys:
        if tasks is None:
            tasks = order_tasks([r.group[task_key] for r in out])
        by_task = {str(r.group[task_key]): r for r in out}
        rows = [(value_text(t), by_task[str(t)]) for t in tasks if str(t) in by_task]
    else:
        keys = [k for k in study.group_keys if k != variant_key and k not in fixed]
        order = GroupOrder(keys, [tuple(r.group.get(k) for k in keys) for r in out],
                           task_key=None, variant_key=None)
        out.sort(key=lambda r: order.key(tuple(r.group.get(k) for k in keys)))
        rows = [(group_text([(k, r.group.get(k)) for k in keys]), r) for r in out]
    if not rows:
        raise KeyError(f"no results for response {response!r} and {variant_key}={variant!r}")
    return rows


def _shown(study: StudyResult, variant: Any, variant_key: str | None,
           where: Mapping[str, Any] | None) -> str:
    """`` (variant V, optimizer adam)``: the group values a figure is restricted to."""
    shown = [(variant_key, variant)] if variant_key in study.group_keys else []
    shown += list((where or {}).items())
    return f" ({group_text(shown)})" if shown else ""


def _group_filter(group: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: group[k] for k in keys if k in group}
