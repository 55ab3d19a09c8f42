"""Start-up cost of a small ``odyssey analyze``, and what it is made of.

Run ``python benchmarks/bench_startup.py`` (``--repeat N``; ``--baseline DIR`` to run the
same rows on another checkout of the package side by side, e.g. one made with
``git archive COMMIT | tar -x -C DIR``; ``--compile`` to add the first fit's time with an
empty kernel cache). Every row is the CPU seconds (user + system) of a child process,
the best of ``--repeat`` runs after one warm-up run (which fills the kernel and bytecode
caches; ``PYTHONDONTWRITEBYTECODE`` is unset for the children), with
``NUMBA_NUM_THREADS=1`` and ``--jobs 1``:

* ``odyssey analyze`` on one group of 200 trials × 4 numeric hyperparameters (the
  ``cli_analyze`` row of ``benchmarks/bench_forest.py``), with the compiled forest and
  with scikit-learn's;
* the floor under it: an empty interpreter, importing NumPy and pandas (the loaders need
  them), importing Numba and loading its registries (the first compiled call of any
  process does), and the two together.

The rows of one run alternate between the trees, so their ratios share one machine load.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_forest import compile_times, sweep  # noqa: E402

FLOOR = {
    "empty interpreter": "pass",
    "import numpy, pandas": "import numpy, pandas",
    "import numba + its registries": (
        "import numba\n"
        "from numba.core.registry import cpu_target\n"
        "try:\n"
        "    from odyssey_analysis._numba_start import load_registries\n"
        "except ImportError:\n"
        "    load_registries = None\n"
        "if load_registries is not None:\n"
        "    load_registries()\n"
        "cpu_target.target_context.refresh()\n"
        "cpu_target.typing_context.refresh()\n"),
}
FLOOR["pandas + numba + registries"] = "import pandas\n" + FLOOR[
    "import numba + its registries"]


def child_env(root: Path) -> dict[str, str]:
    """The children's environment: one Numba thread, ``root`` first on the path, and
    bytecode caching on (an installed package has its ``.pyc`` files; with
    ``PYTHONDONTWRITEBYTECODE`` set every run would compile the package from source)."""
    env = dict(os.environ, PYTHONPATH=str(root), NUMBA_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """CPU seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True, env=env, cwd=tempfile.gettempdir())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per row (best is kept)")
    ap.add_argument("--baseline", type=Path, help="another checkout to run side by side")
    ap.add_argument("--compile", action="store_true",
                    help="also time a first fit with an empty kernel cache")
    args = ap.parse_args(argv)
    load0 = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    trees = {"this tree": ROOT}
    if args.baseline is not None:
        trees = {"baseline": args.baseline.resolve(), **trees}
    import pandas as pd

    x, y = sweep(200, 4, 3)
    rows: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sweep.csv"
        pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(loss=y).to_csv(csv, index=False)
        work = [(f"`odyssey analyze`, {s}", s) for s in ("compiled", "sklearn")]
        for i in range(args.repeat + 1):
            for label, surrogate in work:
                for name, root in trees.items():
                    env = child_env(root)
                    used = child_cpu([sys.executable, "-m", "odyssey_analysis", "analyze",
                                      str(csv), "--response", "loss", "--out",
                                      str(Path(tmp) / f"out-{name}-{surrogate}-{i}"),
                                      "--jobs", "1", "--surrogate", surrogate], env)
                    if i:  # the first run fills the caches
                        key = (label, name)
                        rows[key] = min(rows.get(key, float("inf")), used)
            for label, code in FLOOR.items():
                used = child_cpu([sys.executable, "-c", code], child_env(ROOT))
                if i:
                    key = (label, "this tree")
                    rows[key] = min(rows.get(key, float("inf")), used)
    load1 = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    command = "python benchmarks/bench_startup.py" + "".join(
        f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    names = list(trees)
    lines = [f"`{command}` ({started}; {os.cpu_count()} cores; load average {load0} at "
             f"the start, {load1} at the end). CPU seconds of a child process, best of "
             f"{args.repeat}, caches warm.", "",
             "| run | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label in [w[0] for w in work] + list(FLOOR):
        cells = [f"{rows[(label, n)]:.3f} s" if (label, n) in rows else "" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if args.compile:
        cold, warm = compile_times()
        lines += ["", f"First fit in a fresh process (imports included, wall): {cold:.1f} s "
                      f"with an empty kernel cache (compiling), {warm:.1f} s once cached."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
