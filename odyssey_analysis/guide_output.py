"""The files of ``odyssey guide``: guidelines.md, guidelines.json and the next sweep's
space in three forms, built in memory and then written each atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .errors import InputError
from .guidelines_text import guidelines_markdown
from .next_space import configspace_json, next_space, optuna_snippet, space_yaml
from .result import StudyResult


def guide_files(study: StudyResult, target: str, *, tolerance: float | None = None,
                settings: dict[str, Any] | None = None,
                serve: dict[str, str] | None = None) -> dict[str, str]:
    """Every file's text: ``{name: text}``, the same bytes for the same input and seed.

    Parameters
    ----------
    study
        The analysis (with curves).
    target
        The response ``guidelines.md`` and the next sweep serve.
    tolerance
        The good regions' tolerance for every response (default: the rule).
    settings
        The fit's settings, recorded in ``guidelines.json``.
    serve
        ``{group key: value}``: the groups the next sweep serves (default: all).

    Raises
    ------
    InputError
        ``serve`` names a column that is not a group key, or matches no group.
    """
    directions = study.table_info.get("directions", {})
    known = [r for r in study.responses
             if directions.get(r, {}).get("better") in ("minimize", "maximize")]
    if target not in known:
        raise InputError(f"which way is better for {target} is unknown", column=target,
                         hint=f"declare it with --maximize {target} or --minimize {target}")
    guide = study.guidelines(tolerance=tolerance, responses=known)
    chosen = None
    if serve:
        unknown = [k for k in serve if k not in study.group_keys]
        if unknown:
            raise InputError("--for names a column that is not a group key",
                             column=unknown[0],
                             hint=f"group keys: {', '.join(study.group_keys) or 'none'}")
        chosen = [g for g in guide.groups if g.response == target and all(
            str(g.group.get(k)) == v for k, v in serve.items())]
        if not chosen:
            raise InputError("--for matches no group",
                             hint=", ".join(f"{k}={v}" for k, v in serve.items()))
    nxt = next_space(guide, study.space, target, chosen)
    lines = [f"- **{n.name}**: {n.action} — {n.because}" for n in nxt.narrowings]
    lines += ["", "Files: `next_space.json` (ConfigSpace, with beta priors peaked at the "
              "best values and weights on the best levels), `next_space.yaml` (this "
              "package's format, with the same priors and weights: analyse the next sweep "
              "with the space it was drawn from) and `next_space_optuna.py`."]
    body = guide.to_dict()
    body["target"] = target
    body["skipped_responses"] = {r: "which way is better is unknown"
                                 for r in study.responses if r not in known}
    body["settings"] = dict(settings or {})
    body["next_space"] = nxt.to_dict()
    return {
        "guidelines.md": guidelines_markdown(guide, target, lines),
        "guidelines.json": json.dumps(body, indent=2, ensure_ascii=False) + "\n",
        "next_space.json": configspace_json(nxt),
        "next_space.yaml": space_yaml(nxt),
        "next_space_optuna.py": optuna_snippet(nxt),
    }


def write_all(out_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write each file atomically into ``out_dir`` (created); the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [atomic_write_text(out_dir / name, content) for name, content in files.items()]
