"""Settings are checked declaratively; Python callers see Python names, the CLI its flags."""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from odyssey_analysis import FanovaMethod, ForestSettings, InputError, TrialTable, analyze
from odyssey_analysis.cli import main
from odyssey_analysis.cli.common import FLAGS
from odyssey_analysis.methods import LocalFanovaMethod, method_from_options
from odyssey_analysis.methods.fanova import METHOD_CONSTRAINTS
from odyssey_analysis.params import Interval, OneOf, OrderedPair, ParameterError, check
from odyssey_analysis.surrogate import FOREST_CONSTRAINTS

BAD = [
    (lambda: ForestSettings(n_trees=0), "n_trees must be at least 1, got 0"),
    (lambda: ForestSettings(n_trees=2.5), "n_trees must be a whole number at least 1, got 2.5"),
    (lambda: ForestSettings(max_features=0), "max_features must be at least 1, got 0"),
    (lambda: ForestSettings(max_features=1.5), "max_features must be in (0, 1], got 1.5"),
    (lambda: ForestSettings(max_features="all"), "max_features must be one of 'sqrt', 'log2'"),
    (lambda: ForestSettings(seed=-1), "seed must be between 0 and 4294967295, got -1"),
    (lambda: ForestSettings(bootstrap="yes"), "bootstrap must be one of True, False"),
    (lambda: FanovaMethod(n_bootstrap=5),
     "n_bootstrap must be 0 or a whole number at least 10, got 5"),
    (lambda: FanovaMethod(conf_level=1.0), "conf_level must be in (0, 1), got 1"),
    (lambda: FanovaMethod(grid_points=1), "grid_points must be at least 2, got 1"),
    (lambda: FanovaMethod(estimator="mean"), "estimator must be one of 'forest-mean'"),
    (lambda: FanovaMethod(cutoffs=(1.0, 0.0)), "cutoffs must be two cutoffs LOW < HIGH"),
    (lambda: FanovaMethod(cutoff_quantiles=(0.2, 1.5)),
     "cutoff_quantiles must be two cutoff quantiles LOW < HIGH, both in [0, 1]"),
    (lambda: FanovaMethod(cutoffs=(0, 1), cutoff_quantiles=(0, 1)),
     "give cutoffs or cutoff_quantiles, not both"),
    (lambda: FanovaMethod(estimator="per-tree", n_bootstrap=10),
     "intervals (n_bootstrap) are calibrated on the forest-mean fractions: use the blend "
     "or forest-mean estimator"),
    (lambda: LocalFanovaMethod(top_quantile=0), "top_quantile must be in (0, 1), got 0"),
    (lambda: LocalFanovaMethod(cutoff_quantiles=(0, 0.5)), "give no cutoff_quantiles"),
    (lambda: method_from_options("fanova", top_quantile=0.2),
     "top_quantile belongs to the local method (leave it out, or use method local)"),
    (lambda: method_from_options("best"), "method must be one of 'fanova', 'local'"),
]


@pytest.mark.parametrize("make, message", BAD)
def test_python_callers_read_python_names(make, message):
    with pytest.raises(ParameterError) as info:
        make()
    assert message in str(info.value)
    assert "--" not in str(info.value)


def test_the_command_line_reads_the_same_errors_under_its_flags():
    with pytest.raises(ParameterError) as info:
        FanovaMethod(n_bootstrap=5)
    assert str(info.value.renamed(FLAGS)).startswith("--bootstrap must be 0 or a whole")
    with pytest.raises(ParameterError) as info:
        method_from_options("fanova", top_quantile=0.2)
    assert str(info.value.renamed(FLAGS)) == (
        "--top-quantile belongs to the local method (leave it out, or use --method local)")


@pytest.mark.parametrize("args, message", [
    (["--bootstrap", "5"], "--bootstrap must be 0 or a whole number at least 10, got 5"),
    (["--method", "fanova", "--top-quantile", "0.2"], "--top-quantile belongs to the local"),
    (["--estimator", "per-tree", "--bootstrap", "10"],
     "intervals (--bootstrap) are calibrated on the forest-mean fractions: use the blend "
     "or forest-mean --estimator"),
    (["--min-trials", "0"], "--min-trials must be at least 1, got 0"),
])
def test_cli_errors_name_the_flag(tmp_path, args, message):
    rng = np.random.default_rng(0)
    sweep_csv = tmp_path / "sweep.csv"
    pd.DataFrame({"a": rng.uniform(0, 1, 30), "b": rng.uniform(0, 1, 30),
                  "y": rng.uniform(0, 1, 30)}).to_csv(sweep_csv, index=False)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["analyze", str(sweep_csv), "--out", str(out),
                                       "--response", "y", "--trees", "4", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_the_flag_table_names_real_flags_and_real_settings():
    import click

    from odyssey_analysis import build_report, load_trials
    from odyssey_analysis.compare import compare

    def options(command):
        if isinstance(command, click.Group):
            return {o for sub in command.commands.values() for o in options(sub)}
        return {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}

    flags = options(main)
    assert {flag.split()[0] for flag in FLAGS.values()} <= flags
    settings = set(FOREST_CONSTRAINTS) | set(METHOD_CONSTRAINTS) | {"top_quantile"}
    for function in (analyze, load_trials, compare, build_report):
        settings |= set(inspect.signature(function).parameters)
    settings |= {"method", "surrogate", "study"}  # method_from_options, a reader option
    assert set(FLAGS) <= settings


def test_every_setting_of_the_method_and_forest_is_constrained():
    from dataclasses import fields

    assert {f.name for f in fields(ForestSettings)} == set(FOREST_CONSTRAINTS)
    assert {f.name for f in fields(FanovaMethod)} - {"surrogate"} == set(METHOD_CONSTRAINTS)


def test_constraints_accept_their_range_and_nothing_else():
    whole = Interval(Integral, 1, 3)
    assert whole(1) and whole(3) and not whole(0) and not whole(4)
    assert not whole(2.0) and not whole(True)
    open_unit = Interval(Real, 0, 1, closed="neither")
    assert open_unit(0.5) and open_unit(1e-9) and not open_unit(0) and not open_unit(1)
    assert not open_unit(float("nan"))
    assert OneOf((0,))(0) and not OneOf((0,))(False) and not OneOf(("a",))(0)
    pair = OrderedPair(Interval(Real, 0, 1))
    assert pair((0, 1)) and not pair((1, 0)) and not pair((0, 2)) and not pair((0,))
    check("x", None, [whole, None])
    with pytest.raises(ParameterError, match="x must be between 1 and 3, got 4"):
        check("x", 4, [whole])


def test_data_in_a_message_is_not_read_as_a_template():
    frame = pd.DataFrame({"g": ["{n}"] * 3 + ["b"] * 12, "a": range(15), "y": range(15)})
    table = TrialTable.from_frame(frame, responses=["y"], group_by=["g"])
    with pytest.raises(ParameterError, match=r"group g=\{n\} has 3 trial\(s\); at least 10 "
                                             r"\(min_trials\)"):
        analyze(table, n_jobs=1)


def test_the_command_line_defaults_are_the_engines():
    import click

    from odyssey_analysis.cli.analyze import analyze as command
    from odyssey_analysis.study import MIN_TRIALS

    ctx = click.Context(command)
    defaults = {p.name: p.get_default(ctx) for p in command.params
                if isinstance(p, click.Option)}
    forest, method = ForestSettings(), FanovaMethod()
    assert defaults["trees"] == forest.n_trees
    assert defaults["seed"] == forest.seed
    assert defaults["max_depth"] == forest.max_depth
    assert defaults["min_samples_leaf"] == forest.min_samples_leaf  # None: the method's
    assert float(defaults["max_features"]) == forest.max_features
    assert bool(defaults["no_bootstrap"]) is (not forest.bootstrap)
    assert bool(defaults["no_pairs"]) is (not method.pairs)
    assert defaults["estimator"] == method.estimator
    assert defaults["n_bootstrap"] == method.n_bootstrap
    assert defaults["conf_level"] == method.conf_level
    assert defaults["min_trials"] == MIN_TRIALS
    assert defaults["top_quantile"] is None and LocalFanovaMethod().top_quantile == 0.25


# -- messages that name a setting outside the settings' checks ---------------------------


def test_a_template_spells_settings_for_python_and_under_flags():
    from odyssey_analysis.errors import spell

    template = ("declare it with {maximize:['a b']} or {minimize:['a b']}; "
                "pick {study:'NAME'}; data {x} {{y}} stays")
    names = {"maximize": "--maximize", "minimize": "--minimize", "study": "--option study="}
    settings = ("maximize", "minimize", "study")
    assert spell(template, settings) == (
        "declare it with maximize=['a b'] or minimize=['a b']; pick study='NAME'; "
        "data {x} {{y}} stays")
    assert spell(template, settings, names) == (
        "declare it with --maximize a b or --minimize a b; pick --option study=NAME; "
        "data {x} {{y}} stays")
    quoted = "use {responses:['it}s']}"  # a brace inside the value's quotes
    assert spell(quoted, ("responses",), {"responses": "--response"}) == "use --response it}s"


def test_renaming_keeps_where_the_error_is():
    err = InputError("{budget} was given", file="t.csv", row=3, column="c",
                     hint="or {format}", parameters=("budget", "format"))
    assert str(err) == "t.csv, row 3, column 'c': budget was given (or format)"
    flagged = err.renamed(FLAGS)
    assert str(flagged) == "t.csv, row 3, column 'c': --budget was given (or --format)"
    assert (flagged.file, flagged.row, flagged.column) == ("t.csv", 3, "c")
    plain = InputError("no settings here {budget}")
    assert plain.renamed(FLAGS) is plain and str(plain) == "no settings here {budget}"


def _unknown_direction(tmp_path):
    path = tmp_path / "sweep.csv"
    rng = np.random.default_rng(1)
    pd.DataFrame({"model": ["A", "B"] * 10, "lr": rng.uniform(0, 1, 20),
                  "quality": rng.uniform(0, 1, 20)}).to_csv(path, index=False)
    return path


def test_python_and_the_command_line_name_their_own_spelling(tmp_path):
    from odyssey_analysis import load_trials
    from odyssey_analysis.atomic import check_writable
    from odyssey_analysis.compare import compare

    table = load_trials(str(_unknown_direction(tmp_path)), responses=["quality"])
    with pytest.raises(InputError) as info:
        table.direction("quality", needed_for="the comparison")
    assert "maximize=['quality'] or minimize=['quality']" in str(info.value)
    assert "--maximize quality or --minimize quality" in str(info.value.renamed(FLAGS))
    with pytest.raises(InputError) as info:
        compare(table, metric="quality", variant_key="model", reference="Z", maximize=True)
    assert str(info.value).endswith("choose one with reference)")
    assert str(info.value.renamed(FLAGS)).endswith("choose one with --reference)")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError) as info:
        check_writable(tmp_path / "file" / "out")
    assert "choose another out_dir folder" in str(info.value)
    with pytest.raises(InputError) as info:
        load_trials("https://example.org/sweep")
    assert "(pass format (one of" in str(info.value) and "--" not in str(info.value)
    with pytest.raises(InputError) as info:
        load_trials(str(_unknown_direction(tmp_path)))
    assert str(info.value).endswith("(name it with responses=['COLUMN'])")


@pytest.mark.parametrize("args, message", [
    (["compare", "--response", "quality", "--maximize", "quality", "--variant-key", "model",
      "--reference", "Z"], "choose one with --reference)"),
    (["compare", "--response", "quality", "--variant-key", "model"],
     "declare it with --maximize quality or --minimize quality"),
    (["info", "--response", "quality", "--budget", "max"],
     "--budget was given but no column is a budget"),
    (["info"], "(name it with --response COLUMN)"),
])
def test_the_command_line_shows_flags_for_the_same_messages(tmp_path, args, message):
    path = _unknown_direction(tmp_path)
    out = ["--out", str(tmp_path / "out")] if args[0] == "compare" else []
    result = CliRunner().invoke(main, [args[0], str(path), *args[1:], *out])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_errors_cross_processes_whole():
    import pickle

    err = ParameterError("{n_trees} must be at least 1", parameters=("n_trees",), got="0",
                         file="t.csv")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ParameterError and str(back) == str(err)
    assert str(back.renamed(FLAGS)) == "t.csv: --trees must be at least 1, got 0"
    err = InputError("bad", file="t.csv", row=2, column="c", hint="use {budget:'max'}",
                     parameters=("budget",))
    back = pickle.loads(pickle.dumps(err))
    assert (back.file, back.row, back.column, str(back)) == ("t.csv", 2, "c", str(err))
    assert str(back.renamed(FLAGS)).endswith("(use --budget max)")
