"""MLflow tracking stores written by MLflow itself: a file store and an SQLite store."""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np
import pytest

from odyssey_analysis.errors import InputError, MissingExtraError
from odyssey_analysis.loaders import detect_format, load_trials

mlflow = pytest.importorskip("mlflow")



#: (parent, lr, layers, batch_norm, optimizer, final loss, status)
CHILDREN = [
    ("sweep-a", 0.001, 1, True, "adam", 0.50, "FINISHED"),
    ("sweep-a", 0.010, 2, False, "sgd", 0.40, "FINISHED"),
    ("sweep-a", 0.100, 3, True, "adam", 0.90, "FAILED"),
    ("sweep-b", 0.003, 2, False, "adam", 0.45, "FINISHED"),
    ("sweep-b", 0.030, 4, True, "sgd", 0.35, "FINISHED"),
]


def _log_store(uri: str) -> None:
    """Two nested sweeps in one experiment, flat runs in another, one run in Default."""
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run(experiment_id="0", run_name="scratch"):
            mlflow.log_param("lr", "0.5")
            mlflow.log_metric("loss", 9.0)
        mlflow.set_experiment("lstm")
        for parent in ("sweep-a", "sweep-b"):
            with mlflow.start_run(run_name=parent):
                mlflow.log_param("sampler", "random")
                for i, (p, lr, layers, bn, opt, loss, status) in enumerate(CHILDREN):
                    if p != parent:
                        continue
                    with mlflow.start_run(run_name=f"{parent}-{i}", nested=True) as run:
                        mlflow.log_params({"lr": lr, "layers": layers, "batch_norm": bn,
                                           "optimizer": opt})
                        for step, value in enumerate([2.0, 1.0, loss]):
                            mlflow.log_metric("loss", value, step=step)
                        mlflow.log_metric("train_time", 10.0 * layers)
                        mlflow.set_tag("task", "speech" if layers % 2 else "music")
                    if status != "FINISHED":
                        mlflow.MlflowClient().set_terminated(run.info.run_id, status)
        mlflow.set_experiment("flat")
        for lr in (0.1, 0.2):
            with mlflow.start_run():
                mlflow.log_param("lr", lr)
                mlflow.log_metric("loss", lr * 2)
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def file_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-file") / "mlruns"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        _log_store(root.as_uri())
    return root


@pytest.fixture(scope="module")
def sqlite_store(db_dir):
    db = db_dir / "mlflow.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(db_dir)  # MLflow makes its artifact folders relative to the working folder
        _log_store(f"sqlite:///{db}")
    return db


def _check_nested(table):
    assert table.group_keys == ["parent"]
    assert table.hyperparameters == ["batch_norm", "layers", "lr", "optimizer"]
    assert table.responses == ["loss", "train_time"]
    assert table.excluded_counts() == {"parent run (holds 3 nested runs)": 1,
                                       "parent run (holds 2 nested runs)": 1,
                                       "status failed": 1}
    frame = table.frame.sort_values("lr")
    finished = sorted((c for c in CHILDREN if c[6] == "FINISHED"), key=lambda c: c[1])
    np.testing.assert_allclose(frame["lr"].to_numpy(), [c[1] for c in finished])
    assert frame["layers"].dtype.kind == "i"
    assert frame["layers"].tolist() == [c[2] for c in finished]
    assert frame["batch_norm"].tolist() == [c[3] for c in finished]
    assert frame["optimizer"].tolist() == [c[4] for c in finished]
    np.testing.assert_allclose(frame["loss"].to_numpy(), [c[5] for c in finished])
    assert frame["parent"].tolist() == [c[0] for c in finished]
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ
    space = table.resolve_space()  # inferred from the typed params
    assert space["batch_norm"].kind == "categorical" and space["layers"].kind == "int"


def test_file_store_nested_runs_typed_params(file_store):
    assert detect_format(str(file_store)) == "mlflow"
    assert detect_format(file_store.as_uri()) == "mlflow"
    table = load_trials(str(file_store), experiment="lstm")
    _check_nested(table)


def test_sqlite_store_reads_the_same_and_is_not_changed(sqlite_store, tmp_path,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = hashlib.sha256(sqlite_store.read_bytes()).hexdigest()
    assert detect_format(f"sqlite:///{sqlite_store}") == "mlflow"
    assert detect_format(str(sqlite_store)) == "mlflow"
    table = load_trials(f"sqlite:///{sqlite_store}", experiment="lstm")
    _check_nested(table)
    assert hashlib.sha256(sqlite_store.read_bytes()).hexdigest() == before
    assert list(tmp_path.iterdir()) == []  # nothing made in the working folder


def test_default_experiment_is_skipped_and_several_become_groups(file_store):
    table = load_trials(str(file_store), hyperparameters=["lr"], responses=["loss"])
    assert table.group_keys[0] == "experiment"
    assert set(table.frame["experiment"]) == {"lstm", "flat"}
    assert "scratch" not in set(table.frame["run_name"])


def test_experiment_by_id_and_by_folder(file_store):
    client = mlflow.MlflowClient(file_store.as_uri())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        exp_id = client.get_experiment_by_name("flat").experiment_id
    by_id = load_trials(str(file_store), experiment=exp_id)
    assert len(by_id) == 2 and by_id.responses == ["loss"]
    by_folder = load_trials(str(file_store / exp_id))
    assert sorted(by_folder.frame["lr"]) == [0.1, 0.2]


def test_group_tags_become_group_keys(file_store):
    table = load_trials(str(file_store), experiment="lstm", group_tags="task")
    assert table.group_keys == ["parent", "task"]
    assert set(table.frame["task"]) == {"speech", "music"}
    with pytest.raises(InputError, match="no run has the tag 'missing'"):
        load_trials(str(file_store), experiment="lstm", group_tags="missing")


def test_unknown_experiment_lists_the_ones_present(file_store):
    with pytest.raises(InputError) as info:
        load_trials(str(file_store), experiment="nope")
    text = str(info.value)
    assert "nope" in text and "lstm" in text and "flat" in text and "Default" in text


def test_unknown_option_is_refused(file_store):
    with pytest.raises(InputError, match="unknown option.*study"):
        load_trials(str(file_store), study="x")


def test_missing_mlflow_names_the_extra(file_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(MissingExtraError, match=r"odyssey-analysis\[mlflow\]"):
        load_trials(str(file_store), experiment="lstm")
