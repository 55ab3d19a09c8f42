"""``odyssey info``: what was detected in a sweep, before anything is fitted."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from ..naming import value_text
from ..roles import better_word
from .common import (
    handle_errors,
    load_from_options,
    out_console,
    pop_table_options,
    table_options,
    text,
)


@click.command()
@table_options
@handle_errors
def info(debug: bool, **kwargs: Any) -> None:
    """Show what was detected in TABLE: groups, hyperparameters, ranges, measures, responses
    with the direction that is better, and every excluded row with its reason."""
    table = load_from_options(pop_table_options(kwargs))
    space = table.resolve_space()
    out_console.print(text(f"{table.source}: {len(table)} trials analysed, "
                           f"{table.n_excluded} excluded", "bold"))
    for reason, count in table.excluded_counts().items():
        out_console.print(text(f"  excluded {count}: {reason}"))
    for note in [*table.notes, *space.notes]:
        out_console.print(text(f"  note: {note}"))
    if table.id_column:
        out_console.print(text(f"trial id: {table.id_column} (each id once per group)"))
    if table.bookkeeping:
        listed = ", ".join(f"{c} ({k})" for c, k in table.bookkeeping.items())
        out_console.print(text(f"not analysed: {listed}"))
        out_console.print(text("  (bookkeeping by the rule of docs/formats.md: ids, "
                               "timestamps, seeds, budgets, durations, progress counters, "
                               "run records and empty columns are never hyperparameters; "
                               "name one with --param to analyse it)"))
    if table.group_keys:
        sizes = table.frame.groupby(table.group_keys, observed=True, dropna=False).size()
        out_console.print(text(f"groups by {', '.join(table.group_keys)}: {len(sizes)} groups, "
                               f"{sizes.min()}–{sizes.max()} trials each"))
    else:
        out_console.print("no group keys: one analysis over all trials")
    if "variant" not in table.frame.columns and "variant" not in table.roles:
        out_console.print("no column named 'variant': to compare model variants, name the "
                          "column with --variant-key COLUMN in `odyssey compare` and "
                          "`odyssey report` (or 'variant:' in the column spec)")
    for role, column in table.roles.items():
        out_console.print(text(f"  {role}: {column} (from the column spec)"))
    hp_table = Table(title=text(f"hyperparameters (search space {space.origin})"))
    for col in ("name", "kind", "range / levels", "measure (integrated over)", "observed"):
        hp_table.add_column(col, overflow="fold")
    for hp in space:
        col = table.frame[hp.name]
        if hp.is_numeric:
            rng = f"[{hp.lower:g}, {hp.upper:g}]"
            observed = f"{col.min():g} … {col.max():g}"
        else:
            rng = ", ".join(map(value_text, hp.choices or ()))
            observed = f"{col.nunique()} distinct"
        hp_table.add_row(text(hp.name), hp.kind, text(rng), text(hp.describe_measure()),
                         text(observed))
    out_console.print(hp_table)
    resp = Table(title="responses")
    for col in ("name", "better", "min", "median", "max"):
        resp.add_column(col, overflow="fold")
    for r in table.responses:
        x = table.frame[r]
        direction = table.directions.get(r)
        how = better_word(direction)
        if direction is None:
            how += f" (declare with --maximize {r} or --minimize {r})"
        else:
            how += f" ({table.direction_origins.get(r, 'declared')})"
        resp.add_row(text(r), text(how), f"{x.min():.4g}", f"{x.median():.4g}",
                     f"{x.max():.4g}")
    out_console.print(resp)
