"""Errors that describe bad user input.

Every problem with what the user gave us (a file, a column, a value) is raised as
:class:`InputError`. The command line prints its one-line message and exits with
status 2; anything else is an internal error (status 1).
"""

from __future__ import annotations


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
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(str(self))

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
