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
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, LinearSegmentedColormap
from matplotlib.figure import Figure

from ..atomic import atomic_open
from ..ordering import order_variants

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
                      "#e6ab02", "#666666")
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
PAPER_RC: dict[str, Any] = {
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
    """``"model resnet, optimizer adam"``: group keys and values for titles."""
    items = group.items() if isinstance(group, dict) else group
    return ", ".join(f"{k} {v}" for k, v in items)


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


def set_value_scale(ax: Axes, scale: str, lo: float, hi: float, axis: str = "x") -> None:
    """Give ``axis`` the scale the hyperparameter was sampled on, ticks in original units.

    ``log`` gives a log axis (labels 20, 50, 100 within about a decade, one label per
    decade beyond: plain numbers between 0.001 and 10⁴, powers of ten outside);
    ``one_minus_log`` stretches the values near 1 (0, 0.9, 0.99, ...); ``linear`` is left
    as it is.
    """
    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    if scale == "log" and lo > 0:
        set_scale("log")
        decades = float(np.log10(hi / lo))
        if decades < 1.5:
            locator = ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12)
        else:  # one labelled tick per decade, however small the axis
            locator = ticker.LogLocator(base=10, subs=(1.0,), numticks=int(decades) + 3)
        axis_obj.set_major_locator(locator)
        plain = lo >= 1e-3 and hi <= 1e4
        axis_obj.set_major_formatter(ticker.FuncFormatter(_g) if plain
                                     else ticker.LogFormatterSciNotation())
        axis_obj.set_minor_formatter(ticker.NullFormatter())
    elif scale == "one_minus_log":
        set_scale("function", functions=(_one_minus_log_forward, _one_minus_log_inverse))
        ticks = [t for t in (0.0, 0.5, 0.9, 0.99, 0.999, 0.9999) if lo - 1e-12 <= t <= hi + 1e-12]
        axis_obj.set_major_locator(ticker.FixedLocator(ticks))
        axis_obj.set_major_formatter(ticker.FuncFormatter(_g))
        axis_obj.set_minor_locator(ticker.NullLocator())


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
        back = np.exp
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
