"""Adversarial test suggestions: rules over Python ASTs and other languages' lines, from diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentir.analysis.testgen import (
    Suggestion,
    changed_functions,
    render_suggestions_md,
    suggest_tests,
    suggestions_to_action_items,
)
from agentir.analysis.testgen_diff import parse_diff

DATA = Path(__file__).resolve().parents[1] / "data" / "testgen"


def _diff(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _at(suggestions: list[Suggestion], line: int) -> dict[str, Suggestion]:
    return {s.category: s for s in suggestions if s.line == line}


def test_issue_check_boundary_and_off_by_one_name_their_lines() -> None:
    """The issue's check: `if n > 10:` and `items[1:]` give boundary and off-by-one cases."""
    found = suggest_tests(_diff("issue_boundary.diff"))
    boundary = [s for s in found if s.category == "boundary"]
    off = [s for s in found if s.category == "off-by-one"]
    assert [(s.file, s.line, s.code) for s in boundary] == [("app/batch.py", 10, "if n > 10:")]
    assert [(s.file, s.line, s.code) for s in off] == [("app/batch.py", 12, "rest = items[1:]")]
    b, o = boundary[0], off[0]
    assert b.function == o.function == "process"
    assert "n = 9, 10 and 11" in b.test_case and "11 only" in b.test_case
    assert "`n > 10`" in b.rationale
    assert "items = []" in o.test_case and "[a]" in o.test_case and "[a, b]" in o.test_case
    assert "first element" in o.rationale
    # the `raise` was context, not a change: no suggestion for line 11
    assert not [s for s in found if s.line == 11]


def test_full_new_file_gives_the_same_lines() -> None:
    """With the new file's full text, the AST is read from it and lines still match."""
    full = "\n".join(
        [
            "import os",
            "",
            "",
            "",
            "",
            "",
            "",
            "def process(items, n):",
            '    """Process a batch."""',
            "    total = 0",
            "    if n > 10:",
            '        raise ValueError("batch too large")',
            "    rest = items[1:]",
            "    for item in rest:",
            "        total += item.size",
            "    return total",
        ]
    )
    # in this version the function starts one line later than in the diff: shift the diff too
    diff = _diff("issue_boundary.diff").replace("@@ -8,9 +8,11 @@", "@@ -9,9 +9,11 @@")
    found = suggest_tests(diff, files={"app/batch.py": full})
    assert ("boundary", 11) in {(s.category, s.line) for s in found}
    assert ("off-by-one", 13) in {(s.category, s.line) for s in found}
    assert {s.function for s in found} == {"process"}


def test_python_rules_on_a_new_file() -> None:
    """Every Python rule fires on the construct it targets, at the right line and function."""
    found = suggest_tests(_diff("rules.diff"))
    assert {s.file for s in found} == {"shop/pricing.py"}
    assert set(_at(found, 7)) == {"none-input", "mutable-default"}  # rate=None, tags=[]
    assert _at(found, 7)["mutable-default"].function == "Cart.discount"
    ge = _at(found, 8)["boundary"]
    assert "99, 100 and 101" in ge.test_case and "100, 101 only" in ge.test_case
    lt = _at(found, 10)["boundary"]
    assert "-1, 0 and 1" in lt.test_case and "-1 only" in lt.test_case
    assert "pytest.raises(ValueError)" in _at(found, 11)["error-path"].test_case
    eq = _at(found, 12)["boundary"]
    assert "len(tags) = 2, 3 and 4" in eq.test_case and "empty collection" in eq.test_case
    assert "is 0" in _at(found, 18)["zero-division"].test_case
    assert "last 1 element" in _at(found, 22)["off-by-one"].rationale  # items[:-1]
    assert "empty" in _at(found, 23)["indexing"].test_case  # items[-1]
    rng = _at(found, 28)
    assert list(rng) == ["off-by-one"] and "range(len(items) - 1)" in rng["off-by-one"].rationale
    assert "off-by-one" in _at(found, 29)  # items[i + 1]
    assert "0" in _at(found, 34)["empty-input"].test_case  # if not options
    assert "none-input" in _at(found, 36)  # .get(
    assert "missing-key" in _at(found, 37)  # options["title"]
    assert "empty-input" in _at(found, 38)  # name or title
    assert "unpacking" in _at(found, 42)["malformed-input"].rationale  # a, b = text.split("x")
    assert "'abc'" in _at(found, 43)["malformed-input"].test_case  # int(width)
    assert "AttributeError" in _at(found, 47)["none-input"].rationale  # re.match(...).group
    assert "absent" in _at(found, 51)["early-exit"].test_case  # loop with early return
    assert "equal" in _at(found, 52)["boundary"].test_case  # v > limit
    assert _at(found, 60)["error-path"].function == "load"  # except OSError:
    assert "bare `except:`" in _at(found, 62)["swallowed-error"].rationale
    # the suggestions come sorted by file and line
    assert [s.line for s in found] == sorted(s.line for s in found)


def test_except_exception_pass_is_flagged_as_swallowing() -> None:
    """`except Exception: pass` added inside a method whose `def` is outside the hunk."""
    found = suggest_tests(_diff("quiet.diff"))
    assert [(s.line, s.category, s.function) for s in found] == [(24, "swallowed-error", "run")]


def test_typescript_by_line_patterns() -> None:
    """A non-Python file: comparisons, slice(1), length - 1, == null, throw, parseInt, catch."""
    found = suggest_tests(_diff("web.diff"))
    cats = {(s.line, s.category) for s in found}
    assert (4, "boundary") in cats  # page > 20
    assert "page = 19, 20 and 21" in _at(found, 4)["boundary"].test_case
    assert (5, "error-path") in cats  # throw
    assert (7, "off-by-one") in cats  # rows.slice(1)
    assert (8, "off-by-one") in cats  # body.length - 1
    assert (9, "none-input") in cats  # last == null
    assert (19, "malformed-input") in cats  # parseInt
    assert (20, "swallowed-error") in cats  # catch (e) {}
    assert {s.function for s in found if s.line < 12} == {"pageRows"}
    assert {s.function for s in found if s.line > 17} == {"parsePage"}
    assert not [s for s in found if s.line == 21]  # a URL in a comment is not a division
    assert {s.language for s in found} == {"js"}


def test_go_by_line_patterns() -> None:
    """Go: len() comparison, fmt.Errorf return, strconv parse, `err != nil` as an error path."""
    found = suggest_tests(_diff("go.diff"))
    assert [(s.line, s.category) for s in found] == [
        (14, "boundary"),
        (15, "error-path"),
        (17, "malformed-input"),
        (18, "error-path"),
    ]
    assert {s.function for s in found} == {"Share"}


def test_hunk_inside_nested_blocks_is_parsed_alone() -> None:
    """A hunk that starts deep in a method and dedents to `else:` still parses (AST rules)."""
    diff = (
        "--- a/svc/cfg.py\n+++ b/svc/cfg.py\n@@ -40,4 +40,6 @@ class Config:\n"
        "             if self.strict:\n"
        "                 value = 1\n"
        '+                name = self.options.get("name")\n'
        "+                size = total / count\n"
        "         else:\n"
        "             value = 2\n"
    )
    found = suggest_tests(diff)
    assert [(s.line, s.category) for s in found] == [(42, "none-input"), (43, "zero-division")]
    assert "gives None when the key is missing" in found[0].rationale  # the AST rule's words
    assert "count" in found[1].test_case


def test_syntax_error_falls_back_to_line_patterns() -> None:
    """Python that does not parse (a missing colon) still gets suggestions, from its lines."""
    found = suggest_tests(_diff("broken.diff"))
    assert [(s.line, s.category) for s in found] == [(5, "boundary"), (6, "off-by-one")]
    assert {s.function for s in found} == {"convert"}  # from git's hunk header
    assert "row.count = 2, 3 and 4" in found[0].test_case


def test_empty_and_irrelevant_diffs_give_nothing() -> None:
    """No diff, a diff of tests only, a docs-only diff and a deleted file: no suggestions."""
    assert suggest_tests("") == []
    assert suggest_tests(_diff("tests_only.diff")) == []
    docs = "--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # x\n+if n > 10 then items[1:]\n"
    assert suggest_tests(docs) == []
    deleted = (
        "diff --git a/app/old.py b/app/old.py\ndeleted file mode 100644\n"
        "--- a/app/old.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-if n > 10:\n-    pass\n"
    )
    assert suggest_tests(deleted) == []
    assert render_suggestions_md([]).startswith("## Adversarial test suggestions")


def test_diff_parser_line_numbers_and_headers() -> None:
    """New-side line numbers, removals, and git's function context header."""
    (fd,) = parse_diff(_diff("issue_boundary.diff"))
    assert fd.path == "app/batch.py" and not fd.new_file
    (hunk,) = fd.hunks
    assert hunk.header == "def process(items, n):"
    assert hunk.added == [10, 12, 13]
    assert hunk.removed_at == [10, 12]
    assert fd.known[8].strip() == '"""Process a batch."""'
    (new,) = parse_diff(_diff("rules.diff"))
    assert new.new_file and new.complete and max(new.known) == 63


def test_changed_functions() -> None:
    """The functions whose lines changed, by AST for Python and by pattern elsewhere."""
    py = {(f.name, f.lines) for f in changed_functions(_diff("issue_boundary.diff"))}
    assert py == {("process", (10, 12, 13))}
    names = {f.name for f in changed_functions(_diff("rules.diff"))}
    assert {"Cart.discount", "average", "pairs", "load"} <= names
    assert {f.name for f in changed_functions(_diff("web.diff"))} == {"pageRows", "parsePage"}


def test_action_items_are_typed_prevent_items() -> None:
    """One "prevent" item per changed function, naming its cases and lines; no owner yet."""
    items = suggestions_to_action_items(suggest_tests(_diff("issue_boundary.diff")))
    assert items == [
        {
            "type": "prevent",
            "text": "Add adversarial tests for process in app/batch.py: boundary at line 10 "
            "(`if n > 10:`); off-by-one at line 12 (`rest = items[1:]`)",
            "owner": None,
            "due": None,
        }
    ]
    many = suggestions_to_action_items(suggest_tests(_diff("rules.diff")))
    assert {i["type"] for i in many} == {"prevent"}
    assert len(many) == len({(s.file, s.function) for s in suggest_tests(_diff("rules.diff"))})


def test_markdown_section() -> None:
    """Grouped by function, each with line, code, why and test; HTML in rule text escaped."""
    md = render_suggestions_md(suggest_tests(_diff("web.diff")), level=3)
    assert md.startswith("### Adversarial test suggestions\n")
    assert "#### `pageRows` in `web/src/pager.ts`" in md
    assert "- **boundary**, line 4: `if (page > 20) {`" in md
    assert "  - test: test_pagerows_boundary: page = 19, 20 and 21" in md
    tricky = Suggestion("a.js", "f", 1, "boundary", "x <b> `a<b`", "t <i>", "s = `x`")
    md = render_suggestions_md([tricky])
    assert "x &lt;b&gt; `a<b`" in md and "t &lt;i&gt;" in md
    assert "``s = `x```" not in md and "`` s = `x` ``" in md


def test_secrets_in_changed_code_are_redacted() -> None:
    """A credential the agent hard-coded never reaches a suggestion, the review or an item."""
    key = "sk-" + "proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
    diff = (
        "--- a/app/client.py\n+++ b/app/client.py\n@@ -1,1 +1,3 @@ def call(n):\n"
        f'     pass\n+    if n > 3 and "{key}":\n+        return 1\n'
    )
    found = suggest_tests(diff)
    assert found, "the comparison should still be found"
    blob = repr(found) + render_suggestions_md(found) + repr(suggestions_to_action_items(found))
    assert key not in blob and "[REDACTED:" in blob


@pytest.mark.parametrize(
    ("line", "op_expect"),
    [
        ("if (n >= 10) {", "9, 10 and 11: `n >= 10` must hold for 10, 11 only"),
        ("if (n <= 10) {", "9, 10 and 11: `n <= 10` must hold for 9, 10 only"),
        ("if (10 < n) {", "9, 10 and 11: `n > 10` must hold for 11 only"),
        ("if (n === 3) {", "2, 3 and 4: `n == 3` must hold for 3 only"),
    ],
)
def test_comparison_operators_by_pattern(line: str, op_expect: str) -> None:
    """Every comparison operator gets the values around its constant and which hold."""
    diff = f"--- a/x.js\n+++ b/x.js\n@@ -1,0 +1,1 @@\n+{line}\n"
    (found,) = suggest_tests(diff)
    assert op_expect in found.test_case


def test_large_diffs_are_capped_most_telling_first() -> None:
    """Many suggestions: the review lists the boundaries first; the items count the rest."""
    body = "".join(
        f"+def f{i}(d, n):\n+    x = d.get('k{i}')\n+    return n > {i}\n" for i in range(30)
    )
    diff = f"--- /dev/null\n+++ b/app/many.py\n@@ -0,0 +1,{90} @@\n{body}"
    found = suggest_tests(diff)
    assert len(found) == 60 and {s.category for s in found} == {"boundary", "none-input"}
    md = render_suggestions_md(found, limit=30)
    assert "60 test(s) proposed" in md and "The 30 most telling are listed" in md
    assert md.count("- **boundary**") == 30 and "- **none-input**" not in md
    items = suggestions_to_action_items(found, limit=25)
    assert len(items) == 26 and items[-1]["text"].startswith(
        "Review the adversarial test suggestions for 5 more changed function(s) (10 case(s))"
    )
    assert all(i["type"] == "prevent" and i["owner"] is None for i in items)


def test_rename_and_binary_in_git_show() -> None:
    """A renamed file is judged under its new name; binary changes are skipped."""
    diff = (
        "diff --git a/old/calc.py b/new/calc.py\nsimilarity index 90%\n"
        "rename from old/calc.py\nrename to new/calc.py\n--- a/old/calc.py\n+++ b/new/calc.py\n"
        "@@ -1,2 +1,2 @@ def ratio(a, b):\n def ratio(a, b):\n-    return a\n+    return a / b\n"
        "diff --git a/logo.png b/logo.png\nindex 1..2 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
    )
    (found,) = suggest_tests(diff.replace("\n", "\r\n"))
    assert (found.file, found.line, found.category, found.function) == (
        "new/calc.py",
        2,
        "zero-division",
        "ratio",
    )
