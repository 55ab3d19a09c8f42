"""Building the report folder: load → choose the roles → analyse → compare → figures →
tables → ``index.html``, all in a folder beside ``--out`` that replaces it whole at the end.

The report folder::

    index.html          self-contained (figures embedded, inline CSS, no external links)
    importance.csv      the long importance table (the ``importance.csv`` contract)
    comparison.csv      the variant comparison (when the trials have variants)
    analysis.json       every fit, the roles chosen and the report's settings
    guidelines.md/.json what to tune and where, for the metric (as ``odyssey guide``)
    tables/             Markdown and LaTeX renderings of the tables
    figures/            every figure as PNG (200 dpi) and PDF
    .odyssey-report     marks the folder as a report, which the next report may replace

A report never writes into a folder that holds anything else (the user's files are
never touched), a killed run leaves the previous report as it was, and the same input
and seed give the same bytes in every file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import atomic_folder, atomic_write_text, check_writable
from ..choices import Choices, choose
from ..compare import Comparison, compare
from ..errors import InputError
from ..progress import ProgressBars
from ..result import StudyResult, importance_csv
from ..roles import better_word
from ..space import SearchSpace
from ..trials import TrialTable
from .figures import FigureEntry, ReportContext, draw_figures

if TYPE_CHECKING:
    from ..methods import ImportanceMethod

#: The file that marks a folder as an odyssey report.
MARKER = ".odyssey-report"
#: Everything a report folder holds at its top level.
REPORT_ENTRIES = frozenset({"index.html", "importance.csv", "comparison.csv", "analysis.json",
                            "guidelines.md", "guidelines.json", "tables", "figures", MARKER})


def bundled_table() -> Path:
    """The mini Odyssey study bundled with the package (``data/odyssey_mini.csv``)."""
    return Path(__file__).resolve().parent.parent / "data" / "odyssey_mini.csv"


@dataclass
class Report:
    """What :func:`build_report` produced.

    Attributes
    ----------
    out_dir, index
        The report folder and its ``index.html``.
    table, study, comparison
        The trials, the analysis and the comparison (``None`` without variants).
    choices
        The roles used (task, variant, reference, metric, selection, time, parameters).
    figures
        Every figure drawn.
    files
        Every file of the folder, relative to it.
    settings
        The report's settings (also in ``analysis.json``).
    timings
        Seconds per stage (for the console; not written to any file).
    notes
        What the reader should know about how the report was made.
    guidelines
        The :class:`~odyssey_analysis.guidelines.Guidelines` of the metric (``None``
        when its direction is unknown).
    """

    out_dir: Path
    index: Path
    table: TrialTable
    study: StudyResult
    comparison: Comparison | None
    choices: Choices
    figures: list[FigureEntry]
    files: list[str]
    settings: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    guidelines: Any = None


def load_for_report(table: TrialTable | str | Path | None,
                    space: SearchSpace | str | Path | None = None) -> TrialTable:
    """The trials: a TrialTable as given, a file loaded, or the bundled study."""
    if isinstance(table, TrialTable):
        return table
    from ..loaders import load_trials

    path = bundled_table() if table is None else Path(table)
    if table is None and not path.is_file():
        raise InputError("the bundled study is missing from this installation",
                         file=str(path), hint="give a TABLE to report on")
    return load_trials(path, space=space)


def check_report_folder(out: Path, inputs: Sequence[str | Path] = ()) -> None:
    """Refuse an output folder a report may not replace.

    It may be missing, empty, or an earlier report holding only what a report writes;
    it may neither be nor hold any of ``inputs``.

    Raises
    ------
    InputError
        Naming the folder, or the input it would overwrite.
    """
    out_real = out.resolve()
    for item in inputs:
        path = Path(item)
        if not path.exists():
            continue
        real = path.resolve()
        if real == out_real or out_real in real.parents:
            raise InputError("the report would overwrite its input (a report replaces its "
                             "folder whole)", file=str(path),
                             hint="choose another {out_dir} folder",
                         parameters=("out_dir",))
    check_writable(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError("the report folder is a file", file=str(out),
                         hint="choose another {out_dir} folder",
                         parameters=("out_dir",))
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    if MARKER not in entries:
        raise InputError("the folder exists and is not an odyssey report: a report replaces "
                         "its folder whole", file=str(out),
                         hint="choose a new or empty {out_dir} folder",
                         parameters=("out_dir",))
    stranger = [name for name in entries if name not in REPORT_ENTRIES]
    if stranger:
        raise InputError(f"the report folder holds {stranger[0]!r}, which no report writes: "
                         "a report replaces its folder whole", file=str(out),
                         hint="move that file away or choose another {out_dir} folder",
                         parameters=("out_dir",))


def build_report(
    table: TrialTable | str | Path | None = None,
    out_dir: str | Path = "report",
    *,
    method: ImportanceMethod | str | None = None,
    space: SearchSpace | str | Path | None = None,
    responses: Sequence[str] | None = None,
    metric: str | None = None,
    select_by: str | None = None,
    top_fraction: float = 0.1,
    reference: Any = None,
    alpha: float = 0.05,
    holm: bool = False,
    task_key: str | None = None,
    variant_key: str | None = None,
    time_response: str | None = None,
    params_column: str | None = None,
    all_interactions: bool = False,
    top_pairs: int | None = None,
    min_trials: int = 10,
    n_jobs: int | None = None,
    inputs: Sequence[str | Path] = (),
    progress: bool = False,
    console: Any = None,
    **deprecated: Any,
) -> Report:
    """Run the whole analysis and write the report folder.

    Parameters
    ----------
    table
        A :class:`~odyssey_analysis.trials.TrialTable`, a path to load, or ``None`` for
        the bundled mini Odyssey study.
    out_dir
        The report folder: new, empty, or an earlier report (replaced whole).
    space
        Search space (default: the table's recorded space, a space file beside it, or
        inferred).
    responses
        Responses to analyse (default: the table's; the metric and the time response
        are always among them).
    method
        The importance method with every setting of the fits (see
        :func:`~odyssey_analysis.study.analyze`; the figures need its curves, so leave
        ``curves`` on). Default: :class:`~odyssey_analysis.methods.FanovaMethod` with
        default settings.
    min_trials
        Fewest trials a group may have (see :func:`~odyssey_analysis.study.analyze`).
    metric, select_by, reference, task_key, variant_key, time_response, params_column
        The roles of the comparison and the figures (see
        :func:`~odyssey_analysis.choices.choose`): given here, else from the table's
        column spec, else chosen by a default rule that the report states.
    top_fraction, alpha, holm
        Comparison settings (see :func:`~odyssey_analysis.compare.compare`).
    all_interactions
        Draw the interaction matrices of every variant (default: the reference's).
    top_pairs
        Pairs drawn in each interaction figure: those with the largest shares of the
        pure interaction (default: every pair up to six hyperparameters, the ten
        largest beyond).
    n_jobs
        Worker processes for the fits and for drawing the figures (``None``: chosen by
        the work; 1: everything in this process).
    inputs
        Files the report must not replace (the table's own file is always protected).
    progress, console
        Show rich progress bars on ``console`` (standard error by default).

    **deprecated
        The flat settings of earlier releases (``n_trees``, ``seed``, ``estimator``,
        ``n_bootstrap``, ``conf_level``) still build the method, with a
        :class:`FutureWarning`; they go in the next release.

    Returns
    -------
    Report
    """
    from ..study import resolve_method

    chosen = resolve_method(method, deprecated, caller="build_report")
    timings: dict[str, float] = {}
    notes: list[str] = []
    out = Path(out_dir)
    started = time.perf_counter()
    trials = load_for_report(table, space)
    protected = [*inputs, *([trials.source] if Path(str(trials.source)).exists() else [])]
    if isinstance(space, (str, Path)):
        protected.append(space)
    check_report_folder(out, protected)
    timings["load"] = time.perf_counter() - started

    choices = choose(trials, responses=responses, task_key=task_key, variant_key=variant_key,
                     reference=reference, metric=metric, select_by=select_by,
                     time=time_response, params=params_column)
    analysed = _responses(trials, responses, choices)
    group_by = list(trials.group_keys)
    for key in (choices.task_key, choices.variant_key):
        role = "task" if key == choices.task_key else "variant"
        declared = trials.hyperparameters_declared and key in trials.hyperparameters
        if key is not None and key not in group_by and declared:
            # A design column the user declared a hyperparameter stays a factor of the
            # decomposition: its share and pairs are what the user asked for.
            notes.append(f"the {role} column {key} is a declared hyperparameter: it stays "
                         "a factor of the decomposition (its share and its pairs are "
                         f"reported) and the analysis is not grouped by it; the variant "
                         "comparison still compares its values")
        elif key is not None and key not in group_by:
            group_by.append(key)
            notes.append(f"the analysis is grouped by {key} too, the {role} column")
    if group_by != list(trials.group_keys):
        trials = trials.regrouped(group_by)
    choices = choose(trials, responses=analysed, group_by=group_by, task_key=task_key,
                     variant_key=variant_key, reference=reference, metric=metric,
                     select_by=select_by, time=time_response, params=params_column)

    with ProgressBars(progress, console) as bars, atomic_folder(out) as stage:
        t0 = time.perf_counter()
        from ..study import analyze

        n_groups = (trials.frame.groupby(group_by, observed=True, dropna=False).ngroups
                    if group_by else 1)
        fits = bars.add("fitting forests", n_groups * len(analysed))
        study = analyze(trials, space=space if isinstance(space, SearchSpace) else None,
                        method=chosen, response=analysed, group_by=group_by, n_jobs=n_jobs,
                        min_trials=min_trials, progress=fits)
        timings["analyze"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        comparison = None
        if choices.variant_key is not None:
            comparison = compare(trials, metric=choices.metric, select_by=choices.select_by,
                                 top_fraction=top_fraction, reference=choices.reference,
                                 task_key=choices.task_keys or (),
                                 variant_key=choices.variant_key, alpha=alpha, holm=holm,
                                 params_column=choices.params)
        timings["compare"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ctx = ReportContext(study=study, comparison=comparison, choices=choices,
                            directions=dict(trials.directions), top_fraction=top_fraction,
                            alpha=alpha, holm=holm, all_interactions=all_interactions,
                            top_pairs=top_pairs)
        figures = draw_figures(ctx, stage / "figures", bars=bars, n_jobs=n_jobs)
        timings["figures"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        settings = {
            **_method_settings(chosen), "responses": analysed,
            "metric": choices.metric, "select_by": choices.select_by,
            "top_fraction": top_fraction, "reference": choices.reference, "alpha": alpha,
            "holm": holm, "min_trials": min_trials, "roles": choices.to_dict(),
        }
        written = _write_tables(stage, study, comparison, settings)
        guide = _guidelines(trials, study, choices.metric, notes)
        if guide is not None:
            written += _write_guidelines(stage, guide, choices.metric)
        timings["tables"] = time.perf_counter() - t0

        files = sorted({*written, *(f for fig in figures for f in fig.files), "index.html"})
        report = Report(out_dir=out, index=out / "index.html", table=trials, study=study,
                        comparison=comparison, choices=choices, figures=figures, files=files,
                        settings=settings, timings=timings, notes=notes,
                        guidelines=guide)
        t0 = time.perf_counter()
        from .html import render_html

        atomic_write_text(stage / "index.html", render_html(report, root=stage))
        atomic_write_text(stage / MARKER, "This folder is an odyssey_analysis report; the next "
                          "`odyssey report --out` here replaces it whole.\n")
        timings["html"] = time.perf_counter() - t0
    return report


def _guidelines(trials: TrialTable, study: StudyResult, metric: str, notes: list[str]
                ) -> Any:
    """The metric's guidelines, or ``None`` (with a note) when its direction is unknown."""
    if trials.directions.get(metric) not in ("minimize", "maximize"):
        notes.append(f"no guidelines: which way is better for {metric} is unknown "
                     "(declare it with --maximize or --minimize)")
        return None
    return study.guidelines(responses=[metric])


def _write_guidelines(stage: Path, guide: Any, metric: str) -> list[str]:
    """``guidelines.md`` and ``guidelines.json`` of the metric (as ``odyssey guide``)."""
    from ..guidelines_text import guidelines_markdown

    atomic_write_text(stage / "guidelines.md", guidelines_markdown(guide, metric))
    body = guide.to_dict()
    body["target"] = metric
    atomic_write_text(stage / "guidelines.json",
                      json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return ["guidelines.md", "guidelines.json"]


def _method_settings(method: ImportanceMethod) -> dict[str, Any]:
    """What the report states of the method: its forest, estimator and intervals."""
    forest = getattr(getattr(method, "surrogate", None), "settings", None)
    return {"n_trees": getattr(forest, "n_trees", None), "seed": getattr(forest, "seed", None),
            "estimator": getattr(method, "estimator", None),
            "n_bootstrap": int(getattr(method, "n_bootstrap", 0)),
            "conf_level": getattr(method, "conf_level", None)}


def _responses(trials: TrialTable, responses: Sequence[str] | None,
               choices: Choices) -> list[str]:
    """The responses to analyse: given or the table's, with the metric and time response."""
    chosen = list(responses) if responses else list(trials.responses)
    for name in (choices.metric, choices.time):
        if name is not None and name not in chosen:
            if name not in trials.responses:
                raise InputError("the column is not a response of the table", column=name,
                                 file=trials.source,
                                 hint=f"name it a response with {{responses:[{name!r}]}}",
                                 parameters=("responses",))
            chosen.append(name)
    missing = [r for r in chosen if r not in trials.frame.columns]
    if missing:
        raise InputError("response column is missing", file=trials.source, column=missing[0])
    return chosen


def _write_tables(stage: Path, study: StudyResult, comparison: Comparison | None,
                  settings: dict[str, Any]) -> list[str]:
    """The CSV contracts and ``analysis.json`` at the top, Markdown and LaTeX in tables/."""
    from ..tables import write_comparison_tables, write_importance_tables

    importance = study.importance_table()
    written = ["importance.csv"]
    atomic_write_text(stage / "importance.csv", importance_csv(importance))
    written += [f"tables/{p.name}" for p in
                write_importance_tables(importance, stage / "tables", csv=False,
                                        conf_level=settings["conf_level"]
                                        if settings["n_bootstrap"] else None)]
    if comparison is not None:
        atomic_write_text(stage / "comparison.csv", comparison.table.to_csv(index=False))
        written.append("comparison.csv")
        written += [f"tables/{p.name}" for p in
                    write_comparison_tables(comparison.table, stage / "tables", csv=False,
                                            better=better_word(comparison.direction))]
    analysis = study.to_dict()
    analysis["report_settings"] = settings
    atomic_write_text(stage / "analysis.json", json.dumps(analysis, indent=2) + "\n")
    written.append("analysis.json")
    return written
