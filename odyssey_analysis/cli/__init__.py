"""The ``odyssey`` command line: one module per command, shared pieces in :mod:`.common`.

=========  ====================================================================
command    module
=========  ====================================================================
info       :mod:`.info`: what was detected in a sweep
analyze    :mod:`.analyze`: importance per group and response (importance.csv)
compare    :mod:`.compare`: the variants against the reference (Fig. 3)
guide      :mod:`.guide`: guidelines and a narrowed space for the next sweep
report     :mod:`.report`: everything, with an index.html
sweep      :mod:`odyssey_sweep.command`: run the mini study
=========  ====================================================================

Importing this package imports no scikit-learn, Numba or matplotlib: each command
imports what it needs when it runs.
"""

from __future__ import annotations

import click

from odyssey_sweep.command import sweep

from .analyze import analyze
from .common import install_signal_handlers
from .compare import compare
from .guide import guide
from .info import info
from .report import report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="odyssey-analysis")
def main(debug: bool) -> None:
    """Functional ANOVA and variant comparison for hyperparameter sweeps."""
    install_signal_handlers()


for _command in (info, analyze, compare, guide, report, sweep):
    main.add_command(_command)

__all__ = ["main"]
