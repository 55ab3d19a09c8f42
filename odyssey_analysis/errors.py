"""Errors that describe bad user input.

Every problem with what the user gave us (a file, a column, a value) is raised as
:class:`InputError`. The command line prints its one-line message and exits with
status 2; anything else is an internal error (status 1).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: ``{name}`` or ``{name:VALUE}`` in a message template (VALUE a Python literal, which may
#: quote braces).
_PLACEHOLDER = re.compile(r"""\{(\w+)(?::((?:[^{}'"]|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")*))?\}""")


def _as_words(literal: str) -> str:
    """A Python literal as the command line takes it: ``['a', 'b']`` -> ``a b``."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def spell(template: str, parameters: Sequence[str],
          names: Mapping[str, str] | None = None) -> str:
    """``template`` with each setting of ``parameters`` spelled for its reader.

    ``{name}`` becomes the setting's spelling: its Python name, or ``names[name]`` (a
    command-line flag, say). ``{name:VALUE}``, with VALUE a Python literal, becomes
    ``name=VALUE`` for Python and ``FLAG VALUE`` (a list's items separated by spaces,
    a string unquoted; ``FLAG`` ending in ``=`` takes VALUE without a space) under a
    flag. Other braces are left as they are, so text from
    the data needs no escaping.
    """
    def one(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if name not in parameters:
            return match.group(0)
        flag = (names or {}).get(name)
        if value is None:
            return flag or name
        if flag is None:
            return f"{name}={value}"
        return flag + ("" if flag.endswith("=") else " ") + _as_words(value)

    return _PLACEHOLDER.sub(one, template)


class InputError(ValueError):
    """Bad input, described in one line that names the file, row and column.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    file
        The file (or URL) the problem was found in.
    row
        The 1-based data row (the header is not counted), where one row is at fault.
    column
        The column (or hyperparameter) at fault.
    hint
        What the user can do about it.
    parameters
        The settings that ``message`` and ``hint`` name, each written as ``{name}`` or
        ``{name:VALUE}`` (see :func:`spell`); they read as Python spells them, and
        :meth:`renamed` spells them otherwise (the command line's flags).
    names
        How to spell each setting of ``parameters`` (default: as Python does).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
        parameters: Sequence[str] = (),
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.template = message
        self.hint_template = hint
        self.parameters = tuple(parameters)
        self.message = spell(message, self.parameters, names)
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.hint = None if hint is None else spell(hint, self.parameters, names)
        super().__init__(str(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt whole (file, row, column, the settings it names) in another process,
        # e.g. when a fit in a worker raises it
        return _restore, (type(self), self.__dict__.copy())

    def renamed(self, names: Mapping[str, str]) -> InputError:
        """The same error with its settings spelled as in ``names`` (e.g. as flags)."""
        if not self.parameters:
            return self
        return InputError(self.template, file=self.file, row=self.row, column=self.column,
                          hint=self.hint_template, parameters=self.parameters, names=names)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" ({self.hint})"
        return one_line(text)

    def located(self, *, file: str | None = None) -> InputError:
        """Return this error with ``file`` filled in when it was not known yet."""
        if self.file is None and file is not None:
            self.file = str(file)
            self.args = (str(self),)
        return self


def _restore(cls: type[InputError], state: dict[str, Any]) -> InputError:
    """An :class:`InputError` (or subclass) from its attributes (for pickling)."""
    err = cls.__new__(cls)
    err.__dict__.update(state)
    err.args = (str(err),)
    return err


_LINE_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\v": "\\v", "\f": "\\f",
                              "\x1c": "\\x1c", "\x1d": "\\x1d", "\x1e": "\\x1e",
                              "\x85": "\\x85", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def one_line(text: str) -> str:
    """``text`` with every line break written as its escape (``\\n``), so that a name
    from the data (a column called ``"a\\nb"``) cannot split a message over two lines."""
    return text.translate(_LINE_BREAKS)
class FitQualityWarning(UserWarning):
    """A fit whose numbers are uncertain (e.g. a surrogate that predicts unseen trials
    poorly). :func:`~odyssey_analysis.study.analyze` gives one for a whole study."""


class MissingExtraError(ImportError):
    """An optional dependency is needed for what was asked.

    Parameters
    ----------
    package
        The import name that failed.
    extra
        The extra of ``odyssey-analysis`` that installs it.
    purpose
        What it is needed for.
    """

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the optional package '{package}': "
            f"pip install 'odyssey-analysis[{extra}]'"
        )


def row_number(index: object, position: int) -> int:
    """The 1-based source row of the entry at ``position`` of a table's index.

    Trial tables are indexed by their 1-based row in the source; a plain frame with a
    default ``RangeIndex`` (from 0) or a non-integer index is counted by position.
    """
    import pandas as pd

    if isinstance(index, pd.RangeIndex) and index.start == 0:
        return position + 1
    label = index[position]  # type: ignore[index]
    if isinstance(label, int) or (hasattr(label, "dtype") and str(label.dtype).startswith(
            ("int", "uint"))):
        return int(label)
    return position + 1
