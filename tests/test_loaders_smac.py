"""SMAC3 run folders written by SMAC itself (a short optimisation in the test)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import detect_format, load_trials

smac = pytest.importorskip("smac")
CS = pytest.importorskip("ConfigSpace")


def _space():
    cs = CS.ConfigurationSpace(seed=0)
    lr = CS.Float("lr", (1e-4, 1e-1), log=True)
    width = CS.Integer("width", (4, 64))
    opt = CS.Categorical("opt", ["adam", "sgd"])
    momentum = CS.Float("momentum", (0.5, 0.99))
    cs.add([lr, width, opt, momentum])
    cs.add(CS.EqualsCondition(momentum, opt, "sgd"))
    return cs


def _train(config, seed: int = 0, budget: float = 9.0) -> float:
    if config["width"] > 40:
        raise RuntimeError("out of memory")
    penalty = 0.0 if config["opt"] == "adam" else 1.0 - config["momentum"]
    return float(np.log10(config["lr"]) ** 2 / 10 + 1.0 / config["width"] + penalty
                 + 1.0 / budget)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("smac")
    hpo = smac.Scenario(_space(), deterministic=True, n_trials=10, seed=3, crash_cost=10.0,
                        output_directory=out / "hpo", name="plain")
    facade = smac.HyperparameterOptimizationFacade(
        hpo, _train, overwrite=True, logging_level=40,
        initial_design=smac.HyperparameterOptimizationFacade.get_initial_design(
            hpo, n_configs=8))
    facade.optimize()
    mf = smac.Scenario(_space(), deterministic=True, n_trials=16, seed=3, crash_cost=10.0,
                       min_budget=1, max_budget=9, output_directory=out / "mf",
                       name="budgets")
    smac.HyperbandFacade(mf, _train, overwrite=True, logging_level=40).optimize()
    return out / "hpo" / "plain" / "3", out / "mf" / "budgets" / "3"


def _history(run):
    return json.loads((run / "runhistory.json").read_text())


def test_run_folder_space_costs_and_crashes(runs):
    run, _ = runs
    assert detect_format(str(run)) == "smac"
    history = _history(run)
    statuses = [e["status"] for e in history["data"]]
    assert statuses.count(2) >= 1  # SMAC recorded the crashes as CRASHED
    table = load_trials(str(run))
    assert len(table) == statuses.count(1)
    assert table.excluded_counts() == {"crashed": statuses.count(2)}
    assert table.responses == ["cost"]
    assert sorted(table.hyperparameters) == ["lr", "momentum", "opt", "width"]
    assert table.space["lr"].scale == "log" and table.space["momentum"].conditional
    assert table.group_keys == []
    for _, row in table.frame.iterrows():
        config = history["configs"][str(row["config_id"])]
        assert row["lr"] == config["lr"] and row["opt"] == config["opt"]
        assert row["cost"] == pytest.approx(_train(config))
        if config["opt"] == "adam":
            assert np.isnan(row["momentum"])
    assert table.frame["origin"].notna().all()
    encoded = table.resolve_space().encode(table.frame)
    assert np.isfinite(encoded).all()
    assert detect_format(str(run / "runhistory.json")) == "smac"


def test_crashed_runs_are_counted(runs, tmp_path):
    run = shutil.copytree(runs[0], tmp_path / "run")
    history = _history(run)
    history["data"][0]["status"] = 2
    history["data"][1]["status"] = 3
    (run / "runhistory.json").write_text(json.dumps(history))
    table = load_trials(str(run))
    counts = table.excluded_counts()
    assert counts["timeout"] == 1 and counts["crashed"] >= 1


def test_budgets_group_or_select(runs):
    _, run = runs
    budgets = {e["budget"] for e in _history(run)["data"] if e["status"] == 1}
    assert len(budgets) > 1
    table = load_trials(str(run))
    assert table.group_keys == ["budget"]
    assert set(table.frame["budget"]) == budgets
    top = load_trials(str(run), budget="max")
    assert set(top.frame["budget"]) == {max(budgets)} and top.group_keys == []


def test_folder_of_seeds_groups_by_run(runs, tmp_path):
    shutil.copytree(runs[0], tmp_path / "plain" / "3")
    shutil.copytree(runs[0], tmp_path / "plain" / "4")
    table = load_trials(str(tmp_path / "plain"))
    assert table.group_keys == ["run"]
    assert set(table.frame["run"]) == {"3", "4"}


def test_multi_objective_costs_and_list_entries(runs, tmp_path):
    """Costs as lists with named objectives, and the older list-per-entry layout."""
    run = shutil.copytree(runs[0], tmp_path / "mo")
    history = _history(run)
    fields = ("config_id", "instance", "seed", "budget", "cost", "time", "status",
              "starttime", "endtime", "additional_info")
    data = []
    for e in history["data"]:
        e = dict(e, cost=[e["cost"], e["time"]])
        data.append([e[f] for f in fields])
    history["data"] = data
    (run / "runhistory.json").write_text(json.dumps(history))
    scenario = json.loads((run / "scenario.json").read_text())
    scenario["objectives"] = ["error", "runtime"]
    (run / "scenario.json").write_text(json.dumps(scenario))
    table = load_trials(str(run))
    assert table.responses == ["error", "runtime"]
    assert len(table) == sum(1 for e in data if e[6] == 1)


def test_entry_for_unknown_config_names_the_row(runs, tmp_path):
    run = shutil.copytree(runs[0], tmp_path / "bad")
    history = _history(run)
    history["data"][4]["config_id"] = 999
    history["data"][4]["status"] = 1
    (run / "runhistory.json").write_text(json.dumps(history))
    with pytest.raises(InputError, match="config id 999") as info:
        load_trials(str(run))
    assert info.value.row == 5


def test_a_hyperparameter_named_like_a_smac_field(tmp_path):
    """A space with ``budget`` and ``seed`` hyperparameters: SMAC's own fields step aside."""
    cs = CS.ConfigurationSpace(seed=0)
    cs.add([CS.Float("budget", (1.0, 10.0)), CS.Integer("seed", (0, 100)),
            CS.Float("lr", (1e-4, 1e-1), log=True)])

    def train(config, seed: int = 0) -> float:
        return float(np.log10(config["lr"]) ** 2 + config["budget"] / 10)

    scenario = smac.Scenario(cs, deterministic=True, n_trials=12, seed=1,
                             output_directory=tmp_path / "out", name="clash")
    smac.HyperparameterOptimizationFacade(scenario, train, overwrite=True,
                                          logging_level=40).optimize()
    table = load_trials(str(tmp_path / "out" / "clash" / "1"))
    assert table.hyperparameters == ["budget", "lr", "seed"]
    assert "smac_seed" in table.frame.columns  # (no budgets here: that column is dropped)
    assert table.frame["budget"].between(1.0, 10.0).all()
