"""A trace seeded with template syntax, HTML and fake credentials gives a review where none of
them is active or visible: nothing evaluated, no markup rendered, every secret redacted."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from tests.review.scenario import FAKE_AWS_KEY_ID, FAKE_GITHUB_TOKEN, PAYLOADS, Case


class Tags(HTMLParser):
    """Collects start tags and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def no_clock(text: str) -> str:
    """The text without clock times (10:01:49 is not an evaluated 7*7)."""
    return re.sub(r"\d{2}:\d{2}:\d{2}", "hh:mm:ss", text)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def test_the_fixture_really_carries_the_payloads(checkout: Case) -> None:
    trace = checkout.store.get(checkout.incident_id).traces[0]
    raw = Path(trace).read_text(encoding="utf-8")
    for payload in (*PAYLOADS, FAKE_GITHUB_TOKEN, FAKE_AWS_KEY_ID):
        assert payload in raw


def test_markdown_shows_template_syntax_literally_and_evaluates_nothing(checkout: Case) -> None:
    md = checkout.render("md")
    assert "{{ 7*7 }}" in md and "{% for item in cart %}" in md and "{% for row in rows %}" in md
    # "49" would only come from evaluating {{ 7*7 }}; nothing else in this incident has it
    assert "49" not in no_clock(md)


def test_markdown_viewers_render_no_html_from_the_trace(checkout: Case) -> None:
    md = checkout.render("md")
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    tags = parse(rendered)
    assert "script" not in tags.tags and "b" not in tags.tags
    text = "".join(tags.text)
    assert "<script>alert(1)</script>" in text  # shown as text, not run
    assert "{{ 7*7 }}" in text and "49" not in no_clock(text)


def test_html_is_escaped_and_has_no_script_at_all(checkout: Case) -> None:
    html = checkout.render("html")
    tags = parse(html)
    assert "script" not in tags.tags
    assert tags.tags.count("svg") == 1  # the chart is the only markup not written by hand
    text = "".join(tags.text)
    assert "<script>alert(1)</script>" in text and "{{ 7*7 }}" in text
    assert "49" not in no_clock(html)
    assert "default-src 'none'" in html  # the page itself forbids scripts and fetches


def test_no_secret_appears_anywhere(checkout: Case) -> None:
    context = json.dumps(checkout.context())
    for output in (checkout.render("md"), checkout.render("html"), context):
        assert FAKE_GITHUB_TOKEN not in output and FAKE_AWS_KEY_ID not in output
        assert FAKE_GITHUB_TOKEN[4:20] not in output  # not even a part of it
        assert "[REDACTED:github-token:" in output
        assert "[REDACTED:aws-access-key-id:" in output


def test_a_secret_typed_by_a_responder_is_redacted_too(checkout: Case) -> None:
    checkout.store.append(checkout.incident_id, "note", {"text": f"old token {FAKE_GITHUB_TOKEN}"})
    md = checkout.render("md")
    assert FAKE_GITHUB_TOKEN not in md and "old token [REDACTED:github-token:" in md
