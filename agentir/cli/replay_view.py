"""The interactive replay: one step at a time on the terminal, driven by keys."""

from __future__ import annotations

import re
import sys

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from agentir.cli.replay_keys import HELP, KEYMAP, cbreak, move, read_key
from agentir.render.replay_text import (
    finding_text,
    gap_text,
    kind_text,
    result_text,
    subagent_text,
    time_text,
)
from agentir.replay import Replay, Step

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
_SEV_STYLE = {"critical": "bold white on red", "high": "bold red", "warning": "yellow"}


def _text(value: str, style: str = "") -> Text:
    """Untrusted multi-line text as an inert Text (control characters gone, newlines kept)."""
    return Text(_CONTROL.sub(" ", value.replace("\t", "    ")), style=style)


def step_view(step: Step, replay: Replay) -> RenderableType:
    """One step: header (seq, time, gap, kind), body, result, finding markers."""
    head = Text()
    head.append(f"step {step.index + 1}/{len(replay.steps)}", style="bold")
    head.append(f"  seq {step.seq}  {time_text(step)}  ", style="dim")
    head.append(gap_text(step.gap_seconds), style="cyan")
    head.append("  ")
    head.append_text(_text(kind_text(step), "bold magenta" if step.tool else "bold"))
    parts: list[RenderableType] = [head]
    if len(replay.sessions) > 1:
        parts.append(_text(f"session {step.session_id}", "dim"))
    sub = subagent_text(step)
    if sub:
        parts.append(_text("↳ " + sub, "yellow"))
    parts.append(Rule(style="dim"))
    if step.tool is not None:
        tool = step.tool
        if tool.command:
            parts.append(Text.assemble(("$ ", "bold"), _text(tool.command)))
        shown = {k: v for k, v in tool.args.items() if not (k == "command" and v == tool.command)}
        if shown:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column()
            for key, value in shown.items():
                grid.add_row(_text(key), _text(value))
            parts.append(grid)
        for result in tool.results:
            style = "red" if result.ok is False else "green" if result.ok else "dim"
            parts.append(Text(""))
            parts.append(_text(result_text(result), "bold " + style))
            if result.output:
                parts.append(Padding(_text(result.output), (0, 0, 0, 2)))
        if not tool.results:
            parts.append(Text("no result recorded", style="dim"))
    elif step.text:
        style = "italic dim" if step.kind == "reasoning" or step.injected else ""
        parts.append(_text(step.text, style))
    if step.findings:
        parts.append(Text(""))
    for number in step.findings:
        f = replay.findings[number - 1]
        parts.append(_text("⚑ " + finding_text(f), _SEV_STYLE.get(f.severity, "bold")))
    return Group(*parts)


def _status(index: int, replay: Replay, note: str | None) -> Text:
    line = Text(style="reverse")
    here = [f.number for f in replay.findings if f.step <= index]
    found = f"finding {here[-1]}/{len(replay.findings)}" if here else "findings"
    if not replay.detectors:
        found = "no detectors"
    line.append(f" {index + 1}/{len(replay.steps)} · {found} · → next ← prev f/F finding ")
    line.append("g/G first/last ? help q quit ")
    if note:
        line.append(f" [{note}]", style="bold")
    return line


def _help() -> RenderableType:
    grid = Table.grid(padding=(0, 3))
    grid.add_column(style="bold")
    grid.add_column()
    for keys, what in HELP:
        grid.add_row(keys, what)
    return Group(Text("replay keys", style="bold underline"), grid, Text("any key to go back"))


def _draw(console: Console, body: RenderableType, status: Text) -> None:
    """Clear the screen and draw `body` cut to the terminal height, with the status line."""
    height = max(5, console.size.height - 1)
    lines = console.render_lines(body, console.options, pad=False)
    if len(lines) > height - 1:
        hidden = len(lines) - (height - 2)
        lines = lines[: height - 2]
        lines.append([Segment(f"… {hidden} more lines (agentir replay --plain shows all)")])
    console.file.write("\x1b[H\x1b[2J")  # home, clear screen
    for line in lines:
        row = Text()
        for seg in line:
            if not seg.control:
                row.append(seg.text, style=seg.style)
        console.print(row, soft_wrap=True)
    console.print(status, end="", soft_wrap=True)
    console.file.flush()


def run_interactive(replay: Replay, start: int) -> None:
    """Show one step at a time until the responder quits; the terminal is always restored."""
    console = Console(highlight=False)
    fd = sys.stdin.fileno()
    finding_steps = [f.step for f in replay.findings]
    index = min(max(start, 0), max(len(replay.steps) - 1, 0))
    note: str | None = None
    showing_help = False
    with cbreak(fd):
        console.file.write("\x1b[?1049h\x1b[?25l")  # alternate screen, hide the cursor
        try:
            while True:
                if showing_help:
                    _draw(console, _help(), _status(index, replay, None))
                else:
                    _draw(
                        console,
                        step_view(replay.steps[index], replay),
                        _status(index, replay, note),
                    )
                key = read_key(fd)
                if key == "":
                    break
                action = KEYMAP.get(key)
                if showing_help:
                    showing_help = action == "help"
                    if action != "quit":
                        continue
                if action == "quit":
                    break
                if action == "help":
                    showing_help = True
                    continue
                if action is None:
                    note = "unknown key: ? for help"
                    continue
                index, note = move(action, index, len(replay.steps), finding_steps)
        finally:
            console.file.write("\x1b[?25h\x1b[?1049l")  # show the cursor, leave the screen
            console.file.flush()
