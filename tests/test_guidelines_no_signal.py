"""A fit without detectable signal gives no guideline: nothing is tuned, fixed or
narrowed from it, and the text says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis import analyze, method_from_options
from odyssey_analysis.guidelines import study_guidelines
from odyssey_analysis.guidelines_text import group_paragraph, guidelines_markdown
from odyssey_analysis.next_space import next_space
from odyssey_analysis.space import Hyperparameter, SearchSpace
from odyssey_analysis.trials import TrialTable

SPACE = SearchSpace((
    Hyperparameter("lr", "float", 1e-4, 1.0, "log"),
    Hyperparameter("size", "float", 16.0, 256.0, "log"),
    Hyperparameter("opt", "categorical", choices=("adam", "sgd", "rmsprop")),
))
N = 200

pytestmark = pytest.mark.filterwarnings("ignore::odyssey_analysis.errors.FitQualityWarning")


def _frame(task: str, signal: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.random((N, 2))
    frame = pd.DataFrame({"lr": SPACE["lr"].decode(u[:, 0]),
                          "size": SPACE["size"].decode(u[:, 1]),
                          "opt": rng.choice(["adam", "sgd", "rmsprop"], N)})
    noise = rng.normal(0.0, 0.03 if signal else 0.1, N)
    frame["loss"] = 1.0 + noise + ((u[:, 0] - 0.6) ** 2 if signal else 0.0)
    frame["task"] = task
    return frame


def _guide(*tasks: tuple[str, bool]):
    frame = pd.concat([_frame(t, s, seed) for seed, (t, s) in enumerate(tasks)],
                      ignore_index=True)
    table = TrialTable.from_frame(frame, space=SPACE, responses=["loss"], group_by=["task"],
                                  minimize=["loss"])
    study = analyze(table, method_from_options(n_trees=32, seed=0), n_jobs=1)
    return study, study_guidelines(study)


@pytest.fixture(scope="module")
def mixed():
    return _guide(("clear", True), ("noise", False))


def test_pure_noise_group_gives_no_guideline(mixed):
    study, guide = mixed
    assert not study.get("loss", task="noise").has_signal
    assert study.get("loss", task="clear").has_signal
    silent = guide.get("loss", task="noise")
    assert not silent.has_signal and silent.signal_note.startswith("no detectable signal")
    assert silent.hyperparameters == {} and silent.pairs == [] and silent.budget == []
    text = group_paragraph(silent)
    assert "No detectable signal: no guideline" in text
    assert "tune" not in text.replace("nothing is tuned", "")
    assert silent.to_dict()["signal_note"] == silent.signal_note
    assert guide.get("loss", task="clear").hyperparameters["lr"].verdict == "tune"


def test_next_space_reads_only_the_groups_with_signal(mixed):
    _, guide = mixed
    both = next_space(guide, SPACE, "loss")
    alone = next_space(guide, SPACE, "loss", groups=[guide.get("loss", task="clear")])
    for a, b in zip(both.narrowings, alone.narrowings):
        assert a.action == b.action and a.hyperparameter == b.hyperparameter, a.name
        assert [e["group"] for e in a.evidence] == [{"task": "clear"}]
    assert "1 group(s) without detectable signal left out" in both.narrowings[0].because


def test_consensus_counts_the_silent_group(mixed):
    _, guide = mixed
    rows = {r["hyperparameter"]: r for r in guide.consensus()["hyperparameters"]}
    assert rows["lr"]["n_groups"] == 2 and rows["lr"]["no_signal"] == 1
    assert rows["lr"]["tune"] + rows["lr"]["fix"] + rows["lr"]["ignore"] == 1
    md = guidelines_markdown(guide, "loss")
    assert "1 of 2 group(s) have no detectable signal and give no verdict." in md


def test_no_group_with_signal_keeps_the_whole_space():
    _, guide = _guide(("noise", False))
    nxt = next_space(guide, SPACE, "loss")
    assert [n.action for n in nxt.narrowings] == ["kept"] * len(SPACE)
    assert [n.hyperparameter for n in nxt.narrowings] == list(SPACE)
    assert all("no group has detectable signal" in n.because for n in nxt.narrowings)
    assert guide.consensus()["hyperparameters"] == []
