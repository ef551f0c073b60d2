"""Find every process of an agent session: the matching rules, then the whole process tree.

A process is picked when one of these rules holds, and each rule it meets is recorded as a
reason: its command line names the session id; its environment names the session id; it
holds the session's trace file open; it is an agent executable (claude, codex, aider,
openhands, gemini, or node / python running one) whose working directory is the session's
cwd; the responder named its pid. Then the tree grows to a fixed point: every descendant,
and every process in a process group or session whose leader is a picked process (that is
how background shells and double-forked orphans re-parented to init are caught).

Never picked: this process and its ancestors, pid 0 / 1, kernel threads,
and (unless running as root) processes of other users. Those that met a rule anyway are
listed as excluded, so the responder sees what was deliberately left alone.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentir.analysis.secrets import fingerprint, redact
from agentir.errors import UsageError

AGENT_NAMES: tuple[str, ...] = ("claude", "codex", "aider", "openhands", "gemini")
# Package and script names the agents are installed under, mapped to the agent.
_PACKAGE_ALIASES = {
    "claude-code": "claude",
    "codex-cli": "codex",
    "aider-chat": "aider",
    "openhands-ai": "openhands",
    "gemini-cli": "gemini",
}
_INTERPRETER = re.compile(r"^(?:node|nodejs|bun|deno|pypy3?|python(?:\d+(?:\.\d+)?)?)$")
_SCRIPT_SUFFIX = re.compile(r"\.(?:js|mjs|cjs|ts|py|exe)$")
# Shorter ids would match unrelated command lines by accident; such sessions go by --pid.
MIN_SESSION_ID_LEN = 6
_MAX_REASONS = 8


@dataclass(frozen=True)
class SessionSelector:
    """What identifies the session; at least one of the fields must be given."""

    session_id: str | None = None
    trace_path: Path | None = None
    pids: tuple[int, ...] = ()
    cwd: Path | None = None
    # Agent executables the cwd rule considers; without `cwd` they match nothing.
    agents: tuple[str, ...] = AGENT_NAMES


@dataclass(frozen=True)
class MatchedProcess:
    """One process of the session, with the identity (pid, create_time) used to signal it."""

    pid: int
    ppid: int
    name: str
    cmdline: str  # shell-quoted and redacted
    create_time: float  # seconds since the epoch; guards against pid reuse
    status: str  # psutil status: running, sleeping, stopped, zombie, ...
    pgid: int | None
    sid: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ExcludedProcess:
    """A process that met a rule but is deliberately left alone, and why."""

    pid: int
    name: str
    reason: str


@dataclass(frozen=True)
class ProcessMatch:
    """The result of a scan: the session's processes, parents before children."""

    selector: SessionSelector
    processes: tuple[MatchedProcess, ...]
    excluded: tuple[ExcludedProcess, ...]
    process_groups: tuple[int, ...]  # process groups the agent created (leader matched)
    sessions: tuple[int, ...]  # sessions the agent created (leader matched)
    scanned: int  # processes examined
    unreadable: int  # processes whose environment or open files could not be read
    scanned_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def pids(self) -> tuple[int, ...]:
        """The matched pids in tree order."""
        return tuple(p.pid for p in self.processes)


@dataclass
class _Proc:
    pid: int
    ppid: int
    name: str
    cmdline: list[str]
    create_time: float
    status: str
    uid: int | None
    pgid: int | None
    sid: int | None
    handle: Any  # psutil.Process
    unreadable: bool = False  # environment or open files could not be read


def find_session_processes(selector: SessionSelector) -> ProcessMatch:
    """Scan the process table for every process of the session selected by `selector`."""
    return scan(selector)


def scan(
    selector: SessionSelector,
    *,
    known: Mapping[int, float] | None = None,
    owned_groups: Iterable[int] = (),
    owned_sessions: Iterable[int] = (),
) -> ProcessMatch:
    """Like find_session_processes, also keeping `known` (pid -> create_time) processes and
    the groups / sessions an earlier scan attributed to the agent (used by re-scans)."""
    _check_selector(selector)
    snapshot = _snapshot()
    protected = _protected(snapshot)
    known = dict(known or {})
    children: dict[int, list[int]] = {}
    for proc in snapshot.values():
        children.setdefault(proc.ppid, []).append(proc.pid)

    reasons: dict[int, list[str]] = {}
    excluded: dict[int, ExcludedProcess] = {}
    unreadable = 0

    def pick(pid: int, reason: str) -> bool:
        proc = snapshot.get(pid)
        if proc is None:
            return False
        why_not = _never(proc) or protected.get(pid)
        if why_not:
            excluded.setdefault(pid, ExcludedProcess(pid, proc.name, why_not))
            return False
        new = pid not in reasons
        got = reasons.setdefault(pid, [])
        if reason not in got and len(got) < _MAX_REASONS:
            got.append(reason)
        return new

    for pid in selector.pids:
        if pid not in snapshot:
            excluded.setdefault(pid, ExcludedProcess(pid, "", "no such process"))
        pick(pid, "explicit pid")
    for pid, created in known.items():
        planned = snapshot.get(pid)
        if planned is not None and same_time(planned.create_time, created):
            pick(pid, "in the containment plan")
    for proc in snapshot.values():
        if _is_kernel(proc):
            continue
        # Protected processes are evaluated too, so that one meeting a rule is reported.
        for reason in _rule_reasons(proc, selector):
            pick(proc.pid, reason)
        unreadable += proc.unreadable

    groups = {g for g in owned_groups if _still_owned(g, snapshot, known)}
    sessions = {s for s in owned_sessions if _still_owned(s, snapshot, known)}
    frontier = list(reasons)
    while frontier:
        for pid in frontier:
            proc = snapshot[pid]
            if proc.pgid == pid:
                groups.add(pid)
            if proc.sid == pid:
                sessions.add(pid)
        added: list[int] = []
        for pid in frontier:
            for child in children.get(pid, ()):
                if pick(child, f"child of {pid}"):
                    added.append(child)
        if added:
            # Descendants first, so a process reachable as a child is explained as one.
            frontier = added
            continue
        for proc in snapshot.values():
            if proc.pid in reasons:
                continue
            if proc.pgid in groups:
                why = f"in process group {proc.pgid}, which the agent leads"
            elif proc.sid in sessions:
                why = f"in session {proc.sid}, which the agent leads"
            else:
                continue
            if pick(proc.pid, why):
                added.append(proc.pid)
        frontier = added

    ordered = tree_order(
        reasons,
        {pid: snapshot[pid].ppid for pid in reasons},
        {pid: snapshot[pid].create_time for pid in reasons},
    )
    return ProcessMatch(
        selector=selector,
        processes=tuple(_matched(snapshot[pid], reasons[pid]) for pid in ordered),
        excluded=tuple(excluded.values()),
        process_groups=tuple(sorted(groups)),
        sessions=tuple(sorted(sessions)),
        scanned=len(snapshot),
        unreadable=unreadable,
    )


def _check_selector(selector: SessionSelector) -> None:
    if not (selector.session_id or selector.trace_path or selector.pids or selector.cwd):
        raise UsageError(
            "nothing identifies the session", hint="give a session id, --trace, --pid or --cwd"
        )
    if selector.session_id is not None and len(selector.session_id) < MIN_SESSION_ID_LEN:
        raise UsageError(
            f"session id {selector.session_id!r} is too short to match processes safely",
            hint="name the processes with --pid instead",
        )


def _snapshot() -> dict[int, _Proc]:
    import psutil

    attrs = ["pid", "ppid", "name", "cmdline", "create_time", "status", "uids"]
    out: dict[int, _Proc] = {}
    for handle in psutil.process_iter(attrs, ad_value=None):
        info = handle.info
        if info.get("create_time") is None:
            continue  # vanished while being read
        pid = int(info["pid"])
        uids = info.get("uids")
        out[pid] = _Proc(
            pid=pid,
            ppid=int(info.get("ppid") or 0),
            name=info.get("name") or "",
            cmdline=list(info.get("cmdline") or []),
            create_time=float(info["create_time"]),
            status=str(info.get("status") or "?"),
            uid=int(uids.real) if uids is not None else None,
            pgid=_os_id(getattr(os, "getpgid", None), pid),
            sid=_os_id(getattr(os, "getsid", None), pid),
            handle=handle,
        )
    return out


def _os_id(func: Any, pid: int) -> int | None:
    if func is None:
        return None
    try:
        return int(func(pid))
    except OSError:
        return None


def _protected(snapshot: Mapping[int, _Proc]) -> dict[int, str]:
    """This process and its ancestors: containment must never stop itself or its caller.

    Its descendants are not protected: a test (or an embedding tool) that started the
    session's processes itself must still be able to contain them."""
    me = os.getpid()
    out = {me: "this agentir process"}
    pid = snapshot[me].ppid if me in snapshot else os.getppid()
    while pid > 0 and pid not in out:
        out[pid] = "ancestor of this agentir process"
        pid = snapshot[pid].ppid if pid in snapshot else 0
    return out


def _is_kernel(proc: _Proc) -> bool:
    # On Linux kthreadd (pid 2) is the parent of every kernel thread.
    return sys.platform.startswith("linux") and (proc.pid == 2 or proc.ppid == 2)


def _never(proc: _Proc) -> str | None:
    if proc.pid <= 1:
        return "system process (pid 0 / 1)"
    if _is_kernel(proc):
        return "kernel thread"
    euid = os.geteuid()
    if euid != 0 and proc.uid is not None and proc.uid not in (euid, os.getuid()):
        return f"owned by another user (uid {proc.uid})"
    return None


def _rule_reasons(proc: _Proc, selector: SessionSelector) -> Iterable[str]:
    sid = selector.session_id
    token = _token_pattern(sid) if sid else None
    if token and token.search(" ".join(proc.cmdline)):
        yield "command line names the session id"
    if token:
        env = _read(proc, "environ")
        for key, value in (env or {}).items():
            if token.search(value):
                yield f"environment variable {key} names the session id"
                break
    if selector.trace_path is not None:
        wanted = os.path.realpath(selector.trace_path)
        for opened in _read(proc, "open_files") or ():
            if os.path.realpath(opened.path) == wanted:
                yield "holds the trace file open"
                break
    if selector.cwd is not None:
        agent = agent_of(proc.name, proc.cmdline, selector.agents)
        if agent:
            cwd = _read(proc, "cwd")
            if cwd and os.path.realpath(cwd) == os.path.realpath(selector.cwd):
                yield f"{agent} agent running in the session's cwd"


def _read(proc: _Proc, what: str) -> Any:
    import psutil

    try:
        return getattr(proc.handle, what)()
    except psutil.AccessDenied:
        proc.unreadable = True
        return None
    except (psutil.NoSuchProcess, OSError):
        return None


def _token_pattern(session_id: str) -> re.Pattern[str]:
    """The id as a whole token: `sess-1` must not match `sess-12` (a different session)."""
    return re.compile(r"(?<![A-Za-z0-9])" + re.escape(session_id) + r"(?![A-Za-z0-9])")


def agent_of(name: str, cmdline: list[str], agents: Iterable[str] = AGENT_NAMES) -> str | None:
    """The agent a process runs (its executable, or the script node / python runs), or None."""
    wanted = set(agents)

    def named(word: str) -> str | None:
        stem = _SCRIPT_SUFFIX.sub("", word.lower())
        agent = _PACKAGE_ALIASES.get(stem, stem)
        return agent if agent in wanted else None

    argv0 = os.path.basename(cmdline[0]) if cmdline else ""
    found = named(name) or named(argv0)
    if found or not (_INTERPRETER.match(name.lower()) or _INTERPRETER.match(argv0.lower())):
        return found
    args = iter(cmdline[1:])
    for arg in args:
        if arg == "-m":
            return named(next(args, "").split(".")[0])
        if arg.startswith("-"):
            continue
        parts = re.split(r"[/\\]", arg)
        packages = (_PACKAGE_ALIASES[p] for p in parts if p in _PACKAGE_ALIASES)
        return named(parts[-1]) or next((a for a in packages if a in wanted), None)
    return None


def _still_owned(leader: int, snapshot: Mapping[int, _Proc], known: Mapping[int, float]) -> bool:
    """A group / session stays the agent's while its leader is gone or is the same process."""
    proc = snapshot.get(leader)
    return proc is None or (leader in known and same_time(proc.create_time, known[leader]))


def same_time(a: float, b: float) -> bool:
    """Whether two create_time readings belong to the same process."""
    # create_time comes from clock ticks since boot: equal for one process, 10 ms apart at best.
    return abs(a - b) < 0.005


def tree_order(
    pids: Iterable[int], ppid_of: Mapping[int, int], created: Mapping[int, float]
) -> list[int]:
    """Pre-order walk of `pids`: every parent before its children, siblings oldest first."""
    picked = set(pids)
    kids: dict[int, list[int]] = {}
    roots: list[int] = []
    for pid in picked:
        parent = ppid_of.get(pid, 0)
        (kids.setdefault(parent, []) if parent in picked and parent != pid else roots).append(pid)

    def by_age(group: list[int]) -> list[int]:
        return sorted(group, key=lambda p: (created.get(p, 0.0), p))

    order: list[int] = []
    stack = list(reversed(by_age(roots)))
    while stack:
        pid = stack.pop()
        order.append(pid)
        stack.extend(reversed(by_age(kids.get(pid, []))))
    return order


def _matched(proc: _Proc, reasons: list[str]) -> MatchedProcess:
    return MatchedProcess(
        pid=proc.pid,
        ppid=proc.ppid,
        name=proc.name,
        cmdline=redact_cmdline(proc.cmdline),
        create_time=proc.create_time,
        status=proc.status,
        pgid=proc.pgid,
        sid=proc.sid,
        reasons=tuple(reasons),
    )


_SECRET_FLAG = re.compile(
    r"^-{1,2}(?:[a-z0-9]+[-_])*(?:token|password|passwd|secret|api[-_]?key|key|auth)$", re.I
)


def redact_cmdline(argv: list[str]) -> str:
    """The command line, shell-quoted, with credentials masked (flag values and known formats)."""
    masked: list[str] = []
    hide_next = False
    for arg in argv:
        # `--token VALUE` has nothing in VALUE itself that marks it as a credential.
        masked.append(f"[REDACTED:cli-flag:{fingerprint(arg)}]" if hide_next else arg)
        hide_next = bool(_SECRET_FLAG.match(arg))
    return redact(shlex.join(masked))
