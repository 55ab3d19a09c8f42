"""The ``odyssey`` command line.

Exit status: 0 on success, 2 on bad input (one line naming file, row and column; no
traceback unless ``--debug``), 1 on an internal error.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from .errors import InputError, MissingExtraError
from .quality import LOW_OOB_R2

err_console = Console(stderr=True)
out_console = Console()

#: Above this many fits the analysis shows a progress bar.
PROGRESS_THRESHOLD = 4


def handle_errors(fn: Callable) -> Callable:
    """Turn exceptions into the exit statuses above (use under ``@click.command``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.get("debug", False) or (click.get_current_context().find_root().params
                                                .get("debug", False))
        try:
            return fn(*args, **kwargs)
        except (InputError, MissingExtraError) as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if debug:
                traceback.print_exc()
            else:
                click.echo(f"internal error: {type(exc).__name__}: {exc} "
                           "(run again with --debug for the traceback)", err=True)
            sys.exit(1)

    return wrapper


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` strings to reader options (numbers become numbers)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--option needs KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        parsed: Any = value
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        options[key.strip()] = parsed
    return options


def table_options(fn: Callable) -> Callable:
    """Options shared by every command that reads trials."""
    decorators = [
        click.argument("table", type=str),
        click.option("--format", "fmt", default=None,
                     help="Source format (default: detected from the path)."),
        click.option("--space", type=click.Path(dir_okay=False), default=None,
                     help="Search space: ConfigSpace JSON or our YAML/JSON spec."),
        click.option("--columns", "columns_spec", type=click.Path(dir_okay=False),
                     default=None,
                     help="Column roles from a YAML/JSON file (group_by, responses, ...)."),
        click.option("--param", "params", multiple=True,
                     help="Hyperparameter column (repeat; default: the space's names)."),
        click.option("--response", "responses", multiple=True,
                     help="Response column (repeat; default: metric-like columns)."),
        click.option("--group-by", "group_by", multiple=True,
                     help="Group key column (repeat; default: task and variant if present)."),
        click.option("--no-groups", is_flag=True, help="Analyse all trials as one group."),
        click.option("--status", default=None, help="Status column (only finished runs)."),
        click.option("--on-diverged", type=click.Choice(["drop", "worst", "error"]),
                     default=None,
                     help="Runs with NaN/inf metrics: drop (default; counted), worst value "
                          "of the group, or error."),
        click.option("--maximize", multiple=True,
                     help="Response where larger is better (repeat; most names tell)."),
        click.option("--minimize", multiple=True,
                     help="Response where smaller is better (repeat)."),
        click.option("--diverged-threshold", "diverged_threshold", multiple=True,
                     help="RESPONSE=VALUE: runs worse than VALUE count as diverged (repeat)."),
        click.option("--option", "-O", "reader_options", multiple=True,
                     help="Reader option KEY=VALUE (repeat), e.g. -O study=mystudy."),
        click.option("--debug", is_flag=True, help="Show tracebacks."),
    ]
    for dec in reversed(decorators):
        fn = dec(fn)
    return fn


def load_from_options(table: str, fmt: str | None, space: str | None, params: tuple,
                      responses: tuple, group_by: tuple, no_groups: bool, status: str | None,
                      on_diverged: str | None, maximize: tuple, minimize: tuple,
                      reader_options: tuple,
                      columns_spec: str | None = None, diverged_threshold: tuple = ()):
    """Load trials as the shared options say (command-line options beat the spec file)."""
    from .loaders import load_trials

    return load_trials(
        table, format=fmt, space=space, hyperparameters=list(params) or None,
        responses=list(responses) or None,
        group_by=[] if no_groups else (list(group_by) or None), status=status,
        on_diverged=on_diverged, maximize=list(maximize), minimize=list(minimize),
        diverged_threshold=_thresholds(diverged_threshold) or None, columns=columns_spec,
        **parse_options(reader_options))


def _thresholds(pairs: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"--diverged-threshold needs RESPONSE=NUMBER, got {pair!r}"
                             ) from None
    return out


def _table_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("table", "fmt", "space", "params", "responses", "group_by", "no_groups", "status",
            "on_diverged", "maximize", "minimize", "reader_options", "columns_spec",
            "diverged_threshold")
    return {k: kwargs.pop(k) for k in keys}


def check_not_input(out: Path, outputs: list[str], source: str) -> None:
    """Refuse to write an output over the input file."""
    src = Path(source)
    if not src.exists():
        return
    for name in outputs:
        target = out / name
        if target.exists() and target.resolve() == src.resolve():
            raise InputError(f"refusing to overwrite the input with {name}", file=source,
                             hint="choose another --out folder")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="odyssey-analysis")
def main(debug: bool) -> None:
    """Functional ANOVA and variant comparison for hyperparameter sweeps."""


@main.command()
@table_options
@handle_errors
def info(debug: bool, **kwargs: Any) -> None:
    """Show what was detected in TABLE: groups, hyperparameters, ranges, scales, responses."""
    table = load_from_options(**_table_kwargs(kwargs))
    space = table.resolve_space()
    out_console.print(f"[bold]{table.source}[/bold]: {len(table)} trials analysed, "
                      f"{table.n_excluded} excluded")
    for reason, count in table.excluded_counts().items():
        out_console.print(f"  excluded {count}: {reason}")
    for note in [*table.notes, *space.notes]:
        out_console.print(f"  note: {note}")
    if table.group_keys:
        sizes = table.frame.groupby(table.group_keys, observed=True).size()
        out_console.print(f"groups by {', '.join(table.group_keys)}: {len(sizes)} groups, "
                          f"{sizes.min()}–{sizes.max()} trials each")
    else:
        out_console.print("no group keys: one analysis over all trials")
    hp_table = Table(title=f"hyperparameters (search space {space.origin})")
    for col in ("name", "kind", "range / levels", "measure (integrated over)", "observed"):
        hp_table.add_column(col)
    for hp in space:
        col = table.frame[hp.name]
        if hp.is_numeric:
            rng = f"[{hp.lower:g}, {hp.upper:g}]"
            observed = f"{col.min():g} … {col.max():g}"
        else:
            rng = ", ".join(map(str, hp.choices))
            observed = f"{col.nunique()} distinct"
        hp_table.add_row(hp.name, hp.kind, rng, hp.describe_measure(), observed)
    out_console.print(hp_table)
    resp = Table(title="responses")
    for col in ("name", "min", "median", "max"):
        resp.add_column(col)
    for r in table.responses:
        x = table.frame[r]
        resp.add_row(r, f"{x.min():.4g}", f"{x.median():.4g}", f"{x.max():.4g}")
    out_console.print(resp)


@main.command()
@table_options
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created).")
@click.option("--trees", default=64, show_default=True, help="Trees per forest.")
@click.option("--seed", default=0, show_default=True, help="Forest seed.")
@click.option("--max-depth", default=None, type=int, help="Tree depth limit (default: none).")
@click.option("--min-samples-leaf", default=1, show_default=True)
@click.option("--max-features", default="1.0", show_default=True,
              help="Features per split: a fraction, an integer, 'sqrt' or 'log2'.")
@click.option("--no-bootstrap", is_flag=True, help="Fit each tree on all trials.")
@click.option("--cutoff", nargs=2, type=float, default=None,
              help="Clamp predictions into LOW HIGH (response units).")
@click.option("--cutoff-quantile", nargs=2, type=float, default=None,
              help="Clamp predictions into these quantiles of the observed response.")
@click.option("--no-pairs", is_flag=True, help="Skip pairwise effects.")
@click.option("--min-trials", default=10, show_default=True,
              help="Fewest trials a group may have.")
@click.option("--jobs", default=None, type=int, help="Parallel fits (default: all cores).")
@handle_errors
def analyze(debug: bool, out: str, trees: int, seed: int, max_depth: int | None,
            min_samples_leaf: int, max_features: str, no_bootstrap: bool,
            cutoff: tuple[float, float] | None, cutoff_quantile: tuple[float, float] | None,
            no_pairs: bool, min_trials: int, jobs: int | None, **kwargs: Any) -> None:
    """Functional ANOVA of every response in every group; writes importance.csv."""
    from .study import analyze as run_analysis

    table = load_from_options(**_table_kwargs(kwargs))
    out_dir = Path(out)
    check_not_input(out_dir, ["importance.csv", "analysis.json"], table.source)
    study = run_with_progress(
        lambda progress: run_analysis(
            table, n_trees=trees, seed=seed, max_depth=max_depth,
            min_samples_leaf=min_samples_leaf, max_features=_max_features(max_features),
            bootstrap=not no_bootstrap, cutoffs=cutoff, cutoff_quantiles=cutoff_quantile,
            pairs=not no_pairs, min_trials=min_trials, n_jobs=jobs, progress=progress),
        total=_count_fits(table))
    written = write_analysis(study, out_dir)
    print_summary(study)
    for path in written:
        err_console.print(f"wrote {path}")


def _max_features(text: str) -> float | int | str:
    if text in ("sqrt", "log2"):
        return text
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        raise InputError(f"--max-features must be a number, 'sqrt' or 'log2', got {text!r}"
                         ) from None


def _count_fits(table) -> int:
    n_groups = (table.frame.groupby(table.group_keys, observed=True).ngroups
                if table.group_keys else 1)
    return n_groups * len(table.responses)


def run_with_progress(work: Callable[[Callable | None], Any], total: int) -> Any:
    """Run ``work(progress_callback)`` with a progress bar when there are many fits."""
    if total <= PROGRESS_THRESHOLD:
        return work(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("fitting forests"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("fits", total=total)
        return work(lambda _result: bar.advance(task))


def write_analysis(study, out_dir: Path) -> list[Path]:
    """Write ``importance.csv`` and ``analysis.json`` atomically into ``out_dir``."""
    from .atomic import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    from .result import importance_csv

    csv_path = atomic_write_text(out_dir / "importance.csv",
                                 importance_csv(study.importance_table()))
    json_path = atomic_write_text(out_dir / "analysis.json",
                                  json.dumps(study.to_dict(), indent=2) + "\n")
    return [csv_path, json_path]


def print_summary(study, top: int = 3) -> None:
    """A table of the largest effects per group for the first response, with fit quality."""
    response = study.responses[0]
    summary = Table(title=f"largest effects on {response} "
                          "(share of variance, mean ± std over trees)")
    for key in study.group_keys:
        summary.add_column(key)
    for col in ("top effects", "higher order", "OOB R²"):
        summary.add_column(col)
    for result in study:
        if result.response != response:
            continue
        imp = result.importance_table()
        effects = imp[imp["order"] < 3].sort_values("fraction", ascending=False)
        text = "\n".join(f"{row.effect} {100 * row.fraction:.1f}±{100 * row.fraction_std:.1f}%"
                          for row in effects.head(top).itertuples())
        h_mean, _ = result.higher_order_fraction()
        r2 = "–" if result.oob_r2 != result.oob_r2 else f"{result.oob_r2:.2f}"
        if result.oob_r2 == result.oob_r2 and result.oob_r2 < LOW_OOB_R2:
            r2 = f"[red]{r2}[/red]"
        summary.add_row(*[str(result.group[k]) for k in study.group_keys], text,
                        f"{100 * h_mean:.1f}%", r2)
    out_console.print(summary)


from .cli_report import compare, report  # noqa: E402

main.add_command(compare)
main.add_command(report)

from .sweep.command import sweep as _sweep_command  # noqa: E402

main.add_command(_sweep_command)
