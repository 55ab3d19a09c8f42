"""The three tasks of the sweep: loading the converted arrays and batching them.

Only numpy is needed here; the training loop turns the padded batches into tensors.

=============  ===================================  ==============================  ==========
task           data (``odyssey_analysis/data/``)    model output                    metric
=============  ===================================  ==============================  ==========
music          ``music_bach_chorales.npz``          next frame, independent         frame NLL
                                                    sigmoids per pitch
speech         ``speech_japanese_vowels.npz``       speaker (9 classes), softmax    error rate
handwriting    ``handwriting_digits.npz``           digit (10 classes), softmax     error rate
=============  ===================================  ==============================  ==========
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

#: The tasks' data ship with ``odyssey_analysis`` (beside this package).
DATA_DIR = Path(__file__).resolve().parents[1] / "odyssey_analysis" / "data"

FILES = {
    "music": "music_bach_chorales.npz",
    "speech": "speech_japanese_vowels.npz",
    "handwriting": "handwriting_digits.npz",
}


@dataclass(frozen=True)
class TaskSettings:
    """Fixed (not searched) training settings of a task."""

    bidirectional: bool
    batch_size: int
    max_epochs: int
    patience: int
    max_train: int | None = None
    """Train on the first ``max_train`` sequences of the training split only (None: all)."""


SETTINGS: dict[str, TaskSettings] = {
    "music": TaskSettings(
        bidirectional=False, batch_size=16, max_epochs=10, patience=3, max_train=120
    ),
    "speech": TaskSettings(bidirectional=True, batch_size=16, max_epochs=15, patience=4),
    "handwriting": TaskSettings(
        bidirectional=True, batch_size=32, max_epochs=10, patience=3, max_train=600
    ),
}


@dataclass(frozen=True)
class SequenceSet:
    """Sequences of one split, padded at the end.

    Attributes
    ----------
    x : ndarray, shape (T_max, N, n_inputs), float32
        Time-major inputs.
    lengths : ndarray, shape (N,), int64
    y : ndarray
        Class labels (N,) for classification; next-frame targets (T_max, N, n_outputs) for
        music, where input step ``t`` predicts frame ``t + 1``.
    """

    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    def head(self, n: int | None) -> SequenceSet:
        """The first ``n`` sequences (all if ``n`` is None)."""
        return self if n is None or n >= len(self) else self.batch(np.arange(n))

    def batch(self, idx: np.ndarray) -> SequenceSet:
        """The sequences ``idx``, cut to the longest of them."""
        lengths = self.lengths[idx]
        t = int(lengths.max())
        y = self.y[:t, idx] if self.y.ndim == 3 else self.y[idx]
        return SequenceSet(self.x[:t, idx], lengths, y)


@dataclass(frozen=True)
class TaskData:
    """A task's three splits and shape.

    Attributes
    ----------
    name : str
    kind : str
        ``"classification"`` or ``"next_frame"``.
    n_inputs, n_outputs : int
    train, valid, test : SequenceSet
    """

    name: str
    kind: str
    n_inputs: int
    n_outputs: int
    train: SequenceSet
    valid: SequenceSet
    test: SequenceSet


def _unpack(x: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    return np.split(x, np.cumsum(lengths)[:-1])


def _pad(seqs: list[np.ndarray], n_features: int) -> np.ndarray:
    out = np.zeros((max(len(s) for s in seqs), len(seqs), n_features), dtype=np.float32)
    for k, s in enumerate(seqs):
        out[: len(s), k] = s
    return out


def _classification(name: str, data: np.lib.npyio.NpzFile) -> TaskData:
    """Standardise each feature with the training split's mean and std, then pad."""
    train = data["x_train"].astype(np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    splits = {}
    for split in ("train", "valid", "test"):
        x = ((data[f"x_{split}"] - mean) / std).astype(np.float32)
        lengths = data[f"len_{split}"].astype(np.int64)
        seqs = _unpack(x, lengths)
        splits[split] = SequenceSet(_pad(seqs, x.shape[1]), lengths, data[f"y_{split}"])
    n_classes = int(max(data[f"y_{s}"].max() for s in ("train", "valid", "test"))) + 1
    return TaskData(name, "classification", train.shape[1], n_classes, **splits)


def _next_frame(name: str, data: np.lib.npyio.NpzFile) -> TaskData:
    """Inputs are frames ``0 .. T-2`` of each piano roll, targets frames ``1 .. T-1``."""
    splits = {}
    n = data["x_train"].shape[1]
    for split in ("train", "valid", "test"):
        rolls = _unpack(data[f"x_{split}"], data[f"len_{split}"])
        x = _pad([r[:-1] for r in rolls], n)
        y = _pad([r[1:] for r in rolls], n)
        lengths = np.array([len(r) - 1 for r in rolls], dtype=np.int64)
        splits[split] = SequenceSet(x, lengths, y)
    return TaskData(name, "next_frame", n, n, **splits)


@cache
def load_task(name: str, data_dir: str | None = None) -> TaskData:
    """Load a task's converted arrays (cached per process).

    Parameters
    ----------
    name : str
        ``"music"``, ``"speech"`` or ``"handwriting"``.
    data_dir : str, optional
        Folder holding the ``.npz`` files (default: the package's ``data`` folder).

    Returns
    -------
    TaskData
    """
    if name not in FILES:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(FILES)}")
    path = Path(data_dir or DATA_DIR) / FILES[name]
    with np.load(path) as data:
        if name == "music":
            return _next_frame(name, data)
        return _classification(name, data)


def epoch_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, window: int = 4
) -> list[np.ndarray]:
    """A random partition of the sequences into batches of similar lengths, in random order.

    The sequences are shuffled, cut into windows of ``window * batch_size``, sorted by length
    within each window (so a batch needs little padding), cut into batches, and the batches
    shuffled. Everything random comes from ``rng``.

    Parameters
    ----------
    lengths : ndarray of int
        Length of every sequence.
    batch_size : int
    rng : numpy.random.Generator
    window : int
        Number of batches whose sequences are sorted together.

    Returns
    -------
    list of ndarray
        Index arrays; each index appears exactly once.
    """
    perm = rng.permutation(len(lengths))
    span = window * batch_size
    batches: list[np.ndarray] = []
    for k in range(0, len(perm), span):
        chunk = perm[k : k + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    order = rng.permutation(len(batches))
    return [batches[j] for j in order]
