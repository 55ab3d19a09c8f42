"""The report: load → analyse → compare → every figure → every table → ``index.html``.

:func:`build_report` writes one folder::

    index.html          self-contained (figures embedded, inline CSS, no external links)
    importance.csv      the long importance table (DESIGN.md's contract)
    comparison.csv      the variant comparison (when the trials have variants)
    analysis.json       every fit: fractions, measures, forest settings, OOB R², warnings
    tables/             Markdown and LaTeX renderings of the tables
    figures/            every figure as PNG (200 dpi) and PDF

Every file is written atomically; the input table is never overwritten.
"""

from __future__ import annotations

import base64
import html
import json
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed

from .atomic import atomic_write_text
from .compare import Comparison, compare
from .errors import InputError
from .ordering import order_tasks, order_variants
from .result import FanovaResult, StudyResult, importance_csv
from .space import SearchSpace
from .study import analyze
from .tables import (
    comparison_summary,
    main_effects_display,
    main_effects_table,
    write_comparison_tables,
    write_importance_tables,
)
from .trials import TrialTable

#: Responses analysed by default, where the trials have them.
DEFAULT_RESPONSES = ("test_error", "valid_error", "train_time")
#: Out-of-bag R² below this is flagged in the report.
LOW_R2 = 0.5
#: Resolution of the PNG figures, and the CSS pixels per figure inch they are shown at
#: (8 pt figure text shows at about 14 px).
FIGURE_DPI = 200
CSS_PX_PER_INCH = 125
#: Files at the top of the report folder.
TOP_LEVEL_OUTPUTS = ("index.html", "importance.csv", "comparison.csv", "analysis.json")


def bundled_table() -> Path:
    """The mini Odyssey study bundled with the package (``data/odyssey_mini.csv``)."""
    return Path(__file__).parent / "data" / "odyssey_mini.csv"


@dataclass
class FigureEntry:
    """One figure of the report.

    Attributes
    ----------
    section
        ``variants``, ``marginals``, ``fractions`` or ``interactions``.
    title
        Heading shown above it.
    files
        The PNG and PDF written.
    caption
        How to read it (one or two sentences).
    primary
        Shown open in the HTML (others are folded away).
    """

    section: str
    title: str
    files: list[Path]
    caption: str
    primary: bool = True


@dataclass
class Report:
    """What :func:`build_report` produced."""

    out_dir: Path
    index: Path
    table: TrialTable
    study: StudyResult
    comparison: Comparison | None
    figures: list[FigureEntry]
    files: list[Path]
    settings: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_for_report(table: TrialTable | str | Path | None,
                    space: SearchSpace | str | Path | None = None) -> TrialTable:
    """The trials: a TrialTable as given, a file loaded, or the bundled study."""
    if isinstance(table, TrialTable):
        return table
    from .loaders import load_trials

    path = bundled_table() if table is None else Path(table)
    if table is None and not path.is_file():
        raise InputError("the bundled study is missing from this installation",
                         file=str(path), hint="give a TABLE to report on")
    return load_trials(path, space=space)


def build_report(
    table: TrialTable | str | Path | None = None,
    out_dir: str | Path = "report",
    *,
    space: SearchSpace | str | Path | None = None,
    responses: Sequence[str] | None = None,
    n_trees: int = 64,
    seed: int = 0,
    metric: str | None = None,
    select_by: str | None = None,
    top_fraction: float = 0.1,
    reference: Any = "V",
    alpha: float = 0.05,
    holm: bool = False,
    maximize: bool | None = None,
    task_key: str = "task",
    variant_key: str = "variant",
    all_interactions: bool = False,
    min_trials: int = 10,
    n_jobs: int | None = None,
    progress: bool = False,
    console: Any = None,
) -> Report:
    """Run the whole analysis and write the report folder.

    Parameters
    ----------
    table
        A :class:`~odyssey_analysis.trials.TrialTable`, a path to load, or ``None`` for
        the bundled mini Odyssey study.
    out_dir
        The report folder (created).
    space
        Search space (default: the table's recorded space, a space file beside it, or
        inferred).
    responses
        Responses to analyse (default: test_error, valid_error and train_time where
        present, else all of the table's).
    n_trees, seed, min_trials
        Forest settings (see :func:`~odyssey_analysis.study.analyze`).
    n_jobs
        Worker processes for the fits and for drawing the figures (``None``: all
        cores; 1: everything in this process).
    metric, select_by
        The compared metric and the column that picks the top runs (default:
        ``test_error`` and ``valid_error`` where present).
    top_fraction, reference, alpha, holm, maximize
        Comparison settings (see :func:`~odyssey_analysis.compare.compare_variants`).
    task_key, variant_key
        Columns of the task and the variant (skipped where absent).
    all_interactions
        Draw the interaction matrices of every variant (default: the reference's).
    progress
        Show rich progress bars on ``console`` (standard error by default).
    console
        A :class:`rich.console.Console` for the progress bars.

    Returns
    -------
    Report
    """
    timings: dict[str, float] = {}
    notes: list[str] = []
    out = Path(out_dir)
    bar = _Progress(progress, console)
    with bar:
        t0 = time.perf_counter()
        trials = load_for_report(table, space)
        _refuse_overwrite(out, trials.source, space)
        timings["load"] = time.perf_counter() - t0

        responses = _responses(trials, responses)
        metric = metric or ("test_error" if "test_error" in responses else responses[0])
        select_by = select_by or ("valid_error" if "valid_error" in trials.frame.columns
                                  else metric)
        groups = trials.group_keys
        n_fits = (trials.frame.groupby(groups, observed=True).ngroups if groups else 1)
        n_fits *= len(responses)
        t0 = time.perf_counter()
        advance = bar.task("fitting forests", n_fits)
        study = analyze(trials, space=space if isinstance(space, SearchSpace) else None,
                        response=responses, n_trees=n_trees, seed=seed, n_jobs=n_jobs,
                        min_trials=min_trials, progress=lambda _r: advance())
        timings["analyze"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        comparison = None
        has_variants = variant_key in trials.frame.columns
        if has_variants:
            comparison = compare(
                trials, metric=metric, select_by=select_by, top_fraction=top_fraction,
                reference=reference, task_key=task_key if task_key in trials.frame.columns
                else None, variant_key=variant_key, alpha=alpha, holm=holm,
                maximize=maximize)
            maximize = comparison.maximize
        else:
            notes.append(f"no '{variant_key}' column: the variant comparison is skipped")
        timings["compare"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        figures = _draw_figures(trials, study, comparison, out / "figures", bar,
                                metric=metric, select_by=select_by, top_fraction=top_fraction,
                                reference=reference, alpha=alpha, holm=holm,
                                maximize=maximize, task_key=task_key, variant_key=variant_key,
                                all_interactions=all_interactions, n_jobs=n_jobs)
        timings["figures"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        files: list[Path] = []
        importance = study.importance_table()
        table_files = write_importance_tables(importance, out / "tables")
        atomic_write_text(out / "importance.csv", importance_csv(importance))
        files.append(out / "importance.csv")
        files += [p for p in table_files if p.name != "importance.csv"]
        (out / "tables" / "importance.csv").unlink(missing_ok=True)
        if comparison is not None:
            comp_files = write_comparison_tables(comparison.table, out / "tables")
            atomic_write_text(out / "comparison.csv", comparison.table.to_csv(index=False))
            files.append(out / "comparison.csv")
            files += [p for p in comp_files if p.name != "comparison.csv"]
            (out / "tables" / "comparison.csv").unlink(missing_ok=True)
        settings = {
            "n_trees": n_trees, "seed": seed, "responses": responses, "metric": metric,
            "select_by": select_by, "top_fraction": top_fraction, "reference": reference,
            "alpha": alpha, "holm": holm, "maximize": maximize, "min_trials": min_trials,
        }
        analysis = study.to_dict()
        analysis["report_settings"] = settings
        atomic_write_text(out / "analysis.json", json.dumps(analysis, indent=2) + "\n")
        files.append(out / "analysis.json")
        timings["tables"] = time.perf_counter() - t0

        report = Report(out_dir=out, index=out / "index.html", table=trials, study=study,
                        comparison=comparison, figures=figures, files=files,
                        settings=settings, timings=timings, notes=notes)
        t0 = time.perf_counter()
        atomic_write_text(report.index, render_html(report))
        timings["html"] = time.perf_counter() - t0
    report.files = [report.index, *files] + [f for fig in figures for f in fig.files]
    return report


# -- figures --------------------------------------------------------------------------------

def _draw_figures(trials: TrialTable, study: StudyResult, comparison: Comparison | None,
                  fig_dir: Path, bar: _Progress, *, metric: str, select_by: str,
                  top_fraction: float, reference: Any, alpha: float, holm: bool,
                  maximize: bool, task_key: str, variant_key: str,
                  all_interactions: bool, n_jobs: int | None) -> list[FigureEntry]:
    from .plots import (
        fractions_figure,
        interactions_figure,
        marginals_figure,
        variants_figure,
    )
    from .plots.style import label, safe_name

    response = metric if metric in study.responses else study.responses[0]
    secondary = "train_time" if "train_time" in study.responses and response != "train_time" \
        else None
    by_variant = variant_key in study.group_keys
    variants = (order_variants([r.group[variant_key] for r in study], reference)
                if by_variant else [None])
    shown_variant = variants[0]
    tasks = (order_tasks([r.group[task_key] for r in study])
             if task_key in study.group_keys else None)
    fits = [r for r in study if r.response == response
            and (all_interactions or not by_variant
                 or str(r.group[variant_key]) == str(shown_variant))]
    if tasks is not None:
        fits.sort(key=lambda r: tasks.index(r.group[task_key]))
    jobs: list[tuple[partial, str, dict[str, Any]]] = []
    resp = label(response)

    def emit(make: partial, stem: str, **meta: Any) -> None:
        jobs.append((make, stem, meta))

    if comparison is not None:
        pct = f"{100 * top_fraction:g}%"
        better = "Higher" if maximize else "Lower"
        emit(partial(variants_figure, comparison),
             f"variants_{safe_name(metric)}", section="variants",
             title=f"{label(metric)} of each variant",
             caption=(f"One box per variant: all trials (top row) and the best {pct} of each "
                      f"variant's trials by {label(select_by)} (bottom row). Box = 25th–75th "
                      "percentile, whiskers = minimum to maximum, red dot = mean, red line = "
                      f"median. Blue, thick boxes differ significantly from {reference} "
                      f"(Welch's t-test, p < {alpha:g}"
                      + (", Holm-corrected" if holm else ", no correction for multiple "
                         "comparisons") + "); grey bars (right axis) are the mean parameter "
                      f"count of the top runs. {better} is better."))
    for i, variant in enumerate(variants):
        name = safe_name(variant) if variant is not None else "all"
        title_suffix = f" — {variant_key} {variant}" if variant is not None else ""
        emit(partial(marginals_figure, study, response=response, secondary=secondary,
                              variant=variant, task_key=task_key, variant_key=variant_key,
                              tasks=tasks),
             f"marginals_{name}", section="marginals", primary=i == 0,
             title=f"Marginals of {resp}{title_suffix}",
             caption=(f"The solid line is {resp} predicted with one hyperparameter fixed and "
                      "all others averaged over the distribution they were sampled from "
                      "(mean over the forest's trees); the band is ± one standard deviation "
                      "across trees, i.e. how much the trees disagree, not the spread of "
                      "the data." + (f" The dashed line (right axis) is {label(secondary)}."
                                     if secondary else "")
                      + " Log-sampled hyperparameters have log axes."))
        emit(partial(fractions_figure, study, response=response, variant=variant, task_key=task_key,
                              variant_key=variant_key, tasks=tasks),
             f"fractions_{name}", section="fractions", primary=i == 0,
             title=f"Share of the variance of {resp}{title_suffix}",
             caption=("Pie: the share of the variance that each hyperparameter explains on "
                      "its own; 'higher order' is everything left to interactions. Bars: "
                      "the same shares ± one standard deviation across trees, the largest "
                      "pairwise interactions, and what is left beyond pairs."))
    for fit in fits:
        group = fit.group
        stem = "interactions_" + "_".join(safe_name(v) for v in group.values()) \
            if group else "interactions"
        where = ", ".join(f"{v}" for v in group.values()) or "all trials"
        emit(partial(interactions_figure, fit), stem, section="interactions",
             primary=not by_variant or str(group.get(variant_key)) == str(shown_variant),
             title=f"Pairwise effects on {resp} — {where}",
             caption=("Left: the joint marginal of each pair (the other hyperparameters "
                      "averaged out; dark blue = low, yellow = high). Right: the interaction "
                      "only, the joint marginal minus both main effects plus the mean: grey "
                      "= no interaction, blue = lower (better) than the two separate effects "
                      "predict, red = higher (worse). One colour scale per matrix."))

    advance = bar.task("drawing figures", len(jobs))
    workers = 1 if n_jobs == 1 or len(jobs) < 4 else (-1 if n_jobs is None else n_jobs)
    tasks_iter = (delayed(_render)(make, fig_dir / stem) for make, stem, _ in jobs)
    entries: list[FigureEntry] = []
    if workers == 1:
        outputs = (_render(make, fig_dir / stem) for make, stem, _ in jobs)
    else:
        outputs = Parallel(n_jobs=workers, return_as="generator")(tasks_iter)
    for (_, _, meta), files in zip(jobs, outputs):
        entries.append(FigureEntry(files=files, **meta))
        advance()
    return entries


def _render(make: partial, stem: Path) -> list[Path]:
    """Draw one figure and save it as PNG and PDF (runs in a worker process too)."""
    from .plots import save_figure

    fig = make()
    return save_figure(fig, stem, dpi=FIGURE_DPI)


# -- HTML -----------------------------------------------------------------------------------

_CSS = """
:root { --ink: #1d1d1f; --muted: #5a5a5f; --rule: #d9d9de; --accent: #1f4fd1;
        --warn: #b35900; --bg: #ffffff; --panel: #f6f6f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.3em; margin: 2.2em 0 0.5em; padding-bottom: 0.25em;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05em; margin: 1.6em 0 0.4em; }
p.lead { color: var(--muted); margin-top: 0; }
nav { position: sticky; top: 0; background: rgba(255,255,255,0.95); z-index: 2;
      border-bottom: 1px solid var(--rule); padding: 8px 28px; font-size: 0.9em; }
nav a { margin-right: 1.1em; color: var(--accent); text-decoration: none; }
figure { margin: 0.8em 0 1.6em; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto;
             border: 1px solid var(--rule); border-radius: 4px; background: white; }
figcaption { color: var(--muted); font-size: 0.92em; margin-top: 0.5em; max-width: 980px; }
figcaption strong { color: var(--ink); }
details { margin: 0.6em 0; background: var(--panel); border-radius: 6px; padding: 6px 12px; }
details summary { cursor: pointer; font-weight: 600; }
table.data { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.86em; }
table.data th, table.data td { padding: 3px 9px; border-bottom: 1px solid var(--rule);
                               text-align: right; white-space: nowrap; }
table.data th { background: var(--panel); position: sticky; top: 38px; }
table.data td.text, table.data th.text { text-align: left; }
table.data tr.sig td { color: var(--accent); font-weight: 600; }
.scroll { overflow-x: auto; }
.warn { color: var(--warn); font-weight: 600; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; }
code { background: var(--panel); padding: 0 4px; border-radius: 3px; }
ul.files { columns: 3 260px; font-size: 0.9em; }
footer { margin-top: 3em; color: var(--muted); font-size: 0.85em; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (im) { return !(im.complete && im.naturalWidth > 0); });
  document.body.setAttribute("data-images",
    broken.length === 0 ? "ok " + images.length : "broken " + broken.length + "/" + images.length);
});
"""


def render_html(report: Report) -> str:
    """The self-contained ``index.html`` of a report (figures embedded as base64 PNG)."""
    trials, study = report.table, report.study
    e = html.escape
    source = Path(trials.source).name if trials.source else "trials"
    sections: list[str] = []
    nav = []

    def section(anchor: str, heading: str, body: str) -> None:
        nav.append(f'<a href="#{anchor}">{e(heading.split(" (")[0])}</a>')
        sections.append(f'<section id="{anchor}"><h2>{e(heading)}</h2>\n{body}</section>')

    # overview
    excluded = trials.excluded_counts()
    exclusion_text = (", ".join(f"{n} {e(reason)}" for reason, n in excluded.items())
                      if excluded else "none")
    facts = [
        ("source", e(str(trials.source))),
        ("trials analysed", f"{len(trials)}"),
        ("trials excluded", f"{trials.n_excluded} ({exclusion_text})"),
        ("diverged runs", e(f"policy '{trials.diverged_policy}'")),
        ("groups", e(", ".join(study.group_keys) or "none (one analysis)")
         + f" — {len(study.groups())} group(s)"),
        ("responses", e(", ".join(study.responses))),
        ("surrogate", f"random forest, {report.settings['n_trees']} trees, seed "
                      f"{report.settings['seed']}; fANOVA computed exactly from the trees"),
    ]
    overview = ('<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
                + "</dl>")
    for note in [*trials.notes, *report.notes, *study.space.notes]:
        overview += f'<p class="warn">Note: {e(note)}</p>'
    low = [r for r in study if _low_r2(r)]
    if low:
        overview += (f'<p class="warn">⚠ {len(low)} of {len(study)} fits have an out-of-bag '
                     f"R² below {LOW_R2:g}: their decomposition is uncertain (see "
                     '<a href="#fits">fit quality</a>).</p>')
    section("overview", "Overview", overview)

    # search space
    rows = []
    for hp in study.space:
        rng = (f"[{hp.lower:g}, {hp.upper:g}]" if hp.is_numeric
               else ", ".join(map(str, hp.choices or ())))
        rows.append([hp.name, hp.kind, rng, hp.describe_measure()])
    space_html = (f"<p>Space: {e(study.space.origin)}. Each hyperparameter is integrated "
                  "over the distribution it was sampled from (its measure), so a "
                  "log-uniform hyperparameter is averaged uniformly in log space.</p>"
                  + _html_table(["hyperparameter", "kind", "range / levels",
                                 "measure (sampling distribution)"], rows, text_cols=4))
    section("space", "Search space and measure", space_html)

    by_section: dict[str, list[FigureEntry]] = {}
    for fig in report.figures:
        by_section.setdefault(fig.section, []).append(fig)

    if report.comparison is not None:
        comp = report.comparison.table
        display = comparison_summary(comp)
        sig_rows = comp["significant"].to_numpy()
        body = _figures_html(by_section.get("variants", []))
        body += ("<h3>Comparison table</h3><p>p (top): Welch's t-test over the top runs "
                 "(decides the highlight); p (all): over all trials. Rows in blue differ "
                 "significantly over the top runs.</p>")
        body += _html_table(list(display.columns), display.values.tolist(),
                            text_cols=2, row_classes=["sig" if s else "" for s in sig_rows])
        section("variants", "Variant comparison (Fig. 3)", body)

    section("marginals", "Marginal curves (Fig. 4)",
            _figures_html(by_section.get("marginals", []), fold_label="other variants"))

    response = report.settings["metric"] if report.settings["metric"] in study.responses \
        else study.responses[0]
    wide = _sort_groups(main_effects_table(study.importance_table(), response=response),
                        study)
    wide_display = main_effects_display(wide, study.group_keys)
    fractions_body = _figures_html(by_section.get("fractions", []),
                                   fold_label="other variants")
    fractions_body += (f"<h3>Main effects per group ({e(response)}; share of variance, "
                       "mean ± std over trees, %)</h3>")
    fractions_body += '<div class="scroll">' + _html_table(
        list(wide_display.columns), wide_display.values.tolist(),
        text_cols=len(study.group_keys)) + "</div>"
    section("fractions", "Variance fractions (Fig. 5)", fractions_body)

    section("interactions", "Interactions (Fig. 6)",
            _figures_html(by_section.get("interactions", []), fold_label="other variants"))

    # fit quality: one row per group, one OOB R² column per response
    fit_rows = []
    warnings_html = []
    for key in _ordered_groups(study):
        fits = {r.response: r for r in study if _group_tuple(r, study.group_keys) == key}
        cells = [e(str(v)) for v in key]
        any_fit = next(iter(fits.values()))
        cells.append(str(any_fit.n_trials))
        for response in study.responses:
            r = fits.get(response)
            if r is None:
                cells.append("–")
                continue
            text = "–" if r.oob_r2 != r.oob_r2 else f"{r.oob_r2:.2f}"
            if _low_r2(r):
                text = (f'<span class="warn" title="out-of-bag R² below {LOW_R2:g}">'
                        f"⚠ {text}</span>")
            cells.append(text)
            for w in r.warnings:
                where = ", ".join(map(str, key)) or "all trials"
                warnings_html.append(f"<li>{e(where)}, {e(response)}: {e(w)}</li>")
        fit_rows.append(cells)
    n_trees = sorted({r.n_trees for r in study})
    fits_html = ("<p>Out-of-bag R² says how well each forest predicts trials it did not see; "
                 f"below {LOW_R2:g} (marked ⚠) the fractions and curves of that fit are "
                 f"uncertain. Trees used for the fractions: {', '.join(map(str, n_trees))} "
                 "(trees that predict a constant are skipped).</p>"
                 + '<div class="scroll">' + _html_table(
                     [*study.group_keys, "trials", *(f"OOB R² {r}" for r in study.responses)],
                     fit_rows, text_cols=len(study.group_keys), escape=False) + "</div>")
    if warnings_html:
        fits_html += (f"<details><summary>Warnings of the fits ({len(warnings_html)})"
                      f"</summary><ul>{''.join(warnings_html)}</ul></details>")
    section("fits", "Fit quality", fits_html)

    # files
    out = report.out_dir
    listed = [p for p in report.files if p.exists() and p.name != "index.html"] or []
    listed += [f for fig in report.figures for f in fig.files]
    listed = list(dict.fromkeys(listed))
    links = "".join(
        f'<li><a href="{e(p.relative_to(out).as_posix())}">{e(p.relative_to(out).as_posix())}'
        "</a></li>" for p in sorted(listed, key=lambda p: p.relative_to(out).as_posix())
        if _inside(p, out))
    section("files", "Files", "<p>Everything in this folder (CSV, Markdown and LaTeX tables, "
            f"figures as PNG and PDF, the fits as JSON):</p><ul class=\"files\">{links}</ul>")

    timing = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Hyperparameter analysis — {e(source)}</title>\n<style>{_CSS}</style>\n"
        "</head>\n<body>\n"
        f"<nav>{''.join(nav)}</nav>\n<main>\n"
        f"<h1>Hyperparameter analysis of {e(source)}</h1>\n"
        '<p class="lead">Functional ANOVA on random-forest surrogates and variant comparison, '
        "after “LSTM: A Search Space Odyssey” (Greff et al., 2017).</p>\n"
        + "\n".join(sections)
        + f"\n<footer>odyssey_analysis {e(_version())}. Timings: {e(timing)}.</footer>\n"
        f"</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n")


def _figures_html(entries: list[FigureEntry], fold_label: str = "more") -> str:
    if not entries:
        return "<p>No figure for this section (the trials lack what it needs).</p>"
    shown = [f for f in entries if f.primary]
    folded = [f for f in entries if not f.primary]
    parts = [_figure_html(f) for f in shown]
    if folded:
        inner = "".join(f"<h3>{html.escape(f.title)}</h3>" + _figure_html(f, heading=False)
                        for f in folded)
        parts.append(f"<details><summary>{html.escape(fold_label)} ({len(folded)})</summary>"
                     f"{inner}</details>")
    return "\n".join(parts)


def _figure_html(entry: FigureEntry, heading: bool = True) -> str:
    png = next(p for p in entry.files if p.suffix == ".png")
    raw = png.read_bytes()
    data = base64.b64encode(raw).decode("ascii")
    title = html.escape(entry.title)
    head = f"<h3>{title}</h3>" if heading else ""
    # Every figure at the same scale (fonts the same size in all of them), at most the
    # width of the page: CSS pixels per inch / the PNG's dots per inch.
    width_px, _height_px = struct.unpack(">II", raw[16:24])
    css_width = round(width_px * CSS_PX_PER_INCH / FIGURE_DPI)
    return (f'{head}<figure><img alt="{title}" loading="eager" style="width: {css_width}px" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption><strong>How to read this:</strong> {html.escape(entry.caption)}"
            "</figcaption></figure>")


def _html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, text_cols: int = 0,
                row_classes: Sequence[str] | None = None, escape: bool = True,
                left_cols: Sequence[int] = ()) -> str:
    def cell(tag: str, j: int, value: Any) -> str:
        cls = ' class="text"' if j < text_cols or j in left_cols else ""
        text = html.escape(str(value)) if escape else str(value)
        return f"<{tag}{cls}>{text}</{tag}>"

    head = "".join(cell("th", j, h) for j, h in enumerate(header))
    body = []
    for i, row in enumerate(rows):
        cls = row_classes[i] if row_classes else ""
        attr = f' class="{cls}"' if cls else ""
        body.append(f"<tr{attr}>" + "".join(cell("td", j, v) for j, v in enumerate(row))
                    + "</tr>")
    return (f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")


# -- helpers --------------------------------------------------------------------------------

def _responses(trials: TrialTable, responses: Sequence[str] | None) -> list[str]:
    if responses:
        missing = [r for r in responses if r not in trials.frame.columns]
        if missing:
            raise InputError("response column is missing", file=trials.source,
                             column=missing[0])
        return list(responses)
    chosen = [r for r in DEFAULT_RESPONSES if r in trials.responses]
    return chosen or list(trials.responses)


def _refuse_overwrite(out: Path, source: str, space: Any) -> None:
    inputs = [Path(source)]
    if isinstance(space, (str, Path)):
        inputs.append(Path(space))
    protected = [out / name for name in TOP_LEVEL_OUTPUTS]
    for src in inputs:
        if not src.exists():
            continue
        real = src.resolve()
        if any(p.exists() and p.resolve() == real for p in protected) or any(
                _inside(real, (out / sub).resolve()) for sub in ("tables", "figures")):
            raise InputError("the report would overwrite its input", file=str(src),
                             hint="choose another --out folder")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _group_tuple(result: FanovaResult, keys: Sequence[str]) -> tuple:
    return tuple(result.group[k] for k in keys)


def _group_rank(values: tuple, keys: Sequence[str], study: StudyResult) -> tuple:
    """Sort key of a group: tasks and variants in the paper's order, others as found."""
    rank = []
    for key, value in zip(keys, values):
        seen = [r.group[key] for r in study]
        if key == "task":
            order = order_tasks(seen)
        elif key == "variant":
            order = order_variants(seen)
        else:
            order = list(dict.fromkeys(seen))
        rank.append(order.index(value) if value in order else len(order))
    return tuple(rank)


def _ordered_groups(study: StudyResult) -> list[tuple]:
    return sorted(study.groups(), key=lambda g: _group_rank(g, study.group_keys, study))


def ordered_fits(study: StudyResult, response: str) -> list[FanovaResult]:
    """The fits of ``response``, tasks and variants in the paper's order."""
    keys = study.group_keys
    fits = [r for r in study if r.response == response]
    return sorted(fits, key=lambda r: _group_rank(_group_tuple(r, keys), keys, study))


def _sort_groups(frame: pd.DataFrame, study: StudyResult) -> pd.DataFrame:
    keys = list(study.group_keys)
    if not keys or frame.empty:
        return frame
    ranks = [_group_rank(tuple(row), keys, study) for row in frame[keys].itertuples(index=False)]
    order = sorted(range(len(frame)), key=lambda i: ranks[i])
    return frame.iloc[order].reset_index(drop=True)


def _low_r2(result: FanovaResult) -> bool:
    return result.oob_r2 == result.oob_r2 and result.oob_r2 < LOW_R2


def _version() -> str:
    from . import __version__

    return __version__


class _Progress:
    """rich progress bars when asked for, a no-op otherwise."""

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled = enabled
        self.console = console
        self._progress = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=self.console or Console(stderr=True),
                transient=False)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def task(self, description: str, total: int) -> Callable[[], None]:
        if self._progress is None:
            return lambda: None
        task_id = self._progress.add_task(description, total=max(total, 1))
        return lambda: self._progress.advance(task_id)

