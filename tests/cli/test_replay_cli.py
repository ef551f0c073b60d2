"""`agentir replay` through the CLI: plain, JSON, HTML, incidents, bad input, and a real
pseudo-terminal for the interactive view."""

from __future__ import annotations

import json
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentir.cli.app import app
from agentir.replay import detector_observers
from tests.conftest import DATA, ROOT, shared_trace
from tests.test_replay import SESSION, hostile_trace

runner = CliRunner()
HEADER = re.compile(r"^[│ ]*── step (\d+)/(\d+) · seq (\d+) · .* · (\S+)(?: (.+?))?$", re.M)
TOOL_HEADER = re.compile(r"^[│ ]*── step .* · tool_call .+ \[([^\]]*)\]$", re.M)
DETECTORS = detector_observers() is not None


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["replay", *args])
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------ tool calls counted by hand


def _claude_ids(path: Path) -> list[str]:
    """Distinct tool_use ids in file order (responses span lines; sidechains may repeat)."""
    ids: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        content = (rec.get("message") or {}).get("content")
        if rec.get("type") != "assistant" or not isinstance(content, list):
            continue
        for block in content:
            if block.get("type") == "tool_use" and block["id"] not in ids:
                ids.append(block["id"])
    return ids


def _codex_ids(path: Path) -> list[str]:
    """call_id of every function / custom tool call response item, in file order."""
    ids: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        payload = rec.get("payload") or {}
        kinds = ("function_call", "custom_tool_call", "local_shell_call")
        is_call = rec.get("type") == "response_item" and payload.get("type") in kinds
        if is_call and payload["call_id"] not in ids:
            ids.append(payload["call_id"])
    return ids


def _gemini_ids(path: Path) -> list[str]:
    """toolCalls ids in file order (a re-appended message repeats its calls: count once)."""
    ids: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for call in rec.get("toolCalls") or []:
            if call["id"] not in ids:
                ids.append(call["id"])
    return ids


@pytest.mark.parametrize(
    ("relative", "count", "expected_total"),
    [
        ("claude-code/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl", _claude_ids, 12),
        ("claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl", _claude_ids, 21),
        (
            "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl",
            _codex_ids,
            39,
        ),
        ("gemini-cli/test_conversation_gemini.jsonl", _gemini_ids, 12),
    ],
)
def test_plain_lists_every_tool_call_in_trace_order(
    relative: str, count: object, expected_total: int
) -> None:
    """Every tool call of the real sample, counted from the raw file, in the same order."""
    path = shared_trace(relative)
    expected = count(path)  # type: ignore[operator]
    # SOURCES.md: 1af7 Glob×6 TodoWrite×3 Bash×2 Write×1; 5c03 21 calls (Task×3 with 8 nested);
    # Codex 37 shell + 2 update_plan; Gemini read_file×7 write_file replace update_topic×3
    assert len(expected) == expected_total
    code, out, _ = invoke(str(path), "--plain")
    assert code == 0
    assert TOOL_HEADER.findall(out) == expected
    steps = [int(m.group(1)) for m in HEADER.finditer(out)]
    assert steps == list(range(1, len(steps) + 1))


def test_plain_view_of_the_fixture() -> None:
    """One block per step: header, command, args, result, subagent margin; no colour codes."""
    code, out, err = invoke(str(SESSION), "--plain")
    assert code == 0 and "\x1b[" not in out
    headers = HEADER.findall(out)
    assert [h[0] for h in headers] == [str(i) for i in range(1, 12)]
    assert headers[8][2:] == ("18", "tool_call", "Edit [toolu_e1]")
    assert "── step 9/11 · seq 18 · 2026-03-12 10:05:43 · +5m 01s · tool_call Edit" in out
    assert "   command:\n     git push --force origin main" in out
    assert "│  ── step 7/11 · seq 12" in out  # subagent work is indented under its Task
    assert "subagent a5c9e1f3 (depth 1, started at step 5)" in out
    assert "│     result (seq 13, after 28s): error" in out
    if not DETECTORS:
        assert "detectors are not available" in err


def test_from_seq_starts_there() -> None:
    """--from SEQ prints from the first step at or after SEQ."""
    code, out, _ = invoke(str(SESSION), "--plain", "--from", "17")
    assert code == 0
    first = HEADER.search(out)
    assert first is not None and first.group(1) == "9" and first.group(3) == "18"
    assert "step 8/11" not in out


def test_finding_option() -> None:
    """--finding N starts at the finding; with no findings it is a one-line usage error."""
    code, out, err = invoke(str(SESSION), "--plain", "--finding", "1")
    if not DETECTORS:
        assert code == 2 and out == ""
        assert err.splitlines()[0] == (
            "agentir replay: error: --finding 1: this trace has no findings "
            "(the detectors are not installed)"
        )
        return
    _, doc, _ = invoke(str(SESSION), "--json")
    data = json.loads(doc)["data"]
    if not data["findings"]:
        pytest.skip("the detectors found nothing in the fixture")
    step = data["findings"][0]["step"]
    first = HEADER.search(out)
    assert code == 0 and first is not None and int(first.group(1)) == step + 1
    assert "! finding 1 · " in out


def test_json_envelope() -> None:
    """--json: the envelope with every step as data, counts and the start step."""
    code, out, _ = invoke(str(SESSION), "--json", "--from", "18")
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "replay" and doc["status"] == "ok" and doc["errors"] == []
    data = doc["data"]
    assert data["counts"]["steps"] == 11 and data["counts"]["tool_calls"] == 5
    assert data["start_step"] == 8 and data["detectors"] is DETECTORS
    edit = data["steps"][8]
    assert edit["kind"] == "tool_call" and edit["seq"] == 18 and edit["gap_seconds"] == 301.0
    assert edit["tool"]["name"] == "Edit" and edit["tool"]["result"]["ok"] is True
    assert edit["ts"] == "2026-03-12T10:05:43Z"
    nested = [s["index"] for s in data["steps"] if s["depth"] == 1]
    assert nested == [5, 6, 7] and data["steps"][6]["parent_step"] == 4


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_page_is_self_contained_escaped_and_redacted(tmp_path: Path) -> None:
    """No script, no link, no external URL, hostile text inert and visible as text only,
    credentials gone."""
    trace, key, token = hostile_trace(tmp_path)
    page_path = tmp_path / "out" / "replay.html"
    code, out, err = invoke(str(trace), "--html", str(page_path))
    assert code == 0 and out == ""
    assert f"wrote the replay page to {page_path}" in err
    raw = page_path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(raw)
    page.close()
    names = [t for t, _ in page.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert "img" not in names and "svg" not in names and "a" in names
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "action", "formaction"):
                assert value is not None and value.startswith("#"), (tag, name, value)
    text = "".join(page.text)
    # the hostile strings are there as text, escaped, never as markup
    assert "<script>alert(1)</script>" in text and "{{ 7*7 }}" in text
    assert "{% raw %}" in text and "<svg onload=alert(4)>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw and "<script>alert" not in raw
    # nothing evaluated the template syntax: it is there verbatim, where the trace had it
    assert "then {{ 7*7 }} and {% raw %}x{% endraw %} with key" in text
    assert "then 49 and" not in text and text.count("{{ 7*7 }}") == 2
    assert key not in raw and token not in raw and "[REDACTED:" in text
    assert "Content-Security-Policy" in raw and "default-src &#x27;none&#x27;" in raw
    steps = [a.get("id") for t, a in page.tags if t == "section"]
    assert steps == [f"step-{i}" for i in range(1, 5)]


def test_html_with_plain_also_prints(tmp_path: Path) -> None:
    """--html alone writes only the page; with --plain the steps are printed as well."""
    page = tmp_path / "r.html"
    code, out, _ = invoke(str(SESSION), "--html", str(page), "--plain")
    assert code == 0 and page.is_file() and len(HEADER.findall(out)) == 11


def test_incident_resolves_to_its_trace_and_keeps_the_page(
    tmp_path: Path, agentir_home: Path
) -> None:
    """INCIDENT resolves to its first trace; --html stores the page in its evidence."""
    store_mod = pytest.importorskip("agentir.incidents.store")
    store = store_mod.IncidentStore(agentir_home)
    incident = store.open("Forced push to main", "SEV2", traces=[SESSION])
    code, out, _ = invoke(incident.id, "--plain")
    assert code == 0 and len(HEADER.findall(out)) == 11
    page = tmp_path / "inc.html"
    code, _, err = invoke(incident.id, "--html", str(page))
    assert code == 0 and page.is_file()
    records = store.evidence(incident.id)
    import hashlib

    digest = hashlib.sha256(page.read_bytes()).hexdigest()
    (record,) = [r for r in records if r.sha256 == digest]
    kept = store.path(incident.id) / "evidence" / record.name
    assert kept.read_bytes() == page.read_bytes()
    assert f"stored in {incident.id}'s evidence as {kept}" in err
    actions = [e.action for e in store.timeline(incident.id)]
    assert "evidence.added" in actions


@pytest.mark.parametrize(
    ("args", "code", "first_line"),
    [
        (["/nonexistent/trace.jsonl"], 1, "agentir replay: error: no such file: /nonexistent/"),
        (["INC-20990101-0042"], 1, "agentir replay: error: no incident 'INC-20990101-0042'"),
        ([str(DATA)], 2, "agentir replay: error: "),
        ([str(SESSION), "--from", "500"], 2, "agentir replay: error: --from 500: no step"),
        ([str(SESSION), "--session", "nope"], 2, "agentir replay: error: no session in "),
    ],
)
def test_bad_input_is_a_short_error(args: list[str], code: int, first_line: str) -> None:
    """Missing file, unknown incident, a directory, out-of-range --from: one line and a hint."""
    if args[0].startswith("INC-"):
        pytest.importorskip("agentir.incidents.store")
    exit_code, out, err = invoke(*args)
    assert exit_code == code and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith(first_line) and len(lines) <= 3
    assert "Traceback" not in err


def test_unreadable_file_is_a_short_error(tmp_path: Path) -> None:
    """A file that is no trace at all."""
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\n")
    code, out, err = invoke(str(junk))
    assert code == 1 and out == "" and err.startswith("agentir replay: error: ")


# ------------------------------------------------------------------ the interactive view


def _spawn(args: str, **env: str):  # type: ignore[no-untyped-def]
    pexpect = pytest.importorskip("pexpect")
    # the shell catches Ctrl-C itself (a trap, unlike an ignored signal, is not inherited)
    # so it lives on to report the exit code and the terminal settings afterwards
    script = (
        f'trap : INT; stty -g; {sys.executable} -m agentir replay {args}; echo "rc=$?"; stty -g'
    )
    environ = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", **env}
    child = pexpect.spawn(
        "/bin/sh",
        ["-c", script],
        cwd=str(ROOT),
        env=environ,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 130),
    )
    child.expect(r"([0-9a-f]+(?::[0-9a-f]+){10,})\r?\n")
    return child, child.match.group(1)


def _finish(child, before: str, rc: str) -> None:  # type: ignore[no-untyped-def]
    child.expect(rf"rc=({rc})\r?\n")
    child.expect(r"([0-9a-f]+(?::[0-9a-f]+){10,})")
    after = child.match.group(1)
    child.expect(__import__("pexpect").EOF)
    assert after == before, "the terminal settings were not restored"


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_interactive_keys_in_a_pseudo_terminal(agentir_home: Path) -> None:
    """Step forward and back, first / last, help, next finding, quit; terminal restored."""
    child, before = _spawn(str(SESSION), AGENTIR_HOME=str(agentir_home))
    child.expect(r"step 1/11")
    child.expect(r"message user")
    child.send("\x1b[C")  # right arrow
    child.expect(r"step 2/11")
    child.expect(r"reasoning assistant")
    for key, step in ((" ", 3), ("l", 4), ("\r", 5), ("n", 6)):
        child.send(key)
        child.expect(rf"step {step}/11")
        if step == 4:  # one line each: the command, then the result with its output
            child.expect(r"\r\n[^\r\n]*\$ (?:\x1b\[[0-9;]*m)*rm -rf build/ && npm run build")
            child.expect(r"result \(seq 7, after 4\.0s\): ok[^\r\n]*\r\n[^\r\n]*built in 3\.2s")
    child.expect(r"subagent a5c9e1f3")
    child.send("\x1b[D")  # left arrow
    child.expect(r"step 5/11")
    child.expect(r"tool_call Task \[toolu_t1\]")
    child.send("G")
    child.expect(r"step 11/11")
    child.send("n")
    child.expect(r"last step")
    child.send("g")
    child.expect(r"step 1/11")
    child.send("?")
    child.expect(r"replay keys")
    child.send("x")
    child.expect(r"step 1/11")
    child.send("f")
    findings = json.loads(invoke(str(SESSION), "--json")[1])["data"]["findings"]
    if findings:  # the detectors are installed and found something
        first, last = findings[0]["step"], findings[-1]["step"]
        child.expect(rf"step {first + 1}/11")
        child.expect(r"⚑ finding 1 · ")
        child.send("F")
        child.expect(r"no earlier finding")
        child.send("G")
        child.expect(r"step 11/11")
        child.send("F")
        child.expect(rf"step {last + 1}/11" if last < 10 else r"no earlier finding")
    else:
        child.expect(r"no findings in this replay")
    child.send("q")
    _finish(child, before, "0")


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_interactive_from_and_ctrl_c(agentir_home: Path) -> None:
    """--from opens at that step; Ctrl-C leaves with 130 and a restored terminal."""
    child, before = _spawn(f"{SESSION} --from 18", AGENTIR_HOME=str(agentir_home))
    child.expect(r"step 9/11")
    child.expect(r"\+5m 01s")
    child.send("p")
    child.expect(r"step 8/11")
    child.sendintr()
    _finish(child, before, "130")
