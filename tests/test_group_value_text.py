"""Numeric group values (budgets such as 8/3) are shown rounded on the console and in
the HTML report, and the report names folded figures by the group key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_compare import make_sweep

from odyssey_analysis.cli import main
from odyssey_analysis.report.html import fold_label

RAW = re.compile(r"2\.66666666|8\.8888888")


@pytest.fixture(scope="module")
def budget_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("budgets")
    frame = make_sweep(n_per=40, tasks=("speech",), variants=("V",), seed=3)
    frame["budget"] = [8 / 3 if i % 2 else 80 / 9 for i in range(len(frame))]
    frame = frame.drop(columns=["task", "variant"])
    path = folder / "budgets.csv"
    frame.to_csv(path, index=False)
    out = folder / "out"
    result = CliRunner().invoke(main, ["report", str(path), "--out", str(out), "--trees", "8",
                                       "--jobs", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    return path, out, result.output


def test_console_shows_budgets_rounded(budget_report):
    _, _, output = budget_report
    assert "2.667" in output and "8.889" in output
    assert not RAW.search(output), output


def test_html_shows_budgets_rounded(budget_report):
    _, out, _ = budget_report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "budget=2.667" in page  # the guidelines' group headings
    assert not RAW.search(page)


def test_folded_figures_named_by_the_group_key(budget_report):
    _, out, _ = budget_report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "other budget values (1)" in page
    assert "other variants" not in page


def test_fold_label():
    assert fold_label(["variant"], "variant") == "other variants"
    assert fold_label(["budget"], None) == "other budget values"
    assert fold_label(["task", "variant"], "variant") == "other groups (task, variant)"
    assert fold_label([], None) == "more"


def test_info_shows_numeric_levels_rounded(tmp_path: Path):
    frame = make_sweep(n_per=20, tasks=("speech",), variants=("V",), seed=1)
    frame["ratio"] = [2 / 3 if i % 2 else 8 / 3 for i in range(len(frame))]
    path = tmp_path / "levels.csv"
    frame.drop(columns=["task", "variant"]).to_csv(path, index=False)
    spec = tmp_path / "levels.space.yaml"
    spec.write_text("hyperparameters:\n"
                    "  learning_rate: {type: float, lower: 1.0e-6, upper: 1.0e-2, scale: log}\n"
                    "  ratio: {type: categorical, choices: [0.6666666666666666, "
                    "2.6666666666666665]}\n")
    result = CliRunner().invoke(main, ["info", str(path), "--space", str(spec)])
    assert result.exit_code == 0, result.output
    assert "0.6667, 2.667" in result.output
    assert "2.6666666666666665" not in result.output
