"""Render reports (reviews, drill reports) from Jinja2 templates: the only module importing jinja2.

Templates may come from a team's own folder, so they run in a sandboxed environment with
StrictUndefined (a misspelt key is an error, not an empty string). Trace content only ever
enters as values in the context, never as template source; HTML templates are autoescaped and
the Markdown filters below keep untrusted text inert (code spans, fenced blocks, escaping).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentir.errors import ConfigError

FORMATS = ("md", "html")
_HTML_SUFFIXES = (".html", ".htm", ".xml", ".svg")
_BACKTICKS = re.compile(r"`+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^(\d+)([.)])|^([#+\-=])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def template_name(name: str, fmt: str) -> str:
    """`review` + `md` -> `review.md.j2`; a name that already ends in `.j2` is kept."""
    return name if name.endswith(".j2") else f"{name}.{fmt}.j2"


def render_template(
    name: str,
    context: Mapping[str, Any],
    *,
    fmt: str,
    template_path: Path | None = None,
    search: Sequence[Path] = (),
) -> str:
    """Render `name` (or the file `template_path`) with `context`: sandboxed, strict, escaped."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from agentir.resources import shipped_dir

    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    folders = [Path(p) for p in search]
    chosen = template_name(name, fmt)
    if template_path is not None:
        if not template_path.is_file():
            raise ConfigError(f"no template at {template_path}", hint="check --template")
        folders.insert(0, template_path.resolve().parent)
        chosen = template_path.name
    folders.append(shipped_dir("templates"))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        autoescape=lambda template: fmt == "html" or _is_html(template),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        code=md_code,
        cell=md_cell,
        fence=md_fence,
        mdtext=md_text,
        oneline=one_line,
    )
    try:
        template = env.get_template(chosen)
        return template.render(**dict(context))
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(
            f"template {exc.name!r} not found in {', '.join(str(f) for f in folders)}",
            hint="pass --template FILE or restore the shipped templates",
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or chosen}:{exc.lineno}"
        raise ConfigError(f"{where}: template syntax error: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise ConfigError(
            f"template {chosen}: {exc.message}",
            hint="the template uses a key the report context does not have (see README)",
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        raise ConfigError(f"template {chosen} tried something unsafe: {exc}") from exc


def _is_html(template: str | None) -> bool:
    name = (template or "").removesuffix(".j2").lower()
    return name.endswith(_HTML_SUFFIXES)


def one_line(value: Any, limit: int = 0) -> str:
    """Text on one line (newlines and tabs as spaces, control characters dropped), cut at limit."""
    text = _CONTROL.sub("", " ".join(str("" if value is None else value).split()))
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def md_code(value: Any, limit: int = 0) -> str:
    """Untrusted text as one Markdown code span: shown literally, never rendered as HTML."""
    text = one_line(value, limit)
    if not text:
        return "` `"
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_cell(value: Any, limit: int = 0) -> str:
    """A code span safe inside a GFM table cell (pipes escaped, GFM's rule even in spans)."""
    return md_code(value, limit).replace("|", "\\|")


def md_fence(value: Any, lang: str = "") -> str:
    """Untrusted multi-line text as a fenced block, the fence longer than any run inside."""
    text = _CONTROL.sub("", str("" if value is None else value).replace("\r\n", "\n"))
    text = text.replace("\t", "    ").rstrip("\n")
    runs = [len(m) for m in re.findall(r"`{3,}|~{3,}", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def md_text(value: Any, limit: int = 0) -> str:
    """Prose from people or traces, escaped so Markdown shows it as typed and renders no HTML."""
    text = one_line(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # a list marker or heading at the start of a line would restructure the document
    return _MD_LEADING.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)
