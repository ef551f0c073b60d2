"""External effects of git, the code-host CLIs (gh, glab) and destructive local commands."""

from __future__ import annotations

import re

from agentir.analysis.effect_base import EffectHit, host, operands, urls_in
from agentir.analysis.shell import SimpleCommand
from agentir.model import Risk

_GH_VALUE_OPTIONS = frozenset(
    {"-R", "--repo", "-b", "--body", "-t", "--title", "-F", "--body-file", "-X", "--method",
     "-f", "--field", "-H", "--header"}
)  # fmt: skip
_DANGEROUS_TARGETS = ("/", "~", "~/", "$HOME", "*", ".", "..", "/*", "./*", "$HOME/")


def git_effects(argv: list[str]) -> list[EffectHit]:
    """Pushes (force pushes and remote deletions riskier) and fetches of `git …`."""
    args = argv[1:]
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-C", "-c") and args:
            args.pop(0)
    if not args:
        return []
    sub, rest = args[0], args[1:]
    ops = [a for a in rest if not a.startswith("-")]
    if sub == "push":
        force = any(
            a in ("-f", "--force", "--force-with-lease", "--mirror") or a.startswith("--force")
            for a in rest
        ) or any(a.startswith("+") for a in ops[1:])
        delete = "--delete" in rest or "-d" in rest or any(a.startswith(":") for a in ops[1:])
        remote = ops[0] if ops else "(default remote)"
        refs = " ".join(ops[1:]) or "(current branch)"
        if force or delete:
            what = "force push" if force else "remote branch deletion"
            return [
                EffectHit(
                    "git_push",
                    f"{remote} {refs}",
                    Risk.HIGH if not _protected(refs) else Risk.CRITICAL,
                    what,
                )
            ]
        return [EffectHit("git_push", f"{remote} {refs}", Risk.MEDIUM, "push")]
    if sub in ("clone", "fetch", "pull", "ls-remote"):
        target = next((host(u) for u in urls_in(rest)), ops[0] if ops else "(default remote)")
        return [EffectHit("network", target, Risk.LOW, f"git {sub}")]
    return []


def _protected(refs: str) -> bool:
    return bool(re.search(r"(^|[\s:+/])(main|master|prod|production|release)\b", refs))


def gh_effects(argv: list[str]) -> list[EffectHit]:
    """Posts, merges, releases, settings and API calls of `gh` / `glab`."""
    ops = operands(argv, _GH_VALUE_OPTIONS)
    if len(ops) < 2:
        return []
    area, verb = ops[0], ops[1]
    target = f"{argv[0].rsplit('/', 1)[-1]} {area} {verb}"
    if area in ("issue", "pr") and verb in (
        "create",
        "comment",
        "review",
        "edit",
        "close",
        "reopen",
    ):
        return [EffectHit("message", target, Risk.MEDIUM, "posts on the code host")]
    if area == "pr" and verb == "merge":
        return [EffectHit("git_push", target, Risk.HIGH, "merges a pull request")]
    if area == "release" and verb in ("create", "upload", "delete", "edit"):
        return [EffectHit("publish", target, Risk.HIGH, "GitHub release")]
    if area == "repo" and verb in ("delete", "archive", "rename", "edit"):
        return [
            EffectHit(
                "cloud",
                target,
                Risk.CRITICAL if verb == "delete" else Risk.HIGH,
                "repository settings",
            )
        ]
    if area == "secret" or area == "variable":
        return [EffectHit("cloud", target, Risk.HIGH, "repository secrets")]
    if area == "api":
        method = next(
            (argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-X", "--method")), "GET"
        )
        risk = (
            Risk.LOW
            if method.upper() == "GET" and "-f" not in argv and "--field" not in argv
            else Risk.HIGH
        )
        return [EffectHit("cloud", f"gh api {method} {ops[1]}", risk, "GitHub API call")]
    if area == "workflow" and verb == "run":
        return [EffectHit("deploy", target, Risk.HIGH, "triggers a CI workflow")]
    return [EffectHit("network", target, Risk.LOW, "code host CLI")]


def destructive(cmd: SimpleCommand) -> list[EffectHit]:
    """Local commands that destroy work: rm -rf, git reset --hard / clean, find -delete, …"""
    prog, argv = cmd.program, cmd.argv
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and not a.startswith("--"))
    if prog == "rm" and "r" in flags.lower() and "f" in flags:
        targets = operands(argv)
        danger = any(
            t in _DANGEROUS_TARGETS or t.startswith(("/etc", "/usr", "/var", "/home", "~/"))
            for t in targets
        )
        return [
            EffectHit(
                "destructive",
                " ".join(targets) or "?",
                Risk.CRITICAL if danger else Risk.HIGH,
                "rm -rf",
            )
        ]
    if prog == "git":
        args = [a for a in argv[1:]]
        sub = args[0] if args else ""
        if sub == "reset" and "--hard" in args:
            return [
                EffectHit(
                    "destructive",
                    "git reset --hard " + " ".join(a for a in args[1:] if a != "--hard"),
                    Risk.HIGH,
                    "discards uncommitted work",
                )
            ]
        if sub == "clean" and any("f" in a for a in args[1:] if a.startswith("-")):
            return [
                EffectHit(
                    "destructive",
                    "git clean " + " ".join(args[1:]),
                    Risk.HIGH,
                    "deletes untracked files",
                )
            ]
        discards_all = "." in args[1:] or ("--" in args and args[-1] == ".")
        if sub in ("checkout", "restore") and discards_all:
            return [
                EffectHit("destructive", f"git {sub} .", Risk.HIGH, "discards uncommitted changes")
            ]
        if sub == "branch" and "-D" in args:
            return [
                EffectHit(
                    "destructive",
                    "git branch -D "
                    + " ".join(a for a in args if not a.startswith("-") and a != "branch"),
                    Risk.MEDIUM,
                    "deletes a branch",
                )
            ]
        if sub == "stash" and len(args) > 1 and args[1] in ("drop", "clear"):
            return [
                EffectHit("destructive", f"git stash {args[1]}", Risk.MEDIUM, "drops stashed work")
            ]
        if (
            sub in ("filter-branch", "filter-repo")
            or (sub == "commit" and "--amend" in args)
            or (sub == "rebase")
        ):
            return [EffectHit("destructive", f"git {sub}", Risk.MEDIUM, "rewrites history")]
    if prog == "find" and "-delete" in argv:
        return [
            EffectHit("destructive", " ".join(operands(argv)[:1]) or ".", Risk.HIGH, "find -delete")
        ]
    if prog in ("mkfs", "wipefs", "fdisk", "parted") or prog.startswith("mkfs."):
        return [EffectHit("destructive", " ".join(argv[1:3]), Risk.CRITICAL, "disk formatting")]
    if prog == "dd" and any(a.startswith("of=/dev/") for a in argv):
        return [
            EffectHit(
                "destructive",
                next(a for a in argv if a.startswith("of=")),
                Risk.CRITICAL,
                "raw device write",
            )
        ]
    if prog in ("chmod", "chown") and ("-R" in argv or "--recursive" in argv):
        return [
            EffectHit(
                "destructive", " ".join(argv[1:4]), Risk.MEDIUM, "recursive permission change"
            )
        ]
    if prog in ("kill", "pkill", "killall") and any(a in ("-9", "-KILL", "-SIGKILL") for a in argv):
        return [EffectHit("destructive", " ".join(argv[1:4]), Risk.MEDIUM, "kills processes")]
    return []
