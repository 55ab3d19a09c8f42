"""Variant comparison: Welch's t-tests against the reference, per task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from odyssey_analysis import InputError, TrialTable
from odyssey_analysis.compare import (
    CONTRACT_COLUMNS,
    compare_variants,
    holm_adjust,
    order_variants,
    top_count,
    top_trials,
)

TASKS = ("speech", "handwriting", "music")
VARIANTS = ("V", "CIFG", "FGR", "NP", "NOG", "NIAF", "NIG", "NFG", "NOAF")


def make_sweep(
    n_per: int = 40,
    tasks: tuple[str, ...] = TASKS,
    variants: tuple[str, ...] = VARIANTS,
    shifts: dict[str, float] | None = None,
    seed: int = 0,
    n_diverged: int = 0,
) -> pd.DataFrame:
    """A synthetic sweep with the bundled table's schema.

    The error is a bowl in log learning rate (best near 1e-3), falls with hidden size,
    rises a little with input noise and ignores momentum; ``shifts`` adds a constant to a
    variant's errors (NFG and NOAF are worse by default, everything else equal).
    """
    shifts = {"NFG": 0.15, "NOAF": 0.12} if shifts is None else shifts
    rng = np.random.default_rng(seed)
    base = {"speech": 0.30, "handwriting": 0.25, "music": 8.5}
    scale = {"speech": 1.0, "handwriting": 1.0, "music": 10.0}
    rows = []
    trial = 0
    for task in tasks:
        for variant in variants:
            for _ in range(n_per):
                trial += 1
                lr = float(np.exp(rng.uniform(np.log(1e-6), np.log(1e-2))))
                hidden = int(np.round(np.exp(rng.uniform(np.log(20), np.log(200)))))
                momentum = float(1 - np.exp(rng.uniform(np.log(0.01), np.log(1.0))))
                noise = float(rng.uniform(0, 1))
                err = (base.get(task, 0.3)
                       + 0.02 * (np.log10(lr) + 3) ** 2
                       - 0.04 * np.log10(hidden / 20)
                       + 0.03 * noise
                       + shifts.get(variant, 0.0)) * scale.get(task, 1.0)
                valid = err + rng.normal(0, 0.01 * scale.get(task, 1.0))
                test = err + rng.normal(0, 0.01 * scale.get(task, 1.0))
                rows.append({
                    "task": task, "variant": variant, "trial": trial, "seed": trial,
                    "hidden_size": hidden, "learning_rate": lr, "momentum": momentum,
                    "input_noise": noise, "valid_error": valid, "test_error": test,
                    "metric": "nll" if task == "music" else "error",
                    "train_time": 2.0 * hidden * (1 + rng.uniform(0, 0.1)),
                    "epochs": int(rng.integers(5, 30)),
                    "n_params": 4 * hidden * (hidden + 10) + (400 if variant == "FGR" else 0),
                    "diverged": False, "status": "ok",
                })
    frame = pd.DataFrame(rows)
    if n_diverged:
        idx = rng.choice(len(frame), n_diverged, replace=False)
        frame.loc[idx, ["valid_error", "test_error"]] = np.nan
        frame.loc[idx, "diverged"] = True
        frame.loc[idx, "status"] = "diverged"
    return frame


@pytest.fixture(scope="module")
def sweep() -> pd.DataFrame:
    return make_sweep(n_per=60, seed=3)


def test_columns_follow_the_contract(sweep):
    out = compare_variants(sweep)
    assert list(out.columns[: 1 + len(CONTRACT_COLUMNS)]) == ["task", *CONTRACT_COLUMNS]
    for extra in ("p_value_all", "significant_all", "direction_all", "top_median",
                  "top_std", "top_params_mean"):
        assert extra in out.columns
    assert len(out) == len(TASKS) * len(VARIANTS)
    # the paper's variant order, the reference first, within each task
    assert out.loc[out.task == "music", "variant"].tolist() == list(VARIANTS)
    assert out["task"].drop_duplicates().tolist() == list(TASKS)


def test_p_values_match_an_independent_welch_test(sweep):
    out = compare_variants(sweep, top_fraction=0.2)
    for task in TASKS:
        in_task = sweep[sweep.task == task]
        ref = in_task[in_task.variant == "V"]
        ref_top = ref.nsmallest(12, "valid_error")
        for variant in ("CIFG", "NFG", "NOAF"):
            sub = in_task[in_task.variant == variant]
            top = sub.nsmallest(12, "valid_error")
            row = out[(out.task == task) & (out.variant == variant)].iloc[0]
            expect_top = stats.ttest_ind(top.test_error, ref_top.test_error,
                                         equal_var=False).pvalue
            expect_all = stats.ttest_ind(sub.test_error, ref.test_error,
                                         equal_var=False).pvalue
            assert row.top_n == 12
            assert row.p_value == pytest.approx(expect_top, rel=1e-12)
            assert row.p_value_all == pytest.approx(expect_all, rel=1e-12)
            assert row.top_mean == pytest.approx(top.test_error.mean())
            assert row["std"] == pytest.approx(sub.test_error.std(ddof=1))
            assert row.top_params_mean == pytest.approx(top.n_params.mean())


def test_planted_difference_is_found_and_null_is_not(sweep):
    out = compare_variants(sweep).set_index(["task", "variant"])
    for task in TASKS:
        assert out.loc[(task, "NFG"), "significant"]
        assert out.loc[(task, "NFG"), "direction"] == "worse"
        assert out.loc[(task, "NFG"), "significant_all"]
        assert out.loc[(task, "NOAF"), "direction_all"] == "worse"
        assert not out.loc[(task, "CIFG"), "significant_all"]
        assert out.loc[(task, "CIFG"), "p_value_all"] > 0.05


def test_better_variant_and_maximize_flip_direction():
    frame = make_sweep(n_per=50, shifts={"NP": -0.2}, variants=("V", "NP"), seed=1)
    out = compare_variants(frame).set_index(["task", "variant"])
    assert out.loc[("speech", "NP"), "direction"] == "better"
    frame = frame.assign(test_error=-frame.test_error, valid_error=-frame.valid_error)
    flipped = compare_variants(frame, maximize=True, select_maximize=True).set_index(
        ["task", "variant"])
    assert flipped.loc[("speech", "NP"), "direction"] == "better"
    assert flipped.loc[("speech", "NP"), "top_mean"] == pytest.approx(
        -out.loc[("speech", "NP"), "top_mean"])


def test_reference_row_has_no_test(sweep):
    out = compare_variants(sweep)
    ref = out[out.variant == "V"]
    assert ref.p_value.isna().all() and ref.p_value_all.isna().all()
    assert not ref.significant.any()
    assert set(ref.direction) == {"reference"}


def test_holm_correction_within_each_task(sweep):
    assert np.allclose(holm_adjust(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])
    assert np.isnan(holm_adjust(np.array([np.nan, 0.2])))[0]
    raw = compare_variants(sweep)
    adj = compare_variants(sweep, holm=True)
    assert np.allclose(adj.p_value_raw, raw.p_value, equal_nan=True)
    for task in TASKS:
        expect = holm_adjust(raw.loc[raw.task == task, "p_value"].to_numpy())
        assert np.allclose(adj.loc[adj.task == task, "p_value"], expect, equal_nan=True)
    assert (adj.p_value.fillna(1) >= raw.p_value.fillna(1) - 1e-15).all()


def test_too_few_trials_gives_nan_and_a_note():
    frame = make_sweep(n_per=12, variants=("V", "NIG"), tasks=("speech",), seed=2)
    out = compare_variants(frame, top_fraction=0.05).set_index("variant")
    assert out.loc["NIG", "top_n"] == 1
    assert np.isnan(out.loc["NIG", "p_value"])
    assert "at least 2 trials" in out.loc["NIG", "note"]
    assert np.isfinite(out.loc["NIG", "p_value_all"])
    assert not out.loc["NIG", "significant"]


def test_trial_table_input_and_non_finite_rows():
    frame = make_sweep(n_per=30, n_diverged=5, seed=4)
    table = TrialTable.from_frame(frame, source="sweep.csv")
    out = compare_variants(table)
    assert out.n.sum() == len(frame) - 5
    raw = compare_variants(frame)
    assert raw.n.sum() == len(frame) - 5
    assert "5 trial(s)" in raw.note.iloc[0]


@pytest.mark.parametrize("kwargs, column", [
    ({"metric": "bleu"}, "bleu"),
    ({"select_by": "val_loss"}, "val_loss"),
    ({"task_key": "dataset"}, "dataset"),
])
def test_missing_columns_are_named(sweep, kwargs, column):
    with pytest.raises(InputError, match=f"column '{column}'"):
        compare_variants(sweep, **kwargs)


def test_missing_reference_is_an_input_error(sweep):
    with pytest.raises(InputError, match="reference variant 'LSTM' not found"):
        compare_variants(sweep, reference="LSTM")
    partial = sweep[~((sweep.task == "music") & (sweep.variant == "V"))]
    with pytest.raises(InputError, match="task 'music'"):
        compare_variants(partial)


def test_bad_values_are_input_errors(sweep):
    bad = sweep.astype({"test_error": object})
    bad.loc[7, "test_error"] = "n/a"
    with pytest.raises(InputError, match="row 8"):
        compare_variants(bad)
    with pytest.raises(InputError, match="top fraction"):
        compare_variants(sweep, top_fraction=0)
    with pytest.raises(InputError, match="significance level"):
        compare_variants(sweep, alpha=1.5)


def test_no_task_column():
    frame = make_sweep(n_per=20, tasks=("speech",), variants=("V", "NFG")).drop(columns="task")
    out = compare_variants(frame, task_key=None)
    assert list(out.columns[: len(CONTRACT_COLUMNS)]) == list(CONTRACT_COLUMNS)
    assert out.variant.tolist() == ["V", "NFG"]


def test_selection_helpers():
    assert top_count(200, 0.1) == 20
    assert top_count(15, 0.1) == 2
    assert top_count(3, 0.1) == 1
    assert top_count(0, 0.1) == 0
    assert order_variants(["NOAF", "X", "V", "CIFG"], "V") == ["V", "CIFG", "NOAF", "X"]
    assert order_variants(["NOAF", "V", "CIFG"], "CIFG") == ["CIFG", "V", "NOAF"]
    frame = pd.DataFrame({"g": list("aabbb"), "s": [3.0, 1.0, 2.0, 2.0, np.nan]})
    top = top_trials(frame, "s", 0.5, by=["g"])
    assert top.index.tolist() == [1, 2]
    assert top_trials(frame, "s", 0.5, by=["g"], maximize=True).index.tolist() == [0, 2]


def test_roles_left_out_are_taken_from_the_table_as_the_command_line_takes_them():
    from odyssey_analysis.choices import choose

    frame = make_sweep(n_per=20, tasks=("speech", "music"), variants=("V", "NFG"))
    table = TrialTable.from_frame(frame)
    choices = choose(table, with_time=False)
    explicit = compare_variants(table, metric=choices.metric, select_by=choices.select_by,
                                reference=choices.reference, task_key=choices.task_keys,
                                variant_key=choices.variant_key,
                                params_column=choices.params)
    pd.testing.assert_frame_equal(compare_variants(table), explicit)
    assert (choices.metric, choices.select_by, choices.reference) == (
        "test_error", "valid_error", "V")


def test_roles_of_a_sweep_with_other_names():
    frame = make_sweep(n_per=20, tasks=("speech",), variants=("V", "NFG")).rename(
        columns={"test_error": "test_loss", "valid_error": "val_loss", "variant": "model"})
    frame["model"] = frame["model"].map({"V": "base", "NFG": "small"})
    out = compare_variants(frame, variant_key="model")
    assert set(out["metric"]) == {"test_loss"} and set(out["select_by"]) == {"val_loss"}
    assert out["variant"].tolist()[0] == "base"  # the first variant is the reference
