"""The detectors on real public traces they were not written against (../shared/traces).

Expected values were counted by reading the raw files (a throwaway script over the JSON):
i_got_id_demo.traj has 21 actions, 18 of them `curl`, 14 of those sending data (-X POST,
-F or -d) to web.chal.csaw.io; pydicom__pydicom-1458.traj repeats one `edit 287:295` action
twice in a row (steps 6 and 7, same observation) and then succeeds with a changed edit, and
removes reproduce_bug.py with `rm` at step 10; Claude Code 5c0375b4 has 21 tool calls, of
which three failed at non-adjacent places; the Codex rollout ran every turn with sandbox
danger-full-access and approval never; OpenHands eval instance ponylang__ponyc-4588 ended
with "Agent reached maximum iteration".
"""

from __future__ import annotations

import json
from pathlib import Path

from agentir.analysis.assess import assess_trace
from agentir.analysis.detectors import observer_factory
from agentir.model import Assessment, FileOp
from tests.conftest import shared_trace


def _one(relative: str) -> Assessment:
    (a,) = assess_trace(shared_trace(relative), None, observer_factory()).sessions
    return a


def _serious(a: Assessment) -> list[str]:
    return [f"{f.detector}: {f.message}" for f in a.findings if f.severity != "info"]


def test_curl_session_gets_network_effects_and_a_host_finding() -> None:
    a = _one("swe-agent/i_got_id_demo.traj")
    (net,) = [e for e in a.effects if e.kind == "network"]
    assert net.target == "web.chal.csaw.io" and net.count == 18
    (host,) = [f for f in a.findings if f.data.get("rule") == "host_not_allowed"]
    assert host.data["count"] == 14 and host.severity == "high"  # uploads with -F
    assert a.severity.suggested == "SEV1"  # data uploaded to an external host


def test_pydicom_retried_edit_is_not_a_loop_and_the_shell_deletion_is_listed() -> None:
    a = _one("swe-agent/pydicom__pydicom-1458.traj")
    assert not [f for f in a.findings if f.detector == "loop"]  # two identical, then progress
    files = {f.path: f for f in a.files}
    deleted = files["reproduce_bug.py"]
    assert FileOp.DELETE in deleted.ops and "rm" in deleted.via
    assert a.severity.suggested is None


def test_ordinary_claude_code_sessions_do_not_flood() -> None:
    for name in (
        "claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
        "claude-code/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
    ):
        a = _one(name)
        assert _serious(a) == [], name
        assert a.severity.suggested is None


def test_codex_full_access_is_the_only_finding() -> None:
    a = _one("codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl")
    (only,) = [f for f in a.findings if f.severity != "info"]
    assert only.detector == "permissions" and only.data["rule"] == "risky_mode"
    assert only.data["modes"] == {"sandbox": "danger-full-access", "approval_policy": "never"}
    assert a.severity.suggested is None  # a posture, not an incident


def test_openhands_iteration_limit_is_a_visible_stop() -> None:
    ta = assess_trace(shared_trace("openhands/output.jsonl"), None, observer_factory())
    by_id = {a.session.id: a for a in ta.sessions}
    stops = [f for f in by_id["ponylang__ponyc-4588"].findings if f.detector == "stopped"]
    assert any(f.data["category"] == "max_iterations" for f in stops)
    assert by_id["ponylang__ponyc-4588"].severity.suggested == "SEV3"


def test_four_identical_consecutive_calls_in_a_real_claude_session(tmp_path: Path) -> None:
    """The first Bash call of 5c0375b4 and its result, repeated three more times in place."""
    source = shared_trace("claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl")
    records = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]

    def blocks(rec: dict) -> list:
        content = rec.get("message", {}).get("content")
        return content if isinstance(content, list) else []

    i_call = next(
        i
        for i, r in enumerate(records)
        if any(b.get("type") == "tool_use" and b.get("name") == "Bash" for b in blocks(r))
    )
    call_id = next(b["id"] for b in blocks(records[i_call]) if b.get("type") == "tool_use")
    i_result = next(
        i for i, r in enumerate(records) if any(b.get("tool_use_id") == call_id for b in blocks(r))
    )
    copies = []
    for n in range(3):
        for rec in (records[i_call], records[i_result]):
            text = json.dumps(rec).replace(call_id, f"{call_id}_again{n}")
            dup = json.loads(text)
            dup["uuid"] = f"{dup['uuid']}-again{n}"
            if dup.get("message", {}).get("id"):
                dup["message"]["id"] = f"{dup['message']['id']}_again{n}"
            copies.append(dup)
    out = records[: i_result + 1] + copies + records[i_result + 1 :]
    looped = tmp_path / source.name
    looped.write_text("\n".join(json.dumps(r) for r in out) + "\n")
    (a,) = assess_trace(looped, None, observer_factory()).sessions
    (loop,) = [f for f in a.findings if f.detector == "loop"]
    assert loop.severity == "warning" and loop.data["count"] == 4
    assert a.severity.suggested == "SEV3"
