"""Cross-check against the reference ``fanova`` package where it is installed.

The reference is optional (it needs SWIG and a compiler, and its licence is
non-commercial); this test skips cleanly without it. Both are given the same encoded
data, so they integrate under the same measure; the forests differ (pyrfr against
scikit-learn), so the importances agree within the spread across trees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import SearchSpace, TrialTable, analyze
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.space import Hyperparameter


@pytest.fixture(scope="module")
def reference():
    np_float = getattr(np, "float", None)
    if np_float is None:
        np.float = float  # noqa: NPY001 - the reference still uses the removed alias
    fanova = pytest.importorskip("fanova")
    return fanova.fANOVA


def test_main_effects_agree_with_the_reference(reference):
    from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter

    rng = np.random.default_rng(0)
    n = 600
    lr = 10 ** rng.uniform(-5, -1, n)
    width = rng.uniform(0, 1, n)
    noise = rng.uniform(0, 1, n)
    y = (np.log10(lr) + 3) ** 2 + 0.5 * width + 0.2 * width * noise + rng.normal(0, 0.02, n)
    space = SearchSpace((Hyperparameter("lr", "float", 1e-5, 1e-1, "log"),
                         Hyperparameter("width", "float", 0.0, 1.0),
                         Hyperparameter("noise", "float", 0.0, 1.0)))
    frame = pd.DataFrame({"lr": lr, "width": width, "noise": noise, "y": y})
    table = TrialTable.from_frame(frame, responses=["y"], space=space, group_by=[])
    method = method_from_options(n_trees=32, grid_points=5, pair_grid_points=3)
    ours = next(iter(analyze(table, method, space=space, n_jobs=1)))
    mean, std = ours.main_fraction()

    cs = ConfigurationSpace()
    cs.add([UniformFloatHyperparameter(name, 0.0, 1.0) for name in space.names])
    # The reference draws 7/10 of the features per split by default; ours all of them.
    theirs = reference(space.encode(frame), y, config_space=cs, n_trees=32, seed=0,
                       max_features=3)
    for j, name in enumerate(space.names):
        ref = theirs.quantify_importance((j,))[(j,)]["individual importance"]
        assert mean.iloc[j] == pytest.approx(ref, abs=max(0.03, 3 * std.iloc[j])), name
