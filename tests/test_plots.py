"""Figures: the artists each function draws, and image comparison against baselines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figure_layout import layout_problems  # noqa: E402
from make_baselines import (  # noqa: E402
    BASELINE_DIR,
    BASELINE_DPI,
    NAMES,
    configure,
    fixed_comparison,
    fixed_study,
    fixed_trials,
    render,
)
from matplotlib.collections import PolyCollection, QuadMesh  # noqa: E402
from matplotlib.colors import TwoSlopeNorm, to_hex  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from odyssey_analysis.plots import (  # noqa: E402
    fractions_figure,
    interaction_cmap,
    interactions_figure,
    marginals_figure,
    plot_fraction_bars,
    plot_fraction_pie,
    plot_marginal,
    plot_pair,
    plot_params_bars,
    plot_variant_boxes,
    save_figure,
    variants_figure,
)
from odyssey_analysis.plots.style import (  # noqa: E402
    HIGHLIGHT_COLOR,
    VARIANT_COLORS,
    cell_edges,
    variant_color,
)
from odyssey_analysis.result import Marginal  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def study():
    return fixed_study()


@pytest.fixture(scope="module")
def speech(study):
    return study.get("test_error", task="speech", variant="V")


# -- variants (Fig. 3) -------------------------------------------------------------------

def test_variant_boxes_highlight_significant_variants():
    trials = fixed_trials()
    speech = trials[trials.task == "speech"]
    fig, ax = plt.subplots()
    out = plot_variant_boxes(speech, "test_error", significant={"NFG": True, "CIFG": False},
                             ax=ax)
    twin = plot_params_bars({"V": 1e4, "CIFG": 2e4, "NFG": 3e4}, ax=ax)
    assert out is ax
    boxes = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("box:")}
    assert sorted(boxes) == ["box:CIFG", "box:NFG", "box:V"]
    assert to_hex(boxes["box:NFG"].get_edgecolor()) == HIGHLIGHT_COLOR
    assert boxes["box:NFG"].get_linewidth() > 2 * boxes["box:V"].get_linewidth()
    assert to_hex(boxes["box:V"].get_edgecolor()) == "#000000"
    # each variant keeps its own face colour
    assert to_hex(boxes["box:CIFG"].get_facecolor(), keep_alpha=False) == VARIANT_COLORS["CIFG"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["V", "CIFG", "NFG"]
    # grey parameter bars on a right axis, one per variant
    assert len(twin.patches) == 3
    assert ax.get_ylabel() == "test error"


def test_variant_boxes_whiskers_span_min_to_max():
    trials = fixed_trials()
    v = trials[(trials.task == "music") & (trials.variant == "V")]
    fig, ax = plt.subplots()
    plot_variant_boxes(v, "test_error", ax=ax)
    ends = sorted(y for line in ax.lines for y in np.atleast_1d(line.get_ydata()))
    assert ends[0] == pytest.approx(v.test_error.min())
    assert ends[-1] == pytest.approx(v.test_error.max())


def test_variants_figure_rows_follow_the_comparison():
    fig = variants_figure(fixed_comparison())
    box_axes = [ax for ax in fig.axes if any(
        (p.get_gid() or "").startswith("box:") for p in ax.patches)]
    assert len(box_axes) == 4  # 2 rows x 2 tasks
    for ax in box_axes:
        nfg = next(p for p in ax.patches if p.get_gid() == "box:NFG")
        assert to_hex(nfg.get_edgecolor()) == HIGHLIGHT_COLOR
    assert box_axes[0].get_title() == "speech — classification error"


def test_variant_colours_are_fixed_and_distinct():
    assert len(set(VARIANT_COLORS.values())) == len(VARIANT_COLORS)
    assert HIGHLIGHT_COLOR not in VARIANT_COLORS.values()
    assert variant_color("LSTM2", ["LSTM2", "LSTM3"]) != variant_color("LSTM3", ["LSTM2",
                                                                                 "LSTM3"])
    assert variant_color("X") == variant_color("X")


# -- marginals (Fig. 4) ------------------------------------------------------------------

def test_marginal_has_band_and_log_axis(speech):
    fig, ax = plt.subplots()
    plot_marginal(speech.marginals["learning_rate"], ax=ax)
    assert ax.get_xscale() == "log"
    assert any(isinstance(c, PolyCollection) for c in ax.collections)
    line = ax.lines[0]
    assert np.allclose(line.get_ydata(), speech.marginals["learning_rate"].mean)
    assert ax.get_xlabel() == "learning rate"
    lo, hi = ax.get_xlim()
    assert lo == pytest.approx(1e-6) and hi == pytest.approx(1e-2)


def test_marginal_scales_follow_the_sampling(speech):
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))  # room for ticks at 1, 2 and 5
    plot_marginal(speech.marginals["input_noise"], ax=axes[0])
    plot_marginal(speech.marginals["momentum"], ax=axes[1])
    plot_marginal(speech.marginals["hidden_size"], ax=axes[2], band=False)
    assert axes[0].get_xscale() == "linear"
    assert axes[1].get_xscale() == "function"  # stretched near 1, ticks 0 … 0.99
    fig.canvas.draw()
    assert "0.99" in [t.get_text() for t in axes[1].get_xticklabels()]
    assert axes[2].get_xscale() == "log"
    assert "50" in [t.get_text() for t in axes[2].get_xticklabels()]
    assert not any(isinstance(c, PolyCollection) for c in axes[2].collections)


def test_categorical_marginal_is_points_with_error_bars():
    m = Marginal("optimizer", "categorical", "linear", np.array([1 / 6, 0.5, 5 / 6]),
                 np.array(["adam", "sgd", "rmsprop"], dtype=object),
                 np.array([0.3, 0.5, 0.35]), np.array([0.01, 0.05, 0.02]))
    fig, ax = plt.subplots()
    plot_marginal(m, ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["adam", "sgd", "rmsprop"]
    assert len(ax.containers) == 1  # one errorbar container
    assert np.allclose(ax.lines[0].get_ydata(), [0.3, 0.5, 0.35])


def test_marginals_figure_layout(study):
    fig = marginals_figure(study, tasks=("music", "speech"), secondary="train_time")
    main_axes = [ax for ax in fig.axes if ax.get_xlabel() or ax.lines and
                 ax.lines[0].get_linestyle() == "-"]
    assert len(main_axes) >= 8
    twins = [ax for ax in fig.axes if ax.lines and ax.lines[0].get_linestyle() == "--"]
    assert len(twins) == 8  # training time on a right axis in every panel
    assert fig.axes[0].get_ylabel().startswith("music")
    # rows share the y axis of their first panel
    ax0, ax1 = fig.axes[0], fig.axes[2]
    assert ax0.get_ylim() == ax1.get_ylim()


def test_marginals_figure_without_secondary(study):
    fig = marginals_figure(study, secondary=None, params=["learning_rate", "hidden_size"])
    assert len(fig.axes) == 4
    assert not any(ax.lines and ax.lines[0].get_linestyle() == "--" for ax in fig.axes)


# -- fractions (Fig. 5) ------------------------------------------------------------------

def test_pie_folds_interactions_into_higher_order(speech):
    fig, ax = plt.subplots()
    plot_fraction_pie(speech, ax=ax)
    wedges = {w.get_gid(): w for w in ax.patches}
    assert set(wedges) == {"learning_rate", "hidden_size", "momentum", "input_noise",
                           "higher order"}
    span = {k: abs(w.theta2 - w.theta1) for k, w in wedges.items()}
    mean, _ = speech.main_fraction()
    assert span["learning_rate"] / 360 == pytest.approx(mean["learning_rate"], abs=1e-6)
    assert span["higher order"] / 360 == pytest.approx(1 - mean.sum(), abs=1e-6)


def test_fraction_bars_list_mains_pairs_and_rest(speech):
    fig, ax = plt.subplots()
    plot_fraction_bars(speech, ax=ax, n_pairs=2)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "learning rate"  # largest first, from the top
    assert labels[-1] == "beyond pairs"
    assert "learning rate × hidden size" in labels
    assert len(labels) == 4 + 2 + 1
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths[-1] == pytest.approx(100 * speech.main_fraction().mean.iloc[0])
    # Without a bootstrap the whiskers are the trees' disagreement, and say so.
    assert ax.get_xlabel() == "share of variance [%] — whiskers: spread across trees"


def test_fractions_figure_one_row_per_task(study):
    fig = fractions_figure(study, tasks=("speech", "music"))
    assert len(fig.axes) == 4
    assert fig.axes[0].get_title(loc="left") == "speech"


# -- interactions (Fig. 6) ---------------------------------------------------------------

def test_interaction_norm_is_centred_on_zero(speech):
    pair = speech.pairs[("learning_rate", "hidden_size")]
    fig, ax = plt.subplots()
    plot_pair(pair, "interaction", ax=ax, colorbar=True)
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    norm = mesh.norm
    assert isinstance(norm, TwoSlopeNorm) and norm.vcenter == 0
    assert norm.vmin == pytest.approx(-norm.vmax)
    assert norm.vmax == pytest.approx(np.abs(pair.interaction_mean).max())
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert np.allclose(mesh.get_array().reshape(pair.interaction_mean.T.shape),
                       pair.interaction_mean.T)
    grey = np.array(interaction_cmap()(0.5)[:3])
    assert np.ptp(grey) < 0.02  # grey at 0
    low, high = interaction_cmap()(0.0), interaction_cmap()(1.0)
    assert low[2] > low[0] and high[0] > high[2]  # blue = lower, red = higher


def test_total_pair_uses_the_data_range(speech):
    pair = speech.pairs[("hidden_size", "input_noise")]
    fig, ax = plt.subplots()
    plot_pair(pair, "total", ax=ax)
    mesh = ax.collections[0]
    assert mesh.norm.vmin == pytest.approx(pair.total_mean.min())
    assert mesh.norm.vmax == pytest.approx(pair.total_mean.max())
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    with pytest.raises(ValueError):
        plot_pair(pair, "joint", ax=ax)


def test_interactions_figure_lower_triangle(speech):
    fig = interactions_figure(speech)
    cells = [ax for ax in fig.axes if (ax.get_gid() or "").count(":") == 2]
    assert len(cells) == 2 * 6
    inter = [ax for ax in cells if ax.get_gid().startswith("interaction:")]
    norms = {id(ax.collections[0].norm) for ax in inter}
    assert len(norms) == 1  # one shared colour scale per matrix
    norm = inter[0].collections[0].norm
    assert isinstance(norm, TwoSlopeNorm) and norm.vcenter == 0
    biggest = max(np.abs(p.interaction_mean).max() for p in speech.pairs.values())
    assert norm.vmax == pytest.approx(biggest)
    x_lr = [ax for ax in cells if ax.get_gid().split(":")[1] == "learning_rate"]
    assert all(ax.get_xscale() == "log" for ax in x_lr)


def test_cell_edges_are_midpoints_on_the_sampling_scale():
    edges = cell_edges(np.array([1.0, 10.0, 100.0]), "log")
    assert np.allclose(edges, [10 ** -0.5, 10 ** 0.5, 10 ** 1.5, 10 ** 2.5])
    edges = cell_edges(np.array([0.0, 1.0, 2.0]), "linear")
    assert np.allclose(edges, [-0.5, 0.5, 1.5, 2.5])
    edges = cell_edges(np.array([0.0, 0.9, 0.99]), "one_minus_log")
    assert np.all(np.diff(edges) > 0) and edges[-1] < 1


# -- saving ------------------------------------------------------------------------------

def test_save_figure_writes_png_and_pdf(tmp_path, speech):
    fig = interactions_figure(speech)
    paths = save_figure(fig, tmp_path / "sub" / "interactions_speech_V")
    assert [p.name for p in paths] == ["interactions_speech_V.png", "interactions_speech_V.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == sorted(p.name for p in paths)
    assert fig.get_layout_engine() is not None  # layout restored after saving


# -- images ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_figure_matches_baseline(name, tmp_path):
    baseline = BASELINE_DIR / f"{name}.png"
    assert baseline.is_file(), "run python tests/make_baselines.py"
    with matplotlib.rc_context():
        configure()
        fig = render(name)
        actual = tmp_path / f"{name}.png"
        fig.savefig(actual, dpi=BASELINE_DPI)
    result = compare_images(str(baseline), str(actual), tol=2)
    if result is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{name}-actual.png").write_bytes(actual.read_bytes())
    assert result is None, result
    assert layout_problems(fig) == []  # no clipped or overlapping text either


def test_baseline_comparison_catches_a_lost_highlight(tmp_path):
    """The image test fails when one box loses its significance highlight."""
    comparison = fixed_comparison()
    table = comparison.table.assign(
        significant=comparison.table["significant"] & (comparison.table["task"] != "music"))
    comparison = dataclasses.replace(comparison, table=table)
    with matplotlib.rc_context():
        configure()
        fig = variants_figure(comparison)
        actual = tmp_path / "variants.png"
        fig.savefig(actual, dpi=BASELINE_DPI)
    assert compare_images(str(BASELINE_DIR / "variants.png"), str(actual), tol=2) is not None
