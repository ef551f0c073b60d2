"""Runbooks: the shipped ones validate; broken ones report every error with its line; templating."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from agentir.commandline import TemplateValueError, placeholders, render_argv
from agentir.errors import ActionError, ConfigError
from agentir.resources import shipped_dir
from agentir.runbooks import (
    PHASES,
    load_dir,
    load_runbook,
    load_runbooks,
    parse_duration,
    render_command,
    runbook_dirs,
    validate_dir,
)

DATA = Path(__file__).resolve().parent / "data" / "runbooks"
HOSTILE = ["; rm -rf /", "$(touch pwned)", "`touch pwned`", "a b\nc", "'\"; echo hi", "--force"]


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `needle` (counted from the fixture)."""
    seen = 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_shipped_runbooks_validate_clean() -> None:
    folder = shipped_dir("runbooks")
    assert validate_dir(folder) == []
    runbooks = load_dir(folder)
    assert sorted(runbooks) == ["SEV1", "SEV2", "SEV3"]


def test_shipped_deadlines_follow_the_policy() -> None:
    runbooks = load_dir(shipped_dir("runbooks"))
    sev1 = runbooks["SEV1"].phase_deadlines()
    assert sev1["contain"] == timedelta(minutes=15)
    assert sev1["learn"] == timedelta(hours=48)
    assert runbooks["SEV2"].phase_deadlines()["assess"] == timedelta(hours=1)
    assert "contain" not in runbooks["SEV3"].phase_deadlines()


def test_shipped_sev1_has_the_containment_steps() -> None:
    sev1 = load_dir(shipped_dir("runbooks"))["SEV1"]
    builtins = {s.builtin for s in sev1.steps("contain")}
    assert {"contain.pause", "contain.kill", "credentials.list", "freeze"} <= builtins
    aws = sev1.render(sev1.step("revoke-aws-sessions"), {"now": "2030-01-02T03:04:05Z"})
    assert aws[:3] == ["aws", "iam", "put-role-policy"]
    assert aws[aws.index("--role-name") + 1] == "agent-automation"
    policy = aws[aws.index("--policy-document") + 1]
    # JSON braces in the template are literal; only {now} was substituted.
    assert '"aws:TokenIssueTime":"2030-01-02T03:04:05Z"' in policy
    assert policy.startswith('{"Version":"2012-10-17"')
    gh = render_command(sev1.step("revoke-github-token"), {})
    assert gh == ["gh", "api", "-X", "DELETE", "/installation/token"]
    assert all(s.confirm for s in sev1.steps() if s.destructive)
    assert {c.role for c in sev1.contacts} == {"on_call", "agent_infra", "escalation"}
    assert sev1.traces_location and sev1.replays


def test_broken_runbook_reports_every_error_with_its_line() -> None:
    folder = DATA / "broken"
    sev1 = folder / "sev1.yaml"
    errors = validate_dir(folder)
    got = {(Path(e.file).name, e.line, e.key) for e in errors}
    expected = {
        ("sev1.yaml", line_of(sev1, "colour:"), "colour"),
        ("sev1.yaml", line_of(sev1, "on_call:"), "contacts.on_call"),
        ("sev1.yaml", line_of(sev1, "- id: kill"), "phases.contain.1"),
        ("sev1.yaml", line_of(sev1, "{installation.token}"), "phases.contain.2.command"),
        ("sev1.yaml", line_of(sev1, "deadline: 15 minutes"), "phases.contain.2.deadline"),
        ("sev1.yaml", line_of(sev1, "- id: pause", 2), "phases.contain.3.id"),
        ("sev1.yaml", line_of(sev1, "- id: look"), "phases.assess.0"),
        ("sev1.yaml", line_of(sev1, "kind: magic"), "phases.assess.0.kind"),
        ("sev1.yaml", line_of(sev1, "deadlin: 1h"), "phases.assess.0.deadlin"),
        ("sev1.yaml", line_of(sev1, "builtin: freezer"), "phases.assess.1.builtin"),
        ("sev1.yaml", line_of(sev1, "on_failure: panic"), "phases.assess.1.on_failure"),
        ("sev1.yaml", line_of(sev1, "owner: agent_infra"), "phases.assess.1.owner"),
        ("sev1.yaml", line_of(sev1, "deadline: 48"), "phases.learn.0.deadline"),
        ("sev2.yaml", line_of(folder / "sev2.yaml", "command:"), "phases.contain.0.command"),
    }
    assert got == expected
    assert len(errors) == len(expected)
    messages = {e.key: e.message for e in errors}
    assert messages["phases.contain.2.deadline"] == (
        '"15 minutes" is not a duration (use 15m, 1h, 2d)'
    )
    assert "did you mean 'deadline'" in messages["phases.assess.0.deadlin"]
    assert "did you mean 'freeze'" in messages["phases.assess.1.builtin"]
    assert "confirm: true" in messages["phases.contain.1"]
    assert "first on line" in messages["phases.contain.3.id"]
    assert "missing required key 'reach'" in messages["contacts.on_call"]
    assert "missing required key 'title'" in messages["phases.assess.0"]
    rendered = str(next(e for e in errors if e.key == "phases.contain.2.deadline"))
    line = line_of(sev1, "deadline: 15 minutes")
    assert (
        rendered
        == f'{sev1}:{line}: phases.contain.2.deadline: "15 minutes" is not a duration (use 15m, 1h, 2d)'
    )


def test_bad_yaml_and_duplicate_keys_are_reported_with_lines() -> None:
    folder = DATA / "bad_yaml"
    errors = validate_dir(folder)
    by_file = {(Path(e.file).name, e.line): e for e in errors}
    sev3 = folder / "sev3.yaml"
    bad = [e for e in errors if Path(e.file).name == "sev3.yaml"]
    assert len(bad) == 1 and "invalid YAML" in bad[0].message
    # The scanner fails at the end of the file; the message names where the string started.
    assert f"started on line {line_of(sev3, 'unterminated')}" in bad[0].message
    sev2 = folder / "sev2.yaml"
    dup = by_file[("sev2.yaml", line_of(sev2, "deadline: 2h"))]
    assert dup.key == "phases.assess.0.deadline" and dup.message == "duplicate key"
    assert any("missing required key 'severity'" in e.message for e in errors)
    assert len(errors) == 3


def test_load_runbooks_refuses_a_broken_folder() -> None:
    with pytest.raises(ConfigError) as caught:
        load_runbooks(DATA / "broken")
    assert "invalid runbook" in caught.value.message
    assert "runbook validate" in (caught.value.hint or "")


def test_explicit_folder_overrides_per_severity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runbooks = load_runbooks(DATA / "override")
    assert runbooks["SEV1"].title == "Team SEV1"
    assert runbooks["SEV1"].phase_deadlines()["contain"] == timedelta(minutes=10)
    # SEV2 and SEV3 are not in the override folder: the shipped ones fill in.
    assert runbooks["SEV2"].path.parent == shipped_dir("runbooks")
    assert runbooks["SEV3"].path.parent == shipped_dir("runbooks")


def test_repository_local_folder_is_found_from_a_subdirectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "repo" / ".agentir" / "runbooks"
    local.mkdir(parents=True)
    shutil.copy(DATA / "override" / "sev1.yaml", local / "sev1.yaml")
    deep = tmp_path / "repo" / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert runbook_dirs()[0] == local
    assert load_runbook("SEV1").path == local / "sev1.yaml"
    # An explicit folder still wins over the repository-local one.
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    (explicit / "sev1.yaml").write_text(
        (DATA / "override" / "sev1.yaml").read_text().replace("Team SEV1", "Explicit SEV1")
    )
    assert load_runbook("SEV1", explicit).title == "Explicit SEV1"
    assert runbook_dirs(explicit) == [explicit, local, shipped_dir("runbooks")]


def test_drill_files_are_not_runbooks() -> None:
    assert validate_dir(DATA / "override") == []
    assert list(load_dir(DATA / "override")) == ["SEV1"]


def test_steps_and_phases() -> None:
    runbook = load_dir(DATA / "override")["SEV1"]
    assert [s.id for s in runbook.steps("contain")] == ["pause", "revoke-vault", "shell-note"]
    assert [s.id for s in runbook.steps()] == ["pause", "revoke-vault", "shell-note", "review"]
    assert runbook.steps("assess") == ()
    assert set(runbook.phases) == set(PHASES)
    assert runbook.step("revoke-vault").destructive and runbook.step("revoke-vault").confirm
    assert runbook.step("revoke-vault").on_failure == "escalate"
    with pytest.raises(ConfigError):
        runbook.steps("cleanup")
    with pytest.raises(ConfigError):
        runbook.step("nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("48h", timedelta(hours=48)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["15 minutes", "15", "m15", "1.5h", "", "15M", "-5m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("value", HOSTILE)
def test_list_command_keeps_hostile_values_in_one_argument(value: str) -> None:
    runbook = load_dir(DATA / "override")["SEV1"]
    argv = runbook.render(runbook.step("revoke-vault"), {"session.id": value})
    assert argv[:4] == ["vault", "lease", "revoke", "-prefix"]
    assert argv[4] == f"auth/agent-writer/{value}"
    assert len(argv) == 5


@pytest.mark.parametrize("value", HOSTILE)
def test_shell_command_quotes_hostile_values(value: str, tmp_path: Path) -> None:
    runbook = load_dir(DATA / "override")["SEV1"]
    argv = runbook.render(runbook.step("shell-note"), {"session.id": value})
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    # Run it for real: the value must arrive as one printf argument and nothing else may run.
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stderr == ""
    assert (tmp_path / "containment.log").read_text() == value + "\n"
    assert not (tmp_path / "pwned").exists()


def test_values_are_not_rescanned_for_placeholders() -> None:
    argv = render_argv(["echo", "{session.id}", "{trace}"], {"session.id": "{trace}", "trace": "t"})
    assert argv == ["echo", "{trace}", "t"]


def test_missing_value_is_an_error_naming_the_placeholder() -> None:
    runbook = load_dir(DATA / "override")["SEV1"]
    with pytest.raises(TemplateValueError, match=r"\{session\.id\}"):
        runbook.render(runbook.step("revoke-vault"), {})
    check = runbook.checks[0]
    assert runbook.render_check(check, {"repo": "/srv/r"}) == ["make", "smoke", "REPO=/srv/r"]


def test_placeholders_lists_names_and_ignores_json_braces() -> None:
    template = ['{"a":{"b":"{now}"}}', "{incident.id}", "{Not_A_Placeholder}"]
    assert placeholders(template) == ["now", "incident.id"]


def test_placeholders_inside_quotes_in_shell_commands_are_refused(tmp_path: Path) -> None:
    text = (DATA / "override" / "sev1.yaml").read_text()
    text = text.replace("printf '%s\\n' {session.id}", "echo 'session {session.id}'")
    (tmp_path / "sev1.yaml").write_text(text)
    errors = validate_dir(tmp_path)
    assert len(errors) == 1 and "{session.id} is inside quotes" in errors[0].message
    assert errors[0].line == line_of(tmp_path / "sev1.yaml", "echo")
    with pytest.raises(ActionError, match="inside quotes"):
        render_argv("echo '{trace}'", {"trace": "x"}, shell=True)
    with pytest.raises(ActionError, match="shell: true"):
        render_argv("echo {trace}", {"trace": "x"})


@pytest.mark.parametrize("value", ["{contain: pause}", "[contain.kill]"])
def test_a_builtin_of_the_wrong_type_is_an_error_not_a_crash(tmp_path: Path, value: str) -> None:
    text = (shipped_dir("runbooks") / "sev1.yaml").read_text()
    text = text.replace("builtin: contain.pause", f"builtin: {value}", 1)
    assert f"builtin: {value}" in text
    (tmp_path / "sev1.yaml").write_text(text)
    errors = validate_dir(tmp_path)
    assert any(e.key.endswith(".builtin") and "is not one of" in e.message for e in errors)
