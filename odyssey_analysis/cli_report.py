"""The ``odyssey compare`` and ``odyssey report`` commands."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .cli import (
    _table_kwargs,
    check_not_input,
    err_console,
    handle_errors,
    load_from_options,
    out_console,
    table_options,
)
from .errors import InputError


def optional_table_options(fn: Any) -> Any:
    """The shared trial-table options, with TABLE optional (the bundled study)."""
    fn = table_options(fn)
    for param in getattr(fn, "__click_params__", []):
        if isinstance(param, click.Argument) and param.name == "table":
            param.required = False
    return fn


@click.command()
@table_options
@click.option("--metric", default="test_error", show_default=True,
              help="Column compared between variants.")
@click.option("--select-by", default="valid_error", show_default=True,
              help="Column that ranks the trials for the top runs (lowest first).")
@click.option("--top", "top_fraction", default=0.1, show_default=True, type=float,
              help="Share of each variant's trials that form its top runs.")
@click.option("--reference", default="V", show_default=True,
              help="The variant every other one is compared with.")
@click.option("--alpha", default=0.05, show_default=True, type=float,
              help="Significance level of Welch's t-test.")
@click.option("--holm", is_flag=True, help="Holm's correction within each task.")
@click.option("--task-key", default="task", show_default=True, help="Task column.")
@click.option("--variant-key", default="variant", show_default=True, help="Variant column.")
@click.option("--no-figure", is_flag=True, help="Write the tables only.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created).")
@handle_errors
def compare(debug: bool, metric: str, select_by: str, top_fraction: float, reference: str,
            alpha: float, holm: bool, task_key: str, variant_key: str, no_figure: bool,
            out: str, **kwargs: Any) -> None:
    """Compare each variant with the reference, per task (Welch's t-tests).

    Writes comparison.csv, comparison.md, comparison.tex and the box plots
    variants_<metric>.png/.pdf into OUT.
    """
    from .compare import compare
    from .tables import write_comparison_tables

    table = load_from_options(**_table_kwargs(kwargs))
    out_dir = Path(out)
    check_not_input(out_dir, ["comparison.csv", "comparison.md", "comparison.tex"],
                    table.source)
    task = task_key if task_key in table.frame.columns else None
    if task is None and task_key != "task":
        raise InputError("task column is missing", file=table.source, column=task_key)
    comparison = compare(table, metric=metric, select_by=select_by,
                         top_fraction=top_fraction, reference=reference, task_key=task,
                         variant_key=variant_key, alpha=alpha, holm=holm)
    written = write_comparison_tables(comparison.table, out_dir)
    if not no_figure:
        from .plots import save_figure, variants_figure
        from .plots.style import safe_name

        fig = variants_figure(comparison)
        written += save_figure(fig, out_dir / f"variants_{safe_name(metric)}")
    out_console.print(significance_table(comparison.table, task))
    for path in written:
        err_console.print(f"wrote {path}")


@click.command()
@optional_table_options
@click.option("--out", "out", default="report", show_default=True,
              type=click.Path(file_okay=False), help="Report folder (created).")
@click.option("--trees", default=64, show_default=True, help="Trees per forest.")
@click.option("--seed", default=0, show_default=True, help="Forest seed.")
@click.option("--metric", default=None,
              help="Response of the figures and the comparison (default: test_error).")
@click.option("--select-by", default=None,
              help="Column that picks the top runs (default: valid_error).")
@click.option("--top", "top_fraction", default=0.1, show_default=True, type=float,
              help="Share of each variant's trials that form its top runs.")
@click.option("--reference", default="V", show_default=True, help="Reference variant.")
@click.option("--alpha", default=0.05, show_default=True, type=float,
              help="Significance level.")
@click.option("--holm", is_flag=True, help="Holm's correction within each task.")
@click.option("--all-interactions", is_flag=True,
              help="Interaction matrices for every variant (default: the reference's).")
@click.option("--min-trials", default=10, show_default=True,
              help="Fewest trials a group may have.")
@click.option("--jobs", default=None, type=int, help="Parallel fits (default: all cores).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@handle_errors
def report(debug: bool, out: str, trees: int, seed: int, metric: str | None,
           select_by: str | None, top_fraction: float, reference: str, alpha: float,
           holm: bool, all_interactions: bool, min_trials: int, jobs: int | None,
           quiet: bool, **kwargs: Any) -> None:
    """Everything for TABLE in one folder: tables, every figure and index.html.

    With no TABLE, the mini Odyssey study bundled with the package is used.
    """
    from .report import build_report, bundled_table

    started = time.perf_counter()
    options = _table_kwargs(kwargs)
    if options["table"] is None:
        options["table"] = str(bundled_table())
        if not Path(options["table"]).is_file():
            raise InputError("the bundled study is missing from this installation",
                             file=options["table"], hint="give a TABLE to report on")
    table = load_from_options(**options)
    result = build_report(
        table, out, responses=list(options["responses"]) or None, n_trees=trees, seed=seed,
        metric=metric, select_by=select_by, top_fraction=top_fraction, reference=reference,
        alpha=alpha, holm=holm,
        all_interactions=all_interactions, min_trials=min_trials, n_jobs=jobs,
        progress=not quiet, console=err_console)
    print_report_summary(result)
    elapsed = time.perf_counter() - started
    err_console.print(f"wrote {len(result.files)} files to {result.out_dir} in {elapsed:.1f} s;"
                      f" open {result.index}")


def significance_table(comparison: Any, task_key: str | None) -> Table:
    """Per task: the variants that differ significantly from the reference."""
    from .tables import fmt_p

    reference = comparison["reference"].iloc[0]
    table = Table(title=f"variants against {reference} "
                        f"({comparison['metric'].iloc[0]}, top runs)")
    table.add_column("task")
    table.add_column("significantly different (p)")
    table.add_column("not significant")
    tasks = comparison[task_key].drop_duplicates() if task_key else ["all"]
    for task in tasks:
        rows = comparison[comparison[task_key] == task] if task_key else comparison
        rows = rows[rows["variant"] != reference]
        sig = rows[rows["significant"]]
        text = ", ".join(f"{r.variant} {r.direction} ({fmt_p(r.p_value)})"
                         for r in sig.itertuples()) or "none"
        rest = ", ".join(str(v) for v in rows.loc[~rows["significant"], "variant"]) or "–"
        table.add_row(str(task), text, rest)
    return table


def print_report_summary(result: Any, top: int = 3) -> None:
    """Top effects per task (reference variant) and the significant variants."""
    study = result.study
    response = result.settings["metric"]
    if response not in study.responses:
        response = study.responses[0]
    keys = study.group_keys
    reference = result.settings["reference"]
    summary = Table(title=f"largest effects on {response} (share of variance, mean ± std "
                          "over trees)")
    for key in keys:
        summary.add_column(key)
    summary.add_column("top effects")
    summary.add_column("OOB R²")
    from .report import ordered_fits

    for fit in ordered_fits(study, response):
        if "variant" in keys and str(fit.group["variant"]) != str(reference):
            continue
        imp = fit.importance_table()
        effects = imp[imp["order"] < 3].sort_values("fraction", ascending=False)
        text = ", ".join(f"{row.effect} {100 * row.fraction:.1f}±{100 * row.fraction_std:.1f}%"
                         for row in effects.head(top).itertuples())
        r2 = "–" if fit.oob_r2 != fit.oob_r2 else f"{fit.oob_r2:.2f}"
        if fit.oob_r2 == fit.oob_r2 and fit.oob_r2 < 0.5:
            r2 = f"[bold red]{r2} ⚠[/bold red]"
        summary.add_row(*[str(fit.group[k]) for k in keys], text, r2)
    out_console.print(summary)
    if result.comparison is not None:
        out_console.print(significance_table(result.comparison.table,
                                             result.comparison.task_key))
