"""How the trials were chosen, and what that means for the measure the fractions use.

The decomposition integrates each hyperparameter under its sampling distribution
(uniform over the declared or inferred space). That is the design of a random sweep. A
grid is integrated over its levels, which is its design too; when each configuration is
run several times the spread between the repeats is noise. A model-based optimiser
(Bayesian optimisation with SMAC, BOHB's model, TPE) samples where it expects good
results: its trials are not a sample of the measure, and the fractions describe the
surrogate's extrapolation over the regions it avoided. :func:`assess_design` says which
case a table is in; the table's notes, ``odyssey info``, analysis.json and the report
state it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .space import SearchSpace
    from .trials import TrialTable

RANDOM, GRID, MODEL_BASED = "random", "grid", "model-based"

MEANINGS = {
    RANDOM: "assumed a random sample of the space: the fractions integrate each "
            "hyperparameter uniformly over its range (or levels), as the trials were drawn",
    GRID: "a grid: the fractions integrate uniformly over the grid's levels (exact when "
          "every combination was run), not over the ranges between them",
    MODEL_BASED: "not a random sample: a model chose trials where it expected good "
                 "results, so they crowd there, and the fractions (uniform over the whole "
                 "space) lean on the forest's extrapolation into regions seldom tried; two "
                 "runs of the same study can rank the hyperparameters differently. Read "
                 "them as a description of this run, and measure importance with a random "
                 "or grid sweep",
}


def assess_design(table: TrialTable, space: SearchSpace) -> dict[str, Any]:
    """The design of ``table``'s trials under ``space``.

    Returns
    -------
    dict
        ``kind`` (``random``, ``grid`` or ``model-based``), ``evidence`` (why: what the
        source records, or the grid's size and repeats) and ``meaning`` (what it means
        for the measure). ``random`` is an assumption when nothing says otherwise.
    """
    if table.design:
        return {"kind": MODEL_BASED, "evidence": table.design,
                "meaning": MEANINGS[MODEL_BASED]}
    grid = grid_evidence(table, space)
    if grid is not None:
        return {"kind": GRID, "evidence": grid, "meaning": MEANINGS[GRID]}
    return {"kind": RANDOM, "evidence": "nothing in the source or the values says otherwise",
            "meaning": MEANINGS[RANDOM]}


def grid_evidence(table: TrialTable, space: SearchSpace) -> str | None:
    """How the trials form a grid (every hyperparameter has levels and at least one is
    an ordinal ladder or the configurations repeat), or ``None``."""
    hps = [hp for hp in space if not hp.is_constant]
    if not hps or not all(hp.is_discrete for hp in hps):
        return None
    frame = table.frame[[hp.name for hp in hps]].astype(str)
    distinct = len(frame.drop_duplicates())
    possible = 1
    for hp in hps:
        possible *= len(hp.choices or ())
    repeats = len(frame) / distinct
    if repeats <= 1 and not any(hp.kind == "ordinal" for hp in hps):
        return None
    text = f"{distinct} distinct configurations of the {possible} the levels allow"
    if repeats > 1:
        text += (f", each run {repeats:.3g} times on average (the spread between repeats "
                 "is noise that no hyperparameter explains)")
    return text


def design_note(design: dict[str, Any]) -> str:
    """The design in one line, for notes and the console."""
    return f"design: {design['kind']} ({design['evidence']}): {design['meaning']}"
