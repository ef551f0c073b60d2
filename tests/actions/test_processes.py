"""Containment on real process trees: find, pause, resume, kill, and the pid-reuse guard."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import psutil
import pytest

from agentir.actions.process_tree import agent_of, redact_cmdline
from agentir.actions.processes import (
    MatchedProcess,
    Outcome,
    ProcessIdentity,
    SessionSelector,
    apply_containment,
    find_session_processes,
    plan_containment,
    resume,
)
from agentir.errors import UsageError
from agentir.render.jsonout import to_jsonable

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")

PROCS = Path(__file__).resolve().parents[1] / "data" / "procs"
TREE_ROLES = {
    "agent",
    "child1",
    "child2",
    "child2-child",
    "orphan-pgid",
    "orphan-pgrp",
    "orphan-env",
}


class Spawned:
    """Processes a test started, by role; every one of them is SIGKILLed at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.popens: list[subprocess.Popen[bytes]] = []
        self.identities: dict[int, float] = {}

    def start(self, argv: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start a process in a new session, so teardown can kill its whole group."""
        popen = subprocess.Popen(argv, start_new_session=True, **kwargs)  # type: ignore[call-overload]
        self.popens.append(popen)
        self.identities[popen.pid] = psutil.Process(popen.pid).create_time()
        return popen

    def tree(self, session_id: str, *extra: str, roles: set[str] = TREE_ROLES) -> dict[str, int]:
        """Start fake_agent.py for `session_id`; wait until every role reported its pid."""
        report = self.tmp_path / f"report-{uuid.uuid4().hex[:8]}.txt"
        argv = [sys.executable, str(PROCS / "fake_agent.py"), "--session-id", session_id]
        self.start([*argv, "--report", str(report), *extra])
        return self.wait_roles(report, roles)

    def loop(self, role: str, *extra: str, **kwargs: object) -> int:
        """Start one loop.py process; its pid once it is set up."""
        report = self.tmp_path / f"report-{uuid.uuid4().hex[:8]}.txt"
        argv = [sys.executable, str(PROCS / "loop.py"), "--role", role, "--report", str(report)]
        self.start([*argv, *extra], **kwargs)
        return self.wait_roles(report, {role})[role]

    def wait_roles(self, report: Path, roles: set[str]) -> dict[str, int]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            lines = report.read_text().split("\n") if report.exists() else []
            pids = {r: int(p) for r, p in (line.split() for line in lines if line.strip())}
            if roles <= set(pids):
                for pid in pids.values():
                    self.identities.setdefault(pid, psutil.Process(pid).create_time())
                return pids
            time.sleep(0.02)
        raise AssertionError(f"helper processes never reported {roles}")

    def cleanup(self) -> None:
        for pid, created in self.identities.items():
            try:
                if psutil.Process(pid).create_time() == created:
                    os.kill(pid, signal.SIGKILL)
            except (psutil.NoSuchProcess, ProcessLookupError):
                pass
        for popen in self.popens:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=5)


@pytest.fixture
def spawned(tmp_path: Path) -> Iterator[Spawned]:
    """The test's helper processes, all killed afterwards whatever happened."""
    procs = Spawned(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


def new_session_id() -> str:
    return f"sess-{uuid.uuid4().hex[:12]}"


def status(pid: int) -> str:
    try:
        return str(psutil.Process(pid).status())
    except psutil.NoSuchProcess:
        return "gone"


def is_dead(pid: int) -> bool:
    """Gone from the process table, or a zombie (dead, waiting for init to reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return status(pid) in ("zombie", "gone")


def test_find_picks_the_whole_tree_and_nothing_else(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid, "--token", "hunter2-very-secret")
    decoy = spawned.tree(sid + "7")  # similar command line, a different session

    match = find_session_processes(SessionSelector(session_id=sid))

    assert set(match.pids) == set(tree.values())
    assert not set(match.pids) & set(decoy.values())
    assert os.getpid() not in match.pids and os.getppid() not in match.pids
    by_pid = {p.pid: p for p in match.processes}
    reasons = {role: " ".join(by_pid[pid].reasons) for role, pid in tree.items()}
    assert reasons["agent"] == "command line names the session id"
    assert reasons["child1"] == f"child of {tree['agent']}"
    assert reasons["child2-child"] == f"child of {tree['child2']}"
    assert "process group" in reasons["orphan-pgid"]
    assert "session" in reasons["orphan-pgrp"] and "group" not in reasons["orphan-pgrp"]
    assert "CLAUDE_SESSION_ID" in reasons["orphan-env"]
    # The orphans really left the tree: re-parented, so only the group/session/env rules see them.
    for role in ("orphan-pgid", "orphan-pgrp", "orphan-env"):
        assert by_pid[tree[role]].ppid != tree["agent"]
    order = list(match.pids)
    assert (
        order.index(tree["agent"]) < order.index(tree["child2"]) < order.index(tree["child2-child"])
    )
    assert "hunter2-very-secret" not in by_pid[tree["agent"]].cmdline
    assert tree["agent"] in match.process_groups and tree["agent"] in match.sessions


def test_kill_leaves_nothing_alive_and_spares_the_decoy(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid, "--stubborn")
    decoy = spawned.tree(sid + "7")

    plan = plan_containment(find_session_processes(SessionSelector(session_id=sid)), "kill", 0.5)
    assert next(t.pid for t in plan.targets) == tree["agent"]
    result = apply_containment(plan)

    assert result.ok, str(result)
    assert result.verification.remaining == ()
    assert all(is_dead(pid) for pid in tree.values())
    outcomes = {o.pid: o for o in result.outcomes}
    assert {outcomes[pid].outcome for pid in tree.values()} == {Outcome.KILLED}
    assert outcomes[tree["child1"]].detail == "needed SIGKILL"  # it ignores SIGTERM
    assert outcomes[tree["child2"]].detail == "exited after SIGTERM"
    assert all(status(pid) in ("sleeping", "running") for pid in decoy.values())
    assert find_session_processes(SessionSelector(session_id=sid)).processes == ()


def test_pause_stops_everything_then_resume_and_kill(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    decoy = spawned.tree(sid + "7")

    paused = apply_containment(plan_containment(find_session_processes(SessionSelector(sid))))

    assert paused.ok, str(paused)
    assert {o.outcome for o in paused.outcomes} == {Outcome.PAUSED}
    assert all(status(pid) == "stopped" for pid in tree.values())
    assert all(status(pid) in ("sleeping", "running") for pid in decoy.values())
    # Stopped, the session is still found (a paused agent keeps its evidence).
    assert set(find_session_processes(SessionSelector(sid)).pids) == set(tree.values())

    resumed = resume(paused)
    assert resumed.ok and resumed.still_stopped == ()
    assert [o.pid for o in resumed.outcomes][-1] == tree["agent"]  # leaves first, agent last
    assert all(status(pid) in ("sleeping", "running") for pid in tree.values())

    # Kill straight after a pause / resume cycle: the same identities still hold.
    killed = apply_containment(
        plan_containment(find_session_processes(SessionSelector(sid)), "kill")
    )
    assert killed.ok and all(is_dead(pid) for pid in tree.values())
    assert not any(is_dead(pid) for pid in decoy.values())


def test_processes_forked_during_containment_are_caught(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid, "--spawner", roles=TREE_ROLES | {"spawner"})

    plan = plan_containment(find_session_processes(SessionSelector(sid)), "pause")
    time.sleep(0.2)  # the spawner starts ~10 more children between plan and apply
    result = apply_containment(plan)

    assert result.ok, str(result)
    assert any(o.discovered for o in result.outcomes)
    kids = psutil.Process(tree["spawner"]).children()
    assert len(kids) > len([t for t in plan.targets if t.ppid == tree["spawner"]])
    assert all(k.status() in ("stopped", "zombie") for k in kids)

    killed = apply_containment(
        plan_containment(find_session_processes(SessionSelector(sid)), "kill")
    )
    assert killed.ok and all(is_dead(k.pid) for k in kids)


def test_pid_reuse_guard_skips_a_process_whose_start_time_changed(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    bystander = spawned.loop("bystander")  # has the pid a dead session process once had
    plan = plan_containment(find_session_processes(SessionSelector(sid)))
    created = psutil.Process(bystander).create_time()
    ghost = MatchedProcess(bystander, 1, "python", "", created - 100.0, "sleeping", None, None, ())
    plan = dataclasses.replace(plan, targets=(*plan.targets, ghost))

    result = apply_containment(plan)

    outcome = next(o for o in result.outcomes if o.pid == bystander)
    assert outcome.outcome is Outcome.PID_REUSED
    assert status(bystander) in ("sleeping", "running")
    assert result.ok and all(status(pid) == "stopped" for pid in tree.values())

    agent = plan.targets[0]
    guarded = resume([ProcessIdentity(agent.pid, agent.create_time - 5)])
    assert guarded.outcomes[0].outcome is Outcome.PID_REUSED
    assert status(tree["agent"]) == "stopped"
    assert resume([ProcessIdentity(agent.pid, agent.create_time)]).ok
    assert status(tree["agent"]) in ("sleeping", "running")


def test_process_gone_between_plan_and_apply_is_reported(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    plan = plan_containment(find_session_processes(SessionSelector(sid)), "kill", 0.5)
    os.kill(tree["child1"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while not is_dead(tree["child1"]) and time.monotonic() < deadline:
        time.sleep(0.01)

    result = apply_containment(plan)

    outcomes = {o.pid: o.outcome for o in result.outcomes}
    assert outcomes[tree["child1"]] is Outcome.ALREADY_GONE
    assert outcomes[tree["child2"]] is Outcome.KILLED
    assert result.ok


def test_process_holding_the_trace_open_is_found(spawned: Spawned, tmp_path: Path) -> None:
    trace = tmp_path / "session.jsonl"
    trace.write_text('{"type": "user"}\n')
    link = tmp_path / "link.jsonl"
    link.symlink_to(trace)
    holder = spawned.loop("holder", "--hold", str(trace))
    mentioner = spawned.loop("mentioner", "--mention", str(trace))

    match = find_session_processes(SessionSelector(trace_path=link))

    assert match.pids == (holder,)
    assert match.processes[0].reasons == ("holds the trace file open",)
    assert mentioner not in match.pids


def test_agent_in_the_session_cwd_is_found(spawned: Spawned, tmp_path: Path) -> None:
    project, elsewhere, bin_dir = (tmp_path / d for d in ("project", "elsewhere", "bin"))
    for folder in (project, elsewhere, bin_dir):
        folder.mkdir()
    for name in ("claude", "aider"):
        script = bin_dir / name
        script.write_text(f"#!{sys.executable}\nimport time\nwhile True:\n    time.sleep(0.1)\n")
        script.chmod(0o755)
    claude = spawned.start([str(bin_dir / "claude")], cwd=project).pid
    aider = spawned.start([sys.executable, str(bin_dir / "aider")], cwd=project).pid
    other_cwd = spawned.start([str(bin_dir / "claude")], cwd=elsewhere).pid
    not_agent = spawned.loop("worker", cwd=project)
    time.sleep(0.3)  # let the interpreters exec

    match = find_session_processes(SessionSelector(cwd=project))

    assert set(match.pids) == {claude, aider}
    reasons = {p.pid: p.reasons for p in match.processes}
    assert reasons[claude] == ("claude agent running in the session's cwd",)
    assert reasons[aider] == ("aider agent running in the session's cwd",)
    assert other_cwd not in match.pids and not_agent not in match.pids
    only_codex = find_session_processes(SessionSelector(cwd=project, agents=("codex",)))
    assert only_codex.pids == ()


def test_agent_of_recognises_interpreters_running_agents() -> None:
    cli = "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"
    assert agent_of("node", ["node", "--no-warnings", cli]) == "claude"
    assert agent_of("node", ["node", "/opt/gemini-cli/dist/index.js"]) == "gemini"
    assert agent_of("python3", ["python3", "-m", "aider", "--yes"]) == "aider"
    assert agent_of("python3", ["python3", "-m", "openhands.core.main"]) == "openhands"
    assert agent_of("codex", ["/usr/local/bin/codex", "exec"]) == "codex"
    assert agent_of("node", ["node", "server.js"]) is None
    assert agent_of("python3", ["python3", "/home/claude/script.py"]) is None
    assert agent_of("bash", ["bash", "-c", "claude"]) is None


def test_protected_processes_are_never_targets() -> None:
    match = find_session_processes(SessionSelector(pids=(os.getpid(), os.getppid(), 1)))
    assert match.processes == ()
    reasons = {x.pid: x.reason for x in match.excluded}
    assert reasons[os.getpid()] == "this agentir process"
    assert reasons[os.getppid()] == "ancestor of this agentir process"
    assert reasons[1] == "system process (pid 0 / 1)"
    plan = plan_containment(match, "kill")
    assert plan.targets == () and len(plan.not_touched) == 3


def test_selector_must_identify_a_session() -> None:
    with pytest.raises(UsageError):
        find_session_processes(SessionSelector())
    with pytest.raises(UsageError):
        find_session_processes(SessionSelector(session_id="abc"))
    with pytest.raises(UsageError):
        plan_containment(find_session_processes(SessionSelector(pids=(1,))), "stop")  # type: ignore[arg-type]


def test_plan_and_result_are_printable_and_json_able(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    plan = plan_containment(find_session_processes(SessionSelector(sid)), "kill", 2.0)
    result = apply_containment(plan)

    data = orjson.loads(orjson.dumps(to_jsonable({"plan": plan, "result": result})))
    assert data["plan"]["mode"] == "kill" and data["plan"]["grace"] == 2.0
    assert {t["pid"] for t in data["plan"]["targets"]} == set(tree.values())
    assert data["plan"]["selector"]["session_id"] == sid
    assert {o["outcome"] for o in data["result"]["outcomes"]} == {"killed"}
    assert data["result"]["verification"]["ok"] is True
    text = str(plan)
    assert str(tree["agent"]) in text and "SIGKILL" in text
    assert "no process of the session is alive" in str(result)


def test_redact_cmdline_masks_credentials() -> None:
    text = redact_cmdline(["agent", "--api-key", "abc123456789", "password=swordfish1", "--x"])
    assert "abc123456789" not in text and "swordfish1" not in text
    assert text.startswith("agent --api-key")


AS_NOBODY = """
import dataclasses, json, os, sys
import psutil
from agentir.actions.processes import *
# Imports done as root (the interpreter lives under /root); from here on: user nobody.
os.setgroups([]); os.setgid(65534); os.setuid(65534)
pid, created = int(sys.argv[1]), float(sys.argv[2])
match = find_session_processes(SessionSelector(pids=(pid,)))
target = MatchedProcess(pid, 0, "python", "", created, "sleeping", None, None, ("forced",))
plan = dataclasses.replace(plan_containment(match), targets=(target,))
result = apply_containment(plan)
print(json.dumps({
    "excluded": [x.reason for x in match.excluded if x.pid == pid],
    "outcome": result.outcomes[0].outcome.value,
    "ok": result.ok,
    "remaining": [p.pid for p in result.verification.remaining],
}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a helper as another user")
def test_other_users_processes_are_excluded_and_failures_reported(spawned: Spawned) -> None:
    victim = spawned.loop("root-owned")
    created = psutil.Process(victim).create_time()
    out = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, str(victim), repr(created)],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    report = orjson.loads(out.stdout)
    assert report["excluded"] == ["owned by another user (uid 0)"]
    # Forced into a plan anyway, the signal is refused and the verification says so.
    assert report["outcome"] == "permission denied"
    assert report["ok"] is False and report["remaining"] == [victim]
    assert status(victim) in ("sleeping", "running")
