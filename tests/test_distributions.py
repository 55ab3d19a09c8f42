"""Student's t tail and the normal quantile without SciPy, checked against SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from odyssey_analysis.distributions import normal_quantile, student_t_sf


def test_student_t_sf_matches_scipy_to_1e_12_relative():
    scores = np.concatenate([np.linspace(-10.0, 40.0, 501),
                             [1e-8, -1e-8, 1e-3, 60.0, 100.0, 1e3]])
    worst = 0.0
    for df in range(2, 61):
        for t in scores:
            ref = float(stats.t.sf(t, df))
            if ref < 1e-300:
                continue
            worst = max(worst, abs(student_t_sf(t, df) - ref) / ref)
    assert worst < 1e-12


def test_student_t_sf_known_values():
    # Cauchy (df 1): 1/2 − atan(t)/π; df 2: (1 − t/r) / 2 with r = √(2 + t²), written
    # without cancellation.
    for t in (-3.0, -0.5, 0.0, 0.25, 1.0, 7.0, 1e6):
        assert student_t_sf(t, 1) == pytest.approx(math.atan2(1.0, t) / math.pi, rel=1e-14)
        r = math.sqrt(2 + t * t)
        df2 = 0.5 * (r - t) / r if t < 0 else 1 / (r * (r + t))
        assert student_t_sf(t, 2) == pytest.approx(df2, rel=1e-13)
    assert student_t_sf(0.0, 17) == 0.5
    assert student_t_sf(math.inf, 5) == 0.0
    assert student_t_sf(-math.inf, 6) == 1.0
    assert math.isnan(student_t_sf(math.nan, 3))


def test_student_t_sf_is_symmetric_and_tends_to_the_normal():
    for df in (2, 3, 10, 31):
        for t in (0.3, 1.7, 4.0):
            assert student_t_sf(-t, df) == pytest.approx(1 - student_t_sf(t, df), rel=1e-14)
    assert student_t_sf(1.5, 5000) == pytest.approx(1 - normal_quantile_cdf(1.5), rel=1e-3)


def normal_quantile_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@pytest.mark.parametrize("df", [0, -1, 2.5, True])
def test_student_t_sf_refuses_non_integer_degrees_of_freedom(df):
    with pytest.raises(ValueError, match="degrees of freedom"):
        student_t_sf(1.0, df)


def test_normal_quantile_matches_scipy():
    for p in (1e-10, 0.025, 0.05, 0.5, 0.9, 0.95, 0.975, 1 - 1e-9):
        assert normal_quantile(p) == pytest.approx(float(stats.norm.ppf(p)), rel=1e-12,
                                                   abs=1e-15)
