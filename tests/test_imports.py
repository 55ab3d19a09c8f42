"""Start-up: importing the package or loading trials pulls in no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import odyssey_analysis

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "numba", "matplotlib", "scipy", "joblib")


def loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_and_loading_trials_stay_light():
    csv = ROOT / "data" / "odyssey_mini.csv"
    assert loaded_after("import odyssey_analysis") == []
    assert loaded_after("from odyssey_analysis import load_trials, TrialTable\n"
                        f"load_trials({str(csv)!r})") == []
    assert loaded_after("from odyssey_analysis import analyze, FanovaMethod, presets") == []


def test_the_command_line_imports_nothing_heavy_before_a_command_runs():
    # `odyssey --help` and option parsing: not even NumPy.
    probe = ("import sys, odyssey_analysis.cli\n"
             "print('numpy' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]
    assert loaded_after("import odyssey_analysis.cli") == []


def test_kernels_import_numba_only_when_asked():
    assert "numba" not in loaded_after("import odyssey_analysis._kernels")
    assert "numba" not in loaded_after("import odyssey_analysis.fanova")


def test_every_public_name_resolves():
    for name in odyssey_analysis.__all__:
        assert getattr(odyssey_analysis, name) is not None
    assert set(odyssey_analysis.__all__) <= set(dir(odyssey_analysis))
    with pytest.raises(AttributeError):
        odyssey_analysis.not_a_name  # noqa: B018


def test_no_numba_switch_turns_the_kernels_off():
    probe = ("from odyssey_analysis import _kernels\n"
             "print(_kernels.COMPILED, _kernels.pair_second_moment)")
    env = dict(os.environ, ODYSSEY_NO_NUMBA="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "None"]


def test_the_default_analysis_does_not_import_scikit_learn():
    pytest.importorskip("numba")
    code = ("import numpy as np, pandas as pd\n"
            "from odyssey_analysis import TrialTable, analyze\n"
            "rng = np.random.default_rng(0)\n"
            "frame = pd.DataFrame(rng.random((40, 2)), columns=['a', 'b'])\n"
            "frame['loss'] = frame['a'] + rng.random(40)\n"
            "study = analyze(TrialTable.from_frame(frame, responses=['loss']), n_trees=4,\n"
            "                n_jobs=1, curves=False)\n"
            "assert study.method['surrogate'] == 'compiled'")
    assert "sklearn" not in loaded_after(code)


def test_without_numba_the_default_forest_is_scikit_learns(monkeypatch):
    from odyssey_analysis.surrogate import RandomForestSurrogate, make_surrogate

    monkeypatch.setenv("ODYSSEY_NO_NUMBA", "1")
    assert isinstance(make_surrogate(), RandomForestSurrogate)
    with pytest.raises(odyssey_analysis.InputError, match="needs Numba"):
        make_surrogate("compiled")


def test_a_default_analyze_imports_neither_scipy_nor_scikit_learn(tmp_path):
    # `import numba` imports SciPy's small top-level package (a version check) and
    # nothing below it; every SciPy module the analysis could need is replaced.
    pytest.importorskip("numba")
    rng = np.random.default_rng(0)
    x = rng.random((200, 4))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["loss"] = (x[:, 0] - 0.3) ** 2 * 4 + np.sin(5 * x[:, 1]) + 0.1 * rng.random(200)
    csv = tmp_path / "sweep.csv"
    frame.to_csv(csv, index=False)
    probe = ("import sys\nfrom odyssey_analysis.cli import main\n"
             f"sys.argv = ['odyssey', 'analyze', {str(csv)!r}, '--response', 'loss',\n"
             f"            '--out', {str(tmp_path / 'out')!r}, '--jobs', '1']\n"
             "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "import json\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in\n"
             "                        ('scipy', 'sklearn'))))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]), NUMBA_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True, cwd=tmp_path)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert (tmp_path / "out" / "importance.csv").exists()
    assert not [m for m in loaded if m.startswith("sklearn")]
    # Only what `import scipy` alone loads (its package, version and config modules).
    bare = json.loads(subprocess.run(
        [sys.executable, "-c", "import sys, json, scipy\n"
         "print(json.dumps(sorted(m for m in sys.modules if m.startswith('scipy'))))"],
        capture_output=True, text=True, check=True).stdout)
    assert set(loaded) <= set(bare), sorted(set(loaded) - set(bare))
    assert not {"scipy.stats", "scipy.linalg", "scipy.spatial", "scipy.optimize",
                "scipy.special"} & set(loaded)


def test_numba_loads_without_scipy_linalg_and_keeps_blas():
    pytest.importorskip("numba")
    code = ("import numpy as np\n"
            "from odyssey_analysis.forest import CompiledForestSurrogate\n"
            "x = np.random.default_rng(0).random((30, 2))\n"
            "CompiledForestSurrogate(n_jobs=1).fit(x, x[:, 0])\n"
            "import sys\n"
            "assert 'scipy.linalg' not in sys.modules\n"
            "import numba.np.arraymath as am\n"
            "assert am._HAVE_BLAS, 'BLAS inner products turned off'\n"
            "from numba import njit\n"
            "@njit(cache=False)\n"
            "def dot(a, b):\n"
            "    return np.dot(a, b)\n"
            "assert dot(np.ones(3), np.arange(3.0)) == 3.0\n"
            "assert 'scipy.linalg' in sys.modules  # imported when BLAS is compiled")
    assert "sklearn" not in loaded_after(code)


def test_deferring_scipy_linalg_refuses_it_to_the_loading_thread_only():
    import threading

    from odyssey_analysis._numba_start import _Refuse

    refuse = _Refuse("scipy.linalg")
    with pytest.raises(ModuleNotFoundError):
        refuse.find_spec("scipy.linalg")
    assert refuse.find_spec("scipy.special") is None
    seen = []
    other = threading.Thread(target=lambda: seen.append(refuse.find_spec("scipy.linalg")))
    other.start()
    other.join()
    assert seen == [None]
