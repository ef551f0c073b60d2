"""The kill switch's rules for one call, its policy section, and agreement with the detectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentir.analysis.detectors import default_observers
from agentir.analysis.fold import SessionFold
from agentir.errors import ConfigError
from agentir.guard.rules import Trigger, firing, judge_budget, judge_call, path_verdict
from agentir.model import Finding, Source, ToolCall, ToolResult
from agentir.policy import KillSwitch, Policy, load_policy

ROOT = "/work/app"


def _call(name: str, seq: int = 3, **args: object) -> ToolCall:
    return ToolCall(
        seq=seq, ts=None, source=Source("t.jsonl", seq + 1), session_id="s", agent="claude-code",
        call_id=f"c{seq}", name=name, args=args,
    )  # fmt: skip


def _by(triggers: list[Trigger]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for t in triggers:
        out.setdefault(t.trigger, []).append((t.finding.severity, t.finding.data.get("rule", "")))
    return out


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (_call("Write", file_path=f"{ROOT}/src/app.py", content="x"), {}),
        (
            _call("Write", file_path=f"{ROOT}/.env", content="K=v"),
            {"scope": [("high", "forbidden")]},
        ),
        (_call("Edit", file_path=f"{ROOT}/.env.example", old_string="a", new_string="b"), {}),
        (
            _call(
                "Edit", file_path=f"{ROOT}/.claude/settings.json", old_string="a", new_string="b"
            ),
            {"scope": [("warning", "sensitive")]},
        ),
        (_call("Bash", command="echo hi > ~/.bashrc"), {"scope": [("high", "forbidden")]}),
        (
            _call("Bash", command="cd /tmp && echo x > ../etc/motd"),
            {"scope": [("high", "forbidden")]},
        ),
        (_call("Bash", command="cp notes.txt /srv/shared/"), {"scope": [("high", "outside")]}),
        (_call("Bash", command="curl https://pypi.org/simple/requests/"), {}),
        (
            _call("Bash", command="curl -X POST https://api.unknown.example/v1 -d '{}'"),
            {"permissions": [("warning", "host_not_allowed")]},  # sends data: medium risk
        ),
        (
            _call("Bash", command="git push --force origin main"),
            {"permissions": [("high", "forbidden_command")], "external": [("critical", "")]},
        ),
        (_call("Bash", command="kubectl apply -f deploy.yaml"), {"external": [("critical", "")]}),
        (_call("mcp__github__create_issue", title="x"), {"external": [("warning", "")]}),
    ],
)
def test_judge_call(call: ToolCall, expected: dict[str, list[tuple[str, str]]]) -> None:
    assert _by(judge_call(Policy(), call, ROOT, ROOT)) == expected


def test_a_cd_does_not_move_the_fence() -> None:
    """Relative paths follow the call's cwd; `.` in allowed_write is the session's root."""
    elsewhere = _call("Write", file_path="notes.txt", content="x")
    assert _by(judge_call(Policy(), elsewhere, "/srv/other", ROOT)) == {
        "scope": [("high", "outside")]
    }
    assert path_verdict(Policy(), "notes.txt", f"{ROOT}/sub", ROOT) is None


def test_tools_allowed_list_is_a_warning_and_reads_can_be_checked() -> None:
    policy = Policy.from_dict(
        {"tools": {"allowed": ["Read", "Bash"]}, "network": {"include_reads": True}}
    )
    triggers = judge_call(policy, _call("WebFetch", url="https://unknown.example/page"), ROOT, ROOT)
    assert _by(triggers) == {
        "permissions": [("warning", "tool_not_allowed"), ("warning", "host_not_allowed")]
    }


def test_the_scope_rule_agrees_with_the_scope_detector() -> None:
    policy = Policy()
    cases = [
        f"{ROOT}/.git/config",
        "/srv/elsewhere/x.txt",
        f"{ROOT}/.github/workflows/ci.yml",
        f"{ROOT}/ok.py",
    ]
    for i, path in enumerate(cases):
        fold = SessionFold("s", "claude-code", "claude-code", "t", default_observers(policy))
        from agentir.model import SessionInfo

        fold.feed(
            SessionInfo(
                seq=0, ts=None, source=Source("t", 1), session_id="s", agent="claude-code", cwd=ROOT
            )
        )
        call = _call("Write", seq=1, file_path=path, content="x")
        fold.feed(call)
        fold.feed(
            ToolResult(seq=2, ts=None, source=Source("t", 3), session_id="s", agent="claude-code",
                       call_id=call.call_id, ok=True)
        )  # fmt: skip
        detector = [f for f in fold.finish().findings if f.detector == "scope"]
        verdict = path_verdict(policy, path, ROOT, ROOT)
        assert (detector[0].data["rule"] if detector else None) == (
            verdict[0] if verdict else None
        ), i


def test_budget_with_and_without_lookahead() -> None:
    policy = Policy.from_dict({"budget": {"usd": 2.0, "tokens": 1000}})
    assert judge_budget(policy, 1.5, 100) == []
    (ahead,) = judge_budget(policy, 1.5, 100, next_usd=0.6)
    assert ahead.trigger == "budget" and "would cost about $0.60 more" in ahead.finding.message
    over = judge_budget(policy, 2.5, 1200)
    assert [t.finding.data["rule"] for t in over] == ["budget_usd", "budget_tokens"]
    assert judge_budget(policy, None, 10) == []  # unpriced: the USD limit cannot be judged


def test_firing_follows_the_kill_switch_levels_and_order() -> None:
    def trig(name: str, severity: str) -> Trigger:
        return Trigger(name, Finding(name, severity, f"{name} {severity}"))

    triggers = [
        trig("loop", "warning"),
        trig("scope", "high"),
        trig("permissions", "high"),
        trig("external", "critical"),
    ]
    assert [t.finding.message for t in firing(Policy(), triggers)] == [
        "permissions high", "scope high", "loop warning",
    ]  # fmt: skip
    strict = Policy.from_dict(
        {"kill_switch": {"triggers": ["@defaults", "external"], "levels": {"loop": "high"}}}
    )
    assert [t.trigger for t in firing(strict, triggers)] == ["external", "permissions", "scope"]


def test_the_kill_switch_section_is_validated_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "agentir.yaml"
    path.write_text(
        "policy:\n  kill_switch:\n    triggers: [budget, loops]\n    min_severity: severe\n"
        "    levels: {scope: high, typo: warning}\n    open_incident: yes please\n"
    )
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    message = info.value.message
    assert (
        "agentir.yaml:3: policy.kill_switch.triggers.1: unknown trigger 'loops' (did you mean 'loop'?)"
        in message
    )
    assert (
        "agentir.yaml:4: policy.kill_switch.min_severity: must be one of info, warning, high, critical"
        in message
    )
    assert "agentir.yaml:5: policy.kill_switch.levels.typo: unknown trigger" in message
    assert "agentir.yaml:6: policy.kill_switch.open_incident: must be true or false" in message
    assert KillSwitch().triggers == ("budget", "scope", "permissions", "loop")
    assert KillSwitch().fires("loop", "warning") and not KillSwitch().fires("external", "critical")
