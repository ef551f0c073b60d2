"""OpenHands readers: V0 trajectories, eval `output.jsonl`, per-event directories, V1 SDK events.

The conversion itself lives in `openhands_v0` and `openhands_v1`; this module detects
each container by content and feeds its events in order, one session at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentir.analysis.patches import parse_unified_diff
from agentir.model import ErrorEvent, Event, Message, ModelCall, SessionInfo, ToolResult
from agentir.traces.base import (
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    as_dict,
    as_int,
    digest,
    excerpt,
    iter_json_lines,
    loads,
    opt_float,
    parse_ts,
)
from agentir.traces.litellm_usage import uncached_input
from agentir.traces.openhands_v0 import V0Session, error_category, flat_events, has_response_usage
from agentir.traces.openhands_v1 import V1Session, is_v1_event
from agentir.traces.whole_json import head_starts_with, load_document, sniff_document, trace_stem

_AGENT = "openhands"
_V0_FILE = re.compile(r"^(\d+)\.json$")
_V1_FILE = re.compile(r"^event[-_](\d+)[-_].*\.json$")
_EVAL_KEYS = ("instance_id", "instruction", "test_result", "metrics", "issue", "git_patch")
_HEAD_V0_EVENT = re.compile(r'"(?:action|observation)"\s*:\s*"\w+"')
_HEAD_V0_SOURCE = re.compile(r'"source"\s*:\s*"(?:agent|user|environment)"')


def _is_v0_event(value: Any) -> bool:
    """One V0 event: `action` or `observation` with the V0 envelope (or the oldest flat form)."""
    if not isinstance(value, dict) or "role" in value or "kind" in value:
        return False
    if not isinstance(value.get("action"), str) and not isinstance(value.get("observation"), str):
        return False
    return any(
        k in value for k in ("id", "timestamp", "source", "args", "extras", "content", "command")
    )


def _is_v0_history(history: Any) -> bool:
    """A list that opens with a V0 event (or [action, observation] pair) and is mostly V0 events."""
    if not isinstance(history, list) or not history:
        return False
    firsts = [e for _, e in flat_events(history[:8])]
    # Tolerate a few damaged entries, never a list of something else.
    return (
        bool(firsts)
        and _is_v0_event(firsts[0])
        and 2 * sum(map(_is_v0_event, firsts)) >= len(firsts)
    )


def _is_eval_instance(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _is_v0_history(value.get("history"))
        and any(k in value for k in _EVAL_KEYS)
    )


def _v0_session(events: list[Any], em: Emitter, stats: ReadStats) -> V0Session:
    # Per-call usage wins; cumulative llm_metrics are used only when no response has usage.
    per_response = any(has_response_usage(e) for _, e in flat_events(events))
    return V0Session(em, stats, per_response_usage=per_response)


class OpenHandsTrajectoryReader(TraceReader):
    """A V0 trajectory: one JSON list of events (`save_trajectory_path`, UI download)."""

    format = "openhands"
    agent = _AGENT
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """A JSON list of V0 events."""
        doc = sniff_document(probe)
        if doc is not None:
            return _is_v0_history(doc)
        head = probe.head_text
        return head_starts_with(probe, "[") and bool(
            _HEAD_V0_EVENT.search(head) and _HEAD_V0_SOURCE.search(head)
        )

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the events of the one session in the file."""
        doc = load_document(path, stats, "OpenHands trajectory")
        if not isinstance(doc, list):
            stats.skip("OpenHands trajectory is not a JSON list")
            return
        em = Emitter(path, self.agent, trace_stem(path, (".json",)))
        session = _v0_session(doc, em, stats)
        for i, event in flat_events(doc):
            yield from session.feed(event, pointer=f"/{i}")


class OpenHandsEvalReader(TraceReader):
    """V0 evaluation output: `output.jsonl`, one instance (its own session) per line."""

    format = "openhands-eval"
    agent = _AGENT
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """An object (first line or whole file) with an OpenHands `history` and eval keys."""
        doc = sniff_document(probe)
        if isinstance(doc, list):
            return bool(doc) and _is_eval_instance(doc[0])
        return _is_eval_instance(doc)

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield every instance's events, instance after instance."""
        with path.open("rb") as fh:
            first = b""
            while not first.strip():
                first = fh.readline()
                if not first:
                    break
        try:
            line_oriented = isinstance(loads(first.strip()), dict)
        except ValueError:
            line_oriented = False
        if line_oriented:
            for lineno, value in iter_json_lines(path, stats):
                yield from self._instance(path, value, stats, lineno, "")
            return
        doc = load_document(
            path, stats, "OpenHands evaluation output"
        )  # one pretty-printed instance
        for i, value in enumerate(doc if isinstance(doc, list) else [doc]):
            yield from self._instance(
                path, value, stats, None, f"/{i}" if isinstance(doc, list) else ""
            )

    def _instance(
        self, path: Path, inst: Any, stats: ReadStats, line: int | None, base: str
    ) -> Iterator[Event]:
        if not isinstance(inst, dict):
            stats.skip("evaluation line is not an object")
            return
        history = inst.get("history")
        if not isinstance(history, list):
            stats.skip("evaluation instance without a history list")
            return
        sid = inst.get("instance_id")
        if not isinstance(sid, (str, int)) or isinstance(sid, bool):
            issue = as_dict(inst.get("issue"))
            sid = f"issue-{issue['number']}" if "number" in issue else f"{path.stem}-{line or 1}"
        em = Emitter(path, self.agent, str(sid))
        metadata, instance = as_dict(inst.get("metadata")), as_dict(inst.get("instance"))
        model = as_dict(metadata.get("llm_config")).get("model")
        extra = {
            k: metadata[k] for k in ("agent_class", "max_iterations", "dataset") if k in metadata
        }
        yield em.make(
            SessionInfo,
            ts=parse_ts(metadata.get("start_time")),
            line=line,
            pointer=f"{base}/metadata",
            model=model if isinstance(model, str) else None,
            git_commit=_str(instance.get("base_commit") or inst.get("base_commit")),
            repository_url=_str(instance.get("repo")),
            extra=extra,
        )
        instruction = inst.get("instruction")
        asked = any(
            as_dict(e).get("action") == "message" and as_dict(e).get("source") == "user"
            for _, e in flat_events(history)
        )
        if isinstance(instruction, str) and instruction.strip() and not asked:
            # The oldest histories hold no user message: the instruction is the task.
            yield em.make(
                Message,
                ts=None,
                line=line,
                pointer=f"{base}/instruction",
                role="user",
                text=instruction,
            )
        session = _v0_session(history, em, stats)
        for i, event in flat_events(history):
            yield from session.feed(event, line=line, pointer=f"{base}/history/{i}")
        if session.model_calls == 0:
            yield from _total_usage(em, as_dict(inst.get("metrics")), line, base)
        patch = as_dict(inst.get("test_result")).get("git_patch") or inst.get("git_patch")
        if isinstance(patch, str) and patch.strip():
            yield em.make(
                ToolResult,
                ts=None,
                line=line,
                pointer=f"{base}/test_result/git_patch",
                call_id=None,
                name="git_patch",
                ok=True,
                output=excerpt(patch),
                output_digest=digest(patch),
                changes=parse_unified_diff(patch),
            )
        error = inst.get("error")
        if isinstance(error, str) and error.strip():
            yield em.make(
                ErrorEvent,
                ts=None,
                line=line,
                pointer=f"{base}/error",
                category=error_category(error),
                message=error.strip(),
            )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _total_usage(
    em: Emitter, metrics: Mapping[str, Any], line: int | None, base: str
) -> Iterator[Event]:
    """One ModelCall from an instance's final `metrics`, when no event gave per-call usage."""
    totals = as_dict(metrics.get("accumulated_token_usage"))
    prompt, read = as_int(totals.get("prompt_tokens")), as_int(totals.get("cache_read_tokens"))
    write, completion = (
        as_int(totals.get("cache_write_tokens")),
        as_int(totals.get("completion_tokens")),
    )
    cost = opt_float(metrics.get("accumulated_cost")) or None
    if not (prompt or completion or cost):
        return
    calls = len(metrics.get("response_latencies") or []) or len(metrics.get("costs") or []) or 1
    yield em.make(
        ModelCall,
        ts=None,
        line=line,
        pointer=f"{base}/metrics",
        model=_str(totals.get("model")) if totals.get("model") != "default" else None,
        input_tokens=uncached_input(prompt, read, write),
        output_tokens=completion,
        cache_read_tokens=read,
        cache_write_tokens=write,
        reported_cost_usd=cost,
        calls=calls,
    )


# --------------------------------------------------------------------------- directories


def _numbered(directory: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    """Event files of a directory, in event order (by the number in the name)."""
    try:
        names = [p for p in directory.iterdir() if p.is_file()]
    except OSError:
        return []
    found = [(int(m.group(1)), p) for p in names if (m := pattern.match(p.name))]
    return sorted(found, key=lambda item: item[0])


def _events_dir(path: Path, pattern: re.Pattern[str]) -> Path | None:
    """`path` itself or its `events/` child, when it holds numbered event files."""
    for candidate in (path, path / "events"):
        if candidate.is_dir() and _numbered(candidate, pattern):
            return candidate
    return None


def _first_event(directory: Path, pattern: re.Pattern[str]) -> Any:
    files = _numbered(directory, pattern)
    try:
        return loads(files[0][1].read_bytes()) if files else None
    except (OSError, ValueError):
        return None


def _session_dir(path: Path, events: Path) -> Path:
    """The conversation directory (the parent of `events/`)."""
    return events.parent if events.name == "events" else path


def _iter_event_files(
    files: list[tuple[int, Path]], stats: ReadStats
) -> Iterator[tuple[Path, Any]]:
    """Parsed events in order; unreadable files are counted, a cut-off last one noted."""
    for index, (_, file) in enumerate(files):
        stats.records += 1
        try:
            yield file, loads(file.read_bytes())
        except (OSError, ValueError):
            if index == len(files) - 1:
                stats.truncated_tail = True
                stats.reasons["truncated last event file"] += 1
            else:
                stats.malformed += 1
                stats.reasons["unreadable event file"] += 1


class OpenHandsEventsDirReader(TraceReader):
    """V0 per-event directory: `sessions/<sid>/events/<n>.json`, one event per file."""

    format = "openhands-events"
    agent = _AGENT
    priority = 40
    directory = True

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """A directory (or its `events/`) of numbered `<n>.json` V0 events."""
        events = _events_dir(probe.path, _V0_FILE)
        return events is not None and _is_v0_event(_first_event(events, _V0_FILE))

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the session's events in event-number order."""
        events = _events_dir(path, _V0_FILE)
        if events is None:
            stats.skip("no numbered event files")
            return
        files = _numbered(events, _V0_FILE)
        sid = _session_dir(path, events).name
        per_response = False
        for _, file in files:  # a cheap first pass: does any event carry per-call usage?
            try:
                raw = file.read_bytes()
                if b'"model_response"' in raw and has_response_usage(loads(raw)):
                    per_response = True
                    break
            except (OSError, ValueError):
                continue
        session = V0Session(Emitter(path, self.agent, sid), stats, per_response_usage=per_response)
        for file, event in _iter_event_files(files, stats):
            yield from session.feed(event, pointer=file.name)


class OpenHandsV1Reader(TraceReader):
    """V1 SDK events as JSONL, one event per line."""

    format = "openhands-v1"
    agent = _AGENT
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """The first line is a V1 event (`kind` ActionEvent, ObservationEvent, ...)."""
        return is_v1_event(probe.first_record)

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the conversation's events in line order."""
        session = V1Session(Emitter(path, self.agent, trace_stem(path, (".jsonl", ".json"))), stats)
        for lineno, value in iter_json_lines(path, stats):
            yield from session.feed(value, line=lineno)


class OpenHandsV1EventsDirReader(TraceReader):
    """V1 conversation directory: `events/event-00000-<uuid>.json` (plus `base_state.json`)."""

    format = "openhands-v1-events"
    agent = _AGENT
    priority = 40
    directory = True

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """A directory (or its `events/`) of `event-NNNNN-<id>.json` V1 events."""
        events = _events_dir(probe.path, _V1_FILE)
        return events is not None and is_v1_event(_first_event(events, _V1_FILE))

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the conversation's events in file-number order."""
        events = _events_dir(path, _V1_FILE)
        if events is None:
            stats.skip("no numbered event files")
            return
        conversation = _session_dir(path, events)
        base: Mapping[str, Any] = {}
        for name in ("base_state.json", "meta.json"):
            try:
                base = as_dict(loads((conversation / name).read_bytes()))
                break
            except (OSError, ValueError):
                continue
        em = Emitter(path, self.agent, _str(base.get("id")) or conversation.name)
        llm = as_dict(as_dict(base.get("agent")).get("llm"))
        model = _str(llm.get("model")) or _str(base.get("llm_model"))
        if base:
            yield em.make(
                SessionInfo,
                ts=parse_ts(base.get("created_at")),
                pointer="base_state.json",
                model=model,
                repository_url=_str(base.get("selected_repository")),
                git_branch=_str(base.get("selected_branch")),
                title=_str(base.get("title")),
            )
        session = V1Session(em, stats)
        for file, event in _iter_event_files(_numbered(events, _V1_FILE), stats):
            yield from session.feed(event, pointer=file.name)
