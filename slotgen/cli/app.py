"""The root `slotgen` command and its one error boundary."""

import gc
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from slotgen import __version__
from slotgen.cli import (
    check,
    crontab,
    dashboard,
    db,
    demo,
    exceptions,
    generate,
    importer,
    release,
    retry,
    rules,
    runs,
    slots,
)
from slotgen.cli.output import message
from slotgen.errors import ExitCode, SlotgenError, first_line
from slotgen.logs import LogFormat, configure

log = logging.getLogger("slotgen.cli")


def _as_slotgen_error(exc: Exception) -> SlotgenError | None:
    """A database error's meaning (unreachable: 3, else 1), decided by the database layer.

    Imported only when a SQLAlchemy error is in hand, so commands that never touch the
    database never import SQLAlchemy.
    """
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None
    from slotgen.services.failures import as_slotgen_error, is_database_error

    return as_slotgen_error(exc) if is_database_error(exc) else None


class ErrorBoundary(TyperGroup):
    """Turns every error into one line on stderr and a documented exit code.

    Usage errors, `--help` and a deliberate exit pass through to Click. A slotgen error
    exits with its own code; a database error is read once by the database layer; anything
    else is unexpected: one line naming its type, exit 1, and the traceback only in the
    log at DEBUG (`-v`), never in cron's mail.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:
            raise  # the reader went away (`slotgen runs | head`): Click ends quietly
        except SlotgenError as exc:
            log.debug("error", exc_info=True)
            message(f"Error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            known = _as_slotgen_error(exc)
            if known is not None:
                log.debug("database error", exc_info=True)
                message(f"Error: {known}")
                raise typer.Exit(known.exit_code) from None
            log.debug("unexpected error", exc_info=True)
            message(
                f"Error: unexpected {type(exc).__name__}: {first_line(exc)} "
                "(run with -v for the traceback)"
            )
            raise typer.Exit(ExitCode.FAILED) from None


app = typer.Typer(
    cls=ErrorBoundary,
    help="Keep a clinic booking app's bookable slots in step with its availability rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.command("generate")(generate.generate_command)
app.command("release")(release.release_command)
app.command("retry")(retry.retry_command)
app.add_typer(runs.app, name="runs")
app.command("check")(check.check_command)
app.command("crontab")(crontab.crontab_command)
app.command("dashboard")(dashboard.dashboard_command)
app.add_typer(rules.app, name="rules")
app.add_typer(exceptions.app, name="exceptions")
app.command("slots")(slots.slots_command)
app.command("import")(importer.import_command)
app.command("demo")(demo.demo_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slotgen {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log detail (DEBUG).")
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Log warnings and errors only.")
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(envvar="SLOTGEN_LOG_FORMAT", show_envvar=True, help="Log line format."),
    ] = LogFormat.TEXT,
    log_file: Annotated[
        Path | None,
        typer.Option(
            envvar="SLOTGEN_LOG_FILE",
            show_envvar=True,
            dir_okay=False,
            help="Append log lines to this file instead of stderr.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Keep a clinic booking app's bookable slots in step with its availability rules."""
    configure(-1 if quiet else verbose, log_format, log_file)


COLLECTOR_THRESHOLDS = (50_000, 20, 20)
"""The cyclic collector's thresholds for a slotgen process.

Planning allocates hundreds of thousands of tuples it keeps, none in a reference cycle;
at Python's default (a young collection every 700 allocations) the collector rescans
them so often that it doubled the planning time of workload W (0.73 s against 0.34 s
with these thresholds, 0.29 s with it off). The process owner sets this, not the pure
core: cycles are still collected, only less often.
"""


def main() -> None:
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    app(prog_name="slotgen")
