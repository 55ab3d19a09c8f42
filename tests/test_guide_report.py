"""The report's Guidelines section, and the variant kept as a factor when declared one."""

from __future__ import annotations

import json

from test_compare import make_sweep

from odyssey_analysis import method_from_options
from odyssey_analysis.report import build_report
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.trials import TrialTable

ODD = "N<FG>"  # a variant name that must be escaped in the page


def _space(with_variant: bool) -> SearchSpace:
    hps = [Hyperparameter("learning_rate", "float", 1e-6, 1e-2, "log"),
           Hyperparameter("hidden_size", "int", 20, 200, "log"),
           Hyperparameter("momentum", "float", 0.0, 0.99, "one_minus_log"),
           Hyperparameter("input_noise", "float", 0.0, 1.0)]
    if with_variant:
        hps.append(Hyperparameter("variant", "categorical", choices=("V", ODD)))
    return SearchSpace(tuple(hps))


def test_a_declared_variant_stays_a_factor_and_the_report_says_so(tmp_path):
    frame = make_sweep(n_per=60, tasks=("speech",), variants=("V", ODD),
                       shifts={ODD: 0.15}, seed=3)
    table = TrialTable.from_frame(frame, space=_space(True), group_by=["task"],
                                  responses=["test_error", "valid_error"])
    report = build_report(table, tmp_path / "r", method=method_from_options(n_trees=8), n_jobs=1)
    assert report.study.group_keys == ["task"]
    assert "variant" in report.study.space.names
    assert any("stays a factor" in note for note in report.notes)
    fit = report.study.get("test_error", task="speech")
    assert fit.main_fraction().mean["variant"] > 0.3  # the shift is most of the variance
    page = (tmp_path / "r" / "index.html").read_text()
    assert 'id="guidelines"' in page and 'id="factor"' in page
    assert ODD not in page and "N&lt;FG&gt;" in page
    body = json.loads((tmp_path / "r" / "guidelines.json").read_text())
    variant = body["groups"][0]["hyperparameters"]["variant"]
    assert variant["verdict"] == "tune" and variant["good_region"] == ["V"]
    assert (tmp_path / "r" / "guidelines.md").read_text().startswith("# Guidelines for")


def test_an_undeclared_variant_still_groups_the_report(tmp_path):
    frame = make_sweep(n_per=20, tasks=("speech",), variants=("V", "NP"), seed=3)
    table = TrialTable.from_frame(frame, space=_space(False), group_by=["task"],
                                  responses=["test_error"])
    report = build_report(table, tmp_path / "r", method=method_from_options(n_trees=4), n_jobs=1)
    assert report.study.group_keys == ["task", "variant"]
    assert any("grouped by variant too" in note for note in report.notes)
    assert 'id="factor"' not in (tmp_path / "r" / "index.html").read_text()


def test_trials_numbered_per_variant_load_when_the_variant_is_a_factor():
    import pandas as pd
    import pytest

    from odyssey_analysis import InputError

    frame = make_sweep(n_per=12, tasks=("speech",), variants=("V", "NP"), seed=1)
    frame["trial"] = frame.groupby("variant").cumcount()  # 0, 1, ... in each variant
    table = TrialTable.from_frame(frame, hyperparameters=["learning_rate", "variant"],
                                  group_by=["task"], responses=["test_error"])
    assert len(table) == 24
    twice = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
    with pytest.raises(InputError, match="duplicated trial id"):
        TrialTable.from_frame(twice, hyperparameters=["learning_rate", "variant"],
                              group_by=["task"], responses=["test_error"])
