"""Is another session, or a commit, a look-alike of the incident? Signatures, similarity, score.

Scoring (each piece of evidence has a weight; a match's score is their noisy-or,
1 - Π(1 - w), so it stays in 0..1 and more independent evidence ranks higher):

- the same detector firing on the same subject (a finding's quoted command, path or target:
  same program and the same path-like arguments): 0.35 + 0.4 × similarity (0.63 to 0.75);
  the same detector and rule with no subject on either side and the same message once numbers
  are set aside: 0.3. Beyond the strongest, each detector counts half (detectors often fire
  together on one step). A detector alone on a different subject is no evidence: every session
  that retries a failing build would otherwise look like every other one.
- the same function changed in the same file: 0.6 (0.7 for a commit, whose diff is exact);
  each further one adds through the noisy-or. The same (not generic) function name in another
  file: 0.3.
- a commit's hunks overlapping the incident's in the same file (within a few lines): 0.45.
- the same files changed by a session: 0.4 × the share of the incident's files it changed.
  Commits need more than a shared file (overlapping hunks or a function).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agentir.analysis.similar_code import CodeProfile, compare
from agentir.model import Finding

SUBJECT_MATCH = 0.7  # similarity at or above which two subjects are "the same command"
_QUOTED = re.compile(r"`([^`\n]{1,300})`")
_SEQS = re.compile(r"\((?:seqs?|at seqs?) [^)]*\)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[\w./:@-]+")
_PATHLIKE = re.compile(r"[/.]|_|\w{12,}")


@dataclass(frozen=True, slots=True)
class FindingSig:
    """What identifies a finding across sessions: detector, rule, subjects, message shape."""

    detector: str
    severity: str
    variant: str  # data["pattern"] / data["rule"] / data["kind"]
    subjects: tuple[str, ...]
    shape: str  # the message without quotes, numbers and seq lists
    message: str
    seqs: tuple[int, ...] = ()


def finding_sig(f: Finding) -> FindingSig | None:
    """The signature of a warning-or-worse finding (None for info notes)."""
    if f.severity == "info":
        return None
    data = f.data if isinstance(f.data, dict) else dict(f.data)
    variant = str(data.get("pattern") or data.get("rule") or data.get("kind") or "")
    subjects = [m.strip() for m in _QUOTED.findall(f.message)]
    for key in ("target", "path", "command"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            subjects.append(value.strip())
    paths = data.get("paths")
    if isinstance(paths, (list, tuple)):
        subjects += [str(p) for p in paths[:5] if str(p).strip()]
    shape = _QUOTED.sub("`…`", f.message)
    shape = _NUMBER.sub("#", _SEQS.sub("", shape)).lower()
    return FindingSig(
        f.detector,
        f.severity,
        variant,
        tuple(dict.fromkeys(subjects))[:6],
        " ".join(shape.split()),
        f.message[:300],
        tuple(f.seqs[:10]),
    )


def _command_parts(text: str) -> list[tuple[str, frozenset[str], frozenset[str]]]:
    """(program, path-like arguments, other arguments) of each simple command in `text`."""
    from agentir.analysis.shell import split_commands

    try:
        cmds = split_commands(text[:2000])
    except Exception:  # a subject is untrusted text: never let it end a search
        cmds = []
    out = []
    for cmd in cmds:
        if not cmd.argv:
            continue
        args = [_norm_arg(a) for a in cmd.argv[1:] if a and not a.startswith("-")]
        paths = frozenset(a for a in args if _PATHLIKE.search(a))
        out.append((cmd.program.lower(), paths, frozenset(args) - paths))
    if not out:
        words = [w.lower() for w in _WORD.findall(text)]
        if words:
            args = [_norm_arg(w) for w in words[1:]]
            paths = frozenset(a for a in args if _PATHLIKE.search(a))
            out.append((words[0], paths, frozenset(args) - paths))
    return out


def _norm_arg(arg: str) -> str:
    arg = arg.split("::", 1)[0]  # pytest node ids: the file is what matters
    return arg.rstrip("/").lower().removeprefix("./")


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def subject_similarity(a: str, b: str) -> float:
    """0..1: the same program with the same path-like arguments is ~1, another file ~0.4."""
    if " ".join(a.split()).lower() == " ".join(b.split()).lower():
        return 1.0
    best = 0.0
    for prog_a, paths_a, rest_a in _command_parts(a):
        for prog_b, paths_b, rest_b in _command_parts(b):
            if prog_a != prog_b:
                continue
            if paths_a or paths_b:
                score = 0.4 + 0.6 * _jaccard(paths_a, paths_b)
            else:
                score = 0.4 + 0.6 * _jaccard(rest_a, rest_b)
            best = max(best, score)
    return best


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason a match was made, with the seqs (sessions) that show it."""

    kind: str  # detector | function | function_name | hunks | files
    detail: str
    weight: float
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Match:
    """A look-alike: a session (id, trace, seqs) or a commit (sha, files, functions)."""

    kind: str  # session | commit
    score: float
    reasons: tuple[Evidence, ...]
    session_id: str | None = None
    trace_path: str | None = None
    agent: str | None = None
    seqs: tuple[int, ...] = ()
    sha: str | None = None
    subject: str | None = None
    author: str | None = None
    date: datetime | None = None
    files: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json and the timeline."""
        out: dict[str, Any] = {"kind": self.kind, "score": round(self.score, 3)}
        if self.kind == "session":
            out.update(session_id=self.session_id, trace_path=self.trace_path, agent=self.agent)
            out["seqs"] = list(self.seqs)
        else:
            out.update(sha=self.sha, subject=self.subject, author=self.author, date=self.date)
        out["files"] = list(self.files)
        out["functions"] = list(self.functions)
        out["reasons"] = [
            {"kind": e.kind, "detail": e.detail, "weight": e.weight, "seqs": list(e.seqs)}
            for e in self.reasons
        ]
        return out


def combine(weights: Iterable[float]) -> float:
    """Noisy-or of independent pieces of evidence."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - max(0.0, min(w, 1.0))
    return 1.0 - miss


@dataclass
class SessionChanges:
    """A session as similar compares it: findings, files and functions with their seqs."""

    session_id: str
    trace_path: str
    agent: str
    cwd: str | None = None
    started_at: datetime | None = None
    findings: list[FindingSig] = field(default_factory=list)
    files: dict[str, tuple[int, ...]] = field(default_factory=dict)  # path -> seqs
    functions: dict[tuple[str, str], int] = field(default_factory=dict)  # (path, name) -> seq

    def code(self) -> CodeProfile:
        """Files and functions as a CodeProfile (sessions have no line ranges)."""
        profile = CodeProfile(files=set(self.files))
        for path, name in self.functions:
            profile.add_function(path, name)
        return profile


@dataclass(frozen=True)
class IncidentPattern:
    """What look-alikes are compared with: the incident's findings and the code it touched."""

    sessions: tuple[str, ...]
    agents: tuple[str, ...]
    findings: tuple[FindingSig, ...]
    session_code: CodeProfile  # paths relative to the session's working directory
    code: CodeProfile = field(default_factory=CodeProfile)  # paths relative to the repository

    @property
    def session_files(self) -> frozenset[str]:
        """The files the incident's sessions changed (relative to their working directory)."""
        return frozenset(self.session_code.files)


def _detector_evidence(ours: Sequence[FindingSig], theirs: Sequence[FindingSig]) -> list[Evidence]:
    out: list[Evidence] = []
    used: set[int] = set()
    for mine in ours:
        best: tuple[float, int, str] | None = None
        for i, other in enumerate(theirs):
            if i in used or other.detector != mine.detector:
                continue
            if mine.subjects and other.subjects:
                sim = max(subject_similarity(a, b) for a in mine.subjects for b in other.subjects)
                if sim >= SUBJECT_MATCH and (best is None or sim > best[0]):
                    best = (sim, i, "subject")
            elif (
                not mine.subjects
                and not other.subjects
                and (mine.variant, mine.shape) == (other.variant, other.shape)
                and best is None
            ):
                best = (0.0, i, "shape")
        if best is None:
            continue
        sim, i, how = best
        used.add(i)
        other = theirs[i]
        if how == "subject":
            weight = 0.35 + 0.4 * sim
            detail = (
                f"{other.detector} fired on the same subject ({sim:.0%} alike): {other.message}"
            )
        else:
            weight = 0.3
            detail = f"{other.detector} fired the same way: {other.message}"
        out.append(Evidence("detector", detail, round(weight, 3), other.seqs))
    # Detectors often fire together on one event (a loop is also a run of failures): beyond
    # the strongest, each counts half, so one bad step does not outrank changed code.
    out.sort(key=lambda e: -e.weight)
    return [out[0], *(replace(e, weight=round(e.weight / 2, 3)) for e in out[1:])] if out else []


def match_session(pattern: IncidentPattern, s: SessionChanges) -> Match | None:
    """The session as a look-alike of the incident, or None."""
    reasons = _detector_evidence(pattern.findings, s.findings)
    overlap = compare(pattern.session_code, s.code())
    functions: list[str] = []
    for path, name in overlap.same_functions:
        seq = s.functions.get((path, name))
        functions.append(f"{path}:{name}")
        reasons.append(
            Evidence(
                "function",
                f"changed the same function {name} in {path}",
                0.6,
                (seq,) if seq is not None else (),
            )
        )
    for path, name, ours in overlap.same_names:
        seq = s.functions.get((path, name))
        functions.append(f"{path}:{name}")
        reasons.append(
            Evidence(
                "function_name",
                f"changed a function named {name} (in {path}; the incident changed it in {ours})",
                0.3,
                (seq,) if seq is not None else (),
            )
        )
    shared = sorted(set(s.files) & pattern.session_files)
    if shared and pattern.session_files:
        share = len(shared) / len(pattern.session_files)
        shown = ", ".join(shared[:5]) + (f" (+{len(shared) - 5} more)" if len(shared) > 5 else "")
        seqs = tuple(sorted({q for p in shared for q in s.files[p][:5]}))[:10]
        reasons.append(
            Evidence("files", f"changed the same file(s): {shown}", round(0.4 * share, 3), seqs)
        )
    if not reasons:
        return None
    seqs = tuple(sorted({q for r in reasons for q in r.seqs}))[:20]
    return Match(
        kind="session",
        score=combine(r.weight for r in reasons),
        reasons=tuple(sorted(reasons, key=lambda r: -r.weight)),
        session_id=s.session_id,
        trace_path=s.trace_path,
        agent=s.agent,
        seqs=seqs,
        files=tuple(shared),
        functions=tuple(functions),
    )


def match_commit(
    pattern: IncidentPattern,
    code: CodeProfile,
    *,
    sha: str,
    subject: str,
    author: str,
    date: datetime,
    marker: str,
) -> Match | None:
    """The commit as a look-alike (it must touch the same code, not only the same files)."""
    overlap = compare(pattern.code, code)
    reasons: list[Evidence] = []
    functions: list[str] = []
    for path, name in overlap.same_functions:
        functions.append(f"{path}:{name}")
        reasons.append(Evidence("function", f"changes the same function {name} in {path}", 0.7))
    for path, name, ours in overlap.same_names:
        functions.append(f"{path}:{name}")
        reasons.append(
            Evidence(
                "function_name",
                f"changes a function named {name} (in {path}; the incident changed it in {ours})",
                0.3,
            )
        )
    for path in overlap.hunks:
        reasons.append(
            Evidence("hunks", f"its hunks in {path} overlap the lines the incident changed", 0.45)
        )
    if not reasons:
        return None
    reasons.append(Evidence("agent", f"by the same agent: {marker}", 0.0))
    files = tuple(sorted({*overlap.hunks, *(p for p, _ in overlap.same_functions)}))
    return Match(
        kind="commit",
        score=combine(r.weight for r in reasons),
        reasons=tuple(sorted(reasons, key=lambda r: -r.weight)),
        sha=sha,
        subject=subject,
        author=author,
        date=date,
        files=files or overlap.files,
        functions=tuple(functions),
    )


def rank(matches: Iterable[Match]) -> list[Match]:
    """Best first; ties in a stable order (sessions by id, commits newest first)."""
    return sorted(
        matches,
        key=lambda m: (
            -round(m.score, 6),
            m.kind,
            m.session_id or "",
            -(m.date.timestamp() if m.date else 0.0),
            m.sha or "",
        ),
    )
