"""Ray Tune experiment folders and results CSVs.

Ray is too heavy for the test environment, so most tests build the experiment folder
file by file in the layout Ray Tune 2.x writes (checked against Ray 2.60: trial folders
``<trainable>_<id>_<n>_<params>_<date>`` holding ``params.json``, ``result.json`` as JSON
lines, ``progress.csv``, and ``error.txt``/``error.pkl`` for trials that raised, next to
``experiment_state-*.json``, ``basic-variant-state-*.json`` and ``tuner.pkl``). The last
test runs a real ``Tuner`` when ``ray[tune]`` is installed.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.errors import InputError
from odyssey_analysis.loaders import detect_format, load_trials

RAY_FIELDS = ["timestamp", "checkpoint_dir_name", "done", "training_iteration", "trial_id",
              "date", "time_this_iter_s", "time_total_s", "pid", "hostname", "node_ip",
              "time_since_restore", "iterations_since_restore"]
STAMP = "2026-11-26_03-24-08"


def _results(trial_id, config, losses):
    out = []
    for i, loss in enumerate(losses, start=1):
        out.append({"loss": loss, "acc": 1.0 - loss / 2, "timestamp": 1795663450 + i,
                    "checkpoint_dir_name": None, "done": False, "training_iteration": i,
                    "trial_id": trial_id, "date": f"2026-11-26_03-24-1{i}",
                    "time_this_iter_s": 0.0005, "time_total_s": 0.0005 * i, "pid": 4315,
                    "hostname": "vm", "node_ip": "192.0.2.2", "config": config,
                    "time_since_restore": 0.0005 * i, "iterations_since_restore": i})
    return out


def _write_trial(root, index, config, losses, *, error=False, progress=True, result=True):
    trial_id = f"d7734_{index:05d}"
    tag = ",".join(f"{k}={v if not isinstance(v, float) else round(v, 4)}"
                   for k, v in sorted(config.items()) if not isinstance(v, dict))
    folder = root / f"trainable_{trial_id}_{index}_{tag}_{STAMP}"
    folder.mkdir()
    (folder / "params.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    (folder / "params.pkl").write_bytes(b"\x80\x05}\x94.")
    (folder / f"events.out.tfevents.179566345{index}.vm").write_bytes(b"\x00" * 40)
    results = _results(trial_id, config, losses)
    if result:
        (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in results))
    if progress and results:
        with (folder / "progress.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["loss", "acc", *RAY_FIELDS])
            writer.writeheader()
            for r in results:
                writer.writerow({k: ("" if r[k] is None else r[k]) for k in writer.fieldnames})
    if error:
        (folder / "error.txt").write_text(
            "Failure # 1 (occurred at 2026-11-26_03-24-30)\nRuntimeError: boom\n")
        (folder / "error.pkl").write_bytes(b"\x80\x05N.")
    return folder


@pytest.fixture
def experiment(tmp_path):
    root = tmp_path / "exp"
    root.mkdir()
    (root / ".validate_storage_marker").write_bytes(b"")
    (root / f"experiment_state-{STAMP}.json").write_text(
        json.dumps({"trial_data": [], "runner_data": {}, "stats": {}}))
    (root / f"basic-variant-state-{STAMP}.json").write_bytes(b"\x80\x05}\x94.")
    (root / "tuner.pkl").write_bytes(b"\x80\x05}\x94.")
    configs = [
        ({"lr": 0.0006, "layers": 3, "act": "relu"}, [1.0, 0.5, 0.33], {}),
        ({"lr": 0.0021, "layers": 2, "act": "tanh"}, [1.0, 0.25, 0.4], {}),
        ({"lr": 0.0689, "layers": 1, "act": "relu"}, [], {"error": True, "result": True}),
        ({"lr": 0.0055, "layers": 1, "act": "relu"}, [0.9], {"error": True}),
        ({"lr": 0.0009, "layers": 2, "act": "tanh"}, [0.8, 0.6, 0.7], {}),
        ({"lr": 0.0029, "layers": 1, "act": "relu"}, [], {}),
    ]
    for i, (config, losses, kw) in enumerate(configs):
        _write_trial(root, i, config, losses, **kw)
    return root


def test_experiment_folder_last_results(experiment):
    assert detect_format(str(experiment)) == "raytune"
    table = load_trials(str(experiment))
    assert table.hyperparameters == ["act", "layers", "lr"]
    assert table.responses == ["loss", "acc"]
    assert table.excluded_counts() == {"errored": 2, "no results reported": 1}
    frame = table.frame.set_index("trial_id")
    assert frame.loc["d7734_00001", "loss"] == 0.4
    assert frame.loc["d7734_00004", "loss"] == 0.7
    assert frame.loc["d7734_00004", "training_iteration"] == 3
    table.resolve_space()


def test_best_result_by_metric_and_mode(experiment):
    table = load_trials(str(experiment), result="best", metric="loss", mode="min")
    frame = table.frame.set_index("trial_id")
    assert frame.loc["d7734_00001", "loss"] == 0.25
    assert frame.loc["d7734_00004", "loss"] == 0.6
    assert frame.loc["d7734_00004", "training_iteration"] == 2
    best_acc = load_trials(str(experiment), result="best", metric="acc", mode="max")
    assert best_acc.frame.set_index("trial_id").loc["d7734_00000", "acc"] == 1.0 - 0.33 / 2
    with pytest.raises(InputError, match="needs metric"):
        load_trials(str(experiment), result="best")
    with pytest.raises(InputError, match="needs mode"):
        load_trials(str(experiment), result="best", metric="loss")
    with pytest.raises(InputError, match="'f1' is not reported"):
        load_trials(str(experiment), result="best", metric="f1", mode="max")
    with pytest.raises(InputError, match="option result='first'"):
        load_trials(str(experiment), result="first")


def test_progress_csv_is_used_without_result_json(tmp_path):
    root = tmp_path / "exp"
    root.mkdir()
    (root / "tuner.pkl").write_bytes(b"\x80\x05}\x94.")
    _write_trial(root, 0, {"lr": 0.1, "model": {"width": 8}}, [1.0, 0.5], result=False)
    _write_trial(root, 1, {"lr": 0.2, "model": {"width": 16}}, [1.0, 0.7], result=False)
    table = load_trials(str(root))
    assert table.hyperparameters == ["lr", "model/width"]
    assert sorted(table.frame["loss"]) == [0.5, 0.7]


def test_cut_short_result_lines(experiment):
    folder = next(experiment.glob("trainable_d7734_00000_*"))
    text = (folder / "result.json").read_text()
    (folder / "result.json").write_text(text + '{"loss": 0.2, "acc"')  # still being written
    table = load_trials(str(experiment))
    assert table.frame.set_index("trial_id").loc["d7734_00000", "loss"] == 0.33
    lines = text.splitlines()
    (folder / "result.json").write_text(lines[0] + "\n" + lines[1][:20] + "\n" + lines[2] + "\n")
    with pytest.raises(InputError) as info:
        load_trials(str(experiment))
    assert info.value.row == 2 and "result.json" in str(info.value)


def test_result_grid_dataframe_csv(tmp_path):
    """The CSV of ResultGrid.get_dataframe() (columns as Ray 2.60 writes them)."""
    rows = []
    for i, (lr, layers, act, loss) in enumerate([(0.0006, 3, "relu", 0.33),
                                                 (0.0021, 2, "tanh", 0.25),
                                                 (0.0009, 2, "relu", 0.6)]):
        r = _results(f"d7734_{i:05d}", {}, [loss])[0]
        r.pop("config")
        r.update({"config/lr": lr, "config/layers": layers, "config/act": act,
                  "logdir": f"d7734_{i:05d}"})
        rows.append(r)
    path = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    assert detect_format(str(path)) == "raytune"
    table = load_trials(str(path))
    assert table.hyperparameters == ["lr", "layers", "act"]
    assert table.responses == ["loss", "acc"]
    np.testing.assert_allclose(table.frame["lr"], [0.0006, 0.0021, 0.0009])
    table.resolve_space()


def test_plain_csv_with_a_slash_is_not_taken_for_ray(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("config/lr,loss\n0.1,0.5\n")
    assert detect_format(str(path)) == "csv"


def test_real_tuner_run(tmp_path):
    tune = pytest.importorskip("ray.tune")
    ray = pytest.importorskip("ray")

    def trainable(config):
        if config["layers"] == 1:
            raise RuntimeError("boom")
        for i in range(3):
            tune.report({"loss": config["lr"] * config["layers"] + 1.0 / (i + 1)})

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        tuner = tune.Tuner(
            trainable,
            param_space={"lr": tune.loguniform(1e-4, 1e-1), "layers": tune.randint(1, 4)},
            tune_config=tune.TuneConfig(num_samples=6),
            run_config=tune.RunConfig(name="exp", storage_path=str(tmp_path), verbose=0))
        grid = tuner.fit()
        grid.get_dataframe().to_csv(tmp_path / "grid.csv", index=False)
    finally:
        ray.shutdown()
    n_errors = sum(r.error is not None for r in grid)
    table = load_trials(str(tmp_path / "exp"))
    assert table.responses == ["loss"] and table.hyperparameters == ["layers", "lr"]
    assert len(table) == len(grid) - n_errors
    assert table.excluded_counts().get("errored", 0) == n_errors
    from_csv = load_trials(str(tmp_path / "grid.csv"))
    assert sorted(from_csv.frame["loss"]) == pytest.approx(sorted(table.frame["loss"]))
