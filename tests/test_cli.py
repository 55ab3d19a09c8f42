"""The command line: outputs, exit statuses, messages."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from odyssey_analysis.cli import main

FAST = ["--trees", "4", "--jobs", "1"]


@pytest.fixture()
def sweep_csv(tmp_path):
    rng = np.random.default_rng(0)
    parts = []
    for variant in ("V", "NP"):
        n = 30
        lr = 10 ** rng.uniform(-6, -2, n)
        parts.append(pd.DataFrame({
            "task": "speech", "variant": variant, "trial": np.arange(n), "learning_rate": lr,
            "hidden_size": rng.integers(20, 201, n), "input_noise": rng.uniform(0, 1, n),
            "test_error": (np.log10(lr) + 4) ** 2 + rng.normal(0, 0.1, n),
            "status": "ok"}))
    frame = pd.concat(parts, ignore_index=True)
    frame.loc[5, "test_error"] = np.nan
    frame.loc[6, "status"] = "failed"
    path = tmp_path / "sweep.csv"
    frame.to_csv(path, index=False)
    return path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_analyze_writes_the_importance_table_and_fit_details(sweep_csv, tmp_path):
    out = tmp_path / "out"
    before = digest(sweep_csv)
    result = CliRunner().invoke(main, ["analyze", str(sweep_csv), "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    imp = pd.read_csv(out / "importance.csv")
    assert list(imp.columns) == ["task", "variant", "response", "effect", "order", "param_a",
                                 "param_b", "fraction", "fraction_std", "n_trials", "n_trees",
                                 "fraction_lo", "fraction_hi", "fraction_corrected", "oob_r2",
                                 "signal_p"]
    assert set(imp["variant"]) == {"V", "NP"}
    assert imp[["fraction_lo", "fraction_hi", "fraction_corrected"]].isna().all().all()
    details = json.loads((out / "analysis.json").read_text())
    assert details["table"]["excluded_by_reason"] == {
        "diverged (non-finite metric)": 1, "failed": 1}
    fit = details["fits"][0]
    assert fit["n_trials"] in (28, 30, 29)
    assert fit["measure"]["learning_rate"].startswith("log-uniform")
    assert fit["fit"]["forest"]["seed"] == 0
    assert "learning_rate" in result.output
    assert digest(sweep_csv) == before
    assert sorted(p.name for p in out.iterdir()) == ["analysis.json", "importance.csv"]


@pytest.fixture()
def two_responses_csv(sweep_csv, tmp_path):
    frame = pd.read_csv(sweep_csv)
    frame["val_accuracy"] = 1.0 - frame["test_error"] / 10.0
    path = tmp_path / "two.csv"
    frame.to_csv(path, index=False)
    return path


def test_analyze_prints_every_responses_largest_effects(two_responses_csv, tmp_path):
    result = CliRunner().invoke(main, ["analyze", str(two_responses_csv), "--out",
                                       str(tmp_path / "o"), *FAST])
    assert result.exit_code == 0, result.output
    assert "largest effects on test_error" in result.output
    assert "largest effects on val_accuracy" in result.output


def test_analyze_names_the_responses_it_leaves_off_a_long_summary(two_responses_csv,
                                                                  tmp_path, monkeypatch):
    import importlib

    analyze_cli = importlib.import_module("odyssey_analysis.cli.analyze")
    monkeypatch.setattr(analyze_cli, "SUMMARY_ROWS", 1)
    result = CliRunner().invoke(main, ["analyze", str(two_responses_csv), "--out",
                                       str(tmp_path / "o"), *FAST])
    assert result.exit_code == 0, result.output
    assert "largest effects on val_accuracy" not in result.output
    assert "not shown here: val_accuracy" in result.output


def test_same_seed_same_bytes(sweep_csv, tmp_path):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        CliRunner().invoke(main, ["analyze", str(sweep_csv), "--out", str(out), *FAST])
        runs.append((out / "importance.csv").read_bytes())
    assert runs[0] == runs[1]


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("learning_rate,test_error\n0.001,0.5\nabc,0.4\n" + "0.002,0.3\n" * 20)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(bad), "--out", str(out), *FAST])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "bad.csv" in lines[0] and "row 2" in lines[0] and "learning_rate" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    result = CliRunner().invoke(main, ["info", str(bad), "--debug"])
    assert result.exit_code == 2
    assert "Traceback" in result.output


def test_group_too_small_is_exit_2(sweep_csv, tmp_path):
    result = CliRunner().invoke(main, ["analyze", str(sweep_csv), "--out", str(tmp_path / "o"),
                                       "--min-trials", "100", *FAST])
    assert result.exit_code == 2
    assert "at least 100" in result.output


def test_info_reports_roles_measures_and_exclusions(sweep_csv):
    result = CliRunner().invoke(main, ["info", str(sweep_csv)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps lines at the terminal width
    assert "58 trials analysed, 2 excluded" in text
    assert "excluded 1: failed" in text
    assert "log-uniform" in text
    assert "task, variant" in text
    assert "test_error" in text


def test_column_spec_file(sweep_csv, tmp_path):
    spec = tmp_path / "columns.yaml"
    spec.write_text("group_by: [variant]\nresponses: [test_error]\n"
                    "hyperparameters: [learning_rate, hidden_size]\n"
                    "space:\n  hyperparameters:\n"
                    "    learning_rate: {type: float, lower: 1.0e-6, upper: 1.0e-2, log: true}\n"
                    "    hidden_size: {type: int, lower: 20, upper: 200, log: true}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(sweep_csv), "--columns", str(spec),
                                       "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    imp = pd.read_csv(out / "importance.csv")
    assert "task" not in imp.columns
    assert set(imp["effect"]) == {"learning_rate", "hidden_size",
                                  "learning_rate × hidden_size", "higher order"}
    details = json.loads((out / "analysis.json").read_text())
    assert details["space"]["origin"] == "declared in columns.yaml"


def test_refuses_to_overwrite_its_input(tmp_path, sweep_csv):
    target = tmp_path / "importance.csv"
    target.write_bytes(sweep_csv.read_bytes())
    before = digest(target)
    result = CliRunner().invoke(main, ["analyze", str(target), "--out", str(tmp_path), *FAST])
    assert result.exit_code == 2
    assert "overwrite" in result.output
    assert digest(target) == before


def test_outputs_are_readable_like_ordinary_files(sweep_csv, tmp_path):
    import os
    import stat

    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        CliRunner().invoke(main, ["analyze", str(sweep_csv), "--out", str(out), *FAST])
    finally:
        os.umask(old)
    mode = stat.S_IMODE((out / "importance.csv").stat().st_mode)
    assert mode == 0o644
