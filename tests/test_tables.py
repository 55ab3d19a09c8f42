"""Tables: summaries as DataFrames, rounding, Markdown and LaTeX rendering, files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from make_baselines import fixed_comparison, fixed_study

from odyssey_analysis import InputError
from odyssey_analysis.result import INTERVAL_COLUMNS
from odyssey_analysis.tables import (
    comparison_summary,
    fmt_num,
    fmt_p,
    fmt_pct,
    importance_display,
    importance_summary,
    latex_escape,
    main_effects_display,
    main_effects_table,
    to_latex,
    to_markdown,
    write_comparison_tables,
    write_importance_tables,
)


@pytest.fixture(scope="module")
def importance() -> pd.DataFrame:
    return fixed_study().importance_table()


def test_number_formats():
    assert fmt_pct(0.6789) == "67.9"
    assert fmt_pct(0.6789, 0.0123) == "67.9 ± 1.2"
    assert fmt_pct(float("nan")) == "–"
    assert fmt_p(0.04567) == "0.0457"
    assert fmt_p(0.5) == "0.5"
    assert fmt_p(1.234e-7) == "1.23e-07"
    assert fmt_p(float("nan")) == "–"
    assert fmt_num(0.123456) == "0.1235"
    assert fmt_num(85.3149) == "85.31"
    assert fmt_num(1234567.0) == "1.235e+06"


def test_importance_summary_sorted_by_share(importance):
    out = importance_summary(importance, response="test_error", max_pairs=2)
    assert list(out.columns[:2]) == ["task", "variant"]
    for _, block in out.groupby(["task", "variant"]):
        assert block["share"].is_monotonic_decreasing
        assert (block["order"] == 1).sum() == 4
        assert (block["order"] == 2).sum() == 2
        assert (block["order"] == 3).sum() == 1
    speech = out[(out.task == "speech")]
    assert speech.iloc[0]["effect"] == "learning_rate"
    expected = importance[(importance.task == "speech") & (importance.response == "test_error")
                          & (importance.effect == "learning_rate")]["fraction"].iloc[0]
    assert speech.iloc[0]["share"] == pytest.approx(100 * expected)
    with pytest.raises(InputError, match="response 'bleu'"):
        importance_summary(importance, response="bleu")


def test_main_effects_table_one_row_per_group(importance):
    wide = main_effects_table(importance, response="test_error")
    assert len(wide) == 2
    row = wide[wide.task == "music"].iloc[0]
    block = importance[(importance.task == "music") & (importance.response == "test_error")]
    assert row["hidden_size"] == pytest.approx(
        100 * block.loc[block.effect == "hidden_size", "fraction"].iloc[0])
    assert row["pairs"] == pytest.approx(100 * block.loc[block.order == 2, "fraction"].sum())
    total = row[["learning_rate", "hidden_size", "momentum", "input_noise", "pairs",
                 "higher_order"]].sum()
    assert total == pytest.approx(100.0)
    shown = main_effects_display(wide, ["task", "variant"])
    assert shown.loc[0, "learning_rate"].count("±") == 1
    assert shown.loc[shown.task == "music", "pairs (sum)"].iloc[0] == f"{row['pairs']:.1f}"


def test_markdown_table():
    frame = pd.DataFrame({"effect": ["a | b", "c"], "share": ["12.3 ± 1.0", "4.5"]})
    md = to_markdown(frame)
    lines = md.strip().splitlines()
    assert lines[0] == "| effect | share |"
    assert lines[1] == "| :-- | --: |"
    assert lines[2] == r"| a \| b | 12.3 ± 1.0 |"
    assert len(lines) == 4


def test_latex_table_is_booktabs_and_escaped(importance):
    display = importance_display(importance_summary(importance, response="test_error"))
    tex = to_latex(display, caption="Shares of test_error (%)", label="tab:x")
    for command in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}",
                    r"\caption{Shares of test\_error (\%)}", r"\label{tab:x}"):
        assert command in tex
    assert "learning\\_rate $\\times$ hidden\\_size" in tex
    assert "$\\pm$" in tex
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    assert body.count(r"\\") == len(display)
    assert "_" not in body.replace("\\_", "")
    assert latex_escape("a&b#c$d~e^f{g}") == (r"a\&b\#c\$d\textasciitilde{}e"
                                               r"\textasciicircum{}f\{g\}")


def test_comparison_summary_rounds_and_marks():
    comparison = fixed_comparison().table
    shown = comparison_summary(comparison)
    assert list(shown.columns[:4]) == ["task", "variant", "n", "mean"]
    nfg = shown[shown.variant == "NFG"].iloc[0]
    assert nfg["significant (top)"] == "yes"
    p = comparison.loc[comparison.variant == "NFG", "p_value"].iloc[0]
    assert nfg["p (top)"] == fmt_p(p)
    ref = shown[shown.variant == "V"].iloc[0]
    assert ref["p (top)"] == "–" and ref["direction (top)"] == "(reference)"
    # Each test's direction stands beside that test, never beside the other one.
    columns = list(shown.columns)
    for test in ("top", "all"):
        at = columns.index(f"p ({test})")
        assert columns[at: at + 3] == [f"p ({test})", f"significant ({test})",
                                       f"direction ({test})"]
    for (_, row), (_, shown_row) in zip(comparison.iterrows(), shown.iterrows()):
        assert shown_row["variant"] == row["variant"]
        if row["direction"] != "reference":
            assert shown_row["direction (top)"] == row["direction"]
            assert shown_row["direction (all)"] == row["direction_all"]
    # the task is printed once per block
    assert shown["task"].tolist().count("speech") == 1


def test_written_files(tmp_path, importance):
    files = write_importance_tables(importance, tmp_path)
    names = sorted(p.name for p in files)
    assert names == sorted(["importance.csv", "importance_test_error.md",
                            "importance_test_error.tex", "main_effects_test_error.md",
                            "main_effects_test_error.tex", "importance_train_time.md",
                            "importance_train_time.tex", "main_effects_train_time.md",
                            "main_effects_train_time.tex"])
    back = pd.read_csv(tmp_path / "importance.csv", dtype={"order": str})
    assert np.allclose(back["fraction"], importance["fraction"])
    quality = ["oob_r2", "signal_p"]
    first = [c for c in importance.columns if c not in quality]
    assert list(back.columns) == first + INTERVAL_COLUMNS + quality  # the file keeps them
    comparison = fixed_comparison().table
    files = write_comparison_tables(comparison, tmp_path)
    assert sorted(p.name for p in files) == ["comparison.csv", "comparison.md",
                                             "comparison.tex"]
    back = pd.read_csv(tmp_path / "comparison.csv")
    assert list(back.columns[:11]) == ["task", "variant", "n", "mean", "median", "std",
                                       "top_n", "top_mean", "p_value", "significant",
                                       "direction"]
    assert "**Variants against V" in (tmp_path / "comparison.md").read_text()
    assert not list(tmp_path.glob(".*.tmp"))
