"""Run the guard hook as Claude Code does: a fresh process, the hook JSON on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "guard"


def hook_json(name: str, session: str, transcript: Path, cwd: Path) -> bytes:
    """A fixture from tests/data/guard/ with its placeholders filled in."""
    text = (DATA / name).read_text()
    for key, value in {"SESSION": session, "TRANSCRIPT": str(transcript), "CWD": str(cwd)}.items():
        text = text.replace(f"@@{key}@@", value)
    assert "@@" not in text
    return text.encode()


@dataclass(frozen=True)
class HookRun:
    """What the hook process did."""

    code: int
    stdout: str
    stderr: str


def run_hook(
    stdin: bytes, *, cwd: Path, policy: Path | None = None, env: dict[str, str] | None = None
) -> HookRun:
    """`python -m agentir.guard.hook [--policy FILE] --agentir-guard`, as installed."""
    argv = [sys.executable, "-m", "agentir.guard.hook"]
    if policy is not None:
        argv += ["--policy", str(policy)]
    argv.append("--agentir-guard")
    proc = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    return HookRun(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
