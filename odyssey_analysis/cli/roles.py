"""The options that name what the comparison and the figures use (``compare``, ``report``)."""

from __future__ import annotations

from typing import Any

import click

from .common import err_console, text

ROLE_KEYS = ("task_key", "variant_key", "reference", "metric", "select_by", "params_column")


def role_options(fn: Any) -> Any:
    """``--task-key``, ``--variant-key``, ``--reference``, ``--metric``, ``--select-by``,
    ``--params-column`` and the test's settings (``--top``, ``--alpha``, ``--holm``)."""
    decorators = [
        click.option("--metric", default=None,
                     help="The compared metric (default: test_error, else the first response)."),
        click.option("--select-by", default=None,
                     help="The column whose best values pick the top runs (default: the "
                          "metric's validation twin, e.g. valid_error or val_acc)."),
        click.option("--top", "top_fraction", default=0.1, show_default=True, type=float,
                     help="Share of each variant's trials that form its top runs."),
        click.option("--reference", default=None,
                     help="The variant every other one is compared with (default: V, else "
                          "the first)."),
        click.option("--alpha", default=0.05, show_default=True, type=float,
                     help="Significance level of Welch's t-test."),
        click.option("--holm", is_flag=True, help="Holm's correction within each task."),
        click.option("--task-key", default=None,
                     help="Task column (default: 'task' where present)."),
        click.option("--variant-key", default=None,
                     help="Model-variant column (default: 'variant' where present)."),
        click.option("--params-column", default=None,
                     help="Parameter-count column of Fig. 3 (default: n_params, num_params, "
                          "... where present)."),
    ]
    for dec in reversed(decorators):
        fn = dec(fn)
    return fn


def pop_roles(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the role options out of a command's keyword arguments."""
    return {k: kwargs.pop(k) for k in ROLE_KEYS}


def report_choices(choices: Any) -> None:
    """Say on the console which defaults were applied and which choices are doubtful."""
    for line in choices.chosen:
        err_console.print(text(f"default: {line}"))
    for line in choices.warnings:
        err_console.print(text(f"note: {line}", "yellow"))
