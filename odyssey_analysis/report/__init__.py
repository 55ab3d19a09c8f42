"""The report: every analysis, table and figure of a sweep in one folder with an index.html.

* :mod:`.build`: :func:`build_report`, the orchestration, and the rules of the report
  folder (it replaces an earlier report whole and never touches anything else);
* :mod:`.figures`: the figures as a list of :class:`FigureSpec` entries;
* :mod:`.html`: the page, from ``templates/`` (HTML, CSS and script as package files).
"""

from .build import (
    MARKER,
    Report,
    build_report,
    bundled_table,
    check_report_folder,
    load_for_report,
)
from .figures import FIGURES, FigureEntry, FigureSpec, ReportContext
from .html import render_html

__all__ = ["FIGURES", "MARKER", "FigureEntry", "FigureSpec", "Report", "ReportContext",
           "build_report", "bundled_table", "check_report_folder", "load_for_report",
           "render_html"]
