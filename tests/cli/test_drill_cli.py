"""`agentir drill run|status|validate` through the real CLI, and an interactive drill answered at
a pseudo-terminal as a facilitator would."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import psutil
from typer.testing import CliRunner

from agentir.cli.app import app
from agentir.scenarios.standin import MARKER
from tests.conftest import DATA
from tests.drills.conftest import no_stand_in_left  # noqa: F401  (autouse: no agent left behind)

ROOT = Path(__file__).resolve().parents[2]
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=WIDE)


def answers(tmp_path: Path, text: str = "default: done\n") -> str:
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    return str(path)


def test_run_with_answers_shows_the_drill_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = invoke(
        "drill", "run", "infinite-loop", "--answers", answers(tmp_path), "--out", str(out)
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Drill: The infinite loop - error, fix, new error, fix (SEV3)" in result.stdout
    assert "assess-trace" in result.stdout and "practised: done" in result.stdout
    assert "INJECT at T+2m" in result.stdout  # revealed when the clock reached minute 2
    assert "score 100% · 1 gap(s) · drill time T+3m" in result.stdout
    assert "gap: expected action with no runbook step: loop-guardrail" in result.stdout
    assert f"wrote the drill report to {out / 'drill-report.md'}" in result.stderr
    assert (out / "drill-report.md").is_file() and (out / "drill.json").is_file()
    assert not (out / "workspace").exists()


def test_run_json_prints_one_document(tmp_path: Path) -> None:
    text = 'default: done\nsteps:\n  learning-note: "skip: wrote it in the PR instead"\n'
    result = invoke("drill", "run", "infinite-loop", "--answers", answers(tmp_path, text),
                    "--out", str(tmp_path / "r"), "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["command"], doc["status"], doc["exit_code"]) == ("drill run", "ok", 0)
    data = doc["data"]
    assert data["report_path"] == str(tmp_path / "r" / "drill-report.md")
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["learning-note"]["result"] == "skipped"
    assert steps["learning-note"]["note"] == "wrote it in the PR instead"
    assert {"kind": "expected_action", "label": "expected action not taken", "step": "learning-note",
            "text": "learning-note was not done (wrote it in the PR instead)"} in data["gaps"]  # fmt: skip


def test_run_needs_answers_without_a_terminal_and_a_known_scenario(tmp_path: Path) -> None:
    result = invoke("drill", "run", "infinite-loop", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "pass --answers FILE" in result.stderr
    result = invoke("drill", "run", "no-such-drill", "--answers", answers(tmp_path))
    assert result.exit_code == 2 and "known scenarios:" in result.stderr
    broken = DATA / "drills" / "answers_broken.yaml"
    result = invoke("drill", "run", "infinite-loop", "--answers", str(broken))
    assert result.exit_code == 1 and f"{broken}:4: steps.kill-agent:" in result.stderr


def test_status_before_and_after_a_run(tmp_path: Path) -> None:
    result = invoke("drill", "status")
    assert result.exit_code == 0
    assert (
        "OVERDUE" in result.stdout
        and "kill-switch drill: last run never · OVERDUE" in result.stdout
    )
    invoke(
        "drill", "run", "kill-switch", "--answers", answers(tmp_path), "--out", str(tmp_path / "k")
    )
    result = invoke("drill", "status", "--json")
    data = json.loads(result.stdout)["data"]
    rows = {r["id"]: r for r in data["scenarios"]}
    assert data["cadence_days"] == 90
    assert rows["kill-switch"]["runs"] == 1 and not rows["kill-switch"]["overdue"]
    assert rows["kill-switch"]["last_report"] == str(tmp_path / "k" / "drill-report.md")
    assert "kill-switch" not in data["overdue"] and "scope-creep" in data["overdue"]
    assert data["kill_switch"]["overdue"] is False and data["kill_switch"]["last_run"]


def test_validate(tmp_path: Path) -> None:
    result = invoke("drill", "validate")
    assert result.exit_code == 0 and "valid:" in result.stderr
    broken = DATA / "drills" / "broken.yaml"
    result = invoke("drill", "validate", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:4: severity: 'SEV4' is not one of SEV1, SEV2, SEV3" in result.stdout
    result = invoke("drill", "validate", str(broken), "--json")
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == 1 and len(doc["data"]["errors"]) == len(doc["errors"]) > 10
    assert invoke("drill", "validate", str(tmp_path / "nope.yaml")).exit_code == 2


def _spawn(args: list[str], home: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "AGENTIR_HOME": str(home),
        "NO_COLOR": "1",
        "COLUMNS": "160",
        "TERM": "dumb",
    }
    return pexpect.spawn(sys.executable, ["-m", "agentir", *args], env=env, cwd=str(ROOT),
                         encoding="utf-8", timeout=60, dimensions=(50, 160))  # fmt: skip


STEP = r"\[q\]uit: "


def test_an_interactive_drill_answered_at_the_terminal(tmp_path: Path) -> None:
    out = tmp_path / "report"
    child = _spawn(["drill", "run", "infinite-loop", "--out", str(out), "--speed", "60",
                    "--facilitator", "Ana"], tmp_path / "home")  # fmt: skip
    try:
        child.expect("assess-trace")
        child.expect(STEP)
        child.sendline("s")  # a skip without a reason is refused
        child.expect("a skip needs a reason")
        child.expect(STEP)
        child.sendline("d")
        child.expect("practised: done")
        child.expect("learning-note")
        child.expect(STEP)
        child.sendline("g nobody owns the lessons doc")
        child.expect("share-lesson")
        child.expect(STEP)
        child.sendline("s the channel is archived")
        child.expect("expected action, not in the runbook: loop-guardrail")
        child.expect(r"\[g\]ap NOTE: ")
        child.sendline("d")
        child.expect("hot wash")
        child.expect("notes: ")
        child.sendline("Forty minutes; nobody watched the session.")
        for _ in range(3):
            child.expect("notes: ")
            child.sendline("")
        child.expect(r"action item .*: ")
        child.sendline("Add a turn limit to the harness @platform")
        child.expect(r"action item .*: ")
        child.sendline("")
        child.expect("wrote the drill report to")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    report = (out / "drill-report.md").read_text()
    assert "| facilitator | `Ana` |" in report
    assert "| mode | `interactive` at 60.0x speed |" in report
    assert "`learning-note: nobody owns the lessons doc`" in report
    assert "| learn | `share-lesson` |" in report and "`the channel is archived`" in report
    assert "   - Forty minutes; nobody watched the session." in report
    assert "| `Add a turn limit to the harness` | `platform` |" in report


def test_ending_an_interactive_kill_switch_drill_early_stops_the_agent(tmp_path: Path) -> None:
    out = tmp_path / "report"
    child = _spawn(["drill", "run", "kill-switch", "--out", str(out)], tmp_path / "home")
    try:
        child.expect(r"The agent is RUNNING right now: pids (\d+), (\d+)\.")
        pids = [int(child.match.group(1)), int(child.match.group(2))]
        assert all(psutil.pid_exists(p) for p in pids)
        child.expect(STEP)
        child.sendline("q")
        for _ in range(4):
            child.expect("notes: ")
            child.sendline("")
        child.expect(r"action item .*: ")
        child.sendline("")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    for pid in pids:  # the stand-in is gone (or at most a zombie nobody runs)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    left = [
        p for p in psutil.process_iter(["cmdline"]) if MARKER in " ".join(p.info["cmdline"] or [])
    ]
    assert not [p for p in left if p.pid in pids]
    report = (out / "drill-report.md").read_text()
    assert "(ended early)" in report and "**Nobody stopped it during the drill.**" in report
    assert re.search(r"\| contain \| `pause-agent` \| .* \| not reached \|", report)


def test_an_inject_arrives_while_the_team_is_still_at_a_prompt(tmp_path: Path) -> None:
    out = tmp_path / "report"
    # at 30x, drill minute 2 comes 4 s after the start: the first step's prompt is long up
    child = _spawn(["drill", "run", "infinite-loop", "--out", str(out), "--speed", "30"],
                   tmp_path / "home")  # fmt: skip
    try:
        child.expect(STEP)
        child.expect("INJECT at T\\+2m")
        child.expect("still waiting for an answer")
        child.sendline("d")
        for _ in range(2):
            child.expect(STEP)
            child.sendline("d")
        child.expect(r"\[g\]ap NOTE: ")
        child.sendline("d")
        for _ in range(4):
            child.expect("notes: ")
            child.sendline("")
        child.expect(r"action item .*: ")
        child.sendline("")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    data = json.loads((out / "drill.json").read_text())
    first = data["injects"][0]
    assert first["before_step"] == "assess-trace" and first["shown"]


def test_ctrl_c_ends_the_drill_without_leaving_the_agent_or_the_scratch(tmp_path: Path) -> None:
    out = tmp_path / "report"
    child = _spawn(["drill", "run", "kill-switch", "--out", str(out)], tmp_path / "home")
    try:
        child.expect(r"The agent is RUNNING right now: pids (\d+), (\d+)\.")
        pids = [int(child.match.group(1)), int(child.match.group(2))]
        child.expect(STEP)
        child.sendintr()
        child.expect("interrupted")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not (out / "workspace").exists()
