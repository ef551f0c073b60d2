"""The facilitator's terminal view of a drill, and the person answering at the prompts."""

from __future__ import annotations

import re
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from agentir.drill_report import fmt_minutes
from agentir.drills import ActionItem, Answer, parse_answer
from agentir.render.terminal import safe

STEP_PROMPT = "  [d]one, [s]kip REASON, [g]ap NOTE, [q]uit"
ACTION_PROMPT = "  did the team do it? [d]one, [s]kip REASON, [g]ap NOTE"
_OWNER = re.compile(r"\s@(\S+)\s*$")
_STATE_STYLE = {"met": "green", "missed": "bold red", "none": "dim", "n/a": "dim"}
_RESULT_STYLE = {"done": "green", "skipped": "yellow", "gap": "bold red", "not reached": "dim"}


class TerminalView:
    """Prints each drill event as the facilitator needs to see it."""

    def __init__(self, console: Console) -> None:
        self.out = console

    def event(self, kind: str, **data: Any) -> None:
        """Show one event."""
        handler = getattr(self, f"_{kind}", None)
        if handler is not None:
            handler(**data)

    def _briefing(
        self, scenario: Any, runbook: Any, workspace: Any, incident: str, stand_in: Any
    ) -> None:
        title = f"Drill: {scenario.title} ({scenario.severity})"
        body = Text(scenario.briefing)
        self.out.print(Panel(body, title=safe(title, 100), title_align="left"))
        self.out.print(Text(f"runbook: {runbook.path}", style="dim"))
        table = Table(title="Contacts in the runbook", title_justify="left", show_edge=False)
        for column in ("role", "name", "reach"):
            table.add_column(column)
        for contact in runbook.contacts:
            table.add_row(contact.role, safe(contact.name, 60), safe(contact.reach, 80))
        if not runbook.contacts:
            table.add_row("-", Text("no contacts at all", style="bold red"), "")
        self.out.print(table)
        self.out.print(Text("Practise on the scratch copies (never the real ones):", style="bold"))
        self.out.print(Text(f"  trace       {workspace.trace}"))
        self.out.print(Text(f"  repository  {workspace.repo}"))
        self.out.print(Text(f"  session     {workspace.session_id}  (drill incident {incident})"))
        if stand_in:
            pids = ", ".join(map(str, stand_in))
            self.out.print(Text(f"The agent is RUNNING right now: pids {pids}.", style="bold red"))
            self.out.print(
                Text(f"  agentir contain {workspace.session_id} --trace {workspace.trace}")
            )
        self.out.print(Text("The drill clock starts now; deadlines count from now.", style="bold"))

    def _phase(self, phase: str, steps: Any, deadline: Any) -> None:
        due = f" (last deadline {fmt_minutes(deadline.total_seconds() / 60)})" if deadline else ""
        self.out.print(Rule(Text(f"{phase}{due}"), align="left"))
        if not steps:
            self.out.print(Text("  the runbook has no step in this phase", style="yellow"))

    def _step(
        self, step: Any, contact: str | None, minute: float, deadline: float | None, expected: bool
    ) -> None:
        line = Text(f"{fmt_minutes(minute):>8}  ", style="cyan")
        line.append(safe(step.id, 60).plain, style="bold")
        line.append("  ")
        line.append(safe(step.title, 100))
        if expected:
            line.append("  (expected)", style="magenta")
        self.out.print(line)
        what = step.builtin if step.kind == "builtin" else step.kind
        owner = Text(f"          {what} · owner ")
        if step.owner is None:
            owner.append("NONE", style="bold red")
        else:
            owner.append(step.owner)
            owner.append(": ")
            owner.append(
                safe(contact, 120)
                if contact
                else Text("no contact in the runbook", style="bold red")
            )
        owner.append(f" · deadline {fmt_minutes(deadline) if deadline is not None else 'none'}")
        self.out.print(owner)
        if step.instructions:
            self.out.print(Text("          ") + safe(step.instructions, 300, style="dim"))

    def _practice(self, step: Any, practice: Any) -> None:
        style = {"done": "green", "failed": "bold red"}.get(practice.status, "dim")
        self.out.print(Text(f"          practised: {practice.status}", style=style))
        for line in practice.lines[:8]:
            self.out.print(Text("            ") + safe(line, 200))

    def _result(self, record: Any) -> None:
        line = Text("          -> ")
        line.append(record.result, style=_RESULT_STYLE.get(record.result, ""))
        line.append(f" at {fmt_minutes(record.at)}")
        if record.deadline is not None and record.result == "done":
            line.append(" · deadline ")
            line.append(record.deadline_state, style=_STATE_STYLE.get(record.deadline_state, ""))
        if record.note:
            line.append(" · ")
            line.append(safe(record.note, 160))
        self.out.print(line)

    def _action(self, action: Any) -> None:
        line = Text(f"  expected, not in the runbook: {action.id}")
        line.append(
            f" -> {'done' if action.taken else 'not done'}",
            style="green" if action.taken else "red",
        )
        self.out.print(line)

    def _inject(self, inject: Any, minute: float, live: bool = False) -> None:
        text = Text(inject.text)
        title = f"INJECT at {fmt_minutes(inject.at_minute)}"
        self.out.print(Panel(text, title=title, title_align="left", style="yellow"))
        if live:  # it arrived while a prompt waits: say the prompt still stands
            self.out.print(Text("  (the question above is still waiting for an answer)"))

    def _notice(self, text: str) -> None:
        self.out.print(Text(f"  note: {text}", style="bold yellow"))

    def _hot_wash(self, questions: Any) -> None:
        self.out.print(Rule(Text("hot wash"), align="left"))


def _prompt(text: str) -> str:
    """One line from the person; Ctrl-C / Ctrl-D end the drill as an interruption."""
    try:
        return str(typer.prompt(text, err=True, default="", show_default=False))
    except typer.Abort:  # click turns Ctrl-C at a prompt into Abort
        raise KeyboardInterrupt from None


class TerminalFacilitator:
    """A person at a terminal answering the drill's prompts (on stderr)."""

    mode = "interactive"

    def __init__(self, console: Console, name: str) -> None:
        self.err = console
        self.name = name

    def _ask(self, prompt: str) -> Answer | None:
        while True:
            text = _prompt(prompt)
            if text.strip().lower() in ("q", "quit"):
                return None
            answer = parse_answer(text)
            if answer is not None:
                return answer
            self.err.print(
                Text("  answer d, s REASON or g NOTE (a skip needs a reason, a gap a note)")
            )

    def answer_step(self, step: Any, minute: float) -> tuple[Answer | None, float | None]:
        """Ask until the answer is usable; the clock measures the time it took."""
        return self._ask(STEP_PROMPT), None

    def answer_action(self, action: Any) -> Answer:
        """Ask about an expected action the runbook has no step for."""
        what = f"{action.id}: {action.text}" if action.text else action.id
        self.err.print(Text(f"  expected action, not in the runbook: {what}"))
        return self._ask(ACTION_PROMPT) or Answer("gap", "the drill ended early")

    def hot_wash(self, index: int, question: str) -> str:
        """The facilitator's notes for one question (blank: none)."""
        self.err.print(Text(f"{index + 1}. {question}"))
        return _prompt("  notes")

    def action_items(self) -> list[ActionItem]:
        """Action items, one per line (`... @owner` names the owner), blank to finish."""
        items: list[ActionItem] = []
        while True:
            text = _prompt("  action item (blank to finish; end with @owner)").strip()
            if not text:
                return items
            match = _OWNER.search(" " + text)
            owner = match.group(1) if match else ""
            what = _OWNER.sub("", " " + text).strip() if match else text
            items.append(ActionItem(what, owner))
