"""Optuna storages made by Optuna itself: single- and multi-objective studies."""

from __future__ import annotations

import hashlib
import math
import sys
import warnings

import numpy as np
import pytest

from odyssey_analysis.errors import InputError, MissingExtraError
from odyssey_analysis.loaders import detect_format, load_trials
from odyssey_analysis.loaders.optuna import read_optuna

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.ERROR)


def _objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    width = trial.suggest_int("width", 16, 256, log=True)
    batch = trial.suggest_int("batch", 16, 128, step=16)
    dropout = trial.suggest_float("dropout", 0.0, 0.5, step=0.1)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", None])
    if opt == "sgd":
        trial.suggest_float("momentum", 0.5, 0.99)
    if trial.number % 7 == 3:
        raise optuna.TrialPruned()
    if trial.number % 11 == 5:
        raise RuntimeError("diverged")
    trial.set_user_attr("train_time", 10.0 + trial.number)
    return math.log10(lr) ** 2 + 1.0 / width + batch / 1000 + dropout


@pytest.fixture(scope="module")
def storage(db_dir):
    path = db_dir / "study.db"
    url = f"sqlite:///{path}"
    study = optuna.create_study(study_name="lstm", storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(_objective, n_trials=24, catch=(RuntimeError,))
    study.ask()  # a trial left running
    twin = optuna.create_study(study_name="lstm-2", storage=url,
                               sampler=optuna.samplers.RandomSampler(seed=1))
    twin.optimize(_objective, n_trials=12, catch=(RuntimeError,))
    return path, study, twin


@pytest.fixture(scope="module")
def multi(db_dir):
    path = db_dir / "mo.db"
    url = f"sqlite:///{path}"
    named = optuna.create_study(study_name="named", storage=url,
                                directions=["minimize", "maximize"],
                                sampler=optuna.samplers.RandomSampler(seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # set_metric_names is marked experimental
        named.set_metric_names(["error", "accuracy"])

    def two(trial):
        x = trial.suggest_float("x", 0.0, 1.0)
        k = trial.suggest_categorical("k", [1, 2, 4])
        return x * k, 1.0 - x

    named.optimize(two, n_trials=10)
    plain = optuna.create_study(study_name="plain", storage=url,
                                directions=["minimize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=0))
    plain.optimize(two, n_trials=6)
    return path, named, plain


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_single_study_values_space_and_exclusions(storage):
    path, study, _ = storage
    before = _digest(path)
    table = load_trials(f"sqlite:///{path}", study="lstm")
    assert _digest(path) == before
    trials = study.get_trials()
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(table) == len(complete)
    states = [t.state.name.lower() for t in trials]
    assert states.count("pruned") and states.count("fail")
    assert table.excluded_counts() == {"pruned": states.count("pruned"),
                                       "failed": states.count("fail"), "running": 1}
    assert table.responses == ["value"]
    assert table.group_keys == []
    assert set(table.hyperparameters) == {"lr", "width", "batch", "dropout", "opt", "momentum"}
    by_number = table.frame.set_index("number")
    for t in complete:
        row = by_number.loc[t.number]
        assert row["value"] == pytest.approx(t.value)
        assert row["lr"] == pytest.approx(t.params["lr"])
        assert row["opt"] == ("None" if t.params["opt"] is None else t.params["opt"])
        if "momentum" in t.params:
            assert row["momentum"] == pytest.approx(t.params["momentum"])
        else:
            assert np.isnan(row["momentum"])
        assert row["user_attrs.train_time"] == pytest.approx(10.0 + t.number)
    space = table.space
    assert space["lr"].kind == "float" and space["lr"].scale == "log"
    assert (space["lr"].lower, space["lr"].upper) == (1e-4, 1e-1)
    assert space["width"].kind == "int" and space["width"].scale == "log"
    assert space["batch"].kind == "ordinal"
    assert space["batch"].choices == tuple(range(16, 129, 16))
    assert space["dropout"].kind == "float"
    assert space["dropout"].lower == pytest.approx(-0.05)
    assert space["dropout"].upper == pytest.approx(0.55)
    assert space["opt"].kind == "categorical"
    assert set(space["opt"].choices) == {"adam", "sgd", "None"}
    assert space["momentum"].conditional and not space["lr"].conditional
    # The recorded space validates and encodes the data (conditional imputed).
    encoded = table.resolve_space().encode(table.frame)
    assert encoded.shape == (len(table), 6)
    assert np.all((encoded >= 0) & (encoded <= 1))


def test_all_studies_become_groups_and_bare_path_is_detected(storage):
    path, study, twin = storage
    assert detect_format(str(path)) == "optuna"
    assert detect_format(f"sqlite:///{path}") == "optuna"
    table = load_trials(str(path))
    assert table.group_keys == ["study"]
    sizes = table.frame.groupby("study").size().to_dict()
    n = {s.study_name: sum(t.state == optuna.trial.TrialState.COMPLETE
                           for t in s.get_trials()) for s in (study, twin)}
    assert sizes == n


def test_missing_study_lists_the_studies_present(storage):
    path, _, _ = storage
    before = _digest(path)
    with pytest.raises(InputError) as info:
        load_trials(f"sqlite:///{path}", study="nope")
    text = str(info.value)
    assert "nope" in text and "lstm" in text and "lstm-2" in text and str(path) in text
    assert _digest(path) == before


def test_multi_objective_names_directions_and_choice(multi):
    path, named, plain = multi
    table = load_trials(f"sqlite:///{path}", study="named")
    assert table.responses == ["error", "accuracy"]
    raw = read_optuna(f"sqlite:///{path}", study="named")
    assert raw.maximize == ["accuracy"]
    values = np.array([t.values for t in named.get_trials()])
    np.testing.assert_allclose(table.frame[["error", "accuracy"]].to_numpy(), values)
    one = load_trials(f"sqlite:///{path}", study="named", objective="accuracy")
    assert one.responses == ["accuracy"]
    by_index = load_trials(f"sqlite:///{path}", study="named", objective="1")
    assert by_index.responses == ["accuracy"]
    unnamed = load_trials(f"sqlite:///{path}", study="plain")
    assert unnamed.responses == ["value_0", "value_1"]
    assert load_trials(f"sqlite:///{path}", study="plain", objective=0).responses == [
        "value_0"]
    assert unnamed.space["k"].kind == "categorical" and unnamed.space["k"].choices == (1, 2, 4)
    with pytest.raises(InputError, match="objective 'loss' is not in the study"):
        load_trials(f"sqlite:///{path}", study="named", objective="loss")
    with pytest.raises(InputError, match="different objectives"):
        load_trials(f"sqlite:///{path}")


def test_studies_with_different_parameters_need_a_choice(db_dir):
    url = f"sqlite:///{db_dir / 'two.db'}"
    a = optuna.create_study(study_name="a", storage=url)
    a.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    b = optuna.create_study(study_name="b", storage=url)
    b.optimize(lambda t: t.suggest_float("y", 0, 1), n_trials=2)
    with pytest.raises(InputError, match="different parameters"):
        load_trials(url)
    assert load_trials(url, study="b").hyperparameters == ["y"]


def test_bounds_that_change_between_trials_are_merged(db_dir):
    url = f"sqlite:///{db_dir / 'grow.db'}"
    study = optuna.create_study(study_name="grow", storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1 + t.number), n_trials=4)
    table = load_trials(url)
    assert (table.space["x"].lower, table.space["x"].upper) == (0.0, 4.0)
    assert any("union" in n for n in table.space.notes)


def test_no_completed_trials_is_an_input_error(db_dir):
    url = f"sqlite:///{db_dir / 'pruned.db'}"
    study = optuna.create_study(study_name="p", storage=url)

    def prune(trial):
        trial.suggest_float("x", 0, 1)
        raise optuna.TrialPruned()

    study.optimize(prune, n_trials=3)
    with pytest.raises(InputError, match=r"no trials left to analyse after excluding 3 pruned"):
        load_trials(url)


def test_missing_optuna_names_the_extra(storage, monkeypatch):
    path, _, _ = storage
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingExtraError, match=r"odyssey-analysis\[optuna\]"):
        load_trials(f"sqlite:///{path}", study="lstm")


def test_cli_info_reads_a_study(storage):
    cli = pytest.importorskip("odyssey_analysis.cli")
    from click.testing import CliRunner

    path, study, _ = storage
    result = CliRunner().invoke(cli.main, ["info", f"sqlite:///{path}", "--option",
                                           "study=lstm"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "pruned" in text and "failed" in text and "Optuna distributions" in text
    assert "log-uniform" in text


@pytest.mark.parametrize("name", ["p%41.db", "st#x.db", "q?mode=rw.db"])
def test_file_names_with_uri_characters_read_that_file_and_create_nothing(db_dir, name):
    """``%``, ``#`` and ``?`` are part of a file name, not of a URI (and nothing is made)."""
    folder = db_dir / f"uri-{abs(hash(name))}"
    folder.mkdir()
    target = folder / name
    decoy = folder / "pA.db"
    for path, value in ((target, 1.0), (decoy, 2.0)):
        url = "sqlite:///" + str(path).replace("%", "%25").replace("#", "%23").replace(
            "?", "%3F")
        study = optuna.create_study(study_name="s", storage=url)
        study.optimize(lambda t, v=value: v + 0 * t.suggest_float("x", 0, 1), n_trials=3)
    before = sorted(p.name for p in folder.iterdir())
    table = load_trials(str(target))
    assert (table.frame["value"] == 1.0).all()
    assert sorted(p.name for p in folder.iterdir()) == before


def test_failed_trials_at_the_worst_value(db_dir):
    url = f"sqlite:///{db_dir / 'fail.db'}"
    study = optuna.create_study(study_name="f", storage=url,
                                sampler=optuna.samplers.RandomSampler(seed=1))

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if x > 0.8:
            raise RuntimeError("diverged")
        return x ** 2

    study.optimize(objective, n_trials=30, catch=(RuntimeError,))
    fails = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
    assert fails > 0
    dropped = load_trials(url)
    assert dropped.excluded_counts() == {"failed": fails}
    kept = load_trials(url, on_crashed="worst")
    assert len(kept) == 30
    failed_rows = kept.frame[kept.frame["state"] == "failed"]
    assert (failed_rows["value"] == dropped.frame["value"].max()).all()  # minimised
    from click.testing import CliRunner

    from odyssey_analysis.cli import main

    result = CliRunner().invoke(main, ["info", url, "--on-crashed", "worst"])
    assert result.exit_code == 0, result.output
    assert "worst value" in " ".join(result.output.split())
