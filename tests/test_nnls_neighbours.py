"""Non-negative least squares and nearest neighbours without SciPy, against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls
from scipy.spatial import cKDTree

from odyssey_analysis import neighbours
from odyssey_analysis.neighbours import nearest_neighbours
from odyssey_analysis.nnls import nnls


def test_nnls_reaches_scipys_residual_on_random_problems():
    for seed in range(200):
        rng = np.random.default_rng(seed)
        m, n = int(rng.integers(5, 300)), int(rng.integers(1, 10))
        a = rng.standard_normal((m, n)) * 10.0 ** rng.integers(-6, 6, n)
        if seed % 2:
            a = np.abs(a)
        b = rng.standard_normal(m)
        x, residual = nnls(a, b)
        ref_x, ref_residual = scipy_nnls(a, b)
        assert np.all(x >= 0)
        assert residual == pytest.approx(np.linalg.norm(a @ x - b), rel=1e-12, abs=1e-12)
        assert residual <= ref_residual + 1e-12 * np.linalg.norm(b)
        if m > n:  # a unique solution: the same coefficients
            np.testing.assert_allclose(x * np.linalg.norm(a, axis=0),
                                       ref_x * np.linalg.norm(a, axis=0),
                                       atol=1e-9 * np.linalg.norm(b))


def test_nnls_known_answers():
    # Unconstrained optimum inside the orthant: the least-squares solution.
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    x, _ = nnls(a, a @ np.array([2.0, 3.0]))
    np.testing.assert_allclose(x, [2.0, 3.0], atol=1e-12)
    # b pulls the second coefficient negative: it sits on the bound, the first is the
    # one-variable least squares b·a₀ / a₀·a₀.
    b = np.array([1.0, -2.0, 0.0])
    x, residual = nnls(a, b)
    np.testing.assert_allclose(x, [0.5, 0.0], atol=1e-12)
    assert residual == pytest.approx(np.linalg.norm(a @ [0.5, 0.0] - b))
    # A column of tiny values (squared lags) is still used where it helps.
    lag2 = np.linspace(0, 1e-6, 50)
    a = np.column_stack([np.ones(50), lag2])
    x, _ = nnls(a, 0.04 + 5e4 * lag2)
    np.testing.assert_allclose(x, [0.04, 5e4], rtol=1e-8)


@pytest.mark.parametrize("n, d", [(12, 1), (300, 3), (900, 7)])
def test_nearest_neighbours_match_a_k_d_tree(n, d):
    x = np.random.default_rng(n).random((n, d))
    got = nearest_neighbours(x, 3)
    _, ref = cKDTree(x).query(x, 4)
    np.testing.assert_array_equal(got, ref[:, 1:])


def test_nearest_neighbours_never_return_the_point_itself(monkeypatch):
    x = np.array([[0.0], [0.0], [1.0], [3.0]])  # two points coincide
    for limit in (2048, 2):  # brute force, then the k-d tree
        monkeypatch.setattr(neighbours, "BRUTE_FORCE_POINTS", limit)
        got = nearest_neighbours(x, 2)
        assert not np.any(got == np.arange(4)[:, None])
        assert set(got[0]) == {1, 2} and set(got[1]) == {0, 2}
    with pytest.raises(ValueError):
        nearest_neighbours(x, 4)
