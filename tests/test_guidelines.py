"""Guidelines on responses whose good regions and optimum shifts are known in closed form.

The responses are functions of the encoded coordinates ``u`` (uniform on [0, 1] under the
sampling measure), so the marginal of each hyperparameter, its good region for a given
tolerance and the position of a pair's optimum are known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import analyze, method_from_options
from odyssey_analysis.guidelines import (
    STABLE_FRACTION,
    Share,
    good_interval,
    study_guidelines,
    verdict,
)
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.trials import TrialTable

SPACE = SearchSpace((
    Hyperparameter("lr", "float", 1e-4, 1.0, "log"),
    Hyperparameter("size", "float", 16.0, 256.0, "log"),
    Hyperparameter("null", "float", 0.0, 1.0),
))
#: Decades spanned by the learning rate's range.
LR_DECADES = 4.0
TAU = 0.01


def _study(func, n: int = 800, seed: int = 0, noise: float = 0.003, maximize: bool = False,
           n_trees: int = 32):
    rng = np.random.default_rng(seed)
    u = rng.random((n, 3))
    frame = pd.DataFrame({hp.name: hp.decode(u[:, j]) for j, hp in enumerate(SPACE)})
    y = func(u) + noise * rng.standard_normal(n)
    frame["y"] = -y if maximize else y
    table = TrialTable.from_frame(frame, space=SPACE, responses=["y"], group_by=[],
                                  **({"maximize": ["y"]} if maximize else
                                     {"minimize": ["y"]}))
    return analyze(table, method_from_options(n_trees=n_trees, seed=0))


def separable(u: np.ndarray) -> np.ndarray:
    """lr: interior optimum at u = 0.6; size: bigger is better; null: no effect."""
    return (u[:, 0] - 0.6) ** 2 + 0.05 * (1 - u[:, 1])


def _lr_u(lr: float) -> float:
    return float(SPACE["lr"].encode(np.array([lr]))[0])


@pytest.fixture(scope="module")
def separable_guide():
    return study_guidelines(_study(separable), tolerance=TAU)


def test_good_region_contains_the_true_one_and_is_at_most_twice_as_wide(separable_guide):
    g = separable_guide.get("y").hyperparameters["lr"]
    # The marginal is (u - 0.6)² + const: within τ of the best for |u - 0.6| ≤ √τ.
    true_lo, true_hi = 0.6 - np.sqrt(TAU), 0.6 + np.sqrt(TAU)
    lo, hi = (_lr_u(v) for v in g.good_region)
    assert lo <= true_lo + 0.01 and hi >= true_hi - 0.01  # one grid step of slack
    assert (hi - lo) <= 2.0 * (true_hi - true_lo)
    assert g.shape == "interior optimum"
    assert g.verdict == "tune"
    low_end, high_end = g.low_end, g.high_end
    assert low_end[0] <= g.good_region[0] <= low_end[1]
    assert high_end[0] <= g.good_region[1] <= high_end[1]


def test_null_hyperparameter_is_ignored_and_monotone_one_has_a_knee(separable_guide):
    group = separable_guide.get("y")
    assert group.hyperparameters["null"].verdict == "ignore"
    assert group.hyperparameters["null"].shape == "flat"
    size = group.hyperparameters["size"]
    assert size.shape == "monotone" and size.better_end == "higher"
    # 0.05 (1 - u) is within τ = 0.01 of its best (u = 1) for u ≥ 0.8: the good region
    # [knee, top] holds the true [0.8, 1] and is at most twice as wide.
    knee_u = float(SPACE["size"].encode(np.array([size.knee]))[0])
    assert 0.6 <= knee_u <= 0.81


def test_direction_is_respected():
    guide = study_guidelines(_study(separable, maximize=True), tolerance=TAU)
    g = guide.get("y")
    lo, hi = (_lr_u(v) for v in g.hyperparameters["lr"].good_region)
    assert lo < 0.6 < hi
    assert g.hyperparameters["size"].better_end == "higher"
    assert g.direction == "maximize"


def moving(u: np.ndarray) -> np.ndarray:
    """The best lr moves from u = 0.35 to 0.65 across size's range: 1.2 decades."""
    return 4 * (u[:, 0] - (0.35 + 0.3 * u[:, 1])) ** 2


def still(u: np.ndarray) -> np.ndarray:
    """The best lr stays at u = 0.5 whatever the size; size matters on its own."""
    return 4 * (u[:, 0] - 0.5) ** 2 + 1.5 * (u[:, 1] - 0.5) ** 2


def _pair(guide, a: str, b: str):
    return next(p for p in guide.get("y").pairs if (p.a, p.b) == (a, b))


def test_a_moving_optimum_is_not_stable_and_its_shift_is_within_its_interval():
    guide = study_guidelines(_study(moving), tolerance=TAU)
    p = _pair(guide, "lr", "size")
    true_shift = 0.3 * LR_DECADES
    assert not p.stable
    assert p.shift_interval[0] <= p.optimum_shift <= p.shift_interval[1]
    assert p.optimum_shift == pytest.approx(true_shift, abs=0.25)
    assert p.shift_fraction > STABLE_FRACTION
    assert "together" in p.reading


def test_an_optimum_that_does_not_move_is_stable():
    guide = study_guidelines(_study(still), tolerance=TAU)
    p = _pair(guide, "lr", "size")
    assert p.stable
    assert abs(p.optimum_shift) < 0.25
    assert p.shift_interval[0] <= p.optimum_shift <= p.shift_interval[1]
    assert "held at any value" in p.reading


def test_pairs_answer_either_order_with_the_grid_transposed():
    fit = next(iter(_study(still, n=200)))
    ab = fit.pairs[("lr", "size")]
    ba = fit.pairs[("size", "lr")]
    assert ba.names == ("size", "lr")
    np.testing.assert_array_equal(ba.total_mean, ab.total_mean.T)
    np.testing.assert_array_equal(ba.values_a, ab.values_b)
    assert ("size", "lr") in fit.pairs and fit.pairs.get(("size", "lr")) is not None
    with pytest.raises(KeyError):
        fit.pairs[("lr", "nothing")]


def test_verdict_rule():
    assert verdict(Share(0.30, 0.20, 0.40, "x")) == "tune"
    assert verdict(Share(0.06, 0.005, 0.10, "x")) == "fix"
    assert verdict(Share(0.02, 0.01, 0.03, "x")) == "fix"
    assert verdict(Share(0.004, 0.0, 0.008, "x")) == "ignore"


def test_good_interval_interpolates_the_crossings():
    u = np.linspace(0, 1, 11)
    lo, hi, best = good_interval(u, (u - 0.5) ** 2, 0.04)
    assert best == 5
    assert lo == pytest.approx(0.3, abs=0.02) and hi == pytest.approx(0.7, abs=0.02)
    lo, hi, _ = good_interval(u, -u, 0.25)  # monotone: the region reaches the end
    assert hi == 1.0 and lo == pytest.approx(0.75)


def test_unknown_direction_is_refused():
    study = _study(still, n=100)
    study.table_info["directions"] = {"y": {"better": "unknown"}}
    with pytest.raises(ValueError, match="which way is better"):
        study_guidelines(study)
    assert len(study_guidelines(study, directions={"y": "minimize"})) == 1


def test_tables_and_counts_across_groups(separable_guide):
    frame = separable_guide.to_frame()
    assert list(frame["hyperparameter"]) == ["lr", "size", "null"]
    assert list(frame["verdict"])[0] == "tune"
    counts = {r["hyperparameter"]: r for r in separable_guide.consensus()["hyperparameters"]}
    assert counts["null"]["ignore"] == 1 and counts["null"]["holds_on"] == 1
    d = separable_guide.to_dict()
    entry = d["groups"][0]["hyperparameters"]["lr"]
    assert set(entry) >= {"verdict", "good_region", "shape"}
    assert {"a", "b", "optimum_shift", "stable"} <= set(d["groups"][0]["pairs"][0])


# -- the next sweep ---------------------------------------------------------------------

def test_next_space_loads_in_configspace_and_draws_a_better_sweep(separable_guide, tmp_path):
    import io

    from ConfigSpace import ConfigurationSpace

    from odyssey_analysis.next_space import configspace_json, next_space

    nxt = next_space(separable_guide, SPACE, "y")
    actions = {n.name: n.action for n in nxt.narrowings}
    assert actions == {"lr": "narrowed", "size": "fixed", "null": "fixed"}
    cs = ConfigurationSpace.from_json(io.StringIO(configspace_json(nxt)))
    cs.seed(1)
    drawn = cs.sample_configuration(400)
    u_next = np.column_stack([SPACE[name].encode(np.array([c[name] for c in drawn],
                                                          dtype=float))
                              for name in SPACE.names])
    u_orig = np.random.default_rng(1).random((400, 3))
    assert np.median(separable(u_next)) < 0.5 * np.median(separable(u_orig))
    assert type(cs["lr"]).__name__ == "BetaFloatHyperparameter"
    # Bigger is better: the true good region is u >= 0.8 (size >= 147), its middle 194;
    # the forest's flattened marginal may widen the region downwards, not to the low half.
    size_u = float(SPACE["size"].encode(np.array([cs["size"].value]))[0])
    assert 0.6 <= size_u <= 1.0


def test_next_space_yaml_reads_back_and_every_narrowing_says_why(separable_guide, tmp_path):
    from odyssey_analysis.next_space import next_space, optuna_snippet, space_yaml

    nxt = next_space(separable_guide, SPACE, "y")
    path = tmp_path / "next_space.yaml"
    path.write_text(space_yaml(nxt))
    back = SearchSpace.from_file(path)
    assert back.hyperparameters == nxt.space.hyperparameters
    lr = nxt.narrowings[0]
    region = separable_guide.get("y").hyperparameters["lr"]
    # The outer ends of the resampled ranges, rounded outwards to 4 digits.
    assert lr.hyperparameter.lower <= region.low_end[0]
    assert lr.hyperparameter.lower == pytest.approx(region.low_end[0], rel=2e-3)
    assert lr.hyperparameter.upper >= region.high_end[1]
    assert lr.hyperparameter.upper == pytest.approx(region.high_end[1], rel=2e-3)
    assert "tuned in 1 of 1" in lr.because and lr.evidence[0]["verdict"] == "tune"
    snippet = optuna_snippet(nxt)
    scope: dict = {}
    exec(compile(snippet, "snippet", "exec"), scope)  # noqa: S102 - our own text
    dist = scope["DISTRIBUTIONS"]
    assert dist["lr"].log and dist["lr"].low == pytest.approx(lr.hyperparameter.lower)
    assert list(dist["null"].choices) == [nxt.narrowings[2].hyperparameter.choices[0]]


BUDGET_SPACE = SearchSpace((
    Hyperparameter("lr", "float", 1e-4, 1.0, "log"),
    Hyperparameter("epochs", "int", 1, 64, "log"),
))


@pytest.mark.parametrize(("func", "agrees"), [
    (lambda u: (u[:, 0] - 0.5) ** 2 * (1 + u[:, 1]) - 0.3 * u[:, 1], True),
    (lambda u: (u[:, 0] - (0.15 + 0.7 * u[:, 1])) ** 2, False),
])
def test_a_low_budget_ranks_like_the_full_one_only_where_it_does(func, agrees):
    rng = np.random.default_rng(2)
    u = rng.random((600, 2))
    frame = pd.DataFrame({hp.name: hp.decode(u[:, j]) for j, hp in enumerate(BUDGET_SPACE)})
    frame["epochs"] = frame["epochs"].round().astype(int)
    frame["y"] = func(u) + 0.003 * rng.standard_normal(len(u))
    table = TrialTable.from_frame(frame, space=BUDGET_SPACE, responses=["y"], group_by=[],
                                  minimize=["y"])
    study = analyze(table, method_from_options(n_trees=32, seed=0))
    g = study_guidelines(study, tolerance=TAU).get("y")
    reading = next(b for b in g.budget if b.param == "lr")
    assert reading.budget == "epochs"
    assert reading.agrees is agrees
    assert (reading.rank_agreement > 0.9) if agrees else (reading.rank_agreement < 0.5)


def test_with_a_bootstrap_the_verdict_rests_on_the_calibrated_interval():
    rng = np.random.default_rng(4)
    u = rng.random((300, 3))
    frame = pd.DataFrame({hp.name: hp.decode(u[:, j]) for j, hp in enumerate(SPACE)})
    frame["y"] = separable(u) + 0.003 * rng.standard_normal(len(u))
    table = TrialTable.from_frame(frame, space=SPACE, responses=["y"], group_by=[],
                                  minimize=["y"])
    fit_study = analyze(table, method_from_options(n_trees=16, seed=0, n_bootstrap=10))
    g = study_guidelines(fit_study, tolerance=TAU).get("y")
    ci = next(iter(fit_study)).intervals
    lr = g.hyperparameters["lr"]
    assert lr.share.interval == "calibrated 90 %"
    pair_low = np.nan_to_num(ci.pair_lower[0]).sum()
    assert lr.share.low == pytest.approx(max(ci.main_lower[0] + pair_low, 0.0))
    assert lr.verdict == "tune" and g.hyperparameters["null"].verdict == "ignore"


OPT_SPACE = SearchSpace((
    Hyperparameter("lr", "float", 1e-5, 1e-1, "log"),
    Hyperparameter("optimizer", "categorical", choices=("adam", "rmsprop", "sgd")),
    Hyperparameter("null", "float", 0.0, 1.0),
))
#: Each optimizer's best learning rate (encoded) and its penalty: SGD is worse and wants a
#: learning rate two decades higher, so the learning rate good on average is not the one
#: good for the optimizers the next sweep keeps.
OPT_BEST_U = {"adam": 0.3, "rmsprop": 0.4, "sgd": 0.85}
OPT_PENALTY = {"adam": 0.0, "rmsprop": 0.01, "sgd": 0.15}


def test_next_sweep_keeps_the_good_learning_rates_of_the_optimizers_it_keeps():
    from odyssey_analysis.next_space import next_space

    rng = np.random.default_rng(3)
    n = 800
    u = rng.random((n, 2))
    opt = rng.choice(list(OPT_BEST_U), n)
    best = np.array([OPT_BEST_U[o] for o in opt])
    penalty = np.array([OPT_PENALTY[o] for o in opt])
    frame = pd.DataFrame({"lr": OPT_SPACE["lr"].decode(u[:, 0]), "optimizer": opt,
                          "null": u[:, 1]})
    frame["y"] = (u[:, 0] - best) ** 2 + penalty + 0.003 * rng.standard_normal(n)
    table = TrialTable.from_frame(frame, space=OPT_SPACE, responses=["y"], group_by=[],
                                  minimize=["y"])
    guide = study_guidelines(analyze(table, method_from_options(n_trees=32, seed=0)),
                             tolerance=TAU)
    pair = next(p for p in guide.groups[0].pairs if (p.a, p.b) == ("lr", "optimizer"))
    assert not pair.stable
    nxt = next_space(guide, OPT_SPACE, "y")
    kept = {n.name: n for n in nxt.narrowings}
    assert set(kept["optimizer"].hyperparameter.levels) == {"adam", "rmsprop"}
    lo, hi = OPT_SPACE["lr"].encode(np.array(kept["lr"].hyperparameter.bounds))
    for name in ("adam", "rmsprop"):
        # the true good region of this optimizer's slice: |u - best| <= sqrt(TAU)
        assert lo <= OPT_BEST_U[name] - 0.8 * np.sqrt(TAU)
        assert hi >= OPT_BEST_U[name] + 0.8 * np.sqrt(TAU)
    assert "tuned together with (optimizer adam, rmsprop)" in kept["lr"].because
    # without the slices the marginal's good region (pulled towards SGD) misses Adam's
    marginal = guide.groups[0].hyperparameters["lr"].good_region
    assert OPT_SPACE["lr"].encode(np.array([marginal[0]]))[0] > OPT_BEST_U["adam"]
