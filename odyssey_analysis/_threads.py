"""How many threads the fit running in this context may use.

:func:`~odyssey_analysis.study.analyze` decides, per study, whether fits run one after
another in this process (each on every core) or spread over worker processes (each on
one core); it tells the fits through :func:`fit_threads`. A fit started anywhere else
uses one thread unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_FIT_THREADS: ContextVar[int] = ContextVar("odyssey_fit_threads", default=1)


@contextmanager
def fit_threads(n: int) -> Iterator[None]:
    """Let fits started inside the block use ``n`` threads (at least 1)."""
    token = _FIT_THREADS.set(max(1, int(n)))
    try:
        yield
    finally:
        _FIT_THREADS.reset(token)


def current_fit_threads() -> int:
    """Threads a fit may use here (1 unless :func:`fit_threads` says otherwise)."""
    return _FIT_THREADS.get()
