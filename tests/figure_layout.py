"""Layout checks of a drawn figure: no text outside the figure, no two texts overlapping."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

#: Pixels of overlap (at the drawing's resolution) tolerated between two texts' boxes.
TOLERANCE = 1.0


def _visible(text: Text) -> bool:
    """Whether ``text`` is drawn: visible, not empty, and in a visible Axes (if any)."""
    if not text.get_visible() or not text.get_text().strip():
        return False
    return text.axes is None or text.axes.get_visible()


def text_boxes(fig: Figure) -> list[tuple[str, np.ndarray]]:
    """Each drawn text of ``fig`` and its box ``[x0, y0, x1, y1]`` in display pixels."""
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    fig.draw_without_rendering()  # solves the layout and places every text, draws nothing
    tick_labels, drawn = set(), []
    for ax in fig.get_axes():
        for axis in ax._axis_map.values():
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                tick_labels.update({id(tick.label1), id(tick.label2)})
            tick_labels.update({id(axis.label), id(axis.offsetText)})
            if ax.get_visible() and ax.axison and axis.get_visible():
                drawn += [axis.label, axis.offsetText]
                # the ticks drawn: those inside the view limits (private, but the only
                # way to ask)
                drawn += [label for tick in axis._update_ticks()
                          for label in (tick.label1, tick.label2)
                          if tick.get_visible()]
    texts = [t for t in fig.findobj(Text) if id(t) not in tick_labels] + drawn
    out = []
    for text in texts:
        if not _visible(text):
            continue
        box = text.get_window_extent(renderer)
        if box.width <= 0 or box.height <= 0:
            continue
        out.append((text.get_text(), np.array([box.x0, box.y0, box.x1, box.y1])))
    return out


def layout_problems(fig: Figure) -> list[str]:
    """What is wrong with the placement of ``fig``'s texts (empty: nothing).

    A text reaching outside the figure is clipped in the saved image; two texts whose
    boxes overlap print over each other (tick labels that collide, a label over a title).
    """
    boxes = text_boxes(fig)
    width, height = fig.canvas.get_width_height(physical=True)
    problems = []
    for text, (x0, y0, x1, y1) in boxes:
        if x0 < -TOLERANCE or y0 < -TOLERANCE or x1 > width + TOLERANCE or \
                y1 > height + TOLERANCE:
            problems.append(f"outside the figure: {text!r}")
    if len(boxes) > 1:
        b = np.array([box for _, box in boxes])
        ox = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
        oy = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
        hit = (ox > TOLERANCE) & (oy > TOLERANCE)
        for i, j in zip(*np.nonzero(np.triu(hit, 1))):
            problems.append(f"overlap: {boxes[i][0]!r} and {boxes[j][0]!r}")
    return problems


def smallest_panel(fig: Figure) -> float:
    """The shortest side, in inches, of the drawn Axes of ``fig`` that show data (colour
    bars and Axes switched off left out), after the layout is solved."""
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    sides = [min(box.width, box.height) / fig.dpi
             for ax in fig.axes if ax.get_visible() and ax.axison
             and not hasattr(ax, "_colorbar")
             for box in [ax.get_window_extent()]]
    return min(sides) if sides else float("inf")
