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

import importlib

import click

from .common import install_signal_handlers

#: Each command's module and name, imported when the command is asked for (a run
#: imports only its own command; ``--help`` imports them all for their summaries).
COMMANDS = {"info": ".info:info", "analyze": ".analyze:analyze",
            "compare": ".compare:compare", "guide": ".guide:guide",
            "report": ".report:report", "sweep": "odyssey_sweep.command:sweep"}


class _LazyGroup(click.Group):
    """A group that imports a command's module the first time the command is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module, __name__), name)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="odyssey-analysis")
def main(debug: bool) -> None:
    """Functional ANOVA and variant comparison for hyperparameter sweeps."""
    install_signal_handlers()


__all__ = ["main"]
