"""Every bad input in tests/bad_inputs/ is refused with one line naming file, row and column.

The corpus is written by tests/bad_inputs/make_corpus.py; cases.json says what each file
is given and where its problem lies. For each: ``load_trials`` raises InputError;
``odyssey info`` and ``odyssey analyze`` exit with status 2, print one line (no traceback
unless --debug), write nothing, and leave the input byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from odyssey_analysis.errors import InputError, one_line
from odyssey_analysis.loaders import load_trials

HERE = Path(__file__).parent / "bad_inputs"
CASES = json.loads((HERE / "cases.json").read_text())
ERRORS = [c for c in CASES if c["load_error"]]
BY_NAME = {c["name"]: c for c in CASES}


def _files(case):
    path = HERE / case["name"]
    files = [path]
    if case["space"]:
        files.append(path.with_name(path.name.rsplit(".", 1)[0] + ".space.yaml"))
    if case["space_file"]:
        files.append(HERE / case["space_file"])
    return files


def _where(case):
    """The texts the one-line error must hold: the file, and the row and column."""
    parts = [case["message"] or case["error_file"] or case["name"]]
    if case["row"] is not None:
        parts.append(f"row {case['row']}")
    if case["column"] is not None:
        parts.append(one_line(f"column '{case['column']}'"))
    return parts


def _digests(case):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(case)}


def _ids(cases):
    return [c["name"] for c in cases]


def test_corpus_matches_its_script():
    sys.path.insert(0, str(HERE))
    try:
        import make_corpus
    finally:
        sys.path.remove(str(HERE))
    cases = make_corpus.cases(generated=False)  # Optuna's file depends on its version
    assert [c["name"] for c in cases] == [c["name"] for c in CASES]
    for case, listed in zip(cases, CASES):
        assert {k: v for k, v in case.items() if k not in ("data", "space_data")} == listed
        if case["data"] is not None:
            assert (HERE / case["name"]).read_bytes() == case["data"], case["name"]
        if case["space_data"] is not None:
            assert (HERE / case["space_file"]).read_bytes() == case["space_data"]


@pytest.mark.parametrize("case", ERRORS, ids=_ids(ERRORS))
def test_load_trials_names_file_row_and_column(case):
    path = HERE / case["name"]
    before = _digests(case)
    with pytest.raises(InputError) as info:
        load_trials(str(path), **case["kwargs"])
    err = info.value
    text = str(err)
    assert "\n" not in text
    named = case["error_file"] or case["name"]
    assert err.file is not None and Path(err.file).name == named
    assert text.startswith(str(HERE / named))
    assert err.row == case["row"]
    assert err.column == case["column"]
    for part in _where(case):
        assert part in text
    assert _digests(case) == before


def test_diverged_runs_dropped_are_counted():
    table = load_trials(str(HERE / "nan_response.csv"), on_diverged="drop")
    assert len(table) == 3
    assert table.excluded_counts() == {"diverged (non-finite metric)": 2}
    assert sorted(table.exclusions["row"]) == [2, 4]


def test_diverged_runs_worst_are_replaced():
    table = load_trials(str(HERE / "nan_response.csv"), on_diverged="worst")
    assert len(table) == 5 and table.n_excluded == 0
    finite = pd.read_csv(HERE / "nan_response.csv")["valid_error"]
    worst = finite[finite.apply(lambda v: str(v) not in ("nan", "inf"))].astype(float).max()
    assert table.frame.loc[[2, 4], "valid_error"].tolist() == [worst, worst]
    assert any("worst" in note for note in table.notes)


def test_one_row_group_and_constant_column_load():
    grouped = load_trials(str(HERE / "one_row_group.csv"))
    assert grouped.group_keys == ["task"]
    assert grouped.frame["task"].value_counts()["music"] == 1
    constant = load_trials(str(HERE / "constant_column.csv"))
    space = constant.resolve_space()
    assert space["optimizer"].is_constant
    assert any("optimizer" in note and "constant" in note for note in space.notes)


# -- the command line ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    module = pytest.importorskip("odyssey_analysis.cli")
    from click.testing import CliRunner

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(module.main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def _assert_one_line_error(result, case):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for part in _where(case):
        assert part in lines[0]
    assert not result.stdout.strip()


@pytest.mark.parametrize("case", ERRORS, ids=_ids(ERRORS))
def test_cli_refuses_with_status_2(cli, case, tmp_path):
    path = HERE / case["name"]
    before = _digests(case)
    _assert_one_line_error(cli("info", path, *case["cli"]), case)
    out = tmp_path / "out"
    _assert_one_line_error(cli("analyze", path, *case["cli"], *case["analyze_cli"], "--out",
                               out), case)
    assert not out.exists() or not any(out.iterdir())
    assert _digests(case) == before


def test_cli_debug_shows_the_traceback(cli):
    result = cli("info", HERE / "text_in_numeric.csv", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.output and "InputError" in result.output


def test_cli_process_exit_status_and_stderr(tmp_path):
    pytest.importorskip("odyssey_analysis.cli")
    name = "corrupted.db"
    case = BY_NAME[name]
    before = _digests(case)
    # What the installed ``odyssey`` console script runs.
    proc = subprocess.run(
        [sys.executable, "-c", "from odyssey_analysis.cli import main; main()", "analyze",
         str(HERE / name), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and name in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
    assert _digests(case) == before


def test_cli_diverged_policies(cli):
    path = HERE / "nan_response.csv"
    dropped = cli("info", path, "--on-diverged", "drop")
    assert dropped.exit_code == 0, dropped.output
    assert "excluded 2: diverged" in dropped.stdout
    worst = cli("info", path, "--on-diverged", "worst")
    assert worst.exit_code == 0, worst.output
    assert "worst" in worst.stdout


def test_cli_constant_column_is_reported_not_refused(cli, tmp_path):
    path = HERE / "constant_column.csv"
    before = _digests(BY_NAME["constant_column.csv"])
    info = cli("info", path)
    assert info.exit_code == 0, info.output
    assert "optimizer is constant" in " ".join(info.stdout.split())
    out = tmp_path / "out"
    result = cli("analyze", path, "--out", out, "--trees", 8)
    assert result.exit_code == 0, result.output
    importance = pd.read_csv(out / "importance.csv")
    main = importance[(importance["order"].astype(str) == "1")
                      & (importance["param_a"] == "optimizer")]
    assert len(main) == 1 and main["fraction"].iloc[0] == 0.0
    assert _digests(BY_NAME["constant_column.csv"]) == before


def test_cli_group_with_one_row_is_refused(cli, tmp_path):
    path = HERE / "one_row_group.csv"
    out = tmp_path / "out"
    result = cli("analyze", path, "--out", out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "music" in lines[0] and "one_row_group.csv" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_cli_missing_optuna_study(cli, tmp_path):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    db = tmp_path / "studies.db"
    for name in ("alpha", "beta"):
        study = optuna.create_study(study_name=name, storage=f"sqlite:///{db}")
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    url = f"sqlite:///{db}"
    with pytest.raises(InputError, match="no study named 'gamma'.*alpha, beta"):
        load_trials(url, study="gamma")
    for args in (["info", url], ["analyze", url, "--out", tmp_path / "out"]):
        result = cli(*args, "--option", "study=gamma")
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1
        assert "gamma" in lines[0] and "alpha, beta" in lines[0] and str(db) in lines[0]
    assert not (tmp_path / "out").exists()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


LOADABLE = [c for c in CASES if not c["load_error"]]


@pytest.mark.parametrize("case", LOADABLE, ids=_ids(LOADABLE))
def test_cli_reads_what_it_can_and_says_what_it_did(cli, case, tmp_path):
    """Files that load: info prints what the case says, analyze fails only where listed."""
    path = HERE / case["name"]
    before = _digests(case)
    info = cli("info", path, *case["cli"])
    assert info.exit_code == 0, info.output
    flat = " ".join(info.stdout.split())
    for expected in case["info_contains"]:
        assert expected in flat, expected
    lines = [line.strip() for line in info.stdout.splitlines()]
    for expected in case["info_lines"]:
        assert any(expected in line for line in lines), expected
    if case["hyperparameters"] is not None:
        table = load_trials(str(path), **case["kwargs"])
        assert table.hyperparameters == case["hyperparameters"]
    result = cli("analyze", path, *case["cli"], *case["analyze_cli"], "--trees", 4,
                 "--out", tmp_path / "out")
    if case["analyze_error"]:
        _assert_one_line_error(result, case)
    else:
        assert result.exit_code == 0, result.output
    assert _digests(case) == before
