"""The root typer app: registers one module per command and runs it."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from agentir import __version__
from agentir.errors import ExitCode

# Each module defines `register(app)`; a module that does not exist yet is skipped.
COMMAND_MODULES = (
    "assess",
    "scan",
    "contain",
    "resume",
    "remediate",
    "review",
    "incident",
    "runbook",
    "gate",
    "respond",
    "drill",
    "guard",
    "watch",
    "replay",
    "similar",
    "demo",
)

app = typer.Typer(
    name="agentir",
    help="Incident response for AI coding agents: contain, assess, remediate, learn.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"agentir {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Incident response for AI coding agents: contain, assess, remediate, learn."""


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"agentir.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"agentir.cli.{name}":
                continue
            raise
        module.register(app)


_register()


def run() -> None:
    """Run the app; a crash outside any command still ends with a message, not a traceback."""
    try:
        app(prog_name="agentir")
    except KeyboardInterrupt:
        sys.stderr.write("agentir: interrupted\n")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # pragma: no cover - last resort
        sys.stderr.write(f"agentir: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(int(ExitCode.INTERNAL))
