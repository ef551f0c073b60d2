"""External effects of shell commands and tools: what reached beyond the working tree.

Each rule names the kind of effect (network, git_push, deploy, publish, cloud, database,
message, destructive, mcp), its target and a risk level. Rules look at the program and its
arguments, never at the text of arguments alone, so `echo "git push"` is not a push. The
per-program rules are in `effect_rules` (and `effect_git`); this module applies them to a
command line, and judges non-shell tools (web fetch and search, MCP, push / PR tools).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agentir.analysis.effect_base import EffectHit, host
from agentir.analysis.effect_git import destructive
from agentir.analysis.effect_rules import RULES
from agentir.analysis.shell import SimpleCommand, split_commands
from agentir.model import Risk

__all__ = ["EffectHit", "command_effects", "effects_of", "tool_effects"]


def command_effects(command: str, cwd: str | None = None) -> list[EffectHit]:
    """Every external effect of a shell command line."""
    return effects_of(split_commands(command, cwd))


def effects_of(cmds: list[SimpleCommand]) -> list[EffectHit]:
    """Every external effect of already split commands."""
    hits: list[EffectHit] = []
    for i, cmd in enumerate(cmds):
        rule = RULES.get(cmd.program)
        if rule is not None:
            hits.extend(rule(cmd, cmds[i + 1] if i + 1 < len(cmds) else None))
        hits.extend(destructive(cmd))
    return hits


# --------------------------------------------------------------------------- tools

_WEB_FETCH = {
    "webfetch",
    "web_fetch",
    "fetch",
    "browse",
    "browser",
    "fetch_url",
    "read_url",
    "http_request",
    "browse_interactive",
    "open_url",
    "browser_navigate",
}
_WEB_SEARCH = {
    "websearch",
    "web_search",
    "google_web_search",
    "search_web",
    "web_search_call",
    "tavily_search",
    "brave_search",
}
_MCP_WRITE = re.compile(
    r"(create|send|post|delete|remove|update|write|push|publish|merge|comment|deploy|execute|run|insert|drop|transfer|pay|invite|upload)",
    re.IGNORECASE,
)


def tool_effects(name: str, args: Mapping[str, Any], agent: str) -> list[EffectHit]:
    """External effects of a non-shell tool call (web fetch / search, MCP tools, push / PR)."""
    lower = name.lower()
    url = next(
        (str(args[k]) for k in ("url", "uri", "href", "link") if isinstance(args.get(k), str)), ""
    )
    if lower in _WEB_FETCH or lower.startswith("browser_"):
        return [
            EffectHit("network", host(url) if url else "web", Risk.LOW, f"{name} fetches a page")
        ]
    if lower in _WEB_SEARCH:
        query = str(args.get("query") or args.get("q") or "")[:80]
        return [
            EffectHit(
                "network", "web search", Risk.LOW, f"search: {query}" if query else "web search"
            )
        ]
    if lower in ("push", "git_push"):
        return [
            EffectHit(
                "git_push",
                str(args.get("branch") or args.get("remote") or "remote"),
                Risk.MEDIUM,
                "push",
            )
        ]
    if lower in ("send_pr", "create_pr", "create_pull_request"):
        return [EffectHit("message", "pull request", Risk.MEDIUM, "opens a pull request")]
    server, tool = _mcp_parts(name, agent)
    if server:
        risk = Risk.HIGH if _MCP_WRITE.search(tool) else Risk.MEDIUM
        return [EffectHit("mcp", f"{server}/{tool}", risk, "MCP tool")]
    if lower == "call_tool_mcp":
        tool_name = str(args.get("name") or args.get("tool_name") or "?")
        risk = Risk.HIGH if _MCP_WRITE.search(tool_name) else Risk.MEDIUM
        return [EffectHit("mcp", tool_name, risk, "MCP tool")]
    return []


def _mcp_parts(name: str, agent: str) -> tuple[str, str]:
    if name.startswith("mcp__"):
        parts = name.split("__", 2)
        return (parts[1], parts[2]) if len(parts) == 3 else (parts[-1], "")
    if "__" in name and agent in ("codex", "gemini-cli") and not name.startswith("_"):
        server, _, tool = name.partition("__")
        return server, tool
    return "", ""
