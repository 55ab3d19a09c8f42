"""Bookkeeping columns (ids, timestamps, seeds, budgets, durations, empty columns) are
never taken as hyperparameters or responses; a budget becomes a group or a filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import load_trials
from odyssey_analysis.report import bundled_table
from odyssey_analysis.roles import bookkeeping_kind
from odyssey_analysis.trials import TrialTable


@pytest.mark.parametrize("name, kind", [
    ("trial", "id"), ("trial_id", "id"), ("config_id", "id"), ("runId", "id"),
    ("number", "id"), ("Unnamed: 0", "row index"),
    ("start_time", "timestamp"), ("end_time", "timestamp"), ("starttime", "timestamp"),
    ("datetime_complete", "timestamp"), ("created_at", "timestamp"), ("date", "timestamp"),
    ("seed", "seed"), ("data_seed", "seed"), ("random_state", "seed"),
    ("budget", "budget"), ("fidelity", "budget"), ("deepcave_budget", "budget"),
    ("duration", "duration"), ("time_total_s", "duration"),
    ("epochs", "progress counter"), ("training_iteration", "progress counter"),
    ("status", "run record"), ("additional", "run record"), ("instance", "run record"),
    # Settings and metrics are not bookkeeping.
    ("learning_rate", None), ("end_learning_rate", None), ("start_lr_factor", None),
    ("batch_size", None), ("train_time", None), ("valid_error", None), ("n_layer", None),
])
def test_bookkeeping_kind_by_name(name, kind):
    assert bookkeeping_kind(name) == kind


def test_an_empty_column_is_bookkeeping():
    assert bookkeeping_kind("extra", pd.Series([np.nan] * 3)) == "empty"
    assert bookkeeping_kind("extra", pd.Series([1.0, np.nan])) is None


def _deepcave_like(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "config_id": np.arange(n) // 3, "budget": np.tile([11, 33, 100], n // 3),
        "lr": 10 ** rng.uniform(-4, -1, n), "batch_size": rng.choice([16, 32, 64], n),
        "accuracy": rng.uniform(0.5, 0.9, n), "start_time": np.arange(n) * 10.0,
        "end_time": np.arange(n) * 10.0 + 5, "additional": np.nan, "seed": 0})


def test_bookkeeping_is_reported_and_the_budget_is_a_group():
    table = TrialTable.from_frame(_deepcave_like())
    assert table.hyperparameters == ["lr", "batch_size"]
    assert table.responses == ["accuracy"]
    assert table.group_keys == ["budget"]
    assert table.bookkeeping == {"config_id": "id", "start_time": "timestamp",
                                 "end_time": "timestamp", "additional": "empty",
                                 "seed": "seed"}
    assert any("budget with 3 values (11, 33, 100)" in n and "--budget max" in n
               for n in table.notes)


def test_given_groups_leave_the_budget_alone():
    table = TrialTable.from_frame(_deepcave_like(), group_by=[])
    assert table.group_keys == []
    assert table.bookkeeping["budget"] == "budget"
    assert "budget" not in table.hyperparameters


def test_budget_filter(tmp_path):
    path = tmp_path / "trials.csv"
    _deepcave_like().to_csv(path, index=False)
    top = load_trials(str(path), budget="max")
    assert len(top) == 20 and set(top.frame["budget"]) == {100}
    assert top.group_keys == []
    assert top.excluded_counts() == {"other budget (not selected)": 40}
    assert any("budget = 100 (--budget max)" in n for n in top.notes)
    assert set(load_trials(str(path), budget=33).frame["budget"]) == {33}
    with pytest.raises(InputError, match="no trials at budget 7.*11, 33, 100"):
        load_trials(str(path), budget=7)
    no_budget = tmp_path / "plain.csv"
    _deepcave_like().drop(columns=["budget"]).to_csv(no_budget, index=False)
    with pytest.raises(InputError, match="no column is a budget"):
        load_trials(str(no_budget), budget="max")


def test_trial_ids_count_within_task_and_variant():
    # The bundled study numbers its trials per task and variant; grouping by task
    # alone must not make them duplicates.
    table = load_trials(str(bundled_table()), group_by=["task"])
    assert table.group_keys == ["task"] and table.id_column == "trial"


@pytest.mark.parametrize("value", ["null", "''", "none", "false"])
def test_a_spec_can_say_there_is_no_id(tmp_path, value):
    path = tmp_path / "runs.csv"
    pd.DataFrame({"trial": [0, 0, 1, 1], "lr": [0.1, 0.2, 0.3, 0.4],
                  "loss": [1.0, 2.0, 3.0, 4.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="duplicated trial id 0"):
        load_trials(str(path))
    spec = tmp_path / "runs.columns.yaml"
    spec.write_text(f"id: {value}\n")
    table = load_trials(str(path))
    assert table.id_column is None and len(table) == 4


def test_info_lists_the_bookkeeping_and_the_budget(tmp_path):
    from click.testing import CliRunner

    from odyssey_analysis.cli import main

    path = tmp_path / "trials.csv"
    _deepcave_like().to_csv(path, index=False)
    runner = CliRunner()
    shown = runner.invoke(main, ["info", str(path)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert ("not analysed: config_id (id), start_time (timestamp), end_time (timestamp), "
            "additional (empty), seed (seed)") in lines
    assert any("budget is a budget with 3 values (11, 33, 100)" in line for line in lines)
    assert "groups by budget: 3 groups, 20–20 trials each" in lines
    top = runner.invoke(main, ["info", str(path), "--budget", "max"])
    assert top.exit_code == 0, top.output
    assert f"{path}: 20 trials analysed, 40 excluded" in top.stdout.splitlines()
    clash = runner.invoke(main, ["info", str(path), "--budget", "max", "-O", "budget=11"])
    assert clash.exit_code == 2 and "disagree" in clash.stderr
