"""``odyssey report``: every analysis, table and figure in one folder with an index.html."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from .analyze import REPORT_BOOTSTRAP, forest_options
from .common import (
    check_jobs,
    err_console,
    handle_errors,
    input_paths,
    load_from_options,
    out_console,
    pop_table_options,
    table_options,
    text,
)
from .roles import pop_roles, report_choices, role_options
from .summary import effects_table, significance_table


@click.command()
@table_options(optional=True)
@click.option("--out", "out", default="report", show_default=True,
              type=click.Path(file_okay=False),
              help="Report folder: new, empty, or an earlier report (replaced whole).")
@forest_options(bootstrap=REPORT_BOOTSTRAP)
@role_options
@click.option("--time", "time_response", default=None,
              help="Training-time response on Fig. 4's right axis (default: train_time, "
                   "else a response named like a time).")
@click.option("--all-interactions", is_flag=True,
              help="Interaction matrices for every variant (default: the reference's).")
@click.option("--top-pairs", "top_pairs", type=click.IntRange(min=1), default=None,
              metavar="K",
              help="Pairs in each interaction figure: the K with the largest shares of "
                   "the pure interaction (default: every pair up to 6 hyperparameters, "
                   "the 10 largest beyond).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@handle_errors
def report(debug: bool, out: str, trees: int, seed: int, top_fraction: float, alpha: float,
           holm: bool, time_response: str | None, all_interactions: bool,
           top_pairs: int | None, min_trials: int,
           jobs: int | None, quiet: bool, estimator: str, n_bootstrap: int,
           conf_level: float, surrogate: str | None, **kwargs: Any) -> None:
    """Everything for TABLE in one folder: tables, every figure and index.html.

    With no TABLE, the mini Odyssey study bundled with the package is used. The roles
    that are not given (metric, selection column, variant column, ...) come from the
    column spec or a default rule; the console and the report say which were chosen.
    """
    from ..methods import method_from_options
    from ..report import build_report, bundled_table

    started = time.perf_counter()
    check_jobs(jobs)
    roles = pop_roles(kwargs)
    options = pop_table_options(kwargs)
    if options["table"] is None:
        options["table"] = str(bundled_table())
        if not Path(str(options["table"])).is_file():
            raise InputError("the bundled study is missing from this installation",
                             file=options["table"], hint="give a TABLE to report on")
    table = load_from_options(options)
    role_args = dict(task_key=roles["task_key"], variant_key=roles["variant_key"],
                     reference=roles["reference"], metric=roles["metric"],
                     select_by=roles["select_by"], params_column=roles["params_column"],
                     time_response=time_response)
    method = method_from_options(n_trees=trees, seed=seed, estimator=estimator,
                                 n_bootstrap=n_bootstrap, conf_level=conf_level,
                                 surrogate=surrogate)
    result = build_report(
        table, out, method=method, responses=list(options["responses"]) or None,
        top_fraction=top_fraction, alpha=alpha, holm=holm, all_interactions=all_interactions,
        top_pairs=top_pairs, min_trials=min_trials, n_jobs=jobs,
        inputs=input_paths(options, table),
        progress=not quiet, console=err_console, **role_args)
    choices = result.choices
    only = ({choices.variant_key: choices.reference}
            if choices.variant_key in result.study.group_keys else None)
    from ..ordering import GroupOrder

    order = GroupOrder(result.study.group_keys, result.study.groups(),
                       task_key=choices.task_key, variant_key=choices.variant_key,
                       reference=choices.reference)
    out_console.print(effects_table(result.study, choices.metric, only=only, order=order))
    if result.comparison is not None:
        out_console.print(significance_table(result.comparison))
    report_choices(choices)
    for note in result.notes:
        err_console.print(text(f"note: {note}"))
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    err_console.print(text(f"wrote {len(result.files)} files to {result.out_dir} in "
                           f"{time.perf_counter() - started:.1f} s ({stages}); open "
                           f"{result.index}"))
