"""Figures of sweeps unlike the bundled study: layout, ticks, group values, pairs, rugs.

The synthetic sweeps (:mod:`foreign_sweeps`) have 2 to 20 hyperparameters with long
names, 9- and 30-level categoricals, budgets such as 2.7777777777777777 as groups and a
long response name; the DeepCAVE runs in ``tests/data`` are real. Every figure must pass
:func:`figure_layout.layout_problems`: no text outside the figure, no two texts over
each other. Their images are compared with baselines in ``test_plots.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure_layout import layout_problems, smallest_panel  # noqa: E402
from foreign_sweeps import (  # noqa: E402
    LONG_RESPONSE,
    foreign_result,
    foreign_space,
    foreign_study,
    numeric_variant_comparison,
)
from matplotlib.figure import Figure  # noqa: E402

from odyssey_analysis import method_from_options  # noqa: E402
from odyssey_analysis.naming import file_stems, value_text  # noqa: E402
from odyssey_analysis.ordering import GroupOrder, order_tasks, order_variants  # noqa: E402
from odyssey_analysis.plots import (  # noqa: E402
    fractions_figure,
    interactions_figure,
    marginals_figure,
    plot_marginal,
    variants_figure,
)
from odyssey_analysis.plots.interactions import DEFAULT_TOP_PAIRS, MATRIX_MAX  # noqa: E402

DEEPCAVE = Path(__file__).parent / "data" / "deepcave"
GROUPED = {"task_key": None, "variant_key": None}
SECONDARY = "wall_clock_time_in_seconds"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _cells(fig: Figure, kind: str = "interaction") -> list[str]:
    return [ax.get_gid() for ax in fig.axes if (ax.get_gid() or "").startswith(kind + ":")]


# -- the layout check itself ----------------------------------------------------------------

def test_layout_check_finds_overlap_and_clipping():
    fig = Figure(figsize=(2, 1))
    fig.text(0.1, 0.5, "a label that runs far beyond the right edge")
    fig.text(0.1, 0.52, "another one on top of it")
    problems = layout_problems(fig)
    assert any(p.startswith("outside the figure") for p in problems)
    assert any(p.startswith("overlap") for p in problems)
    tidy = Figure(figsize=(2, 1))
    tidy.text(0.1, 0.2, "short")
    tidy.text(0.1, 0.7, "apart")
    assert layout_problems(tidy) == []


def test_layout_check_ignores_ticks_outside_the_view():
    fig = Figure(figsize=(3, 2), layout="constrained")
    ax = fig.subplots()
    ax.set_xticks([-100.0, 0.5, 100.0])  # the outer ones are not drawn
    ax.set_xlim(0, 1)
    assert layout_problems(fig) == []


# -- every figure of a foreign sweep is laid out cleanly ------------------------------------

def _figures():
    for d in (2, 10, 20):
        yield f"marginals-{d}", lambda d=d: marginals_figure(
            foreign_study(d), response=LONG_RESPONSE, secondary=SECONDARY, **GROUPED)
        yield f"fractions-{d}", lambda d=d: fractions_figure(
            foreign_study(d, budgets=(2.7777777777777777,)), response=LONG_RESPONSE,
            **GROUPED)
    for d in (2, 3, 6, 10, 20):
        yield f"interactions-{d}", lambda d=d: interactions_figure(
            foreign_study(d, budgets=(33.333333333333336,), secondary=None).get(
                LONG_RESPONSE, budget=33.333333333333336))
    yield "variants-numeric", lambda: variants_figure(numeric_variant_comparison())


@pytest.mark.parametrize("name,make", list(_figures()), ids=[n for n, _ in _figures()])
def test_foreign_figure_has_no_clipped_or_overlapping_text(name, make):
    fig = make()
    assert layout_problems(fig) == []
    assert smallest_panel(fig) >= 0.75  # inches: no panel squeezed to make room


def test_marginals_wrap_many_hyperparameters_onto_rows():
    fig = marginals_figure(foreign_study(20, budgets=(1.0,), secondary=None),
                           response=LONG_RESPONSE, secondary=None, **GROUPED)
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.lines]
    assert len(shown) == 20
    width = fig.get_size_inches()[0]
    boxes = [ax.get_position() for ax in shown]
    # at most five side by side, each at least 1.2 inches wide: no squeezed panels
    rows = {round(b.y0, 3) for b in boxes}
    assert len(rows) == 4
    assert min(b.width for b in boxes) * width > 1.2


# -- ticks ------------------------------------------------------------------------------------

def _drawn_ticklabels(ax, axis="x"):
    ax.figure.canvas.draw() if hasattr(ax.figure.canvas, "renderer") else None
    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = sorted(axis_obj.get_view_interval())
    return [(t.get_loc(), t.label1.get_text()) for t in axis_obj.get_major_ticks()
            if lo <= t.get_loc() <= hi and t.label1.get_text()]


def test_integer_axes_tick_only_at_integers():
    space = foreign_space(3)  # the third is an integer range 1..8
    result = foreign_result(space, {}, "loss")
    for size in (1.2, 3.0):
        fig = Figure(figsize=(size, 2), layout="constrained")
        ax = fig.subplots()
        plot_marginal(result.marginals[space.names[2]], ax=ax)
        fig.draw_without_rendering()
        locs = [loc for loc, _ in _drawn_ticklabels(ax)]
        assert len(locs) >= 2
        assert all(float(loc).is_integer() for loc in locs), locs


def test_log_axes_of_a_figure_share_one_tick_style():
    fig = marginals_figure(foreign_study(10, budgets=(1.0,), secondary=None),
                           response=LONG_RESPONSE, secondary=None, **GROUPED)
    fig.draw_without_rendering()
    wide = [ax for ax in fig.axes if ax.get_visible() and ax.get_xscale() == "log"
            and np.log10(np.divide(*ax.get_xlim()[::-1])) >= 1.5]
    assert len(wide) >= 2  # learning rate (5 decades) and batch size (2.4 decades)
    for ax in wide:
        labels = [text for _, text in _drawn_ticklabels(ax)]
        assert labels and all("10^{" in text for text in labels), labels


def test_levels_turn_and_thin_before_they_overlap():
    space = foreign_space(8)
    result = foreign_result(space, {}, "loss")
    for name, n_levels in ((space.names[5], 9), (space.names[7], 30)):
        fig = Figure(figsize=(2.0, 2.0), layout="constrained")
        ax = fig.subplots()
        plot_marginal(result.marginals[name], ax=ax)
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert len(ax.get_xticks()) == n_levels  # a tick for every level
        assert ax.xaxis.get_ticklabels()[0].get_rotation() == 90
        assert layout_problems(fig) == []
        if n_levels == 30:
            assert 0 < sum(bool(t) for t in labels) < 30  # every k-th level labelled
    few = Figure(figsize=(3.0, 2.0), layout="constrained")
    ax = few.subplots()
    plot_marginal(foreign_result(foreign_space(6, long_names=False), {}, "loss")
                  .marginals["activation"], ax=ax)
    assert layout_problems(few) == []


def test_colorbar_ticks_are_distinct_and_on_the_bar():
    study = foreign_study(3, budgets=(1.0,), secondary=None)
    fit = study.get(LONG_RESPONSE, budget=1.0)
    fig = interactions_figure(fit)
    fig.draw_without_rendering()
    bars = [child for ax in fig.axes for child in [ax, *ax.child_axes]
            if hasattr(child, "_colorbar")]
    assert len(bars) == 2
    for bar in bars:
        lo, hi = bar.get_xlim()
        ticks = [t for t in bar.get_xticks() if lo <= t <= hi]
        assert len(ticks) >= 2 and ticks == sorted(set(ticks))
    assert layout_problems(fig) == []


# -- interaction pairs -------------------------------------------------------------------------

def test_all_pairs_up_to_six_hyperparameters():
    fit = foreign_study(MATRIX_MAX, budgets=(1.0,), secondary=None).get(LONG_RESPONSE,
                                                                       budget=1.0)
    assert len(_cells(interactions_figure(fit))) == MATRIX_MAX * (MATRIX_MAX - 1) // 2


def test_top_pairs_are_the_largest_interaction_shares():
    fit = foreign_study(10, budgets=(1.0,), secondary=None).get(LONG_RESPONSE, budget=1.0)
    shares = fit.pair_fraction().mean
    names = fit.hyperparameters
    ranked = sorted(((shares.loc[a, b], a, b) for i, a in enumerate(names)
                     for b in names[i + 1:]), reverse=True)
    fig = interactions_figure(fit, top_pairs=4)
    cells = _cells(fig)
    assert len(cells) == 4
    assert [frozenset(c.split(":")[1:]) for c in cells] == [
        frozenset((a, b)) for _, a, b in ranked[:4]]
    assert len(_cells(fig, "total")) == 4
    assert len(_cells(interactions_figure(fit))) == DEFAULT_TOP_PAIRS  # 10 of 45
    small = foreign_study(4, budgets=(1.0,), secondary=None).get(LONG_RESPONSE, budget=1.0)
    assert len(_cells(interactions_figure(small, top_pairs=2))) == 2
    assert len(_cells(interactions_figure(small, top_pairs=99))) == 6
    with pytest.raises(ValueError, match="top_pairs"):
        interactions_figure(small, top_pairs=0)


# -- the observed trials as a rug ---------------------------------------------------------------

def test_rug_marks_every_observed_trial():
    space = foreign_space(6)
    result = foreign_result(space, {}, "loss", n_trials=57)
    fig, (num, lev) = plt.subplots(1, 2)
    numeric = result.marginals[space.names[0]]
    plot_marginal(numeric, ax=num)
    rug = next(line for line in num.lines if line.get_gid() == "rug")
    assert np.allclose(np.sort(rug.get_xdata()), np.sort(numeric.observed.astype(float)))
    levels = result.marginals[space.names[5]]
    plot_marginal(levels, ax=lev)
    rug = next(line for line in lev.lines if line.get_gid() == "rug")
    x = np.asarray(rug.get_xdata())
    assert len(x) == 57
    order = [str(v) for v in levels.values]
    counts = pd.Series([str(v) for v in levels.observed]).value_counts()
    for i, level in enumerate(order):  # each trial sits within ±0.3 of its level
        assert int((np.abs(x - i) <= 0.3 + 1e-9).sum()) == counts.get(level, 0)
    plot_marginal(numeric, ax=num, rug=False)
    assert sum(line.get_gid() == "rug" for line in num.lines) == 1


def test_analysis_result_carries_the_observed_values():
    from odyssey_analysis.loaders import load_trials
    from odyssey_analysis.study import analyze

    table = load_trials(str(DEEPCAVE / "digits_sklearn" / "run_1"))
    study = analyze(table, method_from_options(n_trees=4, pairs=False), n_jobs=1)
    fit = next(iter(study))
    rows = table.frame
    if table.group_keys:
        for key in table.group_keys:
            rows = rows[rows[key].astype(str) == str(fit.group[key])]
    for name, marginal in fit.marginals.items():
        assert marginal.observed is not None and len(marginal.observed) == fit.n_trials
        if marginal.kind in ("float", "int"):
            seen = np.sort(pd.to_numeric(rows[name], errors="coerce").dropna().to_numpy())
            if len(seen) == fit.n_trials:
                assert np.allclose(np.sort(marginal.observed.astype(float)), seen,
                                   rtol=1e-9, atol=1e-12)


# -- DeepCAVE's runs, analysed for real ---------------------------------------------------------

@pytest.mark.parametrize("run", ["mnist_pytorch/run_1", "digits_sklearn/run_1"])
def test_deepcave_runs_draw_cleanly(run):
    from odyssey_analysis.loaders import load_trials
    from odyssey_analysis.study import analyze

    table = load_trials(str(DEEPCAVE / run))
    response = table.responses[0]
    study = analyze(table, method_from_options(n_trees=4, grid_points=12, pair_grid_points=6),
                    response=response, n_jobs=1)
    figures = [marginals_figure(study, response=response, secondary=None, **GROUPED),
               fractions_figure(study, response=response, **GROUPED)]
    first = next(r for r in study if r.response == response)
    figures.append(interactions_figure(first))
    for fig in figures:
        assert layout_problems(fig) == []
    title = figures[0].get_suptitle() + " ".join(
        ax.get_ylabel() for ax in figures[0].axes)
    assert "2.6666666666666665" not in title


# -- numeric group values -------------------------------------------------------------------------

def test_group_values_are_rounded_for_display_and_file_names():
    assert value_text(2.7777777777777777) == "2.778"
    assert value_text(8.0) == "8"
    assert value_text("2.6666666666666665") == "2.667"
    assert value_text("speech") == "speech"
    assert value_text(1e-5) == "1e-05"
    stems = file_stems([("marginals", 2.7777777777777777), ("marginals", 100.0)])
    assert stems == ["marginals_2.778", "marginals_100"]
    # two values that round alike still get distinct names
    close = file_stems([("m", 2.77777777), ("m", 2.7777777777777777)])
    assert len(set(close)) == 2 and all(s.startswith("m_2.778-") for s in close)


def test_numbers_sort_by_value_not_text():
    assert order_variants([100.0, 11.1, 33.3, 2.5]) == [2.5, 11.1, 33.3, 100.0]
    assert order_variants(["100", "11", "33"], reference="33") == ["33", "11", "100"]
    assert order_tasks([100, 11, 33]) == [11, 33, 100]
    assert order_tasks(["b", "a"]) == ["b", "a"]  # text keeps its order of appearance
    order = GroupOrder(["budget"], [(100.0,), (11.1,), (33.3,)], task_key=None,
                       variant_key=None)
    assert order.sort([(100.0,), (11.1,), (33.3,)]) == [(11.1,), (33.3,), (100.0,)]


def test_figures_show_rounded_budgets_in_numeric_order():
    study = foreign_study(2, budgets=(100.0, 2.7777777777777777, 33.333333333333336))
    fig = marginals_figure(study, response=LONG_RESPONSE, secondary=None, **GROUPED)
    ylabels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert [y.split(":")[0] for y in ylabels] == ["budget 2.778", "budget 33.33",
                                                 "budget 100"]
    fig = variants_figure(numeric_variant_comparison())
    ticks = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert ticks == ["100", "2.778", "11.11", "33.33"]  # reference first, then by value


# -- the report's --top-pairs -------------------------------------------------------------------

def test_report_top_pairs_reaches_the_interaction_figures(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from test_compare import make_sweep

    from odyssey_analysis.cli import main
    from odyssey_analysis.report import build, figures

    path = tmp_path / "sweep.csv"
    make_sweep(n_per=12, tasks=("speech",), variants=("V",), seed=3).to_csv(path,
                                                                           index=False)
    seen = []

    def capture(ctx, fig_dir, **_):
        seen.append(ctx)
        return []

    monkeypatch.setattr(build, "draw_figures", capture)
    args = ["report", str(path), "--out", str(tmp_path / "out"), "--trees", "4", "--jobs",
            "1", "--quiet", "--response", "test_error", "--response", "valid_error"]
    result = CliRunner().invoke(main, [*args, "--top-pairs", "2"])
    assert result.exit_code == 0, result.output
    ctx = seen[-1]
    assert ctx.top_pairs == 2
    spec = next(s for s in figures.FIGURES if s.section == "interactions")
    panel = spec.panels(ctx)[0]
    d = len(ctx.study.space)
    assert f"Only the 2 of the {d * (d - 1) // 2} pairs" in spec.caption(ctx, panel)
    assert len(_cells(spec.make(ctx, panel))) == 2
    everything = figures.ReportContext(**{**vars(ctx), "top_pairs": None})
    assert "Only the" not in spec.caption(everything, panel)
    assert "in full" not in spec.caption(ctx, panel)  # short names: nothing to list
    long = figures.ReportContext(**{**vars(ctx), "study": foreign_study(3, budgets=(1.0,))})
    assert ("in full: optimizer initial learning rate before warmup; number of "
            "transformer layers in the encoder.") in spec.caption(long, panel)
    bad = CliRunner().invoke(main, [*args, "--top-pairs", "0"])
    assert bad.exit_code == 2 and "--top-pairs" in bad.output
