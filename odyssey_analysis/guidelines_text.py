"""The guidelines in plain language: one short paragraph per group, and the counts
across groups (``guidelines.md`` and the report's Guidelines section).

Only words around the numbers of :mod:`odyssey_analysis.guidelines`; nothing is computed
here.
"""

from __future__ import annotations

from typing import Any

from .guidelines import GroupGuidelines, Guidelines, ParamGuideline
from .roles import better_word


def group_label(group: dict[str, Any]) -> str:
    """``task=speech, variant=V`` (``all trials`` without groups)."""
    from .naming import value_text

    return ", ".join(f"{k}={value_text(v)}" for k, v in group.items()) or "all trials"


def num(x: Any) -> str:
    """A number as the guidelines print it (4 significant digits)."""
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _where(p: ParamGuideline) -> str:
    if p.good_levels is not None:
        return "any of " + ", ".join(map(str, p.good_levels))
    assert p.good_region is not None, f"{p.name} has neither good levels nor a region"
    lo, hi = p.good_region
    return f"{num(lo)}–{num(hi)}"


def _tuned(p: ParamGuideline) -> str:
    share = (f"{_pct(p.share.value)} of the variance with its pairs, "
             f"{_pct(p.share.low)}–{_pct(p.share.high)}")
    if p.good_levels is not None:
        return f"**tune {p.name}** ({share}): best {p.best}, good {_where(p)}"
    ends = ""
    if p.low_end is not None and p.high_end is not None:
        ends = (f" (ends {num(p.low_end[0])}–{num(p.low_end[1])} and "
                f"{num(p.high_end[0])}–{num(p.high_end[1])})")
    if p.shape == "monotone":
        shape = (f"{p.better_end} is better, returns diminish past {num(p.knee)}")
    elif p.shape == "flat":
        shape = f"flat on average (its effect comes through its pairs), best near {num(p.best)}"
    else:
        shape = f"{p.shape}, best near {num(p.best)}"
    return f"**tune {p.name}** ({share}): good {_where(p)}{ends}; {shape}"


def group_paragraph(g: GroupGuidelines) -> str:
    """One short paragraph: what to tune and where, what to fix, what to ignore, and
    which optima stay put."""
    if g.signal_note is not None:
        detail = g.signal_note.removeprefix("no detectable signal").strip() or "–"
        return (f"**{group_label(g.group)}** — {g.response} ({better_word(g.direction)}; "
                f"{g.n_trials} trials). **No detectable signal: no guideline** {detail}: "
                "the forest predicts the trials no better than with their responses "
                "shuffled, so nothing is tuned, fixed or narrowed from this group.")
    head = (f"**{group_label(g.group)}** — {g.response} ({better_word(g.direction)}; "
            f"{g.n_trials} trials, OOB R² {num(g.oob_r2)}; tolerance {num(g.tolerance)}).")
    params = list(g.hyperparameters.values())
    parts = [_tuned(p) for p in params if p.verdict == "tune"]
    fixed = [p for p in params if p.verdict == "fix"]
    if fixed:
        parts.append("fix " + "; ".join(
            f"{p.name} ({_pct(p.share.value)}) at any value in {_where(p)}, e.g. "
            f"{num(p.suggested)}" for p in fixed))
    ignored = [p.name for p in params if p.verdict == "ignore"]
    if ignored:
        parts.append("ignore " + ", ".join(ignored) + " (no effect)")
    body = "; ".join(parts) + "." if parts else "Nothing to read."
    readings = pair_sentences(g)
    readings += [f"A low {b.budget} ({num(b.low)}) ranks {b.param} "
                 f"{'like' if b.agrees else 'unlike'} the full one ({num(b.high)}): rank "
                 f"agreement {b.rank_agreement:.2f}." for b in g.budget]
    text = f"{head} {body[0].upper()}{body[1:]}"
    return " ".join([text, *readings])


def _shift(s: Any) -> str:
    return "" if s.optimum_shift is None else f"{num(abs(s.optimum_shift))} {s.unit}"


def pair_sentences(g: GroupGuidelines) -> list[str]:
    """The pair readings, condensed: per tuned hyperparameter the slices its optimum
    stays put across, then each pair to tune together (once per pair)."""
    out = []
    for a in dict.fromkeys(s.a for s in g.pairs):
        still = [s for s in g.pairs if s.a == a and s.stable]
        if still:
            across = ", ".join(f"{s.b}" + (f" ({_shift(s)})" if _shift(s) else "")
                               for s in still)
            out.append(f"The optimum of {a} stays put across {across}: tune it with "
                       f"{'that' if len(still) == 1 else 'those'} held at any value.")
    together: dict[frozenset, list[Any]] = {}
    for s in g.pairs:
        if not s.stable:
            together.setdefault(frozenset((s.a, s.b)), []).append(s)
    for moving in together.values():
        what = "; ".join(f"{s.a}'s optimum moves by {_shift(s)} across {s.b}"
                         if _shift(s) else f"the best {s.a} changes with {s.b}"
                         for s in moving)
        a, b = moving[0].a, moving[0].b
        out.append(f"Tune {a} and {b} together ({what}).")
    return out


def consensus_lines(guidelines: Guidelines, response: str) -> list[str]:
    """Markdown lines: on how many groups each verdict and each stability holds."""
    counts = guidelines.consensus()
    rows = [r for r in counts["hyperparameters"] if r["response"] == response]
    if not rows:
        return []
    lines = ["| hyperparameter | tune | fix | ignore | holds on |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['hyperparameter']} | {r['tune']} | {r['fix']} | {r['ignore']} | "
                     f"{r['verdict']} on {r['holds_on']} of {r['n_groups']} |")
    if rows[0]["no_signal"]:
        lines += ["", f"{rows[0]['no_signal']} of {rows[0]['n_groups']} group(s) have no "
                  "detectable signal and give no verdict."]
    pairs = [r for r in counts["pairs"] if r["response"] == response]
    if pairs:
        lines += ["", "| tuned | across | optimum stable on |", "|---|---|---|"]
        lines += [f"| {r['a']} | {r['b']} | {r['stable']} of {r['n_read']} groups read |"
                  for r in pairs]
    return lines


def guidelines_markdown(guidelines: Guidelines, response: str,
                        next_lines: list[str] | None = None) -> str:
    """The text of ``guidelines.md`` for ``response``."""
    t = guidelines.thresholds
    out = [f"# Guidelines for {response}", "",
           f"Verdicts: **tune** when a hyperparameter's share of the variance (main effect "
           f"plus its pairs) is at least {_pct(t['tune_share'])} and its interval's lower "
           f"end at least {_pct(t['ignore_share'])}; **ignore** when the whole interval is "
           f"below {_pct(t['ignore_share'])}; else **fix**. The good region holds the "
           f"values whose marginal is within the tolerance of the best (tolerance: one "
           f"noise standard deviation, at least {t['rel_tolerance']:g} of the response's "
           f"spread over the space); its ends' ranges are 5–95 % over the trees resampled. "
           f"An optimum is stable when it moves by at most {t['stable_fraction']:g} of its "
           f"good region across the other hyperparameter's range.", ""]
    for g in guidelines.groups:
        if g.response == response:
            out += [group_paragraph(g), ""]
    lines = consensus_lines(guidelines, response)
    if lines and len([g for g in guidelines.groups if g.response == response]) > 1:
        out += ["## Across groups", "", *lines, ""]
    if next_lines:
        out += ["## The next sweep", "", *next_lines, ""]
    return "\n".join(out).rstrip("\n") + "\n"
