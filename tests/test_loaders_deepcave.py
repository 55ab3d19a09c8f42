"""DeepCAVE recorder folders: real runs from the DeepCAVE repository (tests/data/deepcave)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import detect_format, load_trials
from odyssey_analysis.loaders.deepcave import read_deepcave

DATA = Path(__file__).parent / "data" / "deepcave"
MNIST = DATA / "mnist_pytorch" / "run_1"
DIGITS = DATA / "digits_sklearn" / "run_1"


def _history(run):
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()
            if line.strip()]


def test_mnist_run_space_objectives_budgets_and_crashes():
    history = _history(MNIST)
    crashed = sum(1 for h in history if h[6] == 4)
    assert crashed > 0
    assert detect_format(str(MNIST)) == "deepcave"
    table = load_trials(str(MNIST))
    assert len(table) == len(history) - crashed
    assert table.excluded_counts() == {"crashed": crashed}
    assert table.responses == ["accuracy", "loss", "time"]
    assert table.group_keys == ["budget"]
    assert sorted(table.frame["budget"].unique()) == pytest.approx([8 / 3, 16 / 3, 8.0])
    assert set(table.frame["seed"]) == {-1}
    space = table.space
    assert space.names == table.hyperparameters
    assert space["learning_rate"].scale == "log"
    assert space["model"].choices == ("mlp", "cnn")
    assert space["num_neurons_layer1"].conditional and space["num_neurons_layer2"].conditional
    assert not space["batch_size"].conditional
    cnn = table.frame["model"] == "cnn"
    assert cnn.any() and table.frame.loc[cnn, "num_neurons_layer1"].isna().all()
    assert table.frame.loc[~cnn, "num_neurons_layer1"].notna().all()
    encoded = table.resolve_space().encode(table.frame)
    assert np.isfinite(encoded).all() and encoded.min() >= 0 and encoded.max() <= 1
    # One evaluation, checked against the files.
    configs = json.loads((MNIST / "configs.json").read_text())
    first = history[0]
    row = table.frame.loc[1]
    assert row["config_id"] == first[0] and row["budget"] == first[1]
    assert row["accuracy"] == first[3][0] and row["loss"] == first[3][1]
    assert row["learning_rate"] == configs[str(first[0])]["learning_rate"]
    assert read_deepcave(str(MNIST)).maximize == ["accuracy"]


def test_budget_option_keeps_one_budget():
    full = load_trials(str(MNIST))
    top = load_trials(str(MNIST), budget="max")
    assert top.group_keys == []
    assert set(top.frame["budget"]) == {8.0}
    assert len(top) == int((full.frame["budget"] == 8.0).sum())
    history = [json.loads(line) for line in (MNIST / "history.jsonl").read_text().splitlines()]
    at_top = [h for h in history if h[1] == 8.0]
    # The budget is chosen first (as DeepCAVE does), then failed runs are counted.
    assert top.excluded_counts() == {"other budget (not selected)": len(history) - len(at_top),
                                     "crashed": sum(h[6] == 4 for h in at_top)}
    low = load_trials(str(MNIST), budget=2.6666666666666665)
    assert set(low.frame["budget"]) == {8 / 3}
    with pytest.raises(InputError, match="no trials at budget 3") as info:
        load_trials(str(MNIST), budget=3)
    assert "budgets present: 2.66667, 5.33333, 8" in str(info.value)


def test_digits_run_has_ten_budgets_and_no_crashes():
    table = load_trials(str(DIGITS))
    assert len(table) == len(_history(DIGITS))
    assert table.n_excluded == 0
    assert table.frame["budget"].nunique() == 10
    assert table.responses == ["accuracy", "time"]
    table.resolve_space()


def test_parent_folder_of_runs_groups_by_run(tmp_path):
    for name in ("run_a", "run_b"):
        shutil.copytree(MNIST, tmp_path / "study" / name)
    single = load_trials(str(MNIST))
    table = load_trials(str(tmp_path / "study"))
    assert table.group_keys == ["run", "budget"]
    assert table.frame["run"].value_counts().to_dict() == {"run_a": len(single),
                                                           "run_b": len(single)}
    assert table.n_excluded == 2 * single.n_excluded


def test_runs_with_different_spaces_are_refused(tmp_path):
    shutil.copytree(MNIST, tmp_path / "mixed" / "a")
    shutil.copytree(DIGITS, tmp_path / "mixed" / "b")
    with pytest.raises(InputError, match="search space differs"):
        load_trials(str(tmp_path / "mixed"))


def test_recorder_without_seeds_is_read(tmp_path):
    run = shutil.copytree(DIGITS, tmp_path / "old")
    lines = [h[:2] + h[3:] for h in _history(DIGITS)]
    (run / "history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in lines))
    table = load_trials(str(run))
    assert "seed" not in table.frame.columns
    assert len(table) == len(lines)


def test_broken_history_line_names_file_and_row(tmp_path):
    run = shutil.copytree(DIGITS, tmp_path / "broken")
    lines = (run / "history.jsonl").read_text().splitlines()
    lines[6] = lines[6][:25]
    (run / "history.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        load_trials(str(run))
    assert info.value.row == 7 and str(info.value).startswith(str(run / "history.jsonl"))


def test_unknown_config_id_is_an_input_error(tmp_path):
    run = shutil.copytree(DIGITS, tmp_path / "unknown")
    lines = (run / "history.jsonl").read_text().splitlines()
    entry = json.loads(lines[2])
    entry[0] = 99999
    lines[2] = json.dumps(entry)
    (run / "history.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="config id 99999") as info:
        load_trials(str(run))
    assert info.value.row == 3


def test_cli_analyze_a_recorder_folder(tmp_path):
    cli = pytest.importorskip("odyssey_analysis.cli")
    from click.testing import CliRunner

    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, [
        "analyze", str(MNIST), "--option", "budget=max", "--response", "accuracy",
        "--trees", "4", "--no-pairs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    importance = pd.read_csv(out / "importance.csv")
    mains = importance[importance["order"].astype(str) == "1"]
    assert set(mains["param_a"]) == set(load_trials(str(MNIST)).hyperparameters)
    assert (mains["n_trials"] == len(load_trials(str(MNIST), budget="max"))).all()


def test_crashed_runs_at_the_worst_value_as_deepcave_counts_them():
    """``on_crashed="worst"`` gives each crashed run what DeepCAVE's ``_process_costs``
    gives it: the objective's worst value, its upper bound when minimised and its lower
    bound when maximised (from meta.json); checked against the log read here directly."""
    history = [json.loads(line) for line in (MNIST / "history.jsonl").read_text().splitlines()]
    meta = json.loads((MNIST / "meta.json").read_text())
    worst = [o["lower"] if o["optimize"] == "upper" else o["upper"]
             for o in meta["objectives"]]
    table = load_trials(str(MNIST), budget="max", on_crashed="worst")
    top = max(h[1] for h in history)
    expected = {}
    for line, (_, budget, _, costs, *_rest) in enumerate(history, start=1):
        if budget == top:
            expected[line] = [w if c is None else c for c, w in zip(costs, worst)]
    assert sorted(table.frame.index) == sorted(expected)
    names = [o["name"] for o in meta["objectives"]]
    got = table.frame[names]
    for line, costs in expected.items():
        np.testing.assert_allclose(got.loc[line].to_numpy(dtype=float), costs, rtol=0,
                                   atol=0)
    assert table.crashed_policy == "worst"
    assert any("failed run(s) kept" in note for note in table.notes)
    dropped = load_trials(str(MNIST), budget="max")
    n_crashed = sum(1 for h in history if h[1] == top and h[6] == 4)
    assert len(table) - len(dropped) == n_crashed
    assert dropped.excluded_counts()["crashed"] == n_crashed


def test_counting_crashes_moves_the_importance_as_in_deepcave():
    """On these logs DeepCAVE's treatment of the crashed runs raises dropout's share of the
    loss from about 2 % to about 13 % (measured: 1.7 % and 13.5 %, 32 trees, seed 0)."""
    from odyssey_analysis import analyze
    from odyssey_analysis.methods import method_from_options

    shares = {}
    for policy in ("drop", "worst"):
        table = load_trials(str(MNIST), budget="max", on_crashed=policy, responses=["loss"])
        fit = next(iter(analyze(table, method_from_options(n_trees=32, seed=0), n_jobs=1)))
        shares[policy] = float(fit.main_fraction().mean["dropout_rate"])
    assert shares["drop"] < 0.04
    assert shares["worst"] > 0.09
