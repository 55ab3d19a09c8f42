"""The order in which tasks, variants and groups are shown (one rule for every output).

The paper's tasks and variants come in the paper's order; other values follow, variants
sorted and tasks as they first appear. Figures, tables and the report all sort with
these functions, so a group sits in the same place everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

#: The order of the paper's figures; variants not listed follow in sorted order.
PAPER_VARIANT_ORDER = ("V", "CIFG", "FGR", "NP", "NOG", "NIAF", "NIG", "NFG", "NOAF")

#: The paper's task order; tasks not listed follow in order of appearance.
PAPER_TASK_ORDER = ("speech", "handwriting", "music")


def order_variants(variants: Iterable[object], reference: object | None = None) -> list:
    """Variants in the paper's order (reference first), unknown ones sorted after.

    Parameters
    ----------
    variants
        Variant labels (duplicates are dropped).
    reference
        Placed first when present.

    Returns
    -------
    list
        The ordered labels.
    """
    seen = list(dict.fromkeys(variants))
    known = [v for v in PAPER_VARIANT_ORDER if v in seen]
    rest = sorted((v for v in seen if v not in PAPER_VARIANT_ORDER), key=_natural)
    ordered = known + rest
    if reference is not None and reference in ordered:
        ordered.remove(reference)
        ordered.insert(0, reference)
    return ordered


def order_tasks(tasks: Iterable[object]) -> list:
    """Tasks in the paper's order (speech, handwriting, music), others as they appear."""
    seen = list(dict.fromkeys(tasks))
    rest = [t for t in seen if t not in PAPER_TASK_ORDER]
    return [t for t in PAPER_TASK_ORDER if t in seen] + numeric_sorted(rest)


def _number(value: object) -> float | None:
    """``value`` as a number when it is one (also numeric text such as ``"2.5"``)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN has no place in an order


def _natural(value: object) -> tuple:
    """Sort key: numbers by value first, then text by its characters."""
    number = _number(value)
    return (0, number, "") if number is not None else (1, 0.0, str(value))


def numeric_sorted(values: Sequence[Any]) -> list:
    """``values`` in numeric order when every one is a number (budgets 11, 33, 100, not
    100, 11, 33), else as given."""
    if values and all(_number(v) is not None for v in values):
        return sorted(values, key=_natural)
    return list(values)


class GroupOrder:
    """Sorts groups (tuples of key values): tasks and variants first as above.

    Parameters
    ----------
    keys
        The group key columns, in order.
    groups
        Every group present (tuples in the order of ``keys``).
    task_key, variant_key
        Which keys hold the task and the variant (``None``: none does).
    reference
        The reference variant, placed first among the variants.
    """

    def __init__(self, keys: Sequence[str], groups: Iterable[Sequence[Any]], *,
                 task_key: str | None = "task", variant_key: str | None = "variant",
                 reference: object | None = None) -> None:
        self.keys = list(keys)
        groups = [tuple(g) for g in groups]
        self._rank: list[dict[Any, int]] = []
        for pos, key in enumerate(self.keys):
            seen = [g[pos] for g in groups]
            if key == task_key:
                order = order_tasks(seen)
            elif key == variant_key:
                order = order_variants(seen, reference)
            else:
                order = numeric_sorted(list(dict.fromkeys(seen)))
            self._rank.append({value: i for i, value in enumerate(order)})

    def key(self, group: Sequence[Any]) -> tuple[int, ...]:
        """Sort key of one group."""
        return tuple(rank.get(value, len(rank)) for rank, value in zip(self._rank, group))

    def sort(self, groups: Iterable[Sequence[Any]]) -> list[tuple]:
        """The groups, sorted."""
        return sorted((tuple(g) for g in groups), key=self.key)


__all__ = ["PAPER_TASK_ORDER", "PAPER_VARIANT_ORDER", "GroupOrder", "numeric_sorted",
           "order_tasks", "order_variants"]
