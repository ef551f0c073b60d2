"""Which commits did an agent session make? Combine the evidence and say why for each one.

Pure functions over `CommitInfo` records (read by `agentir.gitrepo`) and what the trace says
(`SessionEvidence`). Evidence, strongest first:

- the trace printed the commit's hash (`[main abc1234] msg` from `git commit`, Aider's
  `> Commit abc1234`), or a `Claude-Session:` trailer / `refs/notes/ai` note names the session;
- an agent's marker (trailer, `(aider)` author, `aider:` prefix, co-author address) on a commit
  made inside the session's time window;
- a commit inside the window whose changed paths overlap the files the trace says it wrote.

Markers alone are never trusted: agents' trailers are common in a repository's history, so a
marked commit outside the window is reported as an "other agent commit" and left alone. A commit
in the window that touches none of the session's files and has no marker is someone else's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agentir.gitrepo import CommitInfo

REVERT = "revert"
OTHER_AGENT = "other_agent"
KEPT = "kept"

DEFAULT_SLACK = timedelta(minutes=2)

# agentir agent name -> names other tools use for it (git-ai "tool", trailer names)
_AGENT_ALIASES = {
    "claude-code": ("claude", "claude_code", "claude-code"),
    "codex": ("codex",),
    "aider": ("aider",),
    "openhands": ("openhands", "openhands-agent"),
    "gemini-cli": ("gemini", "gemini-cli", "gemini_cli"),
    "copilot": ("copilot", "github-copilot"),
    "opencode": ("opencode",),
    "cursor": ("cursor", "cursoragent"),
    "windsurf": ("windsurf",),
}
_TOOL_TO_AGENT = {alias: agent for agent, names in _AGENT_ALIASES.items() for alias in names}
# traces whose format does not say which coding agent produced them
_GENERIC_AGENTS = frozenset({"", "otel", "langfuse", "unknown"})

_TRAILER = r"(?im)^[ \t]*{name}:[ \t]*(?P<v>.*)$"
_MESSAGE_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "claude-code",
        re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*claude\b[^\n<]*<noreply@anthropic\.com>"),
    ),
    ("claude-code", re.compile(r"(?i)generated with \[claude code\]")),
    ("aider", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*aider\b[^\n]*<aider@aider\.chat>")),
    ("aider", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*[^\n]*<noreply@aider\.dev>")),
    ("openhands", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*[^\n]*<openhands@all-hands\.dev>")),
    ("codex", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*codex\b[^\n]*")),
    ("codex", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*[^\n]*<codex@example\.com>")),
    (
        "copilot",
        re.compile(
            r"(?im)^[ \t]*co-authored-by:[ \t]*[^\n]*\+copilot@users\.noreply\.github\.com>"
        ),
    ),
    ("opencode", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*[^\n]*<noreply@opencode\.ai>")),
    ("gemini-cli", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*gemini\b[^\n]*")),
    ("cursor", re.compile(r"(?im)^[ \t]*co-authored-by:[ \t]*[^\n]*<cursoragent@cursor\.com>")),
)
_CLAUDE_SESSION = re.compile(_TRAILER.format(name="claude-session"))
_IDENTITY_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aider", re.compile(r"\(aider\)\s*$", re.I)),
    ("openhands", re.compile(r"^openhands(?:-agent)?$|openhands@all-hands\.dev", re.I)),
    ("codex", re.compile(r"^codex@example\.com$", re.I)),
    ("copilot", re.compile(r"\+copilot@users\.noreply\.github\.com$", re.I)),
    ("opencode", re.compile(r"^noreply@opencode\.ai$", re.I)),
    ("cursor", re.compile(r"^cursoragent@cursor\.com$", re.I)),
)
_NOTE_TOOL = re.compile(r'"tool"\s*:\s*"([A-Za-z0-9_.-]{1,40})"')
_NOTE_WORD = re.compile(r"\b(" + "|".join(sorted(_TOOL_TO_AGENT, key=len, reverse=True)) + r")\b")


@dataclass(frozen=True, slots=True)
class Marker:
    """An agent's mark on a commit: which agent, the evidence, and a session it names (if any)."""

    agent: str
    evidence: str
    session: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a commit was picked (or left alone): a stable kind and a sentence for people."""

    kind: str
    detail: str


@dataclass(frozen=True)
class SessionEvidence:
    """What the trace says about one session, with paths already relative to the repo root."""

    id: str
    agent: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    branch: str | None = None
    files: frozenset[str] = frozenset()
    printed: frozenset[str] = frozenset()  # full hashes the trace printed
    after_start: frozenset[str] = frozenset()  # commits between the start HEAD and HEAD (Codex)


@dataclass(frozen=True)
class Candidate:
    """A commit with the evidence about it and what to do with it."""

    commit: CommitInfo
    action: str  # revert | other_agent | kept
    reasons: tuple[Reason, ...]
    sessions: tuple[str, ...] = ()
    overlap: tuple[str, ...] = ()
    markers: tuple[Marker, ...] = field(default=())

    @property
    def sha(self) -> str:
        """Full hash."""
        return self.commit.sha


def commit_markers(commit: CommitInfo) -> list[Marker]:
    """Every agent marker in a commit's message, author and committer."""
    found: list[Marker] = []
    message = commit.message
    for agent, pattern in _MESSAGE_MARKERS:
        match = pattern.search(message)
        if match:
            found.append(Marker(agent, match.group(0).strip()[:120]))
    for match in _CLAUDE_SESSION.finditer(message):
        value = match.group("v").strip()
        session = value.rsplit("/", 1)[-1].removeprefix("session_") if value else None
        found.append(Marker("claude-code", f"Claude-Session: {value}"[:160], session or None))
    if re.match(r"(?i)aider:\s", commit.subject):
        found.append(Marker("aider", f"subject starts with 'aider:' ({commit.subject[:60]})"))
    for role, name, email in (
        ("author", commit.author_name, commit.author_email),
        ("committer", commit.committer_name, commit.committer_email),
    ):
        for agent, pattern in _IDENTITY_MARKERS:
            if pattern.search(name) or pattern.search(email):
                found.append(Marker(agent, f"{role} {name} <{email}>"))
                break
    return _unique_markers(found)


def note_markers(note: str, session_ids: Iterable[str] = ()) -> list[Marker]:
    """Markers from a git-ai style note under refs/notes/ai: the agent it names, the session."""
    if not note:
        return []
    found: list[Marker] = []
    lowered = note.lower()
    for sid in session_ids:
        if _names_session(lowered, sid):
            found.append(Marker("", f"refs/notes/ai note names session {sid}", sid))
    for tool in _NOTE_TOOL.findall(note):
        agent = _TOOL_TO_AGENT.get(tool.lower(), tool.lower())
        found.append(Marker(agent, f'refs/notes/ai note: "tool": "{tool}"'))
    if not any(m.agent for m in found):
        word = _NOTE_WORD.search(lowered)
        if word:
            found.append(
                Marker(_TOOL_TO_AGENT[word.group(1)], f"refs/notes/ai note names {word[1]}")
            )
    return _unique_markers(found)


def _names_session(lowered_note: str, sid: str) -> bool:
    sid_l = sid.lower()
    if len(sid_l) >= 8 and sid_l in lowered_note:
        return True
    # git-ai keys prompts by the first 16 hex digits of sha256("<tool>:<conversation id>")
    return any(
        hashlib.sha256(f"{tool}:{sid}".encode()).hexdigest()[:16] in lowered_note
        for tool in _TOOL_TO_AGENT
    )


def _unique_markers(markers: list[Marker]) -> list[Marker]:
    return list(dict.fromkeys(markers))


def same_agent(marker_agent: str, session_agent: str) -> bool:
    """Whether a marker can belong to the session's agent (unknown agents match any marker)."""
    if not marker_agent or session_agent in _GENERIC_AGENTS:
        return True
    return marker_agent == session_agent or session_agent.startswith(marker_agent)


def session_link(marker: Marker, session_id: str) -> bool:
    """A marker that names this very session (Claude-Session trailer, git-ai note)."""
    if not marker.session:
        return False
    a, b = marker.session.lower(), session_id.lower()
    return a == b or (len(a) >= 8 and (a in b or b in a))


def in_window(commit: CommitInfo, s: SessionEvidence, slack: timedelta) -> bool | None:
    """Author or committer time inside the session's window; None when the window is unknown."""
    if s.started_at is None:
        return None
    start = s.started_at - slack
    end = s.ended_at + slack if s.ended_at else None
    for moment in (commit.authored_at, commit.committed_at):
        if moment >= start and (end is None or moment <= end):
            return True
    return False


def classify(
    commits: Iterable[CommitInfo],
    sessions: Sequence[SessionEvidence],
    *,
    slack: timedelta = DEFAULT_SLACK,
) -> list[Candidate]:
    """Every commit with evidence for or against it, in the order given (newest first)."""
    out: list[Candidate] = []
    ids = [s.id for s in sessions]
    for commit in commits:
        markers = commit_markers(commit) + note_markers(commit.note, ids)
        verdicts = [v for s in sessions if (v := _judge(commit, s, markers, slack)) is not None]
        if not verdicts:
            continue
        rank = {REVERT: 0, OTHER_AGENT: 1, KEPT: 2}
        verdicts.sort(key=lambda v: rank[v[0]])
        action = verdicts[0][0]
        reasons: dict[Reason, None] = {}
        picked: list[str] = []
        overlap: dict[str, None] = {}
        for verdict, sid, why, files in verdicts:
            if verdict != action:
                continue
            picked.append(sid)
            reasons.update(dict.fromkeys(why))
            overlap.update(dict.fromkeys(files))
        if commit.is_merge and action == REVERT:
            reasons[Reason("merge", "merge commit: reverted against its first parent (-m 1)")] = (
                None
            )
        out.append(
            Candidate(commit, action, tuple(reasons), tuple(picked), tuple(overlap), tuple(markers))
        )
    return out


def _judge(
    commit: CommitInfo, s: SessionEvidence, markers: list[Marker], slack: timedelta
) -> tuple[str, str, list[Reason], list[str]] | None:
    """(action, session id, reasons, overlapping files) for one session, or None: no evidence."""
    why: list[Reason] = []
    overlap = sorted(set(commit.files) & s.files)
    window = in_window(commit, s, slack)
    after_start = commit.sha in s.after_start
    if commit.sha in s.printed:
        why.append(Reason("printed_hash", f"the trace of session {s.id} printed its hash"))
    linked = [m for m in markers if session_link(m, s.id)]
    for m in linked:
        why.append(Reason("session_link", m.evidence))
    other_sessions = [m for m in markers if m.session and not session_link(m, s.id)]
    mine = [m for m in markers if not m.session and same_agent(m.agent, s.agent) and m.agent]
    others = [m for m in markers if not m.session and m.agent and not same_agent(m.agent, s.agent)]
    for m in mine:
        why.append(Reason("marker", f"{m.agent} marker: {m.evidence}"))
    if window:
        why.append(Reason("window", _window_text(commit, s, slack)))
    elif after_start:
        why.append(Reason("after_start_head", "made after the session's start HEAD"))
    if overlap:
        shown = ", ".join(overlap[:5]) + (
            f" (+{len(overlap) - 5} more)" if len(overlap) > 5 else ""
        )
        why.append(Reason("paths", f"changes files the session wrote: {shown}"))
    timed = bool(window) or after_start
    if commit.sha in s.printed or linked:
        return REVERT, s.id, why, overlap
    if other_sessions:
        names = ", ".join(sorted({m.session or "" for m in other_sessions}))
        why.append(Reason("other_session", f"its trailer or note names another session ({names})"))
        return OTHER_AGENT, s.id, why, overlap
    if others and not mine:
        agents = ", ".join(sorted({m.agent for m in others}))
        why.append(Reason("other_agent_marker", f"marked by another agent ({agents})"))
        for m in others:
            why.append(Reason("marker", f"{m.agent} marker: {m.evidence}"))
        return OTHER_AGENT, s.id, why, overlap
    if mine:
        # Known window: it decides. Unknown window: the files must overlap.
        if timed or (window is None and not after_start and overlap):
            if commit.is_merge and not timed:
                return _other(why, s), s.id, why, overlap
            return REVERT, s.id, why, overlap
        why.append(Reason("outside", _outside_text(window)))
        return OTHER_AGENT, s.id, why, overlap
    if timed and overlap:
        if commit.is_merge:
            why.append(
                Reason(
                    "merge_only_by_paths",
                    "merge commit found only by time and paths: the agent commits it merged are "
                    "reverted one by one, not the merge",
                )
            )
            return KEPT, s.id, why, overlap
        return REVERT, s.id, why, overlap
    if timed:
        why.append(
            Reason("no_agent_evidence", "in the session window but touches none of its files")
        )
        return KEPT, s.id, why, overlap
    return None


def _other(why: list[Reason], s: SessionEvidence) -> str:
    why.append(Reason("outside", f"not tied to session {s.id} by time"))
    return OTHER_AGENT


def _window_text(commit: CommitInfo, s: SessionEvidence, slack: timedelta) -> str:
    end = s.ended_at.isoformat() if s.ended_at else "(open)"
    start = s.started_at.isoformat() if s.started_at else "?"
    when = commit.committed_at.isoformat()
    return f"committed {when} inside the session window {start} .. {end} (±{slack})"


def _outside_text(window: bool | None) -> str:
    if window is None:
        return "the trace has no timestamps and the commit touches none of the session's files"
    return "committed outside the session window"
