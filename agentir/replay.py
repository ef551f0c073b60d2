"""Replay a session step by step: the steps, their time gaps, nesting and findings, as data.

A step is one thing a responder reads: a message, a reasoning excerpt, a tool call with the
result paired to it, a compaction or an error. Model calls and session metadata are not steps;
a finding that cites them is marked at the next step. Subagent work (events with a
`sidechain`) is nested under the call that started it. Every text is redacted and bounded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agentir.analysis.secrets import redact
from agentir.model import (
    Compaction,
    ErrorEvent,
    Event,
    Finding,
    Message,
    ToolCall,
    ToolResult,
)

TEXT_LIMIT = 4_000  # characters of a message or output kept per step
ARG_LIMIT = 2_000  # characters of one tool argument kept
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
_SPAWNERS = ("task", "agent", "spawn")  # tool names that start a subagent


def clean_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """Redacted, bounded, control-character-free text (newlines and tabs kept)."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + f"…[{len(value) - limit} more characters]"
    return _CONTROL.sub(" ", redact(value))


@dataclass(frozen=True, slots=True)
class StepResult:
    """The result paired with a tool call."""

    seq: int
    ts: datetime | None
    ok: bool | None
    exit_code: int | None
    output: str
    duration_seconds: float | None  # from the call to this result


@dataclass(frozen=True, slots=True)
class StepTool:
    """A tool call with its arguments and the result(s) paired to it by call id."""

    name: str
    call_id: str | None
    args: Mapping[str, str]
    command: str | None
    results: tuple[StepResult, ...] = ()

    @property
    def result(self) -> StepResult | None:
        """The last result (some agents report a running process first, the exit later)."""
        return self.results[-1] if self.results else None


@dataclass(frozen=True, slots=True)
class MarkedFinding:
    """A detector finding, numbered from 1 in replay order, with the steps it marks."""

    number: int
    session_id: str
    detector: str
    severity: str
    message: str
    seqs: tuple[int, ...]
    steps: tuple[int, ...]  # 0-based step indexes, first = where it is first visible

    @property
    def step(self) -> int:
        """The step where the finding is shown first."""
        return self.steps[0]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the replay (`index` is 0-based; people see index + 1)."""

    index: int
    session_id: str
    seq: int
    ts: datetime | None
    gap_seconds: float | None  # since the previous step with a time, in the same session
    kind: str  # message / reasoning / tool_call / tool_result / compaction / error
    source: str
    role: str | None = None
    injected: str | None = None
    text: str = ""
    tool: StepTool | None = None
    sidechain: str | None = None
    depth: int = 0  # 0 = main agent; 1 = a subagent started by a main-agent call; ...
    parent_step: int | None = None  # the step of the call that started this subagent
    findings: tuple[int, ...] = ()  # finding numbers marked here


@dataclass(frozen=True, slots=True)
class Replay:
    """A trace as replay steps, with the findings the detectors reported."""

    path: str
    format: str
    sessions: tuple[str, ...]
    steps: tuple[Step, ...]
    findings: tuple[MarkedFinding, ...]
    detectors: bool  # False when no detectors were available (findings then empty)
    events: int = 0
    skipped_records: int = 0
    detector_error: str | None = None  # why the detectors failed, when they did

    def step_for_seq(self, seq: int, session_id: str | None = None) -> int | None:
        """Index of the first step at or after `seq` (in `session_id`, or the first session)."""
        wanted = session_id or (self.sessions[0] if self.sessions else None)
        for step in self.steps:
            if step.session_id == wanted and step.seq >= seq:
                return step.index
        return None


@dataclass
class _Builder:
    """Mutable state while folding events into steps (one per session)."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    call_step: dict[str, int] = field(default_factory=dict)  # call id -> step index
    seq_step: dict[int, int] = field(default_factory=dict)  # event seq -> step index
    pending_seqs: list[int] = field(default_factory=list)  # seqs waiting for the next step
    side_depth: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    open_calls: list[tuple[str, int]] = field(default_factory=list)  # (call id, step index)
    last_ts: datetime | None = None


def _arg_text(value: Any) -> str:
    if isinstance(value, str):
        return clean_text(value, ARG_LIMIT)
    try:
        rendered = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        rendered = repr(value)
    return clean_text(rendered, ARG_LIMIT)


def _sidechain_place(b: _Builder, sidechain: str | None) -> tuple[int, int | None]:
    """Depth and parent step of an event, nesting a new subagent under its starting call."""
    if sidechain is None:
        return 0, None
    known = b.side_depth.get(sidechain)
    if known is not None:
        return known
    parent: int | None = b.call_step.get(sidechain)  # Claude Code 1.0: sidechain = Task call id
    if parent is None:
        # Otherwise the newest call still waiting for its result, preferring Task / Agent.
        open_steps = [i for _, i in b.open_calls]
        spawners = [
            i
            for i in open_steps
            if any(w in str(b.steps[i]["tool_name"]).lower() for w in _SPAWNERS)
        ]
        candidates = spawners or open_steps
        parent = candidates[-1] if candidates else None
    depth = (b.steps[parent]["depth"] + 1) if parent is not None else 1
    b.side_depth[sidechain] = (depth, parent)
    return depth, parent


def _new_step(b: _Builder, ev: Event, kind: str, **values: Any) -> dict[str, Any]:
    index = len(b.steps)  # local to the session; made global once every session is read
    depth, parent = _sidechain_place(b, ev.sidechain)
    gap = None
    if ev.ts is not None and b.last_ts is not None:
        gap = max(0.0, (ev.ts - b.last_ts).total_seconds())
    if ev.ts is not None:
        b.last_ts = ev.ts
    step: dict[str, Any] = {
        "index": index,
        "session_id": ev.session_id,
        "seq": ev.seq,
        "ts": ev.ts,
        "gap_seconds": gap,
        "kind": kind,
        "source": str(ev.source),
        "sidechain": ev.sidechain,
        "depth": depth,
        "parent_step": parent,
        "tool_name": None,
        "results": [],
        **values,
    }
    b.steps.append(step)
    for seq in [*b.pending_seqs, ev.seq]:
        b.seq_step[seq] = index
    b.pending_seqs.clear()
    return step


def _feed(b: _Builder, ev: Event) -> None:
    if isinstance(ev, Message):
        kind = "reasoning" if ev.reasoning else "message"
        _new_step(b, ev, kind, role=ev.role, injected=ev.injected, text=clean_text(ev.text))
    elif isinstance(ev, ToolCall):
        args = {str(k): _arg_text(v) for k, v in ev.args.items()}
        step = _new_step(
            b,
            ev,
            "tool_call",
            tool_name=ev.name,
            call_id=ev.call_id,
            args=args,
            command=clean_text(ev.command, ARG_LIMIT) if ev.command else None,
        )
        if ev.call_id:
            b.call_step[ev.call_id] = step["index"]
            b.open_calls.append((ev.call_id, step["index"]))
    elif isinstance(ev, ToolResult):
        index = b.call_step.get(ev.call_id or "")
        if index is None:
            _new_step(
                b,
                ev,
                "tool_result",
                tool_name=ev.name or "?",
                call_id=ev.call_id,
                args={},
                command=None,
                results=[_result(ev, None)],
            )
            return
        call = b.steps[index]
        call["results"].append(_result(ev, call["ts"]))
        b.seq_step[ev.seq] = index
        b.open_calls = [(c, i) for c, i in b.open_calls if c != ev.call_id]
    elif isinstance(ev, Compaction):
        note = f"context compacted ({ev.trigger or 'trigger unknown'}"
        note += f", {ev.pre_tokens:,} tokens before)" if ev.pre_tokens else ")"
        _new_step(b, ev, "compaction", text=note)
    elif isinstance(ev, ErrorEvent):
        _new_step(b, ev, "error", role=ev.category, text=clean_text(ev.message))
    else:  # model calls and session metadata: shown with the next step
        b.pending_seqs.append(ev.seq)


def _result(ev: ToolResult, call_ts: datetime | None) -> StepResult:
    took = None
    if ev.ts is not None and call_ts is not None:
        took = max(0.0, (ev.ts - call_ts).total_seconds())
    return StepResult(ev.seq, ev.ts, ev.ok, ev.exit_code, clean_text(ev.output), took)


def _freeze(raw: dict[str, Any], marks: Mapping[int, list[int]]) -> Step:
    tool = None
    if raw["kind"] in ("tool_call", "tool_result"):
        tool = StepTool(
            name=str(raw["tool_name"]),
            call_id=raw.get("call_id"),
            args=raw.get("args", {}),
            command=raw.get("command"),
            results=tuple(raw["results"]),
        )
    return Step(
        index=raw["index"],
        session_id=raw["session_id"],
        seq=raw["seq"],
        ts=raw["ts"],
        gap_seconds=raw["gap_seconds"],
        kind=raw["kind"],
        source=raw["source"],
        role=raw.get("role"),
        injected=raw.get("injected"),
        text=raw.get("text", ""),
        tool=tool,
        sidechain=raw["sidechain"],
        depth=raw["depth"],
        parent_step=raw["parent_step"],
        findings=tuple(marks.get(raw["index"], ())),
    )


def build_steps(
    events: Iterable[Event],
    findings: Mapping[str, Sequence[Finding]] | None = None,
) -> tuple[list[Step], list[MarkedFinding], list[str], int]:
    """Fold events (trace order) into steps; mark `findings` (by session id) at their steps.

    Returns (steps, marked findings, session ids in order, number of events read).
    """
    builders: dict[str, _Builder] = {}
    order: list[str] = []
    n = 0
    for ev in events:
        n += 1
        b = builders.get(ev.session_id)
        if b is None:
            b = builders[ev.session_id] = _Builder()
            order.append(ev.session_id)
        _feed(b, ev)
    # Sessions are laid out one after another; re-index so step indexes are global.
    raw_steps: list[dict[str, Any]] = []
    seq_maps: dict[str, dict[int, int]] = {}
    for sid in order:
        b = builders[sid]
        shift = len(raw_steps)
        if b.steps:  # trailing metadata is marked at the session's last step
            for seq in b.pending_seqs:
                b.seq_step[seq] = len(b.steps) - 1
        for raw in b.steps:
            raw["index"] += shift
            if raw["parent_step"] is not None:
                raw["parent_step"] += shift
        seq_maps[sid] = {seq: i + shift for seq, i in b.seq_step.items()}
        raw_steps.extend(b.steps)
    marked = _mark(findings or {}, order, seq_maps, raw_steps)
    marks: dict[int, list[int]] = {}
    for f in marked:
        for i in f.steps:
            marks.setdefault(i, []).append(f.number)
    return [_freeze(raw, marks) for raw in raw_steps], marked, order, n


def _mark(
    findings: Mapping[str, Sequence[Finding]],
    order: Sequence[str],
    seq_maps: Mapping[str, Mapping[int, int]],
    raw_steps: Sequence[Mapping[str, Any]],
) -> list[MarkedFinding]:
    placed: list[tuple[int, int, str, Finding, tuple[int, ...]]] = []
    for pos, sid in enumerate(order):
        seq_map = seq_maps.get(sid, {})
        session_steps = [r["index"] for r in raw_steps if r["session_id"] == sid]
        for k, f in enumerate(findings.get(sid, ())):
            steps = sorted({seq_map[s] for s in f.seqs if s in seq_map})
            if not steps and session_steps:
                # no cited seq is a step: the first step after the earliest one cited, else
                # the session's last step (a finding about the whole session)
                first = min(f.seqs, default=None)
                later = [
                    i for i in session_steps if first is not None and raw_steps[i]["seq"] >= first
                ]
                steps = (later or session_steps[-1:])[:1]
            if not steps:
                continue
            placed.append((steps[0], pos * 1_000_000 + k, sid, f, tuple(steps)))
    placed.sort(key=lambda p: (p[0], p[1]))
    return [
        MarkedFinding(
            number=i + 1,
            session_id=sid,
            detector=f.detector,
            severity=f.severity,
            message=clean_text(f.message, 1_000),
            seqs=tuple(f.seqs),
            steps=steps,
        )
        for i, (_, _, sid, f, steps) in enumerate(placed)
    ]


ObserverFactory = Callable[[], Sequence[Any]]


def detector_observers() -> ObserverFactory | None:
    """The detectors' observer factory, or None while `agentir.analysis.detectors` is absent."""
    import importlib

    try:  # imported by name: the package is written in parallel and may not exist yet
        detectors = importlib.import_module("agentir.analysis.detectors")
    except ImportError:
        return None
    factory = getattr(detectors, "default_observers", None)
    if factory is None:
        return None
    policy: Any = None
    try:
        from agentir.policy import load_policy
    except ImportError:
        load_policy = None  # type: ignore[assignment]
    if load_policy is not None:
        policy = load_policy()  # an invalid policy file is an error the responder must see

    def make() -> Sequence[Any]:
        return list(factory(policy) if policy is not None else factory())

    return make


def load_replay(
    path: Path | str,
    fmt: str | None = None,
    observers: ObserverFactory | bool | None = True,
) -> Replay:
    """Read a trace into a Replay; `observers=True` uses the detectors when they exist."""
    from agentir.traces import open_trace

    factory: ObserverFactory | None
    factory = detector_observers() if observers is True else (observers or None)
    findings: dict[str, list[Finding]] = {}
    failure: str | None = None
    if factory is not None:
        from agentir.analysis.assess import assess_trace
        from agentir.errors import AgentirError

        try:
            assessed = assess_trace(path, fmt, factory)
        except AgentirError:
            raise  # the trace itself cannot be read: the same error the replay would meet
        except Exception as exc:  # a detector bug must not cost the responder the replay
            failure = f"{type(exc).__name__}: {exc}"
            factory = None
        else:
            for a in assessed.sessions:
                findings[a.session.id] = list(a.findings)
    stream = open_trace(path, fmt)
    steps, marked, order, n = build_steps(stream.events(), findings)
    return Replay(
        path=str(stream.path),
        format=stream.format,
        sessions=tuple(order),
        steps=tuple(steps),
        findings=tuple(marked),
        detectors=factory is not None,
        events=n,
        skipped_records=stream.stats.total_skipped,
        detector_error=failure,
    )


def select_session(replay: Replay, prefix: str) -> Replay:
    """The replay restricted to the one session whose id starts with `prefix`."""
    from dataclasses import replace

    from agentir.errors import UsageError

    matches = [s for s in replay.sessions if s.startswith(prefix)]
    if len(matches) != 1:
        found = "no session" if not matches else f"{len(matches)} sessions"
        raise UsageError(
            f"{found} in {replay.path} match {prefix!r}",
            hint="sessions: " + ", ".join(replay.sessions[:10]),
        )
    sid = matches[0]
    kept = [s for s in replay.steps if s.session_id == sid]
    remap = {s.index: i for i, s in enumerate(kept)}
    steps = tuple(
        replace(
            s,
            index=remap[s.index],
            parent_step=remap.get(s.parent_step) if s.parent_step is not None else None,
        )
        for s in kept
    )
    finds = [f for f in replay.findings if f.session_id == sid]
    numbers = {f.number: i + 1 for i, f in enumerate(finds)}
    findings = tuple(
        replace(f, number=numbers[f.number], steps=tuple(remap[i] for i in f.steps)) for f in finds
    )
    steps = tuple(
        replace(s, findings=tuple(numbers[n] for n in s.findings if n in numbers)) for s in steps
    )
    return replace(replay, sessions=(sid,), steps=steps, findings=findings)


def start_index(replay: Replay, from_seq: int | None, finding: int | None) -> int:
    """The step to start at for `--from SEQ` / `--finding N` (0 when neither is given)."""
    from agentir.errors import UsageError

    if from_seq is not None and finding is not None:
        raise UsageError("--from and --finding cannot be used together")
    if finding is not None:
        if not replay.findings:
            why = "" if replay.detectors else " (the detectors are not installed)"
            raise UsageError(f"--finding {finding}: this trace has no findings{why}")
        if not 1 <= finding <= len(replay.findings):
            raise UsageError(
                f"--finding {finding} is out of range",
                hint=f"findings are numbered 1 to {len(replay.findings)}",
            )
        return replay.findings[finding - 1].step
    if from_seq is not None:
        index = replay.step_for_seq(from_seq)
        if index is None:
            last = max((s.seq for s in replay.steps), default=-1)
            raise UsageError(
                f"--from {from_seq}: no step at or after seq {from_seq}",
                hint=f"the last step is at seq {last}",
            )
        return index
    return 0


def iter_tool_steps(replay: Replay) -> Iterator[Step]:
    """The steps that are tool calls, in order."""
    return (s for s in replay.steps if s.tool is not None and s.kind == "tool_call")


def replay_data(replay: Replay, start: int = 0) -> dict[str, Any]:
    """The `--json` data: trace, sessions, findings and every step."""
    from agentir.render.jsonout import to_jsonable

    steps = []
    for s in replay.steps:
        item = to_jsonable(s)
        if s.tool is not None:
            item["tool"]["result"] = to_jsonable(s.tool.result)
        steps.append(item)
    return {
        "trace": replay.path,
        "format": replay.format,
        "sessions": list(replay.sessions),
        "detectors": replay.detectors,
        "detector_error": replay.detector_error,
        "counts": {
            "events": replay.events,
            "steps": len(replay.steps),
            "tool_calls": sum(1 for _ in iter_tool_steps(replay)),
            "findings": len(replay.findings),
            "skipped_records": replay.skipped_records,
        },
        "start_step": start,
        "findings": [to_jsonable(f) | {"step": f.step} for f in replay.findings],
        "steps": steps,
    }
