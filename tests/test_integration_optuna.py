"""The Optuna importance evaluator: Optuna's own shared evaluator tests, then ours.

Optuna ships its evaluator tests as classes (``optuna.testing.pytest_importance``) that a
package runs by subclassing them and providing an ``evaluator`` fixture. Optuna's own
suite (``tests/importance_tests/test_evaluator.py``) runs its evaluators through them as
follows, and ours is placed the same way:

* basic: mean decrease impurity, fANOVA and PED-ANOVA; here ours, in both modes;
* conditional parameters: PED-ANOVA only; here ours with its default
  (``conditional=True``);
* non-conditional (intersection search space): mean decrease impurity and fANOVA; here
  ours with ``conditional=False``;
* multi-objective without a target: PED-ANOVA only. Ours, like Optuna's fANOVA, asks
  for a target instead (tested below).
"""

from __future__ import annotations

import importlib
import math
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import (
    ForestSettings,
    Hyperparameter,
    SearchSpace,
    fit_and_decompose,
    load_trials,
)
from odyssey_analysis.errors import InputError, MissingExtraError
from odyssey_analysis.study import MIN_TRIALS

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.ERROR)

from optuna.distributions import FloatDistribution  # noqa: E402
from optuna.importance import get_param_importances  # noqa: E402

from odyssey_analysis.integrations.optuna import (  # noqa: E402
    FanovaImportanceEvaluator,
    ImportanceWarning,
    load_study,
)

try:
    from optuna.testing.pytest_importance import (
        BasicImportanceEvaluatorTestCase,
        ConditionalImportanceEvaluatorTestCase,
        NonConditionalImportanceEvaluatorTestCase,
    )
except ImportError:  # an Optuna without the shared evaluator tests: only ours below run
    BasicImportanceEvaluatorTestCase = object  # type: ignore[assignment,misc]
    ConditionalImportanceEvaluatorTestCase = object  # type: ignore[assignment,misc]
    NonConditionalImportanceEvaluatorTestCase = object  # type: ignore[assignment,misc]


def _ours(seed: int | None = 0, **kwargs) -> FanovaImportanceEvaluator:
    return FanovaImportanceEvaluator(seed=seed, **kwargs)


def _ours_intersection(seed: int | None = 0, **kwargs) -> FanovaImportanceEvaluator:
    return FanovaImportanceEvaluator(seed=seed, conditional=False, **kwargs)


OURS = pytest.param(_ours, id="odyssey-fanova")
def _ours_sklearn(seed: int | None = 0, **kwargs) -> FanovaImportanceEvaluator:
    return FanovaImportanceEvaluator(seed=seed, surrogate="sklearn", **kwargs)


OURS_INTERSECTION = pytest.param(_ours_intersection, id="odyssey-fanova-intersection")
OURS_SKLEARN = pytest.param(_ours_sklearn, id="odyssey-fanova-sklearn")
# The shared cases fit forests to 3-10 trials on purpose; the warning that says so is ours.
_QUIET = pytest.mark.filterwarnings(
    "ignore::odyssey_analysis.integrations.optuna.ImportanceWarning")


@_QUIET
class TestBasicImportanceEvaluator(BasicImportanceEvaluatorTestCase):
    @pytest.fixture(params=[OURS, OURS_INTERSECTION, OURS_SKLEARN])
    def evaluator(self, request):
        return request.param


@_QUIET
class TestConditionalImportanceEvaluator(ConditionalImportanceEvaluatorTestCase):
    @pytest.fixture(params=[OURS])
    def evaluator(self, request):
        return request.param


@_QUIET
class TestNonConditionalImportanceEvaluator(NonConditionalImportanceEvaluatorTestCase):
    @pytest.fixture(params=[OURS_INTERSECTION])
    def evaluator(self, request):
        return request.param


# -- studies ----------------------------------------------------------------------------------

def _three_params(trial):
    x1 = trial.suggest_float("x1", 0.1, 3)
    x2 = trial.suggest_float("x2", 0.1, 3, log=True)
    x3 = trial.suggest_float("x3", 2, 4, log=True)
    return x1 + x2 * x3


def _study(objective, n_trials: int, seed: int = 0, **kwargs):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed), **kwargs)
    study.optimize(objective, n_trials=n_trials)
    return study


def _log_interaction(trial):
    """``m`` only interacts with ``lr``: averaged over log10(lr), its effect is zero."""
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    m = trial.suggest_float("m", 1e-2, 1.0, log=True)
    u = math.log10(lr) + 2  # uniform on [-2, 2] in log units; positive on 99 % of raw [0, 1]
    return 0.5 * u ** 2 + math.copysign(1.0, u) * (math.log10(m) + 1)


@pytest.fixture(scope="module")
def log_study():
    return _study(_log_interaction, 500)


# -- Optuna's tree-based evaluator tests, for ours --------------------------------------------

@_QUIET
def test_n_trees_max_depth_and_seed_change_the_forest():
    study = _study(_three_params, 3)
    assert _ours(n_trees=10).evaluate(study) != _ours(n_trees=20).evaluate(study)
    assert _ours(max_depth=1).evaluate(study) != _ours(max_depth=2).evaluate(study)
    assert _ours(seed=2).evaluate(study) == _ours(seed=2).evaluate(study)
    assert _ours(seed=2).evaluate(study) != _ours(seed=3).evaluate(study)


def test_bad_settings_are_value_errors():
    for kwargs in ({"n_trees": 0}, {"n_trees": 2.5}, {"max_depth": 0}, {"max_depth": True},
                   {"seed": -1}, {"seed": 2 ** 32}, {"seed": 1.5}):
        with pytest.raises(ValueError):
            FanovaImportanceEvaluator(**kwargs)


# -- the measure -------------------------------------------------------------------------------

def test_log_uniform_parameters_are_integrated_in_log_units(log_study):
    ours = FanovaImportanceEvaluator(seed=0).evaluate(log_study)
    assert list(ours) == ["lr", "m"]
    assert ours["m"] < 0.03
    assert ours["lr"] > 0.4
    # The same trials with both parameters uniform in raw units: m picks up the
    # interaction as a main effect. (16 trees: Optuna's fANOVA is slow.)
    table = load_study(log_study)
    raw = SearchSpace((Hyperparameter("lr", "float", 1e-4, 1.0),
                       Hyperparameter("m", "float", 1e-2, 1.0)))
    result = fit_and_decompose(raw.encode(table.frame), table.frame["value"].to_numpy(),
                               raw, settings=ForestSettings(n_trees=16, max_depth=64, seed=0),
                               pairs=False, estimator="per-tree", surrogate="sklearn")
    raw_main = dict(zip(raw.names, result.main_fraction()[0]))
    assert raw_main["m"] > 0.15
    # Optuna's own fANOVA integrates raw values too, and agrees: the same forest on the
    # same inputs (up to scaling), decomposed under the same (raw) measure, summarised
    # as the mean of the trees' own fractions.
    theirs = optuna.importance.FanovaImportanceEvaluator(n_trees=16, seed=0).evaluate(log_study)
    assert theirs["m"] > 0.15
    assert theirs["m"] == pytest.approx(raw_main["m"], abs=1e-6)


def test_importances_are_unnormalised_shares_of_the_variance(log_study):
    evaluator = FanovaImportanceEvaluator(seed=0)
    mains = evaluator.evaluate(log_study)
    pairs = evaluator.evaluate_pairs(log_study)
    assert list(pairs) == [("lr", "m")]
    assert pairs[("lr", "m")] > 0.3  # the interaction, where it belongs
    assert sum(mains.values()) < 0.9
    assert sum(mains.values()) + sum(pairs.values()) == pytest.approx(1.0, abs=0.02)
    normalised = get_param_importances(log_study, evaluator=evaluator)
    total = sum(mains.values())
    assert normalised == pytest.approx({k: v / total for k, v in mains.items()})


# -- determinism -------------------------------------------------------------------------------

def test_same_seed_gives_bit_identical_results(log_study):
    first = FanovaImportanceEvaluator(seed=11)
    again = FanovaImportanceEvaluator(seed=11)
    assert first.evaluate(log_study) == again.evaluate(log_study) == first.evaluate(log_study)
    assert first.evaluate_pairs(log_study) == again.evaluate_pairs(log_study)
    # Neither the order of params nor the study object matter, only the trials.
    copy = optuna.create_study()
    copy.add_trials(log_study.get_trials())
    assert (first.evaluate(copy, params=["m", "lr"])
            == first.evaluate(log_study, params=["lr", "m"]))
    assert FanovaImportanceEvaluator(seed=12).evaluate(log_study) != first.evaluate(log_study)


def test_the_per_tree_estimator_gives_the_mean_of_the_trees_shares(log_study):
    forest_mean = FanovaImportanceEvaluator(seed=0, n_trees=16).evaluate(log_study)
    per_tree = FanovaImportanceEvaluator(seed=0, n_trees=16, estimator="per-tree",
                                         surrogate="sklearn")
    assert "estimator='per-tree'" in repr(per_tree)
    assert "surrogate='sklearn'" in repr(per_tree)
    shares = per_tree.evaluate(log_study)
    table = load_study(log_study)
    space = table.resolve_space(None)
    result = fit_and_decompose(space.encode(table.frame), table.frame["value"].to_numpy(),
                               space, settings=per_tree.settings, pairs=True,
                               estimator="per-tree", surrogate="sklearn")
    expected = dict(zip(space.names, result.main_fraction().mean))
    assert shares == pytest.approx(expected, abs=1e-12)
    assert shares != forest_mean
    with pytest.raises(ValueError, match="estimator"):
        FanovaImportanceEvaluator(estimator="median")


@pytest.mark.parametrize("surrogate", [None, "compiled", "sklearn"])
def test_the_default_forest_and_estimator_are_the_packages(log_study, surrogate):
    """The shares are those of FanovaMethod with the chosen surrogate (by default the
    package's default one) and the package's default estimator, to the last bit."""
    from odyssey_analysis.estimators import DEFAULT_ESTIMATOR
    from odyssey_analysis.methods import FanovaMethod
    from odyssey_analysis.surrogate import make_surrogate, surrogate_name

    evaluator = FanovaImportanceEvaluator(seed=3, n_trees=16, surrogate=surrogate)
    shares = evaluator.evaluate(log_study)
    table = load_study(log_study)
    space = table.resolve_space(None)
    forest = make_surrogate(surrogate, evaluator.settings)
    result = FanovaMethod(forest, pairs=False, curves=False).fit(
        space.encode(table.frame), table.frame["value"].to_numpy(), space, response="target")
    assert result.estimate.estimator == DEFAULT_ESTIMATOR
    assert result.fit.forest["surrogate"] == (surrogate or surrogate_name(make_surrogate()))
    assert shares == dict(zip(space.names, result.main_fraction().mean))
    if surrogate == "sklearn":
        assert shares != FanovaImportanceEvaluator(seed=3, n_trees=16).evaluate(log_study)
    with pytest.raises(ValueError, match="surrogate"):
        FanovaImportanceEvaluator(surrogate="xgboost")


def test_no_seed_draws_one_that_reproduces_the_result():
    study = _study(_three_params, 20)
    evaluator = FanovaImportanceEvaluator()
    assert isinstance(evaluator.seed, int)
    assert evaluator.evaluate(study) == evaluator.evaluate(study)
    assert FanovaImportanceEvaluator(seed=evaluator.seed).evaluate(study) == evaluator.evaluate(
        study)


# -- small studies, targets, objectives --------------------------------------------------------

def test_small_studies_are_fitted_with_a_warning():
    study = _study(_three_params, 5)
    with pytest.warns(ImportanceWarning, match=f"5 usable trials, fewer than the {MIN_TRIALS}"):
        importances = FanovaImportanceEvaluator(seed=0).evaluate(study)
    assert set(importances) == {"x1", "x2", "x3"}
    assert sum(importances.values()) > 0
    big = _study(_three_params, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImportanceWarning)
        FanovaImportanceEvaluator(seed=0).evaluate(big)


def test_one_usable_trial_gives_zeros_and_no_trials_an_empty_dict():
    study = _study(_three_params, 1)
    assert FanovaImportanceEvaluator(seed=0).evaluate(study) == dict.fromkeys(
        ["x1", "x2", "x3"], 0.0)
    assert FanovaImportanceEvaluator(seed=0).evaluate(optuna.create_study()) == {}


def test_a_constant_target_gives_zeros_with_a_warning():
    study = _study(_three_params, 12)
    with pytest.warns(ImportanceWarning, match="does not vary"):
        importances = FanovaImportanceEvaluator(seed=0).evaluate(study, target=lambda t: 1.0)
    assert importances == dict.fromkeys(["x3", "x2", "x1"], 0.0)
    assert list(importances) == ["x3", "x2", "x1"]  # ties: Optuna's order


def _two_objectives(trial):
    x = trial.suggest_float("x", 0.0, 1.0)
    y = trial.suggest_float("y", 1e-3, 1.0, log=True)
    return x, math.log10(y)


def test_multi_objective_needs_a_target():
    study = _study(_two_objectives, 40, directions=["minimize", "maximize"])
    evaluator = FanovaImportanceEvaluator(seed=0)
    with pytest.raises(ValueError, match=r"multi-objective study needs a target"):
        evaluator.evaluate(study)
    with pytest.raises(ValueError, match=r"multi-objective study needs a target"):
        get_param_importances(study, evaluator=evaluator)
    first = evaluator.evaluate(study, target=lambda t: t.values[0])
    second = evaluator.evaluate(study, target=lambda t: t.values[1])
    assert list(first) == ["x", "y"] and first["x"] > 0.9
    assert list(second) == ["y", "x"] and second["y"] > 0.9


def test_plot_param_importances_takes_the_evaluator():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from optuna.visualization.matplotlib import plot_param_importances

    study = _study(_two_objectives, 20, directions=["minimize", "maximize"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = plot_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"x", "y"}
    assert len(ax.patches) == 4  # both parameters, one bar per objective


# -- the search space --------------------------------------------------------------------------

def _with_conditional(trial):
    x = trial.suggest_float("x", 0.0, 1.0)
    if trial.number % 2 == 0:
        z = trial.suggest_int("z", 1, 100, log=True)
        return x + math.log10(z)
    return x


@_QUIET  # x alone explains little of this study: a low out-of-bag R²
def test_conditional_parameters_by_default_and_not_in_intersection_mode():
    study = _study(_with_conditional, 40)
    both = FanovaImportanceEvaluator(seed=0).evaluate(study)
    assert set(both) == {"x", "z"} and both["z"] > 0.1
    intersection = FanovaImportanceEvaluator(seed=0, conditional=False)
    assert list(intersection.evaluate(study)) == ["x"]
    # Asked for, a conditional parameter is assessed on the trials that have it.
    on_half = intersection.evaluate(study, params=["x", "z"])
    assert on_half["z"] > 0.5


def test_dynamic_distributions_are_refused_when_asked_for_and_left_out_otherwise():
    study = optuna.create_study()
    for i in range(12):
        study.add_trial(optuna.create_trial(
            params={"a": 0.1 * i, "b": 0.05 * i},
            distributions={"a": FloatDistribution(0.0, 2.0),
                           "b": FloatDistribution(0.0, 1.0 + (i % 2))},
            value=float(i)))
    evaluator = FanovaImportanceEvaluator(seed=0)
    with pytest.raises(ValueError, match="'b' changes between trials"):
        evaluator.evaluate(study, params=["a", "b"])
    with pytest.warns(ImportanceWarning, match="left out b"):
        assert list(evaluator.evaluate(study)) == ["a"]


def test_params_must_be_a_list_of_names():
    study = _study(_three_params, 4)
    with pytest.raises(TypeError):
        FanovaImportanceEvaluator(seed=0).evaluate(study, params="x1")
    with pytest.raises(TypeError):
        FanovaImportanceEvaluator(seed=0).evaluate(study, params=[1])


# -- the in-memory loader ----------------------------------------------------------------------

def _sweep(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    width = trial.suggest_int("width", 16, 256, log=True)
    batch = trial.suggest_int("batch", 16, 128, step=16)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", None])
    if opt == "sgd":
        trial.suggest_float("momentum", 0.5, 0.99)
    if trial.number % 7 == 3:
        raise optuna.TrialPruned()
    if trial.number % 11 == 5:
        raise RuntimeError("diverged")
    trial.set_user_attr("train_time", 10.0 + trial.number)
    return math.log10(lr) ** 2 + 1.0 / width + batch / 1000


def _same_table(a, b):
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.exclusions, b.exclusions)
    assert (a.hyperparameters, a.responses, a.group_keys, a.maximize) == (
        b.hyperparameters, b.responses, b.group_keys, b.maximize)
    assert a.space.hyperparameters == b.space.hyperparameters
    assert a.space.notes == b.space.notes
    assert a.notes == b.notes


def test_in_memory_study_gives_the_storage_readers_table(db_dir):
    url = f"sqlite:///{db_dir / 'memory.db'}"
    stored = optuna.create_study(study_name="sweep", storage=url,
                                 directions=["minimize", "maximize"],
                                 sampler=optuna.samplers.RandomSampler(seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # set_metric_names is experimental
        stored.set_metric_names(["loss", "score"])
    stored.optimize(lambda t: (_sweep(t), float(t.number)), n_trials=30,
                    catch=(RuntimeError,))
    stored.ask()  # a trial left running
    from_storage = load_trials(url, study="sweep")
    assert from_storage.excluded_counts().keys() == {"pruned", "failed", "running"}
    assert from_storage.space["momentum"].conditional
    _same_table(load_study(stored), from_storage)
    in_memory = optuna.create_study(directions=["minimize", "maximize"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        in_memory.set_metric_names(["loss", "score"])
    in_memory.add_trials(stored.get_trials())
    _same_table(load_study(in_memory), from_storage)
    _same_table(load_study(in_memory, objective="score"),
                load_trials(url, study="sweep", objective="score"))
    assert load_study(in_memory).maximize == ["score"]


def test_in_memory_loader_target_and_params():
    study = _study(_three_params, 8)
    table = load_study(study, target=lambda t: t.params["x1"] * 2, target_name="twice",
                       params=["x1", "x2"])
    assert table.responses == ["twice"] and table.hyperparameters == ["x1", "x2"]
    np.testing.assert_allclose(table.frame["twice"], 2 * table.frame["x1"])
    assert table.space["x2"].scale == "log"
    assert "x3" not in table.frame.columns
    with pytest.raises(InputError, match="either an objective or a target"):
        load_study(study, objective=0, target=lambda t: t.value)
    with pytest.raises(InputError, match="the target has the same name as a parameter"):
        load_study(study, target=lambda t: t.value, target_name="x1")
    with pytest.raises(InputError, match=r"no trials to analyse \(the source holds none\)"):
        load_study(optuna.create_study())


def test_missing_optuna_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    monkeypatch.delitem(sys.modules, "odyssey_analysis.integrations.optuna")
    with pytest.raises(MissingExtraError, match=r"odyssey-analysis\[optuna\]"):
        importlib.import_module("odyssey_analysis.integrations.optuna")


def test_intervals_from_the_evaluator(log_study):
    evaluator = FanovaImportanceEvaluator(seed=0, n_trees=16)
    shares = evaluator.evaluate_intervals(log_study, n_bootstrap=10)
    assert list(shares) == ["lr", "m"]  # largest first
    for share, lower, upper in shares.values():
        assert 0.0 <= lower <= upper <= 1.0
        assert 0.0 <= share <= 1.0
    assert shares["lr"][2] > shares["m"][1]
    with pytest.raises(ValueError, match="at least 10"):
        evaluator.evaluate_intervals(log_study, n_bootstrap=3)
    with pytest.raises(ValueError, match="forest-mean"):
        FanovaImportanceEvaluator(seed=0, estimator="per-tree").evaluate_intervals(log_study)
