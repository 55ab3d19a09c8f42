"""Reading the small YAML or JSON files that declare spaces and column roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputError


def read_settings_file(path: str | Path, what: str) -> tuple[Any, str]:
    """Parse a YAML (``.yaml``/``.yml``) or JSON file.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (e.g. ``"search space"``).

    Returns
    -------
    data, text
        The parsed content and the raw text.

    Raises
    ------
    InputError
        When the file is missing, not UTF-8, or does not parse.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise InputError(f"{what} file not found", file=str(path)) from None
    except UnicodeDecodeError:
        raise InputError(f"{what} file is not UTF-8 text", file=str(path)) from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text), text
        return json.loads(text), text
    except Exception as exc:  # noqa: BLE001 - parser errors vary by library
        raise InputError(f"cannot parse the {what}: {exc}".splitlines()[0],
                         file=str(path)) from None
