"""Build a scenario's scratch workspace: a git repository and the agent's trace, consistent.

The repository is made with the git CLI (never the responder's repositories: everything lives
under the workspace root). Beats are played in order: file writes and edits land on disk, each
agent commit is made at its beat's time with the human's identity (as agents do), and the trace
records the tool calls with the real `git commit` output, so the hashes the trace prints are the
hashes in the history. Human commits listed before the first agent commit are made before the
session; those listed after an agent commit are made a minute after it (people keep working).
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from agentir.errors import ActionError
from agentir.scenarios.spec import Beat, CommitSpec, Scenario
from agentir.scenarios.tracewriter import (
    Action,
    ClaudeCodeWriter,
    CodexWriter,
    TraceWriter,
    Usage,
    trace_file_name,
)

# Obviously fake credentials, assembled at run time so no scanner takes this file for a leak.
FAKE_GITHUB_TOKEN = "ghp_" + "DEMO0FAKE0TOKEN0" * 2 + "0000"
CLAUDE_TRAILER = (
    "\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
    "Co-Authored-By: Claude <noreply@anthropic.com>\n"
)
CODEX_TRAILER = "\n\nCo-authored-by: Codex <codex@openai.com>\n"
_PLACEHOLDER = re.compile(r"\{(repo|workspace|token|session)\}")
_FILE_STEP = timedelta(seconds=2)


@dataclass(frozen=True)
class Workspace:
    """A built scenario: where everything is, and what was made."""

    root: Path
    repo: Path
    trace: Path  # where the team finds the trace
    trace_source: Path  # where it was written (differs while the trace is "not yet available")
    session_id: str
    agent: str
    token: str
    started_at: datetime
    ended_at: datetime
    commits: Mapping[str, str] = field(default_factory=dict)  # commit id -> sha
    agent_commits: tuple[str, ...] = ()  # shas, oldest first
    outside: tuple[str, ...] = ()  # files the agent wrote outside the repository

    def contains(self, path: Path | str) -> bool:
        """Whether `path` is inside the workspace (after resolving links and `..`)."""
        target = Path(path).expanduser().resolve()
        return target == self.root or self.root in target.parents

    def ensure_inside(self, path: Path | str, what: str = "path") -> Path:
        """The path, or ActionError: a drill must never act on anything outside its scratch."""
        if not self.contains(path):
            raise ActionError(
                f"refusing to use {what} {path}: it is outside the drill's scratch folder {self.root}",
                hint="this is a bug in the drill engine; nothing was done",
            )
        return Path(path)

    def make_trace_available(self) -> bool:
        """Move a delayed trace into place; True when it moved now."""
        if self.trace_source == self.trace or self.trace.exists() or not self.trace_source.exists():
            return False
        self.trace.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.trace_source, self.trace)
        return True


def _git_env(
    when: datetime | None, author: tuple[str, str], committer: tuple[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME=author[0],
        GIT_AUTHOR_EMAIL=author[1],
        GIT_COMMITTER_NAME=committer[0],
        GIT_COMMITTER_EMAIL=committer[1],
    )
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return env


class _Repo:
    def __init__(self, path: Path, branch: str, user: tuple[str, str]) -> None:
        self.path = path
        self.user = user
        path.mkdir(parents=True, exist_ok=True)
        hooks = path / ".git" / "no-hooks"
        self.git("init", "-q", "-b", branch, "--template=")
        hooks.mkdir(parents=True, exist_ok=True)
        for key, value in (
            ("user.name", user[0]),
            ("user.email", user[1]),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
            ("core.autocrlf", "false"),
            ("core.hooksPath", str(hooks)),  # a team's global hooks must not run in a drill
        ):
            self.git("config", key, value)

    def git(
        self, *args: str, when: datetime | None = None, author: tuple[str, str] | None = None
    ) -> str:
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=_git_env(when, author or self.user, self.user),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise ActionError(
                f"git {' '.join(args[:2])} failed in the scenario repository: {proc.stderr.strip()}",
                hint="is git installed and on PATH?",
            )
        return proc.stdout

    def commit(
        self, files: Mapping[str, str | None], message: str, when: datetime, author: tuple[str, str]
    ) -> tuple[str, str]:
        """Write the files, commit them; (sha, git's own output)."""
        paths = []
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                if target.exists():
                    self.git("rm", "-q", "--", rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            paths.append(rel)
        if paths:
            self.git("add", "--", *paths)
        output = self.git("commit", "--no-verify", "-m", message, when=when, author=author)
        sha = self.git("rev-parse", "HEAD").strip()
        return sha, output


def _substitute(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _chunk(old: str, new: str) -> tuple[str, str]:
    """The smallest run of whole lines that differs: what an Edit tool call would replace."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return "".join(a[start : len(a) - end]), "".join(b[start : len(b) - end])


@dataclass
class _Play:
    """The state while playing the beats."""

    scenario: Scenario
    root: Path
    repo: _Repo
    writer: TraceWriter
    values: dict[str, str]
    at: datetime
    calls: int = 0
    commits: dict[str, str] = field(default_factory=dict)
    agent_shas: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def usage(self, beat: Beat, factor: float) -> Usage:
        self.calls += 1
        base = beat.tokens or Usage(cache_read=18_000 + 2_500 * self.calls, cache_write=900)
        return base.scaled(factor) if factor != 1.0 else base

    def text(self, value: str) -> str:
        return _substitute(value, self.values)

    def path(self, rel: str) -> Path:
        rel = self.text(rel)
        target = Path(posixpath.normpath(str(self.repo.path / rel)))
        if self.root not in target.parents:
            raise ActionError(
                f"scenario path {rel} leaves the workspace", hint="check the scenario"
            )
        if self.repo.path not in target.parents:
            self.outside.append(str(target))
        return target


def _flatten(beats: tuple[Beat, ...], factor: float = 1.0) -> Iterator[tuple[Beat, float]]:
    for beat in beats:
        if beat.kind == "repeat":
            for i in range(int(beat.value)):
                yield from _flatten(beat.beats, factor * beat.grow**i)
        else:
            yield beat, factor


def _play_beat(
    play: _Play,
    beat: Beat,
    factor: float,
    commit_specs: Mapping[str, CommitSpec],
    after: Mapping[str, list[CommitSpec]],
) -> None:
    play.at += timedelta(minutes=beat.minutes)
    usage = play.usage(beat, factor)
    say = play.text(beat.say) if beat.say else None
    if beat.kind == "message":
        play.writer.say(play.text(beat.value), play.at, usage)
    elif beat.kind == "run":
        code = beat.exit
        action = Action("shell", play.text(beat.value), play.text(beat.output), code == 0, code)
        play.writer.act(action, play.at, usage, say)
    elif beat.kind == "read":
        target = play.path(beat.value)
        output = (
            play.text(beat.output)
            if beat.output
            else (target.read_text(encoding="utf-8") if target.is_file() else "")
        )
        ok = bool(beat.output) or target.is_file()
        play.writer.act(
            Action("read", str(target), output or "File does not exist.", ok), play.at, usage, say
        )
    elif beat.kind == "write":
        target = play.path(beat.value)
        content = play.text(beat.content)
        created = not target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        play.writer.act(
            Action("write", str(target), content=content, created=created), play.at, usage, say
        )
    elif beat.kind == "edit":
        target = play.path(beat.value)
        old, new = play.text(beat.old), play.text(beat.new)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        ok = beat.fails is None and current is not None and old in current
        if ok and current is not None:
            target.write_text(current.replace(old, new, 1), encoding="utf-8")
        output = play.text(beat.fails) if beat.fails else ""
        play.writer.act(
            Action("edit", str(target), output, ok, old=old, new=new), play.at, usage, say
        )
    elif beat.kind == "commit":
        _play_commit(play, commit_specs[beat.value], usage, say)
        for human in after.get(beat.value, []):
            play.at += timedelta(minutes=1)
            sha, _ = play.repo.commit(
                {k: (play.text(v) if v is not None else None) for k, v in human.files.items()},
                human.message, play.at, human.author or play.repo.user,
            )  # fmt: skip
            play.commits[human.id] = sha


def _play_commit(play: _Play, spec: CommitSpec, usage: Usage, say: str | None) -> None:
    at = play.at
    files: dict[str, str | None] = {}
    for rel, content in spec.files.items():
        target = play.repo.path / rel
        text = play.text(content) if content is not None else None
        files[rel] = text
        if text is None:
            play.writer.act(Action("shell", f"git rm -q {shlex.quote(rel)}", ""), at, usage, say)
        elif target.is_file():
            old, new = _chunk(target.read_text(encoding="utf-8"), text)
            if not old and not new:
                continue
            play.writer.act(Action("edit", str(target), old=old, new=new), at, usage, say)
        else:
            play.writer.act(
                Action("write", str(target), content=text, created=True), at, usage, say
            )
        say = None
        at += _FILE_STEP
        usage = play.usage(Beat("run", ""), 1.0)
    trailer = CLAUDE_TRAILER if play.scenario.trace.agent == "claude-code" else CODEX_TRAILER
    message = spec.message.rstrip("\n") + (trailer if spec.trailer else "\n")
    at += _FILE_STEP
    sha, output = play.repo.commit(files, message, at, spec.author or play.repo.user)
    play.commits[spec.id] = sha
    play.agent_shas.append(sha)
    paths = " ".join(shlex.quote(p) for p, c in files.items() if c is not None)
    subject = spec.message.splitlines()[0]
    command = (
        f"git add {paths} && git commit -m {shlex.quote(subject)}"
        if paths
        else (f"git commit -m {shlex.quote(subject)}")
    )
    play.writer.act(Action("shell", command, output.rstrip("\n") + "\n"), at, usage, say)
    play.at = at


def build_workspace(
    scenario: Scenario, root: Path, *, session_id: str | None = None, now: datetime | None = None
) -> Workspace:
    """Make the repository and write the trace of `scenario` under `root` (created if needed)."""
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    repo_path = root / "repo"
    if repo_path.exists():
        raise ActionError(
            f"{repo_path} already exists", hint="build a workspace in an empty folder"
        )
    sid = session_id or str(uuid.uuid4())
    end = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = end - timedelta(minutes=scenario.trace.started_minutes_ago)
    spec = scenario.repo
    values = {
        "repo": str(repo_path),
        "workspace": str(root),
        "token": FAKE_GITHUB_TOKEN,
        "session": sid,
    }
    repo = _Repo(repo_path, spec.branch, spec.user)
    initial = {k: _substitute(v, values) for k, v in spec.files.items()}
    repo.commit(initial, "Initial commit", start - timedelta(days=3), spec.user)

    before: list[CommitSpec] = []
    after: dict[str, list[CommitSpec]] = {}
    last_agent: str | None = None
    for commit in spec.commits:
        if commit.by == "agent":
            last_agent = commit.id
        elif last_agent is None:
            before.append(commit)
        else:
            after.setdefault(last_agent, []).append(commit)
    commits: dict[str, str] = {}
    for i, human in enumerate(before):
        when = start - timedelta(hours=len(before) - i)
        files = {
            k: (_substitute(v, values) if v is not None else None) for k, v in human.files.items()
        }
        commits[human.id], _ = repo.commit(files, human.message, when, human.author or spec.user)

    trace = scenario.trace
    writer: TraceWriter
    if trace.agent == "codex":
        writer = CodexWriter(sid, str(repo_path), model=trace.model, branch=spec.branch,
                             approval_policy=trace.mode or "on-request", start=start)  # fmt: skip
    else:
        writer = ClaudeCodeWriter(sid, str(repo_path), model=trace.model, branch=spec.branch,
                                  permission_mode=trace.mode)  # fmt: skip
    play = _Play(scenario, root, repo, writer, values, start, commits=commits)
    writer.user(_substitute(trace.task, values), start)
    specs = {c.id: c for c in spec.commits}
    for beat, factor in _flatten(trace.beats):
        _play_beat(play, beat, factor, specs, after)

    name = trace_file_name(trace.agent, sid, start)
    found_at = root / "traces" / name
    written = found_at if trace.available_at_minute is None else root / ".pending" / name
    writer.dump(written)
    return Workspace(
        root=root,
        repo=repo_path,
        trace=found_at,
        trace_source=written,
        session_id=sid,
        agent=trace.agent,
        token=FAKE_GITHUB_TOKEN,
        started_at=start,
        ended_at=play.at,
        commits=dict(play.commits),
        agent_commits=tuple(play.agent_shas),
        outside=tuple(dict.fromkeys(play.outside)),
    )
