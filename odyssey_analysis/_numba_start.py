"""Numba's start-up without SciPy's linear algebra.

The first call of any compiled function in a process loads Numba's registries of
typing and lowering rules. One of them (``numba.np.arraymath``), if SciPy is installed,
imports ``scipy.linalg.cython_blas`` at once, only to set a flag that picks BLAS for
inner products of floats; that import pulls in ``scipy.linalg`` and costs about 0.35 s,
more than a small analysis's fit. The forest's kernels use no linear algebra, so
:func:`load_registries` loads the registries with ``scipy.linalg`` refused, then sets
the flag back to what the import would have given (every other BLAS or LAPACK use
imports SciPy itself when it is compiled, as it always does). Code compiled later in the
process sees the same Numba as without this.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Sequence
from typing import Any

#: The package whose import is put off (``scipy.linalg.cython_blas`` imports it first;
#: ``import numba`` itself imports only the small top-level ``scipy`` package, to check
#: its version).
DEFERRED = "scipy.linalg"


_lock = threading.Lock()


class _Refuse:
    """A meta-path finder that refuses one module to one thread (as if it were not
    installed); imports on other threads go on as usual."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.thread = threading.get_ident()

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: Any = None) -> None:
        if fullname == self.name and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"{fullname} deferred", name=fullname)
        return None


def load_registries() -> None:
    """Load Numba's CPU typing and lowering registries without importing SciPy.

    Does nothing when they are loaded already, or when ``scipy.linalg`` is (then there
    is nothing to save).
    """
    if "numba.np.arraymath" in sys.modules or DEFERRED in sys.modules:
        return
    with _lock:
        if "numba.np.arraymath" in sys.modules or DEFERRED in sys.modules:
            return
        from numba.core.registry import cpu_target

        refuse = _Refuse(DEFERRED)
        sys.meta_path.insert(0, refuse)
        try:
            cpu_target.target_context.refresh()
            cpu_target.typing_context.refresh()
        finally:
            sys.meta_path.remove(refuse)
        arraymath = sys.modules.get("numba.np.arraymath")
        if arraymath is not None and getattr(arraymath, "_HAVE_BLAS", True) is False:
            arraymath._HAVE_BLAS = (  # type: ignore[attr-defined]
                importlib.util.find_spec("scipy") is not None)
