"""Convert the three public data sets once into the compressed arrays the sweep trains on.

Run ``python -m odyssey_sweep.prepare_data [--out DIR]``, or the file as a script
(``python odyssey_sweep/prepare_data.py``), which needs nothing of the package's own
dependencies but numpy. It needs packages that
the sweep itself does not: ``music21`` (whose corpus holds the Bach chorales), ``aeon`` (whose
``datasets/data`` folder holds the Japanese Vowels files; only the files are read, aeon is not
imported) and ``scikit-learn`` (the 8x8 digits). The result is one ``.npz`` file per task:

``music_bach_chorales.npz``, ``speech_japanese_vowels.npz``, ``handwriting_digits.npz``

Each holds, for every split ``s`` in ``train``, ``valid``, ``test``: ``x_s`` (all frames of
all sequences stacked, shape ``(n_frames, n_features)``), ``len_s`` (the length of each
sequence, so ``x_s`` splits at ``cumsum(len_s)``) and, for the classification tasks, ``y_s``
(one integer label per sequence). ``odyssey_analysis/data/README.md`` describes the sources,
licences and preprocessing.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

SPLIT_SEED = 20170101
"""Seed of the fixed random permutations that assign sequences to splits."""

#: The tasks' data ship with ``odyssey_analysis`` (beside this package).
DATA_DIR = Path(__file__).resolve().parents[1] / "odyssey_analysis" / "data"

VOICES = ("soprano", "alto", "tenor", "bass")


def _split_indices(
    n: int, fractions: tuple[float, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``range(n)`` at random into train, valid and test index arrays."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_valid = int(round(fractions[1] * n))
    parts = perm[:n_train], perm[n_train : n_train + n_valid], perm[n_train + n_valid :]
    return tuple(np.sort(p) for p in parts)  # type: ignore[return-value]


def _stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Split indices into (rest, held out), holding out ``fraction`` of every class."""
    rng = np.random.default_rng(seed)
    held: list[np.ndarray] = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        held.append(rng.choice(idx, size=int(round(fraction * len(idx))), replace=False))
    held_idx = np.sort(np.concatenate(held))
    rest_idx = np.setdiff1d(np.arange(len(labels)), held_idx)
    return rest_idx, held_idx


def _pack(sequences: Sequence[np.ndarray], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Stack variable-length sequences into (frames, lengths)."""
    lengths = np.array([len(s) for s in sequences], dtype=np.int32)
    return np.concatenate(sequences).astype(dtype), lengths


# ---------------------------------------------------------------------------------------------
# music: Bach chorales from the music21 corpus
# ---------------------------------------------------------------------------------------------


def _chorale_paths() -> list[Path]:
    """Paths of the Bach scores in music21's corpus, one per BWV number (MusicXML only)."""
    from music21 import corpus

    by_stem: dict[str, Path] = {}
    for path in sorted(corpus.getComposer("bach")):
        path = Path(path)
        if path.suffix not in (".mxl", ".xml"):
            continue
        if path.stem not in by_stem or path.suffix == ".mxl":
            by_stem[path.stem] = path
    return [by_stem[k] for k in sorted(by_stem)]


def _vocal_parts(score: Any) -> list[Any] | None:
    """The soprano, alto, tenor and bass parts of a score, or None if it has no such four."""
    parts = list(score.parts)
    named = {}
    for part in parts:
        name = (part.partName or "").strip().lower()
        for voice in VOICES:
            if name.startswith(voice) and voice not in named:
                named[voice] = part
    if len(named) == 4:
        return [named[v] for v in VOICES]
    if len(parts) == 4:
        return parts
    return None


def chorale_piano_roll(path: Path) -> tuple[list[np.ndarray], str] | None:
    """Piano roll of one chorale: one frame per quarter note, transposed to C major / A minor.

    Parameters
    ----------
    path : Path
        A MusicXML file of music21's corpus.

    Returns
    -------
    (midi_numbers, mode) or None
        ``midi_numbers`` is a list of arrays, one per frame, of the MIDI pitches sounding at the
        start of that quarter note (after transposition); ``mode`` is ``"major"`` or
        ``"minor"``. None if the score does not have four vocal parts.
    """
    from music21 import converter

    score = converter.parse(str(path))
    parts = _vocal_parts(score)
    if parts is None:
        return None
    key = score.analyze("key")
    target = 0 if key.mode == "major" else 9  # C major or A minor
    shift = (target - key.tonic.pitchClass) % 12
    if shift > 6:
        shift -= 12
    n_frames = int(np.ceil(float(score.highestTime)))
    frames: list[list[int]] = [[] for _ in range(n_frames)]
    for part in parts:
        for note in part.stripTies().flatten().notes:
            start = float(note.getOffsetInHierarchy(part))
            end = start + float(note.quarterLength)
            for k in range(int(np.ceil(start - 1e-9)), int(np.ceil(end - 1e-9))):
                if 0 <= k < n_frames:
                    frames[k].extend(p.midi + shift for p in note.pitches)
    # drop empty frames at the end (final fermata rests etc.)
    while frames and not frames[-1]:
        frames.pop()
    return [np.unique(np.array(f, dtype=np.int16)) for f in frames], key.mode


def _write_npz(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` under their names, compressed."""
    # numpy's stub matches ``**arrays`` against its ``allow_pickle: bool`` keyword too
    np.savez_compressed(target, **arrays)  # type: ignore[arg-type]


def prepare_music(out_dir: Path) -> Path:
    """Convert the Bach chorales of music21's corpus into ``music_bach_chorales.npz``."""
    rolls: list[list[np.ndarray]] = []
    names: list[str] = []
    modes: list[str] = []
    for path in _chorale_paths():
        result = chorale_piano_roll(path)
        if result is None or len(result[0]) < 8:
            continue
        rolls.append(result[0])
        names.append(path.stem)
        modes.append(result[1])
    lowest = min(int(f.min()) for roll in rolls for f in roll if len(f))
    highest = max(int(f.max()) for roll in rolls for f in roll if len(f))
    pitches = np.arange(lowest, highest + 1, dtype=np.int16)
    dense = []
    for roll in rolls:
        m = np.zeros((len(roll), len(pitches)), dtype=np.uint8)
        for t, frame in enumerate(roll):
            m[t, frame - lowest] = 1
        dense.append(m)
    arrays: dict[str, np.ndarray] = {"pitches": pitches}
    splits = _split_indices(len(dense), (0.6, 0.2), SPLIT_SEED)
    for split, idx in zip(("train", "valid", "test"), splits):
        x, lengths = _pack([dense[i] for i in idx], np.uint8)
        arrays[f"x_{split}"] = x
        arrays[f"len_{split}"] = lengths
        arrays[f"names_{split}"] = np.array([names[i] for i in idx])
        arrays[f"modes_{split}"] = np.array([modes[i] for i in idx])
    target = out_dir / "music_bach_chorales.npz"
    _write_npz(target, arrays)
    return target


# ---------------------------------------------------------------------------------------------
# speech: Japanese Vowels (UCI), as shipped in aeon's datasets folder
# ---------------------------------------------------------------------------------------------


def _aeon_data_dir() -> Path:
    """The folder of aeon's bundled data sets, found without importing aeon."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or spec.origin is None:
        raise SystemExit("the speech data set needs the aeon package: pip install aeon")
    return Path(spec.origin).parent / "datasets" / "data"


def read_ts(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """Read a multivariate, unequal-length ``.ts`` file (sktime/aeon format).

    Parameters
    ----------
    path : Path
        The ``.ts`` file.

    Returns
    -------
    (sequences, labels)
        One ``(length, n_dimensions)`` float array per case, and the class labels as integers
        counted from 0 in the order the header lists them.
    """
    sequences: list[np.ndarray] = []
    labels: list[str] = []
    class_names: list[str] = []
    in_data = False
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower().startswith("@classlabel"):
                class_names = line.split()[2:]
            if line.lower() == "@data":
                in_data = True
            continue
        *dims, label = line.split(":")
        series = [np.array([float(v) for v in d.split(",")]) for d in dims]
        sequences.append(np.stack(series, axis=1))
        labels.append(label.strip())
    codes = np.array([class_names.index(lab) for lab in labels], dtype=np.int64)
    return sequences, codes


def prepare_speech(out_dir: Path) -> Path:
    """Convert Japanese Vowels into ``speech_japanese_vowels.npz``.

    The official test split is kept as the test split; a quarter of each speaker's official
    training utterances becomes the validation split.
    """
    folder = _aeon_data_dir() / "JapaneseVowels"
    train_x, train_y = read_ts(folder / "JapaneseVowels_TRAIN.ts")
    test_x, test_y = read_ts(folder / "JapaneseVowels_TEST.ts")
    rest, held = _stratified_split(train_y, 0.25, SPLIT_SEED)
    arrays: dict[str, np.ndarray] = {}
    for split, seqs, labels in (
        ("train", [train_x[i] for i in rest], train_y[rest]),
        ("valid", [train_x[i] for i in held], train_y[held]),
        ("test", test_x, test_y),
    ):
        x, lengths = _pack(seqs, np.float32)
        arrays[f"x_{split}"] = x
        arrays[f"len_{split}"] = lengths
        arrays[f"y_{split}"] = labels
    target = out_dir / "speech_japanese_vowels.npz"
    _write_npz(target, arrays)
    return target


# ---------------------------------------------------------------------------------------------
# handwriting: scikit-learn's 8x8 digits, one row per time step
# ---------------------------------------------------------------------------------------------


def prepare_handwriting(out_dir: Path) -> Path:
    """Convert scikit-learn's digits into ``handwriting_digits.npz`` (rows as time steps)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.uint8)  # (1797, 8, 8), values 0..16
    labels = digits.target.astype(np.int64)
    rest, test = _stratified_split(labels, 0.2, SPLIT_SEED)
    train_rel, valid_rel = _stratified_split(labels[rest], 0.25, SPLIT_SEED + 1)
    train, valid = rest[train_rel], rest[valid_rel]
    arrays: dict[str, np.ndarray] = {}
    for split, idx in (("train", train), ("valid", valid), ("test", test)):
        x, lengths = _pack([images[i] for i in idx], np.uint8)
        arrays[f"x_{split}"] = x
        arrays[f"len_{split}"] = lengths
        arrays[f"y_{split}"] = labels[idx]
    target = out_dir / "handwriting_digits.npz"
    _write_npz(target, arrays)
    return target


PREPARERS = {"music": prepare_music, "speech": prepare_speech, "handwriting": prepare_handwriting}


def main(argv: Sequence[str] | None = None) -> int:
    """Convert the requested data sets; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder")
    parser.add_argument(
        "--task", choices=[*PREPARERS, "all"], default="all", help="which data set to convert"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tasks = list(PREPARERS) if args.task == "all" else [args.task]
    for task in tasks:
        target = PREPARERS[task](args.out)
        with np.load(target) as data:
            sizes = {s: len(data[f"len_{s}"]) for s in ("train", "valid", "test")}
        print(f"{task}: {target} {sizes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
