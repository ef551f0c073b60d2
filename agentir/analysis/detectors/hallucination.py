"""Confident hallucination signals: the agent's closing words claim success that the trace
does not support.

Only a final message counts (the last assistant text before the user speaks again or the
session ends, with no tool call after it): "Fixed. Now let me run the tests" is not a claim.
A sentence with a negation ("not", "still", "fails", "but") is not a claim.

- the last test command failed and nothing changed since, yet the agent claims success, or it
  claims the tests pass when the last run it saw failed (edits since, never re-run): high;
- it claims success after a failed test run and later edits, or claims tests pass when no
  test ran or none ran after its last edit: warning;
- it claims success after editing code that no test run covered: info.
"""

from __future__ import annotations

import re

from agentir.analysis.detectors.common import Detector, quote
from agentir.analysis.fold import Derived, SessionFold
from agentir.analysis.shell import split_commands
from agentir.model import Event, Message, ToolCall
from agentir.policy import Policy

_TEST_CLAIM = re.compile(
    r"\b(?:all\s+(?:the\s+|of\s+the\s+)?(?:\d+\s+)?(?:unit\s+|integration\s+|e2e\s+)?tests?\s+"
    r"(?:are\s+|now\s+|still\s+)*(?:pass|passes|passing|passed|green|succeed)"
    r"|tests?\s+(?:are\s+|now\s+|all\s+)*(?:pass|passes|passing|passed|green)\b"
    r"|test\s+suite\s+(?:now\s+)?(?:pass|passes|passed)|\d+\s+passed\b)",
    re.IGNORECASE,
)
_CLAIM = re.compile(
    r"\b(?:fixed|resolved|done|completed|(?:is|now)\s+complete|works(?:\s+now)?|working(?:\s+now)?|"
    r"successfully|succeeded|implemented|is\s+now\s+working|should\s+now\s+work)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no\s+longer|unable|cannot|can't|couldn't|won't|didn't|doesn't|isn't|aren't|"
    r"fail|fails|failed|failing|still|unfortunately|however|but|error|errors)\b|n't\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_RUNNERS = frozenset(
    {
        "pytest", "py.test", "tox", "nox", "jest", "vitest", "mocha", "ava", "karma", "rspec",
        "phpunit", "ctest", "nosetests", "trial", "prove", "bats", "playwright", "cypress",
    }
)  # fmt: skip
_SUBCOMMAND_RUNNERS = {
    "go": {"test"},
    "cargo": {"test", "nextest"},
    "npm": {"test", "t", "run-script"},
    "yarn": {"test"},
    "pnpm": {"test"},
    "bun": {"test"},
    "deno": {"test"},
    "make": {"test", "tests", "check", "ci"},
    "gradle": {"test", "check"},
    "gradlew": {"test", "check"},
    "mvn": {"test", "verify"},
    "dotnet": {"test"},
    "mix": {"test"},
    "swift": {"test"},
    "bazel": {"test"},
    "rails": {"test"},
}
_WRAPPERS = {
    "uv": 2,
    "poetry": 2,
    "pipenv": 2,
    "pdm": 2,
    "hatch": 2,
    "rye": 2,
    "npx": 1,
    "bunx": 1,
    "pnpx": 1,
}
_CODE = re.compile(
    r"\.(py|pyi|js|jsx|ts|tsx|mjs|cjs|go|rs|java|kt|rb|php|c|cc|cpp|h|hpp|cs|swift|scala|ex|exs|vue|svelte)$"
)


def is_test_command(command: str) -> bool:
    """Does this command line run a test suite (pytest, npm test, go test, cargo test, …)?"""
    if not re.search(r"test|spec|check|jest|vitest|mocha|tox|nox|ci\b", command):
        return False
    try:
        cmds = split_commands(command[:4000])
    except Exception:
        return False
    for cmd in cmds:
        argv = list(cmd.argv)
        prog = cmd.program
        if prog in _WRAPPERS and len(argv) > _WRAPPERS[prog] - 1:
            if _WRAPPERS[prog] == 2 and (len(argv) < 2 or argv[1] not in ("run", "exec")):
                continue
            argv = argv[_WRAPPERS[prog] :]
            prog = argv[0].rsplit("/", 1)[-1] if argv else ""
        if prog.startswith("python") and len(argv) > 2 and argv[1] == "-m":
            prog, argv = argv[2], argv[2:]
        ops = [a for a in argv[1:] if not a.startswith("-")]
        if prog in _RUNNERS or prog == "unittest" or "test" in prog.lower():
            return True
        subs = _SUBCOMMAND_RUNNERS.get(prog)
        if (
            subs
            and ops
            and (ops[0] in subs or (ops[0] == "run" and len(ops) > 1 and "test" in ops[1]))
        ):
            return True
    return False


def claims(text: str) -> tuple[str | None, bool]:
    """The first sentence claiming success (or None) and whether it is about tests."""
    found: str | None = None
    for sentence in _SENTENCE.split(text[:6000]):
        if not sentence.strip() or _NEGATION.search(sentence):
            continue
        if _TEST_CLAIM.search(sentence):
            return sentence.strip(), True
        if found is None and _CLAIM.search(sentence):
            found = sentence.strip()
    return found, False


class HallucinationDetector(Detector):
    """Claims of success against the last test result."""

    name = "hallucination"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.last_test: tuple[int, bool | None, str] | None = None  # seq, ok, command
        self.last_pass: int | None = None
        self.last_edit: int | None = None
        self.last_code_edit: int | None = None
        self.pending: Message | None = None  # the latest assistant text, judged if final
        self.rules: dict[str, int | None] = {}
        self.counts: dict[str, int] = {}
        self.claim_seq: dict[str, int] = {}

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Follow tests and edits; judge each final message."""
        run = derived.command
        if run is not None and is_test_command(run.command):
            self.last_test = (run.seq, run.ok, run.command)
            if run.ok:
                self.last_pass = run.seq
        if derived.changes_done:
            seq = derived.call.seq if derived.call is not None else event.seq
            self.last_edit = seq
            if any(_CODE.search(c.dest or c.path) for c in derived.changes_done):
                self.last_code_edit = seq
        if event.sidechain is not None:
            return
        if isinstance(event, ToolCall):
            self.pending = None  # the agent kept working: what it said was not its last word
        elif isinstance(event, Message) and not event.reasoning and event.injected is None:
            if event.role == "user":
                self._judge()
            elif event.role == "assistant":
                self.pending = event

    def _judge(self) -> None:
        if self.pending is None:
            return
        msg = self.pending
        self.pending = None
        sentence, about_tests = claims(msg.text)  # only final messages are read
        if sentence is None:
            return
        said = f'the agent said "{quote(sentence, 90)}" (seq {msg.seq})'
        test = self.last_test
        stale = test is not None and self.last_edit is not None and self.last_edit > test[0]
        if test is not None and test[1] is False and (not stale or about_tests):
            rerun = f"; nothing re-ran them after the edit at seq {self.last_edit}" if stale else ""
            self._rule(
                "contradicted",
                "high",
                f"{said} but the last test run failed: `{quote(test[2], 70)}` (seq {test[0]})"
                + rerun,
                msg,
                [msg.seq, test[0]],
            )
        elif test is not None and test[1] is False:
            self._rule(
                "unverified_tests",
                "warning",
                f"{said} but the last test run failed (seq {test[0]}) and none ran after the "
                f"edit at seq {self.last_edit}",
                msg,
                [msg.seq, test[0]],
            )
        elif about_tests and (test is None or stale):
            why = (
                "no test command ran in this session"
                if test is None
                else f"no test ran after the last edit (seq {self.last_edit}; last test seq {test[0]})"
            )
            seqs = [msg.seq] + ([self.last_edit] if self.last_edit is not None else [])
            self._rule("unverified_tests", "warning", f"{said} but {why}", msg, seqs)
        elif self.last_code_edit is not None and (test is None or self.last_code_edit > test[0]):
            self._rule(
                "unverified",
                "info",
                f"{said}; no test run covers its last code edit (seq {self.last_code_edit})",
                msg,
                [msg.seq, self.last_code_edit],
            )

    def _rule(self, rule: str, severity: str, message: str, msg: Message, seqs: list[int]) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + 1
        self.claim_seq[rule] = msg.seq
        index = self.rules.get(rule)
        note = {"claims": self.counts[rule]}
        if index is None:
            self.rules[rule] = self.emit(severity, message, seqs, msg.source, rule=rule, **note)
        else:
            self.update(index, severity, message, seqs, **note)

    def final(self, fold: SessionFold) -> None:
        """The session's last words are judged too; a later passing test softens a contradiction."""
        self._judge()
        index = self.rules.get("contradicted")
        claimed = self.claim_seq.get("contradicted")
        if (
            index is not None
            and claimed is not None
            and self.last_pass
            and self.last_pass > claimed
        ):
            self.update(index, "warning", note=f"a later test run passed (seq {self.last_pass})")
