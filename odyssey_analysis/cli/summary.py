"""The console summaries: the largest effects per group, and the significant variants."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from ..naming import value_text
from ..quality import low_oob_r2, quality_words
from .common import text


def effects_table(study: Any, response: str | None = None, *, top: int = 3,
                  only: dict[str, Any] | None = None, order: Any = None) -> Table:
    """The largest effects of ``response`` per group, with each fit's out-of-bag R².

    Parameters
    ----------
    study
        A :class:`~odyssey_analysis.result.StudyResult`.
    response
        The response (default: the study's first).
    top
        Effects listed per group.
    only
        Show only the groups with these key values (e.g. the reference variant).
    order
        A :class:`~odyssey_analysis.ordering.GroupOrder` for the rows (default: as fitted).
    """
    response = response if response is not None else study.responses[0]
    fits = [r for r in study if r.response == response
            and all(str(r.group.get(k)) == str(v) for k, v in (only or {}).items())]
    from ..result import first_intervals

    ci = first_intervals(fits)
    unit = (f"[{100 * ci.conf_level:.0f} % calibrated interval]" if ci is not None
            else "± spread across trees, not an interval")
    table = Table(title=text(f"largest effects on {response} (share of variance, {unit})"))
    for key in study.group_keys:
        table.add_column(text(key), overflow="fold")
    for col in ("top effects", "higher order", "OOB R²"):
        table.add_column(col, overflow="fold")
    if order is not None:
        fits.sort(key=lambda r: order.key(tuple(r.group[k] for k in study.group_keys)))
    for fit in fits:
        imp = fit.importance_table()
        effects = imp[imp["order"] < 3].sort_values("fraction", ascending=False)
        lines = "\n".join(f"{row.effect} {_share(row)}" for row in effects.head(top).itertuples())
        h_mean, _ = fit.higher_order_fraction()
        higher = f"{100 * h_mean:.1f}%"
        note = getattr(fit, "signal_note", None)
        if note is not None:
            lines, higher = note, "–"
        r2 = text(quality_words(fit.oob_r2), "bold red" if low_oob_r2(fit.oob_r2) else "")
        table.add_row(*[text(value_text(fit.group[k])) for k in study.group_keys], text(lines),
                      text(higher), r2)
    return table


def _share(row: Any) -> str:
    """One effect's share for the console: with its interval when it has one."""
    from ..numeric import is_nan

    lo, hi = getattr(row, "fraction_lo", float("nan")), getattr(row, "fraction_hi", float("nan"))
    if not (is_nan(lo) or is_nan(hi)):
        return f"{100 * row.fraction:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f"{100 * row.fraction:.1f}±{100 * row.fraction_std:.1f}%"


def significance_table(comparison: Any) -> Table:
    """Per task: the variants that differ significantly from the reference."""
    from ..tables import fmt_p

    metric = comparison.metric
    better = "higher" if comparison.maximize else "lower"
    out = Table(title=text(f"variants against {comparison.reference} ({metric}, top runs by "
                           f"{comparison.select_by}; {better} is better)"))
    for col in ("task", "significantly different (p)", "not significant"):
        out.add_column(col, overflow="fold")
    for task in comparison.tasks:
        rows = comparison.tests(task).reset_index()
        rows = rows[rows["variant"] != comparison.reference]
        sig = rows[rows["significant"]]
        found = ", ".join(f"{value_text(r.variant)} {r.direction} ({fmt_p(r.p_value)})"
                          for r in sig.itertuples()) or "none"
        rest = ", ".join(value_text(v) for v in rows.loc[~rows["significant"], "variant"]) or "–"
        out.add_row(text(value_text(comparison.task_text(task))), text(found), text(rest))
    return out
