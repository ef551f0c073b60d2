"""Helpers for the contain / gate / respond tests: a trace with fake secrets made at test time,
a real git repository, and the test runbooks. Secrets are never in committed files."""

from __future__ import annotations

import os
import random
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "contain"
RUNBOOKS = DATA / "runbooks"
TEMPLATE = DATA / "session.jsonl.tmpl"


@dataclass(frozen=True)
class Repo:
    """A temp repository: base <- agent (frozen) <- later on main; `other` branches off base."""

    path: Path
    base: str
    agent: str
    later: str
    other: str


def fake_secrets(seed: int | None = None) -> dict[str, str]:
    """Credential-shaped random values (they match the redaction patterns, open nothing)."""
    rnd = random.Random(seed)
    alnum = string.ascii_letters + string.digits

    def pick(chars: str, n: int) -> str:
        return "".join(rnd.choice(chars) for _ in range(n))

    return {
        "AWS_SECRET": pick(alnum + "/+", 40),
        "GH_TOKEN": "ghp_" + pick(alnum, 36),
        "GH_TOKEN2": "ghs_" + pick(alnum, 36),
        "AKIA": "AKIA" + pick(string.ascii_uppercase + string.digits, 16),
    }


def make_trace(
    folder: Path, session_id: str, cwd: Path, commit: str, secrets: dict[str, str]
) -> Path:
    """The Claude Code session fixture with its placeholders filled in."""
    text = TEMPLATE.read_text()
    values = {**secrets, "SESSION": session_id, "CWD": str(cwd), "COMMIT_SHORT": commit[:7]}
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    assert "@@" not in text
    path = folder / f"{abs(hash(session_id))}.jsonl"
    path.write_text(text)
    return path


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; its stdout."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip()


def make_repo(folder: Path) -> Repo:
    """A real repository with a frozen (agent) commit on main and a branch without it."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q", "-b", "main")

    def commit(name: str) -> str:
        (folder / name).write_text(name + "\n")
        git(folder, "add", name)
        git(folder, "commit", "-q", "-m", name)
        return git(folder, "rev-parse", "HEAD")

    base = commit("base.txt")
    agent = commit("agent.txt")
    later = commit("later.txt")
    git(folder, "checkout", "-q", "-b", "other", base)
    other = commit("other.txt")
    git(folder, "checkout", "-q", "main")
    return Repo(folder, base, agent, later, other)


def run_in_pty(
    argv: list[str], answers: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> tuple[int, str]:
    """Run a command on a pseudo-terminal, typing one answer at each prompt (`…]: `, `…?: `)."""
    import pty
    import re
    import select
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True
    )
    os.close(slave)
    output, pending, answered = b"", list(answers), 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                output += data
            prompts = len(re.findall(rb"[\]?]: ", output))
            if pending and prompts > answered:
                os.write(master, pending.pop(0).encode() + b"\n")
                answered += 1
            if proc.poll() is not None and not ready:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    return proc.returncode, output.decode(errors="replace")
