"""Atomic file output: a file is either fully written or not there at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file next to ``path`` and move it into place on success.

    Parameters
    ----------
    path
        The final file name.
    mode
        ``"w"`` for text or ``"wb"`` for bytes.
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
        Write to it; on an exception the temporary file is removed and ``path`` is
        left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError("atomic_open writes whole files: mode must be 'w' or 'wb'")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp makes the file private (0600); give it the mode open() would have.
        os.chmod(tmp, 0o666 & ~_current_umask())
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_open(path, "w", newline="") as handle:
        handle.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Build a folder beside ``path`` and move it into place whole on success.

    Parameters
    ----------
    path
        The final folder. An existing one is replaced as a whole (the caller decides
        whether that is allowed), so no file of an earlier version stays behind.

    Yields
    ------
    Path
        The temporary folder to write into; on an exception (an interrupt too) it is
        removed and ``path`` is left as it was.
    """
    import shutil

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent))
    try:
        os.chmod(staging, 0o777 & ~_current_umask())
        yield staging
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old",
                                        dir=target.parent))
            os.rmdir(old)
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_writable(folder: str | os.PathLike) -> None:
    """Refuse, before any work, an output folder that cannot be created or written to.

    Raises
    ------
    InputError
        When a file stands where a folder of the path should be, or the nearest
        existing folder is not writable.
    """
    from .errors import InputError

    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError("cannot make the output folder: a file is in its way",
                         file=str(existing), hint="choose another {out_dir} folder",
                         parameters=("out_dir",))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError("the output folder is not writable", file=str(existing),
                         hint="choose another {out_dir} folder",
                         parameters=("out_dir",))
