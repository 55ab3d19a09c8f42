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
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..choices import study_roles
from ..ordering import order_tasks
from ..quality import format_r2, low_oob_r2
from ..result import FanovaResult, Marginal, StudyResult
from .style import (
    BAND_ALPHA,
    better_note,
    get_axes,
    group_text,
    label,
    new_figure,
    set_value_scale,
    styled,
)

PRIMARY_COLOR = "#1f3a93"
SECONDARY_COLOR = "#c0392b"


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
        levels = [str(v) for v in np.asarray(marginal.values, dtype=object).ravel()]
        unique = list(dict.fromkeys(levels))
        first = [levels.index(level) for level in unique]
        pos = np.arange(len(unique))
        style = {"fmt": "o", "color": color, "ecolor": color, "elinewidth": 1.2,
                 "capsize": 3, "markersize": 4, "linestyle": "none", "label": label_text}
        ax.errorbar(pos, mean[first], yerr=std[first] if band else None,
                    **{**style, **kwargs})
        ax.set_xticks(pos)
        ax.set_xticklabels(unique, rotation=30 if max(map(len, unique)) > 6 else 0)
        ax.set_xlim(-0.5, len(unique) - 0.5)
    else:
        x = np.asarray(marginal.values, dtype=float)
        ax.plot(x, mean, **{"color": color, "linestyle": linestyle, "label": label_text,
                            **kwargs})
        if band:
            ax.fill_between(x, mean - std, mean + std, color=color, alpha=BAND_ALPHA,
                            linewidth=0)
        set_value_scale(ax, marginal.scale, float(x.min()), float(x.max()))
        ax.set_xlim(float(x.min()), float(x.max()))
    ax.set_xlabel(label(marginal.name) if xlabel is None else xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def plot_marginals_twin(
    result: FanovaResult,
    name: str,
    secondary: FanovaResult | None = None,
    *,
    ax: Axes | None = None,
    ylabel: str | None = None,
    secondary_ylabel: str | None = None,
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

    Returns
    -------
    ax, twin
        The main Axes and the right axis of the second response (``None`` without one).
    """
    ax = get_axes(ax)
    plot_marginal(result.marginals[name], ax=ax, color=PRIMARY_COLOR,
                  ylabel=label(result.response) if ylabel is None else ylabel,
                  label_text=label(result.response))
    ax.tick_params(axis="y", colors=PRIMARY_COLOR)
    if secondary is not None and name in secondary.marginals:
        twin = ax.twinx()
        plot_marginal(secondary.marginals[name], ax=twin, color=SECONDARY_COLOR,
                      linestyle="--", xlabel=ax.get_xlabel(),
                      ylabel=(label(secondary.response) if secondary_ylabel is None
                              else secondary_ylabel),
                      label_text=label(secondary.response))
        twin.tick_params(axis="y", colors=SECONDARY_COLOR)
        twin.spines["right"].set_visible(True)
        return ax, twin
    return ax, None


@styled
def marginals_figure(
    study: StudyResult,
    *,
    response: str | None = None,
    secondary: str | None = "train_time",
    params: Sequence[str] | None = None,
    variant: Any = None,
    task_key: str | None = None,
    variant_key: str | None = None,
    tasks: Sequence[Any] | None = None,
    where: Mapping[str, Any] | None = None,
    direction: str | None = None,
    title: str | None = None,
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
        A second response drawn on a right axis (``None``, or absent from the study,
        for none).
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
    n_rows, n_cols = len(rows), len(params)
    fig = new_figure(min(1.9 * n_cols + 0.9 + (0.4 if has_secondary else 0), 11.0),
                     1.55 * n_rows + 0.9)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i, (title, result) in enumerate(rows):
        other = (study.get(secondary, **_group_filter(result.group, study.group_keys))
                 if has_secondary else None)
        twins = []
        for j, name in enumerate(params):
            ax = axes[i, j]
            if j > 0:
                ax.sharey(axes[i, 0])
            _, twin = plot_marginals_twin(
                result, name, other, ax=ax,
                ylabel=(f"{title}\n{label(response)}" if title else label(response))
                if j == 0 else "",
                secondary_ylabel=label(secondary) if j == n_cols - 1 and other else "")
            if j > 0:
                ax.tick_params(axis="y", labelleft=False)
            if twin is not None:
                if twins:
                    twin.sharey(twins[0])
                twins.append(twin)
                if j < n_cols - 1:
                    twin.tick_params(axis="y", labelright=False)
            if i < n_rows - 1:
                ax.set_xlabel("")
            if low_oob_r2(result.oob_r2) and j == n_cols - 1:
                ax.text(0.98, 0.95, f"OOB R² {format_r2(result.oob_r2)}", transform=ax.transAxes,
                        ha="right", va="top", fontsize=6, color="#b35900")
        for twin in twins:
            twin.autoscale(axis="y")
    handles = [Line2D([], [], color=PRIMARY_COLOR,
                      label=f"{label(response)} (mean over trees){better_note(direction)}"),
               Patch(facecolor=PRIMARY_COLOR, alpha=BAND_ALPHA, label="± std across trees")]
    if has_secondary:
        handles.append(Line2D([], [], color=SECONDARY_COLOR, linestyle="--",
                              label=f"{label(secondary)} (right axis)"))
    fig.suptitle(fig_title)
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
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
        rows = [(str(t), by_task[str(t)]) for t in tasks if str(t) in by_task]
    else:
        rows = [(", ".join(f"{v}" for k, v in r.group.items()
                           if k != variant_key and k not in fixed), r)
                for r in out]
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
