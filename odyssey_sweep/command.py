"""``odyssey sweep``: run or resume the random search, with a progress bar.

Importing this module needs neither torch nor the rest of the package's heavy dependencies;
without torch the command says how to install it and exits with status 2.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

from .search import SweepError, run_sweep
from .space import METRICS, TASKS, VARIANTS, parse_selection

MISSING_TORCH = "install the sweep extra: pip install 'odyssey-analysis[sweep]'"


def torch_available() -> bool:
    """Whether torch can be imported (checked without importing it)."""
    return importlib.util.find_spec("torch") is not None


def describe(row: dict[str, object]) -> str:
    """A short description of one finished trial."""
    head = f"{row['task']}/{row['variant']} #{row['trial']}"
    if row["status"] != "ok":
        return f"{head}: diverged"
    unit = "nats" if METRICS[str(row["task"])] == "nll" else "error"
    return f"{head}: test {float(row['test_error']):.3f} {unit}"  # type: ignore[arg-type]


@click.command("sweep")
@click.option(
    "--task",
    default="all",
    show_default=True,
    help=f"{', '.join(TASKS)}, a comma-separated list of them, or all.",
)
@click.option(
    "--variant",
    default="all",
    show_default=True,
    help=f"{', '.join(VARIANTS)}, a comma-separated list of them, or all.",
)
@click.option(
    "--trials",
    "n_trials",
    type=click.IntRange(min=1),
    required=True,
    help="Trials per (task, variant) search.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output CSV; an existing one is resumed (its trials are not run again).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (each uses one thread).",
)
@click.option(
    "--seed",
    "base_seed",
    type=int,
    default=0,
    show_default=True,
    help="Base seed from which every trial is derived.",
)
@click.option(
    "--max-epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Cap on epochs per trial (default: each task's setting).",
)
def sweep(
    task: str,
    variant: str,
    n_trials: int,
    out: Path,
    jobs: int,
    base_seed: int,
    max_epochs: int | None,
) -> None:
    """Train LSTM variants with random hyperparameters and append one row per trial to OUT.

    Reproduces a small "LSTM: A Search Space Odyssey" study: for every selected task and
    variant, trials 0 .. TRIALS-1, each with hyperparameters and a seed derived from --seed.
    Killed and restarted with the same arguments, it carries on where it stopped.
    """
    if not torch_available():
        click.echo(MISSING_TORCH, err=True)
        sys.exit(2)
    try:
        tasks = parse_selection(task, TASKS, "task")
        variants = parse_selection(variant, VARIANTS, "variant")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc

    from rich.console import Console

    from odyssey_analysis.progress import ProgressBars

    console = Console(stderr=True, highlight=False)
    progress = ProgressBars(True, console)
    bar: list = []

    def on_start(pending: int, already: int) -> None:
        if already:
            console.print(f"{out}: {already} trials already done, {pending} to run",
                          markup=False)
        bar.append(progress.add("sweep", pending))

    def on_result(row: dict[str, object], finished: int, pending: int) -> None:
        bar[0].update(completed=finished, status=describe(row))

    try:
        with progress:
            summary = run_sweep(
                tasks,
                variants,
                n_trials,
                out,
                jobs=jobs,
                base_seed=base_seed,
                max_epochs=max_epochs,
                on_result=on_result,
                on_start=on_start,
            )
    except SweepError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: finished trials are in {out}; run the same command to resume", err=True
        )
        sys.exit(130)
    click.echo(
        f"{summary.completed} trials written to {out} ({summary.diverged} diverged); "
        f"{summary.already_done} were already there"
    )


def main() -> None:
    """Run the command on its own (``python -m odyssey_sweep.command``)."""
    sweep()


if __name__ == "__main__":
    main()
