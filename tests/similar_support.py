"""Claude Code sessions written from short step lists (tests/data/similar/sessions.json), and a
real repository whose history holds the incident's commit and, optionally, a look-alike."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from agentir.incidents.store import IncidentStore
from tests.remediate_support import CLAUDE_TRAILER, Repo

DATA = Path(__file__).resolve().parent / "data" / "similar"
CALC = (DATA / "calc.py").read_text()
STEPS: dict[str, list[list[Any]]] = {
    k: v for k, v in json.loads((DATA / "sessions.json").read_text()).items() if k != "_comment"
}
CLAUDE_AUTHOR = ("Dev Person", "dev@example.com")


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, as Claude Code writes it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _sub(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, text in values.items():
            value = value.replace("{{" + key + "}}", text)
        return value
    if isinstance(value, list):
        return [_sub(v, values) for v in value]
    return value


def claude_session(
    path: Path,
    sid: str,
    cwd: Path,
    steps: list[list[Any]],
    start: datetime,
    values: dict[str, str] | None = None,
) -> Path:
    """Write one Claude Code session (a step every 10 seconds from `start`)."""
    values = {"CWD": str(cwd), **(values or {})}
    lines: list[dict[str, Any]] = []
    clock = start
    parent: str | None = None

    def rec(kind: str, message: dict[str, Any], **extra: Any) -> None:
        nonlocal clock, parent
        uuid = f"u-{len(lines):04d}"
        lines.append(
            {
                "parentUuid": parent, "isSidechain": False, "userType": "external",
                "cwd": str(cwd), "sessionId": sid, "version": "2.0.30", "gitBranch": "main",
                "type": kind, "message": message, "uuid": uuid, "timestamp": iso(clock),
                **extra,
            }
        )  # fmt: skip
        parent = uuid
        clock += timedelta(seconds=5)

    def assistant(content: list[dict[str, Any]]) -> None:
        n = len(lines)
        rec(
            "assistant",
            {
                "model": "claude-sonnet-4-5-20250929", "id": f"msg_{n}", "type": "message",
                "role": "assistant", "content": content, "stop_reason": "tool_use",
                "usage": {"input_tokens": 10, "cache_creation_input_tokens": 100,
                          "cache_read_input_tokens": 0, "output_tokens": 40},
            },
            requestId=f"req_{n}",
        )  # fmt: skip

    def result(call_id: str, text: str, error: bool, tool_result: dict[str, Any]) -> None:
        block = {"tool_use_id": call_id, "type": "tool_result", "content": text, "is_error": error}
        rec("user", {"role": "user", "content": [block]}, toolUseResult=tool_result)

    for i, step in enumerate(_sub(steps, values)):
        kind, *args = step
        call_id = f"toolu_{i:03d}"
        if kind == "user":
            rec("user", {"role": "user", "content": args[0]})
        elif kind == "text":
            assistant([{"type": "text", "text": args[0]}])
        elif kind == "edit":
            rel, old, new = args
            full = str(cwd / rel)
            assistant([{"type": "tool_use", "id": call_id, "name": "Edit", "input": {
                "file_path": full, "old_string": old, "new_string": new, "replace_all": False}}])  # fmt: skip
            result(call_id, f"The file {full} has been updated.", False, {
                "filePath": full, "oldString": old, "newString": new, "originalFile": "",
                "structuredPatch": [], "userModified": False, "replaceAll": False})  # fmt: skip
        elif kind == "write":
            rel, content = args
            full = str(cwd / rel)
            assistant([{"type": "tool_use", "id": call_id, "name": "Write",
                        "input": {"file_path": full, "content": content}}])  # fmt: skip
            result(call_id, f"File created successfully at: {full}", False, {
                "type": "create", "filePath": full, "content": content, "structuredPatch": []})  # fmt: skip
        elif kind == "bash":
            command, output, error = args
            assistant([{"type": "tool_use", "id": call_id, "name": "Bash",
                        "input": {"command": command, "description": "run"}}])  # fmt: skip
            text = f"Exit code 1\n{output}" if error else output
            result(call_id, text, error, {"stdout": output, "stderr": "", "interrupted": False})
        clock += timedelta(seconds=5)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def calc_repo(root: Path, when: datetime, *, lookalike: bool) -> Repo:
    """A repository with src/calc.py and its history up to the incident's agent commit.

    History (dates relative to `when`, the incident session's start):
    - 300 days before: the human's initial import;
    - 200 days before: an agent commit changing clamp (outside the 90-day look-back);
    - 40 days before: a human commit changing clamp (not an agent's);
    - 30 and 25 days before: agent commits to other modules and to `label` in calc.py;
    - 20 days before, when `lookalike`: an agent commit changing clamp (the planted look-alike);
    - at `when` + 1 minute: the incident session's own commit (`if n > 10:`)."""
    repo = Repo(root).init()

    def at(days: float) -> str:
        return iso(when - timedelta(days=days))

    base = {"src/calc.py": CALC, "src/__init__.py": "", "README.md": "# calc\n"}
    repo.commit("base", base, "Initial import", at(300))
    old = CALC.replace(
        "    if n >= 10:\n        return 10", "    if n >= 10:  # cap\n        return 10"
    )
    repo.commit("ancient", {"src/calc.py": old}, "Cap clamp" + CLAUDE_TRAILER, at(200))
    human = old.replace("# cap", "# cap at ten")
    repo.commit("human", {"src/calc.py": human}, "Explain the cap", at(40))
    repo.commit(
        "other_module",
        {"src/mod_1.py": "def handler_1(event):\n    return event.get('id')\n"},
        "Add handler 1" + CLAUDE_TRAILER,
        at(30),
    )
    label = human.replace('return f"n={n}"', 'return f"n = {n}"')
    repo.commit("label", {"src/calc.py": label}, "Space the label" + CLAUDE_TRAILER, at(25))
    current = label
    if lookalike:
        current = label.replace("        return 10", "        return 10  # upper bound")
        repo.commit("lookalike", {"src/calc.py": current}, "Bound clamp" + CLAUDE_TRAILER, at(20))
    incident = current.replace("    if n >= 10:", "    if n > 10:")
    repo.commit(
        "incident",
        {"src/calc.py": incident},
        "Let clamp accept 10" + CLAUDE_TRAILER,
        iso(when + timedelta(minutes=1)),
    )
    return repo


INCIDENT_SID = "11111111-aaaa-4bbb-8ccc-000000000001"
LOOP_SID = "22222222-aaaa-4bbb-8ccc-000000000002"
FUNC_SID = "33333333-aaaa-4bbb-8ccc-000000000003"
SESSIONS = 50


@dataclass
class World:
    """A repository, a folder of sessions and an incident on one of them."""

    repo: Repo
    traces: Path
    incident: str
    store: IncidentStore
    when: datetime


def make_world(root: Path, *, lookalike_commit: bool, lookalike_sessions: bool) -> World:
    """50 sessions: the incident, two planted look-alikes (or two more ordinary ones), and
    ordinary sessions of which every fifth loops on a different build and test."""
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
    repo = calc_repo(root / "repo", when, lookalike=lookalike_commit)
    traces = root / "traces"
    traces.mkdir()
    incident_trace = claude_session(
        traces / "incident.jsonl", INCIDENT_SID, repo.path, STEPS["incident"], when
    )
    made = 1
    if lookalike_sessions:
        claude_session(traces / "loop.jsonl", LOOP_SID, repo.path, STEPS["loop_lookalike"],
                       when - timedelta(days=3))  # fmt: skip
        claude_session(traces / "func.jsonl", FUNC_SID, repo.path, STEPS["function_lookalike"],
                       when - timedelta(days=4))  # fmt: skip
        made += 2
    for i in range(SESSIONS - made):
        kind = "ordinary_loop" if i % 5 == 0 else "ordinary"
        folder = traces / f"project-{i % 4}"
        folder.mkdir(exist_ok=True)
        claude_session(
            folder / f"ordinary-{i}.jsonl", f"44444444-aaaa-4bbb-8ccc-{i:012d}", repo.path,
            STEPS[kind], when - timedelta(days=5, hours=i), {"I": str(i)},
        )  # fmt: skip
    store = IncidentStore()
    incident = store.open(
        "clamp accepts 10 and the agent claimed green tests", "SEV2",
        sessions=[INCIDENT_SID], traces=[incident_trace],
    )  # fmt: skip
    return World(repo, traces, incident.id, store, when)
