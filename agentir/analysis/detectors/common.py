"""What every detector shares: the base class, canonical call keys, result signatures,
failure and polling judgements, and short evidence quotes for messages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import orjson

from agentir.analysis.fold import Derived, SessionFold
from agentir.analysis.shell import split_commands
from agentir.analysis.text import clean
from agentir.analysis.tools import shell_command
from agentir.model import Event, Finding, ToolCall, ToolResult
from agentir.policy import Policy

SEVERITY_RANK = {"info": 0, "warning": 1, "high": 2, "critical": 3}
MAX_FINDINGS = 40  # per detector; beyond, one summary finding counts the rest
MAX_SEQS = 30  # evidence seqs kept per finding

# Arguments that change between otherwise identical calls without changing what they do.
_VOLATILE_ARGS = frozenset(
    {"description", "timeout", "yield_time_ms", "max_output_tokens", "thought", "justification"}
)
# Programs whose exit status 1 is an answer ("no match", "differs", "false"), not a failure.
_ANSWER_EXIT_1 = frozenset(
    {"grep", "egrep", "fgrep", "rg", "ag", "ack", "diff", "cmp", "test", "[", "pgrep", "which"}
)
_NOISE = re.compile(
    r"(?=[0-9CWs])(?:"  # a cheap first-character check keeps this fast on long outputs
    r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?"  # ISO timestamps
    r"|\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b"  # clock times
    r"|\b\d+(?:\.\d+)?\s*(?:ms|s|sec|secs|seconds?|minutes?)\b"  # durations
    r"|\b0x[0-9a-fA-F]{6,}\b"  # addresses
    r"|(?:Chunk ID|Wall time|session ID):?\s*\S+)"  # Codex unified-exec headers
)
_POLL_TOOLS = frozenset(
    {"bashoutput", "taskoutput", "write_stdin", "read_output", "get_output", "check_output"}
)
_POLL_PROGRAMS = frozenset(
    {"sleep", "watch", "wait", "tail", "ps", "pgrep", "jobs", "uptime", "top", "nvidia-smi"}
)
_POLL_SUBCOMMANDS = {
    "gh": {"run", "pr", "workflow"},
    "glab": {"ci", "mr"},
    "kubectl": {"get", "describe", "logs", "rollout", "wait", "top"},
    "docker": {"ps", "logs", "inspect", "stats"},
    "podman": {"ps", "logs", "inspect"},
    "docker-compose": {"ps", "logs"},
    "git": {"status", "log", "fetch"},
    "systemctl": {"status", "is-active"},
    "helm": {"status"},
}
# Texts that say the model ran out of context (reported by the context detector only).
OUT_OF_ROOM = (
    "prompt is too long",
    "context length",
    "context window",
    "context_length_exceeded",
    "exit_context",
    "maximum context",
)
_LOCAL_URL = re.compile(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])[:/]")


def digest(text: str) -> str:
    """A short stable hash."""
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).hexdigest()


def quote(text: str, limit: int = 80) -> str:
    """Redacted one-line excerpt of untrusted text for a finding message."""
    one = " ".join(clean(text, 2 * limit).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def call_text(call: ToolCall) -> str:
    """What a call does, for messages: its command line, else its name and main argument."""
    command = shell_command(call)
    if command is not None:
        return command
    text = call.name
    for key in ("file_path", "path", "url", "pattern", "query", "action"):
        value = call.args.get(key)
        if isinstance(value, str) and value:
            text = f"{call.name} {value}"
            break
    for key in ("old_str", "old_string", "command"):  # which edit, when a file gets several
        value = call.args.get(key)
        if isinstance(value, str) and value and value not in text:
            return f"{text} ({key}={' '.join(value.split())[:40]})"
    return text


def call_key(call: ToolCall) -> str:
    """Canonical identity of a call: the whitespace-normalised command, or name + sorted args."""
    command = shell_command(call)
    if command is not None:
        return digest("sh\x00" + " ".join(command.split()))
    args = {k: v for k, v in call.args.items() if k not in _VOLATILE_ARGS}
    try:
        body = orjson.dumps(args, option=orjson.OPT_SORT_KEYS, default=str).decode()
    except TypeError:
        body = repr(sorted(args.items(), key=lambda kv: kv[0]))
    return digest(call.name.lower() + "\x00" + body)


def signature(result: ToolResult | None) -> str:
    """What a result said, stable across runs whose output differs only by times or ids."""
    if result is None:
        return "none"
    status = "ok" if result.ok else ("fail" if result.ok is False else "?")
    text = result.output
    if text and "characters cut]" not in text:  # the whole output is here: normalise it
        body = digest(_NOISE.sub("#", text))
    else:  # only an excerpt is kept: trust the reader's hash of the whole output
        body = result.output_digest or digest(text)
    return f"{status}:{result.exit_code}:{body}"


def _last_program(command: str | None) -> str:
    if not command:
        return ""
    try:
        cmds = split_commands(command[:4000])
    except Exception:  # a parser hiccup must never hide a failure
        return ""
    return cmds[-1].program if cmds else ""


def is_failure(result: ToolResult | None, call: ToolCall | None) -> bool | None:
    """True / False when the result says whether the call failed; None when it cannot tell."""
    if result is None:
        return None
    if result.ok is None and result.exit_code is None:
        return None
    failed = result.ok is False or (result.ok is None and result.exit_code not in (None, 0))
    answer = failed and result.exit_code == 1 and call is not None
    if answer and _last_program(shell_command(call)) in _ANSWER_EXIT_1:  # type: ignore[arg-type]
        return False
    return failed


def is_polling(call: ToolCall) -> bool:
    """A sleep / wait / status / log-tail call, which legitimately repeats while output changes."""
    name = call.name.lower()
    if name in _POLL_TOOLS or name in ("sleep", "wait"):
        return True
    command = shell_command(call)
    if not command:
        return False
    try:
        cmds = split_commands(command[:4000])
    except Exception:
        return False
    for cmd in cmds:
        prog = cmd.program
        ops = [a for a in cmd.argv[1:] if not a.startswith("-")]
        if prog in _POLL_PROGRAMS:
            return True
        if prog in _POLL_SUBCOMMANDS and ops and ops[0] in _POLL_SUBCOMMANDS[prog]:
            return True
        if prog == "docker" and ops[:2] == ["compose", "ps"]:
            return True
        if prog in ("curl", "wget", "http") and any(_LOCAL_URL.search(a) for a in cmd.argv):
            return True  # a health check against a local server being started
    return False


def chain(event: Event) -> str:
    """The agent (main or a subagent) an event belongs to: loops are judged per agent."""
    return event.sidechain or ""


def seq_list(seqs: Iterable[int]) -> str:
    """`12, 18, 24 …` for a message (the first six; the finding's seqs hold more)."""
    items = list(seqs)
    text = ", ".join(map(str, items[:6]))
    return text + (" …" if len(items) > 6 else "")


class Detector:
    """Base of every detector: collects findings (bounded) and exposes them at `finish`.

    Findings are kept as they are found (`found`), so a live watcher can read them
    before the session ends; a finding may later be upgraded or withdrawn.
    """

    name: ClassVar[str] = "detector"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.found: dict[int, Finding] = {}  # id -> finding; a withdrawn one is removed
        self.next_id = 0
        self.dropped = 0

    def emit(
        self,
        severity: str,
        message: str,
        seqs: Iterable[int],
        source: object = None,
        **data: Any,
    ) -> int | None:
        """Record a finding; returns its id (for upgrades), None when over the cap."""
        if len(self.found) >= MAX_FINDINGS:
            self.dropped += 1
            return None
        payload: dict[str, Any] = dict(data)
        if source is not None:
            payload["source"] = str(source)
        kept = tuple(dict.fromkeys(seqs))[:MAX_SEQS]
        self.next_id += 1
        self.found[self.next_id] = Finding(self.name, severity, message, kept, payload)
        return self.next_id

    def update(
        self,
        index: int | None,
        severity: str | None = None,
        message: str | None = None,
        seqs: Iterable[int] | None = None,
        **data: Any,
    ) -> None:
        """Change a recorded finding (severity, message, evidence, data)."""
        old = self.found.get(index) if index is not None else None
        if index is None or old is None:
            return
        merged: Mapping[str, Any] = {**old.data, **data}
        self.found[index] = Finding(
            self.name,
            severity or old.severity,
            message or old.message,
            tuple(dict.fromkeys(seqs))[:MAX_SEQS] if seqs is not None else old.seqs,
            merged,
        )

    def withdraw(self, index: int | None) -> None:
        """Drop a finding that later evidence refuted (a retry that succeeded)."""
        if index is not None:
            self.found.pop(index, None)

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Observe one event (detectors override what they need)."""

    def final(self, fold: SessionFold) -> None:
        """Checks that need the whole session (override)."""

    def finish(self, fold: SessionFold) -> list[Finding]:
        """Every finding still standing, plus a note when some were left out."""
        self.final(fold)
        out = list(self.found.values())
        if self.dropped:
            out.append(
                Finding(
                    self.name,
                    "info",
                    f"{self.dropped} more {self.name} finding(s) not listed",
                    (),
                    {"omitted": self.dropped},
                )
            )
        return out
