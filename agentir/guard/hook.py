"""`agentir guard hook`: the Claude Code PreToolUse hook that blocks what the policy forbids.

Claude Code runs the hook before every tool call with one JSON object on stdin
(`session_id`, `transcript_path`, `cwd`, `permission_mode`, `hook_event_name`, `tool_name`,
`tool_input`, `tool_use_id`, and `agent_id` inside subagents). The hook reads what is new in
the transcript since its previous call (the state under `$AGENTIR_HOME/guard/`), adds the
pending call, and decides:

- allow: exit 0, nothing on stdout or stderr;
- block: exit 2 with a one-paragraph reason on stderr. Exit 2 is the one code Claude Code
  treats as a block for PreToolUse, and it feeds stderr to the model. (The JSON form,
  `hookSpecificOutput.permissionDecision: "deny"` on stdout with exit 0, says the same but
  only to Claude Code versions that know it; any other exit code lets the call through, so
  the hook never relies on it.)

It fails closed: input that is not a PreToolUse object, a policy that cannot be read, a
transcript that exists but cannot be read, or any error inside the hook blocks the call. A
transcript that does not exist yet means nothing has happened: the pending call is judged
alone. Other hook events (PostToolUse, Stop, ...) only advance the state and always exit 0,
since exit 2 means something else there.

Run as `python -m agentir.guard.hook`: this module imports only what the decision needs (no
typer, no rich), so a call costs little more than the interpreter's start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BLOCK = 2
MARKER = "--agentir-guard"  # identifies the settings entries `agentir guard install` wrote
ADVICE = {
    "budget": "The session's budget is spent: stop and report to the user instead of continuing.",
    "scope": "Write only inside the allowed paths, or ask the user to change the policy.",
    "permissions": "The policy does not allow this; do not work around it, ask the user.",
    "loop": "Repeating it will not change the result: try a different approach or ask the user.",
    "external": "This reaches beyond the working tree: ask the user to do it.",
}


@dataclass
class Decision:
    """What the hook decided, and why (for the exit code, stderr and the block log)."""

    allow: bool
    reason: str = ""
    triggers: list[Any] = field(default_factory=list)
    failed_closed: bool = False
    incident: str | None = None
    deliveries: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class HookInput:
    """The fields of the hook's stdin the guard uses."""

    event: str
    session_id: str
    transcript: Path | None
    cwd: str | None
    tool_name: str
    tool_input: Mapping[str, Any]
    tool_use_id: str | None
    agent_id: str | None
    permission_mode: str | None


class BadInput(ValueError):
    """The hook input is not what Claude Code sends."""


def parse_input(raw: bytes) -> HookInput:
    """Validate the hook's JSON (raises BadInput saying what is wrong)."""
    import orjson

    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"the hook input is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadInput("the hook input is not a JSON object")
    event = data.get("hook_event_name", "PreToolUse")
    session = data.get("session_id")
    if not isinstance(event, str) or not event:
        raise BadInput("hook_event_name is not a string")
    if not isinstance(session, str) or not session.strip():
        raise BadInput("session_id is missing")
    name, args = data.get("tool_name"), data.get("tool_input", {})
    if event == "PreToolUse":
        if not isinstance(name, str) or not name:
            raise BadInput("tool_name is missing")
        if not isinstance(args, dict):
            raise BadInput("tool_input is not a JSON object")
    transcript = data.get("transcript_path")
    if transcript is not None and not isinstance(transcript, str):
        raise BadInput("transcript_path is not a string")

    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    return HookInput(
        event=event,
        session_id=session.strip(),
        transcript=Path(transcript).expanduser() if transcript else None,
        cwd=text("cwd"),
        tool_name=name if isinstance(name, str) else "",
        tool_input=args if isinstance(args, dict) else {},
        tool_use_id=text("tool_use_id"),
        agent_id=text("agent_id"),
        permission_mode=text("permission_mode"),
    )


def one_paragraph(text: str, limit: int = 1500) -> str:
    """Reason text on one line, bounded (it is fed to the model and written to logs)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def evaluate(raw: bytes, policy_path: Path | None = None) -> Decision:
    """The whole hook: parse, read the policy and the transcript, judge, record."""
    try:
        hook = parse_input(raw)
    except BadInput as exc:
        reason = f"agentir guard: blocked: {exc}; the guard blocks what it cannot judge."
        decision = Decision(False, one_paragraph(reason), failed_closed=True)
        _log(None, decision, None)
        return decision
    if hook.event != "PreToolUse":
        _observe(hook)
        return Decision(True)
    from agentir.policy import load_policy

    try:
        start = Path(hook.cwd) if hook.cwd and Path(hook.cwd).is_dir() else None
        policy = load_policy(policy_path, start=start)
    except Exception as exc:  # ConfigError, and anything else: fail closed
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        reason = (
            f"agentir guard: policy unreadable: {message}. Every tool call is blocked until "
            "the policy is fixed (or the hook removed with `agentir guard uninstall`)."
        )
        decision = Decision(False, one_paragraph(reason), failed_closed=True)
        _log(hook, decision, None)
        return decision
    return _judge(hook, policy)


def _observe(hook: HookInput) -> None:
    """Other hook events: advance the state so the next PreToolUse reads less; never fails."""
    from agentir.guard.state import advance, load_state, save_state, session_lock

    if hook.transcript is None:
        return
    try:
        with session_lock(hook.session_id):
            state = load_state(hook.session_id)
            advance(state, hook.transcript)
            save_state(state)
    except Exception:  # exit 2 means something else for these events: stay out of the way
        return


def pending_call(hook: HookInput, seq: int) -> Any:
    """The call Claude Code is about to make, as the event the detectors know."""
    from agentir.model import Source, ToolCall

    source = Source(str(hook.transcript) if hook.transcript else "(hook input)")
    return ToolCall(
        seq=seq,
        ts=None,
        source=source,
        session_id=hook.session_id,
        agent="claude-code",
        sidechain=hook.agent_id,
        call_id=hook.tool_use_id,
        name=hook.tool_name,
        args=dict(hook.tool_input),
    )


def _judge(hook: HookInput, policy: Any) -> Decision:
    from agentir.guard.rules import firing, judge_budget, judge_call
    from agentir.guard.state import advance, load_state, save_state, session_lock

    with session_lock(hook.session_id):
        state = load_state(hook.session_id)
        if hook.transcript is not None:
            try:
                advance(state, hook.transcript)
            except OSError as exc:
                reason = (
                    f"agentir guard: blocked: the transcript {hook.transcript} cannot be read "
                    f"({exc.strerror or exc}), so budget and loops cannot be judged."
                )
                decision = Decision(False, one_paragraph(reason), failed_closed=True)
                _log(hook, decision, policy)
                return decision
        live = state.live
        call = pending_call(hook, live.next_seq)
        cwd = hook.cwd or live.cwd
        root = os.environ.get("CLAUDE_PROJECT_DIR") or live.root or cwd
        triggers = judge_call(policy, call, cwd, root)
        loop = live.predict_loop(policy, call)
        if loop is not None:
            triggers.append(loop)
        ahead = policy.kill_switch.budget_lookahead
        triggers += judge_budget(
            policy,
            live.spent_usd,
            live.used_tokens,
            next_usd=live.last_usd if ahead else 0.0,
            next_tokens=live.last_tokens if ahead else 0,
            seq=call.seq,
            source=str(call.source),
        )
        fired = firing(policy, triggers)
        first_time = False
        if fired:
            live.note_blocked(hook.tool_use_id)
            first_time = state.first_alert(_alert_key(fired[0], call))
        save_state(state)
    if not fired:
        return Decision(True, triggers=triggers)
    decision = Decision(False, block_reason(hook.tool_name, fired, policy.source), fired)
    _after_block(hook, decision, policy, call, alert=first_time)
    return decision


def _alert_key(trigger: Any, call: Any) -> str:
    """The same refusal of the same call alerts once per session."""
    from agentir.analysis.detectors.common import call_key

    f = trigger.finding
    return f"{trigger.trigger}:{f.detector}:{f.data.get('rule', '')}:{call_key(call)}"


def block_reason(tool: str, fired: Sequence[Any], policy_source: str) -> str:
    """The one-paragraph reason the model reads: what, why, and what to do instead."""
    top = fired[0]
    f = top.finding
    parts = [f"agentir guard: blocked this {tool} call: {f.message} ({f.detector}, {f.severity})."]
    others = [t.finding.message for t in fired[1:4] if t.finding.message != f.message]
    if others:
        parts.append("Also: " + "; ".join(others) + ".")
    parts.append(ADVICE.get(top.trigger, "Ask the user how to proceed."))
    parts.append(f"(kill switch policy: {policy_source}; only a person can change it)")
    return one_paragraph(" ".join(parts))


def _after_block(
    hook: HookInput, decision: Decision, policy: Any, call: Any, *, alert: bool
) -> None:
    """Log the block; open or join an incident and alert when the policy says so."""
    ks = policy.kill_switch
    start = Path(hook.cwd) if hook.cwd and Path(hook.cwd).is_dir() else None
    alerts = None
    if ks.alert_on_block and alert:
        from agentir.alerts import load_alerts
        from agentir.errors import ConfigError

        try:
            alerts = load_alerts(start=start)
        except ConfigError as exc:
            decision.deliveries = [{"channel": "config", "ok": False, "error": exc.message}]
    if alerts is not None and not alerts.configured:
        alerts = None
    if ks.open_incident or alerts is not None:
        try:
            _incident_and_alert(hook, decision, alerts, start, ks.open_incident)
        except Exception as exc:  # the block stands whatever happens to the paperwork
            decision.deliveries.append({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    _log(hook, decision, policy, call)


def _incident_and_alert(
    hook: HookInput, decision: Decision, alerts: Any, start: Path | None, open_incident: bool
) -> None:
    from agentir.guard.record import record_trigger, trigger_alert
    from agentir.incidents.store import IncidentStore

    trigger = decision.triggers[0]
    transcript = str(hook.transcript) if hook.transcript else None
    store = IncidentStore() if open_incident else None
    if store is not None:
        decision.incident, _ = record_trigger(
            store,
            trigger,
            session_id=hook.session_id,
            trace=transcript,
            source="guard",
            action="blocked",
            details={"tool": hook.tool_name, "tool_use_id": hook.tool_use_id},
        )
    if alerts is not None:
        text = f"agentir guard blocked a {hook.tool_name} call of session {hook.session_id}: "
        sent = trigger_alert(
            store,
            decision.incident,
            trigger,
            source="guard",
            action="blocked",
            session_id=hook.session_id,
            trace=transcript,
            text=text + trigger.finding.message,
            config=alerts,
            start=start,
        )
        decision.deliveries += [d.record() for d in sent]


def _log(hook: HookInput | None, decision: Decision, policy: Any, call: Any = None) -> None:
    from agentir.guard.record import finding_data, log_block

    text = None
    if call is not None:
        from agentir.analysis.detectors.common import call_text, quote

        text = quote(call_text(call), 300)
    import contextlib

    with contextlib.suppress(OSError):  # the block stands even when the log cannot be written
        log_block(
            {
                "decision": "block",
                "failed_closed": decision.failed_closed,
                "session": hook.session_id if hook else None,
                "transcript": str(hook.transcript) if hook and hook.transcript else None,
                "cwd": hook.cwd if hook else None,
                "tool": hook.tool_name if hook else None,
                "tool_use_id": hook.tool_use_id if hook else None,
                "call": text,
                "reason": decision.reason,
                "findings": [finding_data(t.finding) for t in decision.triggers],
                "policy": getattr(policy, "source", None),
                "incident": decision.incident,
                "alerts": decision.deliveries,
            }
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the hook on stdin; 0 allows the call, 2 blocks it (reason on stderr)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        policy = None
        if "--policy" in args:
            index = args.index("--policy")
            if index + 1 >= len(args):
                raise ValueError("--policy needs a file")
            policy = Path(args[index + 1]).expanduser()
        decision = evaluate(sys.stdin.buffer.read(), policy)
    except BaseException as exc:  # a bug must block, not wave the call through
        reason = f"agentir guard: blocked: internal error ({type(exc).__name__}: {exc})"
        sys.stderr.write(one_paragraph(reason) + "\n")
        return BLOCK
    if decision.allow:
        return 0
    sys.stderr.write(decision.reason + "\n")
    return BLOCK


if __name__ == "__main__":
    sys.exit(main())
