"""The review context: every part filled from evidence and citing it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agentir.review.context import review_status
from tests.review.scenario import Case, json_lines, new_case


def test_header_status_deadline_and_paths(checkout: Case) -> None:
    ctx = checkout.context()
    inc = ctx["incident"]
    assert inc["id"] == checkout.incident_id and inc["severity"] == "SEV1"
    assert inc["status"] == "remediated" and inc["runbook"] == "$RUNBOOKS/sev1.yaml"
    assert ctx["review"]["status"] == "draft" and ctx["as_of"] == "2025-09-08 16:05:00 UTC"
    dl = ctx["review"]["deadline"]
    # opened 10:07 on the 7th, SEV1: 48 h; now is 16:05 on the 8th
    assert dl["due"] == "2025-09-09 10:07:00 UTC" and dl["state"] == "pending"
    assert dl["text"].endswith("pending, 18h 02m left")
    (session,) = ctx["sessions"]
    assert session["agent"] == "claude-code" and session["models"] == ["claude-sonnet-4-20250514"]
    assert session["trace"] == "$TMP/traces/checkout-incident.jsonl"
    assert [t["state"] for t in ctx["traces"]] == ["read"]


def test_timeline_merges_agent_and_responders_in_time_order(checkout: Case) -> None:
    items = checkout.context()["timeline"]
    times = [i["iso"] for i in items]
    assert times == sorted(times)
    origins = [i["origin"] for i in items]
    assert origins.index("responder") > max(i for i, o in enumerate(origins) if o == "agent")
    harm = [i for i in items if i["kind"] == "harm"]
    assert len(harm) == 1 and harm[0]["cite"] == "checkout-incident.jsonl:9"
    responder = [i for i in items if i["origin"] == "responder"]
    assert responder[0]["cite"] == "timeline #0" and "incident opened" in responder[0]["text"]
    assert any("reverted 1 commit(s)" in i["text"] for i in responder)
    assert all(i["kind"] != "review.rendered" for i in items)


def test_phase_times_and_time_to_each(checkout: Case) -> None:
    phases = checkout.context()["phases"]
    at = {m["name"]: m["at"] for m in phases["milestones"]}
    assert at["agent session started"] == "2025-09-07 10:00:05 UTC"
    assert at["first harmful step"] == "2025-09-07 10:00:53 UTC"
    assert at["detected (incident opened)"] == "2025-09-07 10:07:00 UTC"
    assert at["contained"] == "2025-09-07 10:16:00 UTC" and at["reviewed"] is None
    spans = {d["name"].split(" (")[0]: d["seconds"] for d in phases["durations"]}
    assert spans == {
        "time to detect": 6 * 60 + 7,
        "time to contain": 9 * 60,
        "time to remediate": 41 * 60,
        "time to review": None,
    }
    basis = {m["name"]: m["basis"] for m in phases["milestones"]}
    assert basis["contained"] == "timeline #3"


def test_question_one_cites_the_raw_records(checkout: Case) -> None:
    ctx = checkout.context()
    (what,) = ctx["questions"]["what"]
    trace = Path(checkout.store.get(checkout.incident_id).traces[0])
    records = json_lines(trace)
    for command in what["commands"]:
        line = int(command["cite"].rsplit(":", 1)[1])
        blocks = records[line - 1]["message"]["content"]
        assert any(b.get("input", {}).get("command") == command["command"] for b in blocks)
    outside = next(f for f in what["files"] if not f["inside_cwd"])
    assert outside["path"] == "/home/dev/infra/prod/config.yaml" and outside["ops"] == ["write"]
    kinds = {e["kind"] for e in what["effects"]}
    assert {"git_push", "database", "network", "secret_exposure"} <= kinds
    assert what["commits"] == ["3f9c2ab"]


def test_question_two_the_task_and_the_decision_point(checkout: Case) -> None:
    (why,) = checkout.context()["questions"]["why"]
    assert why["task"].startswith("The checkout tests fail on main.")
    assert why["task_cite"] == "checkout-incident.jsonl:1"
    decision = why["decision"]
    assert decision["seq"] == 17 and decision["via"] == "effect"
    assert "secret_exposure" in decision["what"]
    assert [m["cite"] for m in decision["messages"]][-1] == "checkout-incident.jsonl:8"


def test_question_three_policy_mode_and_detectors(checkout: Case) -> None:
    g = checkout.context()["questions"]["guardrails"]
    assert g["policy"]["available"] and g["policy"]["source"] == "built-in defaults"
    assert any(r.startswith("budget per session: $10") for r in g["policy"]["rules"])
    (auth,) = g["authorization"]
    assert auth["permission_mode"] == "bypassPermissions" and auth["risky"] == ["permission_mode"]
    detectors = {f["detector"] for f in g["findings"]}
    assert {"permissions", "scope", "external"} <= detectors
    push = next(f for f in g["findings"] if "force origin main" in f["message"])
    assert push["step"] == 30 and push["cite"] == "checkout-incident.jsonl:16"
    assert g["enforced_live"] == []


def test_question_four_blast_radius_and_remediation(checkout: Case) -> None:
    b = checkout.context()["questions"]["blast"]
    assert b["files_changed"] == 2
    assert [f["path"] for f in b["outside_cwd"]] == ["/home/dev/infra/prod/config.yaml"]
    (commit,) = b["commits"]
    assert commit["sha"] == "3f9c2ab8d1e4"
    assert commit["seen"] == [
        "printed in the trace",
        "planned for revert (timeline #5)",
        "reverted by 9d8e7f6a5b (timeline #6)",
        "deploy freeze",
    ]
    assert any(r["what"] == "pushed: origin main (force push)" for r in b["branches"])
    assert {e["kind"] for e in b["external"]} == {"database", "network"}
    assert len(b["secrets"]) == 2 and all("[REDACTED:" in s["target"] for s in b["secrets"])
    assert [c["status"] for c in b["checklist"]] == ["done"]
    assert [r["cite"] for r in b["remediation"]] == [
        "timeline #4",
        "timeline #5",
        "timeline #6",
        "timeline #7",
    ]
    assert b["freeze"] == {"active": True, "commits": ["3f9c2ab"]}


def test_recommendations_cite_their_evidence(checkout: Case) -> None:
    recs = checkout.context()["recommendations"]
    push = recs[0]
    assert push["id"] == "protect-branch"
    assert push["evidence"] == [
        {"session": "7e57c0de", "seq": 30, "cite": "checkout-incident.jsonl:16"}
    ]


def test_action_items_and_their_warnings(checkout: Case) -> None:
    actions = checkout.context()["action_items"]
    assert [i["id"] for i in actions["all"]] == ["A1", "A2", "A3"]
    assert [i["prompt_change"] for i in actions["all"]] == [False, True, False]
    assert (actions["open"], actions["done"]) == (2, 1)
    assert not actions["prompt_only"]
    assert actions["warnings"] == ["Action item(s) without an owner or a due date: A2."]
    a3 = actions["all"][2]
    assert a3["done"] and not a3["overdue"] and a3["due"] == "2025-09-08"


def test_prompt_only_action_items_get_a_visible_warning(
    monkeypatch: pytest.MonkeyPatch, agentir_home: Path
) -> None:
    from agentir.review.actions import add_action
    from tests.review.scenario import Case as C

    store, clock, aliases = new_case(monkeypatch, agentir_home)
    ref = store.open("prompt-only follow-ups", "SEV2").id
    add_action(
        store, ref, kind="prevent", text="Add to CLAUDE.md: never push", owner="a", due="2025-10-01"
    )
    add_action(
        store, ref, kind="process", text="Rewrite the system prompt", owner="b", due="2025-10-01"
    )
    case = C(store, ref, clock, agentir_home, aliases)
    ctx = case.context()
    assert ctx["action_items"]["prompt_only"]
    assert any("Every action item is a prompt change" in w for w in ctx["warnings"])
    md = case.render("md")
    assert "> ⚠️ **Every action item is a prompt change." in md
    html = case.render("html")
    assert (
        '<div class="warning strong" role="alert">⚠️ Every action item is a prompt change.' in html
    )


def test_test_suggestions_stored_on_the_incident_get_their_section(checkout: Case) -> None:
    suggestion = {
        "file": "src/checkout/cart.py", "function": "total", "line": 12, "category": "boundary",
        "rationale": "rounding at .005", "test_case": "total([0.005]) == 0.01",
        "code": "total = round(sum(prices), 2)", "language": "python",
    }  # fmt: skip

    def store_it(incident: object) -> None:
        incident.extra["test_suggestions"] = [suggestion]  # type: ignore[attr-defined]

    checkout.store.update(checkout.incident_id, store_it, action="testgen.suggested")
    ctx = checkout.context()
    assert ctx["tests"]["suggestions"] == [suggestion]
    assert "### Adversarial test suggestions" in ctx["tests"]["markdown"]
    md = checkout.render("md")
    assert "Adversarial test suggestions" in md and "`total`" in md
    assert "total([0.005]) == 0.01" in checkout.render("html")


def test_review_status_precedence(checkout: Case) -> None:
    incident = checkout.store.get(checkout.incident_id)
    assert review_status(incident, None) == "draft"
    assert review_status(incident, "in-review") == "in-review"
    incident.extra["review"] = {"status": "in-review"}
    assert review_status(incident, None) == "in-review"
    incident.status = "closed"
    assert review_status(incident, "draft") == "closed"


def test_a_missing_trace_falls_back_to_the_preserved_copy(checkout: Case) -> None:
    trace = Path(checkout.store.get(checkout.incident_id).traces[0])
    os.remove(trace)
    ctx = checkout.context()
    (note,) = ctx["traces"]
    assert note["state"] == "evidence-copy" and "the original is gone" in note["note"]
    assert ctx["questions"]["what"][0]["commits"] == ["3f9c2ab"]
    shutil.rmtree(checkout.store.path(checkout.incident_id) / "evidence")
    ctx = checkout.context()
    assert ctx["traces"][0]["state"] == "missing" and ctx["sessions"] == []
    assert any(w.startswith("Trace missing:") for w in ctx["warnings"])
    md = checkout.render("md")
    assert "No trace was read" in md and "⚠️ **Warning:** Trace missing" in md
