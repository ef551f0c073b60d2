"""Plain-text replay: one block per step for a pipe, and the labels every replay view shares."""

from __future__ import annotations

from collections.abc import Iterator

from agentir.replay import MarkedFinding, Replay, Step, StepResult

RULE = "──"


def gap_text(seconds: float | None) -> str:
    """`+0.4s`, `+12s`, `+3m 05s`, `+1h 02m`; `-` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"+{seconds:.1f}s"
    s = int(seconds)
    if s < 60:
        return f"+{s}s"
    if s < 3600:
        return f"+{s // 60}m {s % 60:02d}s"
    return f"+{s // 3600}h {s % 3600 // 60:02d}m"


def time_text(step: Step) -> str:
    """The step's UTC time, or `-` when the format has none."""
    return step.ts.strftime("%Y-%m-%d %H:%M:%S") if step.ts else "-"


def kind_text(step: Step) -> str:
    """What the step is: `tool_call Bash [id]`, `message user (meta)`, `error rate_limit`."""
    if step.tool is not None:
        return f"{step.kind} {step.tool.name} [{step.tool.call_id or 'no id'}]"
    label = step.kind
    if step.role:
        label += f" {step.role}"
    if step.injected:
        label += f" ({step.injected})"
    return label


def header_text(step: Step, total: int) -> str:
    """The one-line step header: step n/N, seq, time, gap, kind."""
    parts = [
        f"step {step.index + 1}/{total}",
        f"seq {step.seq}",
        time_text(step),
        gap_text(step.gap_seconds),
        kind_text(step),
    ]
    return " · ".join(parts)


def result_text(result: StepResult) -> str:
    """`ok`, `error`, `exit 2`, with where and how long after the call."""
    state = {True: "ok", False: "error", None: "outcome unknown"}[result.ok]
    if result.exit_code is not None:
        state += f" (exit {result.exit_code})"
    took = f", after {gap_text(result.duration_seconds)[1:]}" if result.duration_seconds else ""
    return f"result (seq {result.seq}{took}): {state}"


def finding_text(f: MarkedFinding) -> str:
    """`finding 2 · high · detector: message`."""
    return f"finding {f.number} · {f.severity} · {f.detector}: {f.message}"


def subagent_text(step: Step) -> str | None:
    """Where a subagent step comes from, or None for the main agent."""
    if step.depth == 0:
        return None
    where = f"started at step {step.parent_step + 1}" if step.parent_step is not None else ""
    label = f"subagent {step.sidechain or ''} (depth {step.depth}"
    return label + (f", {where})" if where else ")")


def _indent(text: str, prefix: str) -> Iterator[str]:
    for line in text.splitlines() or [""]:
        yield prefix + line


def step_lines(step: Step, replay: Replay, *, origin: bool = True) -> Iterator[str]:
    """The lines of one step block (no trailing blank line); `origin` names its subagent."""
    nest = "│  " * step.depth
    yield f"{nest}{RULE} {header_text(step, len(replay.steps))}"
    body = nest + "   "
    sub = subagent_text(step) if origin else None
    if sub:
        yield body + sub
    if step.tool is not None:
        tool = step.tool
        if tool.command:
            yield body + "command:"
            yield from _indent(tool.command, body + "  ")
        if tool.args:
            yield body + "args:"
            for key, value in tool.args.items():
                if key == "command" and tool.command == value:
                    continue
                lines = value.splitlines() or [""]
                yield f"{body}  {key}: {lines[0]}"
                yield from (f"{body}    {line}" for line in lines[1:])
        if not tool.results:
            yield body + "result: none recorded"
        for result in tool.results:
            yield body + result_text(result)
            if result.output:
                yield from _indent(result.output, body + "  ")
    elif step.text:
        yield from _indent(step.text, body)
    for number in step.findings:
        yield body + "! " + finding_text(replay.findings[number - 1])


def plain_lines(replay: Replay, start: int = 0) -> Iterator[str]:
    """Every step from `start`, one block each, for a pipe (plain text, no colour)."""
    det = f"{len(replay.findings)} finding(s)" if replay.detectors else "detectors unavailable"
    yield (
        f"replay of {replay.path} ({replay.format}, {len(replay.sessions)} session(s), "
        f"{len(replay.steps)} steps, {det})"
    )
    session = None
    sidechain = None
    for step in replay.steps[start:]:
        if step.session_id != session:
            session = step.session_id
            yield ""
            yield f"== session {session}"
        yield ""
        # the subagent is named where its work begins; the │ margin shows the rest of it
        yield from step_lines(step, replay, origin=step.sidechain != sidechain)
        sidechain = step.sidechain
