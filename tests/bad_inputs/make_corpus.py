"""Write the corpus of bad inputs that tests/test_bad_inputs.py runs through the loaders.

Run ``python tests/bad_inputs/make_corpus.py`` to (re)write the files beside this script and
``cases.json``, which says for each file what ``load_trials`` and the command line are given
and where the problem is (row and column). The output is deterministic; the corrupted
SQLite file is made from a real Optuna storage (needs ``optuna``).
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

GOOD_ROWS = [
    # lr, momentum, optimizer, valid_error
    ("0.001", "0.9", "adam", "0.31"),
    ("0.01", "0.5", "sgd", "0.28"),
    ("0.1", "0.0", "adam", "0.45"),
    ("0.003", "0.95", "sgd", "0.30"),
    ("0.0003", "0.7", "adam", "0.36"),
]
HEADER = "lr,momentum,optimizer,valid_error"
SPACE = """hyperparameters:
  lr: {type: float, lower: 0.0001, upper: 1.0, log: true}
  momentum: {type: float, lower: 0.0, upper: 0.99}
  optimizer: {type: categorical, choices: [adam, sgd]}
"""


def _csv(rows: list[tuple[str, ...]], header: str = HEADER) -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def _replace(row: int, column: int, value: str) -> list[tuple[str, ...]]:
    rows = [list(r) for r in GOOD_ROWS]
    rows[row - 1][column] = value
    return [tuple(r) for r in rows]


def cases(*, generated: bool = True) -> list[dict]:
    """Each case: file name, its bytes, load_trials kwargs, CLI args, expected location.

    With ``generated=False`` the file made by Optuna is left out (its bytes are ``None``).
    """
    out: list[dict] = []

    def add(name, data, *, row=None, column=None, kwargs=None, cli=(), space=False,
            load_error=True, analyze_error=True, info_error=None, info_contains=(),
            analyze_cli=(), error_file=None, message=None, hyperparameters=None,
            info_lines=(), space_file=None, space_data=None):
        out.append({
            "name": name, "data": data.encode("utf-8") if isinstance(data, str) else data,
            "row": row, "column": column, "kwargs": kwargs or {}, "cli": list(cli),
            "space": space, "load_error": load_error, "analyze_error": analyze_error,
            "info_error": load_error if info_error is None else info_error,
            "info_contains": list(info_contains),
            # Given to `odyssey analyze` only; the file the error names (default: this
            # one); text the error must hold instead of a file name; the hyperparameters
            # load_trials must find; lines info must print whole; a space file of its own.
            "analyze_cli": list(analyze_cli), "error_file": error_file, "message": message,
            "hyperparameters": hyperparameters, "info_lines": list(info_lines),
            "space_file": space_file,
            "space_data": space_data.encode("utf-8") if isinstance(space_data, str)
            else space_data,
        })

    add("empty.csv", b"")
    add("header_only.csv", HEADER + "\n")
    add("missing_hyperparameter.csv", _csv(GOOD_ROWS), column="batch_size",
        kwargs={"hyperparameters": ["lr", "batch_size"], "responses": ["valid_error"]},
        cli=["--param", "lr", "--param", "batch_size", "--response", "valid_error"])
    add("missing_response.csv", _csv(GOOD_ROWS), column="test_error",
        kwargs={"responses": ["test_error"]}, cli=["--response", "test_error"])
    add("text_in_numeric.csv", _csv(_replace(3, 3, "oops")), row=3, column="valid_error")
    add("mixed_types.csv", _csv(_replace(4, 1, "high")), row=4, column="momentum",
        space=True)
    add("ragged_rows.csv", _csv(_replace(2, 3, "sgd,0.5")), row=2)
    add("short_row.csv", _csv(GOOD_ROWS[:2] + [("0.1", "0.0", "adam")] + GOOD_ROWS[3:]),
        row=3)
    rng = random.Random(0)
    add("binary_junk.csv", bytes(rng.randrange(256) for _ in range(512)) + b"\x00\x00")
    latin = _csv(_replace(3, 2, "ADAM")).encode("utf-8").replace(b"ADAM", b"ad\xe9m")
    add("latin1.csv", latin, row=3)
    records = [dict(zip(HEADER.split(","), r)) for r in GOOD_ROWS]
    add("truncated.json", json.dumps(records, indent=1)[:-40])
    lines = [json.dumps(r) for r in records]
    lines[2] = lines[2][:20]
    add("truncated.jsonl", "\n".join(lines) + "\n", row=3)
    diverged = _replace(2, 3, "nan")
    diverged[3] = diverged[3][:3] + ("inf",)
    add("nan_response.csv", _csv(diverged), row=2, column="valid_error",
        kwargs={"on_diverged": "error"}, cli=["--on-diverged", "error"])
    add("log_nonpositive.csv", _csv(_replace(3, 0, "0")), row=3, column="lr", space=True)
    add("out_of_bounds.csv", _csv(_replace(2, 1, "1.5")), row=2, column="momentum",
        space=True)
    add("unknown_level.csv", _csv(_replace(4, 2, "rmsprop")), row=4, column="optimizer",
        space=True)
    ids = [(str(i + 1),) + r for i, r in enumerate(GOOD_ROWS)]
    ids[3] = ("2",) + ids[3][1:]  # row 4 repeats trial 2
    add("duplicate_ids.csv", _csv(ids, "trial_id," + HEADER), row=4, column="trial_id")
    header = HEADER.split(",")
    add("quoted_newline_header.csv", _csv(GOOD_ROWS, f'lr,"momen\ntum",{",".join(header[2:])}'))
    add("duplicate_header.csv", _csv(GOOD_ROWS, f"lr,lr,{','.join(header[2:])}"), column="lr")
    add("empty_header_name.csv", _csv(GOOD_ROWS, f"lr,,{','.join(header[2:])}"))
    nested = [dict(r) for r in records]
    nested[1]["optimizer"] = ["adam", "sgd"]
    add("nested_values.json", json.dumps(nested, indent=1), row=2, column="optimizer")
    add("deep_nesting.json", "[" * 100_000 + "]" * 100_000)
    # Not errors for the loader:
    many = [(f"{10 ** (-4 + 3 * i / 23):.6g}", f"{0.9 * (i % 5) / 4:.3g}",
             "adam" if i % 2 else "sgd", f"{0.2 + 0.01 * (i % 7):.3g}") for i in range(24)]
    grouped = [("speech",) + r for r in many] + [("music", "0.01", "0.5", "sgd", "0.3")]
    add("one_row_group.csv", _csv(grouped, "task," + HEADER), load_error=False,
        analyze_error=True, info_error=False)
    # The error falls with the learning rate, so the fit has a signal to share out and
    # the constant optimizer's share is a number: 0.
    constant = [r[:2] + ("adam", f"{0.3 - 0.004 * i:.3g}") for i, r in enumerate(many)]
    add("constant_column.csv", _csv(constant), load_error=False, analyze_error=False,
        info_error=False, info_contains=["optimizer", "constant"])
    index = "".join(f"{i},{','.join(r)}\n" for i, r in enumerate(many))
    add("unnamed_index.csv", f",{HEADER}\n{index}", load_error=False, analyze_error=False,
        info_error=False, info_contains=["row index"])
    markup = [("speech", "[/x]") + r for r in many[:12]] + [("music", "a/b") + r
                                                           for r in many[12:]]
    add("markup_names.csv", _csv(markup, "task,variant,lr,[/bold]x,optimizer,"
                                         "loss<script>alert(1)</script>"),
        load_error=False, analyze_error=False, info_error=False,
        info_contains=["[/bold]x", "loss<script>"])
    # A line break inside a column name must not break the one-line message.
    broken = [{("valid\nerror" if k == "valid_error" else k): v for k, v in r.items()}
              for r in records]
    broken[2]["valid\nerror"] = "oops"
    add("newline_in_name.json", json.dumps(broken, indent=1), row=3, column="valid\nerror")
    # ConfigSpace bounds whose range overflows: no library warning before the error.
    huge = {"name": "huge", "hyperparameters": [
        {"name": "lr", "type": "uniform_float", "log": False, "lower": -1e308,
         "upper": 1e308, "default_value": 0.0}],
        "conditions": [], "forbiddens": [], "python_module_version": "1.2.0",
        "format_version": 0.4}
    add("huge_bounds.csv", _csv([(r[0], r[3]) for r in GOOD_ROWS], "lr,valid_error"),
        column="lr", error_file="huge_bounds.space.json",
        space_file="huge_bounds.space.json", space_data=json.dumps(huge, indent=1))
    # --jobs 0 names no core: refused by the commands that fit.
    add("jobs_zero.csv", _csv(many), load_error=False, analyze_error=True,
        info_error=False, analyze_cli=["--jobs", "0"], message="--jobs 0")
    # A table read with its index and saved again by pandas: a literal 'Unnamed: 0'
    # header over row numbers, beside the nameless index column.
    twice = "".join(f"{i},{i},{','.join(r)}\n" for i, r in enumerate(many))
    add("saved_twice.csv", f",Unnamed: 0,{HEADER}\n{twice}", load_error=False,
        analyze_error=False, info_error=False, info_contains=["row numbers"],
        hyperparameters=["lr", "momentum", "optimizer"])
    # Distinct whole numbers past 2**53 (ids, hashes): levels, not one constant.
    big = [(str(2 ** 53 + 2 * i + 1),) + r for i, r in enumerate(many)]
    add("big_integers.csv", _csv(big, "code," + HEADER), load_error=False,
        analyze_error=False, info_error=False,
        info_contains=["beyond 2**53", "24 categorical levels"],
        hyperparameters=["code", "lr", "momentum", "optimizer"])
    # Lines printed to a pipe are not broken at 80 columns (grep finds "1 excluded").
    name = "a_sweep_exported_with_a_rather_long_file_name_from_the_tracking_server.csv"
    one_nan = list(many)
    one_nan[5] = one_nan[5][:3] + ("nan",)
    add(name, _csv(one_nan), load_error=False, analyze_error=False, info_error=False,
        info_lines=[f"{name}: 23 trials analysed, 1 excluded",
                    "excluded 1: diverged (non-finite metric)"])
    # A table without a header (the reference fanova's example files): refused, never
    # read with its first row as column names.
    add("headerless.csv", "".join(",".join((r[0], r[1], r[3])) + "\n" for r in GOOD_ROWS))
    add("corrupted.db", _corrupted_optuna_db() if generated else None)
    add("not_a_database.db", "lr,valid_error\n0.1,0.5\n")
    return out


def _corrupted_optuna_db() -> bytes:
    """A real Optuna storage, compacted, with a stretch of its pages overwritten."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "study.db"
        study = optuna.create_study(study_name="lstm", storage=f"sqlite:///{path}",
                                    sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=5)
        del study
        con = sqlite3.connect(path)
        con.execute("PRAGMA page_size = 512")
        con.execute("VACUUM")
        con.close()
        data = bytearray(path.read_bytes())
    start, stop = len(data) // 3, 2 * len(data) // 3
    rng = random.Random(1)
    data[start:stop] = bytes(rng.randrange(256) for _ in range(stop - start))
    return bytes(data)


def main() -> None:
    manifest = []
    for case in cases():
        (HERE / case["name"]).write_bytes(case["data"])
        if case["space"]:
            stem = case["name"].rsplit(".", 1)[0]
            (HERE / f"{stem}.space.yaml").write_text(SPACE)
        if case["space_file"]:
            (HERE / case["space_file"]).write_bytes(case["space_data"])
        manifest.append({k: v for k, v in case.items() if k not in ("data", "space_data")})
    (HERE / "cases.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
