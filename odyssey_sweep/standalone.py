"""Run the sweep with only torch and numpy: ``python odyssey_sweep/standalone.py``.

The same runner as ``odyssey sweep`` (same arguments, same output, resumable), for machines
where the rest of the package's dependencies (click, rich, pandas, ConfigSpace, ...) are not
installed: the training code imports nothing of ``odyssey_analysis``. Progress is printed
as plain lines.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _bootstrap() -> None:
    """Make ``odyssey_sweep`` importable when this file is run as a script."""
    here = Path(__file__).resolve().parent
    if sys.path and Path(sys.path[0] or ".").resolve() == here:
        sys.path.pop(0)  # the script's folder would shadow nothing useful
    sys.path.insert(0, str(here.parent))


if not __package__:
    _bootstrap()

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from odyssey_sweep.search import SweepError, run_sweep  # noqa: E402
from odyssey_sweep.space import TASKS, VARIANTS, parse_selection  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the sweep, return the exit status."""
    parser = argparse.ArgumentParser(description="Run or resume the LSTM variant sweep.")
    parser.add_argument("--task", default="all")
    parser.add_argument("--variant", default="all")
    parser.add_argument("--trials", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between reports")
    args = parser.parse_args(argv)
    try:
        tasks = parse_selection(args.task, TASKS, "task")
        variants = parse_selection(args.variant, VARIANTS, "variant")
    except ValueError as exc:
        parser.error(str(exc))
    start = time.monotonic()
    last = [start]

    def on_start(pending: int, already: int) -> None:
        print(f"{already} trials already in {args.out}, {pending} to run", flush=True)

    def on_result(row: dict[str, object], finished: int, pending: int) -> None:
        now = time.monotonic()
        if now - last[0] >= args.every or finished == pending:
            last[0] = now
            elapsed = now - start
            eta = elapsed / finished * (pending - finished)
            print(
                f"{finished}/{pending} trials, {elapsed:.0f} s elapsed, eta {eta:.0f} s", flush=True
            )

    try:
        summary = run_sweep(
            tasks,
            variants,
            args.trials,
            args.out,
            jobs=args.jobs,
            base_seed=args.seed,
            max_epochs=args.max_epochs,
            on_result=on_result,
            on_start=on_start,
        )
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{summary.completed} trials written to {args.out} ({summary.diverged} diverged) "
        f"in {time.monotonic() - start:.0f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
