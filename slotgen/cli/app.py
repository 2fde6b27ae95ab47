"""The root `slotgen` command and its one error boundary."""

import gc
import logging
import sys
from importlib import import_module
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from slotgen import __version__
from slotgen.cli.output import line, message
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


ROOT_FLAGS = frozenset({"-v", "--verbose", "-q", "--quiet"})
ROOT_VALUES = frozenset({"--log-format", "--log-file"})
COMMAND_VALUES = frozenset({"--database-url"})


def _name(token: str) -> str:
    return token.split("=", 1)[0]


def _is_root_flag(token: str) -> bool:
    """-v, -q, --verbose, --quiet, and bundles of the short ones (-vv, -qv)."""
    return token in ROOT_FLAGS or (
        len(token) > 1 and token[0] == "-" and token[1] != "-" and set(token[1:]) <= {"v", "q"}
    )


def normalize_argv(args: list[str], leaf_options: frozenset[str]) -> list[str]:
    """The logging options and --database-url work before or after the command.

    Ops people type `slotgen generate -q` and `slotgen --database-url URL runs` alike, but
    Click reads an option only at its own level: the root's logging options are moved in
    front of the command (unless the command has an option of that name itself, as
    `crontab --log-file` has), and --database-url behind it. Nothing after `--` moves.
    """
    front: list[str] = []
    middle: list[str] = []
    back: list[str] = []
    rest: list[str] = []
    seen_command = False
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            rest = [token, *tokens]
            break
        name = _name(token)
        moves_front = name not in leaf_options or not seen_command
        if _is_root_flag(token) and moves_front:
            front.append(token)
        elif name in ROOT_VALUES and moves_front:
            front.append(token)
            if "=" not in token:
                front.extend(islice(tokens, 1))
        elif name in COMMAND_VALUES and not seen_command:
            back.append(token)
            if "=" not in token:
                back.extend(islice(tokens, 1))
        else:
            seen_command = seen_command or not token.startswith("-")
            middle.append(token)
    return [*front, *middle, *back, *rest]


COMMANDS: dict[str, str] = {
    "generate": "slotgen.cli.generate:generate_command",
    "release": "slotgen.cli.release:release_command",
    "retry": "slotgen.cli.retry:retry_command",
    "check": "slotgen.cli.check:check_command",
    "crontab": "slotgen.cli.crontab:crontab_command",
    "systemd": "slotgen.cli.systemd:systemd_command",
    "kubernetes": "slotgen.cli.kubernetes:kubernetes_command",
    "dashboard": "slotgen.cli.dashboard:dashboard_command",
    "facilities": "slotgen.cli.facilities:facilities_command",
    "publish": "slotgen.cli.publish:publish_command",
    "slots": "slotgen.cli.slots:slots_command",
    "import": "slotgen.cli.importer:import_command",
    "demo": "slotgen.cli.demo:demo_command",
    "db": "slotgen.cli.db:app",
    "runs": "slotgen.cli.runs:app",
    "rules": "slotgen.cli.rules:app",
    "exceptions": "slotgen.cli.exceptions:app",
    "holidays": "slotgen.cli.holidays:app",
}
"""Every command, in the order `--help` lists them, by the module that holds it.

A command's module is imported when that command runs (or `--help` lists them all), as
Click's lazily loaded subcommands are: `slotgen release` under cron loads one module,
not eighteen.
"""


HELP_MARKUP = None
"""Help is Click's plain text, for every command: it reads the same in a terminal, a pipe
and cron's mail, and leaves out Typer's rich renderer, which loads Markdown and syntax
highlighting (about 35 ms, a third of a bare `import typer, rich.console`)."""


def _load(name: str) -> Any:
    """The Click command of `COMMANDS[name]`: a Typer group, or a function made one."""
    module, attribute = COMMANDS[name].split(":")
    found = getattr(import_module(module), attribute)
    if isinstance(found, typer.Typer):
        found.rich_markup_mode = HELP_MARKUP
        command: Any = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False, rich_markup_mode=HELP_MARKUP)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    _no_metavar_for_help(command)
    return command


class ErrorBoundary(TyperGroup):
    """Turns every error into one line on stderr and a documented exit code.

    Usage errors, `--help` and a deliberate exit pass through to Click. A slotgen error
    exits with its own code; a database error is read once by the database layer; anything
    else is unexpected: one line naming its type, exit 1, and the traceback only in the
    log at DEBUG (`-v`), never in cron's mail.
    """

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Options in either position, and a usage error as one `Error:` line and the
        command's one-line usage (the whole help stays for `--help`)."""
        argv = list(sys.argv[1:] if args is None else args)
        argv = normalize_argv(argv, self._leaf_options(argv))
        _no_metavar_for_help(self)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as exc:
            if not standalone_mode:
                raise
            _usage_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            message("Aborted.")
            sys.exit(ExitCode.FAILED)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def _leaf_options(self, argv: list[str]) -> frozenset[str]:
        """The option names of the command `argv` names (its subcommand, for a group)."""
        command: Any = self
        tokens = iter(argv)
        for token in tokens:
            if _name(token) in ROOT_VALUES | COMMAND_VALUES and "=" not in token:
                next(tokens, None)
            elif not token.startswith("-"):
                lookup = getattr(command, "get_command", None)
                found = lookup(typer.Context(command), token) if lookup else None
                if found is None:
                    break
                command = found
        return frozenset(name for param in command.params for name in param.opts)

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


def _no_metavar_for_help(command: Any) -> None:
    """`-h/--help` is a flag: like every other flag here it shows no `<bool>` in help.

    The command keeps the help option it makes first, so the context it is made in must
    name both spellings, as every context of this app does."""
    help_option = command.get_help_option(typer.Context(command, help_option_names=HELP_OPTIONS))
    if help_option is not None:
        help_option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _no_metavar_for_help(sub)


HELP_OPTIONS = ["-h", "--help"]


def _usage_error(exc: typer.TyperException) -> None:
    if type(exc).__name__ == "NoArgsIsHelpError":
        line(exc.format_message())  # the help, as -h shows it: that is the answer
        return
    message(f"Error: {exc.format_message()}")
    context = getattr(exc, "ctx", None)
    if context is not None:
        usage = context.get_usage().strip()
        message(f"{usage}   ({context.command_path} -h shows every option)")


app = typer.Typer(
    cls=ErrorBoundary,
    help="Keep a clinic booking app's bookable slots in step with its availability rules.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": HELP_OPTIONS},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slotgen {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            metavar="",
            show_default=False,
            help="More log detail (DEBUG).",
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", metavar="", help="Log warnings and errors only.")
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
        typer.Option(
            "--version", metavar="", callback=_version, is_eager=True, help="Print the version."
        ),
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
    """The process: its collector thresholds, the app, and an exit that skips the last
    collection.

    At exit Python runs the cyclic collector over everything the process still holds:
    every module, class and function of SQLAlchemy, Typer and slotgen. Nothing is left to
    finalize by then (the run committed, `atexit` closed the log file and the standard
    streams are flushed apart), so those objects are frozen out of it, and the memory goes
    back to the system with the process. A no-op `slotgen release` took 0.42 s with that
    collection and 0.30 s without, against 0.29 s for the bare UPDATE (2 December 2026).
    """
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        app(prog_name="slotgen")
    finally:
        gc.freeze()
