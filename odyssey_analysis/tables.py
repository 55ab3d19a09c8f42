"""Tables: importance per group and the variant comparison, as CSV, Markdown and LaTeX.

Tables are DataFrames first (:func:`importance_summary`, :func:`main_effects_table`,
:func:`comparison_summary`), then rendered (:func:`to_markdown`, :func:`to_latex`).
Rounding: variance shares as percentages with one decimal, p-values with three
significant digits, metric values with four.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import atomic_write_text
from .errors import InputError
from .naming import file_stems
from .result import HIGHER_ORDER_ORDER, effect_orders, importance_csv

IMPORTANCE_VALUE_COLUMNS = ("response", "effect", "order", "param_a", "param_b", "fraction",
                            "fraction_std", "n_trials", "n_trees")


# -- number formats -----------------------------------------------------------------------

def fmt_pct(value: float, std: float | None = None) -> str:
    """A share as a percentage with one decimal, with ``± std`` when given."""
    if value is None or not np.isfinite(value):
        return "–"
    text = f"{100 * value:.1f}"
    if std is not None and np.isfinite(std):
        text += f" ± {100 * std:.1f}"
    return text


def fmt_share(value: float, std: float | None = None, lower: float | None = None,
              upper: float | None = None) -> str:
    """A share in percent: ``67.9 [61.2, 74.0]`` with an interval, else ``67.9 ± 1.2``
    (the spread over trees) when ``std`` is given."""
    if (lower is not None and upper is not None and np.isfinite(lower)
            and np.isfinite(upper) and value is not None and np.isfinite(value)):
        return f"{100 * value:.1f} [{100 * lower:.1f}, {100 * upper:.1f}]"
    return fmt_pct(value, std)


def share_caption(has_intervals: bool, conf_level: float | None = None) -> str:
    """What the numbers of a share cell are, for a table's caption."""
    if has_intervals:
        level = f"{100 * conf_level:.0f} % " if conf_level else ""
        return f"%, [{level}calibrated interval over trials]"
    return "%, ± spread across trees, not an interval"


def fmt_p(value: float) -> str:
    """A p-value with three significant digits (``< 1e-300`` below float range)."""
    if value is None or not np.isfinite(value):
        return "–"
    if value == 0:
        return "< 1e-300"
    if value >= 0.001:
        return f"{value:.3g}"
    return f"{value:.2e}"


def fmt_num(value: float, digits: int = 4) -> str:
    """A metric value with ``digits`` significant digits."""
    if value is None or not np.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -3 <= magnitude < 6:
        decimals = max(0, digits - 1 - magnitude)
        return f"{value:.{decimals}f}"
    return f"{value:.{digits - 1}e}"


# -- tables as DataFrames ---------------------------------------------------------------

def group_columns(importance: pd.DataFrame) -> list[str]:
    """The group key columns of a long importance table (those before ``response``)."""
    if "response" not in importance.columns:
        raise InputError("not an importance table: no 'response' column", column="response")
    return list(importance.columns[: list(importance.columns).index("response")])


def importance_summary(
    importance: pd.DataFrame,
    *,
    response: str | Sequence[str] | None = None,
    max_pairs: int = 3,
) -> pd.DataFrame:
    """Effects per group and response, largest first: every main effect, the largest
    pairs, and the higher-order remainder.

    Parameters
    ----------
    importance
        The long table of ``importance.csv`` (``StudyResult.importance_table()``).
    response
        Keep only this response (or these); default: all.
    max_pairs
        Pairs kept per group (the largest).

    Returns
    -------
    pandas.DataFrame
        Group columns, ``response``, ``effect``, ``order``, ``share`` (percent),
        ``share_std``, ``share_lo``, ``share_hi`` (percent; the interval is NaN without
        a bootstrap), ``n_trials``, ``n_trees``; rows sorted by share within each group
        and response, groups in their original order.
    """
    keys = group_columns(importance)
    frame = _filter_response(importance, response)
    frame = frame.assign(order=effect_orders(frame["order"]))
    parts = []
    for _, block in frame.groupby([*keys, "response"], sort=False, dropna=False):
        pairs = block[block["order"] == 2].sort_values("fraction", ascending=False)
        kept = pd.concat([block[block["order"] != 2], pairs.head(max_pairs)])
        parts.append(kept.sort_values("fraction", ascending=False, kind="stable"))
    columns = [*keys, "response", "effect", "order", "share", "share_std", "share_lo",
               "share_hi", "n_trials", "n_trees"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out["share"] = 100 * out["fraction"].astype(float)
    out["share_std"] = 100 * out["fraction_std"].astype(float)
    for end in ("lo", "hi"):
        source = f"fraction_{end}"
        out[f"share_{end}"] = (100 * out[source].astype(float) if source in out.columns
                               else np.nan)
    return out[columns]


def main_effects_table(
    importance: pd.DataFrame,
    *,
    response: str | None = None,
) -> pd.DataFrame:
    """One row per group: each hyperparameter's main effect, all pairs, higher order.

    Parameters
    ----------
    importance
        The long table of ``importance.csv``.
    response
        The response (default: the first in the table).

    Returns
    -------
    pandas.DataFrame
        Group columns, then for each hyperparameter ``<name>``, ``<name>_std``,
        ``<name>_lo`` and ``<name>_hi`` (percent; the interval is NaN without a
        bootstrap), ``pairs`` (sum of the pair shares, percent), ``higher_order`` and
        ``higher_order_std`` (percent), ``n_trials``.
    """
    keys = group_columns(importance)
    if response is None:
        response = importance["response"].iloc[0]
    frame = _filter_response(importance, response)
    frame = frame.assign(order=effect_orders(frame["order"]))
    names = list(dict.fromkeys(frame.loc[frame["order"] == 1, "effect"]))
    rows = []
    grouped = frame.groupby(keys, sort=False, dropna=False) if keys else [((), frame)]
    for key, block in grouped:
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(keys, key))
        mains = block[block["order"] == 1].set_index("effect")
        for name in names:
            row[name] = 100 * float(mains["fraction"].get(name, np.nan))
            row[f"{name}_std"] = 100 * float(mains["fraction_std"].get(name, np.nan))
            for end in ("lo", "hi"):
                col = f"fraction_{end}"
                row[f"{name}_{end}"] = (100 * float(mains[col].get(name, np.nan))
                                        if col in mains.columns else np.nan)
        pairs = block.loc[block["order"] == 2, "fraction"]
        # No shares at all (a fit without detectable signal): no sum either.
        row["pairs"] = (np.nan if len(pairs) and pairs.isna().all()
                        else 100 * float(pairs.sum()))
        higher = block[block["order"] == HIGHER_ORDER_ORDER]
        row["higher_order"] = 100 * float(higher["fraction"].iloc[0]) if len(higher) else np.nan
        row["higher_order_std"] = (100 * float(higher["fraction_std"].iloc[0]) if len(higher)
                                   else np.nan)
        row["n_trials"] = int(block["n_trials"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """The comparison table with display names, ready to render.

    Parameters
    ----------
    comparison
        The output of :func:`~odyssey_analysis.compare.compare_variants`.

    Returns
    -------
    pandas.DataFrame
        Strings: task, variant, n, mean, median, std, top n, top mean, top median,
        p (top), significant (top), direction (top), p (all), significant (all),
        direction (all): each test's direction beside it.
    """
    if "variant" not in comparison.columns:
        raise InputError("not a comparison table: no 'variant' column", column="variant")
    task_cols = list(comparison.columns[: list(comparison.columns).index("variant")])
    out = pd.DataFrame()
    for col in task_cols:
        out[col] = _blank_repeats(comparison[col].astype(str))
    out["variant"] = comparison["variant"].astype(str)
    out["n"] = comparison["n"].astype(int).astype(str)
    for col, name in (("mean", "mean"), ("median", "median"), ("std", "std")):
        out[name] = comparison[col].map(fmt_num)
    out["top n"] = comparison["top_n"].astype(int).astype(str)
    out["top mean"] = comparison["top_mean"].map(fmt_num)
    if "top_median" in comparison.columns:
        out["top median"] = comparison["top_median"].map(fmt_num)
    # Each test's direction sits beside that test: over the top runs, then over all
    # trials (the two can disagree: worse among the best runs, better on average).
    out["p (top)"] = comparison["p_value"].map(fmt_p)
    out["significant (top)"] = comparison["significant"].map(lambda s: "yes" if s else "")
    out["direction (top)"] = comparison["direction"].map(_direction_text)
    if "p_value_all" in comparison.columns:
        out["p (all)"] = comparison["p_value_all"].map(fmt_p)
        out["significant (all)"] = comparison["significant_all"].map(
            lambda s: "yes" if s else "")
        if "direction_all" in comparison.columns:
            out["direction (all)"] = comparison["direction_all"].map(_direction_text)
    return out


def _direction_text(direction: object) -> str:
    return "(reference)" if direction == "reference" else str(direction)


def importance_display(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`importance_summary` as strings: each share as :func:`fmt_share` writes it."""
    keys = [c for c in summary.columns if c not in ("response", "effect", "order", "share",
                                                    "share_std", "share_lo", "share_hi",
                                                    "n_trials", "n_trees")]
    block_key = summary[[*keys, "response"]].astype(str).agg("\x1f".join, axis=1)
    first = block_key.ne(block_key.shift())
    out = pd.DataFrame()
    for col in [*keys, "response"]:
        out[col] = summary[col].astype(str).where(first, "")
    out["effect"] = summary["effect"].astype(str)
    out["share of variance [%]"] = [
        fmt_share(m / 100, s / 100, lo / 100, hi / 100) for m, s, lo, hi in
        zip(summary["share"], summary["share_std"], summary["share_lo"], summary["share_hi"])]
    out["trials"] = summary["n_trials"].astype(str).where(first, "")
    out["trees"] = summary["n_trees"].astype(str).where(first, "")
    return out


def main_effects_display(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """:func:`main_effects_table` as strings (each share as :func:`fmt_share` writes it)."""
    out = pd.DataFrame()
    for i, col in enumerate(keys):
        out[col] = (_blank_repeats(table[col].astype(str)) if i < len(keys) - 1
                    else table[col].astype(str))
    names = [c for c in table.columns if c not in keys and f"{c}_std" in table.columns
             and c != "higher_order"]
    for name in names:
        out[name] = [fmt_share(m / 100, s / 100, lo / 100, hi / 100) for m, s, lo, hi in
                     zip(table[name], table[f"{name}_std"], table[f"{name}_lo"],
                         table[f"{name}_hi"])]
    out["pairs (sum)"] = table["pairs"].map(lambda v: fmt_pct(v / 100))
    # The remainder has no interval; beside intervals a ± spread would read as one.
    with_ci = any(table[f"{n}_lo"].notna().any() for n in names)
    out["higher order"] = [fmt_pct(m / 100, None if with_ci else s / 100) for m, s in
                           zip(table["higher_order"], table["higher_order_std"])]
    out["trials"] = table["n_trials"].astype(str)
    return out


# -- rendering ----------------------------------------------------------------------------

def to_markdown(frame: pd.DataFrame, *, align: Mapping[str, str] | None = None) -> str:
    """A GitHub-flavoured Markdown table of string cells (``|`` is escaped).

    Parameters
    ----------
    frame
        The table (cells are converted with ``str``).
    align
        ``"l"``, ``"r"`` or ``"c"`` per column; default: right for cells that look
        numeric, left otherwise.

    Returns
    -------
    str
    """
    cols = [str(c) for c in frame.columns]
    raw = [list(row) for row in frame.astype(str).itertuples(index=False)]
    cells = [[_md_cell(v) for v in row] for row in raw]
    align = dict(align or {})
    marks = []
    for j, col in enumerate(cols):
        a = align.get(col) or ("r" if raw and all(_looks_numeric(r[j]) for r in raw
                                                   if r[j]) else "l")
        marks.append({"l": ":--", "r": "--:", "c": ":-:"}[a])
    lines = ["| " + " | ".join(_md_cell(c) for c in cols) + " |",
             "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "×": r"$\times$", "±": r"$\pm$", "–": "--", "—": "---", "²": r"$^2$", "≥": r"$\geq$",
    "≤": r"$\leq$", "<": r"$<$", ">": r"$>$",
}


def latex_escape(text: Any) -> str:
    """Escape LaTeX's special characters (and ×, ±, dashes, ²) in ``text``."""
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))


def to_latex(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    label: str | None = None,
    align: Mapping[str, str] | None = None,
) -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``).

    Parameters
    ----------
    frame
        The table (cells are converted with ``str`` and escaped).
    caption, label
        Caption and ``\\label`` of the table.
    align
        ``"l"``, ``"r"`` or ``"c"`` per column (default as in :func:`to_markdown`).

    Returns
    -------
    str
    """
    cols = [str(c) for c in frame.columns]
    rows = [list(r) for r in frame.astype(str).itertuples(index=False)]
    align = dict(align or {})
    spec = "".join(align.get(c) or ("r" if rows and all(_looks_numeric(r[j]) for r in rows
                                                         if r[j]) else "l")
                   for j, c in enumerate(cols))
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption:
        lines.append(r"\caption{" + latex_escape(caption) + "}")
    if label:
        lines.append(r"\label{" + re.sub(r"[^A-Za-z0-9:._-]", "-", label) + "}")
    lines += [r"\begin{tabular}{" + spec + "}", r"\toprule",
              " & ".join(latex_escape(c) for c in cols) + r" \\", r"\midrule"]
    previous_first = None
    for r in rows:
        if previous_first is not None and r[0] and r[0] != previous_first and len(cols) > 2:
            lines.append(r"\addlinespace")
        if r[0]:
            previous_first = r[0]
        lines.append(" & ".join(latex_escape(v) for v in r) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# -- files ----------------------------------------------------------------------------------

def write_importance_tables(importance: pd.DataFrame, out_dir: str | Path, *,
                            max_pairs: int = 3, csv: bool = True,
                            conf_level: float | None = None) -> list[Path]:
    """Write ``importance.csv`` and, per response, the summary and main-effect tables.

    Files: ``importance.csv`` (the long contract table; not with ``csv=False``),
    ``importance_<response>.md`` and ``.tex`` (effects per group, largest first),
    ``main_effects_<response>.md`` and ``.tex`` (one row per group). The response
    enters the names through :func:`~odyssey_analysis.naming.file_stems`. Shares carry
    their calibrated interval where the table has one (``conf_level`` names its level in
    the captions), else the spread across trees.
    """
    out = Path(out_dir)
    intervals = ("fraction_lo" in importance.columns
                 and bool(importance["fraction_lo"].notna().any()))
    unit = share_caption(intervals, conf_level)
    written = [atomic_write_text(out / "importance.csv", importance_csv(importance))] if csv \
        else []
    keys = group_columns(importance)
    responses = list(dict.fromkeys(importance["response"]))
    stems = file_stems([(kind, r) for r in responses for kind in ("importance",
                                                                   "main_effects")])
    for i, response in enumerate(responses):
        summary_stem, wide_stem = stems[2 * i], stems[2 * i + 1]
        summary = importance_display(importance_summary(importance, response=response,
                                                        max_pairs=max_pairs))
        what = f"Share of the variance of {response} per effect ({unit})"
        written.append(atomic_write_text(out / f"{summary_stem}.md",
                                         f"**{markdown_escape(what)}**\n\n"
                                         + to_markdown(summary)))
        written.append(atomic_write_text(
            out / f"{summary_stem}.tex",
            to_latex(summary, caption=what, label=f"tab:{summary_stem}")))
        wide = main_effects_display(main_effects_table(importance, response=response), keys)
        what = f"Main effects on {response} per group (share of variance, {unit})"
        written.append(atomic_write_text(out / f"{wide_stem}.md",
                                         f"**{markdown_escape(what)}**\n\n"
                                         + to_markdown(wide)))
        written.append(atomic_write_text(
            out / f"{wide_stem}.tex",
            to_latex(wide, caption=what, label=f"tab:{wide_stem}")))
    return written


def write_comparison_tables(comparison: pd.DataFrame, out_dir: str | Path, *,
                            csv: bool = True, better: str | None = None) -> list[Path]:
    """Write ``comparison.csv`` (the contract table; not with ``csv=False``),
    ``comparison.md`` and ``comparison.tex``; ``better`` (``"lower is better"``) goes into
    the captions."""
    out = Path(out_dir)
    written = ([atomic_write_text(out / "comparison.csv", comparison.to_csv(index=False))]
               if csv else [])
    display = comparison_summary(comparison)
    metric = comparison["metric"].iloc[0] if "metric" in comparison.columns else "metric"
    reference = comparison["reference"].iloc[0] if "reference" in comparison.columns else "V"
    note = f"; {better}" if better else ""
    what = (f"Variants against {reference} on {metric}{note}: Welch's t-test over the top "
            "runs (p (top)) and over all trials (p (all))")
    written.append(atomic_write_text(out / "comparison.md",
                                     f"**{markdown_escape(what)}**\n\n"
                                     + to_markdown(display)))
    written.append(atomic_write_text(out / "comparison.tex",
                                     to_latex(display, caption=what, label="tab:comparison")))
    return written


# -- helpers --------------------------------------------------------------------------------

def _filter_response(importance: pd.DataFrame,
                     response: str | Sequence[str] | None) -> pd.DataFrame:
    missing = [c for c in IMPORTANCE_VALUE_COLUMNS if c not in importance.columns]
    if missing:
        raise InputError("not an importance table", column=missing[0])
    if response is None:
        return importance
    wanted = [response] if isinstance(response, str) else list(response)
    unknown = [r for r in wanted if r not in set(importance["response"])]
    if unknown:
        raise InputError(f"no importance rows for response '{unknown[0]}'", column="response")
    return importance[importance["response"].isin(wanted)]


def _blank_repeats(col: pd.Series) -> pd.Series:
    return col.where(col.ne(col.shift()), "")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def markdown_escape(text: Any) -> str:
    """Text as literal Markdown: specials backslash-escaped, ``<``/``>``/``&`` as entities,
    line breaks as spaces."""
    out = html.escape(str(text), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", out).replace("\r", " ").replace("\n", " ")


def _md_cell(value: Any) -> str:
    return markdown_escape(value)


def _looks_numeric(text: str) -> bool:
    head = text.split(" ± ")[0].split(" [")[0].replace("< ", "").strip()
    if head in ("–", ""):
        return True
    try:
        float(head)
        return True
    except ValueError:
        return False


__all__ = ["comparison_summary", "fmt_num", "fmt_p", "fmt_pct", "fmt_share",
           "importance_display", "share_caption",
           "importance_summary", "latex_escape", "main_effects_display", "markdown_escape",
           "main_effects_table", "to_latex", "to_markdown", "write_comparison_tables",
           "write_importance_tables"]
