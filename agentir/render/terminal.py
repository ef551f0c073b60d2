"""Rich renderables for the terminal. Trace content is always a `Text`, never markup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentir.model import Assessment, Risk

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
_RISK_STYLE = {
    Risk.LOW: "dim",
    Risk.MEDIUM: "yellow",
    Risk.HIGH: "bold red",
    Risk.CRITICAL: "bold white on red",
}
_SEV_STYLE = {"SEV1": "bold white on red", "SEV2": "bold yellow", "SEV3": "cyan", None: "green"}
LIST_LIMIT = 25


def safe(text: object, limit: int | None = 200, style: str = "") -> Text:
    """Untrusted text as an inert `Text`: control characters replaced, one line, truncated."""
    value = _CONTROL.sub(" ", str(text).replace("\n", " ⏎ ").replace("\t", " "))
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    return Text(value, style=style)


def when(ts: datetime | None) -> str:
    """A UTC timestamp for people, or '-'."""
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "-"


def duration(seconds: float | None) -> str:
    """`1h 02m 03s` style, or '-'."""
    if seconds is None:
        return "-"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else f"{m}m {sec:02d}s"


def money(value: float | None) -> str:
    """USD with cents (more digits under a cent)."""
    if value is None:
        return "unknown"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _more(shown: int, total: int) -> Text | None:
    return Text(f"… and {total - shown} more", style="dim") if total > shown else None


def _kv(rows: Iterable[tuple[str, object]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value if isinstance(value, Text) else safe(value, 300))
    return table


def header(a: Assessment) -> Panel:
    """Who, where, when, with what permissions."""
    s = a.session
    auth = [
        ("permission mode", s.permission_mode),
        ("sandbox", s.sandbox),
        ("approval policy", s.approval_policy),
        (
            "network",
            None if s.network_access is None else ("enabled" if s.network_access else "disabled"),
        ),
    ]
    auth_text = ", ".join(f"{k}: {v}" for k, v in auth if v) or "not recorded in the trace"
    rows: list[tuple[str, object]] = [
        ("session", s.id),
        (
            "agent",
            f"{s.agent}" + (f" {s.agent_version}" if s.agent_version else "") + f" ({s.format})",
        ),
        ("model(s)", ", ".join(s.models) or "-"),
        ("cwd", s.cwd or "-"),
        ("branch", (s.git_branch or "-") + (f" @ {s.git_commit[:12]}" if s.git_commit else "")),
        ("time", f"{when(s.started_at)} → {when(s.ended_at)} ({duration(s.duration_seconds)})"),
        ("authorization", auth_text),
        ("trace", s.trace_path),
    ]
    if s.task:
        rows.append(("task", safe(s.task, 300)))
    sev = a.severity.suggested
    title = Text.assemble(
        ("agentir assess ", "bold"), (f" {sev or 'no incident'} ", _SEV_STYLE.get(sev, ""))
    )
    return Panel(_kv(rows), title=title, title_align="left")


def counts_line(a: Assessment) -> Text:
    """One line of totals."""
    c = a.counts
    return Text(
        f"{c.events} events · {c.tool_calls} tool calls · {c.tool_errors} failed · {c.commands} commands · "
        f"{c.files} files · {c.model_calls} model calls · {c.compactions} compactions · "
        f"{c.skipped_records} records skipped",
        style="dim",
    )


def files_table(a: Assessment, limit: int = LIST_LIMIT) -> RenderableType:
    """Files touched: path, operations, by what, where in the trace."""
    if not a.files:
        return Text("Files touched: none", style="dim")
    table = Table(title="Files touched", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("seq", "path", "ops", "via", "status"):
        table.add_column(col, overflow="fold", justify="right" if col == "seq" else "left")
    for f in a.files[:limit]:
        status = Text("done" if f.done else "attempted (failed)", style="" if f.done else "yellow")
        if not f.inside_cwd:
            status.append(" · outside cwd", style="bold red")
        table.add_row(
            str(f.first_seq),
            safe(f.path, 120),
            ", ".join(o.value for o in f.ops),
            safe(", ".join(f.via), 40),
            status,
        )
    return _with_more(table, min(limit, len(a.files)), a.counts.files)


def commands_table(a: Assessment, limit: int = LIST_LIMIT) -> RenderableType:
    """Shell commands with exit codes."""
    if not a.commands:
        return Text("Commands run: none", style="dim")
    table = Table(title="Commands run", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("seq", justify="right")
    table.add_column("exit", justify="right")
    table.add_column("command", overflow="fold")
    for c in a.commands[:limit]:
        if c.exit_code is not None:
            code = str(c.exit_code)
        else:
            code = {True: "ok", False: "err", None: "?"}[c.ok]
        table.add_row(
            str(c.seq), Text(code, style="red" if c.ok is False else ""), safe(c.command, 160)
        )
    return _with_more(table, min(limit, len(a.commands)), a.counts.commands)


def failures_table(a: Assessment, limit: int = 15) -> RenderableType:
    """Failed tool calls."""
    if not a.failures:
        return Text("Failed tool calls: none", style="dim")
    table = Table(title="Failed tool calls", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("seq", justify="right")
    table.add_column("tool")
    table.add_column("error", overflow="fold")
    for f in a.failures[:limit]:
        table.add_row(str(f.seq), safe(f.tool, 40), safe(f.message, 160))
    return _with_more(table, min(limit, len(a.failures)), a.counts.tool_errors)


def usage_block(a: Assessment) -> RenderableType:
    """Tokens and cost."""
    u = a.usage
    rows: list[tuple[str, object]] = [
        (
            "tokens",
            f"input {u.input_tokens:,} · output {u.output_tokens:,} · cache read {u.cache_read_tokens:,} · cache write {u.cache_write_tokens:,}",
        ),
        ("model calls", f"{u.model_calls:,} · peak context {u.peak_context_tokens:,} tokens"),
        ("cost", money(u.cost_usd) + (f"  ({u.cost_note})" if u.cost_note else "")),
    ]
    return Panel(_kv(rows), title="Usage", title_align="left")


def effects_table(a: Assessment, limit: int = LIST_LIMIT) -> RenderableType:
    """External effects, riskiest first."""
    if not a.effects:
        return Text("External effects: none found", style="dim")
    table = Table(
        title="External effects (git cannot undo these)",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for col in ("risk", "kind", "target", "seq", "detail"):
        table.add_column(col, overflow="fold", justify="right" if col == "seq" else "left")
    for e in a.effects[:limit]:
        detail = (
            e.detail
            + ("" if e.succeeded is not False else " (failed)")
            + (f" ×{e.count}" if e.count > 1 else "")
        )
        table.add_row(
            Text(e.risk.value, style=_RISK_STYLE[e.risk]),
            e.kind,
            safe(e.target, 80),
            str(e.seq),
            safe(detail, 80),
        )
    return _with_more(
        table, min(limit, len(a.effects)), len(a.effects) + a.omitted.get("effects", 0)
    )


def findings_table(a: Assessment, limit: int = LIST_LIMIT) -> RenderableType:
    """Detector findings."""
    if not a.findings:
        return Text("Findings: none", style="dim")
    table = Table(title="Findings", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("severity")
    table.add_column("detector")
    table.add_column("message", overflow="fold")
    table.add_column("seqs")
    for f in a.findings[:limit]:
        style = {"critical": "bold white on red", "high": "bold red", "warning": "yellow"}.get(
            f.severity, "dim"
        )
        seqs = ", ".join(map(str, f.seqs[:6])) + ("…" if len(f.seqs) > 6 else "")
        table.add_row(Text(f.severity, style=style), f.detector, safe(f.message, 200), seqs)
    return _with_more(table, min(limit, len(a.findings)), len(a.findings))


def severity_block(a: Assessment) -> RenderableType:
    """The suggested level and its reasons."""
    sev = a.severity.suggested
    lines = [
        Text.assemble(("Suggested severity: ", "bold"), (sev or "none", _SEV_STYLE.get(sev, "")))
    ]
    lines += [safe(f"  • {r}", 220) for r in a.severity.reasons[:10]]
    if sev:
        lines.append(
            Text("  The responder decides; if unsure, take the higher level.", style="dim")
        )
    return Group(*lines)


def timeline_table(a: Assessment, limit: int = 30) -> RenderableType:
    """A condensed timeline: the first and last steps."""
    items = a.timeline
    if not items:
        return Text("Timeline: no steps", style="dim")
    table = Table(
        title="Timeline (condensed)", title_justify="left", show_edge=False, pad_edge=False
    )
    table.add_column("seq", justify="right")
    table.add_column("time")
    table.add_column("kind")
    table.add_column("what", overflow="fold")
    head = items[: limit // 2] if len(items) > limit else items
    tail = items[-(limit - len(head)) :] if len(items) > limit else ()
    for item in head:
        table.add_row(
            str(item.seq),
            item.ts.strftime("%H:%M:%S") if item.ts else "-",
            item.kind + (" ↳" if item.sidechain else ""),
            safe(item.summary, 140),
        )
    if tail:
        table.add_row(
            "…",
            "",
            "",
            Text(
                f"{len(items) - len(head) - len(tail) + a.omitted.get('timeline', 0)} steps not shown",
                style="dim",
            ),
        )
        for item in tail:
            table.add_row(
                str(item.seq),
                item.ts.strftime("%H:%M:%S") if item.ts else "-",
                item.kind + (" ↳" if item.sidechain else ""),
                safe(item.summary, 140),
            )
    return table


def _with_more(table: Table, shown: int, total: int) -> RenderableType:
    more = _more(shown, total)
    return Group(table, more) if more else table


def assessment_view(a: Assessment, limit: int = LIST_LIMIT) -> Group:
    """The full terminal view of one assessed session (`limit` rows per list)."""
    gap = Text("")
    return Group(
        header(a),
        counts_line(a),
        gap,
        effects_table(a, limit),
        gap,
        findings_table(a, limit),
        gap,
        files_table(a, limit),
        gap,
        commands_table(a, limit),
        gap,
        failures_table(a, limit),
        gap,
        usage_block(a),
        timeline_table(a, 30 if limit <= LIST_LIMIT else 100_000),
        gap,
        severity_block(a),
    )


def sessions_summary(rows: Sequence[tuple[str, Assessment | None, str | None]]) -> Table:
    """One line per session (directory or multi-session trace): path, agent, counts, severity."""
    table = Table(title="Sessions", title_justify="left", show_edge=False, pad_edge=False)
    for col in (
        "severity",
        "session",
        "agent",
        "tools",
        "failed",
        "files",
        "effects",
        "cost",
        "trace",
    ):
        table.add_column(col, overflow="fold")
    for path, a, error in rows:
        if a is None:
            table.add_row(
                Text("error", style="red"),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                Text.assemble(safe(path, 80), " ", safe(error or "", 80, "red")),
            )
            continue
        sev = a.severity.suggested
        table.add_row(
            Text(sev or "-", style=_SEV_STYLE.get(sev, "")),
            safe(a.session.id, 40),
            a.session.agent,
            str(a.counts.tool_calls),
            str(a.counts.tool_errors),
            str(a.counts.files),
            str(len(a.effects)),
            money(a.usage.cost_usd),
            safe(path, 80),
        )
    return table
