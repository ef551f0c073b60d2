"""What `agentir review` does: build the review from the incident's evidence and render it,
record the review status, and keep the rendered file in the incident folder with a timeline
entry (its sha256, so later edits to the copy are visible)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from agentir.errors import IncidentError
from agentir.incidents.locking import atomic_write
from agentir.incidents.records import Incident
from agentir.incidents.store import IncidentStore
from agentir.review.context import REVIEW_STATUSES, ReviewInputs, build

LOCAL_TEMPLATES = Path(".agentir") / "templates"


def local_templates(start: Path | None = None) -> Path | None:
    """The nearest repository-local `.agentir/templates/` from `start` (default cwd) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / LOCAL_TEMPLATES
        if candidate.is_dir():
            return candidate
    return None


def review_context(
    store: IncidentStore,
    ref: str,
    *,
    policy: Path | None = None,
    start: Path | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The review's template context, from the incident's timeline and preserved traces
    judged against `policy` (else the one found from `start`); nothing is recorded."""
    from agentir.review import policy_info
    from agentir.review.load import gather

    incident = store.get(ref)
    info = policy_info.load(policy, start=start)
    sessions, notes = gather(store, incident, info)
    return build(
        ReviewInputs(
            incident=incident,
            entries=store.timeline(ref),
            sessions=sessions,
            policy=info,
            now=store.now(),
            traces=notes,
            status=status,
        )
    )


def render_review_text(context: dict[str, Any], fmt: str, *, template: Path | None = None) -> str:
    """The review in `fmt` (md, html): `template`, else a repository's `.agentir/templates/`
    (found from the current directory), else the shipped template."""
    from agentir.render.report import render_template

    local = local_templates()
    return render_template(
        "review", context, fmt=fmt, template_path=template, search=[local] if local else []
    )


def set_review_status(
    store: IncidentStore, ref: str, status: str, *, actor: str | None = None
) -> Incident:
    """Record the review status (draft, in-review, reviewed); `reviewed` also moves the
    incident to reviewed, which meets the learn deadline."""
    if status not in REVIEW_STATUSES:
        raise IncidentError(f"unknown review status {status!r}", hint=", ".join(REVIEW_STATUSES))
    current = store.get(ref)
    if not current.active:
        raise IncidentError(
            f"{current.id} is closed; its review is closed too", hint="open a new incident"
        )

    def change(incident: Incident) -> dict[str, Any]:
        review = incident.extra.get("review")
        review = dict(review) if isinstance(review, dict) else {}
        before = review.get("status", "draft")
        review["status"] = status
        incident.extra["review"] = review
        return {"from": before, "to": status}

    incident = store.update(ref, change, action="review.status", actor=actor)
    if status == "reviewed" and incident.status not in ("reviewed", "closed"):
        incident = store.set_status(ref, "reviewed", actor=actor, reason="review marked reviewed")
    return incident


def keep_rendered(
    store: IncidentStore,
    ref: str,
    rendered: str,
    fmt: str,
    *,
    output: Path,
    status: str,
    template: str,
    actor: str | None = None,
) -> Path:
    """Write the review to `output`, keep a copy as incidents/<ID>/review.<fmt>, record both."""
    data = rendered.encode("utf-8")
    output = output.expanduser()
    if output.parent and not output.parent.exists():
        output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(output, data)
    kept = store.path(ref) / f"review.{fmt}"
    atomic_write(kept, data)
    store.append(
        ref,
        "review.rendered",
        {
            "format": fmt,
            "to": str(output.resolve()),
            "kept": kept.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "status": status,
            "template": template,
        },
        actor,
    )
    return kept
