"""A sweep that looks like a user's export, not like the bundled study.

Columns ``task``, ``model``, ``lr`` (log-uniform), ``batch_size``, ``dropout``,
``optimizer`` (categorical), ``val_loss``, ``test_acc`` (maximised) and ``runtime_s``,
a few NaN metrics, and the unnamed row index that ``DataFrame.to_csv`` writes. ResNet is
better than the LSTM by construction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def user_sweep(n_per: int = 40, seed: int = 1, tasks=("cifar", "imdb"),
               models=("resnet", "lstm"), n_nan: int = 4) -> pd.DataFrame:
    """The sweep as a frame (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    for task in tasks:
        for model in models:
            base = 0.78 if model == models[0] else 0.70
            for _ in range(n_per):
                lr = 10 ** rng.uniform(-5, -1)
                batch = int(rng.choice([32, 64, 128, 256]))
                drop = rng.uniform(0, 0.6)
                opt = str(rng.choice(["adam", "sgd", "rmsprop"]))
                acc = (base - 0.06 * (np.log10(lr) + 3) ** 2 - 0.1 * drop ** 2
                       + (0.03 if opt == "adam" else 0.0) + rng.normal(0, 0.01))
                acc = float(np.clip(acc, 0.01, 0.99))
                rows.append({"task": task, "model": model, "lr": lr, "batch_size": batch,
                             "dropout": drop, "optimizer": opt,
                             "val_loss": -np.log(acc) + rng.normal(0, 0.02),
                             "test_acc": acc,
                             "runtime_s": 100 * 256 / batch * rng.uniform(0.8, 1.2)})
    frame = pd.DataFrame(rows)
    frame.loc[rng.choice(len(frame), n_nan, replace=False), "val_loss"] = np.nan
    return frame


def write_user_sweep(path: Path, **kwargs) -> Path:
    """Write :func:`user_sweep` as ``DataFrame.to_csv`` does by default (with its index)."""
    user_sweep(**kwargs).to_csv(path)
    return path
