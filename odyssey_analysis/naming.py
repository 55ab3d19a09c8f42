"""File names built from data (group values, response names): safe, short and unique.

Text from a sweep (a variant called ``a/b``, a 300-character task name, ``CON`` on
Windows) never becomes part of a path directly, and a number is written as it is
shown (:func:`value_text`: ``2.778``, not ``2.7777777777777777``). :func:`file_stems`
turns the parts of every name a folder will hold into stems that contain only letters,
digits, ``.``, ``_`` and ``-``; a stem that had to be changed, shortened, or that would collide with
another (also when only letter case differs) gets a suffix derived from its original
text, so the same input always gives the same names.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

#: Longest stem (characters) before the suffix; file systems allow 255 bytes a name.
MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                               *(f"LPT{i}" for i in range(1, 10))})


#: Significant digits of a group value shown in titles, labels and file names.
VALUE_DIGITS = 4
_LONG_NUMBER = re.compile(r"^[+-]?\d*\.\d{5,}(?:[eE][+-]?\d+)?$")


def value_text(value: Any) -> str:
    """A group value as it is shown: ``2.778`` for ``2.7777777777777777``, ``8`` for ``8.0``.

    Floats (and text that is a float with many decimals, as a budget read from a CSV
    column of text) get :data:`VALUE_DIGITS` significant digits; integral floats lose
    their ``.0``; everything else is ``str(value)``.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        if not _LONG_NUMBER.match(value.strip()):
            return value
        value = float(value)
    try:
        number = float(value) if _is_real(value) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number):
        return str(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.{VALUE_DIGITS}g}"


def _is_real(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _text(part: Any) -> str:
    return value_text(part)


def _clean(parts: Sequence[Any]) -> str:
    pieces = [_UNSAFE.sub("_", _text(p)).strip("._-") or "_" for p in parts]
    return "_".join(pieces)


def _suffix(parts: Sequence[Any]) -> str:
    raw = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
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
