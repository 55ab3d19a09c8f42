"""The report folder, its index.html in a headless browser, and the compare/report commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_compare import make_sweep

from odyssey_analysis import InputError
from odyssey_analysis.cli import main
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.report import build_report, bundled_table, load_for_report

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def sweep_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    frame = make_sweep(n_per=16, tasks=("speech", "music"), variants=("V", "NFG"), seed=7,
                       n_diverged=3)
    path = folder / "sweep.csv"
    frame.to_csv(path, index=False)
    (folder / "sweep.space.yaml").write_text(
        "hyperparameters:\n"
        "  learning_rate: {type: float, lower: 1.0e-6, upper: 1.0e-2, scale: log}\n"
        "  hidden_size: {type: int, lower: 20, upper: 200, scale: log}\n"
        "  momentum: {type: float, lower: 0.0, upper: 0.99, scale: one_minus_log}\n"
        "  input_noise: {type: float, lower: 0.0, upper: 1.0}\n")
    return path


@pytest.fixture(scope="module")
def report_run(sweep_csv, tmp_path_factory):
    """``odyssey report`` once, through the command line."""
    out = tmp_path_factory.mktemp("report") / "out"
    result = CliRunner().invoke(main, ["report", str(sweep_csv), "--out", str(out),
                                       "--trees", "8", "--jobs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    return out, result


def test_report_folder_contents(report_run):
    out, _ = report_run
    for name in ("index.html", "importance.csv", "comparison.csv", "analysis.json"):
        assert (out / name).is_file(), name
    figures = sorted(p.name for p in (out / "figures").iterdir())
    for stem in ("variants_test_error", "marginals_V", "marginals_NFG", "fractions_V",
                 "fractions_NFG", "interactions_speech_V", "interactions_music_V"):
        assert f"{stem}.png" in figures and f"{stem}.pdf" in figures, stem
    tables = sorted(p.name for p in (out / "tables").iterdir())
    for name in ("comparison.md", "comparison.tex", "importance_test_error.md",
                 "main_effects_test_error.tex", "importance_train_time.md"):
        assert name in tables, name
    assert not list(out.rglob(".*.tmp"))
    importance = pd.read_csv(out / "importance.csv")
    assert list(importance.columns) == ["task", "variant", "response", "effect", "order",
                                        "param_a", "param_b", "fraction", "fraction_std",
                                        "n_trials", "n_trees", "fraction_lo", "fraction_hi",
                                        "fraction_corrected", "oob_r2", "signal_p"]
    assert set(importance.response) == {"test_error", "valid_error", "train_time"}
    comparison = pd.read_csv(out / "comparison.csv")
    assert comparison.loc[comparison.variant == "NFG", "significant_all"].all()
    fits = json.loads((out / "analysis.json").read_text())
    assert len(fits["fits"]) == 2 * 2 * 3
    assert fits["report_settings"]["n_trees"] == 8
    # Calibrated intervals by default: every reported main and pair share has one.
    assert fits["report_settings"]["n_bootstrap"] == 100
    shown = importance.dropna(subset=["fraction"])
    shown = shown[shown.order.astype(str).isin(["1", "2"])]
    assert len(shown) > 0
    assert shown[["fraction_lo", "fraction_hi"]].notna().all().all()
    assert (shown.fraction_lo <= shown.fraction_hi).all()


def test_index_is_self_contained(report_run):
    out, _ = report_run
    page = (out / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) == 1 + 2 + 2 + 2  # variants, marginals and fractions ×2, interactions ×2
    assert all(src.startswith("data:image/png;base64,") for src in images)
    for heading in ("Variant comparison (Fig. 3)", "Marginal curves (Fig. 4)",
                    "Variance fractions (Fig. 5)", "Interactions (Fig. 6)", "Fit quality",
                    "Search space and measure"):
        assert heading in page
    assert page.count("How to read this:") == len(images)
    assert "log-uniform on [1e-06, 0.01]" in page  # the measure of each hyperparameter
    assert "OOB R²" in page
    assert "3 diverged (non-finite metric)" in page  # exclusions counted
    # every file of the folder is linked with a relative path
    for path in (out / "figures").glob("*.pdf"):
        assert f'href="figures/{path.name}"' in page


def test_terminal_summary(report_run):
    _, result = report_run
    assert "largest effects on test_error" in result.output
    assert "variants against V" in result.output
    assert "NFG worse" in result.output


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_opens_in_a_browser(report_run, tmp_path):
    out, _ = report_run
    url = (out / "index.html").resolve().as_uri()
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    n_images = len(re.findall(r"<img ", (out / "index.html").read_text(encoding="utf-8")))
    marker = re.search(r'<body[^>]*data-images="([^"]*)"', dom.stdout)
    assert marker is not None, "the page's load script did not run"
    assert marker.group(1) == f"ok {n_images}"
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
         "--window-size=1400,3000", "--hide-scrollbars", url],
        capture_output=True, text=True, timeout=120, check=True)
    assert shot.stat().st_size > 50_000


def test_report_never_overwrites_its_input(sweep_csv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = out / "importance.csv"
    victim.write_bytes(sweep_csv.read_bytes())
    with pytest.raises(InputError, match="overwrite its input"):
        build_report(victim, out, method=method_from_options(n_trees=4))
    assert victim.read_bytes() == sweep_csv.read_bytes()
    result = CliRunner().invoke(main, ["report", str(victim), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "overwrite its input" in result.output
    assert "Traceback" not in result.output


def test_report_without_table_uses_the_bundled_study(monkeypatch, tmp_path):
    small = tmp_path / "bundled.csv"
    make_sweep(n_per=3, tasks=("speech",), variants=("V",)).to_csv(small, index=False)
    monkeypatch.setattr("odyssey_analysis.report.bundled_table", lambda: small)
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "r"), "--quiet"])
    assert result.exit_code == 2  # 3 trials per group are too few: the file is named
    assert str(small) in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.skipif(not bundled_table().is_file(), reason="bundled study not present")
def test_bundled_study_loads():
    table = load_for_report(None)
    assert {"task", "variant"} <= set(table.group_keys)
    assert {"test_error", "valid_error", "train_time"} <= set(table.responses)
    assert set(table.frame["task"]) == {"speech", "handwriting", "music"}


def test_compare_command(sweep_csv, tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(main, ["compare", str(sweep_csv), "--out", str(out),
                                       "--metric", "test_error", "--select-by", "valid_error",
                                       "--top", "0.25"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.csv", "comparison.md", "comparison.tex", "variants_test_error.pdf",
        "variants_test_error.png"]
    comparison = pd.read_csv(out / "comparison.csv")
    assert (comparison.top_n == 4).all()
    assert "NFG worse" in result.output


@pytest.mark.parametrize("args, message", [
    (["--reference", "LSTM"], "reference variant 'LSTM' not found"),
    (["--metric", "bleu"], "column 'bleu'"),
    (["--top", "1.5"], "top fraction"),
])
def test_compare_command_bad_input(sweep_csv, tmp_path, args, message):
    result = CliRunner().invoke(main, ["compare", str(sweep_csv), "--out",
                                       str(tmp_path / "c"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
