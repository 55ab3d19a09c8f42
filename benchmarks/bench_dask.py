"""A meta-study on a local Dask cluster against local joblib: wall times and task counts.

Run ``python benchmarks/bench_dask.py [--groups 500 --trials 200] [--out FILE.md]``.
One run builds the meta-study (``--groups`` groups of ``--trials`` trials of the
synthetic sweep of ``bench_fanova.py``) and runs ``analyze`` on it

* locally, with the default plan (fits spread over worker processes above a few seconds
  of work);
* on a ``dask.distributed.LocalCluster`` of ``--workers`` single-threaded worker
  processes, through ``joblib.parallel_config(backend="dask")``, after one small study
  has warmed the workers up (imports, compiled kernels);

and reports the wall times, the number of tasks the scheduler ran (one per fit: each
fit builds its trees inside its task) and whether the importance tables are identical
bit for bit. On one machine a cluster can only add overhead; the point is that it adds
little, so a real cluster scales with its workers.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import joblib
from bench_fanova import SPACE, load, make_sweep

from odyssey_analysis import TrialTable, analyze
from odyssey_analysis.methods import method_from_options


def meta_study(groups: int, trials: int) -> TrialTable:
    frame = make_sweep(groups * trials, seed=2)
    frame["task"] = [f"g{i % groups:04d}" for i in range(len(frame))]
    return TrialTable.from_frame(frame, hyperparameters=SPACE.names, responses=["y"],
                                 group_by=["task"], space=SPACE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--trees", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--dask-first", action="store_true",
                        help="run on the cluster before the local run (load drifts)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from distributed import Client, LocalCluster, get_task_stream

    table = meta_study(args.groups, args.trials)
    lines = [f"# Dask benchmark ({platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()})", "",
             f"Before: {load()}.", ""]
    print(lines[2], flush=True)

    def run_local() -> tuple:
        t0 = time.perf_counter()
        study = analyze(table, method_from_options(n_trees=args.trees))
        print(f"local: {time.perf_counter() - t0:.1f} s ({load()})", flush=True)
        return study, time.perf_counter() - t0

    if not args.dask_first:
        local, local_s = run_local()
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    with cluster, Client(cluster) as client:
        start_s = time.perf_counter() - t0
        with joblib.parallel_config(backend="dask"):
            # warm the workers up
            analyze(meta_study(args.workers, 50), method_from_options(n_trees=4))
        warm_s = time.perf_counter() - t0 - start_s
        with get_task_stream(client=client) as stream:
            t0, c0 = time.perf_counter(), time.process_time()
            with joblib.parallel_config(backend="dask"):
                remote = analyze(table, method_from_options(n_trees=args.trees))
            dask_s, client_cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"dask: {dask_s:.1f} s ({load()})", flush=True)
        tasks = len(stream.data)
        busy = sum(s["stop"] - s["start"] for task in stream.data
                   for s in task["startstops"] if s["action"] == "compute")
    if args.dask_first:
        local, local_s = run_local()
    same = remote.importance_table().equals(local.importance_table())
    lines += [f"{args.groups} groups × {args.trials} trials ({len(local)} fits, {args.trees} "
              f"trees each), wall seconds:", "",
              "| run | wall s | tasks |", "|---|---|---|",
              f"| local joblib (default plan) | {local_s:.1f} | – |",
              f"| LocalCluster, {args.workers} workers × 1 thread | {dask_s:.1f} | {tasks} |",
              "",
              f"Cluster start {start_s:.1f} s and warm-up {warm_s:.1f} s, not counted above "
              "(the local run includes starting its worker processes). "
              f"Dask / local: {dask_s / local_s:.2f}×; tasks per fit: "
              f"{tasks / len(local):.2f}; importance tables bit-identical: {same}. The "
              f"workers computed {busy / (args.workers * dask_s):.0%} of the time; the "
              f"scheduler and client, in this process, used {client_cpu:.1f} s of CPU "
              f"({1e3 * client_cpu / max(tasks, 1):.0f} ms per task) on the same cores.", "",
              f"After: {load()}."]
    print("\n".join(lines[4:]))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
