"""Plain tables and format detection: reading details the bad-input corpus does not reach."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from odyssey_analysis.errors import InputError, MissingExtraError
from odyssey_analysis.loaders import detect_format, load_trials, read_table
from odyssey_analysis.loaders import table as table_module


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,row,fields", [
    ("a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n", 2, 4),
    ("a,b,c\n1,2,3\n4,5\n", 2, 2),
    ("a,b,c\n\n1,2,3\n\n4,5\n", 2, 2),                 # blank lines are not rows
    ('a,b,c\n1,"x,y",3\n"p\nq",5\n', 2, 2),            # quoted: the csv module counts
    ("a,b,c\r\n1,2,3\r\n4,5,6\r\n7,8\r\n", 3, 2),
])
def test_ragged_rows_name_the_row(tmp_path, text, row, fields):
    path = _write(tmp_path / "t.csv", text)
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.row == row
    assert f"ragged row: {fields} fields where the header has 3" in str(info.value)


@pytest.mark.parametrize("text", [
    "a,b,c\n1,2,3\n4,5,6",            # no final newline
    "a,b,c,\n1,2,3,\n4,5,6,\n",       # trailing separators everywhere
    "a,b,c\n1,2,3\n4,5,6\n\n\n",      # blank lines at the end
    'a,b,c\n1,"x,y",3\n4,5,6\n',      # a quoted separator
])
def test_well_formed_tables_are_read(tmp_path, text):
    frame = read_table(_write(tmp_path / "t.csv", text))
    assert list(frame.columns) == ["a", "b", "c"] and len(frame) == 2
    assert list(frame.index) == [1, 2]


@pytest.mark.parametrize("block", [64, 1000, 4096])
def test_row_check_across_blocks(tmp_path, monkeypatch, block):
    """Rows are counted right when lines straddle the blocks the check reads."""
    monkeypatch.setattr(table_module, "ROW_CHECK_BLOCK", block)
    lines = ["x,y,z"] + [f"{i},{i * 2},{i % 7}" for i in range(3000)]
    path = _write(tmp_path / "good.csv", "\n".join(lines) + "\n")
    assert len(read_table(path)) == 3000
    lines[1500] = ""  # a blank line is not a row
    lines[2001] = "1,2"
    path = _write(tmp_path / "big.csv", "\n".join(lines))
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.row == 2000


def test_not_utf8_is_located_past_the_first_block(tmp_path):
    body = "".join(f"{i},caf\u00e9\n" for i in range(120_000))  # two-byte characters
    raw = ("id,name\n" + body).encode("utf-8") + b"120000,caf\xe9\n"
    path = tmp_path / "latin.csv"
    path.write_bytes(raw)
    assert len(raw) > 1 << 20
    with pytest.raises(InputError) as info:
        read_table(path)
    assert info.value.row == 120_001
    assert "byte 0xe9 on line 120002" in str(info.value)


def test_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("lr,loss\n0.1,0.5\n0.2,0.4\n".encode("utf-16"))
    frame = read_table(path)
    assert frame["loss"].tolist() == [0.5, 0.4]


def test_known_roles_read_only_their_columns(tmp_path):
    frame = pd.DataFrame({"task": ["a", "b"] * 5, "lr": np.linspace(0.1, 1, 10),
                          "noise": np.arange(10), "notes": ["x"] * 10,
                          "loss": np.linspace(1, 2, 10), "trial_id": range(10)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    table = load_trials(str(path), hyperparameters=["lr"], responses=["loss"])
    assert set(table.frame.columns) == {"task", "lr", "loss", "trial_id"}
    assert table.group_keys == ["task"]
    with pytest.raises(InputError) as info:
        load_trials(str(path), hyperparameters=["lr", "width"], responses=["loss"])
    assert info.value.column == "width" and "noise, notes" in str(info.value)
    pytest.importorskip("pyarrow")
    frame.to_parquet(tmp_path / "t.parquet")
    from_parquet = load_trials(str(tmp_path / "t.parquet"), hyperparameters=["lr"],
                               responses=["loss"])
    assert set(from_parquet.frame.columns) == {"task", "lr", "loss", "trial_id"}


def test_parquet_needs_pyarrow(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(MissingExtraError, match=r"odyssey-analysis\[parquet\]"):
        load_trials(str(path))


def test_file_urls_and_options_for_tables(tmp_path):
    path = _write(tmp_path / "t.csv", "lr,loss\n0.1,0.5\n0.2,0.4\n")
    assert len(load_trials(path.as_uri())) == 2
    with pytest.raises(InputError, match="do not apply to csv tables"):
        load_trials(str(path), study="x")


def test_detection_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        detect_format(str(tmp_path / "missing.csv"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="cannot tell the format.*folder"):
        detect_format(str(tmp_path / "folder"))
    with pytest.raises(InputError, match="cannot tell the format of this URL"):
        detect_format("https://example.org/sweep.csv")
    with pytest.raises(InputError, match="database file not found"):
        detect_format(f"sqlite:///{tmp_path / 'nothing.db'}")
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE runs_log (x INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(InputError, match=r"neither Optuna nor MLflow tables \(tables: runs_log\)"):
        detect_format(str(db))
    with pytest.raises(InputError, match="unknown format 'excel'"):
        load_trials(str(db), format="excel")


def test_reader_options_are_checked(tmp_path):
    path = _write(tmp_path / "runs.json", '[{"config": {"lr": 0.1}, "summary": {"loss": 1}}]')
    assert detect_format(str(path)) == "wandb"
    with pytest.raises(InputError, match="the wandb reader takes no options"):
        load_trials(str(path), experiment="x")


def test_importing_the_package_loads_no_optional_library():
    code = ("import sys, pandas; before = 'pyarrow' in sys.modules; import odyssey_analysis; "
            "import odyssey_analysis.loaders; "
            "bad = [m for m in ('optuna', 'mlflow', 'sqlalchemy', 'smac') if m in sys.modules]; "
            "bad += [] if before else ['pyarrow'] * ('pyarrow' in sys.modules); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
