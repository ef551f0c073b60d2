"""Which functions did a session change? An observer of the fold that reads the code an edit
call carried (new and old text, whole files, apply_patch hunks) and names the functions in it.

An edit snippet often starts inside a function without showing its `def` line; then, when the
file is on this machine inside the session's working directory, the snippet is located in the
file as it reads now and the enclosing function is taken from there (Python by `ast`, other
languages by the same line patterns the test suggestions use). Memory is bounded per session.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.analysis.fold import Derived, SessionFold
from agentir.analysis.paths import absolute, display
from agentir.analysis.testgen import language_of
from agentir.analysis.testgen_ast import FuncSpan, functions
from agentir.analysis.testgen_text import find_function
from agentir.model import Event, Finding, ToolCall

MAX_FUNCTIONS = 500
MAX_FILES_READ = 200
MAX_FILE_BYTES = 1 << 20
_NEW_KEYS = ("new_string", "new_str", "content", "file_text", "text", "new_source", "code")
_OLD_KEYS = ("old_string", "old_str")
_PATCH_KEYS = ("input", "patch", "raw", "diff")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add) File: (.+)$", re.MULTILINE)
_PATCH_END = re.compile(r"^\*\*\* (?:Delete File|End Patch|Move to)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ChangedFunction:
    """A function a session changed: the file (as `FileTouch.path` shows it), name, seq."""

    path: str
    name: str
    seq: int
    how: str  # "snippet": the def line was in the edit; "file": found in the file on disk


def bare(name: str) -> str:
    """`Class.method` -> `method` (AST names are qualified, line patterns are not)."""
    return name.rsplit(".", 1)[-1]


def _texts(args: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(new texts, old texts) an edit call carries."""
    new: list[str] = []
    old: list[str] = []
    for key in _NEW_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            new.append(value)
    for key in _OLD_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            old.append(value)
    edits = args.get("edits")
    if isinstance(edits, list):
        for edit in edits[:200]:
            if isinstance(edit, Mapping):
                sub_new, sub_old = _texts(edit)
                new += sub_new
                old += sub_old
    return new, old


def patch_sections(text: str) -> Iterator[tuple[str, str]]:
    """(path, body) of each file an apply_patch envelope adds or updates."""
    matches = list(_PATCH_FILE.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.end() : end]
        stop = _PATCH_END.search(body)
        yield m.group(1).strip(), body[: stop.start()] if stop else body


def _patch_lines(body: str) -> tuple[str, list[str]]:
    """The new-side text of a patch body, and its `@@ context` headers."""
    lines: list[str] = []
    headers: list[str] = []
    for line in body.splitlines():
        if line.startswith("@@"):
            headers.append(line[2:].strip().rstrip("@").strip())
        elif line[:1] in ("+", " "):
            lines.append(line[1:])
    return "\n".join(lines), headers


def snippet_functions(text: str, lang: str) -> tuple[set[str], bool]:
    """Function names a snippet shows, and whether its first code line lies outside all of them
    (then the enclosing function must come from the file)."""
    known = dict(enumerate(text.splitlines(), 1))
    names: set[str] = set()
    orphan = False
    first = True
    for n, line in known.items():
        if not line.strip():
            continue
        name = find_function(known, n, lang)
        if name:
            names.add(name)
        elif first:
            orphan = True
        first = False
    return names, orphan


class FileFunctions:
    """Locate snippets in files on disk and name the function around them (bounded, cached)."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[str, list[FuncSpan]] | None] = {}

    def _load(self, path: str, lang: str) -> tuple[str, list[FuncSpan]] | None:
        if path in self.cache:
            return self.cache[path]
        entry = None
        if len(self.cache) < MAX_FILES_READ:
            try:
                target = Path(path)
                if target.is_file() and target.stat().st_size <= MAX_FILE_BYTES:
                    text = target.read_text(encoding="utf-8", errors="replace")
                    spans: list[FuncSpan] = []
                    if lang == "python":
                        try:
                            spans = functions(ast.parse(text))
                        except (SyntaxError, ValueError):
                            spans = []
                    entry = (text, spans)
            except OSError:
                entry = None
        self.cache[path] = entry
        return entry

    def around(self, path: str, snippet: str, lang: str) -> str | None:
        """The function enclosing `snippet` in the file at `path` as it reads now: where the
        whole snippet sits, else where its longest line sits if that line is unique."""
        loaded = self._load(path, lang)
        body = snippet.strip("\n")
        if loaded is None or not body.strip():
            return None
        text, spans = loaded
        at = text.find(body)
        if at >= 0 and text.find(body, at + 1) >= 0:
            return None  # the snippet sits in several places: which one the edit went to is unknown
        if at >= 0:
            lead = len(body) - len(body.lstrip())  # blank lines before the first code line
            line = text.count("\n", 0, at + lead) + 1
        else:
            longest = max((ln.strip() for ln in body.splitlines()), key=len)
            lines = [i for i, ln in enumerate(text.splitlines(), 1) if ln.strip() == longest]
            if len(longest) < 8 or len(lines) != 1:
                return None  # too common a line to say where the edit went
            line = lines[0]
        inside = [s for s in spans if s.start <= line <= s.end]
        if inside:
            return max(inside, key=lambda s: s.start).name
        return find_function(dict(enumerate(text.splitlines(), 1)), line, lang)


@dataclass
class ChangeCollector:
    """An observer (see `agentir.analysis.fold.Observer`): the functions each successful edit
    changed. Create one per session; read `changed` after the fold."""

    session_id: str | None = None
    changed: dict[tuple[str, str], ChangedFunction] = field(default_factory=dict)
    omitted: int = 0
    files: FileFunctions = field(default_factory=FileFunctions)

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Look at the call behind every change that succeeded."""
        if self.session_id is None:
            self.session_id = event.session_id
        if not derived.changes_done:
            return
        call = derived.call
        if call is None and isinstance(event, ToolCall):
            call = event
        if call is None:
            return
        cwd = call.cwd or fold.cwd
        for path, new, old in self._pieces(call, [c.path for c in derived.changes_done]):
            self._record(path, new, old, cwd, call.seq)

    def finish(self, fold: SessionFold) -> Iterable[Finding]:
        """No findings: the collected functions are read from `changed`."""
        return ()

    def _pieces(
        self, call: ToolCall, paths: list[str]
    ) -> Iterator[tuple[str, list[str], list[str]]]:
        for key in _PATCH_KEYS:
            value = call.args.get(key)
            if isinstance(value, str) and "*** Begin Patch" in value:
                for path, body in patch_sections(value):
                    text, headers = _patch_lines(body)
                    yield path, [text, *headers], []
                return
        command = call.command or call.args.get("command")
        if isinstance(command, str) and "*** Begin Patch" in command:
            for path, body in patch_sections(command):
                text, headers = _patch_lines(body)
                yield path, [text, *headers], []
            return
        new, old = _texts(call.args)
        if (new or old) and len(set(paths)) == 1:
            yield paths[0], new, old

    def _record(self, raw: str, new: list[str], old: list[str], cwd: str | None, seq: int) -> None:
        lang = language_of(raw)
        if lang is None:
            return
        shown, inside = display(raw, cwd)
        names: dict[str, str] = {}
        for text in [*new, *old]:
            found, orphan = snippet_functions(text, lang)
            names.update(dict.fromkeys(found, "snippet"))
            # only new text can be found in the file: the old text is what the edit replaced
            if orphan and inside and cwd and any(text is t for t in new):
                name = self.files.around(absolute(raw, cwd), text, lang)
                if name:
                    names.setdefault(name, "file")
        for name, how in names.items():
            key = (shown, name)
            if key in self.changed:
                continue
            if len(self.changed) >= MAX_FUNCTIONS:
                self.omitted += 1
                continue
            self.changed[key] = ChangedFunction(shown, name, seq, how)
