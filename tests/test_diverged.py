"""Diverged runs: non-finite metrics, diverged statuses and divergence thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import InputError, TrialTable, load_trials


def frame():
    return pd.DataFrame({
        "task": ["music"] * 6 + ["speech"] * 3,
        "lr": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.1, 0.2, 0.3],
        "test_error": [9.0, 10.0, 12.0, 6e5, np.nan, 11.0, 0.2, 0.9, 0.3],
        "acc": [0.5, 0.6, 0.7, 0.1, 0.2, 0.8, 0.9, 0.3, 0.95],
    })


def build(**kwargs):
    return TrialTable.from_frame(frame(), hyperparameters=["lr"], group_by=["task"],
                                 **kwargs)


def test_threshold_drops_exploded_runs_with_their_reason():
    table = build(responses=["test_error"], diverged_threshold={"test_error": 37.4})
    assert table.excluded_counts() == {"diverged (non-finite metric)": 1,
                                       "diverged (test_error above 37.4)": 1}
    assert list(table.frame.index) == [1, 2, 3, 6, 7, 8, 9]


def test_worst_policy_uses_the_worst_healthy_run_of_the_group():
    table = build(responses=["test_error"], diverged_threshold={"test_error": 37.4},
                  on_diverged="worst")
    music = table.frame[table.frame.task == "music"]["test_error"].tolist()
    assert music == [9.0, 10.0, 12.0, 12.0, 12.0, 11.0]
    speech = table.frame[table.frame.task == "speech"]["test_error"].tolist()
    assert speech == [0.2, 0.9, 0.3]
    assert any("2 diverged run(s)" in note for note in table.notes)


def test_threshold_for_a_maximised_response_is_a_floor():
    table = build(responses=["acc"], maximize=["acc"], diverged_threshold={"acc": 0.25},
                  on_diverged="worst")
    music = table.frame[table.frame.task == "music"]["acc"].tolist()
    assert music == [0.5, 0.6, 0.7, 0.5, 0.5, 0.8]


def test_error_policy_names_row_and_column():
    with pytest.raises(InputError, match=r"row 4, column 'test_error'.*above 37.4"):
        build(responses=["test_error"], diverged_threshold={"test_error": 37.4},
              on_diverged="error")


def test_threshold_on_a_column_that_is_not_a_response():
    with pytest.raises(InputError, match="'lr'"):
        build(responses=["test_error"], diverged_threshold={"lr": 1.0})


def test_column_spec_next_to_the_table_is_picked_up(tmp_path):
    path = tmp_path / "sweep.csv"
    frame().to_csv(path, index=False)
    (tmp_path / "sweep.columns.yaml").write_text(
        "group_by: [task]\nresponses: [test_error]\nhyperparameters: [lr]\n"
        "on_diverged: worst\ndiverged_threshold: {test_error: 37.4}\n")
    table = load_trials(path)
    assert table.responses == ["test_error"]
    assert table.diverged_policy == "worst"
    assert table.frame["test_error"].max() == 12.0
    assert "column roles from sweep.columns.yaml" in table.notes
    # Arguments beat the spec file.
    dropped = load_trials(path, on_diverged="drop")
    assert len(dropped) == 7


def test_bundled_study_keeps_the_columns_the_comparison_uses():
    from odyssey_analysis.report import bundled_table

    table = load_trials(bundled_table())
    assert {"n_params", "metric"} <= set(table.frame.columns)
    assert len(table) == 5400
