"""What one of aider's blockquoted notices (`> …`) says, from the wording in aider's source.

`classify` names the kind of notice and extracts its data; the reader decides which
events follow. Wordings come from `aider/io.py`, `aider/coders/base_coder.py`,
`aider/repo.py` and `aider/commands.py` (trace-formats.md §6.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_VERSION = re.compile(r"^Aider v(\S+)")
_MODEL = re.compile(r"^(?:Main model|Models?):\s*(\S+)(?:\s+with\s+(\S+)\s+edit format)?")
_WEAK = re.compile(r"^Weak model:\s*(\S+)")
_GIT = re.compile(r"^Git repo:\s*(.+)$")
_LAUNCH = re.compile(r"^(?:\S*/)?aider(?:\.exe)?(?:\s|$)")
_QUESTION = re.compile(r"\?.*\[[^\]]*\]:\s*(\S*)\s*$", re.S)
_RUNNING = re.compile(r"^Running (.+)$")
_APPLIED = re.compile(r"^Applied edit to (.+)$")
_NOT_APPLIED = re.compile(r"^Did not apply edit to (.+?)(?: \(--dry-run\))?$")
_COMMIT = re.compile(r"^Commit ([0-9a-f]{7,40}) (.*)$")
_UNDO = re.compile(r"^Removed: ([0-9a-f]{7,40}) (.*)$")
_TOKEN_PART = re.compile(r"(\d[\d.,]*)\s*([kKmM]?)\s+(sent|cache write|cache hit|received)")
_COST = re.compile(r"Cost:\s*\$([\d.,]+)\s+(?:message|request)")
_REFLECTIONS = re.compile(r"^Only \d+ reflections allowed, stopping")
_INFO_PREFIXES = (
    "Added ",
    "Dropped ",
    "You can use /undo",
    "Diff since",
    "Warning",
    "Repo-map",
    "Use /help",
    "Note:",
    "Committing ",
    "Now at:",
    "Cost estimates",
    "https://",
    "http://",
    "Scraping ",
    "Restored previous",
    "Newer aider version",
    "Retrying in",
    "Multiline mode",
    "Detected dumb terminal",
    "Cur working dir",
    "Git working dir",
    "Creating empty file",
    "Initial repo scan",
    "Model warnings",
    "For more info",
    "No changes made",
    "^C again to exit",
    "Editor model",
    "Reasoning effort",
    "Thinking tokens",
    "Cache ",
)
_API_ERRORS = ("APIError", "APIConnectionError", "InternalServerError", "ServiceUnavailable",
               "BadRequestError", "AuthenticationError", "Timeout", "NotFoundError")  # fmt: skip


@dataclass(frozen=True)
class Notice:
    """A classified notice: `kind` ("" when unknown) and what it carries."""

    kind: str
    data: Any = None


def classify(text: str) -> Notice:
    """The kind of an aider notice and its data."""
    first = text.split("\n", 1)[0].strip()
    if not first:
        return Notice("info")
    for pattern, kind in (
        (_RUNNING, "running"),
        (_APPLIED, "applied"),
        (_NOT_APPLIED, "not_applied"),
    ):
        match = pattern.match(first)
        if match:
            return Notice(kind, match.group(1).strip())
    for pattern, kind in ((_COMMIT, "commit"), (_UNDO, "undo")):
        match = pattern.match(first)
        if match:
            return Notice(kind, (match.group(1), match.group(2).strip()))
    if first.startswith("Tokens:"):
        return Notice("tokens", tokens(first))
    meta = _meta(first)
    if meta is not None:
        return Notice("meta", meta)
    question = _QUESTION.search(text)
    if question:
        return Notice("question", question.group(1).lower().startswith(("y", "a")))
    category = _error_category(first, text)
    if category:
        return Notice("error", category)
    if first.startswith("Error running command"):
        return Notice("shell_failed")
    if first.startswith(_INFO_PREFIXES) or "SEARCH/REPLACE block" in first:
        return Notice("info")
    return Notice("")


def _meta(first: str) -> dict[str, str] | None:
    match = _VERSION.match(first)
    if match:
        return {"version": match.group(1)}
    match = _MODEL.match(first)
    if match:
        found = {"model": match.group(1).rstrip(",")}
        if match.group(2):
            found["edit_format"] = match.group(2)
        return found
    match = _WEAK.match(first)
    if match:
        return {"weak_model": match.group(1)}
    match = _GIT.match(first)
    if match:
        return {"git_repo": match.group(1)}
    if _LAUNCH.match(first):
        return {"command_line": first}
    return None


def _error_category(first: str, text: str) -> str | None:
    lowered = text.lower()
    if "did not conform to the edit format" in lowered:
        return "edit_format"
    if _REFLECTIONS.match(first):
        return "reflection_limit"
    if first.startswith("Unable to commit"):
        return "git_error"
    if first.startswith("Unable to "):
        return "tool_error"
    if "ratelimit" in lowered.replace(" ", "").replace("_", "") or " 429" in lowered:
        return "rate_limit"
    if (
        "context window" in lowered
        or "token limit" in lowered
        or "contextwindowexceeded" in lowered
    ):
        return "context_window"
    if first.startswith("litellm.") or any(name in first for name in _API_ERRORS):
        return "api_error"
    return None


def tokens(line: str) -> dict[str, Any]:
    """ModelCall fields from `Tokens: 12k sent, 8.1k cache write, 2.0k cache hit, 1.1k received.`

    Aider's "sent" is the prompt plus cache writes (base_coder.py); whether the provider's
    prompt count already held the cache reads depends on the litellm version, so reads
    and writes are taken out only as far as "sent" can hold them. Counts are rounded by
    aider (1 decimal below 10k, whole thousands above).
    """
    found = {"sent": 0, "cache write": 0, "cache hit": 0, "received": 0}
    for number, suffix, kind in _TOKEN_PART.findall(line):
        try:
            value = float(number.replace(",", ""))
        except ValueError:
            continue
        scale = {"k": 1e3, "m": 1e6}.get(suffix.lower(), 1.0)
        found[kind] = round(value * scale)
    sent, write, hit = found["sent"], found["cache write"], found["cache hit"]
    if sent >= hit + write:
        sent -= hit + write
    elif sent >= write:
        sent -= write
    cost = _COST.search(line)
    try:
        reported = float(cost.group(1).replace(",", "")) if cost else None
    except ValueError:
        reported = None
    return {
        "input_tokens": sent,
        "output_tokens": found["received"],
        "cache_read_tokens": hit,
        "cache_write_tokens": write,
        "reported_cost_usd": reported,
    }
