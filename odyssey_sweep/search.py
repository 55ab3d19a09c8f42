"""The resumable random-search runner.

Every finished trial is appended to the output CSV at once (flushed and fsynced, header
written once), so a sweep that is killed loses only the trials that were running. Restarted
with the same arguments, it reads the file, skips every (task, variant, trial) already there and
runs the rest; trial ``k`` of a search is derived from the base seed alone
(:func:`odyssey_sweep.space.make_trial`), so the restart regenerates exactly the same
trials. A half-written last line (the process died while writing it) is removed first.

This module imports neither torch nor pandas; the worker imports :mod:`.train` when it runs.
"""

from __future__ import annotations

import csv
import io
import math
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .space import RESULT_COLUMNS, TASKS, VARIANTS, TrialSpec, make_trial, trial_order

Key = tuple[str, str, int]
ProgressCallback = Callable[[dict[str, object], int, int], None]


class SweepError(ValueError):
    """The output file cannot be resumed (other columns, or another base seed)."""


@dataclass
class SweepSummary:
    """What a call of :func:`run_sweep` did.

    Attributes
    ----------
    requested : int
        Trials the arguments ask for.
    already_done : int
        Of those, trials found in the output file.
    completed : int
        Trials run and written by this call.
    diverged : int
        Of ``completed``, how many diverged.
    """

    requested: int = 0
    already_done: int = 0
    completed: int = 0
    diverged: int = 0
    rows: list[dict[str, object]] = field(default_factory=list, repr=False)


def _repair_tail(path: Path) -> None:
    """Cut a half-written last line off ``path``."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def read_done(path: str | os.PathLike[str], base_seed: int | None = None) -> dict[Key, dict]:
    """The trials already in an output CSV, by (task, variant, trial).

    Parameters
    ----------
    path : path-like
        The sweep's output CSV; a missing or empty file has no trials.
    base_seed : int, optional
        If given, every row's seed is checked against the one the base seed derives for it.

    Returns
    -------
    dict
        (task, variant, trial) -> the row as read (strings).

    Raises
    ------
    SweepError
        If the header is not the sweep's, or a row's seed was derived from another base seed.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return {}
    _repair_tail(path)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != RESULT_COLUMNS:
            raise SweepError(
                f"{path}: header is not the sweep's columns ({', '.join(RESULT_COLUMNS)})"
            )
        done: dict[Key, dict] = {}
        for line, row in enumerate(reader, start=2):
            key = (row["task"], row["variant"], int(row["trial"]))
            if base_seed is not None and key[0] in TASKS and key[1] in VARIANTS:
                expected = make_trial(*key, base_seed=base_seed).seed
                if int(row["seed"]) != expected:
                    raise SweepError(
                        f"{path}, line {line}: seed {row['seed']} is not the one base seed "
                        f"{base_seed} gives this trial ({expected}); use the base seed the "
                        "file was made with, or another output file"
                    )
            done[key] = row
    return done


def format_row(row: dict[str, object]) -> str:
    """One CSV line (with newline) of a result row; floats keep full precision."""
    buf = io.StringIO()
    values = [
        repr(v) if isinstance(v, float) and math.isfinite(v) else v
        for v in (row[c] for c in RESULT_COLUMNS)
    ]
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


class ResultWriter:
    """Appends result rows to a CSV, durably, one line at a time."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._fh = open(self.path, "a", newline="")
        if new:
            self._write(",".join(RESULT_COLUMNS) + "\n")

    def _write(self, text: str) -> None:
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def write(self, row: dict[str, object]) -> None:
        """Append one row and make it durable."""
        self._write(format_row(row))

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


def _init_worker() -> None:
    """Pool worker set-up: one torch thread, and leave Ctrl-C to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def run_spec(
    spec: TrialSpec, max_epochs: int | None = None, data_dir: str | None = None
) -> dict[str, object]:
    """Run one trial (imports torch); the function the pool workers call."""
    from .train import run_trial

    return run_trial(spec, max_epochs=max_epochs, data_dir=data_dir)


def pending_trials(
    tasks: Sequence[str],
    variants: Sequence[str],
    n_trials: int,
    done: Iterable[Key],
    base_seed: int = 0,
) -> list[TrialSpec]:
    """The trials still to run, trial index outermost (so groups stay balanced)."""
    finished = set(done)
    return [
        make_trial(t, v, k, base_seed)
        for t, v, k in trial_order(list(tasks), list(variants), n_trials)
        if (t, v, k) not in finished
    ]


def run_sweep(
    tasks: Sequence[str],
    variants: Sequence[str],
    n_trials: int,
    out: str | os.PathLike[str],
    jobs: int = 1,
    base_seed: int = 0,
    max_epochs: int | None = None,
    data_dir: str | None = None,
    on_result: ProgressCallback | None = None,
    on_start: Callable[[int, int], None] | None = None,
    limit: int | None = None,
) -> SweepSummary:
    """Run (or resume) a random search and append each finished trial to ``out``.

    Parameters
    ----------
    tasks, variants : sequence of str
        Which searches to run (names of :data:`~odyssey_sweep.space.TASKS` and
        :data:`~odyssey_sweep.space.VARIANTS`).
    n_trials : int
        Trials per (task, variant): indices ``0 .. n_trials - 1``.
    out : path-like
        Output CSV (created, or resumed if it exists).
    jobs : int
        Worker processes (1 runs the trials in this process).
    base_seed : int
        Seed from which every trial's hyperparameters and seed are derived.
    max_epochs : int, optional
        Cap on epochs per trial (default: each task's setting).
    data_dir : str, optional
        Folder of the converted data sets.
    on_result : callable, optional
        Called as ``on_result(row, n_finished, n_pending)`` after each trial is written.
    on_start : callable, optional
        Called as ``on_start(n_pending, n_already_done)`` before the first trial starts.
    limit : int, optional
        Stop after this many trials (for tests; the rest stay pending).

    Returns
    -------
    SweepSummary
    """
    for t in tasks:
        if t not in TASKS:
            raise SweepError(f"unknown task {t!r}; expected one of {', '.join(TASKS)}")
    for v in variants:
        if v not in VARIANTS:
            raise SweepError(f"unknown variant {v!r}; expected one of {', '.join(VARIANTS)}")
    done = read_done(out, base_seed)
    todo = pending_trials(tasks, variants, n_trials, done, base_seed)
    if limit is not None:
        todo = todo[:limit]
    summary = SweepSummary(requested=len(tasks) * len(variants) * n_trials)
    summary.already_done = summary.requested - len(
        pending_trials(tasks, variants, n_trials, done, base_seed)
    )
    if on_start is not None:
        on_start(len(todo), summary.already_done)
    writer = ResultWriter(out)

    def record(row: dict[str, object]) -> None:
        writer.write(row)
        summary.completed += 1
        summary.diverged += bool(row["diverged"])
        summary.rows.append(row)
        if on_result is not None:
            on_result(row, summary.completed, len(todo))

    try:
        if jobs <= 1:
            for spec in todo:
                record(run_spec(spec, max_epochs, data_dir))
        else:
            _run_pool(todo, jobs, max_epochs, data_dir, record)
    finally:
        writer.close()
    return summary


def _run_pool(
    todo: list[TrialSpec],
    jobs: int,
    max_epochs: int | None,
    data_dir: str | None,
    record: Callable[[dict[str, object]], None],
) -> None:
    """Run ``todo`` on ``jobs`` spawned processes, keeping at most 2 * jobs trials queued."""
    context = multiprocessing.get_context("spawn")
    queue = iter(todo)
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker) as pool:
        running: set[Future] = set()
        try:
            while True:
                while len(running) < 2 * jobs:
                    spec = next(queue, None)
                    if spec is None:
                        break
                    running.add(pool.submit(run_spec, spec, max_epochs, data_dir))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    record(future.result())
        except BaseException:
            for future in running:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
