"""What every command shares: consoles, shared options, and the one place errors become exits."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from agentir.errors import AgentirError, ExitCode
from agentir.render.jsonout import dumps, envelope

F = TypeVar("F", bound=Callable[..., Any])

# Shared option declarations (declared once, reused by every command).
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the plan and change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")]


def stdout_console() -> Console:
    """Console for data on stdout (colour follows NO_COLOR / TERM / TTY, as rich does)."""
    return Console(soft_wrap=False, highlight=False)


def stderr_console() -> Console:
    """Console for progress, hints and messages on stderr."""
    return Console(stderr=True, highlight=False)


def print_json(
    command: str,
    data: Any,
    *,
    exit_code: int = 0,
    errors: Sequence[Mapping[str, str]] | None = None,
) -> None:
    """Print the JSON envelope on stdout."""
    sys.stdout.write(dumps(envelope(command, data, exit_code=exit_code, errors=errors)) + "\n")
    sys.stdout.flush()


def _report(
    command: str, code: int, error_code: str, message: str, hint: str | None, as_json: bool
) -> None:
    if as_json:
        print_json(command, None, exit_code=code, errors=[{"code": error_code, "message": message}])
    text = f"agentir {command}: error: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    sys.stderr.write(text + "\n")


def guarded(command: str) -> Callable[[F], F]:
    """Turn AgentirError, Ctrl-C and internal bugs into a one-line message and an exit code."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            as_json = bool(kwargs.get("json_out"))
            try:
                return fn(*args, **kwargs)
            except typer.Exit:
                raise
            except AgentirError as exc:
                _report(command, int(exc.exit_code), exc.code, exc.message, exc.hint, as_json)
                raise typer.Exit(int(exc.exit_code)) from None
            except KeyboardInterrupt:
                sys.stderr.write(f"agentir {command}: interrupted\n")
                raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
            except Exception as exc:  # a bug in agentir, not in the input
                if os.environ.get("AGENTIR_DEBUG"):
                    traceback.print_exc()
                _report(
                    command,
                    int(ExitCode.INTERNAL),
                    "internal",
                    f"internal error: {type(exc).__name__}: {exc}",
                    "this is a bug in agentir; rerun with AGENTIR_DEBUG=1 and report the traceback",
                    as_json,
                )
                raise typer.Exit(int(ExitCode.INTERNAL)) from None

        return wrapper  # type: ignore[return-value]

    return decorate
