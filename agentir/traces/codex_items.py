"""Pure helpers for Codex records: shell commands, tool outputs, patch results, injected text.

Nothing here reads files or keeps state; `agentir.traces.codex` calls these per record.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentir.analysis.patches import parse_apply_patch
from agentir.model import FileChange, FileOp
from agentir.traces.base import as_dict, as_int, as_str, loads, opt_int

# Shells whose `-c` / `-lc` argument is the real command line.
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "fish", "pwsh", "powershell"}
_SHELL_FLAGS = {"-c", "-lc", "-cl", "-ilc", "-ic", "-l -c", "-Command", "-command"}

# Tools whose arguments hold a shell command, and the argument key that holds it.
_COMMAND_KEYS = {
    "shell": "command",
    "container.exec": "command",
    "shell_command": "command",
    "exec_command": "cmd",
    "local_shell": "command",
}


@dataclass(frozen=True, slots=True)
class CallShape:
    """What a tool call does, as far as its arguments tell."""

    command: str | None = None
    cwd: str | None = None
    changes: tuple[FileChange, ...] = ()


def argv_to_command(argv: list[Any]) -> str:
    """The command line of an argv list; `bash -lc X` is X itself."""
    parts = [str(a) for a in argv]
    if len(parts) >= 3 and parts[0].rsplit("/", 1)[-1] in _SHELLS and parts[1] in _SHELL_FLAGS:
        return " ".join(parts[2:]) if len(parts) > 3 else parts[2]
    return shlex.join(parts)


def _patch_in_command(command: str | None, argv: list[Any] | None) -> tuple[FileChange, ...]:
    # Codex intercepts `apply_patch` run through the shell: as argv ["apply_patch", patch]
    # or as a heredoc (`apply_patch <<'PATCH' ... PATCH`), the usual form in 0.3x-0.5x.
    if argv and len(argv) == 2 and str(argv[0]) in ("apply_patch", "applypatch"):
        return parse_apply_patch(str(argv[1]))
    if command and "apply_patch" in command and "*** Begin Patch" in command:
        return parse_apply_patch(command)
    return ()


def call_shape(name: str, args: Mapping[str, Any]) -> CallShape:
    """Command line, working directory and intended file changes of a tool call."""
    workdir = args.get("workdir", args.get("cwd"))
    cwd = workdir if isinstance(workdir, str) and workdir else None
    if name == "apply_patch":
        patch = args.get("input", args.get("patch", args.get("raw")))
        return CallShape(
            cwd=cwd, changes=parse_apply_patch(patch) if isinstance(patch, str) else ()
        )
    key = _COMMAND_KEYS.get(name)
    if key is None:
        return CallShape(cwd=cwd)
    raw = args.get(key, args.get("command") if key != "command" else None)
    argv = raw if isinstance(raw, list) else None
    if argv is not None:
        command: str | None = argv_to_command(argv) if argv else None
    elif isinstance(raw, str) and raw:
        command = raw
    else:
        command = None
    return CallShape(command=command, cwd=cwd, changes=_patch_in_command(command, argv))


# --------------------------------------------------------------------------- tool outputs

_EXIT_CODE = re.compile(r"^(?:Exit code:|Process exited with code)\s*(-?\d+)", re.MULTILINE)
_OUTPUT_SECTION = re.compile(r"^Output:\n", re.MULTILINE)
_RUN_HEADER = re.compile(r"^(?:Wall time:|Chunk ID:|Process running with session ID)", re.MULTILINE)
_FAILURE_PREFIXES = ("err:", "execution error:")
_ENVELOPE_KEYS = {"output", "content", "text", "metadata", "success", "isError"}


def _is_content_item(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)


@dataclass(frozen=True, slots=True)
class OutputInfo:
    """What a tool output says: its text, exit code and success."""

    text: str
    exit_code: int | None = None
    ok: bool | None = None


def content_text(value: Any) -> str:
    """Text of a content item, a list of content items, or a plain string."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("text", "output", "content"):
            inner = value.get(key)
            if isinstance(inner, (str, list, dict)):
                return content_text(inner)
        return ""
    if isinstance(value, list):
        text = ""
        for piece in (content_text(item) for item in value):
            if piece:
                # separate items by a line break unless the previous one ended with one
                text = f"{text}\n{piece}" if text and not text.endswith("\n") else text + piece
        return text
    return ""


def _from_json_text(text: str) -> Any:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return loads(stripped)
    except ValueError:
        return None


def parse_output(output: Any) -> OutputInfo:
    """Text, exit code and success of a function / custom tool output in any Codex shape."""
    exit_code: int | None = None
    success: bool | None = None
    value = output
    if isinstance(value, str):
        parsed = _from_json_text(value)
        # only Codex's own envelopes are unwrapped; other JSON a tool printed stays text
        if (isinstance(parsed, dict) and _ENVELOPE_KEYS.intersection(parsed)) or (
            isinstance(parsed, list) and parsed and all(_is_content_item(i) for i in parsed)
        ):
            value = parsed
    if isinstance(value, dict):
        meta = as_dict(value.get("metadata"))
        exit_code = opt_int(meta.get("exit_code", value.get("exit_code")))
        flag = value.get("success")
        success = flag if isinstance(flag, bool) else None
        if value.get("isError") is True:
            success = False
        text = content_text(value)
    elif isinstance(value, list):
        text = content_text(value)
    else:
        text = value if isinstance(value, str) else ""
    if exit_code is None:
        # unified exec / shell_command text: a short header, then "Output:" and the output
        section = _OUTPUT_SECTION.search(text[:1000])
        header = text[: section.start()] if section else text[:300]
        match = _EXIT_CODE.search(header)
        if match:
            exit_code = int(match.group(1))
        if section and (match or _RUN_HEADER.search(header)):
            text = text[section.end() :]
    if exit_code is not None:
        ok: bool | None = exit_code == 0
    elif success is not None:
        ok = success
    elif text.lstrip().lower().startswith(_FAILURE_PREFIXES):
        ok = False
    elif text.startswith("Success. Updated the following files"):
        ok = True
    else:
        ok = None
    return OutputInfo(text=text, exit_code=exit_code, ok=ok)


_SUMMARY_LINE = re.compile(r"^([AMD]) (.+?)\s*$")
_SUMMARY_OPS = {"A": FileOp.CREATE, "M": FileOp.EDIT, "D": FileOp.DELETE}


def patch_success_changes(text: str) -> tuple[FileChange, ...]:
    """Files listed by apply_patch's `Success. Updated the following files:` summary."""
    start = text.find("Success. Updated the following files:")
    if start < 0:
        return ()
    changes: list[FileChange] = []
    for line in text[start:].splitlines()[1:]:
        match = _SUMMARY_LINE.match(line)
        if not match:
            break
        changes.append(FileChange(path=match.group(2), op=_SUMMARY_OPS[match.group(1)]))
    return tuple(changes)


def _diff_counts(diff: Any) -> tuple[int | None, int | None]:
    if not isinstance(diff, str) or "@@" not in diff:
        return None, None  # absent or not a diff (e.g. redacted): counts unknown
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def patch_event_changes(changes: Any) -> tuple[FileChange, ...]:
    """Files of a `patch_apply_end` / `patch_apply_begin` `changes` map (old and new shapes)."""
    result: list[FileChange] = []
    for path, spec in as_dict(changes).items():
        spec = as_dict(spec)
        kind = spec.get("type")
        if not isinstance(kind, str):
            # older protocol: externally tagged {"add": {...}} / {"update": {...}}
            tags = [k for k in spec if k in ("add", "delete", "update")]
            if len(tags) != 1:
                continue
            kind, spec = tags[0], as_dict(spec[tags[0]])
        move = spec.get("move_path")
        added: int | None
        removed: int | None
        if kind == "add":
            op, content = FileOp.CREATE, spec.get("content")
            added, removed = (
                (len(content.splitlines()), 0) if isinstance(content, str) else (None, None)
            )
        elif kind == "delete":
            op, content = FileOp.DELETE, spec.get("content")
            added, removed = (
                (0, len(content.splitlines())) if isinstance(content, str) else (None, None)
            )
        elif kind == "update":
            op = FileOp.RENAME if isinstance(move, str) and move else FileOp.EDIT
            added, removed = _diff_counts(spec.get("unified_diff"))
        else:
            continue
        dest = move if op is FileOp.RENAME else None
        result.append(FileChange(path=str(path), op=op, dest=dest, added=added, removed=removed))
    return tuple(result)


# --------------------------------------------------------------------------- injected text

# Harness text stored as user-role messages (codex-rs `is_session_prefix`, user_instructions).
_INJECTED_PREFIXES: tuple[tuple[str, str], ...] = (
    ("<environment_context>", "environment-context"),
    ("<context_update>", "environment-context"),
    ("<user_instructions>", "instructions"),
    ("# agents.md instructions", "instructions"),
    ("<instructions>", "instructions"),
    ("<skill>", "instructions"),
    ("<permissions instructions>", "instructions"),
    ("<user_shell_command>", "command"),
    ("<turn_aborted>", "meta"),
    ("<subagent_notification>", "meta"),
    ("<tool_context>", "meta"),
    ("<reasoning_context>", "meta"),
    ("<pinned_notes>", "meta"),
)
_SUMMARY_PREFIXES = (
    "another language model started to solve this problem",
    "you were originally given instructions from a user over one or more turns",
)


def injected_kind(text: str) -> str | None:
    """Why a user-role text is harness-injected rather than the user's intent; None when real."""
    head = text.lstrip()[:120].lower()
    for prefix, kind in _INJECTED_PREFIXES:
        if head.startswith(prefix):
            return kind
    if head.startswith(_SUMMARY_PREFIXES):
        return "compaction-summary"
    if "<INSTRUCTIONS>" in text[:2000] and head.startswith("#"):
        return "instructions"
    return None


_ENV_TAG = re.compile(
    r"<(cwd|approval_policy|sandbox_mode|network_access)>\s*(.*?)\s*</\1>", re.DOTALL
)


def environment_context(text: str) -> dict[str, Any]:
    """cwd, approval policy, sandbox mode and network access stated by an <environment_context>."""
    found: dict[str, Any] = {}
    for tag, value in _ENV_TAG.findall(text[:4000]):
        if tag == "network_access":
            lowered = value.lower()
            if lowered in ("enabled", "true", "full"):
                found[tag] = True
            elif lowered in ("restricted", "disabled", "false", "none"):
                found[tag] = False
        elif value:
            found[tag] = value
    return found


# --------------------------------------------------------------------------- usage and policy


@dataclass(frozen=True, slots=True)
class Usage:
    """One call's tokens in agentir's convention (input excludes cached)."""

    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    prompt_tokens: int  # the whole prompt, as Codex counts input

    @property
    def empty(self) -> bool:
        """True when the usage carries no tokens at all."""
        return not (self.prompt_tokens or self.output_tokens or self.reasoning_tokens)


_USAGE_KEYS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)


def usage_vector(value: Any) -> tuple[int, ...] | None:
    """The raw counters of a Codex token usage object, or None when it is not one."""
    if not isinstance(value, dict):
        return None
    cached = value.get("cached_input_tokens", value.get("cache_read_input_tokens"))
    return (
        as_int(value.get("input_tokens")),
        as_int(cached),
        as_int(value.get("cache_write_input_tokens")),
        as_int(value.get("output_tokens")),
        as_int(value.get("reasoning_output_tokens")),
    )


def usage_from_vector(vector: tuple[int, ...]) -> Usage:
    """Normalise Codex counters: its input_tokens include cached (and cache-write) tokens."""
    prompt, cached, written, output, reasoning = (max(v, 0) for v in vector)
    cached = min(cached, prompt)
    written = min(written, prompt - cached)
    return Usage(
        input_tokens=prompt - cached - written,
        cache_read_tokens=cached,
        cache_write_tokens=written,
        output_tokens=output,
        reasoning_tokens=reasoning,
        prompt_tokens=prompt,
    )


def policy_name(value: Any) -> str | None:
    """A policy given as a string, or as a tagged object ({"mode": x} / {"type": x} / {x: {...}})."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("mode", "type", "kind"):
            if isinstance(value.get(key), str):
                return str(value[key])
        if len(value) == 1:
            return str(next(iter(value)))
    return None


def network_from_policy(sandbox_policy: Any, permission_profile: Any) -> bool | None:
    """Network access a turn allows, from sandbox_policy or (2026) permission_profile."""
    policy = as_dict(sandbox_policy)
    if isinstance(policy.get("network_access"), bool):
        return bool(policy["network_access"])
    network = as_dict(permission_profile).get("network")
    if isinstance(network, dict) and isinstance(network.get("enabled"), bool):
        return bool(network["enabled"])
    if isinstance(network, str):
        if network in ("enabled", "full"):
            return True
        if network in ("restricted", "disabled"):
            return False
    if policy_name(sandbox_policy) == "danger-full-access":
        return True  # no sandbox at all: the network is open
    return None


def error_category(info: Any, message: str) -> str:
    """The ErrorEvent category of a Codex error message and its `codex_error_info`."""
    text = f"{as_str(info)} {message}".lower()
    if "context_window" in text or "context window" in text or "context length" in text:
        return "context_window"
    if any(
        word in text
        for word in ("usage_limit", "usage limit", "rate_limit", "rate limit", "quota", "429")
    ):
        return "rate_limit"
    return "api_error"
