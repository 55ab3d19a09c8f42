"""Right answers on a sweep that is not ours: directions, roles, no silent defaults.

The sweep (tests/user_sweep.py) has a ``model`` column instead of ``variant``, a maximised
``test_acc``, a ``val_loss`` to pick the top runs, ``runtime_s`` as the time, a
categorical optimizer, NaN metrics and DataFrame.to_csv's unnamed index column.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from user_sweep import user_sweep, write_user_sweep

from odyssey_analysis import InputError, TrialTable, load_trials
from odyssey_analysis.cli import main
from odyssey_analysis.compare import compare
from odyssey_analysis.roles import direction_from_name

FAST = ["--trees", "8", "--jobs", "1", "--bootstrap", "0"]


@pytest.fixture(scope="module")
def sweep_csv(tmp_path_factory):
    return write_user_sweep(tmp_path_factory.mktemp("user") / "sweep.csv")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.parametrize("name, direction", [
    ("test_acc", "maximize"), ("val_loss", "minimize"), ("runtime_s", "minimize"),
    ("f1_macro", "maximize"), ("valLoss", "minimize"), ("mAP", "maximize"),
    ("neg_log_likelihood", "minimize"), ("neg_mean_squared_error", "maximize"),
    ("bleu4", "maximize"), ("top1_err", "minimize"), ("value", None), ("y", None),
    ("error_reward", None),
])
def test_direction_from_the_name(name, direction):
    assert direction_from_name(name) == direction


def test_directions_declared_recorded_inferred_and_unknown():
    frame = user_sweep(n_per=5).assign(score_x=1.0, y=np.arange(20.0))
    table = TrialTable.from_frame(frame, responses=["test_acc", "val_loss", "y"],
                                  group_by=["task", "model"], minimize=["test_acc"],
                                  directions={"val_loss": "maximize"})
    assert table.directions == {"test_acc": "minimize", "val_loss": "maximize"}
    assert table.direction_origins == {"test_acc": "declared",
                                       "val_loss": "recorded by the source"}
    with pytest.raises(InputError, match=r"column 'y'.*maximize=\['y'\] or minimize=\['y'\]"):
        table.direction("y", needed_for="the comparison")
    plain = TrialTable.from_frame(frame, responses=["test_acc"], group_by=["task"])
    assert plain.directions == {"test_acc": "maximize"}
    assert plain.direction_origins == {"test_acc": "inferred from the name"}
    with pytest.raises(InputError, match="both maximised and minimised"):
        TrialTable.from_frame(frame, responses=["test_acc"], maximize=["test_acc"],
                              minimize=["test_acc"])


def test_info_says_which_way_is_better_and_drops_the_index_column(sweep_csv):
    result = run("info", sweep_csv)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "higher is better" in flat and "lower is better" in flat
    assert "inferred from the" in flat
    assert "Unnamed" not in flat
    assert "row index" in flat
    assert "--variant-key" in flat  # no column named 'variant': how to name one


def test_accuracy_and_its_mirror_give_the_same_tests_with_opposite_wording():
    frame = user_sweep(n_per=30)
    mirror = frame.assign(test_err=1 - frame.test_acc, val_acc=np.exp(-frame.val_loss))
    acc = compare(TrialTable.from_frame(frame, responses=["test_acc", "val_loss"],
                                        group_by=["task", "model"]),
                  metric="test_acc", select_by="val_loss", variant_key="model",
                  reference="resnet", top_fraction=0.2)
    err = compare(TrialTable.from_frame(mirror, responses=["test_err", "val_acc"],
                                        group_by=["task", "model"]),
                  metric="test_err", select_by="val_acc", variant_key="model",
                  reference="resnet", top_fraction=0.2)
    assert acc.maximize and not err.maximize
    assert not acc.select_maximize and err.select_maximize
    np.testing.assert_allclose(acc.table.p_value.fillna(-1), err.table.p_value.fillna(-1),
                               rtol=1e-12)
    assert acc.trials.index[acc.trials._top].tolist() == err.trials.index[err.trials._top
                                                                          ].tolist()
    assert list(acc.table.direction) == list(err.table.direction)
    lstm = acc.table[acc.table.variant == "lstm"]
    assert (lstm.direction == "worse").all()  # resnet is better by construction
    np.testing.assert_allclose(acc.table.top_mean, 1 - err.table.top_mean, rtol=1e-12)


def test_compare_picks_the_best_runs_by_the_selection_columns_own_direction(sweep_csv,
                                                                            tmp_path):
    result = run("compare", sweep_csv, "--metric", "test_acc", "--select-by", "val_loss",
                 "--variant-key", "model", "--reference", "resnet", "--top", "0.2",
                 "--out", tmp_path / "cmp")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    frame = user_sweep().dropna(subset=["val_loss"])
    for task in ("cifar", "imdb"):
        for model in ("resnet", "lstm"):
            rows = frame[(frame.task == task) & (frame.model == model)]
            best = rows.nsmallest(int(np.ceil(0.2 * len(rows))), "val_loss")
            got = table[(table.task == task) & (table.variant == model)].iloc[0]
            assert got.top_mean == pytest.approx(best.test_acc.mean(), rel=1e-12)
    assert (table.loc[table.variant == "lstm", "direction"] == "worse").all()
    flat = " ".join(result.output.split())
    assert "lstm worse" in flat and "higher is better" in flat


def test_compare_on_the_compared_column_itself_is_a_warning(sweep_csv, tmp_path):
    result = run("compare", sweep_csv, "--metric", "test_acc", "--select-by", "test_acc",
                 "--variant-key", "model", "--reference", "resnet", "--out", tmp_path / "c")
    assert result.exit_code == 0, result.output
    assert "picked by the compared column itself" in " ".join(result.output.split())


def test_report_takes_every_role_and_states_its_defaults(sweep_csv, tmp_path):
    out = tmp_path / "report"
    result = run("report", sweep_csv, "--variant-key", "model", "--reference", "resnet",
                 "--out", out, "--quiet", *FAST)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "default: metric: test_acc (the first test metric" in flat
    assert "default: top runs picked by: val_loss" in flat
    assert "default: training time (Fig. 4, right axis): runtime_s" in flat
    assert "no parameter-count column" in flat
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == sorted(["variants_test_acc.png", "marginals_resnet.png",
                              "marginals_lstm.png", "fractions_resnet.png",
                              "fractions_lstm.png", "interactions_cifar_resnet.png",
                              "interactions_imdb_resnet.png"])
    analysis = json.loads((out / "analysis.json").read_text())
    assert analysis["group_keys"] == ["task", "model"]
    assert "model" not in analysis["space"]["hyperparameters"]
    roles = analysis["report_settings"]["roles"]
    assert (roles["variant"], roles["reference"], roles["metric"], roles["select_by"],
            roles["time"]) == ("model", "resnet", "test_acc", "val_loss", "runtime_s")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Default: metric: test_acc" in page
    assert "test_acc: higher is better" in page
    assert "Grey bars" not in page  # no parameter column: no caption about bars
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison.variant) == {"resnet", "lstm"}


def test_report_without_a_variant_column_says_so(sweep_csv, tmp_path):
    out = tmp_path / "r"
    result = run("report", sweep_csv, "--out", out, "--quiet", *FAST)
    assert result.exit_code == 0, result.output
    assert "no variant column" in " ".join(result.output.split())
    assert not (out / "comparison.csv").exists()
    assert "no variant column" in (out / "index.html").read_text(encoding="utf-8")


def test_the_column_spec_names_the_roles(sweep_csv, tmp_path):
    spec = tmp_path / "roles.yaml"
    spec.write_text("group_by: [task]\nvariant: model\nreference: resnet\nmetric: test_acc\n"
                    "select_by: val_loss\ntime: runtime_s\n")
    result = run("report", sweep_csv, "--columns", spec, "--out", tmp_path / "r", "--quiet",
                 *FAST)
    assert result.exit_code == 0, result.output
    assert "default:" not in result.output
    assert (tmp_path / "r" / "figures" / "variants_test_acc.png").is_file()


def test_every_default_of_compare_is_named_and_a_missing_direction_asks(tmp_path):
    frame = user_sweep(n_per=12).rename(columns={"test_acc": "quality"})
    path = tmp_path / "q.csv"
    frame.to_csv(path, index=False)
    result = run("compare", path, "--response", "quality", "--response", "val_loss",
                 "--metric", "quality", "--variant-key", "model", "--out", tmp_path / "c")
    assert result.exit_code == 2
    assert "--maximize quality or --minimize quality" in result.output
    result = run("compare", path, "--response", "quality", "--response", "val_loss",
                 "--maximize", "quality", "--metric", "quality", "--variant-key", "model",
                 "--out", tmp_path / "c")
    assert result.exit_code == 0, result.output
    assert "reference variant: lstm (the first" in " ".join(result.output.split())


def test_choosing_one_response_keeps_the_bundled_column_spec_working(tmp_path):
    from odyssey_analysis.report import bundled_table

    if not bundled_table().is_file():
        pytest.skip("bundled study not present")
    result = run("analyze", bundled_table(), "--response", "test_error", "--trees", "2",
                 "--no-pairs", "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    importance = pd.read_csv(tmp_path / "a" / "importance.csv")
    assert set(importance.response) == {"test_error"}
    both = load_trials(bundled_table())
    one = load_trials(bundled_table(), responses=["test_error"])
    assert one.excluded_counts() == both.excluded_counts()
    assert len(one) == len(both)


def test_other_metrics_are_not_hyperparameters_when_one_response_is_chosen(sweep_csv,
                                                                          tmp_path):
    table = load_trials(sweep_csv, responses=["test_acc"])
    assert "val_loss" not in table.hyperparameters
    assert "runtime_s" not in table.hyperparameters
    assert set(table.hyperparameters) == {"model", "lr", "batch_size", "dropout", "optimizer"}
    assert any("val_loss" in note and "not analysed" in note for note in table.notes)
    out = tmp_path / "out"
    result = run("analyze", sweep_csv, "--response", "test_acc", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    effects = set(pd.read_csv(out / "importance.csv")["effect"])
    assert "val_loss" not in effects and "runtime_s" not in effects
