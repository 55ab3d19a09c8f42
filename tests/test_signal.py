"""The signal test: a fit without detectable signal reports no shares, and says so."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from odyssey_analysis.cli import main
from odyssey_analysis.methods import FanovaMethod
from odyssey_analysis.quality import FitQualityWarning
from odyssey_analysis.significance import signal_note, signal_test, t_p_value
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.surrogate import ForestSettings, RandomForestSurrogate
from odyssey_analysis.trials import TrialTable

SPACE = SearchSpace((Hyperparameter("lr", "float", 1e-5, 1e-1, "log"),
                     Hyperparameter("dropout", "float", 0.0, 0.5),
                     Hyperparameter("layers", "ordinal", choices=(1, 2, 3, 4))))


def sweep(n: int, signal: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"lr": 10 ** rng.uniform(-5, -1, n), "dropout": rng.uniform(0, 0.5, n),
                          "layers": rng.integers(1, 5, n)})
    frame["val_error"] = (signal * (np.log10(frame["lr"]) + 3) ** 2 + rng.random(n))
    return frame


def test_t_p_value_is_the_prediction_tail_of_student_t():
    null = np.array([-0.3, -0.25, -0.2, -0.35, -0.28])
    mean, sd = null.mean(), null.std(ddof=1)
    score = (0.1 - mean) / (sd * math.sqrt(1 + 1 / 5))
    assert t_p_value(0.1, null) == pytest.approx(stats.t.sf(score, 4))
    assert t_p_value(0.0, np.zeros(4)) == 1.0
    assert t_p_value(0.1, np.zeros(4)) == 0.0


def test_a_null_observation_gets_a_uniform_p_value():
    # Observed and null values from one normal distribution: P(p <= a) = a.
    rng = np.random.default_rng(0)
    p = np.array([t_p_value(rng.standard_normal(), rng.standard_normal(20))
                  for _ in range(4000)])
    for a in (0.01, 0.05, 0.5):
        assert abs(np.mean(p <= a) - a) < 3 * math.sqrt(a * (1 - a) / 4000) + 0.002


def test_noise_has_no_signal_and_a_clear_signal_is_found():
    surrogate = RandomForestSurrogate(ForestSettings())
    frame = sweep(200, 0.0, 1)
    x, y = SPACE.encode(frame), frame["val_error"].to_numpy()
    noise = signal_test(surrogate, x, y, [0, 1])
    assert not noise.detected and noise.p_value > 0.01 and noise.permutations in (5, 10, 20)
    frame = sweep(200, 0.5, 2)
    clear = signal_test(surrogate, SPACE.encode(frame), frame["val_error"].to_numpy(), [0, 2])
    assert clear.detected and clear.p_value < 1e-3
    assert clear.permutations == 5  # the first permutations already decide
    assert signal_note(0.7, clear) is None


def test_a_fit_without_signal_reports_no_shares():
    frame = sweep(200, 0.0, 1)
    fit = FanovaMethod(curves=False).fit(SPACE.encode(frame), frame["val_error"].to_numpy(),
                                         SPACE)
    assert not fit.has_signal
    assert fit.signal_note.startswith("no detectable signal (OOB R² −")
    imp = fit.importance_table()
    assert imp[["fraction", "fraction_std"]].isna().all().all()
    assert (imp["signal_p"] == fit.signal.p_value).all() and (imp["oob_r2"] == fit.oob_r2).all()
    assert fit.signal_note in repr(fit)
    assert FanovaMethod(signal_permutations=0, curves=False).fit(
        SPACE.encode(frame), frame["val_error"].to_numpy(), SPACE).has_signal


def test_the_api_warns_and_the_console_says_it_in_one_line(tmp_path):
    frame = sweep(200, 0.0, 1)
    path = tmp_path / "noise.csv"
    frame.to_csv(path, index=False)
    from odyssey_analysis.study import analyze

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = analyze(TrialTable.from_frame(frame, responses=["val_error"]), n_jobs=1,
                        curves=False)
    quality = [w for w in caught if issubclass(w.category, FitQualityWarning)]
    assert len(quality) == 1 and "no detectable signal" in str(quality[0].message)
    fit = next(iter(study))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(path), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "no detectable signal" in ln]
    assert len(lines) == 1 and fit.signal_note in lines[0]
    assert "%" not in result.output.split("OOB R²", 1)[1]  # no share printed
    assert "Warning" not in result.output
    imp = pd.read_csv(out / "importance.csv")
    assert imp["fraction"].isna().all() and imp["signal_p"].gt(0.01).all()


def sequential_signal_test(surrogate, x, y, seed_key, trees=32, permutations=20, first=5):
    """The test as one forest at a time: the definition the batched stages must match."""
    from odyssey_analysis.significance import EARLY_NULL_P, EARLY_STOP_P

    rng = np.random.default_rng([*seed_key, 7])

    def r2(values):
        model = surrogate.replicate(n_trees=trees, seed=int(rng.integers(2 ** 31)))
        return float(model.fit(x, values).oob_r2)

    observed = r2(np.asarray(y, dtype=float))
    null = []
    for _ in range(permutations):
        null.append(r2(y[rng.permutation(len(y))]))
        if len(null) in (first, 2 * first) and len(null) < permutations:
            p = t_p_value(observed, np.array(null))
            if p < EARLY_STOP_P or p > EARLY_NULL_P:
                break
    return observed, null, t_p_value(observed, np.array(null))


@pytest.mark.parametrize("signal", [0.0, 0.02, 0.05, 1.0])
def test_batched_stages_give_the_one_at_a_time_test(signal):
    from odyssey_analysis.forest import CompiledForestSurrogate

    frame = sweep(120, signal, seed=int(signal * 100))
    x = np.column_stack([SPACE[n].encode(frame[n]) for n in SPACE.names])
    y = frame["val_error"].to_numpy()
    surrogate = CompiledForestSurrogate(ForestSettings(seed=0), n_jobs=1)
    for key in ([0, 1], [3, 9]):
        test = signal_test(surrogate, x, y, key)
        observed, null, p = sequential_signal_test(surrogate, x, y, key)
        assert test.statistic == observed
        assert test.permutations == len(null)
        assert test.null_mean == pytest.approx(np.mean(null), rel=1e-15)
        assert test.p_value == p


def test_a_large_sweep_is_tested_on_a_subsample_first():
    """Above SIGNAL_SUBSAMPLE trials: a clear signal is decided on the subsample, with
    its p-value doubled; no signal runs both stages and reports twice the smaller p."""
    from odyssey_analysis.forest import CompiledForestSurrogate
    from odyssey_analysis.significance import SIGNAL_SUBSAMPLE

    surrogate = CompiledForestSurrogate(ForestSettings(seed=0), n_jobs=1)
    n = SIGNAL_SUBSAMPLE + 500
    for signal, key in ((0.5, [0, 5]), (0.0, [0, 6])):
        frame = sweep(n, signal, seed=key[1])
        x = np.column_stack([SPACE[name].encode(frame[name]) for name in SPACE.names])
        y = frame["val_error"].to_numpy()
        staged = signal_test(surrogate, x, y, key)
        whole = signal_test(surrogate, x, y, key, subsample=0)
        pick = np.sort(np.random.default_rng([*key, 8]).choice(n, SIGNAL_SUBSAMPLE,
                                                               replace=False))
        small = signal_test(surrogate, x[pick], y[pick], key)
        if signal:
            assert staged.detected and staged.trials == SIGNAL_SUBSAMPLE
            assert staged.p_value == 2 * small.p_value
            assert staged.statistic == small.statistic
        else:
            assert not staged.detected and staged.trials is None
            assert staged.p_value == min(1.0, 2 * min(small.p_value, whole.p_value))
            assert staged.statistic == whole.statistic
