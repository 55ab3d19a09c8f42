"""``odyssey guide``: its files, their bytes, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from odyssey_analysis.cli import main
from odyssey_analysis.space import SearchSpace

FAST = ["--trees", "8", "--jobs", "1"]
FILES = ["guidelines.json", "guidelines.md", "next_space.json", "next_space.yaml",
         "next_space_optuna.py"]


@pytest.fixture()
def sweep_csv(tmp_path):
    rng = np.random.default_rng(0)
    parts = []
    for task in ("speech", "music"):
        n = 120
        lr = 10 ** rng.uniform(-6, -2, n)
        parts.append(pd.DataFrame({
            "task": task, "trial": np.arange(n), "learning_rate": lr,
            "input_noise": rng.uniform(0, 1, n),
            "test_error": (np.log10(lr) + 4) ** 2 + rng.normal(0, 0.1, n)}))
    path = tmp_path / "sweep.csv"
    pd.concat(parts, ignore_index=True).to_csv(path, index=False)
    return path


def test_guide_writes_its_files_the_same_bytes_each_time(sweep_csv, tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["guide", str(sweep_csv), "--out", str(out),
                                           "--group-by", "task", *FAST])
        assert result.exit_code == 0, result.output
        outs.append(out)
    assert sorted(p.name for p in outs[0].iterdir()) == FILES
    for name in FILES:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    body = json.loads((outs[0] / "guidelines.json").read_text())
    lr = body["groups"][0]["hyperparameters"]["learning_rate"]
    assert lr["verdict"] == "tune" and lr["shape"] == "interior optimum"
    low, high = lr["good_region"]
    assert low < 1e-4 < high  # the true optimum
    assert body["next_space"]["hyperparameters"][0]["action"] == "narrowed"
    space = SearchSpace.from_file(outs[0] / "next_space.yaml")
    assert space["input_noise"].kind == "constant"
    assert "**task=music**" in (outs[0] / "guidelines.md").read_text()


def test_guide_for_one_group_and_bad_options(sweep_csv, tmp_path):
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["guide", str(sweep_csv), "--out", str(out),
                                       "--group-by", "task", "--for", "task=speech", *FAST])
    assert result.exit_code == 0, result.output
    body = json.loads((out / "guidelines.json").read_text())
    assert body["next_space"]["groups"] == [{"task": "speech"}]
    for extra in (["--for", "task=none"], ["--for", "lr=1"], ["--target", "nothing"]):
        bad = tmp_path / "bad"
        result = CliRunner().invoke(main, ["guide", str(sweep_csv), "--out", str(bad),
                                           "--group-by", "task", *extra, *FAST])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error:") and not bad.exists()


def test_guide_needs_to_know_which_way_is_better(sweep_csv, tmp_path):
    frame = pd.read_csv(sweep_csv).rename(columns={"test_error": "y"})
    path = tmp_path / "plain.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "o"
    args = ["guide", str(path), "--out", str(out), "--group-by", "task", "--response", "y",
            *FAST]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "--maximize" in result.output and not out.exists()
    assert CliRunner().invoke(main, [*args, "--minimize", "y"]).exit_code == 0


def test_a_response_of_unknown_direction_is_skipped_not_fatal(sweep_csv, tmp_path):
    frame = pd.read_csv(sweep_csv)
    frame["y"] = frame["test_error"] * 2
    path = tmp_path / "two.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["guide", str(path), "--out", str(out), "--group-by",
                                       "task", "--response", "test_error", "--response", "y",
                                       *FAST])
    assert result.exit_code == 0, result.output
    body = json.loads((out / "guidelines.json").read_text())
    assert body["skipped_responses"] == {"y": "which way is better is unknown"}
    assert {g["response"] for g in body["groups"]} == {"test_error"}
