"""`agentir demo`: the whole response on the bundled incident, in a scratch folder, leaving
nothing else behind; and the same on a fresh virtual environment built from the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from agentir.cli.app import app
from agentir.demo import FAKE_TOKEN, Phase, _run
from agentir.errors import AgentirError
from tests.drills.conftest import no_stand_in_left  # noqa: F401  (autouse: no agent left behind)

ROOT = Path(__file__).resolve().parents[2]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def session_processes(session_id: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if session_id in " ".join(proc.info["cmdline"] or []) and proc.info["status"] != "zombie":
            found.append(proc.pid)
    return found


def check_demo_output(out: Path) -> str:
    """What every demo must leave: a review naming the files, the loop and the redacted token,
    a revert branch, and no raw token outside the trace and its evidence copy. The session id."""
    review = (out / "review.md").read_text()
    for path in ("src/auth/login.py", "src/auth/session.py", "infra/prod/gateway.yaml"):
        assert path in review, path
    assert "loop: the agent alternates between two calls" in review
    assert "[REDACTED:github-token:" in review
    html = (out / "review.html").read_text()
    assert "[REDACTED:github-token:" in html
    for folder, _, files in os.walk(out):
        if ".git" in Path(folder).parts or Path(folder).name in ("traces", "evidence"):
            continue  # the trace is the leak itself; evidence keeps a byte-exact copy of it
        for name in files:
            text = (Path(folder) / name).read_bytes()
            assert FAKE_TOKEN.encode() not in text, Path(folder) / name
    (trace,) = (out / "traces").glob("*.jsonl")
    assert FAKE_TOKEN in trace.read_text()
    repo = out / "repo"
    branches = git(repo, "branch", "--format=%(refname:short)").split()
    (revert,) = [b for b in branches if b.startswith("agentir/revert-INC-")]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"  # untouched checkout
    reverted = git(repo, "log", "-1", "--format=%B", revert)
    agent = git(repo, "log", "--format=%H", "--grep", "Fix login test", "main").split()
    assert (
        reverted.startswith('Revert "Fix login test"')
        and f"This reverts commit {agent[0]}" in reverted
    )
    assert "Changelog for the week" in git(repo, "log", "--format=%s", revert)  # humans' kept
    return trace.stem


def test_demo_in_a_subprocess_leaves_only_its_folder(tmp_path: Path) -> None:
    out, tmp, home = tmp_path / "demo", tmp_path / "tmp", tmp_path / "user-home"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "AGENTIR_HOME": str(home), "NO_COLOR": "1",
           "COLUMNS": "200"}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "agentir", "demo", "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for phase in ("contain", "assess", "remediate", "review", "cleanup"):
        assert f"  {phase:<10} done " in proc.stdout, proc.stdout
    assert "paused 2 processes of session" in proc.stdout
    assert "findings: " in proc.stdout and "loop" in proc.stdout
    assert f"review: {out / 'review.md'}" in proc.stdout
    assert "[1/4] contain ..." in proc.stderr and "[4/4] review: done" in proc.stderr
    assert FAKE_TOKEN not in proc.stdout + proc.stderr
    session = check_demo_output(out)
    assert session_processes(session) == []
    assert list(tmp.iterdir()) == []  # no temp files left behind
    assert not home.exists()  # the user's store is never touched: the demo has its own
    assert (out / "home" / "incidents").is_dir()


def test_demo_json_in_process(tmp_path: Path) -> None:
    before = os.environ.get("AGENTIR_HOME")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert os.environ.get("AGENTIR_HOME") == before  # put back after the demo's own home
    data = json.loads(result.stdout)["data"]
    assert [(p["name"], p["status"]) for p in data["phases"]] == [
        ("contain", "done"), ("assess", "done"), ("remediate", "done"), ("review", "done"),
    ]  # fmt: skip
    assert data["processes_left"] == [] and data["killed"] is True
    phases = {p["name"]: p["details"] for p in data["phases"]}
    assert len(phases["contain"]["paused"]) == 2
    assert {"loop", "hallucination"} <= {f["detector"] for f in phases["assess"]["findings"]}
    assert phases["assess"]["secrets"][0].startswith("[REDACTED:github-token:")
    assert phases["remediate"]["verified"] is True
    assert Path(data["review"]["md"]).is_file()
    assert session_processes(data["session"]) == []
    check_demo_output(tmp_path / "d")


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not an empty folder" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_keep_going_records_a_failed_phase_instead_of_stopping() -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    def refused() -> None:
        raise AgentirError("no repository")

    phase = Phase("remediate")
    _run(phase, broken, keep_going=True)
    assert (phase.status, phase.summary) == ("failed", "internal error: RuntimeError: boom")
    with pytest.raises(RuntimeError):
        _run(Phase("remediate"), broken, keep_going=False)
    phase = Phase("review")
    _run(phase, refused, keep_going=False)  # an AgentirError is a failed phase either way
    assert (phase.status, phase.summary) == ("failed", "no repository")


def _index_unreachable(output: str) -> bool:
    words = ("Could not find a version", "No matching distribution", "connection", "Network is unreachable",
             "Temporary failure in name resolution", "Max retries exceeded")  # fmt: skip
    return any(w.lower() in output.lower() for w in words)


@pytest.mark.slow
def test_demo_on_a_fresh_virtual_environment_from_the_wheel(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if built.returncode != 0:
        if _index_unreachable(built.stdout + built.stderr):
            pytest.skip("the package index is unreachable: cannot build the wheel in isolation")
        raise AssertionError(built.stdout + built.stderr)
    (wheel,) = (tmp_path / "dist").glob("agentir-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    if installed.returncode != 0:
        if _index_unreachable(installed.stdout + installed.stderr):
            pytest.skip("the package index is unreachable: cannot install the wheel's dependencies")
        raise AssertionError(installed.stdout + installed.stderr)
    out, home = tmp_path / "demo", tmp_path / "user-home"
    env.update(AGENTIR_HOME=str(home), NO_COLOR="1", COLUMNS="200")
    proc = subprocess.run(
        [str(venv / "bin" / "agentir"), "demo", "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(venv) in (venv / "bin" / "agentir").read_text()  # the venv's own entry point ran
    session = check_demo_output(out)
    assert session_processes(session) == []
    assert not home.exists()
