"""The variant figure's names never print over each other, however many variants."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from figure_layout import layout_problems  # noqa: E402
from test_compare import make_sweep  # noqa: E402

from odyssey_analysis.compare import compare  # noqa: E402
from odyssey_analysis.plots import variants_figure  # noqa: E402

LONG = ("V", *(f"long variant name number {i}" for i in range(11)))


def _figure(tasks: int, variants: tuple[str, ...]):
    frame = make_sweep(n_per=6, tasks=tuple(f"task{i}" for i in range(tasks)),
                       variants=variants, shifts={}, seed=2)
    return variants_figure(compare(frame, reference="V"))


def test_many_long_variant_names_in_narrow_panels_do_not_overlap():
    fig = _figure(6, LONG)
    try:
        assert layout_problems(fig) == []
        names = [t.get_text() for t in fig.axes[6].get_xticklabels() if t.get_text()]
        assert names[0] == "V" and 2 <= len(names) < len(LONG)  # every k-th one named
    finally:
        plt.close(fig)


def test_parameter_bars_stay_under_their_boxes_when_names_are_thinned():
    fig = _figure(6, LONG)
    try:
        ax = fig.axes[6]  # the first task's top runs (the second row)
        twin = next(a for a in fig.axes if a.get_shared_x_axes().joined(a, ax) and a is not ax)
        boxes = [p for p in ax.patches if str(p.get_gid()).startswith("box:")]
        centres = [np.ptp(p.get_path().vertices[:, 0]) / 2 + p.get_path().vertices[:, 0].min()
                   for p in boxes]
        bars = [b.get_x() + b.get_width() / 2 for b in twin.patches]
        assert len(bars) == len(boxes) == len(LONG)
        np.testing.assert_allclose(bars, centres, atol=1e-9)
    finally:
        plt.close(fig)


def test_short_names_all_shown():
    fig = _figure(1, ("V", "CIFG", "NP"))
    try:
        assert layout_problems(fig) == []
        names = [t.get_text() for t in fig.axes[1].get_xticklabels()]
        assert names == ["V", "CIFG", "NP"]
    finally:
        plt.close(fig)
