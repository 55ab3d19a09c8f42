"""The paper's figures, drawn from result objects (nothing here recomputes statistics).

Each figure has an axes-level function that takes ``ax=`` and returns the Axes, and a
figure-level function that lays out the paper's figure and returns the Figure:

=================  ==============================  ===========================
paper figure       axes level                      figure level
=================  ==============================  ===========================
Fig. 3 variants    :func:`plot_variant_boxes`,     :func:`variants_figure`
                   :func:`plot_params_bars`
Fig. 4 marginals   :func:`plot_marginal`,          :func:`marginals_figure`
                   :func:`plot_marginals_twin`
Fig. 5 fractions   :func:`plot_fraction_pie`,      :func:`fractions_figure`
                   :func:`plot_fraction_bars`
Fig. 6 pairs       :func:`plot_pair`               :func:`interactions_figure`
=================  ==============================  ===========================

:func:`save_figure` writes a figure as PNG and PDF, atomically.
"""

from .fractions import fractions_figure, plot_fraction_bars, plot_fraction_pie
from .interactions import interactions_figure, plot_pair
from .marginals import marginals_figure, plot_marginal, plot_marginals_twin
from .style import (
    PARAM_COLORS,
    VARIANT_COLORS,
    interaction_cmap,
    paper_style,
    save_figure,
    variant_color,
)
from .variants import plot_params_bars, plot_variant_boxes, variants_figure

__all__ = [
    "PARAM_COLORS",
    "VARIANT_COLORS",
    "fractions_figure",
    "interaction_cmap",
    "interactions_figure",
    "marginals_figure",
    "paper_style",
    "plot_fraction_bars",
    "plot_fraction_pie",
    "plot_marginal",
    "plot_marginals_twin",
    "plot_params_bars",
    "plot_pair",
    "plot_variant_boxes",
    "save_figure",
    "variant_color",
    "variants_figure",
]
