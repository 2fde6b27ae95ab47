"""The root `slotgen` command and its one error boundary."""

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from slotgen import __version__
from slotgen.cli import db, exceptions, rules, runs
from slotgen.cli.check import check_command
from slotgen.cli.common import stderr
from slotgen.cli.crontab import crontab_command
from slotgen.cli.dashboard import dashboard_command
from slotgen.cli.demo import demo_command
from slotgen.cli.generate import generate_command
from slotgen.cli.importer import import_command
from slotgen.cli.logs import LogFormat, configure
from slotgen.cli.release import release_command
from slotgen.cli.retry import retry_command
from slotgen.cli.slots import slots_command
from slotgen.db.database import first_line
from slotgen.errors import ExitCode, SlotgenError

log = logging.getLogger("slotgen.cli")


class ErrorBoundary(TyperGroup):
    """Turns every error into one line on stderr and a documented exit code.

    The traceback goes to the log at DEBUG (`-v`), never to cron's mail or the terminal.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SlotgenError as exc:
            stderr.print(f"Error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except SQLAlchemyError as exc:
            log.debug("database error", exc_info=True)
            stderr.print(f"Error: database error: {first_line(exc)}", markup=False)
            raise typer.Exit(ExitCode.FAILED) from None
        except BrokenPipeError:
            raise  # the reader went away (`slotgen runs | head`): Click ends quietly
        except (OSError, ValueError, LookupError, RuntimeError, TypeError) as exc:
            if isinstance(exc, typer.Exit):
                raise
            log.debug("unexpected error", exc_info=True)
            stderr.print(f"Error: {type(exc).__name__}: {first_line(exc)}", markup=False)
            raise typer.Exit(ExitCode.FAILED) from None


app = typer.Typer(
    cls=ErrorBoundary,
    help="Keep a clinic booking app's bookable slots in step with its availability rules.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.command("generate")(generate_command)
app.command("release")(release_command)
app.command("retry")(retry_command)
app.add_typer(runs.app, name="runs")
app.command("check")(check_command)
app.command("crontab")(crontab_command)
app.command("dashboard")(dashboard_command)
app.add_typer(rules.app, name="rules")
app.add_typer(exceptions.app, name="exceptions")
app.command("slots")(slots_command)
app.command("import")(import_command)
app.command("demo")(demo_command)


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


def main() -> None:
    app(prog_name="slotgen")
