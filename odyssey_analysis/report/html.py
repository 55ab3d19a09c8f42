"""The report's ``index.html``: one self-contained page from a template.

The page is ``templates/index.html`` with the CSS and script beside it, filled with the
sections below. Every piece of text that comes from the data (names, group values,
notes, paths) is escaped; only the markup built here is trusted (:class:`Markup`).
Nothing on the page depends on the clock, so the same input gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import re
import struct
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from ..naming import value_text
from ..ordering import GroupOrder
from ..quality import LOW_OOB_R2, format_r2, low_oob_r2
from ..result import first_intervals
from ..roles import better_word
from ..tables import (
    comparison_summary,
    main_effects_display,
    main_effects_table,
    share_caption,
)
from .figures import FIGURE_DPI, FigureEntry

if TYPE_CHECKING:
    from .build import Report

#: CSS pixels per figure inch: every figure at the same scale (8 pt text at ~14 px).
CSS_PX_PER_INCH = 125


class Markup(str):
    """Text that is already HTML (built here, with every data value escaped)."""


def e(value: Any) -> Markup:
    """``value`` as HTML: escaped, unless it is :class:`Markup` already."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def _resource(name: str) -> str:
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


def render_html(report: Report, root: Path | None = None) -> str:
    """The self-contained ``index.html`` of a report (figures embedded as base64 PNG).

    Parameters
    ----------
    report
        What :func:`~odyssey_analysis.report.build_report` produced.
    root
        The folder the figure files are in now (default: the report folder).
    """
    root = Path(root or report.out_dir)
    page = _Page()
    _overview(page, report)
    _space(page, report)
    figures: dict[str, list[FigureEntry]] = {}
    for fig in report.figures:
        figures.setdefault(fig.section, []).append(fig)
    _variants(page, report, figures.get("variants", []), root)
    fold = fold_label(report.study.group_keys, report.choices.variant_key)
    page.section("marginals", "Marginal curves (Fig. 4)",
                 _figures(figures.get("marginals", []), root, fold=fold))
    _fractions(page, report, figures.get("fractions", []), root, fold)
    _factor(page, report)
    _guidelines(page, report)
    page.section("interactions", "Interactions (Fig. 6)",
                 _figures(figures.get("interactions", []), root, fold=fold))
    _fit_quality(page, report)
    _files(page, report)
    from .. import __version__

    source = Path(report.table.source).name if report.table.source else "trials"
    return Template(_resource("index.html")).substitute(
        source=e(source), css=_resource("report.css"), script=_resource("report.js"),
        nav="".join(page.nav), sections="\n".join(page.sections), version=e(__version__))


class _Page:
    def __init__(self) -> None:
        self.nav: list[str] = []
        self.sections: list[str] = []

    def section(self, anchor: str, heading: str, body: str) -> None:
        self.nav.append(f'<a href="#{anchor}">{e(heading.split(" (")[0])}</a>')
        self.sections.append(f'<section id="{anchor}"><h2>{e(heading)}</h2>\n{body}</section>')


def _overview(page: _Page, report: Report) -> None:
    trials, study, choices = report.table, report.study, report.choices
    excluded = trials.excluded_counts()
    exclusions = (", ".join(f"{n} {reason}" for reason, n in excluded.items())
                  if excluded else "none")
    directions = ", ".join(
        f"{r}: {better_word(trials.directions.get(r))}"
        + (f" ({trials.direction_origins[r]})" if r in trials.direction_origins else "")
        for r in study.responses)
    facts: list[tuple[str, str]] = [
        ("source", str(trials.source)),
        ("trials analysed", f"{len(trials)}"),
        ("trials excluded", f"{trials.n_excluded} ({exclusions})"),
        ("diverged runs", f"policy '{trials.diverged_policy}'"),
        ("groups", (", ".join(study.group_keys) or "none (one analysis)")
         + f" — {len(study.groups())} group(s)"),
        ("responses", directions),
        ("compared metric", choices.metric),
        ("top runs picked by", f"{choices.select_by} (the best "
                               f"{100 * report.settings['top_fraction']:g}% of each variant)"),
        ("task, variant", f"{choices.task_key or '–'}, {choices.variant_key or '–'}"
                          + (f" (reference {choices.reference})"
                             if choices.variant_key else "")),
        ("surrogate", f"random forest, {report.settings['n_trees']} trees, seed "
                      f"{report.settings['seed']}; fANOVA computed exactly from the trees"),
        ("estimator", _estimator_text(report.settings)),
    ]
    body = ('<dl class="facts">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts)
            + "</dl>")
    for line in choices.chosen:
        body += f"<p>Default: {e(line)}.</p>"
    for note in [*choices.warnings, *trials.notes, *report.notes, *study.space.notes]:
        body += f'<p class="warn">Note: {e(note)}</p>'
    silent = [r for r in study if r.signal_note is not None]
    if silent:
        body += (f'<p class="warn">⚠ {len(silent)} of {len(study)} fits have no detectable '
                 "signal: their forests predict the response no better than shuffled "
                 "responses, so their shares are not reported (see "
                 '<a href="#fits">fit quality</a>).</p>')
    low = [r for r in study if low_oob_r2(r.oob_r2)]
    if low:
        body += (f'<p class="warn">⚠ {len(low)} of {len(study)} fits have an out-of-bag R² '
                 f"below {LOW_OOB_R2:g}: their decomposition is uncertain (see "
                 '<a href="#fits">fit quality</a>).</p>')
    page.section("overview", "Overview", body)


def _space(page: _Page, report: Report) -> None:
    space = report.study.space
    rows = []
    for hp in space:
        rng = (f"[{hp.lower:g}, {hp.upper:g}]" if hp.is_numeric
               else ", ".join(map(str, hp.choices or ())))
        rows.append([hp.name, hp.kind, rng, hp.describe_measure()])
    body = (f"<p>Space: {e(space.origin)}. Each hyperparameter is integrated over the "
            "distribution it was sampled from (its measure), so a log-uniform hyperparameter "
            "is averaged uniformly in log space.</p>"
            + _table(["hyperparameter", "kind", "range / levels",
                      "measure (sampling distribution)"], rows, text_cols=4))
    page.section("space", "Search space and measure", body)


def _variants(page: _Page, report: Report, figures: list[FigureEntry], root: Path) -> None:
    if report.comparison is None:
        return
    comp = report.comparison.table
    display = comparison_summary(comp)
    body = _figures(figures, root)
    body += ("<h3>Comparison table</h3><p>p (top): Welch's t-test over the top runs (decides "
             "the highlight), with its significance and direction (better or worse than "
             "the reference) beside it; p (all): the same over all trials, with its own "
             "direction. Rows in blue differ significantly over the top runs.</p>")
    body += '<div class="scroll">' + _table(
        list(display.columns), display.values.tolist(),
        text_cols=len(report.comparison.task_keys) + 1,
        row_classes=["sig" if s else "" for s in comp["significant"].to_numpy()]) + "</div>"
    page.section("variants", "Variant comparison (Fig. 3)", body)


def _estimator_text(settings: dict[str, Any]) -> str:
    """The estimator and the intervals, in words."""
    estimator = settings.get("estimator", "forest-mean")
    what = {"forest-mean": "shares of the forest's mean function",
            "blend": "mean of the forest's mean function's shares and the trees' own "
                     "shares with the fitted noise taken out",
            "per-tree-corrected": "the trees' own shares with the fitted noise taken out",
            "blend-corrected": "the blend less the forest mean's bias measured in "
                               "sweeps simulated from the fitted forest",
            }.get(estimator, "mean of the trees' own shares")
    if settings.get("n_bootstrap"):
        return (f"{estimator} ({what}); calibrated {100 * settings['conf_level']:.0f} % "
                f"intervals from {settings['n_bootstrap']} bootstrap replicates")
    return (f"{estimator} ({what}); no intervals (run with --bootstrap 0; the "
            "report's default, --bootstrap 100, adds them)")


def fold_label(group_keys: Sequence[str], variant_key: str | None) -> str:
    """What the folded figures are: ``other variants``, ``other budget values``, or
    ``other groups (task, budget)`` -- named by the group keys, not assumed variants."""
    keys = list(group_keys)
    if not keys:
        return "more"
    if keys == [variant_key]:
        return "other variants"
    if len(keys) == 1:
        return f"other {keys[0]} values"
    return f"other groups ({', '.join(keys)})"


def _fractions(page: _Page, report: Report, figures: list[FigureEntry], root: Path,
               fold: str) -> None:
    study = report.study
    response = report.choices.metric
    keys = study.group_keys
    wide = main_effects_table(study.importance_table(), response=response)
    if keys and not wide.empty:
        order = _group_order(report)
        wide = wide.iloc[sorted(range(len(wide)), key=lambda i: order.key(
            tuple(wide[k].iloc[i] for k in keys)))].reset_index(drop=True)
        for k in keys:
            wide[k] = wide[k].map(value_text)
    display = main_effects_display(wide, keys)
    body = _figures(figures, root, fold=fold)
    ci = first_intervals(study)
    unit = share_caption(ci is not None, None if ci is None else ci.conf_level)
    body += f"<h3>Main effects per group ({e(response)}; share of variance, {e(unit)})</h3>"
    body += '<div class="scroll">' + _table(list(display.columns), display.values.tolist(),
                                            text_cols=len(keys)) + "</div>"
    page.section("fractions", "Variance fractions (Fig. 5)", body)


def _group_order(report: Report) -> GroupOrder:
    study, choices = report.study, report.choices
    return GroupOrder(study.group_keys, study.groups(), task_key=choices.task_key,
                      variant_key=choices.variant_key, reference=choices.reference)


def _bold(text: str) -> Markup:
    """Escaped text with the guidelines' ``**bold**`` as ``<strong>``."""
    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", e(text)))


def _guidelines(page: _Page, report: Report) -> None:
    guide = report.guidelines
    if guide is None:
        return
    from ..guidelines_text import group_paragraph

    metric = report.choices.metric
    groups = [g for g in guide.groups if g.response == metric]
    order = _group_order(report)
    keys = report.study.group_keys
    position = {tuple(g.group[k] for k in keys): g for g in groups}
    ordered = [position[k] for k in order.sort(list(position))]
    t = guide.thresholds
    intro = (f"<p>What to do with each hyperparameter for {e(metric)}: <strong>tune</strong> "
             f"when its share of the variance (main effect plus its pairs) is at least "
             f"{100 * t['tune_share']:g} % and its interval's lower end at least "
             f"{100 * t['ignore_share']:g} %, <strong>ignore</strong> when its whole "
             f"interval is below {100 * t['ignore_share']:g} %, else <strong>fix</strong> "
             "it anywhere in its good region: the values whose marginal is within the "
             "tolerance of the best (one noise standard deviation, at least "
             f"{t['rel_tolerance']:g} of the response's spread). An optimum is stable when "
             f"it moves by at most {t['stable_fraction']:g} of its good region across the "
             "other hyperparameter. <code>guidelines.json</code> holds every number; "
             "<code>odyssey guide</code> also writes a narrowed space for the next "
             "sweep.</p>")
    counts = [r for r in guide.consensus()["hyperparameters"] if r["response"] == metric]
    table = _table(["hyperparameter", "tune", "fix", "ignore", "holds on"],
                   [[r["hyperparameter"], r["tune"], r["fix"], r["ignore"],
                     f"{r['verdict']} on {r['holds_on']} of {r['n_groups']}"]
                    for r in counts], text_cols=1) if len(groups) > 1 else ""
    paragraphs = "".join(f'<p class="guideline">{_bold(group_paragraph(g))}</p>'
                         for g in ordered)
    first, rest = paragraphs, ""
    if len(ordered) > 3:
        split = [f'<p class="guideline">{_bold(group_paragraph(g))}</p>' for g in ordered]
        first, rest = "".join(split[:3]), "".join(split[3:])
        rest = (f"<details><summary>the other groups ({len(split) - 3})</summary>{rest}"
                "</details>")
    page.section("guidelines", "Guidelines", intro + (f'<div class="scroll">{table}</div>'
                                                      if table else "") + first + rest)


def _factor(page: _Page, report: Report) -> None:
    """The variant (or another design column) declared a hyperparameter: its share."""
    study, choices = report.study, report.choices
    key = choices.variant_key
    if key is None or key not in study.space or key in study.group_keys:
        return
    metric = choices.metric
    rows = []
    keys = study.group_keys
    for group in _group_order(report).sort(study.groups()):
        try:
            fit = study.get(metric, **dict(zip(keys, group)))
        except KeyError:
            continue
        main, _ = fit.main_fraction()
        pair, _ = fit.pair_fraction()
        others = [n for n in fit.hyperparameters if n != key]
        top = max(others, key=lambda n: float(pair.loc[key, n]), default=None)
        rows.append([*map(value_text, group), f"{100 * float(main[key]):.1f}",
                     f"{100 * float(pair.loc[key].drop(key).sum()):.1f}",
                     "–" if top is None else f"{top} ({100 * float(pair.loc[key, top]):.1f})"])
    readings = []
    guide = report.guidelines
    if guide is not None:
        for g in guide.groups:
            for s in g.pairs:
                if s.b == key:
                    where = ", ".join(f"{k}={value_text(v)}"
                                      for k, v in g.group.items()) or "all trials"
                    readings.append(f"<li>{e(where)}: {e(s.reading)}</li>")
    body = (f"<p>{e(key)} is a declared hyperparameter, so it is a factor of each "
            "decomposition: how much of the variance of "
            f"{e(metric)} the choice of {e(key)} explains on its own and together with each "
            "hyperparameter (shares in %). Its marginal and its pairs are in the figures "
            "above.</p>" + '<div class="scroll">'
            + _table([*keys, f"{key} (main)", f"{key} × others", "largest pair"], rows,
                     text_cols=len(keys)) + "</div>")
    if readings:
        body += (f"<p>Whether the hyperparameters' optima depend on {e(key)}:</p><ul>"
                 + "".join(readings) + "</ul>")
    page.section("factor", f"The {key} as a factor", body)


def _fit_quality(page: _Page, report: Report) -> None:
    study = report.study
    keys = study.group_keys
    rows: list[list[Any]] = []
    warnings: list[str] = []
    for group in _group_order(report).sort(study.groups()):
        fits = {r.response: r for r in study if tuple(r.group[k] for k in keys) == group}
        cells: list[Any] = [*map(value_text, group), str(next(iter(fits.values())).n_trials)]
        for response in study.responses:
            fit = fits.get(response)
            if fit is None:
                cells.append("–")
                continue
            text = format_r2(fit.oob_r2)
            if low_oob_r2(fit.oob_r2):
                cells.append(Markup(f'<span class="warn" title="out-of-bag R² below '
                                    f'{LOW_OOB_R2:g}">⚠ {e(text)}</span>'))
            else:
                cells.append(text)
            where = ", ".join(map(value_text, group)) or "all trials"
            warnings += [f"<li>{e(where)}, {e(response)}: {e(w)}</li>" for w in fit.warnings]
        rows.append(cells)
    n_trees = sorted({r.n_trees for r in study})
    body = ("<p>Out-of-bag R² says how well each forest predicts trials it did not see; below "
            f"{LOW_OOB_R2:g} (marked ⚠) the fractions and curves of that fit are uncertain. "
            f"Trees used for the fractions: {', '.join(map(str, n_trees))} (trees that "
            "predict a constant are skipped).</p>"
            + '<div class="scroll">' + _table(
                [*keys, "trials", *(f"OOB R² {r}" for r in study.responses)], rows,
                text_cols=len(keys)) + "</div>")
    if warnings:
        body += (f"<details><summary>Warnings of the fits ({len(warnings)})</summary><ul>"
                 f"{''.join(warnings)}</ul></details>")
    page.section("fits", "Fit quality", body)


def _files(page: _Page, report: Report) -> None:
    listed = sorted(set(report.files) - {"index.html"})
    links = "".join(f'<li><a href="{e(name)}">{e(name)}</a></li>' for name in listed)
    page.section("files", "Files", "<p>Everything in this folder (CSV, Markdown and LaTeX "
                 "tables, figures as PNG and PDF, the fits as JSON):</p>"
                 f'<ul class="files">{links}</ul>')


def _figures(entries: list[FigureEntry], root: Path, fold: str = "more") -> str:
    if not entries:
        return "<p>No figure for this section (the trials lack what it needs).</p>"
    shown = [_figure(f, root) for f in entries if f.primary]
    folded = [f for f in entries if not f.primary]
    if folded:
        inner = "".join(f"<h3>{e(f.title)}</h3>" + _figure(f, root, heading=False)
                        for f in folded)
        shown.append(f"<details><summary>{e(fold)} ({len(folded)})</summary>{inner}</details>")
    return "\n".join(shown)


def _figure(entry: FigureEntry, root: Path, heading: bool = True) -> str:
    png = next(root / name for name in entry.files if name.endswith(".png"))
    raw = png.read_bytes()
    data = base64.b64encode(raw).decode("ascii")
    width_px, _height_px = struct.unpack(">II", raw[16:24])
    css_width = round(width_px * CSS_PX_PER_INCH / FIGURE_DPI)
    head = f"<h3>{e(entry.title)}</h3>" if heading else ""
    return (f'{head}<figure><img alt="{e(entry.title)}" loading="eager" '
            f'style="width: {css_width}px" src="data:image/png;base64,{data}">'
            f"<figcaption><strong>How to read this:</strong> {e(entry.caption)}"
            "</figcaption></figure>")


def _table(header: Sequence[Any], rows: Sequence[Sequence[Any]], *, text_cols: int = 0,
           row_classes: Sequence[str] | None = None) -> str:
    def cell(tag: str, j: int, value: Any) -> str:
        cls = ' class="text"' if j < text_cols else ""
        return f"<{tag}{cls}>{e(value)}</{tag}>"

    head = "".join(cell("th", j, h) for j, h in enumerate(header))
    body = []
    for i, row in enumerate(rows):
        cls = row_classes[i] if row_classes else ""
        attr = f' class="{cls}"' if cls else ""
        body.append(f"<tr{attr}>" + "".join(cell("td", j, v) for j, v in enumerate(row))
                    + "</tr>")
    return (f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")
