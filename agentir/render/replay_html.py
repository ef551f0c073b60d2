"""The replay as one self-contained HTML page: inline CSS, no script, no network, all escaped.

Every piece of trace content goes through `redact` and `html.escape`; nothing is templated.
A Content-Security-Policy forbids scripts and remote loads, so even a browser that misread
the page would fetch nothing. Navigation is plain anchors (`#step-N`, `#finding-N`).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from agentir import __version__
from agentir.analysis.secrets import redact
from agentir.render.replay_text import (
    finding_text,
    gap_text,
    kind_text,
    result_text,
    subagent_text,
    time_text,
)
from agentir.replay import Replay, Step

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d1f23;background:#f6f7f9}
header,nav.findings,main{max-width:1100px;margin:0 auto;padding:0 16px}
header h1{font-size:20px;margin:16px 0 4px}
.meta{color:#555;margin:0 0 12px}
nav.findings{background:#fff4f4;border:1px solid #f0caca;border-radius:6px;padding:8px 16px}
nav.findings h2{font-size:15px;margin:4px 0}
.step{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:10px 0;padding:8px 12px}
.step:target{outline:3px solid #4a7bd0}
.step.has-finding{border-left:5px solid #c62828}
.head{font-weight:600;display:flex;gap:10px;flex-wrap:wrap;align-items:baseline}
.head .when{color:#666;font-weight:400}
.head .gap{color:#00796b;font-weight:400}
.head .moves{margin-left:auto;font-weight:400}
.sub{color:#8a6d00;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:#f3f4f6;padding:6px 8px;border-radius:4px;margin:6px 0;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace}
.kind-reasoning pre,.injected pre{color:#666;font-style:italic}
dl.args{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dl.args dt{font-weight:600}
dl.args dd{margin:0}
.result{font-weight:600;margin-top:6px}
.result.ok{color:#2e7d32}.result.error{color:#c62828}.result.unknown{color:#666}
.finding{color:#b71c1c;font-weight:600;margin:6px 0 0}
.session{margin:18px 0 0;font-size:15px}
.d1{margin-left:28px}.d2{margin-left:56px}.d3{margin-left:84px}.d4{margin-left:112px}
.d5,.d6{margin-left:140px}
footer{max-width:1100px;margin:20px auto;padding:0 16px;color:#777;font-size:12px}
"""


def _e(value: object) -> str:
    """Redacted and escaped text (quotes too, so it is safe in attributes as well)."""
    return html.escape(redact(str(value)), quote=True)


def _pre(text: str) -> str:
    return f"<pre>{_e(text)}</pre>"


def _step_html(step: Step, replay: Replay) -> str:
    total = len(replay.steps)
    n = step.index + 1
    classes = ["step", f"kind-{_e(step.kind)}"]
    if step.depth:
        classes.append(f"d{min(step.depth, 6)}")
    if step.findings:
        classes.append("has-finding")
    if step.injected:
        classes.append("injected")
    moves = []
    if step.index > 0:
        moves.append(f'<a href="#step-{n - 1}">← prev</a>')
    if n < total:
        moves.append(f'<a href="#step-{n + 1}">next →</a>')
    out = [
        f'<section class="{" ".join(classes)}" id="step-{n}">',
        '<div class="head">'
        f'<a href="#step-{n}">step {n}/{total}</a>'
        f"<span>seq {step.seq}</span>"
        f'<span class="when">{_e(time_text(step))}</span>'
        f'<span class="gap">{_e(gap_text(step.gap_seconds))}</span>'
        f"<span>{_e(kind_text(step))}</span>"
        f'<span class="moves">{" ".join(moves)}</span></div>',
    ]
    sub = subagent_text(step)
    if sub:
        link = ""
        if step.parent_step is not None:
            link = f' · <a href="#step-{step.parent_step + 1}">go to the call</a>'
        out.append(f'<div class="sub">↳ {_e(sub)}{link}</div>')
    if step.tool is not None:
        tool = step.tool
        if tool.command:
            out.append(_pre(tool.command))
        shown = [(k, v) for k, v in tool.args.items() if not (k == "command" and v == tool.command)]
        if shown:
            out.append('<dl class="args">')
            out.extend(f"<dt>{_e(k)}</dt><dd>{_pre(v)}</dd>" for k, v in shown)
            out.append("</dl>")
        for result in tool.results:
            state = {True: "ok", False: "error", None: "unknown"}[result.ok]
            out.append(f'<div class="result {state}">{_e(result_text(result))}</div>')
            if result.output:
                out.append(_pre(result.output))
        if not tool.results:
            out.append('<div class="result unknown">no result recorded</div>')
    elif step.text:
        out.append(_pre(step.text))
    for number in step.findings:
        f = replay.findings[number - 1]
        anchor = f' id="finding-{number}"' if f.step == step.index else ""
        out.append(f'<p class="finding"{anchor}>⚑ {_e(finding_text(f))}</p>')
    out.append("</section>")
    return "\n".join(out)


def render_replay_html(replay: Replay, generated_at: datetime | None = None) -> str:
    """The whole replay as one HTML document (a string)."""
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S UTC")
    title = f"agentir replay · {replay.path}"
    if replay.detectors:
        det = f"{len(replay.findings)} finding(s)"
    else:
        det = "no detectors were available, so no findings are marked"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head><body>",
        f"<header><h1>Replay of <code>{_e(replay.path)}</code></h1>",
        f'<p class="meta">{_e(replay.format)} · {len(replay.sessions)} session(s) · '
        f"{len(replay.steps)} steps · {_e(det)} · generated {_e(when)} by agentir "
        f"{_e(__version__)}</p></header>",
    ]
    if replay.findings:
        parts.append('<nav class="findings"><h2>Findings</h2><ol>')
        parts.extend(
            f'<li><a href="#finding-{f.number}">{_e(finding_text(f))}</a> (step {f.step + 1})</li>'
            for f in replay.findings
        )
        parts.append("</ol></nav>")
    parts.append("<main>")
    session = None
    for step in replay.steps:
        if step.session_id != session and len(replay.sessions) > 1:
            parts.append(f'<h2 class="session">session {_e(step.session_id)}</h2>')
        session = step.session_id
        parts.append(_step_html(step, replay))
    parts.append("</main>")
    parts.append(
        "<footer>Trace content is shown as text: escaped, with secrets redacted as "
        "[REDACTED:kind:fingerprint]. This page loads nothing from the network.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
