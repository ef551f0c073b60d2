"""evidence/: a sha256-named copy of each trace (file or per-event directory) and its index.

A copy is staged (streamed and hashed in one pass) outside the incident lock, since traces can be
hundreds of MB; only the check "is this sha new?" and the rename happen under the lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.errors import IncidentError
from agentir.incidents.locking import atomic_write

CHUNK = 1 << 20
INDEX_NAME = "index.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class EvidenceRecord:
    """One preserved trace: where it came from, its digest, and where the copy is."""

    sha256: str
    name: str
    path: str
    size: int
    kind: str
    files: int
    copied_at: str
    by: str
    skipped: int = 0
    other: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for index.json."""
        out = {k: v for k, v in self.__dict__.items() if k != "other"}
        out.update(self.other)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceRecord:
        """From an index.json item; unknown keys are kept."""
        known = {k for k in cls.__dataclass_fields__ if k != "other"}
        kwargs = {k: data[k] for k in known if k in data}
        kwargs.setdefault("skipped", 0)
        other = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs, other=other)


@dataclass(frozen=True)
class Staged:
    """A hashed copy waiting in evidence/ under a temporary name."""

    temp: Path
    sha256: str
    size: int
    kind: str
    files: int
    skipped: int
    source: Path

    def discard(self) -> None:
        """Remove the temporary copy (its sha was already there)."""
        if self.kind == "dir":
            _make_writable(self.temp)
            shutil.rmtree(self.temp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.temp.unlink()


def safe_name(name: str) -> str:
    """A file name with only portable characters, never empty, never hidden."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "trace"
    return cleaned[:100]


def stage(source: Path, evidence_dir: Path) -> Staged:
    """Copy and hash `source` (a file or a directory tree) into evidence_dir under a temp name."""
    evidence_dir.mkdir(parents=True, exist_ok=True)
    try:
        info = source.stat()
    except OSError as exc:
        raise IncidentError(f"cannot read evidence {source}: {exc}", hint="check the path") from exc
    if stat.S_ISDIR(info.st_mode):
        return _stage_dir(source, evidence_dir)
    if not stat.S_ISREG(info.st_mode):
        raise IncidentError(
            f"{source} is not a regular file or a directory", hint="pass the trace file itself"
        )
    fd, temp_name = tempfile.mkstemp(dir=evidence_dir, prefix=".stage-", suffix=".tmp")
    os.close(fd)
    temp = Path(temp_name)
    try:
        digest, size = _copy_file(source, temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Staged(temp, digest, size, "file", 1, 0, source)


def _copy_file(source: Path, dest: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    try:
        with open(source, "rb") as reader, open(dest, "wb") as writer:
            while block := reader.read(CHUNK):
                hasher.update(block)
                writer.write(block)
                size += len(block)
            writer.flush()
            os.fsync(writer.fileno())
    except OSError as exc:
        raise IncidentError(f"cannot copy evidence {source}: {exc}", hint="check the path") from exc
    os.chmod(dest, 0o444)  # evidence is not meant to be edited in place
    return hasher.hexdigest(), size


def _stage_dir(source: Path, evidence_dir: Path) -> Staged:
    temp = Path(tempfile.mkdtemp(dir=evidence_dir, prefix=".stage-", suffix=".tmp"))
    manifest: list[str] = []
    size = 0
    skipped = 0
    try:
        for folder, dirnames, filenames in os.walk(source, followlinks=False):
            dirnames.sort()
            relative_folder = Path(folder).relative_to(source)
            for name in sorted(filenames):
                src = Path(folder) / name
                rel = relative_folder / name
                # Symlinks and special files could point outside the trace; they are not copied.
                if not stat.S_ISREG(src.lstat().st_mode):
                    skipped += 1
                    continue
                (temp / relative_folder).mkdir(parents=True, exist_ok=True)
                digest, file_size = _copy_file(src, temp / rel)
                manifest.append(f"{digest}  {rel.as_posix()}\n")
                size += file_size
    except BaseException:
        _make_writable(temp)
        shutil.rmtree(temp, ignore_errors=True)
        raise
    # The tree digest is the sha256 of a sha256sum-style manifest, sorted by path.
    tree = hashlib.sha256("".join(sorted(manifest, key=lambda x: x[66:])).encode()).hexdigest()
    return Staged(temp, tree, size, "dir", len(manifest), skipped, source)


def _make_writable(folder: Path) -> None:
    for root, _dirs, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                os.chmod(Path(root) / name, 0o644)


def read_index(evidence_dir: Path) -> list[EvidenceRecord]:
    """The evidence index (empty when there is none yet)."""
    try:
        data = json.loads((evidence_dir / INDEX_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise IncidentError(
            f"evidence index {evidence_dir / INDEX_NAME} is unreadable: {exc}",
            hint="restore it from git or from an export",
        ) from exc
    items = data.get("items", []) if isinstance(data, dict) else []
    return [EvidenceRecord.from_dict(x) for x in items if isinstance(x, dict)]


def commit(
    staged: Staged, evidence_dir: Path, copied_at: str, by: str
) -> tuple[EvidenceRecord, bool]:
    """Keep the staged copy if its sha is new (caller holds the lock). Returns (record, is_new)."""
    records = read_index(evidence_dir)
    for record in records:
        if record.sha256 == staged.sha256:
            staged.discard()
            return record, False
    name = f"{staged.sha256[:12]}-{safe_name(staged.source.name)}"
    target = evidence_dir / name
    if target.exists():  # a copy left by an interrupted run: same digest, so same content
        staged.discard()
    else:
        os.replace(staged.temp, target)
    record = EvidenceRecord(
        sha256=staged.sha256,
        name=name,
        path=str(staged.source.resolve()),
        size=staged.size,
        kind=staged.kind,
        files=staged.files,
        copied_at=copied_at,
        by=by,
        skipped=staged.skipped,
    )
    items = [r.to_dict() for r in [*records, record]]
    atomic_write(evidence_dir / INDEX_NAME, json.dumps({"items": items}, indent=2) + "\n")
    return record, True
