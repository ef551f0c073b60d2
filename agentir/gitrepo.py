"""The one module that talks to git (through GitPython's command runner).

Everything here runs git itself (`repo.git.execute`), never per-commit GitPython objects: one
`git log` call reads thousands of commits with their files, which is what keeps planning fast
on big repositories. Commands that change anything run with hooks disabled
(`core.hooksPath=/dev/null`): during an incident the repository's hooks are untrusted (an agent
may have written them) and must not run while agentir reverts its work.

Callers import this module lazily so that `agentir --help` never loads GitPython.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentir.errors import GitError

NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
NOTES_REF = "refs/notes/ai"

# `git log --format` separators: control characters plus a random token per call, because a
# commit message (written by the agent under investigation) could contain any fixed marker.
_LOG_FIELDS = ("%H", "%P", "%an", "%ae", "%cn", "%ce", "%at", "%ct")


_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{40})")


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """What git says about one commit (files are repo-relative, vs the first parent)."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    authored_at: datetime
    committed_at: datetime
    message: str
    files: tuple[str, ...] = ()
    note: str = ""

    @property
    def subject(self) -> str:
        """The first line of the message."""
        return self.message.split("\n", 1)[0].strip()

    @property
    def short(self) -> str:
        """The abbreviated hash shown to people."""
        return self.sha[:10]

    @property
    def is_merge(self) -> bool:
        """A commit with more than one parent."""
        return len(self.parents) > 1


@dataclass(frozen=True, slots=True)
class Completed:
    """The outcome of one git command."""

    status: int
    out: str
    err: str
    raw: bytes = b""  # stdout as bytes, for binary=True

    @property
    def ok(self) -> bool:
        """Exit status 0."""
        return self.status == 0


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One line of `git status --porcelain`: the path and its two-letter code."""

    path: str
    code: str  # "??" untracked, "M ", " M", "A ", "D ", "UU", ...
    orig_path: str | None = None

    @property
    def untracked(self) -> bool:
        """Not known to git."""
        return self.code == "??"


@dataclass(frozen=True, slots=True)
class Worktree:
    """One entry of `git worktree list --porcelain`."""

    path: str
    head: str | None
    branch: str | None  # refs/heads/... or None when detached


def _utc(epoch: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError):
        return datetime.fromtimestamp(0, timezone.utc)


class GitRepo:
    """A working tree of a git repository (the one the responder pointed at)."""

    def __init__(self, path: Path | str) -> None:
        import git  # lazy: GitPython is heavy and only remediation needs it

        target = Path(path).expanduser().resolve()
        if not target.exists():
            raise GitError(f"{target} does not exist", hint="pass --repo PATH of the repository")
        try:
            self._repo = git.Repo(target, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise GitError(
                f"{target} is not inside a git repository", hint="pass --repo PATH of a checkout"
            ) from None
        if self._repo.bare or self._repo.working_tree_dir is None:
            raise GitError(f"{target} is a bare repository", hint="point --repo at a checkout")
        self.root = Path(self._repo.working_tree_dir).resolve()
        rel = os.path.relpath(target if target.is_dir() else target.parent, self.root)
        self.prefix = "" if rel == "." else Path(rel).as_posix()  # --repo may name a subfolder
        common = self.run("rev-parse", "--git-common-dir").out.strip()
        self.common_dir = (self.root / common).resolve()

    # -- running git -----------------------------------------------------------------------

    def run(
        self,
        *args: str,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        check: bool = True,
        hooks: bool = True,
        binary: bool = False,
        timeout: float | None = None,
    ) -> Completed:
        """Run `git [-C cwd] args...`; raise GitError on failure when `check`."""
        command: list[str] = ["git", "-C", str(cwd or self.root)]
        if not hooks:
            command += NO_HOOKS
        command += list(args)
        kwargs: dict[str, Any] = {
            "with_extended_output": True,
            "with_exceptions": False,
            "stdout_as_string": not binary,
            "strip_newline_in_stdout": False,
            "env": dict(env) if env else None,
            "kill_after_timeout": timeout,
        }
        from git.exc import GitCommandNotFound

        try:
            if stdin is not None:
                with tempfile.TemporaryFile() as handle:
                    handle.write(stdin)
                    handle.seek(0)
                    status, out, err = self._repo.git.execute(command, istream=handle, **kwargs)
            else:
                status, out, err = self._repo.git.execute(command, **kwargs)
        except GitCommandNotFound:
            raise GitError(
                "the git program was not found", hint="install git, or fix PATH"
            ) from None
        result = Completed(
            int(status or 0),
            out if isinstance(out, str) else "",
            err if isinstance(err, str) else bytes(err or b"").decode("utf-8", "replace"),
            out if isinstance(out, bytes) else b"",
        )
        if check and not result.ok:
            detail = (result.err or result.out).strip().splitlines()
            raise GitError(
                f"git {' '.join(args[:3])} failed: {detail[-1] if detail else f'exit {status}'}",
                hint=f"run it yourself in {cwd or self.root} to see the full message",
            )
        return result

    def run_bytes(self, *args: str, cwd: Path | str | None = None) -> bytes:
        """Run a read-only git command and return its raw stdout (patches, file contents)."""
        return self.run(*args, cwd=cwd, binary=True).raw

    # -- refs and commits ------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit HEAD points at, or None in an empty repository."""
        res = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return res.out.strip() or None if res.ok else None

    def current_branch(self) -> str | None:
        """The checked-out branch name, or None when HEAD is detached."""
        res = self.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return res.out.strip() or None if res.ok else None

    def has_ref(self, ref: str) -> bool:
        """True when `ref` exists."""
        return self.run("rev-parse", "--verify", "-q", ref, check=False).ok

    def branch_exists(self, name: str) -> bool:
        """True when the local branch exists."""
        return self.has_ref(f"refs/heads/{name}")

    def resolve_commits(self, names: Iterable[str]) -> dict[str, str | None]:
        """Full hashes for (short) commit names in one `cat-file --batch-check`; None if unknown."""
        wanted = list(dict.fromkeys(n for n in names if n))
        found = self.resolve_objects([f"{n}^{{commit}}" for n in wanted])
        return {n: found.get(f"{n}^{{commit}}") for n in wanted}

    def resolve_objects(self, names: Sequence[str]) -> dict[str, str | None]:
        """Object ids for revision expressions (`abc^{tree}`...) in one call; None if unknown."""
        wanted = list(dict.fromkeys(n for n in names if n and "\n" not in n))
        if not wanted:
            return {}
        text = "".join(f"{n}\n" for n in wanted).encode()
        lines = self.run("cat-file", "--batch-check", stdin=text, check=False).out.splitlines()
        out: dict[str, str | None] = dict.fromkeys(wanted)
        for name, line in zip(wanted, lines, strict=False):
            parts = line.split()
            known = len(parts) == 3 and len(parts[0]) in (40, 64) and parts[2].isdigit()
            out[name] = parts[0] if known else None
        return out

    def object_exists(self, sha: str) -> bool:
        """True when the object is in the repository."""
        return self.run("cat-file", "-e", sha, check=False).ok

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is reachable from `descendant`."""
        return self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).ok

    def reverted_between(self, base: str, tip: str) -> set[str]:
        """Full hashes that commits in `base..tip` say they revert ("This reverts commit X")."""
        out = self.run(
            "log", "--format=%B", "--grep=This reverts commit", "-F", f"{base}..{tip}", "--"
        ).out
        return set(_REVERTS.findall(out))

    def log(
        self,
        revs: Sequence[str] = ("HEAD",),
        *,
        since: datetime | None = None,
        no_walk: bool = False,
        notes: bool = False,
    ) -> list[CommitInfo]:
        """Commits (newest first, topological) with their files, in ONE `git log` call."""
        token = secrets.token_hex(6)
        rs, fs = f"\x1e{token}\x1e", f"\x1f{token}\x1f"
        fmt = rs + fs.join(_LOG_FIELDS) + fs + ("%N" + fs if notes else "") + "%B" + fs
        args = [
            f"--format={fmt}",
            "--name-only",
            "--no-renames",
            "--diff-merges=first-parent",
            "--no-color",
            "-z",
        ]
        args.append("--no-walk=unsorted" if no_walk else "--topo-order")
        if since is not None:
            args.append(f"--since={int(since.timestamp())}")
        args.append(f"--notes={NOTES_REF}" if notes else "--no-notes")
        try:
            raw = self._repo.git.log(*args, *revs, "--", strip_newline_in_stdout=False)
        except Exception as exc:  # GitCommandError: unknown revision, corrupt repo...
            raise GitError(f"git log failed: {_last_line(exc)}", hint=f"in {self.root}") from None
        return _parse_log(raw, notes, rs, fs)

    def rev_list(self, *args: str) -> list[str]:
        """Hashes from `git rev-list args...`."""
        return self.run("rev-list", *args).out.split()

    def merge_base_all(self, shas: Sequence[str]) -> str | None:
        """The best common ancestor of all the commits, or None (unrelated histories)."""
        if not shas:
            return None
        if len(shas) == 1:
            return shas[0]
        res = self.run("merge-base", "--octopus", *shas, check=False)
        return res.out.split()[0] if res.ok and res.out.split() else None

    def remote_refs(self, containing: str | None = None) -> list[str]:
        """Remote-tracking refs (e.g. origin/main), optionally only those containing a commit."""
        args = ["for-each-ref", "--format=%(refname)"]
        if containing:
            args.append(f"--contains={containing}")
        refs = self.run(*args, "refs/remotes").out.split()
        return [r.removeprefix("refs/remotes/") for r in refs if not r.endswith("/HEAD")]

    def _span_exclusions(self, shas: Sequence[str]) -> tuple[str | None, list[str]]:
        """The common ancestor of `shas` and `^parent` arguments that bound a walk to them.

        Every commit descends from the merge base, so none is an ancestor of the base's
        parents: excluding those keeps a walk short and its answer exact."""
        base = self.merge_base_all(list(shas))
        if base is None:
            return None, []
        parents = self.run("rev-parse", f"{base}^@", check=False).out.split()
        return base, [f"^{p}" for p in parents]

    def reachable_from(self, tip: str, shas: Sequence[str]) -> set[str]:
        """The commits among `shas` that are ancestors of `tip` (one walk, not one per commit)."""
        wanted = set(shas)
        if not wanted:
            return set()
        _, exclude = self._span_exclusions(sorted(wanted))
        return wanted.intersection(self.rev_list(tip, *exclude))

    def remote_branches_containing(self, shas: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """For each commit, the remote-tracking branches that contain it (`git branch -r
        --contains` for many commits at once: one walk per remote ref over their span)."""
        wanted = set(shas)
        found: dict[str, list[str]] = {s: [] for s in shas}
        if not wanted:
            return {}
        base, exclude = self._span_exclusions(sorted(wanted))
        refs = self.remote_refs(containing=base) if base is not None else self.remote_refs()
        for ref in refs:
            for sha in wanted.intersection(self.rev_list(f"refs/remotes/{ref}", *exclude)):
                found[sha].append(ref)
        return {s: tuple(sorted(r)) for s, r in found.items()}

    # -- in-memory merges (conflict prediction without a worktree) ---------------------

    def version(self) -> tuple[int, ...]:
        """git's version as numbers, e.g. (2, 39, 5)."""
        words = self.run("version").out.split()
        parts = words[2].split(".") if len(words) > 2 else []
        return tuple(int(p) for p in parts if p.isdigit())

    def commit_tree(self, tree: str, parent: str) -> str:
        """A throwaway commit object (unreferenced; `git gc` prunes it) with a fixed identity."""
        env = {
            "GIT_AUTHOR_NAME": "agentir", "GIT_AUTHOR_EMAIL": "agentir@localhost",
            "GIT_COMMITTER_NAME": "agentir", "GIT_COMMITTER_EMAIL": "agentir@localhost",
        }  # fmt: skip
        args = ("commit-tree", "--no-gpg-sign", "-p", parent, "-m", "agentir trial", tree)
        return self.run(*args, env=env).out.strip()

    def merge_trees(self, ours: str, theirs: str) -> tuple[bool, str, tuple[str, ...]]:
        """`git merge-tree --write-tree` (git >= 2.38): (clean, result tree, conflicted paths)."""
        res = self.run(
            "merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", ours, theirs,
            check=False,
        )  # fmt: skip
        if res.status not in (0, 1):
            raise GitError(f"git merge-tree failed: {_last_line(RuntimeError(res.err))}")
        parts = [p for p in res.out.split("\0") if p]
        tree = parts[0] if parts else ""
        return res.status == 0, tree, tuple(sorted(set(parts[1:])))

    # -- working tree ----------------------------------------------------------------------

    def status(self, cwd: Path | str | None = None) -> list[StatusEntry]:
        """Changed and untracked files (untracked listed one by one, ignored ones left out)."""
        res = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=cwd)
        parts = res.out.split("\0")
        out: list[StatusEntry] = []
        i = 0
        while i < len(parts):
            item = parts[i]
            i += 1
            if len(item) < 4:
                continue
            code, path = item[:2], item[3:]
            orig = None
            if code[0] in "RC":  # a rename is followed by its source path
                orig = parts[i] if i < len(parts) else None
                i += 1
            out.append(StatusEntry(path, code, orig))
        return out

    def stash_list(self) -> list[str]:
        """`git stash list` lines (ref, hash and message)."""
        return self.run("stash", "list", "--format=%gd %H %gs").out.splitlines()

    def stash_push(self, message: str) -> str:
        """Stash tracked and untracked changes with a message; returns the stash commit."""
        self.run("stash", "push", "--include-untracked", "-m", message, hooks=False)
        return self.run("rev-parse", "refs/stash").out.strip()

    def worktrees(self) -> list[Worktree]:
        """Every registered worktree."""
        out: list[Worktree] = []
        block: dict[str, str] = {}
        for line in [*self.run("worktree", "list", "--porcelain").out.splitlines(), ""]:
            if not line:
                if "worktree" in block:
                    out.append(Worktree(block["worktree"], block.get("HEAD"), block.get("branch")))
                block = {}
                continue
            key, _, value = line.partition(" ")
            block[key] = value
        return out

    def worktree_add(self, path: Path, start: str, branch: str | None = None) -> None:
        """Check `start` out in a new worktree at `path` (a new branch, or detached)."""
        args = ["worktree", "add", "-q"]
        args += ["-b", branch] if branch else ["--detach"]
        self.run(*args, str(path), start, hooks=False)

    def worktree_add_existing(self, path: Path, branch: str) -> None:
        """Check an existing branch out in a new worktree."""
        self.run("worktree", "add", "-q", str(path), branch, hooks=False)

    def worktree_remove(self, path: Path) -> None:
        """Remove a worktree we created (even with changes in it) and forget it."""
        self.run("worktree", "remove", "--force", "--force", str(path), check=False)
        self.run("worktree", "prune", check=False)

    def delete_branch(self, name: str) -> None:
        """Delete a local branch (ours: the half-made revert branch)."""
        self.run("branch", "-D", name, check=False)


# -- investigation and sharing (agentir similar, incident tests, incident share) -------------
# Owned by the similar/share helper: patches of many commits in one call, an agent's commits
# since a date, file contents at a commit, and committing a shared folder.

MAX_PATCH_BYTES = 1 << 20  # per commit: a vendored blob must not fill memory


@dataclass(frozen=True, slots=True)
class CommitPatch:
    """A commit with its patch text against the first parent (cut at MAX_PATCH_BYTES)."""

    commit: CommitInfo
    diff: str
    truncated: bool = False


def patches(repo: GitRepo, shas: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """sha -> (patch text, truncated) for many commits in ONE `git log --no-walk -p` call.

    Revisions go through stdin (no argument-length limit); textconv and external diff drivers
    are off, since the repository's config is untrusted during an incident."""
    wanted = list(dict.fromkeys(s for s in shas if s and "\n" not in s))
    if not wanted:
        return {}
    token = secrets.token_hex(6)
    rs = f"\x1e{token}\x1e"
    res = repo.run(
        "log", "--stdin", "--no-walk=unsorted", "-p", "--no-color", "--no-ext-diff",
        "--no-textconv", "--diff-merges=first-parent", "--no-renames", f"--format={rs}%H",
        stdin="".join(f"{s}\n" for s in wanted).encode(), binary=True,
    )  # fmt: skip
    out: dict[str, tuple[str, bool]] = {}
    for record in res.raw.split(rs.encode()):
        sha, _, body = record.partition(b"\n")
        sha_text = sha.decode("ascii", "replace").strip()
        if not sha_text:
            continue
        cut = len(body) > MAX_PATCH_BYTES
        text = body[:MAX_PATCH_BYTES].decode("utf-8", "replace")
        out[sha_text] = (text, cut)
    return out


def commits_by_agent_since(
    repo: GitRepo,
    is_agent: Callable[[CommitInfo], bool],
    since: datetime | None,
    revs: Sequence[str] = ("HEAD",),
) -> tuple[int, list[CommitPatch]]:
    """(commits read, the agent's commits with their patches), newest first.

    Two git calls whatever the history's size: one `git log --name-only` over the range (with
    refs/notes/ai when present), then one `git log --no-walk -p` for the commits `is_agent`
    picks, so humans' patches are never generated."""
    notes = repo.has_ref(NOTES_REF)
    commits = repo.log(revs, since=since, notes=notes)
    picked = [c for c in commits if is_agent(c)]
    texts = patches(repo, [c.sha for c in picked])
    found = []
    for c in picked:
        text, cut = texts.get(c.sha, ("", False))
        found.append(CommitPatch(c, text, cut))
    return len(commits), found


def read_blobs(repo: GitRepo, specs: Sequence[str], limit: int = MAX_PATCH_BYTES) -> dict[str, str]:
    """`rev:path` -> text for many blobs in ONE `git cat-file --batch` call (missing, binary or
    larger than `limit` ones are left out)."""
    wanted = list(dict.fromkeys(s for s in specs if s and "\n" not in s))
    if not wanted:
        return {}
    raw = repo.run(
        "cat-file", "--batch", stdin="".join(f"{s}\n" for s in wanted).encode(), binary=True,
        check=False,
    ).raw  # fmt: skip
    out: dict[str, str] = {}
    pos = 0
    for spec in wanted:
        end = raw.find(b"\n", pos)
        if end < 0:
            break
        header = raw[pos:end].split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "<spec> missing"
        size = int(header[2])
        body = raw[pos : pos + size]
        pos += size + 1
        if header[1] == b"blob" and size <= limit and b"\0" not in body[:8000]:
            out[spec] = body.decode("utf-8", "replace")
    return out


def commit_folder(repo: GitRepo, paths: Sequence[str], message: str) -> str | None:
    """Stage `paths` (relative to the root) and commit only them; None when nothing changed.

    Hooks stay off (NO_HOOKS). A repository with no identity configured gets agentir's."""
    repo.run("add", "-A", "--", *paths, hooks=False)
    staged = repo.run("diff", "--cached", "--quiet", "--", *paths, check=False)
    if staged.ok:
        return None
    identity: list[str] = []
    for key, value in (("user.name", "agentir"), ("user.email", "agentir@localhost")):
        if not repo.run("config", "--get", key, check=False).out.strip():
            identity += ["-c", f"{key}={value}"]
    repo.run(*identity, "commit", "-q", "--no-gpg-sign", "-m", message, "--", *paths, hooks=False)
    return repo.head()


def _last_line(exc: Exception) -> str:
    text = str(getattr(exc, "stderr", "") or exc).strip().splitlines()
    return text[-1].strip().strip("'") if text else type(exc).__name__


def _parse_log(raw: str, notes: bool, rs: str, fs: str) -> list[CommitInfo]:
    """Parse `--format=<rs>fields<fs>...%B<fs>` + `-z --name-only` output."""
    out: list[CommitInfo] = []
    fixed = len(_LOG_FIELDS) + (1 if notes else 0)
    for record in raw.split(rs):
        parts = record.split(fs)
        if len(parts) != fixed + 2:
            continue
        sha, parents, an, ae, cn, ce, at, ct = parts[: len(_LOG_FIELDS)]
        note = parts[len(_LOG_FIELDS)] if notes else ""
        message = parts[fixed]
        tail = parts[-1]  # "\0\n" then NUL-terminated names (just "\0" when there are none)
        tail = tail[1:] if tail.startswith("\0") else tail
        tail = tail[1:] if tail.startswith("\n") else tail
        files = tuple(dict.fromkeys(n for n in tail.split("\0") if n))
        out.append(
            CommitInfo(
                sha=sha.strip(),
                parents=tuple(parents.split()),
                author_name=an,
                author_email=ae,
                committer_name=cn,
                committer_email=ce,
                authored_at=_utc(at),
                committed_at=_utc(ct),
                message=message.strip("\n"),
                files=files,
                note=note.strip(),
            )
        )
    return out
