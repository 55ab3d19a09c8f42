"""What a reader of one source format hands to :func:`~odyssey_analysis.loaders.load_trials`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..space import SearchSpace


@dataclass
class RawTrials:
    """What a reader found in a source, before validation.

    Attributes
    ----------
    frame
        One row per trial; index = 1-based row (or trial) number in the source.
    hyperparameters, responses, group_keys, status
        Roles the source records (``None`` = let :class:`TrialTable` decide).
    space
        The search space the source records, if any.
    exclusions
        Trials the reader left out already (``row``, ``reason``).
    directions
        ``response -> "minimize" | "maximize"`` as the source records it.
    worst_values
        ``response -> value`` a failed run counts as under ``on_crashed="worst"``, where
        the source records one (DeepCAVE's objective bounds).
    notes
        Things the user should know about how the source was read.
    design
        Why the trials are not a random sample of the space, where the source says so
        (a model-based optimiser picked them), else ``None``.
    aliases
        ``name in the source -> column`` for columns the reader renamed (AMLTK's
        ``config:lr`` -> ``lr``, DeepCAVE's ``metric:acc [0; 1] (maximize)`` -> ``acc``):
        the user may name a column either way.
    """

    frame: pd.DataFrame
    hyperparameters: list[str] | None = None
    responses: list[str] | None = None
    group_keys: list[str] | None = None
    status: str | None = None
    space: SearchSpace | None = None
    exclusions: pd.DataFrame | None = None
    directions: dict[str, str] = field(default_factory=dict)
    worst_values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    design: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def maximize(self) -> list[str]:
        """The responses the source says are maximised."""
        return [r for r, d in self.directions.items() if d == "maximize"]


Reader = Callable[..., RawTrials]


@dataclass(frozen=True)
class SourceFormat:
    """A source format: its name, a cheap detector and its reader.

    Attributes
    ----------
    name
        The format name (what ``--format`` takes).
    detect
        Answers whether a path or URL is in this format; it must be cheap (read a
        header or list a folder, never the whole source) and must not misfire on
        other formats.
    read
        ``read(source, **options) -> RawTrials``.
    layout
        What the format's folder or file holds, in words (for the error that names
        what an unknown folder lacks).
    """

    name: str
    detect: Callable[[str], bool]
    read: Reader
    layout: str = ""
