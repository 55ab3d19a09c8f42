"""The report's figures: one :class:`FigureSpec` per kind of figure, in :data:`FIGURES`.

A spec says which section a figure belongs to, how its files are named, and, for a
:class:`ReportContext`, which figures of its kind there are (its panels), their titles,
captions and how each is drawn. Adding a figure to the report is adding one entry.
Figures are drawn by :func:`draw_figures`, in worker processes when that pays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..choices import Choices
from ..compare import Comparison
from ..naming import file_stems
from ..ordering import GroupOrder, order_tasks, order_variants
from ..progress import ProgressBars
from ..result import StudyResult
from ..roles import better_word

#: Resolution of the PNG figures.
FIGURE_DPI = 200

#: Batches of figures per worker process (more: smoother progress, more pickling).
BATCHES_PER_WORKER = 2


@dataclass(frozen=True)
class ReportContext:
    """Everything the figure specs read."""

    study: StudyResult
    comparison: Comparison | None
    choices: Choices
    directions: dict[str, str]
    top_fraction: float
    alpha: float
    holm: bool
    all_interactions: bool
    top_pairs: int | None = None

    @property
    def metric(self) -> str:
        """The response the figures show."""
        return self.choices.metric

    @property
    def direction(self) -> str | None:
        """The metric's direction (``None``: unknown)."""
        return self.directions.get(self.metric)

    @property
    def by_variant(self) -> bool:
        """Whether the study is grouped by a variant column."""
        return self.choices.variant_key in self.study.group_keys

    def variants(self) -> list:
        """The variants in the paper's order, reference first (``[None]`` without)."""
        if not self.by_variant:
            return [None]
        key = self.choices.variant_key
        assert key is not None  # grouped by it
        return order_variants([r.group[key] for r in self.study], self.choices.reference)

    def tasks(self) -> list | None:
        """The tasks in the paper's order (``None`` without a task column)."""
        key = self.choices.task_key
        if key not in self.study.group_keys:
            return None
        return order_tasks([r.group[key] for r in self.study])

    def extra_combinations(self) -> list[dict[str, Any]]:
        """Every combination of the other group keys' values (``[{}]`` without)."""
        keys = [k for k in self.choices.extra_keys if k in self.study.group_keys]
        if not keys:
            return [{}]
        seen = list(dict.fromkeys(tuple(r.group[k] for k in keys) for r in self.study))
        order = GroupOrder(keys, seen, task_key=None, variant_key=None)
        return [dict(zip(keys, values)) for values in order.sort(seen)]


@dataclass(frozen=True)
class Panel:
    """One figure of a kind: the group values it is restricted to, and whether it is shown
    open in the HTML (the reference variant's) or folded away."""

    values: tuple[tuple[str, Any], ...] = ()
    primary: bool = True

    def text(self) -> str:
        """``"variant V, budget 2.778"`` (numbers rounded as every output shows them)."""
        from ..naming import value_text

        return ", ".join(f"{k} {value_text(v)}" for k, v in self.values)


@dataclass(frozen=True)
class FigureSpec:
    """A kind of figure of the report.

    Attributes
    ----------
    section
        The report section (``variants``, ``marginals``, ``fractions``, ``interactions``).
    stem
        The start of its files' names (the panel's values follow).
    panels
        The figures of this kind for a context (none: the section lacks what it needs).
    title
        A figure's heading.
    caption
        How to read it.
    make
        ``make(context, panel)`` draws it (a module-level function, so that worker
        processes can run it).
    """

    section: str
    stem: str
    panels: Callable[[ReportContext], list[Panel]]
    title: Callable[[ReportContext, Panel], str]
    caption: Callable[[ReportContext, Panel], str]
    make: Callable[[ReportContext, Panel], Any]


@dataclass(frozen=True)
class FigureEntry:
    """A figure that was drawn: where it goes in the report and its files.

    Attributes
    ----------
    section, title, caption, primary
        As in :class:`FigureSpec` and :class:`Panel`.
    files
        The PNG and PDF, relative to the report folder.
    """

    section: str
    title: str
    caption: str
    primary: bool
    files: list[str] = field(default_factory=list)


# -- Fig. 3: variants ------------------------------------------------------------------------

def _variant_panels(ctx: ReportContext) -> list[Panel]:
    return [Panel()] if ctx.comparison is not None else []


def _variant_title(ctx: ReportContext, panel: Panel) -> str:
    from ..plots.style import label

    return f"{label(ctx.metric)} of each variant"


def _variant_caption(ctx: ReportContext, panel: Panel) -> str:
    from ..plots.style import label

    comp = ctx.comparison
    assert comp is not None
    pct = f"{100 * ctx.top_fraction:g}%"
    bars = (" Grey bars (right axis) are the mean parameter count of the top runs."
            if ctx.choices.params is not None else "")
    correction = ", Holm-corrected" if ctx.holm else ", no correction for multiple comparisons"
    better = better_word("maximize" if comp.maximize else "minimize")
    pick = "largest" if comp.select_maximize else "smallest"
    return (f"One box per variant: all trials (top row) and the best {pct} of each variant's "
            f"trials, those with the {pick} {label(comp.select_by)} (bottom row). Box = "
            "25th–75th percentile, whiskers = minimum to maximum, red dot = mean, red line = "
            f"median. Blue, thick boxes differ significantly from {comp.reference} (Welch's "
            f"t-test, p < {ctx.alpha:g}{correction}).{bars} For {label(ctx.metric)}, "
            f"{better}.")


def _draw_variants(ctx: ReportContext, panel: Panel) -> Any:
    from ..plots import variants_figure

    comp = ctx.comparison
    assert comp is not None
    titles = {t: comp.task_text(t) for t in comp.tasks}
    return variants_figure(comp, task_titles=titles if len(comp.task_keys) > 1 else None)


# -- Fig. 4 and 5: marginals and fractions per variant ----------------------------------------

def _variant_panels_all(ctx: ReportContext) -> list[Panel]:
    panels = []
    variants = ctx.variants()
    for i, variant in enumerate(variants):
        for j, extra in enumerate(ctx.extra_combinations()):
            values: list[tuple[str, Any]] = []
            if variant is not None:
                values.append((str(ctx.choices.variant_key), variant))
            values += list(extra.items())
            panels.append(Panel(tuple(values), primary=i == 0 and j == 0))
    return panels


def _where(ctx: ReportContext, panel: Panel) -> tuple[Any, dict[str, Any]]:
    values = dict(panel.values)
    variant = values.pop(str(ctx.choices.variant_key), None) if ctx.by_variant else None
    return variant, values


def _suffix(panel: Panel) -> str:
    return f" — {panel.text()}" if panel.values else ""


def _marginal_title(ctx: ReportContext, panel: Panel) -> str:
    from ..plots.style import label

    return f"Marginals of {label(ctx.metric)}{_suffix(panel)}"


def _marginal_caption(ctx: ReportContext, panel: Panel) -> str:
    from ..plots.style import label

    time = ctx.choices.time if ctx.choices.time in ctx.study.responses else None
    return (f"The solid line is {label(ctx.metric)} predicted with one hyperparameter fixed "
            "and all others averaged over the distribution they were sampled from (mean over "
            "the forest's trees); the band is ± one standard deviation across trees, i.e. how "
            "much the trees disagree, not the spread of the data."
            + (f" The dashed line (right axis) is {label(time)}." if time else "")
            + " Ticks along the bottom of each panel (the rug) mark the values the "
            "analysed trials had."
            + " Log-sampled hyperparameters have log axes." + _full_names(ctx)
            + (f" For {label(ctx.metric)}, {better_word(ctx.direction)}."
               if ctx.direction else ""))


#: Names longer than this may be shortened in a figure; the caption then lists them whole.
LONG_NAME = 24


def _full_names(ctx: ReportContext) -> str:
    """`` Names shortened in the figure, in full: ...`` when a name is long, else nothing."""
    from ..plots.style import label

    long = [label(n) for n in ctx.study.space.names if len(label(n)) > LONG_NAME]
    return (" Names shortened in the figure, in full: " + "; ".join(long) + "."
            if long else "")


def _draw_marginals(ctx: ReportContext, panel: Panel) -> Any:
    from ..plots import marginals_figure

    variant, where = _where(ctx, panel)
    time = ctx.choices.time if ctx.choices.time in ctx.study.responses else None
    return marginals_figure(ctx.study, response=ctx.metric, secondary=time, variant=variant,
                            task_key=ctx.choices.task_key, variant_key=ctx.choices.variant_key,
                            tasks=ctx.tasks(), where=where, direction=ctx.direction,
                            title=_marginal_title(ctx, panel))


def _fraction_title(ctx: ReportContext, panel: Panel) -> str:
    from ..plots.style import label

    return f"Share of the variance of {label(ctx.metric)}{_suffix(panel)}"


def _fraction_caption(ctx: ReportContext, panel: Panel) -> str:
    from ..result import first_intervals

    ci = first_intervals(ctx.study)
    whiskers = (f"whiskers are calibrated {100 * ci.conf_level:.0f} % intervals over trials "
                f"({ci.n_bootstrap} bootstrap replicates; centred on the bias-corrected "
                "share, so not always symmetric about the bar)" if ci is not None else
                "whiskers are ± one standard deviation across the forest's trees, how much "
                "the trees disagree, not an interval (the report ran with --bootstrap 0; "
                "its default, --bootstrap 100, draws calibrated intervals)")
    return ("Pie: the share of the variance that each hyperparameter explains on its own; "
            "'higher order' is everything left to interactions. Bars: the same shares, the "
            "largest pairwise interactions, and what is left beyond pairs; the "
            + whiskers + "." + _full_names(ctx))


def _draw_fractions(ctx: ReportContext, panel: Panel) -> Any:
    from ..plots import fractions_figure

    variant, where = _where(ctx, panel)
    return fractions_figure(ctx.study, response=ctx.metric, variant=variant,
                            task_key=ctx.choices.task_key, variant_key=ctx.choices.variant_key,
                            tasks=ctx.tasks(), where=where, title=_fraction_title(ctx, panel))


# -- Fig. 6: interactions per fit ---------------------------------------------------------------

def _interaction_panels(ctx: ReportContext) -> list[Panel]:
    keys = ctx.study.group_keys
    if len(ctx.study.space) < 2:
        return []
    reference = ctx.choices.reference
    vkey = ctx.choices.variant_key
    order = GroupOrder(keys, ctx.study.groups(), task_key=ctx.choices.task_key,
                       variant_key=vkey, reference=reference)
    fits = [r for r in ctx.study if r.response == ctx.metric and r.pairs]
    fits.sort(key=lambda r: order.key(tuple(r.group[k] for k in keys)))
    panels = []
    for fit in fits:
        is_reference = not ctx.by_variant or (vkey is not None
                                              and str(fit.group.get(vkey)) == str(reference))
        if ctx.all_interactions or is_reference:
            panels.append(Panel(tuple(fit.group.items()), primary=is_reference))
    return panels


def _interaction_title(ctx: ReportContext, panel: Panel) -> str:
    from ..plots.style import label

    return f"Pairwise effects on {label(ctx.metric)} — {panel.text() or 'all trials'}"


def _interaction_caption(ctx: ReportContext, panel: Panel) -> str:
    if ctx.direction == "maximize":
        colours = ("dark blue = high (better), yellow = low", "blue = higher (better)",
                   "red = lower (worse)")
    elif ctx.direction == "minimize":
        colours = ("dark blue = low (better), yellow = high", "blue = lower (better)",
                   "red = higher (worse)")
    else:
        colours = ("dark blue = low, yellow = high", "blue = lower", "red = higher")
    return ("Left: the joint marginal of each pair (the other hyperparameters averaged out; "
            f"{colours[0]}). Right: the interaction only, the joint marginal minus both main "
            f"effects plus the mean: grey = no interaction, {colours[1]} than the two "
            f"separate effects predict, {colours[2]}. One colour scale per matrix."
            + _pairs_note(ctx) + _full_names(ctx))


def _pairs_note(ctx: ReportContext) -> str:
    from ..plots.interactions import pairs_shown

    d = len(ctx.study.space)
    total = d * (d - 1) // 2
    shown = pairs_shown(d, ctx.top_pairs)
    if shown == total:
        return ""
    return (f" Only the {shown} of the {total} pairs with the largest shares of the pure "
            "interaction are drawn, largest first (#1, #2, ...; --top-pairs sets how "
            "many).")


def _draw_interactions(ctx: ReportContext, panel: Panel) -> Any:
    from ..plots import interactions_figure

    group = dict(panel.values)
    fit = ctx.study.get(ctx.metric, **group)
    return interactions_figure(fit, title=_interaction_title(ctx, panel),
                               direction=ctx.direction, top_pairs=ctx.top_pairs)


#: Every kind of figure of the report, in the order of the sections.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("variants", "variants", _variant_panels, _variant_title, _variant_caption,
               _draw_variants),
    FigureSpec("marginals", "marginals", _variant_panels_all, _marginal_title,
               _marginal_caption, _draw_marginals),
    FigureSpec("fractions", "fractions", _variant_panels_all, _fraction_title,
               _fraction_caption, _draw_fractions),
    FigureSpec("interactions", "interactions", _interaction_panels, _interaction_title,
               _interaction_caption, _draw_interactions),
)


def _stem_parts(spec: FigureSpec, ctx: ReportContext, panel: Panel) -> tuple:
    if spec.section == "variants":
        return (spec.stem, ctx.metric)
    values = tuple(v for _, v in panel.values)
    if spec.section != "interactions" and not values:
        values = ("all",)
    return (spec.stem, *values)


def draw_figures(ctx: ReportContext, fig_dir: Path, *, bars: ProgressBars,
                 n_jobs: int | None = None,
                 specs: Sequence[FigureSpec] = FIGURES) -> list[FigureEntry]:
    """Draw every figure of ``specs`` into ``fig_dir`` (PNG and PDF each).

    Parameters
    ----------
    ctx
        What the figures show.
    fig_dir
        The folder of the files (created).
    bars
        Progress bars (one for the figures).
    n_jobs
        Worker processes (``None``: all cores when there are enough figures; 1: this one).

    Returns
    -------
    list of FigureEntry
        In the order of ``specs`` and their panels.
    """
    jobs = [(spec, panel) for spec in specs for panel in spec.panels(ctx)]
    stems = file_stems(_stem_parts(spec, ctx, panel) for spec, panel in jobs)
    bar = bars.add("drawing figures", len(jobs))
    ctx = replace(ctx, study=_drawn_part(ctx))
    calls = [(partial(spec.make, ctx, panel), fig_dir / stem)
             for (spec, panel), stem in zip(jobs, stems)]
    workers = 1
    if n_jobs != 1 and len(jobs) >= 4:
        from joblib import effective_n_jobs

        workers = effective_n_jobs(-1 if n_jobs is None else n_jobs)
    if workers == 1:
        outputs: Iterator[list[Path]] = (_render(make, path) for make, path in calls)
    else:
        outputs = _render_in_workers(calls, workers)
    entries = []
    for (spec, panel), files in zip(jobs, outputs):
        entries.append(FigureEntry(
            section=spec.section, title=spec.title(ctx, panel),
            caption=spec.caption(ctx, panel), primary=panel.primary,
            files=[f"{fig_dir.name}/{p.name}" for p in files]))
        bar.advance()
    return entries


def _render(make: Callable[[], Any], stem: Path) -> list[Path]:
    """Draw one figure and save it as PNG and PDF (runs in a worker process too)."""
    from ..plots import save_figure

    fig = make()
    return save_figure(fig, stem, dpi=FIGURE_DPI)


def _drawn_part(ctx: ReportContext) -> StudyResult:
    """What the figures read of the study: the metric's and the time response's fits,
    without the per-tree pair grids (only the guidelines read those).

    This is what goes to the worker processes; the whole study is several times larger.
    """
    keep = {ctx.metric, ctx.choices.time}
    study = ctx.study
    results = {}
    for key, fit in study.results.items():
        if key[1] not in keep:
            continue
        pairs = {k: replace(g, total_per_tree=None) for k, g in dict.items(fit.pairs)}
        results[key] = replace(fit, pairs=pairs)
    return StudyResult(results, study.group_keys, [r for r in study.responses if r in keep],
                       study.space, study.table_info, study.method)


def _render_all(calls: Sequence[tuple[Callable[[], Any], Path]]) -> list[list[Path]]:
    """Draw a batch of figures in one worker (:func:`_render` each)."""
    return [_render(make, stem) for make, stem in calls]


def _render_in_workers(calls: Sequence[tuple[Callable[[], Any], Path]],
                       workers: int) -> Iterator[list[Path]]:
    """Draw ``calls`` in ``workers`` processes, yielding each figure's files in order.

    The calls share one :class:`ReportContext` (with :func:`_drawn_part` of the study:
    still megabytes on a study of a few dozen groups). Sent one figure at a time it was
    pickled once per figure, which cost as much as drawing and made the workers grow
    until they were restarted; sent in :data:`BATCHES_PER_WORKER` batches per worker it
    is pickled once per batch.
    """
    from joblib import Parallel, delayed

    n_batches = min(len(calls), workers * BATCHES_PER_WORKER)
    bounds = [round(i * len(calls) / n_batches) for i in range(n_batches + 1)]
    batches = [calls[a:b] for a, b in zip(bounds, bounds[1:])]
    for files in Parallel(n_jobs=workers, return_as="generator")(
            delayed(_render_all)(batch) for batch in batches):
        yield from files


__all__ = ["FIGURES", "FIGURE_DPI", "FigureEntry", "FigureSpec", "Panel", "ReportContext",
           "draw_figures"]
