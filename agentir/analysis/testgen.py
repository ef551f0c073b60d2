"""Adversarial test suggestions from the diff of an agent's commits, derived by rules, no model.

For every changed function, propose the tests that target what agents get wrong while sounding
sure of themselves: comparison boundaries, off-by-one slices and ranges, empty / None / missing
inputs, error paths nobody exercised, malformed text, zero divisors, early loop exits.
Python is read with `ast` (the full new file when given, else rebuilt from the diff's hunks);
other languages, and Python that does not parse, by line patterns. Only added lines are judged.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from agentir.analysis.secrets import redact
from agentir.analysis.testgen_ast import FuncSpan, analyze_tree, functions
from agentir.analysis.testgen_diff import FileDiff, Hunk, parse_diff
from agentir.analysis.testgen_text import LANGUAGES, Hit, find_function, line_hits

_TEST_FILE = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|testdata)/|(?:^|/)test_[^/]*\.py$|_test\.(?:py|go)$"
    r"|\.(?:test|spec)\.[jt]sx?$|(?:^|/)conftest\.py$|(?:^|/)src/test/|Tests?\.(?:java|kt|cs)$"
)
CATEGORY_ORDER = (
    "boundary",
    "off-by-one",
    "indexing",
    "empty-input",
    "none-input",
    "missing-key",
    "mutable-default",
    "error-path",
    "swallowed-error",
    "malformed-input",
    "zero-division",
    "early-exit",
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One proposed test: where (file, function, line), what kind, why, and the test itself."""

    file: str
    function: str
    line: int
    category: str
    rationale: str
    test_case: str
    code: str = ""  # the changed line (redacted)
    language: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON and the incident store)."""
        return {
            "file": self.file,
            "function": self.function,
            "line": self.line,
            "category": self.category,
            "rationale": self.rationale,
            "test_case": self.test_case,
            "code": self.code,
            "language": self.language,
        }


@dataclass(frozen=True, slots=True)
class ChangedFunction:
    """A function whose lines the diff changed."""

    file: str
    name: str
    lines: tuple[int, ...]


def language_of(path: str) -> str | None:
    """The rule set for a file, or None when it is not code we read."""
    return LANGUAGES.get(PurePosixPath(path).suffix.lower())


def is_test_file(path: str) -> bool:
    """Tests are not where tests are missing: their changes get no suggestions."""
    return bool(_TEST_FILE.search(path))


def _slug(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_").lower() or "module"


def _full_text(fd: FileDiff, files: Mapping[str, str] | None) -> str | None:
    if not files or fd.path is None:
        return None
    if fd.path in files:
        return files[fd.path]
    for name, text in files.items():
        if name.endswith("/" + fd.path) or fd.path.endswith("/" + name):
            return text
    return None


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _parse_hunk(hunk: Hunk) -> tuple[ast.AST, int] | None:
    """Parse a hunk's new-side lines alone, opening synthetic blocks for the indentation it
    starts inside (`if 1:` at each enclosing level). Returns (tree, line shift) or None."""
    lines = [text.expandtabs(8) for _, _, text in hunk.lines]
    body = [t for t in lines if t.strip()]
    if not body:
        return None
    first = _indent(body[0])
    levels = sorted({_indent(t) for t in body if _indent(t) < first} | {0})
    prefix = [" " * level + "if 1:" for level in levels if level < first]
    tail = []
    if body[-1].rstrip().endswith(":"):
        tail = [" " * (_indent(body[-1]) + 4) + "pass"]
    try:
        tree = ast.parse("\n".join([*prefix, *lines, *tail]))
    except (SyntaxError, ValueError):
        return None
    return tree, hunk.new_start - 1 - len(prefix)


@dataclass(frozen=True)
class _Parsed:
    """A parsed piece of a Python file: the tree, its line shift, and the lines it answers for."""

    tree: ast.AST | None  # None: did not parse, use line patterns on `lines`
    shift: int
    lines: frozenset[int]
    header: str = ""


def _python_pieces(fd: FileDiff, full: str | None, known: Mapping[int, str]) -> list[_Parsed]:
    """The whole file when it parses (given in full, or rebuilt from the hunks), else each
    hunk parsed alone, else the hunk's lines for the pattern rules."""
    added = frozenset(fd.added)
    source = full
    if source is None and known:
        # The diff may show the whole file (a new file) or enough of it to parse as is.
        source = "\n".join(known.get(n, "") for n in range(1, max(known) + 1))
    if source is not None:
        try:
            return [_Parsed(ast.parse(source), 0, added)]
        except (SyntaxError, ValueError):
            pass
    pieces = []
    for hunk in fd.hunks:
        lines = frozenset(hunk.added)
        parsed = _parse_hunk(hunk) if full is None else None
        if parsed is not None:
            pieces.append(_Parsed(parsed[0], parsed[1], lines, hunk.header))
        elif lines:
            pieces.append(_Parsed(None, 0, lines, hunk.header))
    return pieces


def _python(
    fd: FileDiff, full: str | None, known: Mapping[int, str]
) -> Iterator[tuple[int, Hit, str | None]]:
    """(line, hit, function) for a Python file: AST where it parses, patterns elsewhere."""
    for piece in _python_pieces(fd, full, known):
        if piece.tree is None:
            for n in sorted(piece.lines):
                for hit in line_hits(known.get(n, ""), "python"):
                    yield n, hit, find_function(known, n, "python", piece.header)
            continue
        spans = functions(piece.tree, piece.shift)
        shift, lines = piece.shift, piece.lines
        for line, hit in analyze_tree(piece.tree, _changed(shift, lines)):
            real = line + shift
            name = _innermost(spans, real) or find_function(known, real, "python", piece.header)
            yield real, hit, name


def _changed(shift: int, lines: frozenset[int]) -> Callable[[int], bool]:
    """Is a line of a shifted tree one of the changed lines?"""
    return lambda n: n + shift in lines


def _innermost(spans: Iterable[FuncSpan], line: int) -> str | None:
    inside = [s for s in spans if s.start <= line <= s.end]
    return max(inside, key=lambda s: s.start).name if inside else None


def _patterns(fd: FileDiff, lang: str, full: str | None) -> Iterator[tuple[int, Hit, str | None]]:
    known = dict(enumerate(full.splitlines(), 1)) if full is not None else fd.known
    for hunk in fd.hunks:
        for n in hunk.added:
            for hit in line_hits(known.get(n, ""), lang):
                yield n, hit, find_function(known, n, lang, hunk.header)


def suggest_tests(diff: str, files: Mapping[str, str] | None = None) -> list[Suggestion]:
    """Suggestions for every changed function in `diff` (files: path -> new contents)."""
    out: dict[tuple[str, int, str, str], Suggestion] = {}
    for fd in parse_diff(diff):
        path = fd.path
        lang = language_of(path or "")
        if path is None or lang is None or is_test_file(path):
            continue
        full = _full_text(fd, files)
        known = dict(enumerate(full.splitlines(), 1)) if full is not None else fd.known
        found = _python(fd, full, known) if lang == "python" else _patterns(fd, lang, full)
        for line, hit, func in found:
            name = func or "<module>"
            key = (path, line, hit.category, hit.subject)
            if key in out:
                continue
            test_name = f"test_{_slug(name)}_{hit.category.replace('-', '_')}"
            out[key] = Suggestion(
                file=path,
                function=name,
                line=line,
                category=hit.category,
                rationale=redact(hit.rationale),
                test_case=redact(f"{test_name}: {hit.test}"),
                code=redact(known.get(line, "").strip())[:200],
                language=lang,
            )
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return sorted(out.values(), key=lambda s: (s.file, s.line, rank.get(s.category, 99)))


def changed_functions(diff: str, files: Mapping[str, str] | None = None) -> list[ChangedFunction]:
    """The functions whose lines the diff added to (Python by AST, others by patterns)."""
    result: dict[tuple[str, str], set[int]] = {}
    for fd in parse_diff(diff):
        lang = language_of(fd.path or "")
        if fd.path is None or lang is None or is_test_file(fd.path):
            continue
        full = _full_text(fd, files)
        known = dict(enumerate(full.splitlines(), 1)) if full is not None else fd.known
        spans: list[FuncSpan] = []
        if lang == "python":
            for piece in _python_pieces(fd, full, known):
                if piece.tree is not None:
                    spans += functions(piece.tree, piece.shift)
        for hunk in fd.hunks:
            for n in hunk.added:
                if not known.get(n, "").strip():
                    continue
                name = _innermost(spans, n) or find_function(known, n, lang, hunk.header)
                if name:
                    result.setdefault((fd.path, name), set()).add(n)
    return [ChangedFunction(f, name, tuple(sorted(lines))) for (f, name), lines in result.items()]


def top_suggestions(suggestions: Iterable[Suggestion], limit: int) -> list[Suggestion]:
    """The `limit` most telling suggestions (boundaries and off-by-ones first), in file order."""
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    items = list(suggestions)
    chosen = sorted(items, key=lambda s: (rank.get(s.category, 99), s.file, s.line))[:limit]
    keep = set(map(id, chosen))
    return [s for s in items if id(s) in keep]


def suggestions_to_action_items(
    suggestions: Iterable[Suggestion], limit: int = 20
) -> list[dict[str, Any]]:
    """Typed action items for the incident: one "prevent" item per changed function (the
    `limit` functions with the most telling cases; one more item counts the rest)."""
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    grouped: dict[tuple[str, str], list[Suggestion]] = {}
    for s in suggestions:
        grouped.setdefault((s.file, s.function), []).append(s)
    order = sorted(grouped, key=lambda k: min(rank.get(s.category, 99) for s in grouped[k]))
    items = []
    for file, function in order[:limit]:
        group = grouped[(file, function)]
        cases = "; ".join(f"{s.category} at line {s.line} (`{s.code}`)" for s in group[:6])
        more = f"; and {len(group) - 6} more" if len(group) > 6 else ""
        items.append(_item(f"Add adversarial tests for {function} in {file}: {cases}{more}"))
    rest = order[limit:]
    if rest:
        count = sum(len(grouped[k]) for k in rest)
        items.append(
            _item(
                f"Review the adversarial test suggestions for {len(rest)} more changed "
                f"function(s) ({count} case(s)) listed in the review"
            )
        )
    return items


def _item(text: str) -> dict[str, Any]:
    return {"type": "prevent", "text": text, "owner": None, "due": None}


def _code_span(text: str) -> str:
    """Inline Markdown code that survives backticks in the code itself."""
    text = text.replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_text(text: str) -> str:
    """Rule text for Markdown: `code` spans stay as they are, no raw HTML gets through outside."""
    parts = re.split(r"(`[^`\n]+`)", text)
    return "".join(
        p if p.startswith("`") else p.replace("<", "&lt;").replace(">", "&gt;") for p in parts
    )


def render_suggestions_md(
    suggestions: Iterable[Suggestion], level: int = 2, limit: int = 60
) -> str:
    """The review's "Adversarial test suggestions" section, grouped by file and function
    (the `limit` most telling cases when there are more)."""
    everything = list(suggestions)
    items = top_suggestions(everything, limit)
    head = "#" * level
    out = [f"{head} Adversarial test suggestions", ""]
    if not items:
        out.append("No changed code matched a rule: review the agent's changes by hand.")
        return "\n".join(out) + "\n"
    out.append(
        f"{len(everything)} test(s) proposed from the agent's diff by rules (no model): the "
        "boundaries, empty and missing inputs and error paths agents tend to get wrong."
    )
    if len(everything) > len(items):
        out.append(
            f"The {len(items)} most telling are listed (boundaries and off-by-ones first); "
            "the full list is in the incident's data."
        )
    grouped: dict[tuple[str, str], list[Suggestion]] = {}
    for s in items:
        grouped.setdefault((s.file, s.function), []).append(s)
    for (file, function), group in grouped.items():
        out += ["", f"{head}# {_code_span(function)} in {_code_span(file)}", ""]
        for s in group:
            out.append(f"- **{s.category}**, line {s.line}: {_code_span(s.code or '?')}")
            out.append(f"  - why: {_md_text(s.rationale)}")
            out.append(f"  - test: {_md_text(s.test_case)}")
    return "\n".join(out) + "\n"
