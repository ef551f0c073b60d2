"""Golden files: the Markdown and HTML reviews of incidents built from real sample traces and
from the hand-written fixture. Regenerate with `pytest tests/review --update-golden`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import shared_trace
from tests.review.conftest import GOLDEN
from tests.review.scenario import Case, real_case

CLAUDE = "claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl"
CODEX = "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"


def check(name: str, text: str, update: bool) -> None:
    """Compare with (or rewrite) golden/<name>."""
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run `pytest tests/review --update-golden`")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (update it if intended)"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_fixture_review_matches_golden(checkout: Case, fmt: str, update_golden: bool) -> None:
    text = checkout.render(fmt)
    assert checkout.incident_id in text
    check(f"checkout.review.{fmt}", text, update_golden)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_claude_code_sample_review_matches_golden(
    monkeypatch: pytest.MonkeyPatch, agentir_home: Path, fmt: str, update_golden: bool
) -> None:
    trace = shared_trace(CLAUDE)
    case = real_case(monkeypatch, agentir_home, trace, "Agent rewrote CLAUDE.md unasked", "SEV1")
    text = case.render(fmt)
    assert "5c0375b4-57a5-4f26-b12d-d022ee4e51b7" in text
    check(f"claude-5c0375b4.review.{fmt}", text, update_golden)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_codex_sample_review_matches_golden(
    monkeypatch: pytest.MonkeyPatch, agentir_home: Path, fmt: str, update_golden: bool
) -> None:
    trace = shared_trace(CODEX)
    case = real_case(
        monkeypatch, agentir_home, trace, "Codex ran with full access and no approval", "SEV3"
    )
    text = case.render(fmt)
    assert "019a93b9-f380-7600-98ff-940e6b99603c" in text
    check(f"codex-019a93b9.review.{fmt}", text, update_golden)


def test_markdown_tables_keep_their_columns(checkout: Case) -> None:
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(checkout.render("md"))
    tables = re.findall(r"<table>.*?</table>", html, re.S)
    assert len(tables) >= 8
    for table in tables:
        head, body = table.split("</thead>")
        width = len(re.findall(r"<th[ >]", head))
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            assert len(re.findall(r"<td[ >]", row)) == width, row


def test_same_inputs_give_the_same_review(checkout: Case) -> None:
    assert checkout.render("md") == checkout.render("md")
    assert checkout.render("html") == checkout.render("html")
