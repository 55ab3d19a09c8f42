"""Optuna's ``study.trials_dataframe()`` saved to a file, written by Optuna itself."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import detect_format, load_trials

optuna = pytest.importorskip("optuna")


def _study(directions=("minimize",), metric_names=None, n=40):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=list(directions),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    if metric_names:
        with warnings.catch_warnings():  # experimental in Optuna 3 and 4
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(list(metric_names))

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        opt = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        units = trial.suggest_int("units", 16, 256, log=True)
        trial.set_user_attr("val_accuracy", 0.9 - abs(np.log10(lr) + 3) / 10)
        trial.set_user_attr("note", "x")
        if trial.number % 13 == 5:
            raise optuna.TrialPruned()
        loss = (np.log10(lr) + 3) ** 2 + 0.1 * (opt == "sgd") + 0.001 * units
        return loss if len(directions) == 1 else (loss, -loss)

    study.optimize(objective, n_trials=n, catch=())
    return study


def test_a_saved_trials_dataframe_is_read_as_the_trials_it_describes(tmp_path):
    path = tmp_path / "trials.csv"
    _study().trials_dataframe().to_csv(path, index=False)
    assert detect_format(str(path)) == "optuna-table"
    table = load_trials(str(path))
    assert sorted(table.hyperparameters) == ["lr", "optimizer", "units"]
    assert table.responses == ["value", "val_accuracy"]
    assert table.excluded_counts() == {"status pruned": 3}
    assert len(table) == 37
    assert table.id_column == "number"
    space = table.resolve_space()
    assert space["lr"].scale == "log"
    assert space["optimizer"].kind == "categorical"


def test_several_objectives_keep_their_metric_names(tmp_path):
    path = tmp_path / "trials.tsv"
    frame = _study(("minimize", "maximize"), ("loss", "score")).trials_dataframe()
    frame.to_csv(path, index=False, sep="\t")
    table = load_trials(str(path))
    assert table.responses[:2] == ["loss", "score"]
    unnamed = tmp_path / "unnamed.csv"
    _study(("minimize", "maximize")).trials_dataframe().to_csv(unnamed, index=False)
    assert load_trials(str(unnamed)).responses[:2] == ["value_0", "value_1"]


def test_parquet_export_reads_the_same(tmp_path):
    pytest.importorskip("pyarrow")
    frame = _study().trials_dataframe()
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    a, b = load_trials(str(tmp_path / "t.csv")), load_trials(str(tmp_path / "t.parquet"))
    assert a.hyperparameters == b.hyperparameters and a.responses == b.responses
    np.testing.assert_allclose(a.frame["lr"].to_numpy(), b.frame["lr"].to_numpy())


def test_an_ordinary_table_is_not_taken_for_an_optuna_export(tmp_path):
    path = tmp_path / "plain.csv"
    pd.DataFrame({"number": [1, 2], "state": ["ok", "ok"], "value": [0.1, 0.2],
                  "lr": [0.1, 0.2]}).to_csv(path, index=False)
    assert detect_format(str(path)) != "optuna-table"


def test_a_short_name_that_would_collide_keeps_its_prefix(tmp_path):
    path = tmp_path / "clash.csv"
    frame = _study().trials_dataframe()
    frame["lr"] = 1.0  # a column of the user's own with the short name
    frame.to_csv(path, index=False)
    table = load_trials(str(path), format="optuna-table")
    assert "params_lr" in table.hyperparameters


def test_forcing_the_format_on_another_table_is_one_clear_error(tmp_path):
    path = tmp_path / "plain.csv"
    pd.DataFrame({"lr": [0.1, 0.2], "loss": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(InputError, match="not an Optuna trials table"):
        load_trials(str(path), format="optuna-table")
