"""``odyssey analyze``: the importance of every hyperparameter, per group and response."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import (
    check_outputs,
    err_console,
    handle_errors,
    input_paths,
    load_from_options,
    out_console,
    parse_max_features,
    pop_table_options,
    table_options,
    text,
)
from .summary import effects_table

#: Above this many fits the analysis shows a progress bar.
PROGRESS_THRESHOLD = 4
OUTPUTS = ("importance.csv", "analysis.json")


def forest_options(fn: Any) -> Any:
    """The surrogate's options, shared by ``analyze`` and ``report``."""
    decorators = [
        click.option("--trees", default=64, show_default=True, help="Trees per forest."),
        click.option("--seed", default=0, show_default=True, help="Forest seed."),
        click.option("--min-trials", default=10, show_default=True,
                     help="Fewest trials a group may have."),
        click.option("--jobs", default=None, type=int,
                     help="Parallel fits (default: chosen by the amount of work; results "
                          "do not depend on it)."),
    ]
    for dec in reversed(decorators):
        fn = dec(fn)
    return fn


@click.command()
@table_options
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created; other files in it are left alone).")
@forest_options
@click.option("--max-depth", default=None, type=int, help="Tree depth limit (default: none).")
@click.option("--min-samples-leaf", default=1, show_default=True, type=int)
@click.option("--max-features", default="1.0", show_default=True,
              help="Features per split: a fraction, an integer, 'sqrt' or 'log2'.")
@click.option("--no-bootstrap", is_flag=True, help="Fit each tree on all trials.")
@click.option("--cutoff", nargs=2, type=float, default=None,
              help="Clamp predictions into LOW HIGH (response units).")
@click.option("--cutoff-quantile", nargs=2, type=float, default=None,
              help="Clamp predictions into these quantiles of the observed response.")
@click.option("--no-pairs", is_flag=True, help="Skip pairwise effects (none are reported).")
@handle_errors
def analyze(debug: bool, out: str, trees: int, seed: int, max_depth: int | None,
            min_samples_leaf: int, max_features: str, no_bootstrap: bool,
            cutoff: tuple[float, float] | None, cutoff_quantile: tuple[float, float] | None,
            no_pairs: bool, min_trials: int, jobs: int | None, **kwargs: Any) -> None:
    """Functional ANOVA of every response in every group; writes importance.csv and
    analysis.json into OUT."""
    from ..atomic import atomic_write_text
    from ..progress import ProgressBars
    from ..result import importance_csv
    from ..study import analyze as run_analysis

    options = pop_table_options(kwargs)
    table = load_from_options(options)
    out_dir = Path(out)
    check_outputs(out_dir, OUTPUTS, input_paths(options, table))
    n_fits = table.n_groups * len(table.responses)
    with ProgressBars(n_fits > PROGRESS_THRESHOLD, err_console, transient=True) as bars:
        study = run_analysis(
            table, n_trees=trees, seed=seed, max_depth=max_depth,
            min_samples_leaf=min_samples_leaf, max_features=parse_max_features(max_features),
            bootstrap=not no_bootstrap, cutoffs=cutoff, cutoff_quantiles=cutoff_quantile,
            pairs=not no_pairs, curves=False, min_trials=min_trials, n_jobs=jobs,
            progress=bars.add("fitting forests", n_fits))
    written = [atomic_write_text(out_dir / "importance.csv",
                                 importance_csv(study.importance_table())),
               atomic_write_text(out_dir / "analysis.json",
                                 json.dumps(study.to_dict(), indent=2) + "\n")]
    out_console.print(effects_table(study))
    for path in written:
        err_console.print(text(f"wrote {path}"))

