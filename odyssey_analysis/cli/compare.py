"""``odyssey compare``: each model variant against the reference, per task (Fig. 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from ..roles import better_word
from .common import (
    check_outputs,
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
from .summary import significance_table


@click.command()
@table_options
@role_options
@click.option("--no-figure", is_flag=True, help="Write the tables only.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created; other files in it are left alone).")
@handle_errors
def compare(debug: bool, top_fraction: float, alpha: float, holm: bool, no_figure: bool,
            out: str, **kwargs: Any) -> None:
    """Compare each variant with the reference, per task (Welch's t-tests).

    Writes comparison.csv, comparison.md, comparison.tex and the box plots
    variants_<metric>.png/.pdf into OUT.
    """
    from ..choices import choose
    from ..compare import compare as run_comparison
    from ..naming import file_stem
    from ..tables import write_comparison_tables

    roles = pop_roles(kwargs)
    options = pop_table_options(kwargs)
    table = load_from_options(options)
    choices = choose(table, task_key=roles["task_key"], variant_key=roles["variant_key"],
                     reference=roles["reference"], metric=roles["metric"],
                     select_by=roles["select_by"], params=roles["params_column"],
                     with_time=False)
    if choices.variant_key is None:
        raise InputError("no variant column to compare", file=table.source,
                         hint="name it with --variant-key COLUMN")
    stem = file_stem("variants", choices.metric)
    out_dir = Path(out)
    outputs = ["comparison.csv", "comparison.md", "comparison.tex"]
    if not no_figure:
        outputs += [f"{stem}.png", f"{stem}.pdf"]
    check_outputs(out_dir, outputs, input_paths(options, table))
    comparison = run_comparison(
        table, metric=choices.metric, select_by=choices.select_by, top_fraction=top_fraction,
        reference=choices.reference, task_key=choices.task_keys or (),
        variant_key=choices.variant_key, alpha=alpha, holm=holm,
        params_column=choices.params)
    written = write_comparison_tables(comparison.table, out_dir,
                                      better=better_word(comparison.direction))
    if not no_figure:
        from ..plots import save_figure, variants_figure

        titles = ({t: comparison.task_text(t) for t in comparison.tasks}
                  if len(comparison.task_keys) > 1 else None)
        written += save_figure(variants_figure(comparison, task_titles=titles),
                               out_dir / stem)
    out_console.print(significance_table(comparison))
    report_choices(choices)
    for path in written:
        err_console.print(text(f"wrote {path}"))
