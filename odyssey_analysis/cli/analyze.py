"""``odyssey analyze``: the importance of every hyperparameter, per group and response."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import (
    check_jobs,
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

#: The engine's lists, kept import-free for --help (estimators.ESTIMATORS,
#: surrogate.SURROGATES).
ESTIMATORS = ("forest-mean", "per-tree", "per-tree-corrected", "blend",
              "blend-corrected")
SURROGATES = ("compiled", "sklearn")

#: Above this many fits the analysis shows a progress bar.
PROGRESS_THRESHOLD = 4
#: Most rows of console summary (groups × responses); beyond, only the first response's
#: table is printed and the others are named.
SUMMARY_ROWS = 40
OUTPUTS = ("importance.csv", "analysis.json")


#: Bootstrap replicates of ``odyssey report`` unless ``--bootstrap`` says otherwise: the
#: report shows calibrated intervals; ``analyze`` and ``guide`` leave them to the user.
REPORT_BOOTSTRAP = 100


def forest_options(fn: Any = None, *, bootstrap: int = 0) -> Any:
    """The surrogate's options, shared by ``analyze``, ``guide`` and ``report``.

    Used bare (``@forest_options``) or with the command's default number of bootstrap
    replicates (``@forest_options(bootstrap=REPORT_BOOTSTRAP)``).
    """
    if fn is None:
        return lambda f: forest_options(f, bootstrap=bootstrap)
    decorators = [
        click.option("--trees", default=64, show_default=True, help="Trees per forest."),
        click.option("--seed", default=0, show_default=True, help="Forest seed."),
        click.option("--surrogate", type=click.Choice(SURROGATES), default=None,
                     help="The forest: compiled (default; this package's own, with "
                          "splits over sets of categorical levels and on level "
                          "boundaries) or sklearn (scikit-learn's RandomForestRegressor, "
                          "also the default where Numba is missing)."),
        click.option("--min-trials", default=10, show_default=True,
                     help="Fewest trials a group may have."),
        click.option("--jobs", default=None, type=int,
                     help="Cores to use (default: all). Studies under about 5 s of work "
                          "(trials × trees summed over fits) run in this process, one fit "
                          "at a time on every core; larger ones run one fit per worker "
                          "process. --jobs 1 uses one thread. Results do not depend on it."),
        click.option("--estimator", type=click.Choice(ESTIMATORS), default="blend-corrected",
                     show_default=True,
                     help="blend-corrected: blend with the forest mean's bias, measured "
                          "in 10 sweeps simulated from the fitted forest, taken off its "
                          "main effects (the smallest error pooled over 200 to 5,400 "
                          "trials; 160 more trees per fit); blend: the mean of "
                          "forest-mean and per-tree-corrected, whose errors have "
                          "opposite signs; forest-mean: the shares of the forest's "
                          "mean function (over-estimates the top effect at small N); "
                          "per-tree: the mean of each tree's shares, the reference "
                          "fANOVA's number (under-estimates it); per-tree-corrected: "
                          "each tree's shares with the noise it fitted taken out. See "
                          "docs/accuracy.md."),
        click.option("--bootstrap", "n_bootstrap", default=bootstrap, show_default=True,
                     type=click.IntRange(min=0),
                     help="Replicates for calibrated intervals of every share (0: none; "
                          "100 is what they were calibrated with). Each replicate refits "
                          "two 16-tree forests per fit: about five times the analysis "
                          "time."),
        click.option("--conf-level", default=0.9, show_default=True,
                     type=click.FloatRange(0, 1, min_open=True, max_open=True),
                     help="Nominal coverage of the intervals."),
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
@click.option("--min-samples-leaf", default=None, type=int,
              help="Fewest trials per leaf (default: 1; 2 with --bootstrap, as the "
                   "intervals were calibrated).")
@click.option("--max-features", default="1.0", show_default=True,
              help="Features per split: a fraction, an integer, 'sqrt' or 'log2'.")
@click.option("--no-bootstrap", is_flag=True,
              help="Fit each tree on all trials (no bagging; unrelated to --bootstrap B).")
@click.option("--cutoff", nargs=2, type=float, default=None,
              help="Clamp predictions into LOW HIGH (response units).")
@click.option("--cutoff-quantile", nargs=2, type=float, default=None,
              help="Clamp predictions into these quantiles of the observed response.")
@click.option("--no-pairs", is_flag=True, help="Skip pairwise effects (none are reported).")
@click.option("--method", type=click.Choice(("fanova", "local")), default=None,
              help="fanova (default): importance over the whole sweep; local: within the "
                   "best runs only (see --top-quantile).")
@click.option("--top-quantile", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None,
              help="Local importance: what matters within the best Q of each group's "
                   "trials (e.g. 0.25; implies --method local, default 0.25 there).")
@handle_errors
def analyze(debug: bool, out: str, trees: int, seed: int, max_depth: int | None,
            min_samples_leaf: int | None, max_features: str, no_bootstrap: bool,
            cutoff: tuple[float, float] | None, cutoff_quantile: tuple[float, float] | None,
            no_pairs: bool, min_trials: int, jobs: int | None, estimator: str,
            n_bootstrap: int, conf_level: float, surrogate: str | None, method: str | None,
            top_quantile: float | None, **kwargs: Any) -> None:
    """Functional ANOVA of every response in every group; writes importance.csv and
    analysis.json into OUT."""
    from ..atomic import atomic_write_text
    from ..methods import method_from_options
    from ..progress import ProgressBars
    from ..result import importance_csv
    from ..study import analyze as run_analysis

    check_jobs(jobs)
    options = pop_table_options(kwargs)
    table = load_from_options(options)
    out_dir = Path(out)
    check_outputs(out_dir, OUTPUTS, input_paths(options, table))
    n_fits = table.n_groups * len(table.responses)
    shown = n_fits > PROGRESS_THRESHOLD or n_bootstrap > 0
    with ProgressBars(shown, err_console, transient=True) as bars:
        study = run_analysis(
            table, method_from_options(
                method, n_trees=trees, seed=seed, max_depth=max_depth,
                min_samples_leaf=min_samples_leaf,
                max_features=parse_max_features(max_features), bootstrap=not no_bootstrap,
                cutoffs=cutoff, cutoff_quantiles=cutoff_quantile, pairs=not no_pairs,
                curves=False, top_quantile=top_quantile, estimator=estimator,
                n_bootstrap=n_bootstrap, conf_level=conf_level, surrogate=surrogate),
            min_trials=min_trials, n_jobs=jobs, progress=bars.add("fitting forests", n_fits))
    written = [atomic_write_text(out_dir / "importance.csv",
                                 importance_csv(study.importance_table())),
               atomic_write_text(out_dir / "analysis.json",
                                 json.dumps(study.to_dict(), indent=2) + "\n")]
    shown_responses = (study.responses if len(study) <= SUMMARY_ROWS
                       else study.responses[:1])
    for response in shown_responses:
        out_console.print(effects_table(study, response))
    rest = [r for r in study.responses if r not in shown_responses]
    if rest:
        err_console.print(text(f"not shown here: {', '.join(rest)} (every response is in "
                               "importance.csv; `odyssey report --metric NAME` draws one)"))
    for path in written:
        err_console.print(text(f"wrote {path}"))

