"""Credentials a session used, from its trace: names and redaction labels, never values."""

from __future__ import annotations

import json
from pathlib import Path

from agentir.actions.credentials import (
    CredentialObserver,
    Evidence,
    cli_credentials,
    env_names,
    is_credential_name,
    scan_trace,
)
from agentir.analysis.secrets import fingerprint
from agentir.render.jsonout import to_jsonable
from tests.actions.contain_helpers import fake_secrets, make_repo, make_trace


def test_env_names_keep_credentials_and_drop_ordinary_variables() -> None:
    text = (
        'export DEPLOY_API_KEY=x && echo "$HOME $PATH" && PGPASSWORD=y psql && '
        "TOKENIZERS_PARALLELISM=false python -c 'import os; os.environ[\"DB_PASSWORD\"]' && "
        "node -e 'process.env.NPM_TOKEN' && curl -u ${SVC_USER}:${SVC_SECRET} x && printenv AWS_PROFILE"
    )
    assert env_names(text) == [
        "SVC_SECRET",
        "DEPLOY_API_KEY",
        "PGPASSWORD",
        "DB_PASSWORD",
        "NPM_TOKEN",
        "AWS_PROFILE",
    ]
    assert not is_credential_name("TOKENIZERS_PARALLELISM")
    assert not is_credential_name("KEYBOARD_LAYOUT") and not is_credential_name("PWD")
    assert is_credential_name("AWS_ACCESS_KEY_ID") and is_credential_name("GHTOKEN")


def test_cli_credentials_only_for_verbs_that_use_them() -> None:
    assert cli_credentials("docker build . && docker push reg/app:1") == [
        ("docker", "container registry credentials (docker login)")
    ]
    assert [p for p, _ in cli_credentials("git status && git push origin main")] == ["git push"]
    assert [p for p, _ in cli_credentials("cd x && bash -c 'gcloud run deploy'")] == ["gcloud"]
    assert cli_credentials("npm test && terraform plan") == []


def test_observer_counts_uses_and_keeps_the_first_evidence() -> None:
    obs = CredentialObserver()
    for seq in range(8):
        obs.command(
            'curl -H "Authorization: $API_TOKEN" https://x.example', Evidence(seq, f"f:{seq}")
        )
    obs.command("cat ~/.aws/credentials ~/.ssh/id_ed25519.pub", Evidence(9, "f:9"))
    report = obs.report(None, "f")
    by_name = {c.name: c for c in report.credentials}
    assert by_name["API_TOKEN"].count == 8
    assert [e.seq for e in by_name["API_TOKEN"].evidence] == [0, 1, 2, 3, 4]
    assert "~/.aws/credentials" in by_name and "~/.ssh/id_ed25519" not in by_name  # .pub is public


def test_trace_credentials_are_named_with_evidence_and_never_shown(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    secrets = fake_secrets()
    trace = make_trace(tmp_path, "sess-cred-0001", repo.path, repo.agent, secrets)

    [(assessment, report)] = scan_trace(trace)

    assert report.session_id == "sess-cred-0001" and assessment.commit_refs == (repo.agent[:7],)
    found = {(c.kind, c.name): c for c in report.credentials}
    line = {c.name: int(c.evidence[0].source.rsplit(":", 1)[1]) for c in report.credentials}
    # The template's assistant lines: 2 export+aws, 4 curl $GITHUB_TOKEN, 6 GH_TOKEN=gh, 8 clone
    # with a token in the URL, 10 kubectl, 12 cat ~/.aws/credentials (whose output, line 13,
    # prints an access key id).
    assert {n for k, n in found if k == "env_var"} == {
        "AWS_SECRET_ACCESS_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN",
    }
    assert {n for k, n in found if k == "cloud_cli"} == {"aws", "gh", "kubectl"}
    assert (
        line["AWS_SECRET_ACCESS_KEY"] == 2 and line["GITHUB_TOKEN"] == 4 and line["kubectl"] == 10
    )
    assert found[("url_token", "github.com")].evidence[0].seq == 13
    assert found[("credential_file", "~/.aws/credentials")].evidence[0].source.endswith(":12")
    labels = {n for k, n in found if k == "secret"}
    assert labels == {
        f"[REDACTED:aws-secret-access-key:{fingerprint(secrets['AWS_SECRET'])}]",
        f"[REDACTED:github-token:{fingerprint(secrets['GH_TOKEN'])}]",
        f"[REDACTED:aws-access-key-id:{fingerprint(secrets['AKIA'])}]",
    }
    # The token in the clone URL is listed once, as a URL token carrying its label.
    url_fp = fingerprint(secrets["GH_TOKEN2"])
    assert url_fp in found[("url_token", "github.com")].detail
    assert not any(url_fp in n for n in labels)
    dumped = json.dumps(to_jsonable(report))
    assert not [k for k, v in secrets.items() if v in dumped]
