"""Trace readers: one module per format; `open_trace` detects the format by content.

Each reader turns a trace into `Event`s (see `agentir.model`). Detection looks at the
content, never the file name; `--format` forces a reader.
"""

from __future__ import annotations

import importlib
import os
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agentir.errors import TraceError, UnknownFormatError
from agentir.model import Event
from agentir.traces.base import HEAD_BYTES, MAX_LINE_BYTES, Probe, ReadStats, TraceReader, loads

# Modules that define readers; a module that is not there yet is simply not offered.
READER_MODULES = (
    "agentir.traces.claude_code",
    "agentir.traces.codex",
    "agentir.traces.swe_agent",
    "agentir.traces.openhands",
    "agentir.traces.otel",
    "agentir.traces.langfuse",
    "agentir.traces.aider",
    "agentir.traces.gemini",
)

# Files never worth probing when walking a directory.
_IGNORED_SUFFIXES = {
    ".pyc",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".zip",
    ".gz",
    ".tar",
    ".db",
    ".sqlite",
}
_TRACE_SUFFIXES = {".jsonl", ".json", ".traj", ".md", ".ndjson", ".log"}


@cache
def readers() -> tuple[type[TraceReader], ...]:
    """Every available reader, in detection order."""
    found: list[type[TraceReader]] = []
    for name in READER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for value in vars(module).values():
            if _is_reader(value) and value.__module__ == module.__name__:
                found.append(value)
    return tuple(sorted(found, key=lambda r: r.priority))


def _is_reader(value: object) -> bool:
    # on Python 3.10 a generic alias such as `tuple[str, int]` passes isinstance(x, type)
    # but breaks issubclass, so check for a real class first
    if not isinstance(value, type) or isinstance(value, types.GenericAlias):
        return False
    return (
        issubclass(value, TraceReader)
        and value is not TraceReader
        and bool(getattr(value, "format", None))
    )


def formats() -> list[str]:
    """Names accepted by `--format`."""
    return [r.format for r in readers()]


def probe(path: Path) -> Probe:
    """Read the start of a file for detection. Raises TraceError for unusable files."""
    if not path.exists():
        raise TraceError(f"no such file: {path}", hint="check the path (shell globs and ~ expand)")
    if path.is_dir():
        return Probe(path=path, head=b"", first_record=None)
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
            if not head.strip():
                raise TraceError(f"empty file: {path}", hint="the agent may not have written yet")
            if b"\x00" in head:
                raise TraceError(
                    f"binary file, not a trace: {path}",
                    hint="pass the agent's JSON/JSONL/Markdown log, not a database or archive",
                )
            fh.seek(0)
            first_line = b""
            while not first_line.strip():
                first_line = fh.readline(MAX_LINE_BYTES)
                if not first_line:
                    break
    except PermissionError as exc:
        raise TraceError(
            f"cannot read {path}: permission denied", hint="check file permissions"
        ) from exc
    except IsADirectoryError as exc:  # pragma: no cover - raced with is_dir
        raise TraceError(f"{path} is a directory") from exc
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        first = loads(first_line.strip()) if first_line.strip() else None
    except ValueError:
        first = None
    return Probe(path=path, head=head, first_record=first)


def detect(path: Path, fmt: str | None = None) -> type[TraceReader]:
    """The reader for `path`: forced by `fmt`, else the first whose sniff accepts the content."""
    available = readers()
    if fmt:
        for reader in available:
            if reader.format == fmt:
                return reader
        raise UnknownFormatError(
            f"unknown format {fmt!r}", hint=f"choose one of: {', '.join(formats())}"
        )
    pr = probe(path)
    for reader in available:
        if path.is_dir() != reader.directory:
            continue
        try:
            if reader.sniff(pr):
                return reader
        except Exception:  # a sniffing bug must not hide the other readers
            continue
    if path.is_dir():
        raise TraceError(
            f"{path} is a directory, not a trace file",
            hint="pass one trace file, or use `agentir scan DIR` for many",
        )
    raise UnknownFormatError(
        f"not a trace format agentir knows: {path}",
        hint=f"supported: {', '.join(formats())}; force one with --format",
    )


@dataclass
class TraceStream:
    """An opened trace: its reader, running statistics and the event iterator."""

    path: Path
    reader: type[TraceReader]
    stats: ReadStats

    @property
    def format(self) -> str:
        """The detected format name."""
        return self.reader.format

    def events(self) -> Iterator[Event]:
        """Stream the events; may be iterated once."""
        return self.reader().read(self.path, self.stats)


def open_trace(path: Path | str, fmt: str | None = None) -> TraceStream:
    """Detect the format of `path` and prepare to stream its events."""
    p = Path(path).expanduser()
    if not p.exists():
        raise TraceError(f"no such file: {p}", hint="check the path (shell globs and ~ expand)")
    return TraceStream(path=p, reader=detect(p, fmt), stats=ReadStats())


def iter_trace_files(root: Path) -> Iterator[Path]:
    """Candidate trace files and per-event directories under `root`, sorted, recursively."""
    directory_readers = [r for r in readers() if r.directory]
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".git"))
        here = Path(dirpath)
        if here != root and directory_readers:
            pr = Probe(path=here, head=b"", first_record=None)
            if any(_safe_sniff(r, pr) for r in directory_readers):
                dirnames[:] = []
                yield here
                continue
        for name in sorted(filenames):
            p = here / name
            suffix = p.suffix.lower()
            if suffix in _IGNORED_SUFFIXES or (suffix and suffix not in _TRACE_SUFFIXES):
                continue
            if any(_safe_call(r.read_with_another, p) for r in readers()):
                continue
            yield p


def _safe_call(check: Callable[[Path], bool], path: Path) -> bool:
    try:
        return check(path)
    except Exception:
        return False


def _safe_sniff(reader: type[TraceReader], pr: Probe) -> bool:
    try:
        return reader.sniff(pr)
    except Exception:
        return False
