"""Local importance: what matters among the good runs, through the API and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from odyssey_analysis import TrialTable, analyze
from odyssey_analysis.cli import main
from odyssey_analysis.errors import InputError
from odyssey_analysis.methods import method_from_options

LOCAL = method_from_options(n_trees=16, curves=False, top_quantile=0.3)


def cliff_sweep(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Learning rates above 1e-2 diverge (loss 5); below, only dropout matters."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"lr": 10 ** rng.uniform(-5, -1, n), "dropout": rng.uniform(0, 0.5, n),
                          "optimizer": rng.choice(["adam", "sgd"], n)})
    good = 1.0 + 20 * (frame["dropout"] - 0.2) ** 2
    frame["val_loss"] = np.where(frame["lr"] > 1e-2, 5.0, good) + 0.01 * rng.standard_normal(n)
    return frame


def mains(study) -> dict[str, float]:
    imp = study.importance_table()
    return dict(zip(imp.loc[imp.order == 1, "effect"], imp.loc[imp.order == 1, "fraction"]))


def test_the_cliff_dominates_globally_and_dropout_matters_among_good_runs():
    table = TrialTable.from_frame(cliff_sweep(), group_by=[])
    overall = mains(analyze(table, method_from_options(n_trees=32, curves=False), n_jobs=1))
    local_study = analyze(table, method_from_options(n_trees=32, curves=False, top_quantile=0.5),
                          n_jobs=1)
    local = mains(local_study)
    assert overall["lr"] > 0.8 and overall["dropout"] < 0.1
    assert local["dropout"] > 0.4 and local["dropout"] > local["lr"]
    fit = next(iter(local_study))
    assert fit.fit["method"]["name"] == "local"
    assert fit.fit["method"]["better"] == "minimize"
    # The cap is the best half's worst loss: in the good region, not at the cliff.
    assert fit.fit["method"]["cap"] == pytest.approx(
        np.quantile(table.frame["val_loss"], 0.5))
    assert local_study.to_dict()["method"]["top_quantile"] == 0.5


def test_maximised_metrics_keep_the_best_runs_at_the_top():
    frame = cliff_sweep()
    flipped = frame.assign(val_acc=-frame["val_loss"]).drop(columns="val_loss")
    down = TrialTable.from_frame(frame, group_by=[])
    up = TrialTable.from_frame(flipped, group_by=[])
    assert up.directions["val_acc"] == "maximize"
    # The blend: blend-corrected's simulated sweeps add noise that a sign flip does not
    # mirror, so its fractions differ by a little.
    exact = method_from_options(n_trees=16, curves=False, top_quantile=0.3, estimator="blend")
    a = mains(analyze(down, exact, n_jobs=1))
    b = mains(analyze(up, exact, n_jobs=1))
    for name in a:
        assert b[name] == pytest.approx(a[name], abs=1e-9), name


def test_local_importance_needs_the_direction():
    frame = cliff_sweep().rename(columns={"val_loss": "y"})
    table = TrialTable.from_frame(frame, responses=["y"], group_by=[])
    with pytest.raises(InputError, match="larger or smaller"):
        analyze(table, method_from_options(n_trees=4, top_quantile=0.25), n_jobs=1)


@pytest.mark.parametrize("args, message", [
    (["--top-quantile", "1.5"], "top-quantile"),
    (["--method", "fanova", "--top-quantile", "0.2"], "local method"),
    (["--bootstrap", "5"], "at least 10"),
    (["--conf-level", "1"], "conf-level"),
    (["--estimator", "per-tree", "--bootstrap", "10"], "forest-mean"),
    (["--estimator", "median"], "estimator"),
])
def test_bad_method_options_exit_2_and_write_nothing(tmp_path, args, message):
    path = tmp_path / "sweep.csv"
    cliff_sweep(60).to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(out), "--trees", "4",
                                       "--jobs", "1", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()


def test_cli_records_the_estimator_and_the_local_method(tmp_path):
    path = tmp_path / "sweep.csv"
    cliff_sweep(120).to_csv(path, index=False)
    runner = CliRunner()
    for name, args in (("pt", ["--estimator", "per-tree"]), ("loc", ["--top-quantile", "0.25"])):
        result = runner.invoke(main, ["analyze", str(path), "--out", str(tmp_path / name),
                                      "--trees", "8", "--jobs", "1", *args])
        assert result.exit_code == 0, result.output
    per_tree = json.loads((tmp_path / "pt" / "analysis.json").read_text())
    assert per_tree["method"]["estimator"] == "per-tree"
    assert per_tree["fits"][0]["estimator"] == "per-tree"
    local = json.loads((tmp_path / "loc" / "analysis.json").read_text())
    assert local["method"]["name"] == "local"
    assert local["fits"][0]["fit"]["method"]["top_quantile"] == 0.25


def test_a_good_region_without_variation_says_so():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.random(80), "b": rng.random(80)})
    frame["loss"] = np.where(frame["a"] > 0.5, 1.0, 0.0)  # about half of the runs reach 0
    table = TrialTable.from_frame(frame, responses=["loss"], group_by=[])
    fit = next(iter(analyze(table, method_from_options(
        n_trees=8, curves=False, top_quantile=0.25), n_jobs=1)))
    assert np.isnan(fit.main_fraction().mean).all()
    assert any("nothing varies among the good runs" in w for w in fit.warnings)
    assert not any("the response does not vary" in w for w in fit.warnings)


def test_the_command_line_offers_every_estimator_of_the_engine():
    from odyssey_analysis.cli.analyze import ESTIMATORS as OFFERED
    from odyssey_analysis.methods.fanova import ESTIMATORS

    assert OFFERED == ESTIMATORS


def test_the_command_line_offers_the_engines_surrogates():
    from odyssey_analysis.cli.analyze import SURROGATES as OFFERED
    from odyssey_analysis.surrogate import SURROGATES

    assert OFFERED == SURROGATES
