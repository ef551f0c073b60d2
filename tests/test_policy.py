"""The policy: shipped defaults, where it is found, `@defaults`, glob semantics, and
validation that reports every error with file, line and key path."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from agentir.errors import ConfigError
from agentir.policy import (
    DEFAULT_FORBIDDEN_COMMANDS,
    Policy,
    compile_path,
    load_policy,
    match_paths,
)
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _no_env_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTIR_POLICY", raising=False)
    monkeypatch.delenv("AGENTIR_CONFIG", raising=False)


def test_shipped_defaults() -> None:
    p = Policy()
    assert p.budget.usd == 10.0 and p.budget.tokens is None
    assert p.loops.identical_calls == 3 and p.loops.same_error == 3
    assert p.loops.alternating_window == 6 and p.loops.failures_window == (5, 10)
    assert [r.reason for r in p.commands.forbidden] == [r for _, r in DEFAULT_FORBIDDEN_COMMANDS]
    assert "github.com" in p.network.allowed_hosts and not p.network.include_reads
    assert "bypassPermissions" in p.authorization.risky_modes
    assert pickle.loads(pickle.dumps(p)) == p  # it travels to worker processes


def test_no_config_means_defaults(tmp_path: Path) -> None:
    p = load_policy(start=tmp_path)
    assert p == Policy() and p.source == "built-in defaults"


def test_the_nearest_agentir_yaml_policy_section(tmp_path: Path) -> None:
    (tmp_path / "agentir.yaml").write_text(
        "settings:\n  x: 1\npolicy:\n  budget:\n    usd: 2.5\n    tokens: 500000\n"
    )
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    p = load_policy(start=sub)
    assert p.budget.usd == 2.5 and p.budget.tokens == 500_000
    assert p.loops == Policy().loops  # untouched sections keep their defaults
    assert p.source == str(tmp_path / "agentir.yaml")


def test_a_config_without_a_policy_section(tmp_path: Path) -> None:
    (tmp_path / "agentir.yaml").write_text("settings:\n  x: 1\n")
    p = load_policy(start=tmp_path)
    assert p.budget == Policy().budget and "has no policy section" in p.source


def test_a_policy_file_at_top_level_or_under_policy(tmp_path: Path) -> None:
    top = tmp_path / "top.yaml"
    top.write_text("loops:\n  identical_calls: 5\n")
    nested = tmp_path / "nested.yaml"
    nested.write_text("policy:\n  loops:\n    identical_calls: 7\n")
    assert load_policy(top).loops.identical_calls == 5
    assert load_policy(nested).loops.identical_calls == 7


def test_agentir_policy_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("budget: {usd: 1}\n")
    monkeypatch.setenv("AGENTIR_POLICY", str(f))
    assert load_policy(start=tmp_path).budget.usd == 1.0


def test_defaults_token_keeps_the_shipped_list(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(
        "commands:\n  forbidden:\n    - '@defaults'\n"
        "    - {pattern: '\\bterraform\\s+destroy\\b', reason: tears down infrastructure}\n"
        "network:\n  allowed_hosts: [internal.example.com]\n"
    )
    p = load_policy(f)
    assert len(p.commands.forbidden) == len(DEFAULT_FORBIDDEN_COMMANDS) + 1
    assert p.commands.forbidden[-1].reason == "tears down infrastructure"
    assert p.network.allowed_hosts == ("internal.example.com",)  # a list replaces the default


def test_every_error_is_reported_with_file_line_and_key(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        "policy:\n"  # 1
        "  budgt:\n"  # 2
        "    usd: 5\n"  # 3
        "  budget:\n"  # 4
        "    usd: -1\n"  # 5
        "    tokens: lots\n"  # 6
        "  commands:\n"  # 7
        "    forbidden: ['(unclosed', 'ok']\n"  # 8
        "  loops:\n"  # 9
        "    identical_calls: 0\n"  # 10
        "    failures_window: [10, 5]\n"  # 11
        "    identicall: 3\n"  # 12
        "  paths:\n"  # 13
        "    forbidden: ['[oops']\n"  # 14
        "    task_scope: yes please\n"  # 15
        "  network: [a, b]\n"  # 16
    )
    with pytest.raises(ConfigError) as info:
        load_policy(f)
    message = info.value.message
    expected = [
        f"{f}:2: policy.budgt: unknown section (did you mean 'budget'?)",
        f"{f}:5: policy.budget.usd: must be at least 0, got -1",
        f"{f}:6: policy.budget.tokens: must be a whole number, got 'lots'",
        f"{f}:8: policy.commands.forbidden.0: bad regex '(unclosed'",
        f"{f}:10: policy.loops.identical_calls: must be at least 1, got 0",
        f"{f}:11: policy.loops.failures_window: needs 1 <= failures <= calls",
        f"{f}:12: policy.loops.identicall: unknown key (did you mean 'identical_calls'?)",
        f"{f}:14: policy.paths.forbidden.0: bad path glob '[oops'",
        f"{f}:15: policy.paths.task_scope: must be true or false",
        f"{f}:16: policy.network: must be a mapping",
    ]
    for line in expected:
        assert line in message, line
    assert f"({len(expected)} error(s))" in message


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text("policy:\n  budget: {usd: 1\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: invalid YAML"):
        load_policy(f)


def test_from_dict_without_a_file_names_the_key_path() -> None:
    with pytest.raises(ConfigError, match=r"loops.same_error: must be a whole number"):
        Policy.from_dict({"loops": {"same_error": 2.5}})
    assert Policy.from_dict({"budget": {"usd": None}}).budget.usd is None


def test_the_example_file_documents_the_defaults() -> None:
    p = load_policy(ROOT / "agentir.example.yaml")
    d = Policy()
    for name in ("budget", "tools", "network", "authorization", "loops", "cost_spiral", "context"):
        assert getattr(p, name) == getattr(d, name), name
    for name in ("allowed_write", "forbidden", "sensitive"):
        assert [x.text for x in getattr(p.paths, name)] == [x.text for x in getattr(d.paths, name)]
    assert [(r.pattern, r.reason) for r in p.commands.forbidden] == [
        (r.pattern, r.reason) for r in d.commands.forbidden
    ]


@pytest.mark.parametrize(
    ("pattern", "full", "rel", "hit"),
    [
        (".", "/r/src/a.py", "src/a.py", True),
        (".", "/elsewhere/a.py", None, False),
        (".env*", "/r/app/.env.local", "app/.env.local", True),
        (".git/", "/r/.git/hooks/pre-commit", ".git/hooks/pre-commit", True),
        (".git/", "/r/.gitignore", ".gitignore", False),
        ("src/**", "/r/src/deep/a.py", "src/deep/a.py", True),
        ("src/**", "/r/lib/src/a.py", "lib/src/a.py", False),
        (".github/workflows/**", "/r/.github/workflows/ci.yml", ".github/workflows/ci.yml", True),
        ("~/.ssh/**", "/home/dev/.ssh/config", None, True),
        ("~/.ssh/**", "/Users/dev/.ssh/id_rsa", None, True),
        ("~/.ssh/**", "~/.ssh/known_hosts", None, True),
        ("/etc/**", "/etc/hosts", None, True),
        ("*.pem", "/r/certs/server.pem", "certs/server.pem", True),
        ("secrets/", "/r/config/secrets/db.txt", "config/secrets/db.txt", True),
        ("secrets/", "/r/mysecrets/db.txt", "mysecrets/db.txt", False),
    ],
)
def test_path_globs(pattern: str, full: str, rel: str | None, hit: bool) -> None:
    assert bool(match_paths((compile_path(pattern),), full, rel)) is hit


def test_negation_takes_a_path_back() -> None:
    rules = (compile_path(".env*"), compile_path("!.env.example"))
    assert match_paths(rules, "/r/.env", ".env") == ".env*"
    assert match_paths(rules, "/r/.env.example", ".env.example") is None
