"""OpenTelemetry GenAI traces as OTLP/JSON (trace-formats.md §5.1-5.3).

Accepted layouts: one document `{"resourceSpans":[…]}` (or `resourceLogs`), a JSON list
of such documents, or JSONL with one export batch per line (the Collector file exporter).
A document is loaded whole and its spans sorted by start time; in JSONL each line is
sorted on its own, and only small per-session state (emitters, recent call ids) is kept
between lines, so memory does not grow with the file.

Spans become events through `genai_spans` (model calls, tool calls and results,
sub-agent sidechains); log records of coding agents through `otel_logs`. Every event's
source points at its raw span, e.g. `#/resourceSpans/0/scopeSpans/0/spans/3` (with the
line number in JSONL). Session id: `gen_ai.conversation.id`, `session.id` or
`langfuse.session.id` on any span of the trace, else the trace id.

An unparseable document is salvaged up to its last complete value when it was cut off
mid-write; if nothing can be salvaged the reader raises `TraceError` (one clear line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentir.model import Event, SessionInfo
from agentir.traces.base import (
    MAX_LINE_BYTES,
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    iter_json_lines,
    loads,
    opt_int,
    parse_ts,
)
from agentir.traces.genai_attrs import Span, agent_name, model_name, session_key, span_role
from agentir.traces.genai_spans import SpanInterpreter
from agentir.traces.otel_logs import LogRecord, log_agent, log_events, log_session
from agentir.traces.whole_json import load_document

ENVELOPE_KEYS = ("resourceSpans", "resourceLogs", "resourceMetrics")
_FIRST_KEY = re.compile(rb'^\s*\[?\s*\{\s*"([^"]{1,64})"\s*:')
_MAX_DEPTH = 64
_MAX_TRACES = 4096


def first_key(head: bytes) -> str | None:
    """The first key of the first JSON object in a file head (pretty-printed or not)."""
    match = _FIRST_KEY.match(head.lstrip(b"\xef\xbb\xbf"))
    return match.group(1).decode("utf-8", errors="replace") if match else None


class OtelReader(TraceReader):
    """OTLP/JSON spans and log records with GenAI / OpenInference / agent attributes."""

    format = "otel"
    agent = "otel"
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """Top-level resourceSpans / resourceLogs / resourceMetrics (object, list or JSONL)."""
        record = probe.first_record
        if isinstance(record, list) and record:
            record = record[0]
        if isinstance(record, dict):
            return any(k in record for k in ENVELOPE_KEYS)
        return first_key(probe.head) in ENVELOPE_KEYS

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Events of every session in the file."""
        state = _State(path, stats)
        if _is_jsonl(path):
            for lineno, value in iter_json_lines(path, stats):
                spans: list[Span] = []
                logs: list[LogRecord] = []
                _collect(value, "", lineno, stats, spans, logs)
                yield from state.batch(spans, logs)
        else:
            document = load_document(path, stats, "OTLP/JSON document", max_depth=None)
            spans, logs = [], []
            _collect(document, "", None, stats, spans, logs)
            yield from state.batch(spans, logs)


def _is_jsonl(path: Path) -> bool:
    """True when the first line is a complete JSON value and more content follows."""
    with path.open("rb") as fh:
        first = b""
        while not first.strip():
            first = fh.readline(MAX_LINE_BYTES)
            if not first:
                return False
        try:
            loads(first.strip())
        except ValueError:
            return False
        return any(line.strip() for line in iter(lambda: fh.readline(MAX_LINE_BYTES), b""))


class _State:
    """Per-session emitters and interpreters, kept across JSONL lines."""

    def __init__(self, path: Path, stats: ReadStats) -> None:
        self.path = path
        self.stats = stats
        self.sessions: dict[str, tuple[Emitter, SpanInterpreter]] = {}
        self.trace_sessions: dict[str, str] = {}

    def batch(self, spans: list[Span], logs: list[LogRecord]) -> Iterator[Event]:
        groups: dict[str, list[Span]] = {}
        for span in spans:  # a conversation id anywhere in a trace names the whole trace
            key = session_key(span.attrs) or session_key(span.resource)
            if key and span.trace_id and span.trace_id not in self.trace_sessions:
                if len(self.trace_sessions) > _MAX_TRACES:
                    self.trace_sessions.clear()
                self.trace_sessions[span.trace_id] = key
        for span in spans:
            sid = (
                session_key(span.attrs)
                or (self.trace_sessions.get(span.trace_id) if span.trace_id else None)
                or span.trace_id
                or "otel"
            )
            groups.setdefault(sid, []).append(span)
        for sid, group in groups.items():
            em, interp, info = self._session(sid, group, [])
            if info is not None:
                yield info
            yield from interp.events(group)
        log_groups: dict[str, list[LogRecord]] = {}
        for record in logs:
            log_groups.setdefault(log_session(record) or "otel-logs", []).append(record)
        for sid, records in log_groups.items():
            records.sort(key=lambda r: (r.ts is None, r.ts or 0, _seq(r), r.index))
            em, _, info = self._session(sid, [], records)
            if info is not None:
                yield info
            for record in records:
                events = log_events(em, record)
                if events is None:
                    self.stats.skip(f"log event not used: {record.name or '(unnamed)'}")
                    continue
                yield from events

    def _session(
        self, sid: str, spans: list[Span], logs: list[LogRecord]
    ) -> tuple[Emitter, SpanInterpreter, SessionInfo | None]:
        if sid in self.sessions:
            return (*self.sessions[sid], None)
        if spans:
            agent = agent_name(spans, OtelReader.agent)
        else:
            agent = next((a for a in map(log_agent, logs) if a), OtelReader.agent)
        em = Emitter(self.path, agent, sid)
        interp = SpanInterpreter(em)
        self.sessions[sid] = (em, interp)
        return em, interp, _announce(em, spans, logs)


def _announce(em: Emitter, spans: list[Span], logs: list[LogRecord]) -> SessionInfo:
    """The SessionInfo that opens a session."""
    starts = [s.start for s in spans if s.start] + [r.ts for r in logs if r.ts]
    resource: Mapping[str, Any] = spans[0].resource if spans else (logs[0].resource if logs else {})
    model = None
    for span in sorted(spans, key=lambda s: (s.start is None, s.start or 0, s.index)):
        if span_role(span) == "llm":
            model = model_name(span)
            if model:
                break
    if model is None:
        model = next(
            (r.attrs["model"] for r in logs if isinstance(r.attrs.get("model"), str)), None
        )
    extra: dict[str, Any] = {}
    for key in ("service.name", "service.version"):
        if isinstance(resource.get(key), str):
            extra[key] = resource[key]
    providers = sorted(
        {
            str(s.attrs[k])
            for s in spans
            for k in ("gen_ai.provider.name", "gen_ai.system")
            if k in s.attrs
        }
    )
    if providers:
        extra["providers"] = providers
    trace_ids = sorted({s.trace_id for s in spans if s.trace_id})[:20]
    if trace_ids:
        extra["trace_ids"] = trace_ids
    version = resource.get("service.version") or (
        logs[0].attrs.get("app.version") if logs else None
    )
    return em.make(
        SessionInfo,
        ts=min(starts) if starts else None,
        pointer=spans[0].pointer if spans else (logs[0].pointer if logs else None),
        line=spans[0].line if spans else (logs[0].line if logs else None),
        model=model,
        agent_version=version if isinstance(version, str) else None,
        extra=extra,
    )


def _seq(record: LogRecord) -> int:
    value = opt_int(record.attrs.get("event.sequence"))
    return value if value is not None else 0


# --------------------------------------------------------------------------- OTLP/JSON decoding


def any_value(value: Any, depth: int = 0) -> Any:
    """Decode an OTLP AnyValue (stringValue, intValue as string or number, arrays, kvlists)."""
    if not isinstance(value, dict):
        return value  # some emitters write plain JSON values
    if depth > _MAX_DEPTH:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return opt_int(value["intValue"])
    if "doubleValue" in value:
        try:
            return float(value["doubleValue"])
        except (TypeError, ValueError):
            return None
    if "boolValue" in value:
        raw = value["boolValue"]
        return raw if isinstance(raw, bool) else str(raw).lower() == "true"
    if "arrayValue" in value:
        items = (
            (value["arrayValue"] or {}).get("values")
            if isinstance(value["arrayValue"], dict)
            else None
        )
        return [any_value(v, depth + 1) for v in items] if isinstance(items, list) else []
    if "kvlistValue" in value:
        kv = value["kvlistValue"]
        return attributes(kv.get("values") if isinstance(kv, dict) else None, depth + 1)
    if "bytesValue" in value:
        return str(value["bytesValue"])
    return None


def attributes(raw: Any, depth: int = 0) -> dict[str, Any]:
    """OTLP `[{key, value}]` attributes as a dict; malformed entries are left out."""
    if isinstance(raw, dict):
        return dict(raw)
    out: dict[str, Any] = {}
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                out[item["key"]] = any_value(item.get("value"), depth)
    return out


def _time(value: Any) -> Any:
    number = opt_int(value) if not isinstance(value, str) or value.strip().isdigit() else None
    if number:
        return parse_ts(number)
    return parse_ts(value) if isinstance(value, str) else None


def _is_error(status: Any) -> tuple[bool, str]:
    if not isinstance(status, dict):
        return False, ""
    code = status.get("code")
    error = code == 2 or (
        isinstance(code, str) and code.upper() in ("STATUS_CODE_ERROR", "ERROR", "2")
    )
    message = status.get("message")
    return error, message if isinstance(message, str) else ""


def _list(
    container: dict[str, Any], keys: tuple[str, ...], stats: ReadStats
) -> tuple[str, list[Any]] | None:
    """The first of `keys` present and its list; a non-list value is counted as skipped."""
    for key in keys:
        if key in container:
            value = container[key]
            if isinstance(value, list):
                return key, value
            if value is not None:
                stats.skip(f"{key} is not a list")
            return key, []
    return None


def _collect(
    doc: Any,
    base: str,
    line: int | None,
    stats: ReadStats,
    spans: list[Span],
    logs: list[LogRecord],
) -> None:
    """Decode every span and log record of one OTLP/JSON value (object or list of objects)."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            if isinstance(item, dict):
                _collect(item, f"{base}/{i}", line, stats, spans, logs)
            else:
                stats.skip("list item is not an OTLP object")
        return
    if not isinstance(doc, dict) or not any(k in doc for k in ENVELOPE_KEYS):
        stats.skip("not an OTLP object (no resourceSpans / resourceLogs)")
        return
    if "resourceMetrics" in doc:
        stats.skip("OTLP metrics carry no per-call events")
    for kind, inner, items_key in (
        ("resourceSpans", ("scopeSpans", "instrumentationLibrarySpans"), ("spans",)),
        ("resourceLogs", ("scopeLogs", "instrumentationLibraryLogs"), ("logRecords",)),
    ):
        if kind not in doc:
            continue
        if not isinstance(doc[kind], list):
            stats.skip(f"{kind} is not a list")
            continue
        for r, res in enumerate(doc[kind]):
            if not isinstance(res, dict):
                stats.skip(f"{kind} entry is not an object")
                continue
            resource = (
                attributes(res["resource"].get("attributes"))
                if isinstance(res.get("resource"), dict)
                else {}
            )
            found = _list(res, inner, stats)
            if found is None:
                stats.skip(f"{kind} entry without {inner[0]}")
                continue
            for s, scoped in enumerate(found[1]):
                if not isinstance(scoped, dict):
                    stats.skip(f"{found[0]} entry is not an object")
                    continue
                scope = scoped.get("scope") or scoped.get("instrumentationLibrary")
                scope_name = scope.get("name") if isinstance(scope, dict) else None
                records = _list(scoped, items_key, stats)
                if records is None:
                    continue
                for k, raw in enumerate(records[1]):
                    pointer = f"{base}/{kind}/{r}/{found[0]}/{s}/{records[0]}/{k}"
                    stats.records += 1
                    if not isinstance(raw, dict):
                        stats.skip("span or log record is not an object")
                    elif kind == "resourceSpans":
                        spans.append(_span(raw, len(spans), pointer, line, resource, scope_name))
                    else:
                        logs.append(_log(raw, len(logs), pointer, line, resource))


def _span(
    raw: dict[str, Any],
    index: int,
    pointer: str,
    line: int | None,
    resource: Mapping[str, Any],
    scope: Any,
) -> Span:
    attrs = attributes(raw.get("attributes"))
    for event in raw.get("events") or []:
        # Content may ride on an inference-details event instead of the span itself.
        if (
            isinstance(event, dict)
            and event.get("name") == "gen_ai.client.inference.operation.details"
        ):
            for key, value in attributes(event.get("attributes")).items():
                attrs.setdefault(key, value)
    error, message = _is_error(raw.get("status"))
    name = raw.get("name")
    return Span(
        index=index,
        name=name if isinstance(name, str) else "",
        span_id=_id(raw.get("spanId")),
        parent_id=_id(raw.get("parentSpanId")),
        trace_id=_id(raw.get("traceId")),
        start=_time(raw.get("startTimeUnixNano")),
        end=_time(raw.get("endTimeUnixNano")),
        attrs=attrs,
        error=error,
        status_message=message,
        pointer=pointer,
        line=line,
        resource=resource,
        scope=scope if isinstance(scope, str) else None,
    )


def _log(
    raw: dict[str, Any], index: int, pointer: str, line: int | None, resource: Mapping[str, Any]
) -> LogRecord:
    attrs = attributes(raw.get("attributes"))
    body = any_value(raw.get("body"))
    name = attrs.get("event.name")
    if not isinstance(name, str) or not name:
        name = body if isinstance(body, str) and len(body) < 200 else ""
    ts = _time(raw.get("timeUnixNano")) or _time(raw.get("observedTimeUnixNano"))
    trace = _id(raw.get("traceId"))
    if trace and "session.id" not in attrs:
        attrs.setdefault("trace.id", trace)
    return LogRecord(
        index=index, name=name, ts=ts, attrs=attrs, pointer=pointer, line=line, resource=resource
    )


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
