"""Real git repositories for the remediation tests: commits with explicit dates and identities,
a hand-written Claude Code session filled with the real hashes, and a byte-level snapshot of a
repository's state to prove that a failed run changed nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "remediate"
SID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
CLAUDE_TRAILER = (
    "\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
    "Co-Authored-By: Claude <noreply@anthropic.com>\n"
)

BASE_FILES = {
    "app.py": "VERSION = 1\n\ndef main():\n    return VERSION\n",
    "lib/util.py": "def util():\n    return 1\n",
    "config.yaml": "debug: false\nname: app\n",
    "docs.txt": "docs v1\n",
    "README.md": "# app\n",
    "notes.md": "notes\n",
}


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", HOME=env.get("HOME", "/tmp"))
    return env


@dataclass
class Repo:
    """A git repository in a temp dir, driven with the git CLI."""

    path: Path
    shas: dict[str, str] = field(default_factory=dict)

    def init(self) -> Repo:
        """`git init` with a local identity and no signing."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        for key, value in (
            ("user.name", "Dev Person"),
            ("user.email", "dev@example.com"),
            ("commit.gpgsign", "false"),
            ("core.autocrlf", "false"),
        ):
            self.git("config", key, value)
        return self

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        """Run git in the repo; stdout."""
        full = _clean_env()
        full.update(env or {})
        res = subprocess.run(
            ["git", *args], cwd=self.path, env=full, capture_output=True, text=True, check=False
        )
        if check and res.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {res.stderr}")
        return res.stdout

    def commit(
        self,
        name: str,
        files: dict[str, str | None],
        message: str,
        when: str,
        *,
        author: tuple[str, str] | None = None,
        committer: tuple[str, str] | None = None,
    ) -> str:
        """Write (or delete, for None) files and commit them at `when` (ISO, UTC)."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.git("add", "-A")
        env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        if author:
            env.update(GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1])
        if committer:
            env.update(GIT_COMMITTER_NAME=committer[0], GIT_COMMITTER_EMAIL=committer[1])
        self.git("commit", "-q", "-m", message, env=env)
        sha = self.git("rev-parse", "HEAD").strip()
        self.shas[name] = sha
        return sha

    def read(self, rel: str, ref: str | None = None) -> str | None:
        """A file at a ref (None when absent)."""
        res = subprocess.run(
            ["git", "show", f"{ref}:{rel}"], cwd=self.path, capture_output=True, text=True
        )
        return res.stdout if res.returncode == 0 else None

    def snapshot(self) -> dict[str, object]:
        """Everything a failed remediation must leave untouched, down to the bytes of each file."""
        files: dict[str, str] = {}
        for root, dirs, names in os.walk(self.path):
            dirs[:] = [d for d in dirs if d != ".git"]
            for n in names:
                p = Path(root) / n
                files[str(p.relative_to(self.path))] = hashlib.sha256(p.read_bytes()).hexdigest()
        return {
            "head": self.git("rev-parse", "HEAD"),
            "symbolic": self.git("symbolic-ref", "-q", "HEAD", check=False),
            "refs": self.git("for-each-ref", "--format=%(refname) %(objectname)"),
            "index": self.git("ls-files", "--stage", "-z"),
            "status": self.git("status", "--porcelain=v1", "-z", "--untracked-files=all"),
            "stash": self.git("stash", "list", "--format=%H %gs"),
            "worktrees": self.git("worktree", "list", "--porcelain"),
            "files": files,
        }


def interleaved(root: Path) -> Repo:
    """Agent commits interleaved with human commits (see the test module for the story)."""
    repo = Repo(root / "repo").init()
    repo.commit("base", dict(BASE_FILES), "Initial import", "2026-02-01T09:00:00Z")
    repo.commit(
        "other_agent",
        {"notes.md": "notes, reworded by an agent\n"},
        "Reword notes" + CLAUDE_TRAILER,
        "2026-03-01T12:00:00Z",
    )
    repo.commit(
        "a1",
        {"app.py": BASE_FILES["app.py"].replace("VERSION = 1", "VERSION = 2")},
        "Add health check",
        "2026-03-10T10:01:00Z",
    )
    repo.commit("h1", {"docs.txt": "docs v2 (human)\n"}, "Update docs", "2026-03-10T10:01:30Z")
    repo.commit("a2", {"lib/new.py": "def helper():\n    return 42\n"}, "Add helper module",
                "2026-03-10T10:03:00Z")  # fmt: skip
    repo.commit(
        "a3",
        {"lib/util.py": "def util(x=None):\n    return 1\n"},
        "Let util take an argument" + CLAUDE_TRAILER,
        "2026-03-10T10:04:30Z",
    )
    repo.commit("a4", {"config.yaml": "debug: true\nname: app\n"}, "tidy", "2026-03-10T10:05:30Z")
    repo.commit(
        "h2", {"README.md": "# app\n\nHuman docs.\n"}, "Write README", "2026-03-10T10:30:00Z"
    )
    return repo


def write_trace(root: Path, repo: Repo, *, sid: str = SID, cwd: Path | None = None) -> Path:
    """The hand-written session with this repository's real short hashes and path."""
    text = (DATA / "session.jsonl.tmpl").read_text()
    text = text.replace("{{CWD}}", str(cwd or repo.path)).replace("{{SID}}", sid)
    text = text.replace("{{A1_SHORT}}", repo.shas["a1"][:7])
    text = text.replace("{{A2_SHORT}}", repo.shas["a2"][:7])
    path = root / f"{sid}.jsonl"
    path.write_text(text)
    return path
