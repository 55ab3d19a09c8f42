"""Shared look of every figure: palettes, labels, axis scales, colour maps, saving.

One colour per variant and one per hyperparameter, fixed here, so a variant or a
hyperparameter has the same colour in every figure and report.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, LinearSegmentedColormap
from matplotlib.figure import Figure, SubFigure

from ..atomic import atomic_open
from ..naming import value_text
from ..ordering import order_variants

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: One colour per variant of the paper (box faces, legends). Blue is kept free: it marks
#: significance in the variant figure.
VARIANT_COLORS: dict[str, str] = {
    "V": "#5f5f5f",
    "CIFG": "#009e73",
    "FGR": "#cc79a7",
    "NP": "#e69f00",
    "NOG": "#8c564b",
    "NIAF": "#bcbd22",
    "NIG": "#17becf",
    "NFG": "#d55e00",
    "NOAF": "#9467bd",
}
#: Colours for variants that the paper does not have, handed out in order.
EXTRA_COLORS = ("#7f7f7f", "#b15928", "#6a3d9a", "#33a02c", "#fb9a99", "#a6cee3",
                "#fdbf6f", "#cab2d6", "#b2df8a", "#ffff99")
#: One colour per hyperparameter of the paper's space (pies and bars).
PARAM_COLORS: dict[str, str] = {
    "learning_rate": "#3b6fb6",
    "hidden_size": "#e08214",
    "momentum": "#4daf4a",
    "input_noise": "#984ea3",
}
PARAM_EXTRA_COLORS = ("#a6761d", "#e7298a", "#66a61e", "#1b9e77", "#d95f02", "#7570b3",
                      "#e6ab02", "#666666", "#17becf", "#bcbd22", "#8c564b", "#f781bf",
                      "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#ff7f00", "#6a3d9a",
                      "#b15928", "#80b1d3")
PAIR_COLOR = "#9e9e9e"
HIGHER_ORDER_COLOR = "#d9d9d9"

#: Significance highlight of the variant figure (the paper's blue, thick lines).
HIGHLIGHT_COLOR = "#1f4fd1"
MEAN_MEDIAN_COLOR = "#d62728"
BAND_ALPHA = 0.25

#: Display names and units of the paper's columns.
LABELS: dict[str, str] = {
    "learning_rate": "learning rate",
    "hidden_size": "hidden size",
    "momentum": "momentum",
    "input_noise": "input noise (std)",
    "test_error": "test error",
    "valid_error": "validation error",
    "train_error": "training error",
    "train_time": "training time [s]",
    "training_time": "training time [s]",
    "n_params": "parameters",
    "nll": "negative log-likelihood",
    "epochs": "epochs",
}

#: rcParams of every figure: small fonts that stay readable at one-column width.
PAPER_RC: dict[RcKeyType, Any] = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 10,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.4,
    "savefig.dpi": 200,
    "figure.dpi": 100,
    "pdf.fonttype": 42,
    "figure.constrained_layout.h_pad": 0.04,
    "figure.constrained_layout.w_pad": 0.04,
}


def label(name: str) -> str:
    """The display name (with unit) of a column: ``train_time`` -> ``training time [s]``."""
    return LABELS.get(name, str(name).replace("_", " "))


def better_note(direction: str | None) -> str:
    """``" (lower is better)"``, ``" (higher is better)"``, or nothing when unknown."""
    if direction == "maximize":
        return " (higher is better)"
    if direction == "minimize":
        return " (lower is better)"
    return ""


def group_text(group: dict[str, Any] | Sequence[tuple[str, Any]]) -> str:
    """``"model resnet, budget 2.778"``: group keys and values for titles (numbers
    rounded as :func:`~odyssey_analysis.naming.value_text` shows them)."""
    items = group.items() if isinstance(group, dict) else group
    return ", ".join(f"{k} {value_text(v)}" for k, v in items)


#: Width of an average character of the figures' font (DejaVu Sans), in font sizes.
CHAR_WIDTH = 0.62
#: Height of a line of text, in font sizes.
LINE_HEIGHT = 1.25


def text_width(text: str, fontsize: float) -> float:
    """An upper estimate of the width of one line of ``text``, in inches."""
    longest = max((len(line) for line in str(text).split("\n")), default=0)
    return longest * CHAR_WIDTH * fontsize / 72.0


def chars_in(width: float, fontsize: float) -> int:
    """How many characters fit on a line ``width`` inches long (at least 4)."""
    return max(4, int(width * 72.0 / (CHAR_WIDTH * fontsize)))


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis in the middle, so that both
    its start and its end (``… layer 2``) stay: names that differ at the end stay apart."""
    text = str(text)
    if len(text) <= width:
        return text
    tail = max(0, (width - 1) * 2 // 5)
    head = max(1, width - 1 - tail)
    return text[:head].rstrip() + "…" + (text[-tail:].lstrip() if tail else "")


def wrap(text: str, width: int, max_lines: int = 3) -> str:
    """``text`` on lines of at most ``width`` characters (words split where they must),
    at most ``max_lines`` of them, the last ending in an ellipsis when text was left out."""
    import textwrap

    lines = textwrap.wrap(str(text), width=max(4, width), break_long_words=True,
                          break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(lines)


def legend_columns(labels: Sequence[str], width: float, fontsize: float = 7.0,
                   most: int = 4) -> int:
    """The most legend columns (up to ``most``) whose widest entries fit in ``width``
    inches, each entry a handle and its label."""
    entry = [text_width(t, fontsize) + 0.45 for t in labels]
    for ncol in range(min(most, len(labels)), 1, -1):
        columns = [max(entry[c::ncol]) for c in range(ncol)]
        if sum(columns) <= 0.95 * width:
            return ncol
    return 1


def axes_length(ax: Axes, axis: str = "x") -> float:
    """The Axes' length along ``axis`` in inches, as its grid cell gives it before the
    layout is solved (the layout only shrinks it: an estimate from above)."""
    pos = ax.get_position()
    fig = ax.figure
    root = fig.figure if isinstance(fig, SubFigure) else fig  # a subfigure has no size
    width, height = root.get_size_inches()
    return float(pos.width * width if axis == "x" else pos.height * height)


def levels_turn(levels: Sequence[Any], length: float, fontsize: float = 7.0) -> bool:
    """Whether :func:`set_level_ticks` turns these levels' labels upright on an x axis
    ``length`` inches long (the figure then needs room below the Axes)."""
    texts = [value_text(v) for v in levels]
    if not texts:
        return False
    slot = 0.95 * length / len(texts)
    return max(text_width(t, fontsize) for t in texts) + 0.04 > slot


#: Height that upright level labels take below an Axes (inches, 14 characters at 7 pt).
TURNED_LABELS = 0.55


def set_level_ticks(ax: Axes, levels: Sequence[Any], axis: str = "x",
                    length: float | None = None, fontsize: float | None = None) -> None:
    """One tick per level at 0, 1, ..., labelled so that no two labels overlap.

    Labels stay horizontal when they fit side by side in ``length`` inches (default: the
    Axes' length), else they are turned (x axis) and shortened; when even turned labels
    are too many for the axis, only every k-th level is labelled (every level keeps its
    tick). Numbers are rounded as they are shown everywhere (2.778).
    """
    texts = [value_text(v) for v in levels]
    n = len(texts)
    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    key: RcKeyType = "xtick.labelsize" if axis == "x" else "ytick.labelsize"
    size = fontsize or mpl.font_manager.FontProperties(
        size=mpl.rcParams[key]).get_size_in_points()
    span = 0.95 * (length if length is not None else axes_length(ax, axis))
    line = LINE_HEIGHT * size / 72.0
    slot = span / max(n, 1)
    rotation = 0
    if axis == "x":
        if levels_turn(levels, span / 0.95, size):
            rotation = 90
            texts = [shorten(t, 14) for t in texts]
    else:
        texts = [shorten(t, 14) for t in texts]
    along = line if (axis == "y" or rotation) else max(text_width(t, size) for t in texts)
    step = max(1, int(np.ceil(along / max(slot, 1e-9))))
    shown = [t if i % step == 0 else "" for i, t in enumerate(texts)]
    axis_obj.set_major_locator(ticker.FixedLocator(list(range(n))))
    axis_obj.set_major_formatter(ticker.FixedFormatter(shown))
    axis_obj.set_minor_locator(ticker.NullLocator())
    if rotation:
        for text in axis_obj.get_ticklabels():
            text.set_rotation(rotation)
        ax.tick_params(axis="x", labelrotation=rotation)  # only x labels turn


def variant_color(variant: Any, known: Sequence[Any] = ()) -> str:
    """The fixed colour of a variant (variants not in the paper get extra colours by
    their position in ``known``)."""
    if variant in VARIANT_COLORS:
        return VARIANT_COLORS[variant]
    others = [v for v in known if v not in VARIANT_COLORS]
    pos = others.index(variant) if variant in others else sum(map(ord, str(variant)))
    return EXTRA_COLORS[pos % len(EXTRA_COLORS)]


def param_colors(names: Sequence[str]) -> dict[str, str]:
    """A colour per hyperparameter: the paper's fixed ones, then extra colours in order."""
    out = {}
    extra = iter(PARAM_EXTRA_COLORS * (1 + len(names) // len(PARAM_EXTRA_COLORS)))
    for name in names:
        out[name] = PARAM_COLORS.get(name) or next(extra)
    return out


def variant_order(variants: Sequence[Any], reference: Any = None) -> list:
    """Variants in the paper's order (reference first), others sorted after."""
    return order_variants(variants, reference)


def interaction_cmap() -> Colormap:
    """Diverging blue–grey–red map: blue = lower (better), grey = 0, red = higher."""
    return LinearSegmentedColormap.from_list(
        "odyssey_interaction",
        [(0.0, "#1a4f9c"), (0.25, "#6b9bd1"), (0.5, "#d4d4d4"), (0.75, "#e0776b"),
         (1.0, "#a4161a")])


def total_cmap() -> Colormap:
    """Sequential map for joint marginals: dark blue = lower (better), yellow = higher."""
    return mpl.colormaps["viridis"]


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """Apply :data:`PAPER_RC` for the figures built inside the block."""
    with mpl.rc_context(PAPER_RC):
        yield


def styled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: build the figure under :func:`paper_style`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with paper_style():
            return fn(*args, **kwargs)

    return wrapper


class DisplayFigure(Figure):
    """A Figure that notebooks show as an image without pyplot.

    The figure-level functions do not register their figures with pyplot (a script or a
    report that draws many figures never leaks them), so Jupyter's pyplot hooks do not
    know them; this PNG representation lets a notebook display one as a cell's value.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout, not registered with pyplot (no leaks in loops)."""
    return DisplayFigure(figsize=(width, height), layout="constrained")


def get_axes(ax: Axes | None) -> Axes:
    """``ax``, or the current pyplot Axes when none is given (seaborn's convention)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _one_minus_log_forward(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log10(np.clip(1.0 - m, 1e-12, None))


def _one_minus_log_inverse(t: np.ndarray) -> np.ndarray:
    return 1.0 - 10.0 ** (-np.asarray(t, dtype=float))


def _g(value: float, _pos: Any = None) -> str:
    return f"{value:g}"


def _decade(value: float, _pos: Any = None) -> str:
    exponent = int(np.round(np.log10(value))) if value > 0 else 0
    return f"$\\mathdefault{{10^{{{exponent}}}}}$"


def set_value_scale(ax: Axes, scale: str, lo: float, hi: float, axis: str = "x", *,
                    integer: bool = False, max_ticks: int | None = None) -> None:
    """Give ``axis`` the scale the hyperparameter was sampled on, ticks in original units.

    ``log`` gives a log axis: across 1.5 decades or more, ticks at powers of ten labelled
    10⁻⁴, 10⁰, 10³ (one style for every such axis of every figure, whatever its range);
    within a narrower range, ticks at 1, 2 and 5 times a power of ten, labelled 20, 50,
    100. ``one_minus_log`` stretches the values near 1 (0, 0.9, 0.99, ...); ``linear``
    keeps matplotlib's ticks. ``integer`` (an integer hyperparameter) puts ticks only on
    whole numbers; ``max_ticks`` caps the labelled ticks (small heat-map cells).
    """
    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    if scale == "log" and lo > 0:
        set_scale("log")
        decades = float(np.log10(hi / lo))
        most = max_ticks or 12
        if decades < 1.5:
            subs: tuple[float, ...] = (1.0, 2.0, 5.0) if most >= 4 else (1.0, 3.0)
            locator = ticker.LogLocator(base=10, subs=subs, numticks=12)
            formatter = ticker.FuncFormatter(_g)
        else:  # labelled powers of ten, thinned to the room there is
            locator = ticker.LogLocator(base=10, subs=(1.0,),
                                        numticks=min(int(decades) + 3, most + 1))
            formatter = ticker.FuncFormatter(_decade)
        axis_obj.set_major_locator(locator)
        axis_obj.set_major_formatter(formatter)
        axis_obj.set_minor_formatter(ticker.NullFormatter())
    elif scale == "one_minus_log":
        set_scale("function", functions=(_one_minus_log_forward, _one_minus_log_inverse))
        ticks = [t for t in (0.0, 0.5, 0.9, 0.99, 0.999, 0.9999) if lo - 1e-12 <= t <= hi + 1e-12]
        if max_ticks is not None and len(ticks) > max_ticks:  # 0 and 0.5 crowd first
            ticks = [t for t in ticks if t != 0.5][-max_ticks:]
        axis_obj.set_major_locator(ticker.FixedLocator(ticks))
        axis_obj.set_major_formatter(ticker.FuncFormatter(_g))
        axis_obj.set_minor_locator(ticker.NullLocator())
    elif integer or max_ticks:
        axis_obj.set_major_locator(ticker.MaxNLocator(
            nbins=max(1, max_ticks - 1) if max_ticks else "auto", integer=integer,
            min_n_ticks=2))


def colorbar_ticks(cb: Any, symmetric: bool = False, nbins: int = 4) -> None:
    """Readable colour-bar ticks: a few round values, a common power of ten moved to the
    bar's end (×10³) instead of repeated in every label."""
    lo, hi = float(cb.norm.vmin), float(cb.norm.vmax)
    values = ticker.MaxNLocator(nbins=nbins, symmetric=symmetric).tick_values(lo, hi)
    span = hi - lo
    inside = [v for v in values if lo - 1e-9 * span <= v <= hi + 1e-9 * span]
    # only ticks on the bar (a symmetric locator reaches past the ends)
    cb.locator = ticker.FixedLocator(inside)
    formatter = ticker.ScalarFormatter(useMathText=True)
    formatter.set_powerlimits((-2, 3))
    cb.formatter = formatter
    cb.update_ticks()


def cell_edges(values: np.ndarray, scale: str) -> np.ndarray:
    """Boundaries of the cells around grid points, midway on the sampling scale.

    Midpoints are geometric on a log scale and geometric in ``1 - x`` on the
    ``one_minus_log`` scale, so the cells of an evenly spaced encoded grid have equal
    widths on the plotted axis.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 1:
        return np.array([x[0] - 0.5, x[0] + 0.5])
    if scale == "log" and np.all(x > 0):
        t = np.log(x)
        back: Callable[[np.ndarray], np.ndarray] = np.exp
    elif scale == "one_minus_log" and np.all(x < 1):
        t = -np.log1p(-x)
        back = lambda s: -np.expm1(-s)  # noqa: E731
    else:
        t = x
        back = lambda s: s  # noqa: E731
    mid = 0.5 * (t[1:] + t[:-1])
    edges = np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])
    out = back(edges)
    if scale == "one_minus_log":
        out = np.clip(out, None, 1 - 1e-12)
    if scale == "log":
        out = np.clip(out, 1e-300, None)
    return out


#: File metadata without dates, so the same figure gives the same bytes every time.
_METADATA: dict[str, dict[str, Any]] = {"pdf": {"CreationDate": None, "ModDate": None},
                                        "svg": {"Date": None}}


def save_figure(fig: Figure, path_stem: str | Path, formats: Sequence[str] = ("png", "pdf"),
                dpi: int = 200) -> list[Path]:
    """Save ``fig`` as ``<path_stem>.png`` and ``.pdf`` (each written atomically).

    Parameters
    ----------
    fig
        The figure.
    path_stem
        Path without extension, e.g. ``out/figures/variants_test_error``.
    formats
        File formats to write.
    dpi
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``. They hold no dates: the same
        figure gives the same bytes.
    """
    stem = Path(path_stem)
    paths = []
    engine = fig.get_layout_engine()
    try:
        for i, fmt in enumerate(formats):
            path = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_open(path, "wb") as handle:
                fig.savefig(handle, format=fmt, dpi=dpi, metadata=_METADATA.get(fmt))
            paths.append(path)
            if i == 0 and engine is not None:
                # The layout is done: later formats reuse it instead of solving it again.
                fig.set_layout_engine("none")
    finally:
        if engine is not None and fig.get_layout_engine() is not engine:
            fig.set_layout_engine(engine)
    return paths


def safe_name(value: Any) -> str:
    """A file-name-safe rendering of a group value (``speech``, ``lr_0.1``...)."""
    text = str(value).strip()
    out = "".join(c if c.isalnum() or c in "-." else "_" for c in text)
    return out.strip("._") or "all"
