"""Errors that reach the responder: each carries an exit code and a one-line hint."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (documented in the README)."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERNAL = 3
    FINDINGS = 4
    INTERRUPTED = 130


class AgentirError(Exception):
    """An error the responder can act on: a one-line message and a hint."""

    exit_code: ExitCode = ExitCode.ERROR
    code: str = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(AgentirError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE
    code = "usage"


class TraceError(AgentirError):
    """A trace file cannot be read at all (missing, binary, unknown format)."""

    code = "unreadable_trace"


class UnknownFormatError(TraceError):
    """No reader recognises the file."""

    code = "unknown_format"


class ConfigError(AgentirError):
    """A settings, policy or runbook file is invalid."""

    code = "invalid_config"


class IncidentError(AgentirError):
    """The incident store refused an operation."""

    code = "incident"


class GitError(AgentirError):
    """A git operation failed or the repository is not in a usable state."""

    code = "git"


class ActionError(AgentirError):
    """A side effect (containment, revert, revocation) failed."""

    code = "action_failed"
