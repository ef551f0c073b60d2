"""SWE-agent `.traj` and mini-swe-agent `.traj.json` readers (trace-formats.md §3).

Both are one JSON document per run, with no per-step timestamps (`ts` is None and order
is kept by `seq`). SWE-agent gives only session totals for tokens (`info.model_stats`,
one ModelCall with `calls` = api_calls) and its product is the `info.submission` diff,
emitted as a final `submission` ToolResult whose changes are the net file change.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

from agentir.model import Event, Message, ModelCall, SessionInfo, ToolCall, ToolResult
from agentir.traces.base import (
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    as_dict,
    as_int,
    digest,
    excerpt,
    json_args,
    opt_float,
)
from agentir.traces.mini_swe_agent import (
    exit_status_error,
    is_bare_message_list,
    is_mini_document,
    mini_events,
    submission_result,
)
from agentir.traces.swe_agent_actions import Action, observation_failed, parse_action, parse_call
from agentir.traces.whole_json import (
    head_starts_with,
    load_document,
    sniff_document,
    tail_text,
    trace_stem,
)

_SUFFIXES = (".traj.json", ".traj", ".json")
_HEAD_TRAJECTORY = re.compile(r'"trajectory"\s*:\s*\[')
_HEAD_STEP_KEYS = re.compile(r'"(?:action|observation)"\s*:\s*"')
_MINI_MARK = re.compile(r'"(?:mini_version|trajectory_format)"\s*:')
_OPEN_FILE_FOOTER = re.compile(r"\(Open file: ([^)\n]+)\)")


def _is_swe_document(doc: Any) -> bool:
    """A `.traj` object: a `trajectory` list of steps (plus `info`), or a `history` only."""
    if not isinstance(doc, dict) or is_mini_document(doc):
        return False
    trajectory = doc.get("trajectory")
    if isinstance(trajectory, list):
        if "info" in doc or "history" in doc or "environment" in doc:
            return True
        first = trajectory[0] if trajectory else None
        return isinstance(first, dict) and "action" in first and "observation" in first
    history = doc.get("history")
    if isinstance(history, list) and history and "instance_id" not in doc:
        items = [h for h in history[:5] if isinstance(h, dict)]
        return bool(items) and all("role" in h and "observation" not in h for h in items)
    return False


class SweAgentReader(TraceReader):
    """SWE-agent `.traj` documents, older (state as a JSON string) and newer layouts."""

    format = "swe-agent"
    agent = "swe-agent"
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """A JSON object with a `trajectory` list and `info`, or a `history` of role messages."""
        doc = sniff_document(probe)
        if doc is not None:
            return _is_swe_document(doc)
        if not head_starts_with(probe, "{"):
            return False
        head = probe.head_text  # too big to parse here: judge by the head alone
        return bool(
            _HEAD_TRAJECTORY.search(head)
            and _HEAD_STEP_KEYS.search(head)
            and not _MINI_MARK.search(head)
        )

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the events of the one run in the file."""
        doc = load_document(path, stats, "SWE-agent trajectory")
        if not isinstance(doc, dict):
            stats.skip("SWE-agent trajectory is not a JSON object")
            return
        em = Emitter(path, self.agent, trace_stem(path, _SUFFIXES))
        yield from _SweRun(doc, em, stats).events()


class MiniSweAgentReader(TraceReader):
    """mini-swe-agent `.traj.json` documents (and the older bare message lists)."""

    format = "mini-swe-agent"
    agent = "mini-swe-agent"
    priority = 39

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """`trajectory_format` mini-swe-agent-*, or `messages` with `info.mini_version`."""
        doc = sniff_document(probe)
        if isinstance(doc, dict):
            return is_mini_document(doc)
        if isinstance(doc, list):
            return is_bare_message_list(doc)
        if doc is not None or not head_starts_with(probe, "{"):
            return False
        return "mini-swe-agent" in tail_text(probe.path) or '"mini_version"' in probe.head_text

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the events of the one run in the file."""
        doc = load_document(path, stats, "mini-swe-agent trajectory")
        if not isinstance(doc, (dict, list)):
            stats.skip("mini-swe-agent trajectory is neither an object nor a message list")
            return
        em = Emitter(path, self.agent, trace_stem(path, _SUFFIXES))
        yield from mini_events(doc, em, stats)


# --------------------------------------------------------------------------- SWE-agent runs


def _state(value: Any) -> Mapping[str, Any]:
    """A step's `state`: an object in newer files, a JSON string in older ones."""
    return json_args(value) if isinstance(value, str) else as_dict(value)


def _text(content: Any) -> str:
    """Message content as text (a string, or a list of `{type: text, text}` parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _is_demo(item: Mapping[str, Any]) -> bool:
    """A demonstration shown to the model, not the run's own task."""
    if item.get("is_demo") or item.get("message_type") == "demonstration":
        return True
    return _text(item.get("content")).lstrip().startswith("Here is a demonstration")


def _model_name(doc: Mapping[str, Any]) -> str | None:
    """The model from `replay_config` (object or JSON string) or an inline `config`."""
    for key in ("replay_config", "config"):
        config = _state(doc.get(key))
        model = as_dict(as_dict(config.get("agent")).get("model"))
        for field in ("name", "model_name"):
            if isinstance(model.get(field), str) and model[field]:
                return str(model[field])
    return None


class _SweRun:
    """Turns one SWE-agent document into events."""

    def __init__(self, doc: Mapping[str, Any], em: Emitter, stats: ReadStats) -> None:
        self.doc = doc
        self.em = em
        self.stats = stats
        self.info = self._part("info", dict)
        self.trajectory = self._part("trajectory", list)
        self.history = self._part("history", list)
        self.model = _model_name(doc)
        self.cwd: str | None = None
        self.call_ids: set[str] = set()

    def _part(self, key: str, kind: type) -> Any:
        value = self.doc.get(key)
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.stats.skip(f"'{key}' is not a JSON {'object' if kind is dict else 'list'}")
            return kind()
        return value

    def _call_id(self, wanted: Any, fallback: str) -> str:
        # Replayed demonstrations reuse tool-call ids; each call must pair with its own result.
        call_id = (
            wanted
            if isinstance(wanted, str) and wanted and wanted not in self.call_ids
            else fallback
        )
        self.call_ids.add(call_id)
        return call_id

    def events(self) -> Iterator[Event]:
        """Session metadata, the task, every step, then totals, submission and exit status."""
        for step in self.trajectory:
            workdir = _state(step.get("state") if isinstance(step, dict) else None).get(
                "working_dir"
            )
            if isinstance(workdir, str) and workdir:
                self.cwd = workdir
                break
        version = self.info.get("swe_agent_version")
        environment = self.doc.get("environment")
        yield self.em.make(
            SessionInfo,
            ts=None,
            pointer="",
            cwd=self.cwd,
            model=self.model,
            agent_version=version if isinstance(version, str) else None,
            extra={"environment": environment} if isinstance(environment, str) else {},
        )
        task_index = yield from self._task()
        if self.trajectory:
            yield from self._steps()
        else:
            yield from self._history_steps(task_index)
        yield from self._totals()

    def _task(self) -> Generator[Event, None, int | None]:
        """The first user message that is neither a demonstration nor the system prompt."""
        for i, item in enumerate(self.history):
            if isinstance(item, dict) and item.get("role") == "user" and not _is_demo(item):
                text = _text(item.get("content"))
                if text.strip():
                    yield self.em.make(
                        Message, ts=None, pointer=f"/history/{i}", role="user", text=text
                    )
                    return i
        return None

    def _steps(self) -> Iterator[Event]:
        """Trajectory steps, with function-call names taken from the history when present."""
        calls = [
            h
            for h in self.history
            if isinstance(h, dict)
            and h.get("role") == "assistant"
            and isinstance(h.get("tool_calls"), list)
        ]
        next_call = 0
        tracked_open: str | None = None
        for n, step in enumerate(self.trajectory):
            pointer = f"/trajectory/{n}"
            if not isinstance(step, dict):
                self.stats.skip("trajectory step is not an object")
                continue
            action_text = str(step["action"]) if isinstance(step.get("action"), str) else ""
            state = _state(step.get("state"))
            open_file = state.get("open_file") if isinstance(state.get("open_file"), str) else None
            if not open_file or open_file == "n/a":
                open_file = tracked_open
            workdir = (
                state.get("working_dir") if isinstance(state.get("working_dir"), str) else None
            )
            call: Mapping[str, Any] | None = None
            if next_call < len(calls):
                candidate = calls[next_call]
                hist_action = candidate.get("action")
                if not isinstance(hist_action, str) or hist_action.strip() == action_text.strip():
                    call = candidate
                    next_call += 1
            thought = step.get("thought")
            if isinstance(thought, str) and thought.strip():
                yield self.em.make(
                    Message, ts=None, pointer=pointer, role="assistant", text=thought
                )
            tool_call = as_dict(call["tool_calls"][0]) if call and call["tool_calls"] else {}
            function = as_dict(tool_call.get("function"))
            if isinstance(function.get("name"), str) and function["name"]:
                action = parse_call(
                    function["name"], json_args(function.get("arguments")), action_text, open_file
                )
            elif action_text.strip():
                action = parse_action(action_text, open_file)
            else:
                self.stats.skip("trajectory step without an action")
                continue
            call_id = self._call_id(tool_call.get("id"), f"step-{n}")
            yield from self._call_and_result(
                action, call_id, step.get("observation"), pointer, workdir
            )
            if action.name in ("open", "create") and isinstance(action.args.get("path"), str):
                tracked_open = _join(workdir, action.args["path"])

    def _call_and_result(
        self, action: Action, call_id: str, observation: Any, pointer: str, workdir: str | None
    ) -> Iterator[Event]:
        yield self.em.make(
            ToolCall,
            ts=None,
            pointer=pointer,
            call_id=call_id,
            name=action.name,
            args=action.args,
            command=action.command,
            changes=action.changes,
            cwd=workdir if workdir and workdir != self.cwd else None,
        )
        text = _text(observation)
        yield self.em.make(
            ToolResult,
            ts=None,
            pointer=pointer,
            call_id=call_id,
            name=action.name,
            ok=not observation_failed(text),
            output=excerpt(text),
            output_digest=digest(text),
        )

    def _history_steps(self, task_index: int | None) -> Iterator[Event]:
        """History-only files (demonstrations): assistant actions, then their observations."""
        pending: dict[str, tuple[str, str]] = {}
        last: tuple[str, str] | None = None
        open_file: str | None = None
        for i, item in enumerate(self.history):
            pointer = f"/history/{i}"
            if not isinstance(item, dict):
                self.stats.skip("history item is not an object")
                continue
            role = item.get("role")
            if role == "system" or i == task_index or _is_demo(item):
                continue
            text = _text(item.get("content"))
            if role == "assistant":
                thought = str(item["thought"]) if isinstance(item.get("thought"), str) else text
                if thought.strip():
                    yield self.em.make(
                        Message, ts=None, pointer=pointer, role="assistant", text=thought
                    )
                action_text = str(item["action"]) if isinstance(item.get("action"), str) else ""
                tool_calls = [
                    as_dict(c) for c in item.get("tool_calls") or [] if isinstance(c, dict)
                ]
                for k, tc in enumerate(tool_calls or [{}]):
                    function = as_dict(tc.get("function"))
                    if isinstance(function.get("name"), str) and function["name"]:
                        action = parse_call(
                            function["name"],
                            json_args(function.get("arguments")),
                            action_text,
                            open_file,
                        )
                    elif action_text.strip():
                        action = parse_action(action_text, open_file)
                    else:
                        continue
                    call_id = self._call_id(tc.get("id"), f"history-{i}-{k}")
                    yield self._tool_call(action, call_id, pointer)
                    pending[str(tc.get("id"))] = last = (call_id, action.name)
            elif role in ("tool", "user"):
                ids = item.get("tool_call_ids")
                key = str(ids[0]) if isinstance(ids, list) and ids else None
                target = pending.pop(key, None) if key else None
                target = target or last
                footer = _OPEN_FILE_FOOTER.search(text)
                if footer and footer.group(1) != "n/a":
                    open_file = footer.group(1)
                if target is None:
                    if text.strip():
                        yield self.em.make(
                            Message, ts=None, pointer=pointer, role="user", text=text
                        )
                    continue
                last = None
                yield self.em.make(
                    ToolResult,
                    ts=None,
                    pointer=pointer,
                    call_id=target[0],
                    name=target[1],
                    ok=not observation_failed(text),
                    output=excerpt(text),
                    output_digest=digest(text),
                )
            else:
                self.stats.skip(f"history item with role {role!r}")

    def _tool_call(self, action: Action, call_id: str, pointer: str) -> ToolCall:
        return self.em.make(
            ToolCall,
            ts=None,
            pointer=pointer,
            call_id=call_id,
            name=action.name,
            args=action.args,
            command=action.command,
            changes=action.changes,
        )

    def _totals(self) -> Iterator[Event]:
        """`model_stats` as one ModelCall, the submission diff, an abnormal exit status."""
        model_stats = self.info.get("model_stats")
        if isinstance(model_stats, dict):
            api_calls = as_int(model_stats.get("api_calls"))
            sent, received = (
                as_int(model_stats.get("tokens_sent")),
                as_int(model_stats.get("tokens_received")),
            )
            cost = opt_float(model_stats.get("instance_cost"))
            if api_calls or sent or received or cost:
                yield self.em.make(
                    ModelCall,
                    ts=None,
                    pointer="/info/model_stats",
                    model=self.model,
                    input_tokens=sent,
                    output_tokens=received,
                    reported_cost_usd=cost,
                    calls=api_calls or 1,
                )
        elif model_stats is not None:
            self.stats.skip("'info.model_stats' is not an object")
        yield from submission_result(self.em, self.info.get("submission"))
        status = self.info.get("exit_status")
        if isinstance(status, str) and status.strip() and status.strip() != "submitted":
            yield exit_status_error(self.em, status)


def _join(workdir: str | None, path: str) -> str:
    """`path` against the working directory, when it is relative."""
    if path.startswith("/") or not workdir:
        return path
    return workdir.rstrip("/") + "/" + path
