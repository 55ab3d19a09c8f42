"""Declarative checks of settings, with the Python name in every message.

A class lists its settings' constraints once, in the manner of scikit-learn's
``_parameter_constraints``::

    CONSTRAINTS = {"n_trees": [Interval(Integral, 1, None)],
                   "max_depth": [Interval(Integral, 1, None), None]}

and :func:`validate` checks values against them, raising a :class:`ParameterError`
that names the setting as Python callers spell it (``n_trees must be at least 1, got
0``). The command line gives the same error under its own flag
(``--trees must be at least 1, got 0``) through :meth:`ParameterError.renamed` and its
one table of flags (:data:`odyssey_analysis.cli.common.FLAGS`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InputError

__all__ = ["Interval", "OneOf", "OrderedPair", "ParameterError", "validate"]


class ParameterError(InputError):
    """A setting outside its range, named as the caller spells it.

    Parameters
    ----------
    template
        The message with each setting it names as ``{name}`` (``"{n_trees} must be at
        least 1"``) or ``{name:VALUE}`` (see :func:`~odyssey_analysis.errors.spell`);
        the value is never formatted into it.
    parameters
        The settings the message names.
    got
        How the offending value reads (appended as ``", got ..."``).
    hint
        What to do about it (may name settings as ``{name}`` too).
    names
        How to spell each setting (default: its Python name).
    file
        The file the setting was found wanting for, if any.
    """

    def __init__(self, template: str, *, parameters: Sequence[str], got: str | None = None,
                 hint: str | None = None, names: Mapping[str, str] | None = None,
                 file: str | None = None) -> None:
        self.got = got
        super().__init__(template, hint=hint, parameters=parameters, names=names, file=file)
        if got is not None:  # the value is never read as a template
            self.message += f", got {got}"
            self.args = (str(self),)

    @property
    def parameter(self) -> str:
        """The (first) setting at fault."""
        return self.parameters[0]

    def renamed(self, names: Mapping[str, str]) -> ParameterError:
        """The same error with the settings spelled as in ``names`` (e.g. as flags)."""
        return ParameterError(self.template, parameters=self.parameters, got=self.got,
                              hint=self.hint_template, names=names, file=self.file)


def _is_kind(value: Any, kind: type) -> bool:
    return not isinstance(value, bool) and isinstance(value, kind)


def _number(value: float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Interval:
    """Numbers of one kind (``numbers.Integral`` or ``numbers.Real``) in a range.

    ``low`` and ``high`` (``None``: unbounded) are included unless ``closed`` says
    otherwise (``"both"``, ``"left"``, ``"right"`` or ``"neither"``).
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts_kind(self, value: Any) -> bool:
        """Whether ``value`` is of the kind (a whole number counts as a real one)."""
        return _is_kind(value, self.kind)

    def __call__(self, value: Any) -> bool:
        if not self.accepts_kind(value):
            return False
        v = float(value)
        if not math.isfinite(v):
            return False
        if self.low is not None and (v < self.low or (v == self.low and self.closed in
                                                      ("right", "neither"))):
            return False
        return not (self.high is not None and (
            v > self.high or (v == self.high and self.closed in ("left", "neither"))))

    def describe(self) -> str:
        """The range in words: ``at least 1``, ``between 0 and 9``, ``in (0, 1]``."""
        whole = self.kind is numbers.Integral
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        low, high = self.low, self.high
        if low is None and high is None:
            return "a finite number"
        if high is None:
            return f"at least {_number(low)}" if lo_in else f"greater than {_number(low)}"
        if low is None:
            return f"at most {_number(high)}" if hi_in else f"less than {_number(high)}"
        if whole and lo_in and hi_in:
            return f"between {_number(low)} and {_number(high)}"
        return (f"in {'[' if lo_in else '('}{_number(low)}, "
                f"{_number(high)}{']' if hi_in else ')'}")

    def kind_word(self) -> str:
        return "a whole number" if self.kind is numbers.Integral else "a number"


@dataclass(frozen=True)
class OneOf:
    """One of a few values (strings, usually)."""

    values: tuple[Any, ...]

    def accepts_kind(self, value: Any) -> bool:
        return isinstance(value, str) == isinstance(self.values[0], str)

    def __call__(self, value: Any) -> bool:
        return any(isinstance(value, bool) == isinstance(v, bool)
                   and isinstance(value, str) == isinstance(v, str) and value == v
                   for v in self.values)

    def describe(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(repr(v) for v in self.values)

    def kind_word(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class OrderedPair:
    """Two numbers ``(low, high)`` with ``low < high``, each within ``bounds`` if given.

    ``what`` names the pair in messages (``"two cutoff quantiles"``).
    """

    bounds: Interval | None = None
    what: str = "two numbers"

    def accepts_kind(self, value: Any) -> bool:
        return (isinstance(value, (tuple, list)) and len(value) == 2
                and all(_is_kind(v, numbers.Real) for v in value))

    def __call__(self, value: Any) -> bool:
        if not self.accepts_kind(value):
            return False
        lo, hi = map(float, value)
        inside = self.bounds is None or (self.bounds(lo) and self.bounds(hi))
        return math.isfinite(lo) and math.isfinite(hi) and lo < hi and inside

    def describe(self) -> str:
        where = "" if self.bounds is None else f", both {self.bounds.describe()}"
        return f"{self.what} LOW < HIGH{where}"

    def kind_word(self) -> str:
        return f"{self.what} LOW HIGH"


Constraint = Interval | OneOf | OrderedPair | None


def _reads(value: Any) -> str:
    if isinstance(value, (tuple, list)) and all(_is_kind(v, numbers.Real) for v in value):
        return " ".join(_number(float(v)) for v in value)
    return repr(value)


def check(name: str, value: Any, constraints: Iterable[Constraint], *,
          hint: str | None = None) -> None:
    """Check one setting; raise :class:`ParameterError` naming ``name`` if it fails.

    ``None`` among ``constraints`` allows ``None``. The message describes the constraint
    of the value's own kind where there is one (a whole number out of range gets the
    whole-number range), else every accepted form.
    """
    options = list(constraints)
    if value is None and None in options:
        return
    rules = [c for c in options if c is not None]
    if any(rule(value) for rule in rules):
        return
    own = [rule for rule in rules if rule.accepts_kind(value)]
    whole = [r for r in own if isinstance(r, Interval) and r.kind is numbers.Integral]
    if whole:  # a whole number is described by the whole-number range, not the real one
        own = [r for r in own if not (isinstance(r, Interval) and r.kind is not
                                      numbers.Integral)]
    if len(own) == 1:
        template = f"{{{name}}} must be {own[0].describe()}"
    else:
        forms = [f"{r.kind_word()} {r.describe()}" if isinstance(r, Interval) else
                 r.describe() for r in rules]
        if None in options:
            forms.append("None")
        template = f"{{{name}}} must be " + (forms[0] if len(forms) == 1 else
                                             ", ".join(forms[:-1]) + " or " + forms[-1])
    raise ParameterError(template, parameters=(name,), got=_reads(value), hint=hint)


def validate(values: Any, constraints: Mapping[str, Sequence[Constraint]]) -> None:
    """Check every setting of ``values`` (an object's attributes or a mapping).

    Raises
    ------
    ParameterError
        For the first setting, in the order of ``constraints``, outside its range.
    """
    get = values.get if isinstance(values, Mapping) else (lambda k: getattr(values, k))
    for name, rules in constraints.items():
        check(name, get(name), rules)
