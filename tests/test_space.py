"""Search spaces: the encoding is the sampling CDF; declared, preset and inferred spaces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import InputError, SearchSpace
from odyssey_analysis.presets import odyssey_space
from odyssey_analysis.space import Hyperparameter


def ks_uniform(u: np.ndarray) -> float:
    u = np.sort(u)
    n = u.size
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


def test_preset_encoding_maps_the_paper_distributions_to_uniform():
    rng = np.random.default_rng(0)
    n = 20_000
    samples = pd.DataFrame({
        "learning_rate": 10 ** rng.uniform(-6, -2, n),
        "hidden_size": np.round(np.exp(rng.uniform(np.log(19.5), np.log(200.5), n))),
        "momentum": 1 - 10 ** rng.uniform(-2, 0, n),
        "input_noise": rng.uniform(0, 1, n),
    })
    space = odyssey_space()
    x = space.encode(samples)
    assert x.min() >= 0 and x.max() <= 1
    for j in range(4):
        assert ks_uniform(x[:, j]) < 0.015, space.names[j]
    # The encoding of momentum is increasing in momentum and dense values near 0.99
    # spread out: half of the measure lies above 1 - 10**-1 = 0.9.
    m = space["momentum"]
    assert m.encode(np.array([0.9]))[0] == pytest.approx(0.5)
    np.testing.assert_allclose(m.decode(m.encode(np.array([0.0, 0.5, 0.99]))),
                               [0.0, 0.5, 0.99])


def test_categorical_levels_have_weighted_widths():
    hp = Hyperparameter("act", "categorical", choices=("a", "b", "c"), weights=(1, 1, 2))
    np.testing.assert_allclose(hp.level_edges(), [0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(hp.encode(["a", "c"]), [0.125, 0.75])
    assert list(hp.decode(np.array([0.1, 0.3, 0.9]))) == ["a", "b", "c"]


def test_configspace_json_with_conditions(tmp_path):
    from ConfigSpace import (
        CategoricalHyperparameter,
        ConfigurationSpace,
        EqualsCondition,
        UniformFloatHyperparameter,
        UniformIntegerHyperparameter,
    )

    cs = ConfigurationSpace()
    model = CategoricalHyperparameter("model", ["mlp", "cnn"])
    width = UniformIntegerHyperparameter("width", 5, 100)
    cs.add([model, width, UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True)])
    cs.add(EqualsCondition(width, model, "mlp"))
    path = tmp_path / "configspace.json"
    cs.to_json(path)
    space = SearchSpace.from_file(path)
    assert space["lr"].scale == "log"
    assert space["width"].conditional and not space["lr"].conditional
    frame = pd.DataFrame({"model": ["mlp", "cnn"], "width": [50, np.nan], "lr": [1e-3, 1e-2]})
    space.validate(frame)
    x = space.encode(frame)
    assert np.isfinite(x).all()


def test_own_yaml_spec(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("hyperparameters:\n"
                    "  learning_rate: {type: float, lower: 1.0e-6, upper: 1.0e-2, log: true}\n"
                    "  hidden_size: {type: int, lower: 20, upper: 200, log: true}\n"
                    "  momentum: {type: float, lower: 0, upper: 0.99, scale: one_minus_log}\n"
                    "  cell: {type: categorical, choices: [lstm, gru]}\n"
                    "  layers: {type: ordinal, sequence: [1, 2, 4]}\n")
    space = SearchSpace.from_file(path)
    assert space.names == ["learning_rate", "hidden_size", "momentum", "cell", "layers"]
    assert space["momentum"].describe_measure().startswith("1 - log-uniform on [0.01, 1]")
    again = SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again.measures() == space.measures()


@pytest.mark.parametrize("column, values, message", [
    ("learning_rate", [1e-3, 5e-2, 1e-4], r"row 2, column 'learning_rate'.*outside"),
    ("learning_rate", [1e-3, -1e-3, 1e-4], r"row 2, column 'learning_rate'.*not positive"),
    ("hidden_size", [20, 30.5, 40], r"row 2, column 'hidden_size'.*whole"),
    ("hidden_size", [20, "many", 40], r"row 2, column 'hidden_size'.*expected a number"),
])
def test_bad_values_name_row_and_column(column, values, message):
    frame = pd.DataFrame({"learning_rate": [1e-3, 1e-3, 1e-4], "hidden_size": [20, 30, 40],
                          "momentum": [0.5, 0.9, 0.0], "input_noise": [0.1, 0.2, 0.3]})
    frame[column] = pd.Series(values, dtype=object)
    frame.index = pd.RangeIndex(1, 4)
    with pytest.raises(InputError, match=message):
        odyssey_space().validate(frame, source="sweep.csv")


def test_unknown_categorical_level():
    space = SearchSpace((Hyperparameter("cell", "categorical", choices=("lstm", "gru")),))
    frame = pd.DataFrame({"cell": ["lstm", "rnn"]}, index=[1, 2])
    with pytest.raises(InputError, match=r"row 2, column 'cell'.*unknown level 'rnn'"):
        space.validate(frame, source="t.csv")


def test_inference_recognises_the_paper_distributions_and_plain_uniform():
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame({
        "lr": 10 ** rng.uniform(-6, -2, n),
        "width": np.round(np.exp(rng.uniform(np.log(19.5), np.log(200.5), n))).astype(int),
        "momentum": 1 - 10 ** rng.uniform(-2, 0, n),
        "noise": rng.uniform(0, 1, n),          # spans decades but is uniform
        "batch": rng.integers(1, 101, n),
        "act": rng.choice(["relu", "tanh"], n),
        "flag": rng.choice([True, False], n),
        "fixed": 7,
    })
    space = SearchSpace.infer(frame, list(frame.columns))
    kinds = {hp.name: (hp.kind, hp.scale) for hp in space}
    assert kinds["lr"] == ("float", "log")
    assert kinds["width"] == ("int", "log")
    assert kinds["momentum"] == ("float", "one_minus_log")
    assert kinds["noise"] == ("float", "linear")
    assert kinds["batch"] == ("int", "linear")
    assert kinds["act"][0] == "categorical"
    assert kinds["flag"][0] == "categorical"
    assert kinds["fixed"][0] == "constant"
    assert any("fixed is constant" in note for note in space.notes)


def test_inference_rejects_mixed_types():
    frame = pd.DataFrame({"lr": ["0.1", "0.2", "oops", "0.3"]}, index=[1, 2, 3, 4])
    with pytest.raises(InputError, match=r"row 3, column 'lr'.*'oops'"):
        SearchSpace.infer(frame, ["lr"], source="t.csv")
