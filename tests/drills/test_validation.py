"""Scenario and answers-file checks: every error, each with the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentir.drills import (
    cadence_days,
    find_scenario,
    load_answers,
    load_library,
    parse_answer,
    parse_scenario,
    validate_paths,
)
from agentir.errors import ConfigError, UsageError
from tests.conftest import DATA

FIXTURES = DATA / "drills"

# (line, key, words in the message) for tests/data/drills/broken.yaml, read off the file
BROKEN = [
    (2, "id", "use lowercase"),
    (4, "severity", "'SEV4' is not one of"),
    (5, "kill_switch", "true or false"),
    (6, "contacts.1", "'pager'"),
    (9, "injects.0.at_minute", ">= 0"),
    (11, "injects.1", "missing required key 'text'"),
    (13, "trace.agent", "'cursor'"),
    (15, "trace.started_minutes_ago", "> 0"),
    (18, "trace.beats.0.exit", "whole number"),
    (19, "trace.beats.1", "use `message` for text alone"),
    (20, "trace.beats.2.write", "relative to the repository"),
    (22, "trace.beats.3", "needs 'new'"),
    (24, "trace.beats.4.repeat", "from 1 to 50"),
    (26, "trace.beats.4.beats.0.commit", "cannot be repeated"),
    (27, "trace.beats.5.commit", "'nobody' is not an agent commit"),
    (29, "trace.beats.6.colour", "unknown key"),
    (32, "repo.files.../outside.txt", "outside the repository"),
    (33, "repo.files.app.py", "expected text"),
    (36, "repo.commits.0.by", "human or agent"),
    (40, "repo.commits", "'agent-2' is never made in the trace"),
    (45, "repo.commits.1.author", "Name <email>"),
    (49, "expected.contain.1", "expected twice"),
    (50, "expected.cleanup", "did you mean 'learn'"),
    (52, "questions", "non-empty list"),
]


def test_a_broken_scenario_reports_every_error_with_its_line() -> None:
    scenario, errors = parse_scenario(FIXTURES / "broken.yaml")
    assert scenario is None
    found = [(e.line, e.key, e.message) for e in errors]
    for line, key, words in BROKEN:
        assert any(n == line and k == key and words in m for n, k, m in found), (line, key, found)
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    assert all(e.file.endswith("broken.yaml") for e in errors)
    assert str(errors[0]).startswith(f"{FIXTURES / 'broken.yaml'}:2: id: ")


def test_duplicate_keys_and_bad_yaml_are_reported_with_lines() -> None:
    _, errors = parse_scenario(FIXTURES / "duplicate.yaml")
    assert [(e.line, e.key, e.message) for e in errors] == [(5, "severity", "duplicate key")]
    _, errors = parse_scenario(FIXTURES / "not_yaml.yaml")
    (error,) = errors
    assert (
        error.line == 4 and "invalid YAML" in error.message and "started on line 3" in error.message
    )


def test_a_file_that_is_not_a_drill_says_so(tmp_path: Path) -> None:
    runbook = tmp_path / "sev1.yaml"
    runbook.write_text("kind: runbook\nseverity: SEV1\n")
    _, errors = parse_scenario(runbook)
    assert any(e.key == "kind" and "kind: drill" in e.message and e.line == 1 for e in errors)


def test_validate_paths_checks_folders_and_duplicate_ids(tmp_path: Path) -> None:
    shipped = load_library()["infinite-loop"].path
    (tmp_path / "a.yaml").write_text(shipped.read_text())
    (tmp_path / "b.yaml").write_text(shipped.read_text())
    errors = validate_paths([tmp_path])
    assert len(errors) == 1 and errors[0].key == "id" and "already defined" in errors[0].message
    assert errors[0].line == 3  # `id:` is on the third line of the shipped file
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no scenario files" in validate_paths([empty])[0].message


def test_a_team_scenario_overrides_the_shipped_one_with_the_same_id(tmp_path: Path) -> None:
    folder = tmp_path / "runbooks" / "scenarios"
    folder.mkdir(parents=True)
    text = load_library()["infinite-loop"].path.read_text()
    (folder / "loop.yaml").write_text(text.replace("title: The infinite loop", "title: Our loop"))
    library = load_library(tmp_path / "runbooks")
    assert library["infinite-loop"].title.startswith("Our loop")
    assert library["kill-switch"].path.parent.name == "scenarios"  # the rest still shipped
    broken = folder / "zz.yaml"
    broken.write_text((FIXTURES / "duplicate.yaml").read_text())
    with pytest.raises(ConfigError, match=r"zz.yaml:5: severity: duplicate key"):
        load_library(tmp_path / "runbooks")


def test_find_scenario_by_id_or_path() -> None:
    assert find_scenario("kill-switch").kill_switch
    assert find_scenario(str(load_library()["cost-spiral"].path)).id == "cost-spiral"
    with pytest.raises(UsageError, match="no drill scenario 'nope'") as info:
        find_scenario("nope")
    assert "force-push-leak" in (info.value.hint or "")
    with pytest.raises(UsageError, match="no scenario file"):
        find_scenario("missing.yaml")
    with pytest.raises(ConfigError, match="invalid drill scenario"):
        find_scenario(str(FIXTURES / "broken.yaml"))


def test_answers_file_errors_are_all_listed_with_lines() -> None:
    with pytest.raises(ConfigError) as info:
        load_answers(FIXTURES / "answers_broken.yaml")
    text = info.value.message
    name = FIXTURES / "answers_broken.yaml"
    for line, key in [
        (1, "default"),
        (4, "steps.kill-agent"),
        (7, "timing.pause-agent"),
        (8, "timing.kill-agent"),
        (10, "hot_wash.first"),
        (14, "action_items.0.when"),
        (15, "action_items.1"),
        (16, "colour"),
    ]:
        assert f"{name}:{line}: {key}:" in text, (line, key, text)
    assert "steps.pause-agent" not in text and "list-credentials" not in text


def test_answers_parse_the_forms_people_write() -> None:
    assert parse_answer("done").result == "done"  # type: ignore[union-attr]
    assert parse_answer("d") == parse_answer("DONE")
    assert parse_answer("skip: paused was enough").note == "paused was enough"  # type: ignore[union-attr]
    assert parse_answer("s not needed").result == "skip"  # type: ignore[union-attr]
    assert parse_answer({"gap": "no access"}).note == "no access"  # type: ignore[union-attr]
    assert parse_answer("g: role unknown: ask infra").note == "role unknown: ask infra"  # type: ignore[union-attr]
    for bad in ("skip", "gap:", "maybe", 3, None, {"skip": "a", "gap": "b"}):
        assert parse_answer(bad) is None, bad


def test_cadence_comes_from_agentir_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "agentir.yaml"
    monkeypatch.setenv("AGENTIR_CONFIG", str(config))
    config.write_text("settings: {}\n")
    assert cadence_days() == 90
    config.write_text("drills:\n  cadence_days: 30\n")
    assert cadence_days() == 30
    config.write_text("drills:\n  cadence_days: 0\n")
    with pytest.raises(ConfigError, match=r"agentir.yaml:2: drills.cadence_days"):
        cadence_days()
    config.write_text("drills:\n  cadance_days: 30\n")
    with pytest.raises(ConfigError, match="unknown key"):
        cadence_days()
