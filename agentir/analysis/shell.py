"""Split a shell command line into simple commands, and read the file changes it makes.

Agents write files through the shell as often as through edit tools: `rm`, `mv`, `cp`,
`sed -i`, `>` / `>>` redirections, `tee`, `git checkout -- f`, `git rm`, and Codex's
`apply_patch <<'PATCH'` heredocs. This is a tolerant reader of what bash would do, not a
shell: unbalanced quotes fall back to whitespace splitting, and anything it cannot know
(a Python script that writes files) is simply not reported.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from posixpath import join as pjoin
from posixpath import normpath

from agentir.analysis.patches import parse_apply_patch
from agentir.model import FileChange, FileOp

_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_OPERATORS = {";", "&&", "||", "|", "&", "|&", ";;", "(", ")", "{", "}", "!"}
_REDIRECT = re.compile(r"^(\d*|&)(>>|>\||>|<>|<)(.*)$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = {"sudo", "env", "time", "nohup", "nice", "ionice", "stdbuf", "command", "exec", "doas"}
_WRAPPER_VALUE_OPTIONS = {
    "sudo": ("-u", "-g", "-h", "-p", "-C", "-D", "-U"),
    "doas": ("-u", "-C"),
    "env": ("-u", "-C", "-S"),
    "nice": ("-n",),
    "ionice": ("-c", "-n", "-p"),
}
_SHELLS = {"bash", "sh", "zsh", "dash", "ksh"}


@dataclass
class SimpleCommand:
    """One command of a pipeline or list: its words, redirections and heredoc body."""

    argv: list[str]
    redirects: list[tuple[str, str]] = field(default_factory=list)  # (operator, target)
    heredoc: str | None = None
    cwd: str | None = None  # directory after any earlier `cd` in the same line

    @property
    def program(self) -> str:
        """The program name without its directory ('' when there is none)."""
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""


def _cut_heredocs(text: str) -> tuple[str, dict[int, str]]:
    """Remove heredoc bodies from the text; return the text and body per line index."""
    lines = text.split("\n")
    out: list[str] = []
    bodies: dict[int, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        pending = [(m.group(1) == "-", m.group(3)) for m in _HEREDOC.finditer(line)]
        i += 1
        for strip_tabs, delimiter in pending:
            body: list[str] = []
            while i < len(lines):
                candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
                if candidate.strip() == delimiter:
                    i += 1
                    break
                body.append(lines[i])
                i += 1
            bodies.setdefault(len(out) - 1, "\n".join(body))
    return "\n".join(out), bodies


def _tokenize(line: str) -> list[str]:
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain words
        return line.split()


def _join_redirects(tokens: list[str]) -> list[str]:
    """shlex splits `2>&1` and `>>` oddly; glue redirection operators back together."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok and set(tok) <= set("<>&|") and any(c in tok for c in "<>"):
            prefix = ""
            if out and out[-1].isdigit():
                prefix = out.pop()
            if out and out[-1] == "&" and tok.startswith(">"):
                prefix = out.pop()
            target = ""
            if i + 1 < len(tokens) and tokens[i + 1] not in _OPERATORS:
                nxt = tokens[i + 1]
                if tok.endswith("&") or nxt.startswith("&") or not (set(nxt) <= set("<>&|")):
                    target = nxt
                    i += 1
            out.append(f"{prefix}{tok}\x00{target}")
        else:
            out.append(tok)
        i += 1
    return out


def split_commands(command: str, cwd: str | None = None) -> list[SimpleCommand]:
    """The simple commands of a command line, following `cd` and unwrapping `bash -c`."""
    text, bodies = _cut_heredocs(command.replace("\\\n", " "))
    result: list[SimpleCommand] = []
    current_cwd = cwd
    for index, line in enumerate(text.split("\n")):
        body = bodies.get(index)
        words: list[str] = []
        redirects: list[tuple[str, str]] = []
        for tok in [*_join_redirects(_tokenize(line)), ";"]:
            if "\x00" in tok:
                op, target = tok.split("\x00", 1)
                redirects.append((op, target))
            elif tok in _OPERATORS:
                current_cwd = _emit(words, redirects, body, current_cwd, result)
                words, redirects = [], []
            else:
                words.append(tok)
    return result


def _emit(
    words: list[str],
    redirects: list[tuple[str, str]],
    body: str | None,
    cwd: str | None,
    out: list[SimpleCommand],
) -> str | None:
    """Append the simple command made of `words`; return the cwd after it (`cd` moves it)."""
    argv = _strip_wrappers(words)
    if not argv:
        return cwd
    inner = _inner_shell(argv)
    if inner is not None:
        out.extend(split_commands(inner, cwd))
        return cwd
    has_heredoc = any(op.startswith("<<") for op, _ in redirects)
    cmd = SimpleCommand(argv, redirects, body if has_heredoc else None, cwd)
    out.append(cmd)
    if cmd.program == "cd" and len(argv) > 1 and not argv[1].startswith("-"):
        return _resolve(argv[1], cwd)
    return cwd


def _strip_wrappers(words: list[str]) -> list[str]:
    argv = list(words)
    while argv:
        if _ASSIGNMENT.match(argv[0]):
            argv.pop(0)
            continue
        head = argv[0].rsplit("/", 1)[-1]
        if head in _WRAPPERS:
            argv.pop(0)
            while argv and (argv[0].startswith("-") or _ASSIGNMENT.match(argv[0])):
                option = argv.pop(0)
                if option in _WRAPPER_VALUE_OPTIONS.get(head, ()) and argv:
                    argv.pop(0)
            continue
        if head == "timeout" and len(argv) > 1:
            argv.pop(0)
            while argv and argv[0].startswith("-"):
                argv.pop(0)
            if argv:
                argv.pop(0)  # the duration
            continue
        break
    return argv


def _inner_shell(argv: list[str]) -> str | None:
    """The script of `bash -c '…'` / `bash -lc '…'`, else None."""
    if argv[0].rsplit("/", 1)[-1] not in _SHELLS:
        return None
    for i, arg in enumerate(argv[1:], start=1):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return argv[i + 1] if i + 1 < len(argv) else None
    return None


def _resolve(path: str, cwd: str | None) -> str:
    if path.startswith(("/", "~", "$")) or cwd is None:
        return path
    return normpath(pjoin(cwd, path))


def _operands(argv: list[str], *, takes_value: frozenset[str] = frozenset()) -> list[str]:
    """Non-option arguments (after `--`, everything)."""
    out: list[str] = []
    skip = False
    dashdash = False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        if dashdash:
            out.append(arg)
        elif arg == "--":
            dashdash = True
        elif arg.startswith("-") and arg != "-":
            if arg in takes_value:
                skip = True
        else:
            out.append(arg)
    return out


def _is_path(word: str) -> bool:
    return (
        bool(word)
        and word not in ("-", "/dev/null", "/dev/stdout", "/dev/stderr")
        and not (word.startswith("/dev/fd/") or word.startswith("&"))
    )


def file_changes(cmd: SimpleCommand) -> list[FileChange]:
    """Files one simple command writes, deletes, renames or copies (paths as written)."""
    changes: list[FileChange] = []

    def at(path: str) -> str:
        return _resolve(path, cmd.cwd) if cmd.cwd else path

    for op, target in cmd.redirects:
        if op.endswith(">>") and _is_path(target):
            changes.append(FileChange(at(target), FileOp.EDIT))
        elif op.endswith((">", ">|")) and _is_path(target) and not target.startswith("&"):
            changes.append(FileChange(at(target), FileOp.WRITE))
    prog, argv = cmd.program, cmd.argv
    if prog == "rm" or prog == "rmdir" or prog == "unlink" or prog == "shred":
        changes += [FileChange(at(p), FileOp.DELETE) for p in _operands(argv) if _is_path(p)]
    elif prog in ("mv", "cp", "install"):
        ops = _operands(argv, takes_value=frozenset({"-t", "--target-directory", "-S", "-m"}))
        if len(ops) >= 2:
            dest = ops[-1]
            kind = FileOp.RENAME if prog == "mv" else FileOp.COPY
            for src in ops[:-1]:
                target = (
                    pjoin(dest, src.rsplit("/", 1)[-1])
                    if len(ops) > 2 or dest.endswith("/")
                    else dest
                )
                changes.append(FileChange(at(src), kind, dest=at(target)))
    elif prog == "touch":
        changes += [
            FileChange(at(p), FileOp.CREATE)
            for p in _operands(argv, takes_value=frozenset({"-d", "-r", "-t"}))
        ]
    elif prog == "tee":
        kind = FileOp.EDIT if any(a in ("-a", "--append") for a in argv[1:]) else FileOp.WRITE
        changes += [FileChange(at(p), kind) for p in _operands(argv) if _is_path(p)]
    elif prog in ("sed", "gsed") and any(
        a == "-i" or a.startswith(("-i", "--in-place")) for a in argv[1:]
    ):
        changes += [FileChange(at(p), FileOp.EDIT) for p in _sed_files(argv)]
    elif prog == "perl" and any(
        a.startswith("-") and "i" in a[1:] and "e" not in a[1:2] for a in argv[1:]
    ):
        changes += [
            FileChange(at(p), FileOp.EDIT)
            for p in _operands(argv, takes_value=frozenset({"-e", "-E"}))
        ]
    elif prog == "truncate":
        changes += [
            FileChange(at(p), FileOp.EDIT)
            for p in _operands(argv, takes_value=frozenset({"-s", "--size", "-r"}))
        ]
    elif prog == "dd":
        changes += [FileChange(at(a[3:]), FileOp.WRITE) for a in argv[1:] if a.startswith("of=")]
    elif prog == "git" and len(argv) > 1:
        changes += [
            FileChange(at(c.path), c.op, at(c.dest) if c.dest else None) for c in _git_changes(argv)
        ]
    elif prog == "apply_patch" or (prog == "applypatch"):
        text = cmd.heredoc if cmd.heredoc is not None else (argv[1] if len(argv) > 1 else "")
        changes += [
            FileChange(at(c.path), c.op, at(c.dest) if c.dest else None, c.added, c.removed)
            for c in parse_apply_patch(text)
        ]
    return changes


def _sed_files(argv: list[str]) -> list[str]:
    files: list[str] = []
    script_seen = False
    skip = False
    for i, arg in enumerate(argv[1:], start=1):
        if skip:
            skip = False
            continue
        if arg in ("-e", "--expression", "-f", "--file"):
            script_seen = True
            skip = True
        elif arg.startswith("-"):
            if arg == "-i" and i + 1 < len(argv) and argv[i + 1] == "":
                skip = True  # BSD sed: -i ''
            continue
        elif not script_seen:
            script_seen = True
        else:
            files.append(arg)
    return files


def _git_changes(argv: list[str]) -> list[FileChange]:
    args = [a for a in argv[1:]]
    while args and args[0].startswith("-"):  # git -C dir / -c k=v
        opt = args.pop(0)
        if opt in ("-C", "-c") and args:
            args.pop(0)
    if not args:
        return []
    sub, rest = args[0], args[1:]
    if sub == "rm":
        return [FileChange(p, FileOp.DELETE) for p in _operands(["rm", *rest])]
    if sub == "mv":
        ops = _operands(["mv", *rest])
        return [FileChange(ops[0], FileOp.RENAME, dest=ops[-1])] if len(ops) >= 2 else []
    if sub in ("checkout", "restore") and ("--" in rest or sub == "restore"):
        paths = (
            rest[rest.index("--") + 1 :]
            if "--" in rest
            else _operands(["restore", *rest], takes_value=frozenset({"-s", "--source"}))
        )
        return [FileChange(p, FileOp.EDIT) for p in paths if p not in (".", "*")]
    return []


def shell_file_changes(command: str, cwd: str | None = None) -> list[tuple[FileChange, str]]:
    """Every file change of a command line, each with the program that made it."""
    return changes_of(split_commands(command, cwd))


def changes_of(cmds: list[SimpleCommand]) -> list[tuple[FileChange, str]]:
    """Every file change of already split commands, each with the program that made it."""
    out: list[tuple[FileChange, str]] = []
    for cmd in cmds:
        for change in file_changes(cmd):
            out.append(
                (change, cmd.program if cmd.program != "git" else f"git {_git_sub(cmd.argv)}")
            )
    return out


def _git_sub(argv: list[str]) -> str:
    args = argv[1:]
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-C", "-c") and args:
            args.pop(0)
    return args[0] if args else ""


def quote(argv: list[str]) -> str:
    """A printable shell line for an argv list."""
    return shlex.join(argv)
