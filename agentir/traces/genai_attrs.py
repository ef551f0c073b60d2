"""Reading GenAI spans: the decoded span, its role, and the attributes instrumentations use.

Covers the OTel GenAI semantic conventions (current and deprecated names), OpenInference
(Arize Phoenix) keys, OpenLLMetry keys, Claude Code's own spans, and Langfuse observation
fields. `genai_spans` turns spans into events with these helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentir.traces.base import as_int, json_args, opt_int
from agentir.traces.genai_messages import (
    Msg,
    flattened_messages,
    normalize,
    parse_jsonish,
    system_instructions,
)

LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "completion"})
_SESSION_KEYS = ("gen_ai.conversation.id", "session.id", "langfuse.session.id")
_ARG_KEYS = ("gen_ai.tool.call.arguments", "tool_arguments", "tool_input", "input.value")
OUTPUT_KEYS = ("gen_ai.tool.call.result", "output.value", "tool_response", "tool_output")
_CALL_ID_KEYS = (
    "gen_ai.tool.call.id",
    "tool_call.id",
    "tool.call.id",
    "tool_use_id",
    "tool_call_id",
)
_NAME_PREFIXES = ("execute_tool ", "running tool: ", "running tool ")


@dataclass
class Span:
    """One span or observation, decoded from its container format."""

    index: int  # position in the batch, to keep document order among equal start times
    name: str
    span_id: str | None
    parent_id: str | None
    trace_id: str | None
    start: datetime | None
    end: datetime | None
    attrs: Mapping[str, Any]
    error: bool
    status_message: str
    pointer: str
    line: int | None = None
    obs_type: str | None = None  # Langfuse observation type; None for plain OTLP
    input: Any = None  # Langfuse observation input / output (the span's messages)
    output: Any = None
    model: str | None = None
    usage: Mapping[str, Any] | None = None  # Langfuse usageDetails
    cost: float | None = None
    resource: Mapping[str, Any] = field(default_factory=dict)  # resource attributes
    scope: str | None = None  # instrumentation scope name


def span_role(span: Span) -> str:
    """llm, tool, agent or other."""
    a = span.attrs
    op = str(a.get("gen_ai.operation.name", "")).lower()
    oi = str(a.get("openinference.span.kind", "")).upper()
    tl = str(a.get("traceloop.span.kind", "")).lower()
    obs = (span.obs_type or "").upper()
    if obs == "GENERATION" or op in LLM_OPERATIONS or oi == "LLM":
        return "llm"
    if span.name == "claude_code.llm_request" or a.get("llm.request.type") in (
        "chat",
        "completion",
    ):
        return "llm"
    if obs == "TOOL" or op == "execute_tool" or oi == "TOOL" or tl == "tool":
        return "tool"
    if span.name == "claude_code.tool":
        return "tool"
    if obs == "AGENT" or op == "invoke_agent" or oi == "AGENT" or tl == "agent":
        return "agent"
    return "other"


def session_key(attrs: Mapping[str, Any]) -> str | None:
    """The conversation / session id an instrumentation put on a span, if any."""
    for key in _SESSION_KEYS:
        value = attrs.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def tool_name(span: Span) -> str:
    """The tool a tool span ran."""
    for key in ("gen_ai.tool.name", "tool.name", "tool_name"):
        value = span.attrs.get(key)
        if isinstance(value, str) and value:
            return value
    name = span.name
    for prefix in _NAME_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :].strip() or name
    return name or "unknown"


def tool_call_id(span: Span) -> str | None:
    """The call id a tool span carries."""
    for key in _CALL_ID_KEYS:
        value = span.attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def tool_args(span: Span) -> Mapping[str, Any]:
    """The tool's arguments (parsed from JSON when they are a JSON string)."""
    raw: Any = None
    for key in _ARG_KEYS:
        if key in span.attrs:
            raw = span.attrs[key]
            break
    else:
        params = parse_jsonish(span.attrs.get("tool.parameters"))
        # OpenInference's tool.parameters is usually the tool's schema, not the call's values.
        if params is not None and not (isinstance(params, dict) and "properties" in params):
            raw = params
        else:
            raw = span.input
    value = parse_jsonish(raw)
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("input"), dict):
        value = value["input"]  # LangSmith wraps tool inputs as {"input": {...}}
    args = json_args(value)
    if not args and span.name == "claude_code.tool":
        extra = {k: span.attrs[k] for k in ("full_command", "file_path") if k in span.attrs}
        if "full_command" in extra:
            extra["command"] = extra.pop("full_command")
        args = extra
    return args


def model_usage(span: Span) -> dict[str, int]:
    """Tokens of a model call; input excludes cache reads and writes."""
    if span.usage:
        return _usage_details(span.usage)
    a = span.attrs
    inp = _first(
        a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"
    )
    out = _first(
        a,
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    )
    read = _first(
        a,
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    )
    write = _first(
        a,
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    )
    reasoning = _first(
        a, "gen_ai.usage.reasoning.output_tokens", "llm.token_count.completion_details.reasoning"
    )
    if inp is None:  # Claude Code's own spans use Anthropic's meaning: input excludes the cache
        inp = as_int(a.get("input_tokens"))
        out = out if out is not None else as_int(a.get("output_tokens"))
        read = read if read is not None else as_int(a.get("cache_read_tokens"))
        write = write if write is not None else as_int(a.get("cache_creation_tokens"))
    else:
        cached = (read or 0) + (write or 0)
        # The conventions say input_tokens SHOULD include cached tokens; trust it only when
        # the numbers allow it (some emitters pass the provider's exclusive count through).
        if cached and inp >= cached:
            inp -= cached
    return {
        "input": inp,
        "output": out or 0,
        "cache_read": read or 0,
        "cache_write": write or 0,
        "reasoning": reasoning or 0,
    }


def _usage_details(usage: Mapping[str, Any]) -> dict[str, int]:
    inp = as_int(usage.get("input"))
    out = as_int(usage.get("output"))
    read = write = reasoning = 0
    for key, value in usage.items():
        k = key.lower()
        if "reasoning" in k:
            reasoning += as_int(value)
        elif "cache" in k and any(w in k for w in ("creation", "write")):
            write += as_int(value)
        elif "cache" in k and any(w in k for w in ("read", "hit", "cached")):
            read += as_int(value)
    total = opt_int(usage.get("total"))
    cached = read + write
    # Langfuse sums every usage key into total; if total leaves the cache out, input holds it.
    if cached and total is not None and total != inp + out + cached and inp >= cached:
        inp -= cached
    return {
        "input": inp,
        "output": out,
        "cache_read": read,
        "cache_write": write,
        "reasoning": reasoning,
    }


def _first(attrs: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = opt_int(attrs.get(key))
        if value is not None:
            return value
    return None


def span_messages(span: Span) -> tuple[list[Msg], list[Msg]]:
    """(input messages, output messages) of a model-call span, from whichever dialect it uses."""
    a = span.attrs
    inputs = normalize(a.get("gen_ai.input.messages"))
    inputs = (
        inputs
        or flattened_messages(a, "llm.input_messages.")
        or flattened_messages(a, "gen_ai.prompt.")
    )
    outputs = normalize(a.get("gen_ai.output.messages"))
    outputs = (
        outputs
        or flattened_messages(a, "llm.output_messages.")
        or flattened_messages(a, "gen_ai.completion.")
    )
    if not inputs and span.input is not None:
        inputs = normalize(span.input)
    if not outputs and span.output is not None:
        outputs = normalize(span.output)
    instructions = system_instructions(a.get("gen_ai.system_instructions"))
    return instructions + inputs, outputs


def output_tool_names(attrs: Mapping[str, Any]) -> frozenset[str]:
    """Tools that only carry the final structured answer (pydantic-ai `output_tools`)."""
    params = parse_jsonish(attrs.get("model_request_parameters"))
    tools = params.get("output_tools") if isinstance(params, dict) else None
    if not isinstance(tools, list):
        return frozenset()
    return frozenset(
        t["name"] for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)
    )


def model_name(span: Span) -> str | None:
    """The model a model-call span used (response model first)."""
    if span.model:
        return span.model
    for key in ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name", "model"):
        value = span.attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None


# --------------------------------------------------------------------------- which agent


KNOWN_AGENTS = {
    "claude-code": "claude-code",
    "claude_code": "claude-code",
    "codex": "codex",
    "codex-cli": "codex",
    "codex_cli_rs": "codex",
    "codex_exec": "codex",
    "codex_tui": "codex",
    "gemini-cli": "gemini-cli",
    "gemini_cli": "gemini-cli",
    "openhands": "openhands",
    "aider": "aider",
}
# Instrumentation scopes of model SDKs name a provider, not the agent that used it.
_PROVIDER_SCOPES = frozenset(
    {
        "openai",
        "anthropic",
        "google-genai",
        "google-generativeai",
        "vertexai",
        "bedrock",
        "mistralai",
        "cohere",
        "groq",
        "ollama",
        "litellm",
        "httpx",
        "requests",
        "urllib3",
    }
)
_SCOPE_PREFIXES = ("openinference.instrumentation.", "opentelemetry.instrumentation.")


def agent_name(spans: Sequence[Span], default: str) -> str:
    """The agent or framework that produced the spans, judged from their data (never the file name).

    Order: resource `service.name` (unless the SDK's `unknown_service` placeholder), a known
    agent named by `gen_ai.provider.name` / `gen_ai.system`, then the instrumentation scope
    (e.g. `pydantic-ai`, `openinference.instrumentation.openai_agents` -> `openai-agents`).
    A plain provider name (openai, anthropic) is not an agent and is not used.
    """
    services: dict[str, int] = {}
    scopes: dict[str, int] = {}
    for span in spans:
        service = span.resource.get("service.name")
        if isinstance(service, str) and service and not service.startswith("unknown_service"):
            services[service] = services.get(service, 0) + 1
        for key in ("gen_ai.provider.name", "gen_ai.system"):
            value = span.attrs.get(key)
            if isinstance(value, str) and value.lower() in KNOWN_AGENTS:
                name = KNOWN_AGENTS[value.lower()]
                services[name] = services.get(name, 0) + 1
        label = _scope_agent(span)
        if label:
            scopes[label] = scopes.get(label, 0) + 1
    for found in (services, scopes):
        if found:
            best = max(found, key=lambda k: found[k])
            return KNOWN_AGENTS.get(best.lower(), best)
    return default


def _scope_agent(span: Span) -> str | None:
    scope = (span.scope or "").lower()
    if not scope or scope.startswith("langfuse"):
        return None
    if scope == "langsmith":  # LangSmith's OTel bridge: the span names tell the framework
        return "claude-agent-sdk" if span.name.startswith("claude.") else None
    if scope.startswith("com.anthropic.claude_code"):
        return "claude-code"
    for prefix in _SCOPE_PREFIXES:
        if scope.startswith(prefix):
            scope = scope[len(prefix) :]
            break
    scope = scope.replace("_", "-")
    return None if scope in _PROVIDER_SCOPES else scope
