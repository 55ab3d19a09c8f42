"""Every run format DeepCAVE reads: its DataFrame runs, BOHB, AMLTK and SMAC 1.x.

The logs under tests/data/deepcave are real runs from DeepCAVE's repository (see
NOTICE.md there); the tests check what each reader finds against the files themselves.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.design import assess_design
from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import detect_format, load_trials
from odyssey_analysis.loaders._common import metric_column
from odyssey_analysis.roles import direction_from_name

DATA = Path(__file__).parent / "data" / "deepcave"
FRAME_RUN = DATA / "DataFrame" / "run_1"
BOHB_RUN = DATA / "BOHB" / "run_1"
SMAC1_RUN = DATA / "SMAC3v1" / "mlp" / "run_1"
AMLTK_RUN = DATA / "AMLTK" / "smac_optimizer_mf" / "run_1"


@pytest.mark.parametrize("column, parsed", [
    ("metric:normal [0.0; 1.0] (maximize)", ("normal", 0.0, 1.0, "maximize")),
    ("metric:accuracy [0.0, 1.0] (maximize)", ("accuracy", 0.0, 1.0, "maximize")),
    ("metric:loss [0; inf] (minimize)", ("loss", 0.0, float("inf"), "minimize")),
    ("metric:cost [-inf, 5] (minimise)", ("cost", float("-inf"), 5.0, "minimize")),
    ("metric_loss", None), ("accuracy", None),
])
def test_metric_columns(column, parsed):
    assert metric_column(column) == parsed


def test_a_stated_direction_wins_over_the_words():
    assert direction_from_name("metric:error [0; 1] (maximize)") == "maximize"
    assert direction_from_name("metric:accuracy [0; 1] (minimize)") == "minimize"


# -- DataFrame runs --------------------------------------------------------------------------

def test_dataframe_run():
    assert detect_format(str(FRAME_RUN)) == "deepcave-dataframe"
    assert detect_format(str(FRAME_RUN / "trials.csv")) == "deepcave-dataframe"
    table = load_trials(str(FRAME_RUN))
    raw = pd.read_csv(FRAME_RUN / "trials.csv")
    assert len(table) == len(raw) == 20
    assert table.hyperparameters == ["alpha", "batch_size", "depth", "learning_rate_init"]
    assert table.responses == ["normal"]
    assert table.directions == {"normal": "maximize"}
    assert table.direction_origins == {"normal": "recorded by the source"}
    np.testing.assert_array_equal(table.frame["normal"],
                                  raw["metric:normal [0.0; 1.0] (maximize)"])
    assert table.bookkeeping == {"config_id": "id", "start_time": "timestamp",
                                 "end_time": "timestamp", "budget": "budget",
                                 "seed": "seed", "additional": "empty"}
    space = table.resolve_space()
    assert space.origin == "DeepCAVE configspace.csv"
    assert space["batch_size"].scale == "log" and space["batch_size"].lower == 4
    assert space["depth"].kind == "int" and space["depth"].scale == "linear"


def test_dataframe_space_can_be_declined():
    table = load_trials(str(FRAME_RUN), space="none")
    assert table.hyperparameters == ["alpha", "batch_size", "depth", "learning_rate_init"]
    space = table.resolve_space()
    assert space.origin == "inferred from the data"
    assert any("declined (--space none)" in n for n in table.notes)


def _copy_run(tmp_path: Path, source: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def test_dataframe_statuses_and_budgets(tmp_path):
    run = _copy_run(tmp_path, FRAME_RUN, "run")
    frame = pd.read_csv(run / "trials.csv")
    frame["budget"] = np.tile([10, 30], 10)
    frame.loc[[1, 2], "status"] = ["NOT_EVALUATED", "crashed"]
    frame.loc[2, "metric:normal [0.0; 1.0] (maximize)"] = np.nan
    frame.to_csv(run / "trials.csv", index=False)
    table = load_trials(str(run))
    assert table.group_keys == ["budget"]
    assert table.excluded_counts() == {"not evaluated": 1, "crashed": 1}
    kept = load_trials(str(run), on_crashed="worst")
    worst = kept.frame.loc[kept.frame["status"] == "crashed", "normal"]
    assert worst.tolist() == [0.0]  # the objective's lower bound: it is maximised
    top = load_trials(str(run), budget="max")
    assert set(top.frame["budget"]) == {30} and top.group_keys == []


def test_dataframe_space_errors_name_row_and_column(tmp_path):
    run = _copy_run(tmp_path, FRAME_RUN, "run")
    text = (run / "configspace.csv").read_text().replace(
        "depth,integer,False,1.0,3.0,3.0,uniform", "depth,integer,False,1.0,3.0,3.0,normal")
    (run / "configspace.csv").write_text(text)
    with pytest.raises(InputError, match=r"configspace.csv, row 3, column 'depth': a normal"):
        load_trials(str(run))


# -- BOHB --------------------------------------------------------------------------------------

def test_bohb_run():
    assert detect_format(str(BOHB_RUN)) == "bohb"
    table = load_trials(str(BOHB_RUN))
    lines = (BOHB_RUN / "results.json").read_text().splitlines()
    results = [json.loads(line) for line in lines if line.strip()]
    assert len(table) == len(results)
    assert table.hyperparameters == ["x"] and table.responses == ["loss"]
    assert table.directions == {"loss": "minimize"}
    budgets = sorted({r[1] for r in results})
    assert table.group_keys == ["budget"]
    assert sorted(table.frame["budget"].unique()) == budgets
    np.testing.assert_allclose(table.frame["loss"], [r[3]["loss"] for r in results])
    picks = [json.loads(line)[2]["model_based_pick"]
             for line in (BOHB_RUN / "configs.json").read_text().splitlines() if line]
    assert table.design.startswith("model-based")
    assert f"picked {int(table.frame['model_based_pick'].sum())}" in table.design
    assert any(picks)
    design = assess_design(table, table.resolve_space())
    assert design["kind"] == "model-based" and "not a random sample" in design["meaning"]
    top = load_trials(str(BOHB_RUN), budget="max")
    assert set(top.frame["budget"]) == {max(budgets)}


# -- SMAC 1.x ----------------------------------------------------------------------------------

def test_smac_1_run():
    assert detect_format(str(SMAC1_RUN)) == "smac"
    table = load_trials(str(SMAC1_RUN))
    history = json.loads((SMAC1_RUN / "runhistory.json").read_text())
    assert len(table) == len(history["data"]) == 20
    assert table.hyperparameters == ["alpha", "batch_size", "depth", "learning_rate_init"]
    assert table.responses == ["cost"]
    np.testing.assert_allclose(table.frame["cost"], [e[1][0] for e in history["data"]])
    first = history["configs"]["1"]
    row = table.frame.iloc[0]
    assert {k: row[k] for k in first} == pytest.approx(first)
    assert table.design.startswith("model-based: SMAC's model chose")
    assert "Local Search" in table.design


# -- AMLTK -------------------------------------------------------------------------------------

def test_amltk_run():
    pytest.importorskip("pyarrow")
    assert detect_format(str(AMLTK_RUN)) == "amltk"
    table = load_trials(str(AMLTK_RUN))
    history = pd.read_parquet(AMLTK_RUN / "history.parquet")
    assert len(table) == len(history)
    assert table.hyperparameters == ["RandomForestClassifier:max_samples",
                                     "RandomForestClassifier:n_estimators"]
    assert table.responses == ["accuracy"]
    assert table.directions == {"accuracy": "maximize"}
    # The budget is read from the trial names (..._budget=11.11..._instance=None).
    assert table.group_keys == ["budget"]
    assert sorted(table.frame["budget"].round(2).unique()) == [11.11, 33.33, 100.0]
    assert table.bookkeeping["trial_seed"] == "seed"
    assert table.bookkeeping["created_at"] == "timestamp"
    top = load_trials(str(AMLTK_RUN), budget="max")
    assert set(top.frame["budget"]) == {100.0}


def test_a_recorded_space_can_be_declined_for_explicit_columns():
    pytest.importorskip("pyarrow")
    params = ["RandomForestClassifier:max_samples"]
    with pytest.raises(InputError, match="not in the search space"):
        load_trials(str(AMLTK_RUN), hyperparameters=[*params, "trial_seed"])
    table = load_trials(str(AMLTK_RUN), space="none", hyperparameters=[*params, "trial_seed"],
                        responses=["accuracy"])
    assert table.hyperparameters == [*params, "trial_seed"]
    assert table.resolve_space().origin == "inferred from the data"


# -- an unknown layout -------------------------------------------------------------------------

def test_unknown_layout_names_what_was_found_and_what_is_read(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.json").write_text("[]\n")
    (folder / "notes.txt").write_text("x")
    with pytest.raises(InputError) as info:
        detect_format(str(folder))
    text = str(info.value)
    assert "found: notes.txt, results.json" in text
    assert "bohb: results.json, configs.json, configspace.json" in text
    assert "deepcave-dataframe: trials.csv, configspace.csv" in text


def test_a_configspace_csv_beside_any_table_is_its_space(tmp_path):
    shutil.copy(FRAME_RUN / "configspace.csv", tmp_path / "configspace.csv")
    pd.read_csv(FRAME_RUN / "trials.csv").to_csv(tmp_path / "export.csv", index=False)
    table = load_trials(str(tmp_path / "export.csv"))
    assert table.hyperparameters == ["alpha", "batch_size", "depth", "learning_rate_init"]
    space = table.resolve_space()
    assert space["batch_size"].scale == "log" and space["batch_size"].lower == 4
    assert table.directions == {"metric:normal [0.0; 1.0] (maximize)": "maximize"}
    declined = load_trials(str(tmp_path / "export.csv"), space="none")
    assert declined.resolve_space().origin == "inferred from the data"


def test_the_design_reaches_analysis_json():
    from odyssey_analysis import analyze, method_from_options

    smac = analyze(load_trials(str(SMAC1_RUN)),
                   method_from_options(n_trees=8, pairs=False, curves=False))
    design = smac.to_dict()["table"]["design"]
    assert design["kind"] == "model-based" and "Local Search" in design["evidence"]
    assert any(n.startswith("design: model-based") for n in smac.to_dict()["table"]["notes"])
    frame = pd.DataFrame([(a, b) for a in (0.1, 0.2, 0.3) for b in (1, 10, 100)] * 2,
                         columns=["a", "b"])
    frame["loss"] = frame["a"] + np.log10(frame["b"]) + np.arange(len(frame)) % 2 * 0.01
    grid = analyze(load_trials_frame(frame),
                   method_from_options(n_trees=8, pairs=False, curves=False))
    design = grid.to_dict()["table"]["design"]
    assert design["kind"] == "grid"
    assert design["evidence"].startswith("9 distinct configurations of the 9 the levels allow")
    assert "each run 2 times" in design["evidence"]


def load_trials_frame(frame: pd.DataFrame):
    from odyssey_analysis.trials import TrialTable

    return TrialTable.from_frame(frame)


def test_renamed_columns_can_be_named_as_the_source_names_them():
    pytest.importorskip("pyarrow")
    table = load_trials(str(AMLTK_RUN), hyperparameters=[
        "config:RandomForestClassifier:max_samples"],
        responses=["metric:accuracy [0.0, 1.0] (maximize)"])
    assert table.hyperparameters == ["RandomForestClassifier:max_samples"]
    assert table.responses == ["accuracy"]
    frame_run = load_trials(str(FRAME_RUN),
                            responses=["metric:normal [0.0; 1.0] (maximize)"])
    assert frame_run.responses == ["normal"]
