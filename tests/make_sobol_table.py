"""Write ``odyssey_analysis/data/sobol_directions.csv``: the searched Sobol initial numbers.

Run ``python tests/make_sobol_table.py`` (a few minutes). The table holds, for
coordinates ``1 … TABLE_DIMENSIONS − 1`` of
:func:`odyssey_analysis.space.sobol.sobol_points`, the primitive polynomial (as a bit
mask) and the initial numbers ``m_1 … m_s`` that
:func:`~odyssey_analysis.space.sobol.search_initial_numbers` chose. The search is
deterministic, so rerunning it rewrites the same file.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from odyssey_analysis.atomic import atomic_open  # noqa: E402
from odyssey_analysis.space.sobol import (  # noqa: E402
    TABLE_DIMENSIONS,
    search_initial_numbers,
)

TARGET = ROOT / "odyssey_analysis" / "data" / "sobol_directions.csv"


def table_text(d: int) -> str:
    lines = ["dimension,polynomial,initial"]
    for j, (poly, initial) in enumerate(search_initial_numbers(d), start=1):
        lines.append(f"{j},{poly},{' '.join(map(str, initial))}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = table_text(TABLE_DIMENSIONS)
    with atomic_open(TARGET, "w", encoding="ascii") as fh:
        fh.write(text)
    print(f"wrote {TARGET} ({TABLE_DIMENSIONS - 1} coordinates)")
