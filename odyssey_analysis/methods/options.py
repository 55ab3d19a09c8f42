"""A method built from flat options, as the command line and the older keywords give them.

Every setting of a fit lives in the method and its surrogate
(:class:`~odyssey_analysis.methods.FanovaMethod`,
:class:`~odyssey_analysis.surrogate.ForestSettings`), each default written there once.
:func:`method_from_options` sorts a flat set of options into those objects: the forest
settings into the surrogate's :class:`~odyssey_analysis.surrogate.ForestSettings`, the
rest into the method; an option left out keeps the object's default.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..params import OneOf, ParameterError, check
from ..surrogate import ForestSettings, make_surrogate
from .base import ImportanceMethod
from .fanova import FanovaMethod
from .local import LocalFanovaMethod

#: Methods by the name ``analyze(method=...)`` and ``--method`` accept.
METHODS: dict[str, type[FanovaMethod]] = {"fanova": FanovaMethod, "local": LocalFanovaMethod}
#: The options that are forest settings (the fields of ForestSettings).
FOREST_OPTIONS = tuple(f.name for f in fields(ForestSettings))


def method_options(name: str) -> tuple[str, ...]:
    """Every flat option the method ``name`` accepts: its own and the forest's."""
    own = tuple(f.name for f in fields(METHODS[name]) if f.name != "surrogate")
    return own + FOREST_OPTIONS + ("surrogate",)


def method_from_options(method: str | None = None, **options: Any) -> ImportanceMethod:
    """The method ``method`` (by name) with ``options`` sorted into it and its forest.

    Parameters
    ----------
    method
        A name from :data:`METHODS`; ``None``: ``"local"`` when a ``top_quantile`` is
        given, else ``"fanova"``.
    **options
        Forest settings (the fields of :class:`~odyssey_analysis.surrogate.ForestSettings`),
        ``surrogate`` (the forest's name, :data:`~odyssey_analysis.surrogate.SURROGATES`;
        default: the compiled forest) and the method's own settings. ``None`` for
        ``top_quantile`` counts as not given.

    Returns
    -------
    ImportanceMethod

    Raises
    ------
    ~odyssey_analysis.params.ParameterError
        For an unknown method name, an option of another method or a setting outside its
        range.
    TypeError
        For a name that is no option of any method.
    """
    if options.get("top_quantile", 0) is None:
        del options["top_quantile"]
    name = method if method is not None else (
        "local" if "top_quantile" in options else "fanova")
    check("method", name, [OneOf(tuple(METHODS))])
    accepted = method_options(name)
    foreign = [k for k in options if k not in accepted]
    if foreign:
        known = {k for n in METHODS for k in method_options(n)}
        unknown = [k for k in foreign if k not in known]
        if unknown:
            raise TypeError(f"unexpected option(s) {', '.join(unknown)}; the options are "
                            f"{', '.join(sorted(known))}")
        owners = [n for n in METHODS if foreign[0] in method_options(n)]
        raise ParameterError(f"{{{foreign[0]}}} belongs to the {' or '.join(owners)} method",
                             parameters=(foreign[0], "method"),
                             hint=f"leave it out, or use {{method}} {owners[0]}")
    forest = {k: options.pop(k) for k in FOREST_OPTIONS if k in options}
    forest_name = options.pop("surrogate", None)
    surrogate = (make_surrogate(forest_name, ForestSettings(**forest))
                 if forest or forest_name is not None else None)
    return METHODS[name](surrogate, **options)
