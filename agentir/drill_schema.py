"""The drill scenario schema and its checker: every error, each with file, line and key path.

Works on a parsed `YamlDoc` (data plus the line of every key), like the runbook checker, so it
needs no YAML library; `agentir.drills` does the parsing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any

from agentir.config import YamlDoc
from agentir.runbook_schema import OWNER_ROLES, PHASES, SEVERITY_VALUES
from agentir.scenarios.spec import BEAT_KINDS, beat_kind, parse_author
from agentir.scenarios.tracewriter import AGENTS
from agentir.schema_checks import KeyPath, SchemaChecker, SchemaError, describe

ScenarioError = SchemaError  # same shape as a runbook error: file, line, key path, message

TOP_KEYS = (
    "kind", "id", "title", "severity", "kill_switch", "contacts", "briefing", "injects",
    "trace", "repo", "expected", "questions",
)  # fmt: skip
TRACE_KEYS = (
    "agent",
    "task",
    "model",
    "mode",
    "started_minutes_ago",
    "available_at_minute",
    "beats",
)
COMMON_BEAT_KEYS = ("minutes", "tokens", "say")
BEAT_KEYS = {
    "message": (),
    "run": ("output", "exit", "fails"),
    "write": ("content",),
    "edit": ("old", "new", "fails"),
    "read": ("output",),
    "commit": (),
    "repeat": ("beats", "grow"),
}
TOKEN_KEYS = ("input", "output", "cache_read", "cache_write")
REPO_KEYS = ("branch", "user", "files", "commits")
COMMIT_KEYS = ("id", "by", "message", "files", "trailer", "author")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
MAX_REPEAT = 50


def validate_scenario(doc: YamlDoc) -> list[ScenarioError]:
    """Every schema error of one parsed scenario file, in line order."""
    checker = _Checker(doc)
    checker.check()
    return sorted(checker.errors, key=lambda e: e.line)


def repo_path_problem(path: str) -> str | None:
    """Why a scenario file path is unusable (absolute, or escaping the workspace), or None."""
    if not path or path.startswith(("/", "~")) or "\\" in path or "\x00" in path:
        return "use a path relative to the repository (../ for a file beside it)"
    norm = posixpath.normpath(path)
    if norm.startswith("../../") or norm == ".." or norm == "../..":
        return "a path may leave the repository by one level at most (../other/file)"
    if norm == "." or norm.startswith(".git/") or norm == ".git":
        return "not a file path inside the repository"
    return None


class _Checker(SchemaChecker):
    def __init__(self, doc: YamlDoc) -> None:
        super().__init__(doc)
        self.agent_commits: dict[str, int] = {}
        self.committed: dict[str, int] = {}

    def number(
        self, data: Mapping[str, Any], key: str, path: KeyPath, *, minimum: float = 0.0,
        required: bool = False, integer: bool = False, above: bool = False,
    ) -> float | None:  # fmt: skip
        if key not in data:
            if required:
                self.err(path, f"missing required key {key!r}")
            return None
        value = data[key]
        wrong = isinstance(value, bool) or not isinstance(value, (int, float))
        if integer and not wrong and not isinstance(value, int):
            wrong = True
        if wrong or value < minimum or (above and value == minimum):
            what = "a whole number" if integer else "a number"
            bound = f"> {minimum:g}" if above else f">= {minimum:g}"
            self.err((*path, key), f"expected {what} {bound}, got {describe(value)}")
            return None
        return float(value)

    def check(self) -> None:
        data = self.mapping(self.doc.data, (), TOP_KEYS)
        if data is None:
            return
        if data.get("kind") != "drill":
            self.err(("kind",) if "kind" in data else (), "a scenario needs 'kind: drill'")
        scenario_id = self.text(data, "id", (), required=True)
        if scenario_id is not None and not _ID.match(scenario_id):
            self.err(("id",), f"{scenario_id!r}: use lowercase letters, digits, '-', '_', '.'")
        self.text(data, "title", (), required=True)
        if "severity" not in data:
            self.err((), "missing required key 'severity'")
        elif data["severity"] not in SEVERITY_VALUES:
            self.err(
                ("severity",), f"{data['severity']!r} is not one of {', '.join(SEVERITY_VALUES)}"
            )
        self.flag(data, "kill_switch", ())
        self.check_contacts(data.get("contacts"))
        self.text(data, "briefing", (), required=True)
        self.check_injects(data.get("injects"))
        if "repo" not in data:
            self.err((), "missing required key 'repo'")
        else:
            self.check_repo(data["repo"])
        if "trace" not in data:
            self.err((), "missing required key 'trace'")
        else:
            self.check_trace(data["trace"])
        self.check_expected(data.get("expected"))
        self.check_questions(data.get("questions"))

    def check_contacts(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.err(("contacts",), f"expected a list of roles, got {describe(value)}")
            return
        for i, role in enumerate(value):
            if role not in OWNER_ROLES:
                self.err(("contacts", i), f"{role!r} is not one of {', '.join(OWNER_ROLES)}")

    def check_injects(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.err(("injects",), f"expected a list, got {describe(value)}")
            return
        for i, item in enumerate(value):
            path: KeyPath = ("injects", i)
            inject = self.mapping(item, path, ("at_minute", "text"))
            if inject is None:
                continue
            self.number(inject, "at_minute", path, required=True)
            self.text(inject, "text", path, required=True)

    def check_questions(self, value: Any) -> None:
        if value is None:
            self.err((), "missing required key 'questions' (the hot wash needs them)")
            return
        if not isinstance(value, list) or not value:
            self.err(
                ("questions",), f"expected a non-empty list of questions, got {describe(value)}"
            )
            return
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.err(("questions", i), f"expected non-empty text, got {describe(item)}")

    def check_expected(self, value: Any) -> None:
        if value is None:
            return
        data = self.mapping(value, ("expected",), PHASES)
        seen: set[str] = set()
        for phase, items in (data or {}).items():
            if phase not in PHASES:
                continue
            if not isinstance(items, list):
                self.err(("expected", phase), f"expected a list of actions, got {describe(items)}")
                continue
            for i, item in enumerate(items):
                path: KeyPath = ("expected", phase, i)
                if isinstance(item, dict):
                    item_map = self.mapping(item, path, ("id", "text"))
                    action = self.text(item_map or {}, "id", path, required=True)
                    self.text(item_map or {}, "text", path, required=False)
                elif isinstance(item, str):
                    action = item
                else:
                    self.err(path, f"expected a step id or {{id, text}}, got {describe(item)}")
                    continue
                if action is None:
                    continue
                if not _ID.match(action):
                    self.err(path, f"{action!r}: use lowercase letters, digits, '-', '_', '.'")
                elif action in seen:
                    self.err(path, f"{action!r} is expected twice")
                seen.add(action)

    def check_repo(self, value: Any) -> None:
        data = self.mapping(value, ("repo",), REPO_KEYS)
        if data is None:
            return
        branch = data.get("branch", "main")
        if not isinstance(branch, str) or not _BRANCH.match(branch) or ".." in branch:
            self.err(("repo", "branch"), f"not a usable branch name: {describe(branch)}")
        if "user" in data:
            user = self.mapping(data["user"], ("repo", "user"), ("name", "email"))
            if user is not None:
                self.text(user, "name", ("repo", "user"), required=True)
                self.text(user, "email", ("repo", "user"), required=True)
        files = data.get("files")
        if not isinstance(files, dict) or not files:
            self.err(("repo", "files") if "files" in data else ("repo",),
                     "expected 'files': a mapping of path to content (the first commit)")  # fmt: skip
        else:
            self.check_files(files, ("repo", "files"), deletions=False)
        commits = data.get("commits") or []
        if not isinstance(commits, list):
            self.err(("repo", "commits"), f"expected a list of commits, got {describe(commits)}")
            return
        ids: set[str] = set()
        for i, item in enumerate(commits):
            self.check_commit(item, ("repo", "commits", i), ids)

    def check_files(self, files: Mapping[Any, Any], path: KeyPath, *, deletions: bool) -> None:
        for name, content in files.items():
            where = (*path, str(name))
            problem = repo_path_problem(str(name))
            if problem or str(name).startswith("../"):
                self.err(where, problem or "a repository file cannot be outside the repository")
            if content is None and deletions:
                continue
            if not isinstance(content, str):
                what = "text (or null to delete it)" if deletions else "text"
                self.err(where, f"expected {what}, got {describe(content)}")

    def check_commit(self, value: Any, path: KeyPath, ids: set[str]) -> None:
        commit = self.mapping(value, path, COMMIT_KEYS)
        if commit is None:
            return
        commit_id = self.text(commit, "id", path, required=True)
        if commit_id is not None:
            if commit_id in ids:
                self.err((*path, "id"), f"duplicate commit id {commit_id!r}")
            ids.add(commit_id)
        by = commit.get("by")
        if by not in ("human", "agent"):
            self.err((*path, "by") if "by" in commit else path, "'by' must be human or agent")
        elif by == "agent" and commit_id is not None:
            self.agent_commits[commit_id] = self.doc.line_of(*path, "id") or 1
        self.text(commit, "message", path, required=True)
        files = commit.get("files")
        if not isinstance(files, dict) or not files:
            self.err((*path, "files") if "files" in commit else path,
                     "expected 'files': a mapping of path to new content")  # fmt: skip
        else:
            self.check_files(files, (*path, "files"), deletions=True)
        self.flag(commit, "trailer", path)
        author = commit.get("author")
        if author is not None and (not isinstance(author, str) or parse_author(author) is None):
            self.err((*path, "author"), "expected 'Name <email>'")

    def check_trace(self, value: Any) -> None:
        data = self.mapping(value, ("trace",), TRACE_KEYS)
        if data is None:
            return
        agent = data.get("agent", "claude-code")
        if agent not in AGENTS:
            self.err(("trace", "agent"), f"{agent!r} is not one of {', '.join(AGENTS)}")
        self.text(data, "task", ("trace",), required=True)
        for key in ("model", "mode"):
            self.text(data, key, ("trace",), required=False)
        self.number(data, "started_minutes_ago", ("trace",), above=True)
        self.number(data, "available_at_minute", ("trace",))
        beats = data.get("beats")
        if not isinstance(beats, list) or not beats:
            self.err(("trace", "beats") if "beats" in data else ("trace",),
                     "expected 'beats': a non-empty list of what the agent did")  # fmt: skip
        else:
            for i, beat in enumerate(beats):
                self.check_beat(beat, ("trace", "beats", i), in_repeat=False)
        for commit_id, line in self.agent_commits.items():
            if commit_id not in self.committed:
                self.errors.append(
                    ScenarioError(
                        str(self.doc.path), line, "repo.commits",
                        f"agent commit {commit_id!r} is never made in the trace "
                        f"(add a beat `commit: {commit_id}`)",
                    )
                )  # fmt: skip

    def check_beat(self, value: Any, path: KeyPath, *, in_repeat: bool) -> None:
        if not isinstance(value, dict):
            self.err(
                path,
                f"expected a mapping with one of {', '.join(BEAT_KINDS)}, got {describe(value)}",
            )
            return
        kinds = [k for k in BEAT_KINDS if k in value]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            tip = (
                "; `say` goes with a tool beat, use `message` for text alone"
                if "say" in value
                else ""
            )
            self.err(
                path, f"a beat needs exactly one of {', '.join(BEAT_KINDS)} (found {found}){tip}"
            )
            if not kinds:
                return
        kind = beat_kind(value) or kinds[0]
        self.mapping(value, path, (kind, *COMMON_BEAT_KEYS, *BEAT_KEYS[kind]))
        self.number(value, "minutes", path)
        if "say" in value:
            self.text(value, "say", path, required=False)
        if "tokens" in value:
            tokens = self.mapping(value["tokens"], (*path, "tokens"), TOKEN_KEYS)
            for key in tokens or {}:
                if key in TOKEN_KEYS:
                    self.number(tokens or {}, key, (*path, "tokens"), integer=True)
        subject = value.get(kind)
        if kind == "repeat":
            self.check_repeat(value, path)
            return
        if not isinstance(subject, str) or not subject.strip():
            self.err((*path, kind), f"expected non-empty text, got {describe(subject)}")
            return
        if kind in ("write", "edit", "read"):
            problem = repo_path_problem(subject)
            if problem:
                self.err((*path, kind), problem)
        if kind == "write" and not isinstance(value.get("content"), str):
            self.err(path, "a write beat needs 'content' (text)")
        if kind == "edit":
            for key in ("old", "new"):
                if not isinstance(value.get(key), str):
                    self.err(
                        (*path, key) if key in value else path, f"an edit beat needs {key!r} (text)"
                    )
        if kind == "run" and "exit" in value:
            self.number(value, "exit", path, integer=True)
        if kind == "commit":
            self.check_commit_beat(subject, path, in_repeat)

    def check_repeat(self, value: Mapping[str, Any], path: KeyPath) -> None:
        times = value.get("repeat")
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_REPEAT:
            self.err(
                (*path, "repeat"),
                f"expected a whole number from 1 to {MAX_REPEAT}, got {describe(times)}",
            )
        self.number(value, "grow", path, above=True)
        beats = value.get("beats")
        if not isinstance(beats, list) or not beats:
            self.err(
                (*path, "beats") if "beats" in value else path, "a repeat needs 'beats' (a list)"
            )
            return
        for i, beat in enumerate(beats):
            self.check_beat(beat, (*path, "beats", i), in_repeat=True)

    def check_commit_beat(self, commit_id: str, path: KeyPath, in_repeat: bool) -> None:
        where = (*path, "commit")
        if in_repeat:
            self.err(where, "a commit cannot be repeated (each commit is made once)")
        if commit_id not in self.agent_commits:
            known = ", ".join(sorted(self.agent_commits)) or "none"
            self.err(
                where,
                f"{commit_id!r} is not an agent commit under repo.commits (agent commits: {known})",
            )
        elif commit_id in self.committed:
            self.err(
                where, f"{commit_id!r} is made twice (first on line {self.committed[commit_id]})"
            )
        else:
            self.committed[commit_id] = self.doc.line_of(*where) or 1
