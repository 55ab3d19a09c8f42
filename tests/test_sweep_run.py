"""End-to-end trials, exact reproduction from a recorded row, and the resumable runner."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow  # see pyproject.toml: `make test-quick` skips it

from odyssey_sweep import search  # noqa: E402
from odyssey_sweep.search import SweepError, read_done, run_sweep  # noqa: E402
from odyssey_sweep.space import (  # noqa: E402
    RESULT_COLUMNS,
    SWEEP_SPACE,
    TASKS,
    VARIANTS,
    TrialSpec,
    make_trial,
    parse_selection,
)
from odyssey_sweep.tasks import epoch_batches, load_task  # noqa: E402
from odyssey_sweep.train import run_trial  # noqa: E402


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def spec_from_row(row: dict[str, str]) -> TrialSpec:
    return TrialSpec(
        row["task"],
        row["variant"],
        int(row["trial"]),
        int(row["seed"]),
        int(row["hidden_size"]),
        float(row["learning_rate"]),
        float(row["momentum"]),
        float(row["input_noise"]),
    )


@pytest.mark.parametrize("task", TASKS)
def test_one_trial_per_task_end_to_end(task):
    data = load_task(task)
    assert len(data.train) and len(data.valid) and len(data.test)
    spec = TrialSpec(task, "V", 0, 7, 20, 0.5, 0.9, 0.2)
    row = run_trial(spec, max_epochs=1)
    assert tuple(row) == RESULT_COLUMNS
    assert row["status"] == "ok" and row["diverged"] is False
    assert row["epochs"] == 1 and row["train_time"] > 0
    assert row["metric"] == ("nll" if task == "music" else "classification_error")
    if task == "music":
        assert 0 < row["test_error"] < 60  # nats per frame, 54 pitches
    else:
        assert 0 <= row["test_error"] <= 1
    width = 4 * 20 * (data.n_inputs + 20 + 1) + 3 * 20
    readout_in = 20 if task == "music" else 40
    directions = 1 if task == "music" else 2
    assert row["n_params"] == directions * width + (readout_in + 1) * data.n_outputs


def test_divergence_is_recorded_with_nan_metrics():
    # saturating gates keep most blow-ups finite; a rate this large overflows to inf
    row = run_trial(TrialSpec("speech", "NOAF", 0, 3, 30, 1e38, 0.99, 0.0), max_epochs=2)
    assert row["diverged"] is True and row["status"] == "diverged"
    assert math.isnan(row["valid_error"]) and math.isnan(row["test_error"])


def test_rerunning_a_recorded_trial_reproduces_its_metric_exactly(tmp_path):
    out = tmp_path / "sweep.csv"
    run_sweep(["speech"], ["CIFG"], 1, out, max_epochs=2)
    (row,) = read_rows(out)
    again = run_trial(spec_from_row(row), max_epochs=2)
    assert repr(again["valid_error"]) == row["valid_error"]
    assert repr(again["test_error"]) == row["test_error"]


def test_resumed_sweep_never_duplicates_trials(tmp_path):
    out = tmp_path / "sweep.csv"
    kwargs = dict(tasks=["handwriting"], variants=["V", "NP"], n_trials=2, out=out, max_epochs=1)
    stop_after = 2

    def interrupt(row, finished, pending):
        if finished == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(**kwargs, on_result=interrupt)
    first = read_rows(out)
    assert len(first) == stop_after
    with open(out, "a") as fh:  # the process died while writing a line
        fh.write("handwriting,V,1,123")
    summary = run_sweep(**kwargs)
    assert summary.already_done == stop_after and summary.completed == 2
    rows = read_rows(out)
    keys = [(r["task"], r["variant"], int(r["trial"])) for r in rows]
    assert len(keys) == len(set(keys)) == 4
    assert rows[:stop_after] == first
    assert run_sweep(**kwargs).completed == 0
    with open(out) as fh:
        assert fh.read().count("task,variant") == 1


def test_restarted_trials_are_the_same_trials():
    a = [make_trial("music", v, k, base_seed=5) for v in VARIANTS for k in range(3)]
    b = [make_trial("music", v, k, base_seed=5) for v in VARIANTS for k in range(3)]
    assert a == b
    assert make_trial("music", "V", 0, base_seed=6) != a[0]
    assert len({s.seed for s in a}) == len(a)


def test_sampled_hyperparameters_stay_in_the_space():
    specs = [make_trial("speech", "V", k) for k in range(300)]
    hidden = np.array([s.hidden_size for s in specs])
    lr = np.array([s.learning_rate for s in specs])
    mom = np.array([s.momentum for s in specs])
    noise = np.array([s.input_noise for s in specs])
    assert hidden.min() >= 20 and hidden.max() <= 200
    assert np.all((lr >= SWEEP_SPACE.learning_rate[0]) & (lr <= SWEEP_SPACE.learning_rate[1]))
    assert np.all((mom >= 0) & (mom <= 0.99))
    assert np.all((noise >= 0) & (noise <= 1))
    # log-uniform: about half of the learning rates below the geometric midpoint
    mid = math.sqrt(SWEEP_SPACE.learning_rate[0] * SWEEP_SPACE.learning_rate[1])
    assert 0.4 < np.mean(lr < mid) < 0.6


def test_resume_refuses_a_file_from_another_base_seed(tmp_path):
    out = tmp_path / "sweep.csv"
    run_sweep(["speech"], ["V"], 1, out, max_epochs=1, base_seed=1)
    with pytest.raises(SweepError, match="base seed"):
        read_done(out, base_seed=2)


def test_epoch_batches_partition_the_data():
    lengths = np.random.default_rng(0).integers(5, 50, size=37)
    batches = epoch_batches(lengths, 8, np.random.default_rng(1))
    assert sorted(np.concatenate(batches).tolist()) == list(range(37))
    again = epoch_batches(lengths, 8, np.random.default_rng(1))
    assert all(np.array_equal(x, y) for x, y in zip(batches, again))


def test_selection_parsing():
    assert parse_selection("all", VARIANTS, "variant") == list(VARIANTS)
    assert parse_selection("NP,V", VARIANTS, "variant") == ["V", "NP"]
    with pytest.raises(ValueError, match="unknown task"):
        parse_selection("timit", TASKS, "task")


def test_command_without_torch_says_how_to_install(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from odyssey_sweep import command

    monkeypatch.setattr(command, "torch_available", lambda: False)
    result = CliRunner().invoke(command.sweep, ["--trials", "1", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "install the sweep extra: pip install 'odyssey-analysis[sweep]'" in result.output


def test_command_runs_and_resumes(tmp_path):
    from click.testing import CliRunner

    from odyssey_sweep.command import sweep

    out = tmp_path / "sweep.csv"
    args = ["--task", "speech", "--variant", "NIG", "--trials", "1", "--out", str(out)]
    result = CliRunner().invoke(sweep, [*args, "--max-epochs", "1"])
    assert result.exit_code == 0, result.output
    assert len(read_rows(out)) == 1
    result = CliRunner().invoke(sweep, [*args, "--max-epochs", "1"])
    assert result.exit_code == 0 and "0 trials written" in result.output
    bad = CliRunner().invoke(sweep, ["--task", "timit", "--trials", "1", "--out", str(out)])
    assert bad.exit_code == 2


def test_parallel_workers_write_every_trial_once(tmp_path):
    out = tmp_path / "sweep.csv"
    summary = run_sweep(["handwriting"], ["NOG", "NIAF"], 1, out, jobs=2, max_epochs=1)
    assert summary.completed == 2
    assert sorted(r["variant"] for r in read_rows(out)) == ["NIAF", "NOG"]
    assert search.read_done(out).keys() == {("handwriting", "NOG", 0), ("handwriting", "NIAF", 0)}
