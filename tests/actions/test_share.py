"""Sharing an incident: the team folder is a real git repository (files written, one commit
naming the incident), and the webhook is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agentir.actions.share import share_to_folder
from agentir.actions.share_webhook import post, summary, target_of
from agentir.errors import ActionError, GitError, UsageError
from tests.share_support import (
    FAKE_TOKEN,
    HOOK_PATH,
    closed_port_url,
    incident_with_trace,
    team_repo,
    webhook_server,
)


def test_folder_share_writes_and_commits_only_its_folder(tmp_path: Path) -> None:
    store, ref, trace = incident_with_trace(tmp_path / "work")
    team = team_repo(tmp_path / "team")
    (team.path / "wip.md").write_text("someone's uncommitted notes\n")  # must stay uncommitted
    share = share_to_folder(store, ref, team.path)

    folder = team.path / ref
    assert sorted(p.name for p in folder.iterdir()) == [
        "evidence.json", "review.html", "review.md", "timeline.md",
    ]  # fmt: skip
    assert share.files == [
        f"{ref}/{n}" for n in ("evidence.json", "review.html", "review.md", "timeline.md")
    ]
    assert share.rendered == ["md", "html"]  # no kept review: rendered through the review module
    review = (folder / "review.md").read_text()
    assert ref in review and FAKE_TOKEN not in review
    assert "<html" in (folder / "review.html").read_text().lower()
    timeline = (folder / "timeline.md").read_text()
    assert timeline.startswith(f"# {ref}") and "hash chain intact" in timeline
    index = json.loads((folder / "evidence.json").read_text())
    [record] = index["evidence"]
    assert record["sha256"] == hashlib.sha256(trace.read_bytes()).hexdigest()
    assert record["path"] == str(trace.resolve()) and index["traces_included"] is False
    assert not (folder / "evidence").exists()  # no raw traces unless asked

    assert share.commit == team.git("rev-parse", "HEAD").strip()
    message = team.git("log", "-1", "--format=%B").strip()
    assert message.startswith(f"agentir: share {ref} (SEV2, open): agent pasted")
    assert FAKE_TOKEN not in message
    changed = team.git("show", "--name-only", "--format=", "HEAD").split()
    assert changed == share.files
    assert team.git("status", "--porcelain").strip() == "?? wip.md"
    entry = store.timeline(ref)[-1]
    assert entry.action == "incident.shared" and entry.details["commit"] == share.commit
    assert entry.details["files"] == share.files


def test_kept_reviews_are_copied_and_a_second_share_of_nothing_new_makes_no_commit(
    tmp_path: Path,
) -> None:
    store, ref, _ = incident_with_trace(tmp_path / "work")
    (store.path(ref) / "review.md").write_text("# the reviewed review\n")
    team = team_repo(tmp_path / "team")
    share = share_to_folder(store, ref, team.path, with_traces=True)
    assert share.rendered == ["html"]
    assert (team.path / ref / "review.md").read_text() == "# the reviewed review\n"
    [record] = store.evidence(ref)
    copied = team.path / ref / "evidence" / record.name
    assert hashlib.sha256(copied.read_bytes()).hexdigest() == record.sha256
    commits = team.git("rev-list", "--count", "HEAD").strip()
    assert commits == "2"


def test_folder_share_needs_a_git_repository(tmp_path: Path) -> None:
    store, ref, _ = incident_with_trace(tmp_path / "work")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not inside a git repository"):
        share_to_folder(store, ref, plain)
    with pytest.raises(UsageError):
        share_to_folder(store, ref, tmp_path / "missing")


def test_webhook_receives_a_redacted_summary_naming_the_incident(tmp_path: Path) -> None:
    store, ref, _ = incident_with_trace(tmp_path / "work")
    text = summary(store.get(ref), None, store.now())
    with webhook_server() as hook:
        result = post(hook.url, text, timeout=5)
    assert result.ok and result.status == 200
    [request] = hook.requests
    assert request["path"] == HOOK_PATH and request["content_type"] == "application/json"
    assert list(request["json"]) == ["text"]
    sent = request["json"]["text"]
    assert ref in sent and "SEV2" in sent and "REDACTED" in sent
    assert FAKE_TOKEN not in request["body"]
    assert "<!channel>" not in sent and "&lt;!channel&gt;" in sent  # no @channel ping
    # the URL (a credential for Slack hooks) is never shown beyond scheme and host
    assert result.target == hook.url.split("/services")[0]
    assert HOOK_PATH not in json.dumps(result.to_dict())


def test_webhook_errors_are_one_line_and_name_only_the_host() -> None:
    url = closed_port_url()
    with pytest.raises(ActionError) as info:
        post(url, "x", timeout=2)
    assert "\n" not in info.value.message and HOOK_PATH not in info.value.message
    assert info.value.message.startswith(f"webhook {target_of(url)} failed")
    with webhook_server(status=500) as hook, pytest.raises(ActionError, match="HTTP 500"):
        post(hook.url, "x", timeout=5)
    with pytest.raises(UsageError):
        target_of("file:///etc/passwd")


def test_the_team_repository_hooks_do_not_run(tmp_path: Path) -> None:
    store, ref, _ = incident_with_trace(tmp_path / "work")
    team = team_repo(tmp_path / "team")
    hook = team.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path / 'hook-ran'}\nexit 1\n")
    hook.chmod(0o755)
    share = share_to_folder(store, ref, team.path)
    assert share.commit is not None and not (tmp_path / "hook-ran").exists()
