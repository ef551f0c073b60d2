"""render_template: sandboxed, strict, autoescaped HTML, inert Markdown filters, template lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from agentir.errors import ConfigError
from agentir.render.report import md_cell, md_code, md_fence, md_text, render_template


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def html_of(markdown: str) -> str:
    """What a CommonMark viewer (raw HTML allowed, as on most sites) makes of the Markdown."""
    return MarkdownIt("commonmark").render(markdown)


def test_values_are_data_never_template_code(tmp_path: Path) -> None:
    write(tmp_path, "t.md.j2", "value: {{ value|code }}\n")
    out = render_template("t", {"value": "{{ 7*7 }} {% for x in y %}"}, fmt="md", search=[tmp_path])
    assert out == "value: `{{ 7*7 }} {% for x in y %}`\n"


def test_html_templates_are_autoescaped(tmp_path: Path) -> None:
    write(tmp_path, "t.html.j2", "<p>{{ value }}</p>")
    out = render_template(
        "t", {"value": "<script>alert(1)</script>"}, fmt="html", search=[tmp_path]
    )
    assert out == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_missing_keys_are_errors_not_blanks(tmp_path: Path) -> None:
    write(tmp_path, "t.md.j2", "{{ incident.titel }}")
    with pytest.raises(ConfigError, match="titel"):
        render_template("t", {"incident": {"title": "x"}}, fmt="md", search=[tmp_path])


def test_the_sandbox_refuses_to_reach_python_internals(tmp_path: Path) -> None:
    write(tmp_path, "t.md.j2", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ConfigError, match=r"unsafe|__class__|undefined"):
        render_template("t", {}, fmt="md", search=[tmp_path])


def test_the_context_cannot_be_changed_by_a_template(tmp_path: Path) -> None:
    write(tmp_path, "t.md.j2", "{{ items.append(4) }}")
    items = [1, 2, 3]
    with pytest.raises(ConfigError):
        render_template("t", {"items": items}, fmt="md", search=[tmp_path])
    assert items == [1, 2, 3]


def test_template_syntax_errors_name_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "t.md.j2", "ok\n{% for x in %}\n")
    with pytest.raises(ConfigError, match=r"t\.md\.j2:2"):
        render_template("t", {}, fmt="md", search=[tmp_path])


def test_lookup_order_explicit_file_then_search_then_shipped(tmp_path: Path) -> None:
    local = tmp_path / "local"
    write(local, "review.md.j2", "local {{ incident.id }}")
    explicit = write(tmp_path / "mine", "custom.md.j2", "explicit {{ incident.id }}")
    ctx = {"incident": {"id": "INC-1"}}
    assert render_template("review", ctx, fmt="md", search=[local]) == "local INC-1"
    assert (
        render_template("review", ctx, fmt="md", template_path=explicit, search=[local])
        == "explicit INC-1"
    )
    with pytest.raises(ConfigError, match="not found"):
        render_template("nothing-like-this", ctx, fmt="md", search=[local])
    with pytest.raises(ConfigError, match="no template"):
        render_template("review", ctx, fmt="md", template_path=tmp_path / "absent.j2")
    with pytest.raises(ConfigError, match="unknown report format"):
        render_template("review", ctx, fmt="pdf")


def test_code_spans_survive_backticks_and_render_literally() -> None:
    nasty = "a `b` ``c`` <img src=x onerror=alert(1)>"
    span = md_code(nasty)
    assert span.startswith("``` ") and span.endswith(" ```")
    rendered = html_of(span)
    assert "<img" not in rendered and "&lt;img" in rendered
    assert md_code("") == "` `"
    assert md_code("x" * 50, limit=10) == "`xxxxxxxxx…`"


def test_cells_escape_pipes_so_tables_keep_their_columns() -> None:
    table = "| a | b |\n|---|---|\n| " + md_cell("x | y") + " | z |\n"
    rendered = MarkdownIt("commonmark").enable("table").render(table)
    assert rendered.count("<td>") == 2 and "x | y" in rendered


def test_fences_are_longer_than_any_fence_inside() -> None:
    text = "before\n```\n<script>alert(1)</script>\n````\nafter"
    block = md_fence(text, "sh")
    assert block.startswith("`````sh\n") and block.endswith("\n`````")
    rendered = html_of(block)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert rendered.count("<pre>") == 1


def test_prose_is_escaped_not_interpreted() -> None:
    text = md_text("# *bold* <b>x</b> [link](http://e.x) | 1. item {{ 7*7 }}")
    rendered = html_of(text)
    assert "<b>" not in rendered and "<em>" not in rendered and "<a " not in rendered
    assert "<h1>" not in rendered and "{{ 7*7 }}" in rendered
    assert html_of(md_text("1. not a list")).startswith("<p>1. not a list")
