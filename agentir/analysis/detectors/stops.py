"""How a session stopped: the harness's own error events turned into findings.

Iteration and turn limits, SWE-agent exit statuses (`exit_cost`, `exit_format`, …), Aider's
reflection limit, OpenHands' stuck detector, refusals, and aborted turns. Context-window
stops (`context_window`, `exit_context`) belong to the context detector; API errors and rate
limits are summarised once per category as information.
"""

from __future__ import annotations

from agentir.analysis.detectors.common import OUT_OF_ROOM, Detector, quote, seq_list
from agentir.analysis.fold import Derived, SessionFold
from agentir.model import ErrorEvent, Event
from agentir.policy import Policy

# category -> (severity, what it means for a responder)
_STOPS = {
    "max_iterations": ("warning", "hit its iteration / turn limit before finishing"),
    "loop_detected": ("high", "was stopped by its harness's own loop detector"),
    "reflection_limit": (
        "warning",
        "gave up after too many reflections (edits that did not apply)",
    ),
    "refusal": ("warning", "refused to continue"),
    "agent_error": ("warning", "stopped on an agent error"),
    "exit_status": ("warning", "ended abnormally"),
    "turn_aborted": ("info", "had a turn interrupted (by the user or the harness)"),
}
_EXIT_MEANING = {
    "exit_cost": "ran out of its cost budget",
    "exit_format": "kept producing badly formatted actions",
    "exit_error": "stopped on an error",
    "exit_forfeit": "forfeited",
    "early_exit": "exited early",
    "exit_api": "stopped on API errors",
}
_SUMMARISED = ("api_error", "rate_limit", "edit_format", "tool_error", "git_error")
_CONTEXT = ("context_window",)
MAX_CATEGORIES = 40


class StopDetector(Detector):
    """Abnormal ends and harness-reported trouble."""

    name = "stopped"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.by_category: dict[str, list[int]] = {}  # the first 30 seqs per category
        self.counts: dict[str, int] = {}
        self.first_source: dict[str, str] = {}
        self.latest: dict[str, str] = {}

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Collect error events by category."""
        if not isinstance(event, ErrorEvent):
            return
        category = event.category or "error"
        text = event.message or ""
        if category in _CONTEXT or any(k in f"{category} {text}".lower() for k in OUT_OF_ROOM):
            return  # the context detector reports running out of room
        if category not in self.by_category and len(self.by_category) >= MAX_CATEGORIES:
            category = "other"
        self.counts[category] = self.counts.get(category, 0) + 1
        seqs = self.by_category.setdefault(category, [])
        if len(seqs) < 30:
            seqs.append(event.seq)
        self.first_source.setdefault(category, str(event.source))
        self.latest[category] = text

    def final(self, fold: SessionFold) -> None:
        """One finding per category."""
        for category, seqs in self.by_category.items():
            text = self.latest.get(category, "")
            n = self.counts[category]
            times = f" ({n} times)" if n > 1 else ""
            if category in _STOPS:
                severity, meaning = _STOPS[category]
                if category == "exit_status":
                    status = text.strip().split()[0] if text.strip() else ""
                    meaning = _EXIT_MEANING.get(status, meaning)
                    if status.startswith("submitted"):  # submitted despite an error: not a stop
                        severity = "info"
                detail = f": {quote(text, 100)}" if text else ""
                message = f"the agent {meaning}{times}{detail} (seq {seq_list(seqs)})"
            elif category in _SUMMARISED:
                severity = "info"
                message = f"{n} {category.replace('_', ' ')} event(s) (seqs {seq_list(seqs)})"
                if text:
                    message += f"; last: {quote(text, 100)}"
            else:
                severity = "info"
                message = f"{n} {category} error(s) (seqs {seq_list(seqs)}): {quote(text, 100)}"
            self.emit(
                severity, message, seqs, self.first_source.get(category), category=category, count=n
            )
