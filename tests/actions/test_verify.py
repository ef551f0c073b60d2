"""Verification checks: real processes, timeouts that kill the whole group, redacted output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentir.actions.verify import CheckSpec, parse_check, run_check, summary


def test_parse_check_splits_like_a_shell_without_running_one() -> None:
    spec = parse_check("pytest -q 'tests/a b.py'", timeout=30)
    assert spec.argv == ("pytest", "-q", "tests/a b.py")
    assert spec.timeout == 30
    with pytest.raises(ValueError):
        parse_check("   ")


def test_pass_and_fail_with_output_tail(tmp_path: Path) -> None:
    ok = run_check(CheckSpec("ok", (sys.executable, "-c", "print('fine')")), tmp_path, "after")
    assert ok.ok and ok.exit_code == 0 and ok.output_tail.strip() == "fine"
    assert ok.cwd == str(tmp_path) and ok.stage == "after"
    bad = run_check(
        CheckSpec("bad", (sys.executable, "-c", "import sys; print('x'*9000); sys.exit(3)")),
        tmp_path,
        "before",
    )
    assert not bad.ok and bad.exit_code == 3
    assert len(bad.output_tail) <= 4000


def test_no_shell_means_metacharacters_are_plain_arguments(tmp_path: Path) -> None:
    res = run_check(parse_check(f"{sys.executable} -c 'import sys; print(sys.argv[1:])' ; ls"),
                    tmp_path, "after")  # fmt: skip
    assert "[';', 'ls']" in res.output_tail


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    child = tmp_path / "child.py"
    child.write_text(f"import time\ntime.sleep(3)\nopen({str(marker)!r}, 'w')\n")
    parent = tmp_path / "parent.py"
    parent.write_text(
        f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, {str(child)!r}])\n"
        "time.sleep(30)\n"
    )
    code = f"exec(open({str(parent)!r}).read())"
    res = run_check(CheckSpec("slow", (sys.executable, "-c", code), timeout=0.5), tmp_path, "after")
    assert res.timed_out and not res.ok and res.exit_code is None
    assert "timed out" in (res.error or "")
    import time

    time.sleep(3.5)
    assert not marker.exists()


def test_missing_program_is_a_failed_check_not_a_crash(tmp_path: Path) -> None:
    res = run_check(CheckSpec("nope", ("/nonexistent/prog",)), tmp_path, "after")
    assert not res.ok and res.exit_code is None and res.error


def test_output_is_redacted(tmp_path: Path) -> None:
    token = "ghp_" + "A1b2C3d4" * 5
    res = run_check(
        CheckSpec("leak", (sys.executable, "-c", f"print('{token}')")), tmp_path, "after"
    )
    assert token not in res.output_tail
    assert "[REDACTED:github-token:" in res.output_tail
    assert summary([res])["ok"] is True
