"""Fixed inputs for the figure tests, and the script that renders their baseline images.

Run ``python tests/make_baselines.py`` (from the repository root) after an intended
change to a figure, look at every PNG it writes under ``tests/baseline_images/``, and
commit them. The inputs are built by hand (analytic curves, fixed seeds), so the images
do not depend on the forest or on the fitting code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.testing  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from odyssey_analysis import presets  # noqa: E402
from odyssey_analysis.compare import Comparison, compare  # noqa: E402
from odyssey_analysis.result import FanovaResult, Marginal, PairGrid, StudyResult  # noqa: E402

BASELINE_DIR = Path(__file__).parent / "baseline_images"
#: Resolution of the baseline images (small files, enough to see a change).
BASELINE_DPI = 72
#: The bundled study's four figures, then sweeps unlike it (:mod:`foreign_sweeps`): many
#: hyperparameters with long names, 9- and 30-level categoricals, budgets as groups,
#: a long response name, numbers as variants.
NAMES = ("variants", "marginals", "fractions", "interactions", "foreign_marginals_10",
         "foreign_fractions_20", "foreign_interactions_3", "foreign_interactions_top",
         "foreign_variants_numeric")
TASKS = ("speech", "music")


def configure() -> None:
    """Matplotlib's own test settings: Agg, default rcParams, DejaVu Sans, no hinting."""
    matplotlib.testing.setup()


def fixed_trials(n_per: int = 30) -> pd.DataFrame:
    """Three variants on two tasks; NFG clearly worse, CIFG the same as V."""
    rng = np.random.default_rng(20170101)
    rows = []
    for task, base in (("speech", 0.30), ("music", 8.6)):
        for variant, shift in (("V", 0.0), ("CIFG", 0.0), ("NFG", 0.12)):
            for i in range(n_per):
                err = base * (1 + shift + 0.15 * rng.random())
                rows.append({"task": task, "variant": variant, "trial": i,
                             "valid_error": err + 0.002 * rng.standard_normal(),
                             "test_error": err, "n_params": 40000 + 500 * i,
                             "metric": "classification error" if task == "speech"
                             else "negative log-likelihood"})
    return pd.DataFrame(rows)


def fixed_comparison() -> Comparison:
    """The comparison of :func:`fixed_trials` (NFG significant on both tasks)."""
    return compare(fixed_trials(), top_fraction=0.2)


def _curve(name: str, u: np.ndarray, scale: float) -> np.ndarray:
    shapes = {
        "learning_rate": 1.2 * (u - 0.7) ** 2,
        "hidden_size": -0.15 * u,
        "momentum": 0.01 * np.sin(6 * u),
        "input_noise": 0.08 * u ** 2,
    }
    return scale * shapes[name]


def fake_result(group: dict, response: str = "test_error", scale: float = 1.0,
                n_trees: int = 5, grid_points: int = 40, pair_points: int = 12) -> FanovaResult:
    """A FanovaResult with analytic curves and fixed per-tree variances."""
    space = presets.odyssey_space()
    names = space.names
    d = len(names)
    wobble = np.linspace(0.9, 1.1, n_trees)
    shares = np.array([0.68, 0.14, 0.006, 0.05])
    main = shares[None, :] * wobble[:, None]
    pair = np.zeros((n_trees, d, d))
    for (j, k), share in {(0, 1): 0.05, (0, 3): 0.03, (1, 3): 0.01}.items():
        pair[:, j, k] = pair[:, k, j] = share * wobble[::-1]
    marginals = {}
    grid = np.linspace(0, 1, grid_points)
    for name in names:
        hp = space[name]
        mean = 0.3 * scale + _curve(name, grid, scale)
        std = scale * (0.004 + 0.01 * np.abs(np.sin(5 * grid)))
        marginals[name] = Marginal(name, hp.kind, hp.scale, grid, hp.decode(grid), mean, std)
    pairs = {}
    pg = np.linspace(0, 1, pair_points)
    for j in range(d):
        for k in range(j + 1, d):
            a, b = space[names[j]], space[names[k]]
            inter = scale * 0.02 * np.outer(pg - 0.5, 0.5 - pg) * (j + 1) / (k + 1)
            total = (0.3 * scale + _curve(a.name, pg, scale)[:, None]
                     + _curve(b.name, pg, scale)[None, :] + inter)
            pairs[(a.name, b.name)] = PairGrid(
                (a.name, b.name), a.decode(pg), b.decode(pg), a.scale, b.scale, a.kind,
                b.kind, total, 0.1 * np.abs(total), inter, 0.1 * np.abs(inter))
    return FanovaResult(
        group=dict(group), response=response, hyperparameters=names,
        tree_mean=np.full(n_trees, 0.3 * scale), tree_variance=np.ones(n_trees),
        main_variance=main, pair_variance=pair, n_trials=200, oob_r2=0.8,
        marginals=marginals, pairs=pairs, measures=space.measures())


def fixed_study() -> StudyResult:
    """Two tasks of variant V with test error and training time."""
    results = {}
    for task, scale in (("speech", 1.0), ("music", 28.0)):
        for response, factor in (("test_error", 1.0), ("train_time", 900.0)):
            result = fake_result({"task": task, "variant": "V"}, response, scale * factor)
            results[((task, "V"), response)] = result
    return StudyResult(results, ["task", "variant"], ["test_error", "train_time"],
                       presets.odyssey_space())


def render(name: str):
    """The figure ``name`` (one of :data:`NAMES`) from the fixed inputs."""
    from odyssey_analysis.plots import (
        fractions_figure,
        interactions_figure,
        marginals_figure,
        variants_figure,
    )

    if name.startswith("foreign_"):
        return _render_foreign(name)
    if name == "variants":
        return variants_figure(fixed_comparison())
    study = fixed_study()
    if name == "marginals":
        return marginals_figure(study, tasks=TASKS, secondary="train_time")
    if name == "fractions":
        return fractions_figure(study, tasks=TASKS)
    if name == "interactions":
        return interactions_figure(study.get("test_error", task="speech", variant="V"))
    raise KeyError(name)


def _render_foreign(name: str):
    from foreign_sweeps import (
        LONG_RESPONSE,
        foreign_study,
        numeric_variant_comparison,
    )

    from odyssey_analysis.plots import (
        fractions_figure,
        interactions_figure,
        marginals_figure,
        variants_figure,
    )

    grouped = {"task_key": None, "variant_key": None}
    if name == "foreign_marginals_10":
        return marginals_figure(foreign_study(10), response=LONG_RESPONSE,
                                secondary="wall_clock_time_in_seconds", **grouped)
    if name == "foreign_fractions_20":
        return fractions_figure(foreign_study(20, budgets=(2.7777777777777777,)),
                                response=LONG_RESPONSE, **grouped)
    if name == "foreign_interactions_3":
        study = foreign_study(3, budgets=(2.7777777777777777,), secondary=None)
        return interactions_figure(study.get(LONG_RESPONSE, budget=2.7777777777777777),
                                   direction="maximize")
    if name == "foreign_interactions_top":
        study = foreign_study(20, budgets=(11.11111111111111,), secondary=None)
        return interactions_figure(study.get(LONG_RESPONSE, budget=11.11111111111111),
                                   top_pairs=6)
    if name == "foreign_variants_numeric":
        return variants_figure(numeric_variant_comparison())
    raise KeyError(name)


def main(out_dir: Path = BASELINE_DIR) -> list[Path]:
    """Render every baseline image into ``out_dir``."""
    configure()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in NAMES:
        fig = render(name)
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=BASELINE_DPI)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else BASELINE_DIR):
        print(p)
