"""Hyperparameters sampled from priors: the encoding is the prior's CDF.

Known answers: scipy.stats' CDFs, the analytic variance of a function under a beta
prior, weighted level variances by hand, ConfigSpace's own files and samples.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from sklearn.tree import DecisionTreeRegressor

from odyssey_analysis.errors import InputError
from odyssey_analysis.fanova import TreeDecomposition, leaf_boxes
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.space.points import draw_design, variance_points
from odyssey_analysis.space.priors import Prior
from odyssey_analysis.space.readers import space_from_deepcave_csv

CS = pytest.importorskip("ConfigSpace")


def _float(prior: Prior, lower=0.0, upper=1.0, scale="linear", kind="float"):
    return Hyperparameter("x", kind, lower, upper, scale, prior=prior)


def test_beta_encoding_is_the_beta_cdf():
    hp = _float(Prior("beta", alpha=2.0, beta=3.0), 2.0, 7.0)
    x = np.linspace(2.0, 7.0, 501)
    np.testing.assert_allclose(hp.encode(x), st.beta(2, 3, loc=2, scale=5).cdf(x), atol=1e-12)
    np.testing.assert_allclose(hp.decode(hp.encode(x)), x, atol=1e-9)


def test_log_beta_and_truncated_normal_against_scipy():
    hp = _float(Prior("beta", alpha=0.7, beta=4.0), 1e-5, 1e-1, "log")
    x = np.geomspace(1e-5, 1e-1, 301)
    z = (np.log(x) - np.log(1e-5)) / (np.log(1e-1) - np.log(1e-5))
    np.testing.assert_allclose(hp.encode(x), st.beta(0.7, 4.0).cdf(z), atol=1e-12)
    normal = _float(Prior("normal", mu=0.3, sigma=0.2), -1.0, 1.0)
    x = np.linspace(-1.0, 1.0, 301)
    ref = st.truncnorm((-1 - 0.3) / 0.2, (1 - 0.3) / 0.2, loc=0.3, scale=0.2).cdf(x)
    np.testing.assert_allclose(normal.encode(x), ref, atol=1e-12)
    lognormal = _float(Prior("normal", mu=1e-3, sigma=2.0), 1e-6, 1.0, "log")
    t = np.log(np.geomspace(1e-6, 1.0, 301))
    lo, hi, m = np.log(1e-6), 0.0, np.log(1e-3)
    ref = st.truncnorm((lo - m) / 2, (hi - m) / 2, loc=m, scale=2).cdf(t)
    np.testing.assert_allclose(lognormal.encode(np.exp(t)), ref, atol=1e-12)
    np.testing.assert_allclose(lognormal.decode(ref), np.exp(t), rtol=1e-7)


def test_integer_cells_carry_the_prior_mass():
    hp = _float(Prior("beta", alpha=2.0, beta=5.0), 1, 10, kind="int")
    cells = st.beta(2, 5, loc=0.5, scale=10).cdf(np.arange(0.5, 11.0))
    np.testing.assert_allclose(hp.cell_edges(), cells, atol=1e-12)
    np.testing.assert_allclose(hp.encode(np.arange(1, 11)),
                               0.5 * (cells[:-1] + cells[1:]), atol=1e-12)
    log = _float(Prior("normal", mu=8.0, sigma=1.0), 2, 64, "log", kind="int")
    t = np.log(np.arange(1.5, 65.0))
    ref = st.truncnorm((t[0] - np.log(8)) / 1, (t[-1] - np.log(8)) / 1, loc=np.log(8)).cdf(t)
    np.testing.assert_allclose(log.cell_edges(), ref, atol=1e-12)
    # Uniform integers: cells around the encoded values, as before.
    plain = Hyperparameter("k", "int", 1, 10)
    np.testing.assert_allclose(plain.cell_edges(), np.arange(11) / 10, atol=1e-15)
    assert Hyperparameter("f", "float", 0, 1).cell_edges() is None


def test_uniform_encodings_unchanged_by_a_uniform_beta():
    plain = Hyperparameter("x", "float", 1e-4, 1.0, "log")
    flat = _float(Prior("beta", alpha=1.0, beta=1.0), 1e-4, 1.0, "log")
    x = np.geomspace(1e-4, 1.0, 50)
    np.testing.assert_allclose(flat.encode(x), plain.encode(x), atol=1e-12)


def _grid_tree_variances(space: SearchSpace, frame: pd.DataFrame, y: np.ndarray):
    x = space.encode(frame)
    tree = DecisionTreeRegressor(random_state=0).fit(x, y)
    dec = TreeDecomposition(leaf_boxes(tree.tree_, x.shape[1]))
    return dec


def test_engine_variance_under_a_beta_prior_is_the_analytic_one():
    """f(x) = x with x ~ Beta(2, 3): variance ab / ((a + b)^2 (a + b + 1)) = 0.04, not the
    1/12 of a uniform x."""
    space = SearchSpace((_float(Prior("beta", alpha=2.0, beta=3.0)),))
    values = np.linspace(0.0, 1.0, 4001)
    dec = _grid_tree_variances(space, pd.DataFrame({"x": values}), values)
    assert dec.variance == pytest.approx(2 * 3 / (25 * 6), rel=2e-3)
    assert dec.mean == pytest.approx(0.4, abs=1e-3)


def test_weighted_levels_and_a_prior_share_the_variance_as_by_hand():
    """f = a + 2 b with a ~ Beta(2, 3) and b in {0, 1} with weights 1 : 3: main-effect
    variances 0.04 and 4 * 0.25 * 0.75 = 0.75, additive."""
    space = SearchSpace((
        Hyperparameter("a", "float", 0.0, 1.0, prior=Prior("beta", alpha=2.0, beta=3.0)),
        Hyperparameter("b", "categorical", choices=(0, 1), weights=(1.0, 3.0))))
    a = np.linspace(0.0, 1.0, 1001)
    frame = pd.DataFrame({"a": np.tile(a, 2), "b": np.repeat([0, 1], a.size)})
    y = frame["a"].to_numpy() + 2.0 * frame["b"].to_numpy()
    x = space.encode(frame)
    tree = DecisionTreeRegressor(random_state=0).fit(x, y)
    # Split the levels at their cells' boundary, as the engine's measure requires.
    t = tree.tree_
    on_b = (t.feature == 1) & (t.children_left != -1)
    t.threshold[on_b] = space["b"].level_edges()[1]
    dec = TreeDecomposition(leaf_boxes(t, 2))
    assert dec.main_variance(0) == pytest.approx(0.04, rel=3e-3)
    assert dec.main_variance(1) == pytest.approx(0.75, rel=1e-9)
    assert dec.variance == pytest.approx(0.79, rel=3e-3)


def test_points_of_the_measure_follow_the_prior():
    space = SearchSpace((_float(Prior("beta", alpha=2.0, beta=5.0)),
                         Hyperparameter("b", "categorical", choices=("p", "q"),
                                        weights=(1.0, 4.0))))
    u = draw_design(space, 20000, np.random.default_rng(0))
    values = space["x"].decode(u[:, 0])
    assert st.kstest(values, st.beta(2, 5).cdf).pvalue > 1e-3
    assert np.mean(space["b"].decode(u[:, 1]) == "q") == pytest.approx(0.8, abs=0.01)


def test_sobol_points_integrate_under_the_prior():
    space = SearchSpace((_float(Prior("beta", alpha=2.0, beta=3.0)),
                         Hyperparameter("n", "float", -1.0, 1.0,
                                        prior=Prior("normal", mu=0.3, sigma=0.2))))
    points = variance_points(space, 4096, seed=0)
    mean, var = points.mean_and_variance(space["x"].decode(points.points[:, 0]))
    assert (mean, var) == pytest.approx((0.4, 0.04), rel=2e-3)
    ref = st.truncnorm((-1 - 0.3) / 0.2, (1 - 0.3) / 0.2, loc=0.3, scale=0.2)
    mean, var = points.mean_and_variance(space["n"].decode(points.points[:, 1]))
    assert (mean, var) == pytest.approx((ref.mean(), ref.var()), rel=2e-3)


def _configspace_file(tmp_path):
    cs = CS.ConfigurationSpace()
    cs.add([CS.NormalFloatHyperparameter("nf", mu=0.3, sigma=0.2, lower=-1.0, upper=1.0),
            CS.NormalFloatHyperparameter("lnf", mu=1e-3, sigma=0.5, lower=1e-5, upper=1.0,
                                         log=True),
            CS.BetaFloatHyperparameter("bf", alpha=2.0, beta=3.0, lower=0.0, upper=4.0),
            CS.BetaFloatHyperparameter("lbf", alpha=3.0, beta=1.5, lower=1e-4, upper=1.0,
                                       log=True),
            CS.NormalIntegerHyperparameter("ni", mu=6, sigma=3, lower=1, upper=12),
            CS.BetaIntegerHyperparameter("bi", alpha=2.0, beta=4.0, lower=0, upper=9),
            CS.CategoricalHyperparameter("cat", ["a", "b", "c"], weights=[1, 2, 5])])
    path = tmp_path / "cs.json"
    cs.to_json(path)
    return cs, path


def test_configspace_json_with_priors_reads_the_measure_configspace_samples(tmp_path):
    cs, path = _configspace_file(tmp_path)
    space = SearchSpace.from_file(path)
    assert space["nf"].prior == Prior("normal", mu=0.3, sigma=0.2)
    assert space["bf"].prior == Prior("beta", alpha=2.0, beta=3.0)
    assert space["cat"].weights == (1.0, 2.0, 5.0)
    # ConfigSpace's own draws are uniform in our encoding (the prior's CDF).
    cs.seed(1)
    frame = pd.DataFrame([dict(c) for c in cs.sample_configuration(4000)])
    space.validate(frame)
    u = space.encode(frame)
    for j, name in enumerate(space.names):
        hp = space[name]
        if hp.kind == "float":
            assert st.kstest(u[:, j], "uniform").pvalue > 1e-3, name
    # Integers and levels: each value's frequency is its cell's width.
    for name in ("ni", "bi", "cat"):
        hp = space[name]
        edges = hp.cell_edges()
        levels = list(hp.choices) if hp.is_discrete else list(
            range(int(hp.lower), int(hp.upper) + 1))
        freq = np.array([np.mean(frame[name].to_numpy() == v) for v in levels])
        np.testing.assert_allclose(freq, np.diff(edges), atol=0.025, err_msg=name)


def test_info_shows_the_prior(tmp_path):
    _, path = _configspace_file(tmp_path)
    space = SearchSpace.from_file(path)
    measures = space.measures()
    assert measures["bf"] == "beta(2, 3) on [0, 4]"
    assert measures["lnf"].startswith("truncated normal(mu=0.001, sigma=")
    assert "of log x" in measures["lnf"]
    assert measures["cat"] == "weighted over 3 categorical levels (a: 0.125, b: 0.25, c: 0.625)"


def test_info_prints_the_priors(tmp_path):
    from click.testing import CliRunner

    from odyssey_analysis.cli import main

    (tmp_path / "space.yaml").write_text(
        "hyperparameters:\n"
        "  lr: {type: float, lower: 1.0e-4, upper: 1.0, log: true,\n"
        "       prior: {type: beta, alpha: 2, beta: 5}}\n"
        "  act: {type: categorical, choices: [relu, tanh], weights: [3, 1]}\n")
    rng = np.random.default_rng(0)
    pd.DataFrame({"lr": 10 ** rng.uniform(-4, 0, 30), "act": rng.choice(["relu", "tanh"], 30),
                  "loss": rng.random(30)}).to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner(env={"COLUMNS": "250"}).invoke(
        main, ["info", str(tmp_path / "t.csv"), "--space", str(tmp_path / "space.yaml")])
    assert result.exit_code == 0, result.output
    assert "beta(2, 5) of log x on [0.0001, 1]" in result.output
    assert "relu: 0.75, tanh: 0.25" in result.output


def test_own_yaml_priors_round_trip(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("hyperparameters:\n"
                    "  lr: {type: float, lower: 1.0e-5, upper: 1.0e-1, log: true,\n"
                    "       prior: {type: normal, mu: 1.0e-3, sigma: 1.5}}\n"
                    "  depth: {type: int, lower: 1, upper: 8,\n"
                    "          prior: {type: beta, alpha: 2, beta: 3}}\n"
                    "  opt: {type: ordinal, choices: [sgd, adam, lamb], weights: [1, 2, 1]}\n")
    space = SearchSpace.from_file(path)
    assert space["lr"].prior == Prior("normal", mu=1e-3, sigma=1.5)
    assert space["opt"].weights == (1.0, 2.0, 1.0)
    again = SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again.hyperparameters == space.hyperparameters


@pytest.mark.parametrize("entry, message", [
    ("{type: float, lower: 0, upper: 1, prior: {type: normal, mu: 0.5, sigma: 0}}",
     "sigma > 0"),
    ("{type: float, lower: 0, upper: 1, prior: {type: beta, alpha: -1, beta: 2}}",
     "alpha > 0"),
    ("{type: float, lower: 0, upper: 1, prior: {type: gamma, k: 2}}", "unknown prior type"),
    ("{type: categorical, choices: [a, b], weights: [1, -2]}", "weights must be positive"),
    ("{type: categorical, choices: [a, b], weights: [1, 2, 3]}", "3 weights for 2 levels"),
    ("{type: categorical, choices: [a, b], prior: {type: beta, alpha: 2, beta: 2}}",
     "only float and integer"),
])
def test_bad_yaml_priors_are_one_line_errors(tmp_path, entry, message):
    path = tmp_path / "space.yaml"
    path.write_text(f"hyperparameters:\n  lr: {entry}\n")
    with pytest.raises(InputError, match=message) as err:
        SearchSpace.from_file(path)
    text = str(err.value)
    assert "space.yaml" in text and "'lr'" in text and "\n" not in text


@pytest.mark.parametrize("change, message", [
    ({"sigma": -0.2}, "sigma > 0"), ({"alpha": 0.0}, "alpha > 0"),
    ({"alpha": 0.5}, "alpha >= 1"), ({"weights": [1, 2]}, "2 weights for 3 levels"),
    ({"weights": [1, 0, 2]}, "weights must be positive")])
def test_bad_configspace_priors_are_one_line_errors(tmp_path, change, message):
    _, path = _configspace_file(tmp_path)
    spec = json.loads(path.read_text())
    key = next(iter(change))
    target = {"sigma": "nf", "alpha": "bf", "weights": "cat"}[key]
    for entry in spec["hyperparameters"]:
        if entry["name"] == target:
            entry.update(change)
    path.write_text(json.dumps(spec))
    with pytest.raises(InputError, match=message) as err:
        SearchSpace.from_file(path)
    text = str(err.value)
    assert "cs.json" in text and f"'{target}'" in text and "\n" not in text


def test_deepcave_dataframe_space_with_priors(tmp_path):
    cs, _ = _configspace_file(tmp_path)
    path = tmp_path / "configspace.csv"
    path.write_text(
        "name,type,log,lower,upper,default,distribution,item_0,item_1,ordered,"
        "distribution_mu,distribution_sigma,distribution_alpha,distribution_beta\n"
        "nf,float,False,-1.0,1.0,0.3,normal,,,,0.3,0.2,,\n"
        "lnf,float,True,1e-05,1.0,0.001,normal,,,,0.001,0.5,,\n"
        "bi,integer,False,0,9,2,beta,,,,,,2.0,4.0\n")
    space = space_from_deepcave_csv(path)
    ours = SearchSpace.from_configspace(cs)
    for name in ("nf", "lnf", "bi"):
        assert space[name].prior == ours[name].prior
    bad = path.read_text().replace("0.3,0.2,,", "0.3,-1,,")
    path.write_text(bad)
    with pytest.raises(InputError, match=r"row 1, column 'nf': a normal prior needs sigma"):
        space_from_deepcave_csv(path)



def test_next_space_json_reads_back_as_the_measure_it_draws_from(tmp_path):
    """next_space.json (ConfigSpace, with priors) and next_space.yaml read back as the same
    measure: the one ConfigSpace samples the next sweep from."""
    from odyssey_analysis.next_space import (
        Narrowing,
        NextSpace,
        beta_parameters,
        configspace_json,
        space_yaml,
    )

    def prior(mode):
        a, b = beta_parameters(mode)
        return Prior("beta", alpha=a, beta=b)

    hps = [Hyperparameter("lr", "float", 1e-4, 0.3, "log", prior=prior(0.7)),
           Hyperparameter("drop", "float", 0.0, 0.5, prior=prior(0.2)),
           Hyperparameter("width", "int", 16, 300, prior=prior(0.9)),
           Hyperparameter("act", "categorical", choices=("relu", "tanh"), weights=(2.0, 1.0)),
           Hyperparameter("bs", "constant", choices=(64,), default=64)]
    nxt = NextSpace("y", [{}], [Narrowing(hp.name, "narrowed", hp, None,
                                          list(hp.weights) if hp.weights else None, "", [])
                                for hp in hps])
    (tmp_path / "next_space.json").write_text(configspace_json(nxt))
    (tmp_path / "next_space.yaml").write_text(space_yaml(nxt))
    from_json = SearchSpace.from_file(tmp_path / "next_space.json")
    from_yaml = SearchSpace.from_file(tmp_path / "next_space.yaml")
    assert from_yaml.hyperparameters == nxt.space.hyperparameters
    cs = CS.ConfigurationSpace.from_json(tmp_path / "next_space.json")
    cs.seed(3)
    frame = pd.DataFrame([dict(c) for c in cs.sample_configuration(3000)])
    from_json = from_json.subset(from_yaml.names)  # ConfigSpace sorts them by name
    np.testing.assert_allclose(from_json.encode(frame), from_yaml.encode(frame), atol=1e-9)
    u = from_json.encode(frame)
    for j in (0, 1):  # ConfigSpace's draws are uniform in the encoding
        assert st.kstest(u[:, j], "uniform").pvalue > 1e-3
    freq = np.mean(frame["act"] == "relu")
    assert freq == pytest.approx(2 / 3, abs=0.03)
