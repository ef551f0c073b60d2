"""Record shapes and text pools taken from the real Claude Code samples in ../shared/traces."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "traces" / "claude-code"
SAMPLE_NAMES = (
    "1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
    "5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
)

Record = dict[str, Any]

# toolUseResult kinds we recognise by their keys in the samples
_RESULT_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("bash", frozenset({"stdout", "stderr", "interrupted", "isImage"})),
    ("glob", frozenset({"filenames", "numFiles"})),
    ("read", frozenset({"type", "file"})),
    ("todo", frozenset({"oldTodos", "newTodos"})),
    ("task", frozenset({"content", "totalDurationMs", "totalTokens"})),
    ("multiedit", frozenset({"filePath", "edits", "structuredPatch"})),
)


class SamplesMissing(Exception):
    """The real sample traces are not where the generator expects them."""


@dataclass
class Shapes:
    """Templates (one raw record per role) and content pools from the real samples."""

    user_prompt: Record
    user_meta: Record
    assistant: Record
    tool_result: Record
    sidechain_root: Record
    results: dict[str, Any]
    prompts: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    file_lines: list[str] = field(default_factory=list)
    stdout_lines: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    todos: list[Record] = field(default_factory=list)


def _records(path: Path) -> list[Record]:
    """Parse one sample file (tiny, so loading it whole is fine)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _blocks(rec: Record) -> list[Record]:
    content = rec.get("message", {}).get("content")
    return content if isinstance(content, list) else []


def _result_kind(tur: Any) -> str | None:
    if not isinstance(tur, dict):
        return None
    for kind, keys in _RESULT_KINDS:
        if keys <= tur.keys():
            return kind
    return None


def _add_lines(pool: list[str], seen: set[str], text: str) -> None:
    for line in text.splitlines():
        line = line.rstrip()
        if line and len(line) < 200 and line not in seen:
            seen.add(line)
            pool.append(line)


def load_shapes(samples_dir: Path = SAMPLES_DIR) -> Shapes:
    """Read the real samples and pick one template record per role plus content pools."""
    files = [samples_dir / name for name in SAMPLE_NAMES]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SamplesMissing(
            "real Claude Code samples not found: " + ", ".join(missing) + " "
            "(the generator builds records from their shapes; put ../shared/traces next to the repo)"
        )
    roles: dict[str, Record] = {}
    results: dict[str, Any] = {}
    prompts: list[str] = []
    texts: list[str] = []
    file_lines: list[str] = []
    stdout_lines: list[str] = []
    paths: list[str] = []
    todos: list[Record] = []
    seen: set[str] = set()
    # the newer sample first: it has every role (sidechain too), so templates share one envelope
    for f in reversed(files):
        for rec in _records(f):
            kind = rec.get("type")
            content = rec.get("message", {}).get("content")
            side = bool(rec.get("isSidechain"))
            if kind == "user" and isinstance(content, str):
                prompts.append(content)
                roles.setdefault("sidechain_root" if side else "user_prompt", rec)
            elif kind == "user" and rec.get("isMeta"):
                roles.setdefault("user_meta", rec)
            elif kind == "assistant" and not side:
                roles.setdefault("assistant", rec)
            for block in _blocks(rec):
                btype = block.get("type")
                if btype == "text" and kind == "assistant":
                    texts.append(block.get("text", ""))
                elif btype == "tool_use":
                    inp = block.get("input", {})
                    for key in ("file_path", "path"):
                        if isinstance(inp.get(key), str) and inp[key] not in paths:
                            paths.append(inp[key])
                    todos.extend(t for t in inp.get("todos", []) if isinstance(t, dict))
                elif btype == "tool_result":
                    roles.setdefault("tool_result", rec)
            tur = rec.get("toolUseResult")
            rkind = _result_kind(tur)
            if rkind is not None and isinstance(tur, dict):
                results.setdefault(rkind, tur)
                if rkind == "read":
                    _add_lines(file_lines, seen, tur["file"].get("content", ""))
                    if tur["file"].get("filePath") not in paths:
                        paths.append(tur["file"]["filePath"])
                elif rkind == "bash":
                    _add_lines(stdout_lines, seen, tur.get("stdout", ""))
                elif rkind == "glob":
                    paths.extend(p for p in tur.get("filenames", []) if p not in paths)
                elif rkind == "multiedit":
                    _add_lines(file_lines, seen, tur.get("originalFileContents", ""))
    needed = ("user_prompt", "user_meta", "assistant", "tool_result", "sidechain_root")
    absent = [r for r in needed if r not in roles]
    if absent or len(results) < len(_RESULT_KINDS):
        raise SamplesMissing(f"samples lack expected record shapes: {absent or sorted(results)}")
    # stdout of `find`/`ls` in the samples names more project files
    for line in stdout_lines:
        m = re.fullmatch(r"(/\S+\.[a-z]{1,5})", line.strip())
        if m and m.group(1) not in paths:
            paths.append(m.group(1))
    return Shapes(
        user_prompt=roles["user_prompt"],
        user_meta=roles["user_meta"],
        assistant=roles["assistant"],
        tool_result=roles["tool_result"],
        sidechain_root=roles["sidechain_root"],
        results=results,
        prompts=prompts,
        texts=[t for t in texts if t],
        file_lines=file_lines,
        stdout_lines=stdout_lines,
        paths=paths,
        todos=todos,
    )
