"""The figures' Python interface: roles from the study, keyword pass-through, .figure/.axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from odyssey_analysis import TrialTable, analyze  # noqa: E402
from odyssey_analysis.choices import study_roles  # noqa: E402
from odyssey_analysis.methods import method_from_options  # noqa: E402
from odyssey_analysis.plots import (  # noqa: E402
    fractions_figure,
    marginals_figure,
    plot_fraction_bars,
    plot_fraction_pie,
    plot_pair,
)


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(0)
    parts = []
    for dataset in ("cifar", "mnist"):
        for model in ("small", "large"):
            n = 40
            lr = 10 ** rng.uniform(-4, -1, n)
            width = rng.uniform(0, 1, n)
            parts.append(pd.DataFrame({
                "dataset": dataset, "variant": model, "lr": lr, "width": width,
                "test_acc": 0.9 - (np.log10(lr) + 2.5) ** 2 / 10 + 0.02 * width,
                "val_acc": 0.9 - (np.log10(lr) + 2.5) ** 2 / 10 + rng.normal(0, 0.01, n)}))
    table = TrialTable.from_frame(pd.concat(parts, ignore_index=True),
                                  group_by=["dataset", "variant"],
                                  responses=["val_acc", "test_acc"])
    return analyze(table, method_from_options(n_trees=8, grid_points=6, pair_grid_points=4),
                   n_jobs=1)


def test_roles_left_out_come_from_the_study(study):
    assert study_roles(study) == ("test_acc", "large", None, "variant")
    assert study_roles(study, response="val_acc", variant="small")[:2] == ("val_acc", "small")


def test_figures_with_no_roles_given_draw_the_chosen_ones(study):
    fig = marginals_figure(study, where={"dataset": "mnist"})
    assert fig.figure is fig and len(fig.axes) >= 2  # a figure, its axes
    assert "test acc" in fig._suptitle.get_text() and "large" in fig._suptitle.get_text()
    plt.close(fig)
    fig = fractions_figure(study, where={"dataset": "cifar"})
    assert "test acc" in fig._suptitle.get_text()
    plt.close(fig)


def test_single_plots_pass_keywords_to_their_artist(study):
    fit = study.get("test_acc", dataset="mnist", variant="small")
    fig, axes = plt.subplots(1, 3)
    plot_fraction_pie(fit, ax=axes[0], radius=0.5)
    assert max(w.r for w in axes[0].patches) == pytest.approx(0.5)
    plot_fraction_bars(fit, ax=axes[1], alpha=0.5, errorbar_kw={"ecolor": "red"})
    assert all(p.get_alpha() == 0.5 for p in axes[1].patches)
    whiskers = [c for c in axes[1].collections if len(c.get_segments())]
    assert whiskers and to_rgba("red") == tuple(whiskers[0].get_colors()[0])
    plot_pair(fit.pairs[("lr", "width")], ax=axes[2], edgecolors="k", colorbar=True,
              colorbar_kw={"shrink": 0.5})
    assert tuple(axes[2].collections[0].get_edgecolor()[0]) == to_rgba("k")
    plt.close(fig)


def test_the_marginals_figure_draws_a_second_response_only_when_asked(study, tmp_path):
    fig = marginals_figure(study, where={"dataset": "mnist"})
    assert not any(ax.lines and ax.lines[0].get_linestyle() == "--" for ax in fig.axes)
    plt.close(fig)
    fig = marginals_figure(study, where={"dataset": "mnist"}, secondary="val_acc",
                           marginal_kw={"band": False}, secondary_kw={"color": "black"})
    twins = [ax for ax in fig.axes if ax.lines and ax.lines[0].get_linestyle() == "--"]
    mains = [ax for ax in fig.axes if ax.lines and ax.lines[0].get_linestyle() == "-"]
    assert len(twins) == len(mains) == 2
    assert all(to_rgba(ax.lines[0].get_color()) == to_rgba("black") for ax in twins)
    assert not any(ax.collections for ax in mains if ax.get_visible())  # no band
    assert all(ax.collections for ax in twins)  # the second curve keeps its band
    legend = {t.get_text(): h for t, h in zip(fig.legends[0].get_texts(),
                                              fig.legends[0].legend_handles)}
    assert "± std across trees" not in legend
    assert to_rgba(legend["val acc (right axis)"].get_color()) == to_rgba("black")
    fig.savefig(tmp_path / "marginals.png", dpi=150)
    plt.close(fig)


def test_variant_boxes_choose_the_metric_and_reference_from_the_data():
    from odyssey_analysis import InputError
    from odyssey_analysis.plots import plot_variant_boxes

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"variant": np.repeat(["NP", "V", "CIFG"], 10),
                          "val_acc": rng.uniform(0, 1, 30), "test_acc": rng.uniform(0, 1, 30)})
    fig, ax = plt.subplots()
    plot_variant_boxes(frame, ax=ax)
    assert ax.get_ylabel() == "test acc"
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "V"  # the reference, first
    ax.clear()
    plot_variant_boxes(frame.assign(variant=frame["variant"].replace("V", "W")), ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "CIFG"  # the first in order
    ax.clear()
    plot_variant_boxes(frame, "val_acc", reference="NP", ax=ax)
    assert ax.get_ylabel() == "val acc"
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "NP"
    plt.close(fig)
    with pytest.raises(InputError, match=r"variant \(variant_key\) column is missing"):
        plot_variant_boxes(frame, variant_key="model")
