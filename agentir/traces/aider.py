"""Aider's `.aider.chat.history.md` (trace-formats.md §6), read line by line.

The file accumulates every session run in a repository; each starts with
`# aider chat started at YYYY-MM-DD HH:MM:SS` (local time, no zone) and becomes its own
session `aider-YYYYMMDDHHMMSS`. Aider writes user input as `#### ` lines, its own notices
as blockquotes (`> … ` plus two trailing spaces; a multi-line notice has `> ` on its first
line only and the two spaces on its last) and the model's reply as plain Markdown.

Mapping: user lines -> Message; `#### /run X` and `> Running X` -> ToolCall "shell" (the
notices that follow are its result; aider does not log the command's output or exit
code); `> Applied edit to F` -> ToolCall "edit" + ToolResult ok (a SEARCH/REPLACE block
alone is only a proposal); `> Did not apply edit to F` -> the same with ok False;
`> Commit <sha> <msg>` -> ToolCall "git_commit" whose result reads `[aider <sha>] <msg>`
so remediation finds the hash; `> Tokens: … Cost: …` -> ModelCall (rounded counts);
edit-format failures, reflection limits, `Unable to …` and API errors -> ErrorEvent.
Only the SessionInfo carries a time (the session start, read as UTC because the file
does not say its zone); every other event has ts None and is ordered by seq.

State is bounded: the current user block, a capped excerpt of the reply being read, the
notice being read, and a few pending names per session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentir.model import (
    ErrorEvent,
    Event,
    FileChange,
    FileOp,
    Message,
    ModelCall,
    SessionInfo,
    ToolCall,
    ToolResult,
)
from agentir.traces.aider_notices import Notice, classify
from agentir.traces.base import (
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    excerpt,
    iter_raw_lines,
    parse_ts,
)

_START = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?)\s*$")
_SNIFF = re.compile(r"^# aider chat started at \d{4}-\d\d-\d\d", re.M)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_MAX_REPLY_CHARS = 20_000
_MAX_NOTICE_LINES = 400  # a notice never ends (malformed file): close it anyway
_RUN_PREFIXES = ("/run ", "/test ", "!")
_OUTPUT_ADDED = re.compile(r"^Added \d+ lines? of output to the chat")


class AiderReader(TraceReader):
    """Aider chat history Markdown (one file, many sessions)."""

    format = "aider"
    agent = "aider"
    priority = 45

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """A `# aider chat started at` line in a head that is not JSON."""
        text = probe.head_text.lstrip("\ufeff").lstrip()
        return not text.startswith(("{", "[")) and bool(_SNIFF.search(text))

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Events of every session in the file, in file order."""
        parser = _Parser(path, stats)
        for lineno, raw in iter_raw_lines(path, stats):  # blank lines and trailing spaces count
            stats.records += 1
            yield from parser.feed(lineno, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        yield from parser.finish()


class _Parser:
    """A line-driven state machine over one history file."""

    def __init__(self, path: Path, stats: ReadStats) -> None:
        self.path = path
        self.stats = stats
        self.strict: bool | None = None  # do aider's lines end with two spaces in this file?
        self.cwd = str(path.parent.resolve()) if (path.parent / ".git").exists() else None
        self.em: Emitter | None = None
        self.session_ids: set[str] = set()
        self.user: list[str] = []
        self.user_line = 0
        self.reply: list[str] = []
        self.reply_chars = 0
        self.reply_line = 0
        self.in_fence = False
        self.notice: list[str] | None = None
        self.notice_line = 0
        self.info: dict[str, Any] = {}
        self.info_sent = False
        self.subject: str | None = None  # an unclassified notice that may head a question
        self.created: set[str] = set()  # files the user agreed to create
        self.shell: tuple[str, str, list[str], bool] | None = None  # call id, cmd, output, failed
        self.shell_line = 0
        self.counter = 0

    # ------------------------------------------------------------------ line dispatch

    def feed(self, lineno: int, line: str) -> Iterator[Event]:
        """Consume one line."""
        start = _START.match(line)
        if start:
            yield from self.finish()
            yield from self._start(lineno, start.group(1), start.group(2))
            return
        if self.em is None:
            if line.strip():
                self.stats.skip("text before the first session header")
            return
        stripped = line.rstrip()
        is_user = stripped == "####" or line.startswith("#### ")
        is_quote = stripped == ">" or line.startswith("> ")
        if (is_user or is_quote) and self.strict is None:
            self.strict = line.endswith("  ")
        if self.notice is not None and not is_user and not is_quote:
            self.notice.append(stripped)  # continuation of a multi-line notice
            if line.endswith("  ") or not self.strict or len(self.notice) >= _MAX_NOTICE_LINES:
                yield from self._close_notice()
            return
        if self.in_fence and not self._breaks_fence(line, is_user, is_quote):
            self._add_reply(lineno, stripped)
            if _FENCE.match(line):
                self.in_fence = False
            return
        if is_user and (line.endswith("  ") or not self.strict):
            yield from self._close_notice()
            yield from self._flush_reply()
            if not self.user:
                self.user_line = lineno
            if len(self.user) < _MAX_NOTICE_LINES:
                self.user.append(stripped[5:] if len(stripped) > 4 else "")
            return
        if is_quote:
            yield from self._flush_user()
            yield from self._flush_reply()
            yield from self._close_notice()
            self.in_fence = False
            self.notice = [stripped[2:] if len(stripped) > 1 else ""]
            self.notice_line = lineno
            if line.endswith("  ") or not self.strict:
                yield from self._close_notice()
            return
        yield from self._flush_user()
        if stripped or self.reply:
            if not self.reply:
                yield from self._close_shell()
            self._add_reply(lineno, stripped)
            if _FENCE.match(line):
                self.in_fence = True

    def _breaks_fence(self, line: str, is_user: bool, is_quote: bool) -> bool:
        # An aider line inside an open fence means the reply's fence never closed.
        if is_user and line.endswith("  ") and self.strict:
            return True
        return is_quote and classify(line[2:].rstrip()).kind not in ("", "info", "question")

    def finish(self) -> Iterator[Event]:
        """Flush the session in progress (end of file or a new session header)."""
        if self.em is None:
            return
        yield from self._close_notice()
        yield from self._flush_user()
        yield from self._flush_reply()
        yield from self._close_shell()
        yield from self._send_info()
        if self.subject is not None:
            self.stats.skip("aider notice not used")
            self.subject = None
        self.em = None

    # ------------------------------------------------------------------ sessions

    def _start(self, lineno: int, day: str, clock: str) -> Iterator[Event]:
        compact = (day + clock).replace("-", "").replace(":", "")
        sid = f"aider-{compact}"
        n = 2
        while sid in self.session_ids:  # two launches in the same second
            sid, n = f"aider-{compact}-{n}", n + 1
        self.session_ids.add(sid)
        self.em = Emitter(self.path, AiderReader.agent, sid)
        self.info = {
            "line": lineno,
            "ts": parse_ts(f"{day}T{clock}"),
            "started_local": f"{day} {clock}",
        }
        self.info_sent = False
        self.in_fence = False
        self.created.clear()
        return iter(())

    def _send_info(self) -> Iterator[Event]:
        if self.info_sent or self.em is None:
            return
        self.info_sent = True
        extra = {
            "started_local": self.info["started_local"],
            "timezone": "local time, zone not recorded",
        }
        for key in ("git_repo", "command_line", "weak_model", "edit_format"):
            if key in self.info:
                extra[key] = self.info[key]
        yield self.em.make(
            SessionInfo,
            ts=self.info["ts"],
            line=self.info["line"],
            cwd=self.cwd,
            model=self.info.get("model"),
            agent_version=self.info.get("version"),
            extra=extra,
        )

    def _make(self, cls: type[Any], line: int, **fields: Any) -> Any:
        assert self.em is not None
        return self.em.make(cls, ts=None, line=line, **fields)

    def _call_id(self, kind: str) -> str:
        self.counter += 1
        assert self.em is not None
        return f"{self.em.session_id}:{kind}:{self.counter}"

    # ------------------------------------------------------------------ user and reply

    def _flush_user(self) -> Iterator[Event]:
        if not self.user:
            return
        lines, self.user = self.user, []
        yield from self._send_info()
        yield from self._close_shell()
        text = "\n".join(lines).strip()
        if not text or text == "<blank>":
            return
        if len(lines) == 1 and text.startswith(_RUN_PREFIXES):
            command = text.split(" ", 1)[1].strip() if text.startswith("/") else text[1:].strip()
            if command:
                yield from self._open_shell(self.user_line, command)
                return
        injected = None
        if text.startswith("/") and not text.startswith(("/ask", "/code", "/architect", "/help")):
            injected = "command"
        yield self._make(
            Message, self.user_line, role="user", text=excerpt(text), injected=injected
        )

    def _add_reply(self, lineno: int, line: str) -> None:
        if not self.reply:
            self.reply_line = lineno
        if self.reply_chars < _MAX_REPLY_CHARS:
            self.reply.append(line)
        self.reply_chars += len(line) + 1

    def _flush_reply(self) -> Iterator[Event]:
        if not self.reply:
            return
        text = "\n".join(self.reply).strip()
        if self.reply_chars > _MAX_REPLY_CHARS:
            text += f"\n…[{self.reply_chars - _MAX_REPLY_CHARS} more characters]"
        self.reply, self.reply_chars, self.in_fence = [], 0, False
        if text:
            yield from self._send_info()
            yield self._make(Message, self.reply_line, role="assistant", text=excerpt(text))

    # ------------------------------------------------------------------ notices

    def _close_notice(self) -> Iterator[Event]:
        if self.notice is None:
            return
        text = "\n".join(self.notice).strip()
        self.notice = None
        yield from self._notice(classify(text), text, self.notice_line)

    def _notice(self, notice: Notice, text: str, line: int) -> Iterator[Event]:
        kind = notice.kind
        if kind == "meta":
            for key, value in notice.data.items():
                if key == "model" and self.info_sent:
                    if value != self.info.get("model"):  # /model switched it mid-session
                        self.info["model"] = value
                        yield self._make(SessionInfo, line, model=value)
                elif key == "command_line" and self.info_sent:
                    yield from self._notice(Notice(""), text, line)
                else:
                    self.info.setdefault(key, value)
            return
        if kind == "question":
            if notice.data and self.subject and "new file" in text.lower():
                self.created.add(self.subject)
            self.subject = None
            return
        if self.subject is not None:
            self.stats.skip("aider notice not used")
            self.subject = None
        if kind == "":
            if self.shell is not None:
                self.shell[2].append(text)
            else:
                self.subject = text
            return
        if kind == "info":
            if self.shell is not None and _OUTPUT_ADDED.match(text):
                self.shell[2].append(text)
            return
        yield from self._send_info()
        if kind == "shell_failed" and self.shell is not None:
            call_id, command, output, _ = self.shell
            self.shell = (call_id, command, [*output, text], True)
            return
        yield from self._close_shell()
        if kind == "running":
            yield from self._open_shell(line, notice.data)
        elif kind in ("applied", "not_applied"):
            yield from self._edit(line, notice.data, kind == "applied", text)
        elif kind in ("commit", "undo"):
            sha, message = notice.data
            name = "git_commit" if kind == "commit" else "git_undo"
            call_id = self._call_id(name)
            args = {"sha": sha, "message": message}
            yield self._make(ToolCall, line, call_id=call_id, name=name, args=args)
            summary = (
                f"[aider {sha}] {message}" if kind == "commit" else f"Removed: {sha} {message}"
            )
            yield self._make(ToolResult, line, call_id=call_id, name=name, ok=True, output=summary)
        elif kind == "tokens":
            yield self._make(ModelCall, line, model=self.info.get("model"), **notice.data)
        elif kind == "error":
            yield self._make(ErrorEvent, line, category=notice.data, message=excerpt(text))

    def _edit(self, line: int, path: str, ok: bool, text: str) -> Iterator[Event]:
        op = FileOp.CREATE if path in self.created else FileOp.EDIT
        self.created.discard(path)
        change = (FileChange(path=path, op=op),)
        call_id = self._call_id("edit")
        yield self._make(
            ToolCall, line, call_id=call_id, name="edit", args={"path": path}, changes=change
        )
        yield self._make(ToolResult, line, call_id=call_id, name="edit", ok=ok, output=text,
                         changes=change if ok else ())  # fmt: skip

    def _open_shell(self, line: int, command: str) -> Iterator[Event]:
        call_id = self._call_id("shell")
        yield self._make(ToolCall, line, call_id=call_id, name="shell", args={"command": command},
                         command=command)  # fmt: skip
        self.shell = (call_id, command, [], False)
        self.shell_line = line

    def _close_shell(self) -> Iterator[Event]:
        if self.shell is None:
            return
        call_id, _, output, failed = self.shell
        self.shell = None
        text = "\n".join(output)
        yield self._make(ToolResult, self.shell_line, call_id=call_id, name="shell",
                         ok=False if failed else None, output=excerpt(text))  # fmt: skip
