"""Weights & Biases exports in the layouts W&B and its documented API recipe produce.

No network and no ``wandb`` package: the files are written here in the exact layouts of
(1) the runs-table "Export CSV" of the web app, (2) the public-API recipe that builds a
pandas frame of ``summary``/``config``/``name`` and calls ``to_csv``, and (3) the same
runs dumped as JSON / JSON Lines.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import detect_format, load_trials


def _runs():
    """Runs as the public API gives them: run.config, run.summary._json_dict, name, state."""
    runs = []
    for i, (lr, bs, opt, state) in enumerate([
            (0.001, 32, "adam", "finished"), (0.01, 64, "sgd", "finished"),
            (0.1, 32, "adam", "crashed"), (0.003, 128, "sgd", "finished"),
            (0.03, 64, "adam", "failed"), (0.0003, 128, "adam", "finished")]):
        config = {
            "learning_rate": lr, "batch_size": bs,
            "optimizer": {"name": opt, "betas": [0.9, 0.999]},
            "_wandb": {"python_version": "3.11.7", "cli_version": "0.18.0"},
        }
        summary = {
            "_step": 9, "_runtime": 12.5 + i, "_timestamp": 1.7e9 + i,
            "_wandb": {"runtime": 12},
            "val_loss": 1.0 / (1 + i), "accuracy": 0.5 + i / 20, "epoch": 9,
            "predictions": {"_type": "table-file", "path": "media/table.json"},
            "gradients": {"_type": "histogram", "values": [1, 2], "bins": [0, 1, 2]},
        }
        runs.append({"name": f"run-{i}", "id": f"id{i:04d}", "state": state,
                     "config": config, "summary": summary})
    return runs


def _check(table, n_finished=4):
    assert table.hyperparameters == ["learning_rate", "batch_size", "optimizer.name",
                                     "optimizer.betas"]
    assert table.responses == ["val_loss", "accuracy"]
    assert len(table) == n_finished
    assert table.excluded_counts() == {"crashed": 1, "failed": 1}
    frame = table.frame.sort_values("learning_rate")
    np.testing.assert_allclose(frame["learning_rate"], [0.0003, 0.001, 0.003, 0.01])
    assert frame["optimizer.name"].tolist() == ["adam", "adam", "sgd", "sgd"]
    assert not any(c.startswith("_") or "._" in c for c in table.frame.columns)
    assert "predictions" not in table.frame.columns
    table.resolve_space()  # the inferred space validates


def test_api_export_json_with_value_wrapping(tmp_path):
    runs = _runs()
    for run in runs:  # the raw config as stored by W&B wraps each value
        run["config"] = {k: ({"value": v, "desc": None} if not k.startswith("_") else v)
                         for k, v in run["config"].items()}
    path = tmp_path / "runs.json"
    path.write_text(json.dumps(runs))
    assert detect_format(str(path)) == "wandb"
    table = load_trials(str(path))
    _check(table)
    assert table.frame["optimizer.betas"].iloc[0] == "[0.9, 0.999]"


def test_api_export_jsonl(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _runs()) + "\n")
    assert detect_format(str(path)) == "wandb"
    _check(load_trials(str(path)))


def test_api_recipe_csv_with_python_dicts(tmp_path):
    """The documented recipe: DataFrame of summary/config/name dicts, then to_csv."""
    runs = _runs()
    runs[0]["summary"]["val_loss"] = math.nan  # Python writes this as a bare nan
    frame = pd.DataFrame({
        "summary": [r["summary"] for r in runs],
        "config": [{k: v for k, v in r["config"].items() if not k.startswith("_")}
                   for r in runs],
        "name": [r["name"] for r in runs],
        "state": [r["state"] for r in runs],
    })
    path = tmp_path / "project.csv"
    frame.to_csv(path)
    assert "'learning_rate': 0.001" in path.read_text()
    assert detect_format(str(path)) == "wandb"
    table = load_trials(str(path))
    assert table.responses == ["val_loss", "accuracy"]
    assert table.excluded_counts() == {"crashed": 1, "failed": 1,
                                       "diverged (non-finite metric)": 1}
    assert sorted(table.frame["name"]) == ["run-1", "run-3", "run-5"]


def test_runs_table_csv_export(tmp_path):
    runs = _runs()
    lines = ['"Name","State","Notes","User","Tags","Created","Runtime","Sweep",'
             '"batch_size","learning_rate","optimizer.name","accuracy","epoch","val_loss",'
             '"_wandb.runtime"']
    for r in runs:
        c, s = r["config"], r["summary"]
        lines.append(f'"{r["name"]}","{r["state"]}","-","someone","","2024-05-01T10:00:00.000Z",'
                     f'"{int(s["_runtime"])}","abc123","{c["batch_size"]}","{c["learning_rate"]}",'
                     f'"{c["optimizer"]["name"]}","{s["accuracy"]}","9","{s["val_loss"]}",'
                     f'"{s["_wandb"]["runtime"]}"')
    path = tmp_path / "wandb_export_2024-05-01.csv"
    path.write_text("\n".join(lines) + "\n")
    assert detect_format(str(path)) == "wandb"
    table = load_trials(str(path))
    assert table.status == "State"
    assert table.hyperparameters == ["batch_size", "learning_rate", "optimizer.name"]
    assert table.responses == ["accuracy", "val_loss"]
    assert "Runtime" not in table.responses + table.hyperparameters
    assert "_wandb.runtime" not in table.frame.columns
    assert len(table) == 4
    assert table.excluded_counts() == {"crashed": 1, "failed": 1}
    table.resolve_space()


def test_prefixed_columns_are_taken_by_prefix(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("Name,State,Runtime,config.lr,config.loss_fn,summary.loss,summary._step\n"
                    "a,finished,10,0.1,mse,0.5,3\nb,finished,11,0.2,mae,0.4,3\n")
    table = load_trials(str(path))
    assert table.hyperparameters == ["lr", "loss_fn"]
    assert table.responses == ["loss"]


def test_a_seed_in_the_config_is_bookkeeping(tmp_path):
    """``config.seed`` is recorded by W&B like any setting, but it is not a hyperparameter:
    it is reported as bookkeeping, in the runs table and in the API export alike."""
    path = tmp_path / "flat.csv"
    path.write_text("Name,State,Runtime,config.lr,config.seed,summary.loss\n"
                    + "".join(f"r{i},finished,9,{0.1 * (i + 1)},{1000 + 7 * i},{0.5 - i / 50}\n"
                              for i in range(12)))
    table = load_trials(str(path))
    assert table.hyperparameters == ["lr"]
    assert table.bookkeeping.get("seed") == "seed"
    runs = _runs()
    for i, run in enumerate(runs):
        run["config"]["seed"] = 11 * i
    api = tmp_path / "runs.json"
    api.write_text(json.dumps(runs))
    assert "seed" not in load_trials(str(api)).hyperparameters


@pytest.mark.parametrize("header", [
    "name,state,lr,loss",            # lower-case: an ordinary table
    "Name,lr,loss",                  # a Name column alone
    "Name,State,lr,loss",            # no other W&B column
    "config_id,summary_loss,lr",     # look-alike names
])
def test_ordinary_csv_is_not_taken_for_wandb(tmp_path, header):
    path = tmp_path / "plain.csv"
    path.write_text(header + "\n" + ",".join(["1"] * len(header.split(","))) + "\n")
    assert detect_format(str(path)) == "csv"


def test_ordinary_json_is_not_taken_for_wandb(tmp_path):
    path = tmp_path / "trials.json"
    path.write_text(json.dumps([{"lr": 0.1, "loss": 1.0, "config": "a"}]))
    assert detect_format(str(path)) == "json"


def test_broken_cell_names_row_and_column(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(',summary,config,name\n0,"{\'loss\': 0.5}","{\'lr\': 0.1}",a\n'
                    '1,"{\'loss\': 0.4}","{\'lr\': 0.2, \'n\'",b\n')
    with pytest.raises(InputError) as info:
        load_trials(str(path))
    assert info.value.row == 2 and info.value.column == "config"
