"""The user's files are never touched; outputs are whole, safe to name, escaped, and the
same bytes every time."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_compare import make_sweep

from odyssey_analysis import InputError
from odyssey_analysis.cli import main
from odyssey_analysis.methods import method_from_options
from odyssey_analysis.naming import file_stem, file_stems
from odyssey_analysis.report import MARKER, build_report

FAST = ["--trees", "4", "--jobs", "1", "--quiet", "--bootstrap", "0"]
SPACE = ("hyperparameters:\n"
         "  learning_rate: {type: float, lower: 1.0e-6, upper: 1.0e-2, scale: log}\n"
         "  hidden_size: {type: int, lower: 20, upper: 200, scale: log}\n"
         "  momentum: {type: float, lower: 0.0, upper: 0.99, scale: one_minus_log}\n"
         "  input_noise: {type: float, lower: 0.0, upper: 1.0}\n")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def sweep(tmp_path: Path, variants=("V", "NFG"), name="sweep.csv", **kwargs) -> Path:
    frame = make_sweep(n_per=12, tasks=("speech",), variants=variants, seed=5, **kwargs)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# -- file names from data ---------------------------------------------------------------------

def test_file_stems_are_safe_unique_short_and_stable():
    stems = file_stems([("m", "a/b"), ("m", "a_b"), ("m", "V"), ("m", "v"), ("m", "x" * 300),
                        ("m", "ok-1.5"), ("m", "CON"), ("m", "..")])
    assert stems[0] != stems[1] and stems[1] == "m_a_b"
    assert stems[0].startswith("m_a_b-")
    assert stems[2] != stems[3] and stems[2].casefold() != stems[3].casefold()
    assert len(stems[4]) <= 90
    assert stems[5] == "m_ok-1.5"
    assert all("/" not in s and ".." != s for s in stems)
    assert file_stems([("m", "a/b")]) == file_stems([("m", "a/b")])
    assert file_stem("CON").startswith("CON-")


def test_group_values_that_are_paths_and_long_text_make_distinct_figures(tmp_path):
    long = "very-long-" * 30
    path = sweep(tmp_path, variants=("V", "a/b", "a_b", long))
    out = tmp_path / "r"
    result = run("report", path, "--out", out, "--all-interactions", *FAST)
    assert result.exit_code == 0, result.output
    marginals = sorted(p.name for p in (out / "figures").glob("marginals_*.png"))
    assert len(marginals) == 4 and len(set(marginals)) == 4
    assert all(len(name) < 120 for name in marginals)
    assert not list((out / "figures").glob("**/a/*"))


# -- inputs are never outputs ---------------------------------------------------------------------

def test_analyze_refuses_to_write_over_the_space_or_column_spec(tmp_path):
    path = sweep(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    space = out / "analysis.json"
    space.write_text('{"hyperparameters": {"learning_rate": {"type": "float", "lower": 1e-6, '
                     '"upper": 0.01, "log": true}, "hidden_size": {"type": "int", "lower": 20,'
                     ' "upper": 200, "log": true}, "momentum": {"type": "float", "lower": 0, '
                     '"upper": 0.99}, "input_noise": {"type": "float", "lower": 0, "upper": 1}}}')
    before = space.read_bytes()
    result = run("analyze", path, "--space", space, "--out", out, "--trees", 4)
    assert result.exit_code == 2, result.output
    assert "refusing to overwrite the input" in result.output
    assert space.read_bytes() == before
    spec = out / "importance.csv"
    spec.write_text("responses: [test_error]\n")
    result = run("analyze", path, "--columns", spec, "--out", out, "--trees", 4)
    assert result.exit_code == 2 and spec.read_text() == "responses: [test_error]\n"


def test_a_report_never_writes_into_a_folder_that_is_not_a_report(tmp_path):
    path = sweep(tmp_path)
    result = run("report", path, "--out", tmp_path, *FAST)  # the folder of the input
    assert result.exit_code == 2
    assert "overwrite its input" in result.output
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    result = run("report", path, "--out", other, *FAST)
    assert result.exit_code == 2 and "not an odyssey report" in result.output
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    report = tmp_path / "report"
    assert run("report", path, "--out", report, *FAST).exit_code == 0
    (report / "notes.txt").write_text("added by hand")
    result = run("report", path, "--out", report, *FAST)
    assert result.exit_code == 2 and "notes.txt" in result.output
    assert (report / "notes.txt").read_text() == "added by hand"


def test_a_second_report_leaves_no_file_of_the_first(tmp_path):
    first = sweep(tmp_path, variants=("V", "NFG"), name="a.csv")
    second = sweep(tmp_path, variants=("V", "NP"), name="b.csv")
    out = tmp_path / "report"
    assert run("report", first, "--out", out, *FAST).exit_code == 0
    assert (out / "figures" / "marginals_NFG.png").is_file()
    assert run("report", second, "--out", out, *FAST).exit_code == 0
    names = {p.name for p in (out / "figures").iterdir()}
    assert "marginals_NP.png" in names and "marginals_NFG.png" not in names
    assert (out / MARKER).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.")]


def test_a_failed_report_leaves_the_previous_one_intact(tmp_path, monkeypatch):
    path = sweep(tmp_path)
    out = tmp_path / "report"
    build_report(path, out, method=method_from_options(n_trees=4), n_jobs=1)
    before = digests(out)

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("odyssey_analysis.report.build.draw_figures", broken)
    with pytest.raises(KeyboardInterrupt):
        build_report(path, out, method=method_from_options(n_trees=4), n_jobs=1)
    assert digests(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.")]


def test_sigterm_stops_the_workers_and_leaves_nothing_behind(tmp_path):
    frame = make_sweep(n_per=40, tasks=("speech", "music"), seed=9)
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    (tmp_path / "big.space.yaml").write_text(SPACE)
    out = tmp_path / "report"
    marker = f"odyssey-sigterm-test-{os.getpid()}"
    env = {**os.environ, "ODYSSEY_TEST_MARKER": marker}
    proc = subprocess.Popen(
        [sys.executable, "-m", "odyssey_analysis", "report", str(path), "--out", str(out),
         "--trees", "16", "--jobs", "2", "--quiet", "--all-interactions"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    staging = []
    while time.monotonic() < deadline and proc.poll() is None:
        staging = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        if staging and (staging[0] / "figures").is_dir():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the report finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    try:
        _, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 143, stderr
    assert "terminated" in stderr and "Traceback" not in stderr
    assert not out.exists()
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith((".partial", ".tmp"))]
    assert leftovers == []
    time.sleep(1.0)
    alive = []
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc_dir / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            alive.append(proc_dir.name)
    assert alive == [], f"worker processes still running: {alive}"


# -- text from the data is data ---------------------------------------------------------------

def test_names_from_the_data_are_escaped_everywhere(tmp_path):
    frame = make_sweep(n_per=12, tasks=("speech",), variants=("V", "<b>x</b>"), seed=2)
    frame = frame.rename(columns={"test_error": "loss<script>alert(1)</script>",
                                  "input_noise": "[/bold]noise"})
    frame["variant"] = frame["variant"].replace({"V": "[/x]"})
    path = tmp_path / "evil.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "report"
    result = run("report", path, "--metric", "loss<script>alert(1)</script>",
                 "--reference", "[/x]", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.output
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    markdown = "".join(p.read_text() for p in (out / "tables").glob("*.md"))
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    latex = "".join(p.read_text() for p in (out / "tables").glob("*.tex"))
    assert "<script>" not in latex
    assert "\\label{tab:" in latex and "<" not in "".join(
        line for line in latex.splitlines() if "\\label" in line)


def test_rich_markup_in_names_is_printed_as_text(tmp_path):
    frame = make_sweep(n_per=12, tasks=("speech",), variants=("V", "[/x]"), seed=2)
    frame = frame.rename(columns={"input_noise": "[/bold]x"})
    path = tmp_path / "m.csv"
    frame.to_csv(path, index=False)
    for command in (["info", path], ["analyze", path, "--out", tmp_path / "a", "--trees", 4],
                    ["compare", path, "--out", tmp_path / "c"]):
        result = run(*command)
        assert result.exit_code == 0, result.output
    assert "[/x]" in run("compare", path, "--out", tmp_path / "c").output


# -- the same input gives the same bytes -----------------------------------------------------

def test_two_reports_are_byte_identical(tmp_path):
    path = sweep(tmp_path)
    for name in ("one", "two"):  # with intervals, as by default (fewer replicates)
        result = run("report", path, "--out", tmp_path / name, "--trees", "4", "--jobs", "1",
                     "--quiet", "--bootstrap", "20")
        assert result.exit_code == 0, result.output
    one, two = digests(tmp_path / "one"), digests(tmp_path / "two")
    assert one == two
    assert any(name.endswith(".pdf") for name in one)


# -- bad options and bad places are one line and exit status 2 --------------------------------

@pytest.mark.parametrize("args, message", [
    (["--trees", "0"], "--trees must be at least 1"),
    (["--min-samples-leaf", "0"], "--min-samples-leaf must be at least 1"),
    (["--max-features", "0"], "--max-features must be at least 1"),
    (["--max-features", "1.5"], "(0, 1]"),
    (["--cutoff", "1", "0"], "LOW < HIGH"),
    (["--cutoff-quantile", "0.9", "0.1"], "cutoff quantiles"),
    (["--seed", "-1"], "--seed must be between"),
])
def test_bad_forest_options_are_input_errors(tmp_path, args, message):
    result = run("analyze", sweep(tmp_path), "--out", tmp_path / "o", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_an_output_folder_under_a_file_is_an_input_error(tmp_path):
    path = sweep(tmp_path)
    result = run("analyze", path, "--out", path / "out", "--trees", 4)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output


def test_an_unreadable_file_is_an_input_error(tmp_path, monkeypatch):
    path = sweep(tmp_path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("odyssey_analysis.loaders.table._read_delimited", denied)
    result = run("info", path)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {path}: Permission denied"


def test_no_pairs_means_no_pair_rows(tmp_path):
    out = tmp_path / "o"
    assert run("analyze", sweep(tmp_path), "--out", out, "--trees", 4,
               "--no-pairs").exit_code == 0
    importance = pd.read_csv(out / "importance.csv")
    assert set(importance["order"].astype(str)) == {"1", "higher"}
    assert (importance.loc[importance["order"] == "higher", "effect"]
            == "interactions (pairs not computed)").all()


def test_ranges_too_wide_to_encode_are_refused():
    from odyssey_analysis.space import Hyperparameter

    with pytest.raises(InputError, match="too wide"):
        Hyperparameter("x", "float", -1e308, 1e308)
    assert np.isfinite(Hyperparameter("x", "float", -1e300, 1e300).encode([0.0])).all()
