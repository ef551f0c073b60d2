"""Action items kept in the incident (`agentir incident action add|done|list`), and the check
that a review's follow-ups are more than prompt changes."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from agentir.errors import IncidentError, UsageError
from agentir.incidents.records import ACTION_ITEM_TYPES, ActionItem, Incident
from agentir.incidents.store import IncidentStore

_PROMPT = re.compile(
    r"\b(?:system[ -]?prompts?|prompts?|instructions?|claude\.md|agents\.md|gemini\.md|"
    r"cursor ?rules|\.cursorrules|copilot-instructions)\b",
    re.IGNORECASE,
)
# Words that name a change the agent cannot talk its way around.
_STRUCTURAL = re.compile(
    r"\b(?:permission\w*|deny|denied|sandbox\w*|hooks?|budget\w*|limits?|revok\w*|rotat\w*|"
    r"scope[ds]?|least[ -]privilege|polic(?:y|ies)|guard\w*|agentir\.yaml|settings\.json|"
    r"config\.toml|branch protection|protect\w*|credential\w*|allow ?list|block\w*|"
    r"enforc\w*|approval\w*|gate[ds]?|freeze|required (?:check|status|review)s?|iam|"
    r"firewall|egress|quota\w*|kill switch|read-only|write access)\b",
    re.IGNORECASE,
)
_ID = re.compile(r"^A(\d+)$")


def is_prompt_change(text: str) -> bool:
    """True when an action item only changes what the agent is told."""
    return bool(_PROMPT.search(text)) and not _STRUCTURAL.search(text)


def prompt_only(items: list[ActionItem]) -> bool:
    """True when there are action items and every one of them is a prompt change."""
    return bool(items) and all(is_prompt_change(i.text) for i in items)


def parse_due(value: str | None) -> str | None:
    """A due date as YYYY-MM-DD (UsageError when it is not a date)."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError as exc:
        raise UsageError(f"--due {value!r} is not a date", hint="use YYYY-MM-DD") from exc


def _next_id(incident: Incident) -> str:
    numbers = [int(m.group(1)) for i in incident.action_items if (m := _ID.match(i.id))]
    return f"A{max(numbers, default=0) + 1}"


def add_action(
    store: IncidentStore,
    ref: str,
    *,
    kind: str,
    text: str,
    owner: str | None = None,
    due: str | None = None,
    actor: str | None = None,
) -> ActionItem:
    """Add an action item (id A1, A2, ...) and record it on the timeline."""
    if kind not in ACTION_ITEM_TYPES:
        raise UsageError(f"unknown type {kind!r}", hint=f"one of {', '.join(ACTION_ITEM_TYPES)}")
    if not text.strip():
        raise UsageError("an action item needs a text", hint='agentir incident action add ID "…"')
    due_date = parse_due(due)
    made: list[ActionItem] = []

    def change(incident: Incident) -> dict[str, Any]:
        item = ActionItem(
            id=_next_id(incident),
            type=kind,
            text=" ".join(text.split()),
            owner=(owner or "").strip() or None,
            due=due_date,
        )
        incident.action_items.append(item)
        made.append(item)
        details = item.to_dict()
        details["prompt_change"] = is_prompt_change(item.text)
        return details

    store.update(ref, change, action="action.added", actor=actor)
    return made[0]


def complete_action(
    store: IncidentStore, ref: str, action_id: str, *, actor: str | None = None
) -> ActionItem:
    """Mark an action item done (now) and record it on the timeline."""
    wanted = action_id.strip().upper()
    done: list[ActionItem] = []

    def change(incident: Incident) -> dict[str, Any]:
        for item in incident.action_items:
            if item.id.upper() == wanted:
                if item.done_at is not None:
                    raise IncidentError(
                        f"action {item.id} of {incident.id} is already done",
                        hint="`agentir incident action list` shows every item",
                    )
                item.done_at = store.now()
                done.append(item)
                return {"id": item.id, "type": item.type, "text": item.text}
        known = ", ".join(i.id for i in incident.action_items) or "none"
        raise IncidentError(
            f"{incident.id} has no action item {action_id!r}", hint=f"its action items: {known}"
        )

    store.update(ref, change, action="action.done", actor=actor)
    return done[0]
