"""A study on a real Dask cluster: the same numbers, and one task per fit.

joblib's Dask backend would also send the trees of each forest to the cluster (its
tasks run under the Dask backend themselves); the surrogate builds them on threads of
the worker instead, so a study is as many tasks as fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import SearchSpace, TrialTable, analyze
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.space import Hyperparameter

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.slow  # see pyproject.toml: `make test-quick` skips it

SPACE = SearchSpace((
    Hyperparameter("learning_rate", "float", 1e-5, 1e-1, "log"),
    Hyperparameter("width", "int", 16, 1024, "log"),
    Hyperparameter("dropout", "float", 0.0, 0.8),
))


def small_study(groups: int = 3, n: int = 120, seed: int = 0) -> TrialTable:
    rng = np.random.default_rng(seed)
    m = groups * n
    lr = 10 ** rng.uniform(-5, -1, m)
    width = np.round(np.exp(rng.uniform(np.log(15.5), np.log(1024.5), m))).clip(16, 1024)
    dropout = rng.uniform(0, 0.8, m)
    u = np.log10(lr) + 3
    frame = pd.DataFrame({
        "task": [f"t{i % groups}" for i in range(m)], "learning_rate": lr,
        "width": width.astype(int), "dropout": dropout,
        "loss": 0.5 * u ** 2 - 0.1 * np.log2(width) + 0.3 * dropout * (u > 0)
        + rng.normal(0, 0.05, m),
        "error": u ** 2 * dropout + rng.normal(0, 0.05, m)})
    return TrialTable.from_frame(frame, hyperparameters=SPACE.names,
                                 responses=["loss", "error"], group_by=["task"], space=SPACE)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as c:
        yield c


def test_dask_study_is_bit_identical_and_one_task_per_fit(client):
    table = small_study()
    options = dict(method=method_from_options(n_trees=16, grid_points=5, pair_grid_points=4))
    local = analyze(table, n_jobs=1, **options)
    with distributed.get_task_stream(client=client) as stream:
        with joblib.parallel_config(backend="dask"):
            remote = analyze(table, **options)
    pd.testing.assert_frame_equal(remote.importance_table(), local.importance_table(),
                                  check_exact=True)
    for key, result in local.results.items():
        other = remote.results[key]
        assert result.oob_r2 == other.oob_r2
        np.testing.assert_array_equal(result.main_variance, other.main_variance)
        np.testing.assert_array_equal(result.pair_variance, other.pair_variance)
    tasks = [t for t in stream.data if "probe" not in str(t["key"])]
    assert len(local) == 6
    assert len(tasks) == len(local), sorted({str(t["key"]).split("-")[0] for t in tasks})
