"""The notebooks run from top to bottom, draw their figures, and are stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from odyssey_analysis.report import bundled_table

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
#: Notebook -> how many images its executed outputs must hold.
EXPECTED_IMAGES = {"01_quickstart.ipynb": 1, "02_odyssey_figures.ipynb": 6}


@pytest.mark.parametrize("name", sorted(EXPECTED_IMAGES))
def test_notebook_is_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.slow
@pytest.mark.skipif(not bundled_table().is_file(), reason="bundled study not present")
@pytest.mark.parametrize("name", sorted(EXPECTED_IMAGES))
def test_notebook_runs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == EXPECTED_IMAGES[name]
