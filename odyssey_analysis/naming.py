"""File names built from data (group values, response names): safe, short and unique.

Text from a sweep (a variant called ``a/b``, a 300-character task name, ``CON`` on
Windows) never becomes part of a path directly. :func:`file_stems` turns the parts of
every name a folder will hold into stems that contain only letters, digits, ``.``,
``_`` and ``-``; a stem that had to be changed, shortened, or that would collide with
another (also when only letter case differs) gets a suffix derived from its original
text, so the same input always gives the same names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

#: Longest stem (characters) before the suffix; file systems allow 255 bytes a name.
MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                               *(f"LPT{i}" for i in range(1, 10))})


def _text(part: Any) -> str:
    return str(part)


def _clean(parts: Sequence[Any]) -> str:
    pieces = [_UNSAFE.sub("_", _text(p)).strip("._-") or "_" for p in parts]
    return "_".join(pieces)


def _suffix(parts: Sequence[Any]) -> str:
    raw = "\x1f".join(_text(p) for p in parts).encode("utf-8", "surrogatepass")
    return hashlib.sha1(raw).hexdigest()[:8]  # a name, not a secret


def file_stems(names: Iterable[Sequence[Any]]) -> list[str]:
    """Safe, unique stems for names given as sequences of parts.

    Parameters
    ----------
    names
        Each name as its parts, e.g. ``("interactions", "speech", "V")``; parts are
        joined with ``_``.

    Returns
    -------
    list of str
        One stem per name, in order. A stem whose parts needed no change keeps them
        (``interactions_speech_V``); otherwise, or when two stems would be equal up to
        letter case, the stem ends in ``-`` and 8 hexadecimal digits of a hash of the
        original parts.
    """
    names = [tuple(n) for n in names]
    out = []
    for name in names:
        stem = _clean(name)
        changed = stem != "_".join(_text(p) for p in name) or len(stem) > MAX_STEM
        reserved = stem.split(".")[0].upper() in _WINDOWS_RESERVED
        out.append(f"{stem[:MAX_STEM]}-{_suffix(name)}" if changed or reserved else stem)
    # Names that still meet (up to letter case, for case-blind file systems) all get the
    # suffix of their own original text.
    owners: dict[str, set[Any]] = {}
    for name, stem in zip(names, out):
        owners.setdefault(stem.casefold(), set()).add(name)
    return [f"{stem}-{_suffix(name)}" if len(owners[stem.casefold()]) > 1 else stem
            for name, stem in zip(names, out)]


def file_stem(*parts: Any) -> str:
    """The stem of one name on its own (see :func:`file_stems`)."""
    return file_stems([parts])[0]
