"""The review's picture: cumulative cost and context size per step, findings marked."""

from __future__ import annotations

from typing import Any

from agentir.render.svg_chart import ChartMark, ChartPoint, render_svg
from agentir.render.text_chart import mark_key, render_text
from agentir.review.collect import SessionEvidence
from agentir.review.fmt import Display, text
from agentir.review.timeline import cite_name, short_id

_SEVERITY_OF_RISK = {"critical": "critical", "high": "high", "medium": "warning", "low": "info"}


def chart(ev: SessionEvidence, display: Display) -> dict[str, Any]:
    """SVG (for HTML), a text chart (for Markdown) and the numbered marks they share."""
    a = ev.assessment
    points = [ChartPoint(p.seq, p.cost_usd, p.context_tokens) for p in a.curve]
    raw: list[tuple[int, str, str, str | None]] = []  # (seq, label, severity, cite)
    for f in a.findings:
        if f.seqs and f.severity != "info":
            seq = min(f.seqs)
            raw.append((seq, f"{f.detector}: {f.message}", f.severity, ev.cite(seq)))
    decision = ev.decision
    if decision is not None and all(seq != decision.seq for seq, *_ in raw):
        severity = "critical" if "(critical risk)" in decision.what else "high"
        raw.append(
            (decision.seq, f"first harmful step: {decision.what}", severity, decision.source)
        )
    raw.sort(key=lambda m: (m[0], m[1]))
    marks = [
        ChartMark(seq, number, text(label, 160), severity)
        for number, (seq, label, severity, _) in enumerate(raw, start=1)
    ]
    title = f"session {short_id(a.session.id)}: cumulative cost and context size per step"
    return {
        "session": short_id(a.session.id),
        "points": len(points),
        "svg": render_svg(points, marks, title=title),
        "text": render_text(points, marks),
        "marks": [
            {
                "key": mark_key(m.number),
                "number": m.number,
                "seq": m.seq,
                "label": m.label,
                "severity": _SEVERITY_OF_RISK.get(m.severity, m.severity),
                "cite": cite_name(cite, display),
            }
            for m, (_, _, _, cite) in zip(marks, raw, strict=True)
        ],
    }
