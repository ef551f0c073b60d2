"""Credential detection and redaction (fake credentials, built at run time)."""

from __future__ import annotations

import pytest

from agentir.analysis.secrets import find_secrets, fingerprint, redact

# Built by concatenation so that no scanner mistakes this test file for a leak.
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
ANTHROPIC = "sk-ant-" + "api03-" + "Zx9" * 10
OPENAI = "sk-proj-" + "Qw3" * 10
SLACK = "xoxb-" + "123456789012-abcdefghijkl"
KEY_BLOCK = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (f"export AWS_ACCESS_KEY_ID={AWS_ID}", AWS_ID, "aws-access-key-id"),
        (f"git push https://x-access-token:{GITHUB}@github.com/o/r", GITHUB, None),
        (f"GITHUB_TOKEN={GITHUB}", GITHUB, "github-token"),
        (f"ANTHROPIC_API_KEY={ANTHROPIC}", ANTHROPIC, "anthropic-api-key"),
        (f"key: {OPENAI}", OPENAI, "openai-api-key"),
        (f"token {SLACK}", SLACK, "slack-token"),
        (f"cat id_ed25519\n{KEY_BLOCK}\n", KEY_BLOCK, "private-key"),
        ("psql postgres://admin:hunter2hunter@db/x", "hunter2hunter", "url-credentials"),
        ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery", "password"),
        ('{"api_key": "abcd1234efgh5678"}', "abcd1234efgh5678", "password"),
        (
            "curl -H 'Authorization: Bearer abcdefghijklmnop0123'",
            "abcdefghijklmnop0123",
            "bearer-token",
        ),
    ],
)
def test_secrets_are_found_and_redacted(text: str, secret: str, kind: str | None) -> None:
    hits = find_secrets(text)
    assert hits, text
    if kind:
        assert hits[0].kind == kind
    out = redact(text)
    assert secret not in out
    assert f":{fingerprint(secret)}]" in out


@pytest.mark.parametrize(
    "text",
    [
        "password=$PASSWORD",
        "token=None",
        "def get_token(self): return self.token",
        "api_key: str = Field(...)",
        "the secret sauce is the key point",
        "password = os.environ['DB_PASSWORD']",
        "ls -la ~/.ssh",
    ],
)
def test_placeholders_and_code_are_not_secrets(text: str) -> None:
    assert find_secrets(text) == []
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact(f"GITHUB_TOKEN={GITHUB} and {AWS_ID}")
    assert redact(once) == once


@pytest.mark.parametrize(
    "text",
    [
        'apiKey: customModel.api_key || ""',
        "token = request.headers.get('x')",
        "password: getPassword()",
        "api_key = settings_value",
        "secret: clientSecret",
        "TOKEN=GITHUB_TOKEN_NAME",
    ],
)
def test_code_values_are_not_secrets(text: str) -> None:
    assert find_secrets(text) == []


def test_a_key_word_ending_a_line_is_not_a_password() -> None:
    assert find_secrets("if not check_password:\n        return 401") == []
    assert find_secrets("password = hunter2hunter2\n") != []
