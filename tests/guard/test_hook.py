"""The guard hook fed real hook JSON, as a fresh process each time: exit codes and reasons."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import orjson
import pytest

from agentir.guard import hook as hook_module
from agentir.guard.state import load_state
from agentir.incidents.store import IncidentStore
from tests.guard.hooks import DATA, HookRun, hook_json, run_hook
from tests.guard.transcript import Transcript

SESSION = "7f3c2a10-5b6d-4e8f-9a0b-1c2d3e4f5a6b"
PYTEST = {"command": "python -m pytest -q tests/test_app.py", "description": "Run the app tests"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    (folder / "src").mkdir(parents=True)
    return folder


@pytest.fixture
def transcript(tmp_path: Path, project: Path) -> Transcript:
    return Transcript(SESSION, project, tmp_path / f"{SESSION}.jsonl")


def call(name: str, t: Transcript, project: Path, policy: Path | None = None) -> HookRun:
    assert t.path is not None
    return run_hook(hook_json(name, SESSION, t.path, project), cwd=project, policy=policy)


def blocks(home: Path) -> list[dict]:
    path = home / "guard" / "blocks.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --------------------------------------------------------------------------- allowed


def test_allowed_calls_exit_0_silently_even_before_the_transcript_exists(
    transcript: Transcript, project: Path, agentir_home: Path
) -> None:
    assert transcript.path is not None and not transcript.path.exists()
    for name in ("pretooluse_bash_ls.json", "pretooluse_write_inside.json"):
        run = call(name, transcript, project)
        assert (run.code, run.stdout, run.stderr) == (0, "", ""), name
    assert blocks(agentir_home) == []


def test_a_read_of_an_unlisted_host_is_allowed_by_default(
    transcript: Transcript, project: Path
) -> None:
    run = call("pretooluse_webfetch.json", transcript, project)
    assert run.code == 0 and run.stderr == ""


# --------------------------------------------------------------------------- forbidden calls


def test_rm_rf_root_is_blocked_with_the_forbidden_command_leading_the_reason(
    transcript: Transcript, project: Path, agentir_home: Path
) -> None:
    run = call("pretooluse_bash_rm_rf.json", transcript, project)
    assert run.code == 2 and run.stdout == ""
    reason = run.stderr.strip()
    assert reason.startswith("agentir guard: blocked this Bash call: runs a forbidden command")
    assert "recursive delete of / or the home directory" in reason
    assert "(permissions, high)" in reason
    assert "outside the allowed write paths" in reason  # the second finding, under "Also:"
    assert "\n" not in reason  # one paragraph
    (entry,) = blocks(agentir_home)
    assert entry["session"] == SESSION and entry["tool"] == "Bash" and entry["call"] == "rm -rf /"
    assert {f["detector"] for f in entry["findings"]} == {"permissions", "scope"}
    assert entry["failed_closed"] is False and entry["reason"] == reason


def test_a_write_outside_the_project_is_blocked(transcript: Transcript, project: Path) -> None:
    run = call("pretooluse_write_outside.json", transcript, project, policy=DATA / "policy.yaml")
    assert run.code == 2
    outside = str(project.parent / "outside" / "notes.txt")
    assert f"would write outside the allowed write paths: {outside}" in run.stderr
    assert "(scope, high)" in run.stderr
    assert "Write only inside the allowed paths" in run.stderr


def test_a_tool_the_test_policy_forbids_is_blocked(transcript: Transcript, project: Path) -> None:
    run = call("pretooluse_webfetch.json", transcript, project, policy=DATA / "policy.yaml")
    assert run.code == 2
    assert "uses forbidden tool WebFetch [matched WebFetch]" in run.stderr
    assert f"kill switch policy: {DATA / 'policy.yaml'}" in run.stderr


def test_an_upload_to_a_host_not_allowed_is_blocked(transcript: Transcript, project: Path) -> None:
    run = call("pretooluse_bash_curl_upload.json", transcript, project)
    assert run.code == 2
    assert "reaches a host not in network.allowed_hosts: evil.example (curl uploads data)" in (
        run.stderr
    )
    assert "(permissions, high)" in run.stderr


# --------------------------------------------------------------------------- loops


def _same_test_runs(t: Transcript, n: int) -> list[dict]:
    records = [t.prompt("Make the failing test in tests/test_app.py pass")]
    for _ in range(n):
        records += t.step("Bash", dict(PYTEST), "1 passed in 0.01s")
    return records


def test_the_fourth_identical_call_without_progress_is_blocked(
    transcript: Transcript, project: Path
) -> None:
    transcript.write(_same_test_runs(transcript, 2))
    assert call("pretooluse_bash_pytest.json", transcript, project).code == 0  # the 3rd: allowed
    transcript.append(transcript.step("Bash", dict(PYTEST), "1 passed in 0.02s"))
    run = call("pretooluse_bash_pytest.json", transcript, project)
    assert run.code == 2
    assert "`python -m pytest -q tests/test_app.py` ran with the same result 3 times" in run.stderr
    assert "this would be call number 4" in run.stderr and "(loop, warning)" in run.stderr
    assert "try a different approach" in run.stderr


def test_a_new_file_between_the_runs_is_progress(transcript: Transcript, project: Path) -> None:
    records = _same_test_runs(transcript, 2)
    records += transcript.step(
        "Edit",
        {"file_path": str(project / "src/app.py"), "old_string": "1", "new_string": "2"},
        "ok",
    )
    records += transcript.step("Bash", dict(PYTEST), "1 passed in 0.01s")
    transcript.write(records)
    assert call("pretooluse_bash_pytest.json", transcript, project).code == 0


def test_a_refused_call_stays_refused_when_repeated(transcript: Transcript, project: Path) -> None:
    transcript.write(_same_test_runs(transcript, 3))
    first = call("pretooluse_bash_pytest.json", transcript, project)
    assert first.code == 2
    # Claude Code records the refused call and an error result carrying the hook's reason
    call_record, _ = transcript.call("Bash", dict(PYTEST))
    call_record["message"]["content"][0]["id"] = "toolu_01PYTESTAGAIN0000000000000"
    refused = transcript.result(
        "toolu_01PYTESTAGAIN0000000000000",
        f"PreToolUse:Bash hook error: {first.stderr}",
        error=True,
    )
    transcript.append([call_record, refused])
    again = call("pretooluse_bash_pytest.json", transcript, project)
    assert again.code == 2 and "ran with the same result 3 times" in again.stderr


# --------------------------------------------------------------------------- budget


def _usage(output: int) -> dict[str, int]:
    return {
        "input_tokens": 10,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output,
    }


def _budget_policy(tmp_path: Path, usd: float, lookahead: bool = True) -> Path:
    path = tmp_path / "budget.yaml"
    path.write_text(
        f"policy:\n  budget: {{usd: {usd}}}\n  kill_switch: {{budget_lookahead: {str(lookahead).lower()}}}\n"
    )
    return path


def test_a_blown_budget_from_transcript_usage_blocks_every_call(
    tmp_path: Path, transcript: Transcript, project: Path
) -> None:
    # 100,000 output tokens of claude-sonnet-4-5 at $15 per million: $1.50 (+ 10 input tokens)
    transcript.write(
        [
            transcript.prompt("go"),
            *transcript.step("Bash", {"command": "ls"}, "a", usage=_usage(100_000)),
        ]
    )
    run = call("pretooluse_bash_ls.json", transcript, project, policy=_budget_policy(tmp_path, 1.0))
    assert run.code == 2
    assert "spent $1.50, over the $1.00 budget (cost, high)" in run.stderr
    assert "stop and report to the user" in run.stderr


def test_the_budget_lookahead_blocks_the_call_whose_result_would_cross_it(
    tmp_path: Path, transcript: Transcript, project: Path
) -> None:
    # two calls of $0.45 each: $0.90 spent, the next one would reach $1.35 > $1.00
    records = [transcript.prompt("go")]
    for _ in range(2):
        records += transcript.step("Bash", {"command": "ls"}, "a", usage=_usage(30_000))
    transcript.write(records)
    run = call("pretooluse_bash_ls.json", transcript, project, policy=_budget_policy(tmp_path, 1.0))
    assert run.code == 2
    assert "spent $0.90 of the $1.00 budget" in run.stderr and "about $0.45 more" in run.stderr
    plain = _budget_policy(tmp_path, 1.0, lookahead=False)
    assert call("pretooluse_bash_ls.json", transcript, project, policy=plain).code == 0


# --------------------------------------------------------------------------- failing closed


def test_an_unreadable_policy_blocks_every_call(transcript: Transcript, project: Path) -> None:
    (project / "agentir.yaml").write_text("policy:\n  budget: [unclosed\n")
    run = call("pretooluse_bash_ls.json", transcript, project)
    assert run.code == 2
    assert run.stderr.startswith("agentir guard: policy unreadable: ")
    assert "agentir.yaml:3: invalid YAML" in run.stderr  # the line where the parser gave up


def test_an_invalid_policy_blocks_every_call(transcript: Transcript, project: Path) -> None:
    (project / "agentir.yaml").write_text("policy:\n  loops:\n    identical_calls: lots\n")
    run = call("pretooluse_bash_ls.json", transcript, project)
    assert run.code == 2 and run.stderr.startswith("agentir guard: policy unreadable: ")
    assert "loops.identical_calls: must be a whole number" in run.stderr


@pytest.mark.parametrize(
    ("stdin", "why"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"hook_event_name": "PreToolUse", "tool_name": "Bash"}', "session_id is missing"),
        (b'{"session_id": "s1", "hook_event_name": "PreToolUse"}', "tool_name is missing"),
        (b'{"session_id": "s1", "tool_name": "Bash", "tool_input": "ls"}', "not a JSON object"),
    ],
)
def test_malformed_hook_input_is_blocked(
    stdin: bytes, why: str, project: Path, agentir_home: Path
) -> None:
    run = run_hook(stdin, cwd=project)
    assert run.code == 2
    assert run.stderr.startswith("agentir guard: blocked: ") and why in run.stderr
    (entry,) = blocks(agentir_home)
    assert entry["failed_closed"] is True


def test_a_bug_in_the_hook_blocks_instead_of_letting_the_call_through(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(raw: bytes, policy: Path | None) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(hook_module, "evaluate", broken)
    monkeypatch.setattr(
        sys, "stdin", type("S", (), {"buffer": type("B", (), {"read": lambda self: b"{}"})()})()
    )
    assert hook_module.main([]) == 2
    assert "agentir guard: blocked: internal error (RuntimeError: boom)" in capsys.readouterr().err


def test_other_hook_events_never_block_and_advance_the_state(
    transcript: Transcript, project: Path
) -> None:
    transcript.write(_same_test_runs(transcript, 1))
    run = call("posttooluse_bash.json", transcript, project)  # rm -rf / in tool_input
    assert (run.code, run.stderr) == (0, "")
    state = load_state(SESSION)
    assert transcript.path is not None and state.offset == transcript.path.stat().st_size


# --------------------------------------------------------------------------- incidents and alerts


def test_open_incident_records_the_finding_first_and_alerts_once(
    tmp_path: Path, transcript: Transcript, project: Path
) -> None:
    sink = tmp_path / "alerts.jsonl"
    script = tmp_path / "alert.py"
    script.write_text(
        "import sys, json\n"
        f"open({str(sink)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
        "'stdin': json.loads(sys.stdin.read())}) + '\\n')\n"
    )
    config = tmp_path / "agentir.yaml"
    config.write_text(
        "policy:\n  kill_switch: {open_incident: true}\n"
        f"alerts:\n  command: [{sys.executable!r}, {str(script)!r}, '{{incident.id}}', '{{text}}']\n"
    )
    env = {"AGENTIR_CONFIG": str(config)}
    stdin = hook_json("pretooluse_bash_rm_rf.json", SESSION, transcript.path, project)  # type: ignore[arg-type]
    first = run_hook(stdin, cwd=project, env=env)
    second = run_hook(stdin, cwd=project, env=env)
    assert first.code == second.code == 2

    store = IncidentStore()
    (incident,) = store.list()
    assert incident.sessions == [SESSION] and incident.severity == "SEV2"  # permissions, high
    entries = store.timeline(incident.id)
    assert entries[0].action == "incident.opened"
    assert entries[1].action == "killswitch.triggered"
    finding = entries[1].details["finding"]
    assert finding["detector"] == "permissions" and "rm -rf /" in finding["message"]
    assert entries[1].details["source"] == "guard" and entries[1].details["action"] == "blocked"
    assert [e.action for e in entries].count("killswitch.triggered") == 2  # joined, not reopened
    assert [e.action for e in entries].count("alert.sent") == 1  # the same refusal alerts once

    (sent,) = [json.loads(line) for line in sink.read_text().splitlines()]
    assert sent["argv"][0] == incident.id
    assert sent["argv"][1].startswith(f"agentir guard blocked a Bash call of session {SESSION}")
    assert sent["stdin"]["finding"]["detector"] == "permissions"
    assert sent["stdin"]["incident"]["id"] == incident.id and sent["stdin"]["source"] == "guard"


def test_the_state_file_is_plain_json(
    transcript: Transcript, project: Path, agentir_home: Path
) -> None:
    transcript.write(_same_test_runs(transcript, 3))
    call("pretooluse_bash_ls.json", transcript, project)
    data = orjson.loads((agentir_home / "guard" / f"{SESSION}.json").read_bytes())
    assert data["version"] == 1 and data["session"] == SESSION
    assert data["transcript"] == str(transcript.path) and data["offset"] > 0
    chain = data["live"]["chains"][""]
    (streak,) = chain.values()
    assert streak["count"] == 3 and streak["failed"] is False
    assert data["live"]["root"] == str(project)
