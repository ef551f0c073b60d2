"""Langfuse trace exports: `{trace, observations[]}` (trace-formats.md §5.4).

Langfuse keeps the original OTel span attributes under `observations[].metadata.attributes`
(metadata is sometimes a JSON string), so the same GenAI / OpenInference reading as the
OTLP reader applies (`genai_spans`). GENERATION observations are model calls (tokens
from Langfuse's `usageDetails`, cost from `costDetails.total`), TOOL observations are
tool calls with their result (`level: ERROR` or a status message means it failed),
AGENT / SPAN / CHAIN observations give structure only, EVENT observations are skipped.

Session id: `trace.sessionId`, else `trace.id`. Agent: from the instrumentation scope or
resource (e.g. `pydantic-ai`, `claude-agent-sdk`, `openai-agents`), never the file name.
The trace input becomes the user prompt when it is text (or names a prompt).
A JSON list of such exports is read as one session per export.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentir.model import Event, Message, SessionInfo
from agentir.traces.base import (
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    as_dict,
    excerpt,
    opt_float,
    parse_ts,
)
from agentir.traces.genai_attrs import Span, agent_name, model_name
from agentir.traces.genai_messages import normalize, parse_jsonish
from agentir.traces.genai_spans import SpanInterpreter
from agentir.traces.otel import first_key
from agentir.traces.whole_json import load_document

_PROMPT_KEYS = ("prompt", "input", "query", "question", "message", "content", "task")


class LangfuseReader(TraceReader):
    """A Langfuse trace export (one trace and its observations)."""

    format = "langfuse"
    agent = "langfuse"
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """An object with `trace` and `observations` (or a list of them)."""
        record = probe.first_record
        if isinstance(record, list) and record:
            record = record[0]
        if isinstance(record, dict):
            return isinstance(record.get("trace"), dict) and "observations" in record
        if first_key(probe.head) not in ("trace", "observations"):
            return False
        return b'"observations"' in probe.head or b'"projectId"' in probe.head

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Events of every exported trace in the file."""
        document = load_document(path, stats, "Langfuse export", max_depth=None)
        exports = document if isinstance(document, list) else [document]
        for i, export in enumerate(exports):
            base = f"/{i}" if isinstance(document, list) else ""
            if not isinstance(export, dict) or not (
                isinstance(export.get("trace"), dict)
                or isinstance(export.get("observations"), list)
            ):
                stats.skip("not a Langfuse export object (no trace / observations)")
                continue
            yield from _export(path, export, base, stats)


def _export(path: Path, export: Mapping[str, Any], base: str, stats: ReadStats) -> Iterator[Event]:
    trace = as_dict(export.get("trace"))
    observations = export.get("observations")
    if observations is None and isinstance(trace.get("observations"), list):
        observations, base = trace["observations"], f"{base}/trace"
    if not isinstance(observations, list):
        if observations is not None:
            stats.skip("observations is not a list")
        observations = []
    meta = _dict(parse_jsonish(trace.get("metadata")))
    spans = []
    for k, obs in enumerate(observations):
        stats.records += 1
        if not isinstance(obs, dict):
            stats.skip("observation is not an object")
            continue
        if str(obs.get("type", "")).upper() == "EVENT":
            stats.skip("Langfuse EVENT observation")
            continue
        spans.append(_span(obs, k, f"{base}/observations/{k}", trace))
    sid = _str(trace.get("sessionId")) or _str(trace.get("id")) or "langfuse"
    trace_scope = Span(
        index=-1, name=_str(trace.get("name")) or "", span_id=None, parent_id=None, trace_id=None,
        start=None, end=None, attrs=_dict(meta.get("attributes")), error=False, status_message="",
        pointer=f"{base}/trace", resource=_dict(meta.get("resourceAttributes")),
        scope=_str(_dict(meta.get("scope")).get("name")),
    )  # fmt: skip
    em = Emitter(path, agent_name([*spans, trace_scope], LangfuseReader.agent), sid)
    started = parse_ts(trace.get("timestamp"))
    starts = [s.start for s in spans if s.start]
    yield em.make(
        SessionInfo,
        ts=started or (min(starts) if starts else None),
        pointer=f"{base}/trace",
        model=next((model_name(s) for s in sorted(spans, key=_start) if s.obs_type == "GENERATION"
                    and model_name(s)), None),
        title=_str(trace.get("name")),
        extra=_extra(trace, meta),
    )  # fmt: skip
    interp = SpanInterpreter(em)
    prompt = _prompt_text(trace.get("input"))
    if prompt:
        yield em.make(Message, ts=started, pointer=f"{base}/trace/input", role="user",
                      text=excerpt(prompt))  # fmt: skip
        interp.last_user = prompt  # the first generation repeats it; say it once
    yield from interp.events(spans)


def _span(obs: Mapping[str, Any], k: int, pointer: str, trace: Mapping[str, Any]) -> Span:
    meta = _dict(parse_jsonish(obs.get("metadata")))
    kind = str(obs.get("type") or "").upper()
    level = str(obs.get("level") or "").upper()
    message = _str(obs.get("statusMessage")) or ""
    usage = (
        obs.get("usageDetails") if isinstance(obs.get("usageDetails"), dict) else obs.get("usage")
    )
    cost_details = _dict(obs.get("costDetails"))
    cost = cost_details.get("total", obs.get("totalCost", obs.get("calculatedTotalCost")))
    return Span(
        index=k,
        name=_str(obs.get("name")) or "",
        span_id=_str(obs.get("id")),
        parent_id=_str(obs.get("parentObservationId")),
        trace_id=_str(obs.get("traceId")) or _str(trace.get("id")),
        start=parse_ts(obs.get("startTime")),
        end=parse_ts(obs.get("endTime")),
        attrs=_dict(meta.get("attributes")),
        error=level == "ERROR" or (kind == "TOOL" and bool(message)),
        status_message=message,
        pointer=pointer,
        obs_type=kind or None,
        input=obs.get("input"),
        output=obs.get("output"),
        model=_str(obs.get("model")),
        usage=usage if isinstance(usage, dict) else None,
        cost=opt_float(cost),
        resource=_dict(meta.get("resourceAttributes")),
        scope=_str(_dict(meta.get("scope")).get("name")),
    )


def _prompt_text(value: Any) -> str | None:
    """The user's prompt when the trace input is text or names one."""
    value = parse_jsonish(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in _PROMPT_KEYS:
            if isinstance(value.get(key), str) and value[key].strip():
                return str(value[key])
    if isinstance(value, list):
        users = [m.text for m in normalize(value) if m.role == "user" and m.text]
        return users[-1] if users else None
    return None


def _extra(trace: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key in ("id", "userId", "environment", "release", "version"):
        if _str(trace.get(key)):
            extra[f"trace.{key}"] = trace[key]
    if isinstance(trace.get("tags"), list) and trace["tags"]:
        extra["tags"] = [t for t in trace["tags"] if isinstance(t, str)]
    for key, value in _dict(meta.get("attributes")).items():
        # An agent's own session id (e.g. the Claude Agent SDK's, via LangSmith) ties the
        # export to the agent's native transcript.
        if (key.endswith("session_id") or key.endswith("session.id")) and _str(value):
            extra[key] = value
    return extra


def _start(span: Span) -> tuple[bool, Any, int]:
    return (span.start is None, span.start or 0, span.index)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
