"""``odyssey guide``: from importance to action (guidelines and the next sweep)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .analyze import forest_options
from .common import (
    check_jobs,
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

OUTPUTS = ("guidelines.md", "guidelines.json", "next_space.json", "next_space.yaml",
           "next_space_optuna.py")


@click.command()
@table_options
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created; other files in it are left alone).")
@forest_options
@click.option("--target", default=None,
              help="The response guidelines.md and the next sweep serve (default: the "
                   "first response; guidelines.json holds every response).")
@click.option("--tolerance", default=None, type=click.FloatRange(min=0),
              help="Good regions: values within this much of the best (response units; "
                   "default: one noise sd, at least 0.1 of the response's spread).")
@click.option("--for", "serve", multiple=True, metavar="KEY=VALUE",
              help="The groups the next sweep serves (repeat; default: all groups, whose "
                   "good regions it then spans), e.g. --for task=speech.")
@handle_errors
def guide(debug: bool, out: str, trees: int, seed: int, min_trials: int, jobs: int | None,
          estimator: str, n_bootstrap: int, conf_level: float, target: str | None,
          tolerance: float | None, serve: tuple[str, ...], **kwargs: Any) -> None:
    """Guidelines for TABLE: what to tune and where, what to fix, which optima stay put,
    and a narrowed space for the next sweep. Writes guidelines.md, guidelines.json,
    next_space.json (ConfigSpace, with priors), next_space.yaml (ours) and
    next_space_optuna.py into OUT."""
    from ..errors import InputError
    from ..guide_output import guide_files, write_all
    from ..methods import method_from_options
    from ..progress import ProgressBars
    from ..study import analyze as run_analysis

    check_jobs(jobs)
    options = pop_table_options(kwargs)
    wanted = {}
    for item in serve:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--for needs KEY=VALUE, got {item!r}")
        wanted[key.strip()] = value.strip()
    table = load_from_options(options)
    out_dir = Path(out)
    check_outputs(out_dir, OUTPUTS, input_paths(options, table))
    responses = list(table.responses)
    target = target or (responses[0] if responses else None)
    if target is None or target not in responses:
        raise InputError("--target is not a response of the table", column=str(target),
                         file=table.source, hint=f"responses: {', '.join(responses)}")
    table.direction(target, needed_for="the guidelines (which values are good)")
    n_fits = table.n_groups * len(responses)
    with ProgressBars(n_fits > 4 or n_bootstrap > 0, err_console, transient=True) as bars:
        method = method_from_options(n_trees=trees, seed=seed, estimator=estimator,
                                     n_bootstrap=n_bootstrap, conf_level=conf_level)
        study = run_analysis(table, method, min_trials=min_trials, n_jobs=jobs,
                             progress=bars.add("fitting forests", n_fits))
    files = guide_files(study, target, tolerance=tolerance,
                        settings={"n_trees": trees, "seed": seed, "estimator": estimator,
                                  "n_bootstrap": n_bootstrap, "conf_level": conf_level},
                        serve=wanted)
    written = write_all(out_dir, files)
    out_console.print(text(files["guidelines.md"]))
    for path in written:
        err_console.print(text(f"wrote {path}"))
    json.loads(files["guidelines.json"])  # strict JSON, or an internal error
