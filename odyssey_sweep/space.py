"""The search space of the sweep and the deterministic derivation of every trial.

Trial ``k`` of ``(task, variant)`` is fully determined by the base seed: its hyperparameters
and its training seed come from a ``numpy.random.SeedSequence`` keyed on
``(base_seed, task, variant, k)``, so a restarted sweep regenerates exactly the same trials.
This module needs only numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy is imported where a trial is drawn: `odyssey --help` needs none
    import numpy as np

TASKS: tuple[str, ...] = ("music", "speech", "handwriting")
"""Task names, in the order the runner interleaves them."""

VARIANTS: tuple[str, ...] = ("V", "CIFG", "FGR", "NP", "NOG", "NIAF", "NIG", "NFG", "NOAF")
"""Variant codes, in the order of the paper's figures."""

METRICS: dict[str, str] = {
    "music": "nll",
    "speech": "classification_error",
    "handwriting": "classification_error",
}
"""The name of each task's test metric (lower is better)."""

RESULT_COLUMNS: tuple[str, ...] = (
    "task",
    "variant",
    "trial",
    "seed",
    "hidden_size",
    "learning_rate",
    "momentum",
    "input_noise",
    "valid_error",
    "test_error",
    "metric",
    "train_time",
    "epochs",
    "n_params",
    "diverged",
    "status",
)
"""Columns of one result row, in CSV order."""


@dataclass(frozen=True)
class SamplingRanges:
    """Bounds of the four hyperparameters the sweep draws, and how each is drawn.

    Only the sweep's random search uses it; the analysis reads a sweep's measure from an
    :class:`odyssey_analysis.space.SearchSpace` (the bundled study's is in
    ``data/odyssey_mini.space.yaml``).

    Attributes
    ----------
    hidden_size : tuple[int, int]
        Log-uniform integer range (inclusive) of the number of LSTM blocks per direction.
    learning_rate : tuple[float, float]
        Log-uniform range of the SGD learning rate.
    one_minus_momentum : tuple[float, float]
        Log-uniform range of ``1 - momentum``.
    input_noise : tuple[float, float]
        Uniform range of the standard deviation of the additive Gaussian input noise.
    """

    hidden_size: tuple[int, int] = (20, 200)
    learning_rate: tuple[float, float] = (1e-6, 1e-2)
    one_minus_momentum: tuple[float, float] = (0.01, 1.0)
    input_noise: tuple[float, float] = (0.0, 1.0)


PAPER_SPACE = SamplingRanges()
"""The distributions of Greff et al. (2017)."""

SWEEP_SPACE = SamplingRanges(learning_rate=(1e-3, 10.0))
"""The distributions this package's sweep uses: the paper's, with the learning-rate range
(still four decades, log-uniform) moved up by three decades, because here the loss is averaged
over a minibatch (the paper updated after every sequence) and a trial trains for a few epochs
only, so that rates below 1e-3 learn nothing (see data/README.md)."""


@dataclass(frozen=True)
class TrialSpec:
    """One trial of the sweep: where it belongs, its seed and its hyperparameters."""

    task: str
    variant: str
    trial: int
    seed: int
    hidden_size: int
    learning_rate: float
    momentum: float
    input_noise: float

    def as_dict(self) -> dict[str, object]:
        """The spec as a plain dictionary (CSV column order)."""
        return asdict(self)


def _loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def make_trial(
    task: str, variant: str, trial: int, base_seed: int = 0, space: SamplingRanges = SWEEP_SPACE
) -> TrialSpec:
    """Derive trial ``trial`` of ``(task, variant)`` from the base seed.

    Parameters
    ----------
    task, variant : str
        Task name (one of :data:`TASKS`) and variant code (one of :data:`VARIANTS`).
    trial : int
        Index of the trial within its (task, variant) search, counted from 0.
    base_seed : int
        Seed of the whole sweep.
    space : SamplingRanges
        The sampling distributions.

    Returns
    -------
    TrialSpec
        The same spec for the same arguments, on every machine.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    key = [int(base_seed), TASKS.index(task), VARIANTS.index(variant), int(trial)]
    import numpy as np

    rng = np.random.default_rng(np.random.SeedSequence(key))
    low, high = space.hidden_size
    # log-uniform integer: sample log-uniformly on [low - 0.5, high + 0.5) and round
    hidden = int(round(_loguniform(rng, low - 0.5, high + 0.5)))
    hidden = min(max(hidden, low), high)
    learning_rate = _loguniform(rng, *space.learning_rate)
    momentum = 1.0 - _loguniform(rng, *space.one_minus_momentum)
    noise = float(rng.uniform(*space.input_noise))
    seed = int(rng.integers(0, 2**31 - 1))
    return TrialSpec(task, variant, int(trial), seed, hidden, learning_rate, momentum, noise)


def trial_order(
    tasks: tuple[str, ...] | list[str], variants: tuple[str, ...] | list[str], n_trials: int
) -> list[tuple[str, str, int]]:
    """All (task, variant, trial) keys, trial index outermost.

    Running trials in this order keeps the groups balanced whenever a sweep is stopped early.
    """
    return [(t, v, k) for k in range(n_trials) for t in tasks for v in variants]


def parse_selection(text: str | Sequence[str], allowed: Sequence[str], what: str) -> list[str]:
    """Names from a command-line selection: ``all``, one name, or a comma-separated list.

    Parameters
    ----------
    text : str or sequence of str
        What the user gave (several values are joined).
    allowed : sequence of str
        The valid names, in canonical order.
    what : str
        What the names are (for the error message), e.g. ``"task"``.

    Returns
    -------
    list of str
        The selected names, in the order of ``allowed``, without repeats.

    Raises
    ------
    ValueError
        If a name is not in ``allowed``.
    """
    parts = [text] if isinstance(text, str) else list(text)
    names = [n.strip() for p in parts for n in p.split(",") if n.strip()]
    if not names or "all" in names:
        return list(allowed)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(
            f"unknown {what} {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(allowed)} or all"
        )
    return [a for a in allowed if a in names]
