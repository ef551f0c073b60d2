"""`agentir watch`: following a live trace (rotation, truncation, a file not there yet), judging
it as events arrive, and pausing a real stand-in agent that falls into a loop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from agentir.incidents.store import IncidentStore
from agentir.live_events import LiveEvents
from agentir.policy import Policy
from agentir.tail import LineFollower
from agentir.traces.base import ReadStats
from agentir.watch import Watcher, WatchOptions
from tests.conftest import ROOT, shared_trace
from tests.guard.transcript import Transcript
from tests.webhook import webhook_server

STANDIN = ROOT / "tests" / "data" / "guard" / "standin_agent.py"
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")


# --------------------------------------------------------------------------- the follower


def test_the_follower_waits_for_the_file_and_holds_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    follower = LineFollower(path)
    first = follower.poll()
    assert first.lines == [] and first.note == f"waiting for {path} to appear"
    assert follower.poll().note is None  # said once
    path.write_bytes(b'{"a": 1}\n{"b":')
    appeared = follower.poll()
    assert appeared.note == f"{path} appeared" and appeared.lines == [(1, b'{"a": 1}')]
    with path.open("ab") as fh:
        fh.write(b' 2}\n\n{"c": 3}\n')
    assert follower.poll().lines == [(2, b'{"b": 2}'), (4, b'{"c": 3}')]
    assert follower.poll().lines == []
    follower.close()


def test_the_follower_survives_truncation_and_rotation(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"one\ntwo\n")
    follower = LineFollower(path)
    assert [n for n, _ in follower.poll().lines] == [1, 2]
    path.write_bytes(b"new\n")  # truncated, then written again
    truncated = follower.poll()
    assert truncated.reset == "truncated" and truncated.lines == [(1, b"new")]
    with path.open("ab") as fh:
        fh.write(b"last words\n")  # appended to the old file just before it is rotated
    path.rename(tmp_path / "t.jsonl.1")
    gone = follower.poll()
    assert gone.lines == [(2, b"last words")] and gone.reset == "rotated"
    path.write_bytes(b"fresh\n")
    assert follower.poll().lines == [(1, b"fresh")]
    follower.close()


def test_the_follower_skips_a_line_too_long_to_judge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agentir.tail.MAX_LINE_BYTES", 100)
    monkeypatch.setattr("agentir.tail.CHUNK", 64)
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"ok\n" + b"x" * 500 + b"\nafter\n")
    follower = LineFollower(path)
    batch = follower.poll()
    assert batch.lines == [(1, b"ok"), (3, b"after")] and batch.oversized == 1
    follower.close()


# --------------------------------------------------------------------------- events


def test_codex_rollout_lines_give_the_readers_events() -> None:
    path = next(shared_trace("codex").rglob("rollout-*.jsonl"))
    from agentir.traces.codex import CodexReader

    whole = list(CodexReader().read(path, ReadStats()))
    live = LiveEvents(path)
    lines = [(i, raw) for i, raw in enumerate(path.read_bytes().splitlines(), 1) if raw.strip()]
    got = live.feed(lines[:10]) + live.feed(lines[10:])
    assert live.format == "codex"
    assert [(e.kind, e.seq) for e in got] == [(e.kind, e.seq) for e in whole]


def test_other_formats_are_read_again_as_they_grow(tmp_path: Path) -> None:
    source = next(p for p in shared_trace("gemini-cli").rglob("*.jsonl"))
    from agentir.traces import open_trace

    whole = list(open_trace(source).events())
    raw = source.read_bytes().splitlines(keepends=True)
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"".join(raw[: len(raw) // 2]))
    live = LiveEvents(path)
    first = live.feed([(1, b"x")])
    with path.open("ab") as fh:
        fh.write(b"".join(raw[len(raw) // 2 :]))
    second = live.feed([(2, b"x")])
    assert live.format == open_trace(source).format
    assert 0 < len(first) < len(whole) and len(first) + len(second) == len(whole)


# --------------------------------------------------------------------------- the watcher


def _options(trace: Path, **kw: object) -> WatchOptions:
    values: dict[str, object] = {"trace": trace, "policy": Policy(), "once": True}
    values.update(kw)
    return WatchOptions(**values)  # type: ignore[arg-type]


def test_a_forbidden_command_opens_an_incident_with_the_finding_first(tmp_path: Path) -> None:
    session = str(uuid.uuid4())  # no process has it: nothing to pause
    t = Transcript(session, tmp_path, tmp_path / "t.jsonl")
    t.write(
        [t.prompt("tidy up"), *t.step("Bash", {"command": "git push --force origin main"}, "ok")]
    )
    said: list[str] = []
    fired = Watcher(_options(t.path), said.append).run()  # type: ignore[arg-type]
    (f,) = fired
    assert f.trigger.trigger == "permissions" and f.line == 2 and f.targets == 0
    assert "force push rewrites shared history" in f.trigger.finding.message
    assert not f.contained and f.opened
    store = IncidentStore()
    entries = store.timeline(f.incident)  # type: ignore[arg-type]
    assert [e.action for e in entries] == [
        "incident.opened",
        "killswitch.triggered",
        "evidence.added",
    ]
    details = entries[1].details
    assert details["finding"]["detector"] == "permissions" and details["line"] == 2
    assert details["action"] == "found no process to stop" and details["source"] == "watch"
    assert store.get(f.incident).severity == "SEV2"  # type: ignore[arg-type]
    assert any("no running process" in s for s in said)


def test_the_watcher_starts_over_on_a_rotated_trace(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    path = tmp_path / "t.jsonl"
    old = Transcript(session, tmp_path, path)
    pytest_call = {"command": "pytest -q"}
    old.write(
        [old.prompt("go"), *[r for _ in range(3) for r in old.step("Bash", pytest_call, "ok")]]
    )
    watcher = Watcher(_options(path, once=False))
    assert watcher.poll_once() == []  # three identical runs: not yet a loop
    path.rename(tmp_path / "t.jsonl.1")
    new = Transcript(session, tmp_path, path)  # a new file: three runs again
    new.write(
        [new.prompt("go"), *[r for _ in range(3) for r in new.step("Bash", pytest_call, "ok")]]
    )
    assert watcher.poll_once() == []  # counted from the new file's start, not 3 + 3
    new.append(new.step("Bash", pytest_call, "ok"))
    (fired,) = watcher.poll_once()
    assert fired.trigger.trigger == "loop" and fired.line == 9
    watcher.follower.close()


def test_the_budget_fires_once_when_crossed(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    t = Transcript(session, tmp_path, tmp_path / "t.jsonl")
    usage = {"input_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    records = [t.prompt("go")]
    for i in range(4):  # 40,000 output tokens each: $0.60 a call
        records += t.step(
            "Bash", {"command": f"ls {i}"}, str(i), usage={**usage, "output_tokens": 40_000}
        )
    t.write(records)
    policy = Policy.from_dict({"budget": {"usd": 1.0}})
    fired = Watcher(_options(t.path, policy=policy, keep_watching=True)).run()  # type: ignore[arg-type]
    (f,) = fired
    assert f.trigger.trigger == "budget" and "over the $1.00 budget" in f.trigger.finding.message
    assert f.line == 4  # the second model call crossed it


# --------------------------------------------------------------------------- real processes


@contextlib.contextmanager
def _started(argv: list[str], **kw: object) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv, start_new_session=True, **kw)  # type: ignore[call-overload]
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _watch_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentir", "watch", *args]


def _standin(session: str, trace: Path, report: Path, cwd: Path, **kw: float) -> list[str]:
    argv = [sys.executable, str(STANDIN), "--session-id", session, "--trace", str(trace)]
    argv += ["--report", str(report), "--cwd", str(cwd)]
    for key, value in kw.items():
        argv += [f"--{key}", str(value)]
    return argv


@linux
def test_watch_pauses_a_looping_agent_within_a_second_and_alerts(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    trace, report = tmp_path / f"{session}.jsonl", tmp_path / "report.txt"
    with webhook_server() as server:
        config = tmp_path / "agentir.yaml"
        config.write_text(f"alerts:\n  webhook: {server.url}\n  timeout: 5\n")
        watch_cmd = _watch_argv(str(trace), "--poll", "0.1", "--policy", str(config), "--json")
        with _started(
            watch_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
        ) as watch:
            time.sleep(1.0)  # the trace does not exist yet: the watch waits for it
            agent_cmd = _standin(session, trace, report, tmp_path, interval=0.25, delay=0.3)
            with _started(agent_cmd) as agent:
                stopped_at = None
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    assert watch.poll() is None, watch.communicate()[1].decode()
                    if psutil.Process(agent.pid).status() == psutil.STATUS_STOPPED:
                        stopped_at = time.time()
                        break
                    time.sleep(0.005)
                assert stopped_at is not None, "the agent was never paused"
                out, err = watch.communicate(timeout=60)
                assert watch.returncode == 4, err.decode()
                time.sleep(0.5)
                assert psutil.Process(agent.pid).status() == psutil.STATUS_STOPPED  # stays paused
            assert server.got.wait(10)
    doc = json.loads(out)
    (fired,) = doc["data"]["fired"]
    assert fired["trigger"] == "loop" and fired["contained"] and fired["targets"] == 1
    assert "ran 4 times with the same result" in fired["finding"]["message"]
    written = dict(line.split() for line in report.read_text().splitlines())
    latency = stopped_at - float(written[str(fired["line"])])
    print(f"paused {latency:.3f}s after the triggering record")
    assert 0 < latency < 1.0, f"paused {latency:.3f}s after the triggering record"

    store = IncidentStore()
    incident = store.get(fired["incident"])
    assert incident.sessions == [session] and incident.status == "contained"
    entries = store.timeline(incident.id)
    assert entries[0].action == "incident.opened"
    assert entries[1].action == "killswitch.triggered"
    assert entries[1].details["finding"]["detector"] == "loop"
    actions = [e.action for e in entries]
    assert actions[2:6] == [
        "contain.planned",
        "contain.applied",
        "contain.verified",
        "status.contained",
    ]
    assert "alert.sent" in actions and "evidence.added" in actions
    (payload,) = server.received
    assert payload["text"].startswith(f"agentir watch paused the agent (session {session})")
    assert payload["finding"]["detector"] == "loop" and payload["incident"]["id"] == incident.id
    assert b"Traceback" not in err


@linux
def test_watch_kill_ends_the_agent(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    trace, report = tmp_path / "t.jsonl", tmp_path / "report.txt"
    with _started(_standin(session, trace, report, tmp_path, interval=0.05)) as agent:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (
            not report.exists() or len(report.read_text().split("\n")) < 12
        ):
            time.sleep(0.05)
        run = subprocess.run(
            _watch_argv(str(trace), "--once", "--kill", "--grace", "1", "--json"),
            capture_output=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert run.returncode == 4, run.stderr.decode()
        (fired,) = json.loads(run.stdout)["data"]["fired"]
        assert fired["mode"] == "kill" and fired["contained"]
        agent.wait(timeout=10)
        assert agent.returncode == -signal.SIGTERM


@linux
def test_ctrl_c_exits_130_cleanly(tmp_path: Path) -> None:
    trace = tmp_path / "not-yet.jsonl"
    with _started(
        _watch_argv(str(trace), "--poll", "0.1"), stderr=subprocess.PIPE, stdout=subprocess.PIPE
    ) as watch:
        time.sleep(1.5)
        assert watch.poll() is None  # still waiting for the file
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=20)
    assert watch.returncode == 130
    text = err.decode()
    assert "agentir watch: waiting for" in text  # it had started, on a file not there yet
    assert "agentir watch: interrupted" in text and "Traceback" not in text
    assert out == b""


def test_new_only_reports_the_history_and_acts_on_what_comes_next(tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    t = Transcript(session, tmp_path, tmp_path / "t.jsonl")
    t.write([t.prompt("go"), *t.step("Bash", {"command": "chmod 777 deploy.sh"}, "")])
    said: list[str] = []
    watcher = Watcher(_options(t.path, once=False, new_only=True), said.append)  # type: ignore[arg-type]
    assert watcher.poll_once() == []
    assert any(
        s.startswith("in the trace before the watch: runs a forbidden command") for s in said
    )
    t.append(t.step("Bash", {"command": "chmod 777 run.sh"}, ""))
    (fired,) = watcher.poll_once()
    assert fired.trigger.trigger == "permissions" and fired.line == 4
    watcher.follower.close()
