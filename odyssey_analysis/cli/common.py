"""What every command shares: consoles, error handling and exit statuses, the options that
read trials, and the rule that no output replaces an input.

Exit status: 0 on success, 2 on bad input (one line naming file, row and column; no
traceback unless ``--debug``), 1 on an internal error, 130 on Ctrl-C and 143 on SIGTERM
(worker processes are stopped, temporary files removed).

Text from the data is printed as text, never as console markup (:func:`text`).
Nothing here imports the analysis; heavy modules are imported inside the commands.
"""

from __future__ import annotations

import functools
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

from ..atomic import check_writable
from ..errors import FitQualityWarning, InputError, MissingExtraError, one_line

if TYPE_CHECKING:
    from ..trials import TrialTable

# Lines are never broken by the console (soft wrap): a log read with grep, or a terminal
# narrower than a message, keeps each message on one line; tables fit the width.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def text(value: Any, style: str = "") -> Text:
    """``value`` as console text, never read as markup (``[/x]`` prints as itself)."""
    return Text(str(value), style=style)


class Terminated(BaseException):
    """The process received SIGTERM (raised in the main thread, like KeyboardInterrupt)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def install_signal_handlers() -> None:
    """Turn SIGTERM into :class:`Terminated`, so that clean-up code runs."""
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (e.g. inside a test runner's worker)
        pass


def stop_workers() -> None:
    """End joblib's worker processes at once (they would outlive an interrupted run)."""
    if "joblib" not in sys.modules:  # no worker was started
        return
    try:
        from joblib.externals.loky import get_reusable_executor
    except ImportError:  # pragma: no cover - joblib always ships loky
        return
    get_reusable_executor().shutdown(wait=False, kill_workers=True)


def _os_error_line(exc: OSError) -> str:
    where = exc.filename if exc.filename is not None else ""
    what = exc.strerror or type(exc).__name__
    return f"{where}: {what}" if where else what


#: Each setting's Python name -> the command line's flag for it (the one table of them:
#: errors raised by the library name the setting as Python spells it, and the command
#: line shows them under the flag).
FLAGS = {
    "n_trees": "--trees",
    "seed": "--seed",
    "max_depth": "--max-depth",
    "min_samples_leaf": "--min-samples-leaf",
    "max_features": "--max-features",
    "bootstrap": "--no-bootstrap",
    "cutoffs": "--cutoff",
    "cutoff_quantiles": "--cutoff-quantile",
    "pairs": "--no-pairs",
    "estimator": "--estimator",
    "n_bootstrap": "--bootstrap",
    "conf_level": "--conf-level",
    "method": "--method",
    "top_quantile": "--top-quantile",
    "min_trials": "--min-trials",
    "n_jobs": "--jobs",
    "surrogate": "--surrogate",
    # reading the trials (load_trials)
    "format": "--format",
    "space": "--space",
    "hyperparameters": "--param",
    "responses": "--response",
    "group_by": "--group-by",
    "maximize": "--maximize",
    "minimize": "--minimize",
    "on_diverged": "--on-diverged",
    "on_crashed": "--on-crashed",
    "budget": "--budget",
    "study": "--option study=",
    # the comparison's and the figures' roles (compare, build_report)
    "task_key": "--task-key",
    "variant_key": "--variant-key",
    "reference": "--reference",
    "metric": "--metric",
    "select_by": "--select-by",
    "time_response": "--time",
    "params_column": "--params-column",
    "out_dir": "--out",
}


def as_flags(exc: InputError) -> InputError:
    """``exc`` with the settings it names spelled as the command line's flags."""
    return exc.renamed(FLAGS)


def handle_errors(fn: Callable) -> Callable:
    """Turn exceptions into the exit statuses above (use under ``@click.command``)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = kwargs.get("debug", False) or ctx.find_root().params.get("debug", False)
        try:
            with warnings.catch_warnings():  # the console's tables mark such fits (⚠)
                warnings.simplefilter("ignore", FitQualityWarning)
                return fn(*args, **kwargs)
        except (InputError, MissingExtraError) as exc:
            if debug:
                traceback.print_exc()
            shown = as_flags(exc) if isinstance(exc, InputError) else exc
            click.echo(one_line(f"error: {shown}"), err=True)
            sys.exit(2)
        except OSError as exc:  # unreadable input, read-only output folder, full disk
            if debug:
                traceback.print_exc()
            click.echo(one_line(f"error: {_os_error_line(exc)}"), err=True)
            sys.exit(2)
        except (KeyboardInterrupt, Terminated) as exc:
            stop_workers()
            name = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
            click.echo(f"{name}: stopped; nothing was left half-written", err=True)
            sys.exit(130 if isinstance(exc, KeyboardInterrupt) else 143)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if debug:
                traceback.print_exc()
            else:
                click.echo(one_line(f"internal error: {type(exc).__name__}: {exc} "
                                    "(run again with --debug for the traceback)"), err=True)
            sys.exit(1)

    return wrapper


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` strings to reader options (numbers become numbers)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"--option needs KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        parsed: Any = value
        for cast in (int, float):
            try:
                parsed = cast(value)
                break
            except ValueError:
                continue
        options[key.strip()] = parsed
    return options


def parse_thresholds(pairs: tuple[str, ...]) -> dict[str, float]:
    """``COLUMN=NUMBER`` strings to divergence thresholds."""
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"--diverged-threshold needs COLUMN=NUMBER, got {pair!r}"
                             ) from None
    return out


#: The keyword arguments that :func:`table_options` adds.
TABLE_KEYS = ("table", "fmt", "space", "columns_spec", "params", "responses", "group_by",
              "no_groups", "status", "on_diverged", "on_crashed", "maximize", "minimize",
              "diverged_threshold", "reader_options", "budget")


def table_options(fn: Callable | None = None, *, optional: bool = False) -> Callable:
    """Options shared by every command that reads trials (``TABLE`` optional on demand)."""

    def apply(fn: Callable) -> Callable:
        decorators = [
            click.argument("table", type=str, required=not optional),
            click.option("--format", "fmt", default=None,
                         help="Source format (default: detected from the path)."),
            click.option("--space", type=click.Path(dir_okay=False), default=None,
                         help="Search space: ConfigSpace JSON or our YAML/JSON spec; "
                              "'none' declines the space the source records (inferred "
                              "from the data instead)."),
            click.option("--columns", "columns_spec", type=click.Path(dir_okay=False),
                         default=None, help="Column roles from a YAML/JSON file "
                                            "(group_by, responses, variant, ...)."),
            click.option("--param", "params", multiple=True,
                         help="Hyperparameter column (repeat; default: the space's names)."),
            click.option("--response", "responses", multiple=True,
                         help="Response column (repeat; default: metric-like columns)."),
            click.option("--group-by", "group_by", multiple=True,
                         help="Group key column (repeat; default: task and variant if "
                              "present)."),
            click.option("--no-groups", is_flag=True, help="Analyse all trials as one group."),
            click.option("--status", default=None, help="Status column (only finished runs)."),
            click.option("--on-diverged", type=click.Choice(["drop", "worst", "error"]),
                         default=None,
                         help="Runs with NaN/inf metrics: drop (default; counted), worst "
                              "value of the group, or error."),
            click.option("--on-crashed", type=click.Choice(["drop", "worst"]), default=None,
                         help="Runs the source records as failed (crashed, timed out): drop "
                              "(default; counted), or worst value of each response (as "
                              "DeepCAVE counts them)."),
            click.option("--maximize", multiple=True,
                         help="Response where larger is better (repeat; names such as "
                              "accuracy or f1 tell by themselves)."),
            click.option("--minimize", multiple=True,
                         help="Response where smaller is better (repeat; loss, error, time "
                              "... tell by themselves)."),
            click.option("--diverged-threshold", "diverged_threshold", multiple=True,
                         help="COLUMN=VALUE: runs worse than VALUE count as diverged "
                              "(repeat)."),
            click.option("--budget", default=None,
                         help="Keep one budget (fidelity) of a multi-fidelity run: a value, "
                              "or 'max' (default: each budget is a group of its own)."),
            click.option("--option", "-O", "reader_options", multiple=True,
                         help="Reader option KEY=VALUE (repeat), e.g. -O study=mystudy."),
            click.option("--debug", is_flag=True, help="Show tracebacks."),
        ]
        for dec in reversed(decorators):
            fn = dec(fn)
        return fn

    return apply(fn) if fn is not None else apply


def pop_table_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take :func:`table_options`' values out of a command's keyword arguments."""
    return {k: kwargs.pop(k) for k in TABLE_KEYS}


def load_from_options(options: dict[str, Any]) -> TrialTable:
    """Load trials as the shared options say (command-line options beat the spec file)."""
    from ..loaders import load_trials

    o = options
    return load_trials(
        o["table"], format=o["fmt"], space=o["space"],
        hyperparameters=list(o["params"]) or None, responses=list(o["responses"]) or None,
        group_by=[] if o["no_groups"] else (list(o["group_by"]) or None), status=o["status"],
        on_diverged=o["on_diverged"], on_crashed=o["on_crashed"],
        maximize=list(o["maximize"]),
        minimize=list(o["minimize"]),
        diverged_threshold=parse_thresholds(o["diverged_threshold"]) or None,
        columns=o["columns_spec"], **_with_budget(o["budget"], parse_options(o["reader_options"])))


def _with_budget(budget: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """``--budget`` joined to the reader options (``-O budget=...`` is the same option)."""
    if budget is not None and options.get("budget", budget) != budget:
        raise InputError(f"--budget {budget} and -O budget={options['budget']} disagree")
    if budget is not None:
        options["budget"] = budget
    return options


def input_paths(options: dict[str, Any], table: Any = None) -> list[Path]:
    """The files a command reads (table, space, column spec, store), to protect them."""
    from ..loaders._common import local_path, sqlite_file

    paths = []
    source = str(options.get("table") or (table.source if table is not None else "") or "")
    if source:
        db = sqlite_file(source)
        paths.append(db if db is not None else local_path(source))
    for key in ("space", "columns_spec"):
        if options.get(key) and str(options[key]).strip().lower() != "none":
            paths.append(Path(options[key]))
    return [p for p in paths if p.exists()]


def check_outputs(out_dir: Path, names: Iterable[str], inputs: Iterable[Path]) -> None:
    """Refuse to write an output over an input (or into a folder that is an input file).

    Raises
    ------
    InputError
        Naming the input that would be overwritten.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("the output folder is a file", file=str(out_dir),
                         hint="choose another --out folder")
    check_writable(out_dir)
    real_inputs = {p.resolve(): p for p in inputs}
    for name in names:
        target = (out_dir / name).resolve()
        if target in real_inputs:
            raise InputError(f"refusing to overwrite the input with {name}",
                             file=str(real_inputs[target]), hint="choose another --out folder")


def check_jobs(jobs: int | None) -> None:
    """``--jobs``: a number of cores (1 or more), or a negative number for all but some.

    Raises
    ------
    InputError
        For ``--jobs 0``, which would name no core at all.
    """
    if jobs is not None and jobs == 0:
        raise InputError("--jobs 0 names no core to run on",
                         hint="give 1 or more cores, or -1 for all of them")


def parse_max_features(value: str) -> float | int | str:
    """``--max-features``: a fraction, a whole number, ``sqrt`` or ``log2``."""
    if value in ("sqrt", "log2"):
        return value
    try:
        return int(value) if value.isdigit() else float(value)
    except ValueError:
        raise InputError(f"--max-features must be a number, 'sqrt' or 'log2', got {value!r}"
                         ) from None
