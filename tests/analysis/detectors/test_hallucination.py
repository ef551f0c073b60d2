"""Confident hallucination: a final success claim the last test contradicts or never checked."""

from __future__ import annotations

from agentir.analysis.detectors.hallucination import claims, is_test_command
from tests.analysis.detectors.session import Session, found


def test_claim_after_a_failing_test_is_high() -> None:
    s = Session()
    s.edit("/repo/src/login.py")
    test = s.bash("python -m pytest tests/ -q", ok=False, output="1 failed, 12 passed")
    s.say("Fixed the login bug. All tests pass now.")
    (f,) = found(s.run(), "hallucination", rule="contradicted")
    assert f.severity == "high" and f.seqs == (s.events[-1].seq, test)
    assert "All tests pass now" in f.message and "the last test run failed" in f.message


def test_claim_after_passing_tests_is_fine() -> None:
    s = Session()
    s.edit("/repo/src/login.py")
    s.bash("npm test", ok=False, output="1 failing")
    s.edit("/repo/src/login.py", old="b", new="c")
    s.bash("npm test", ok=True, output="14 passing")
    s.say("Done: all tests pass.")
    assert not found(s.run(), "hallucination")


def test_a_message_followed_by_more_work_is_not_a_claim() -> None:
    s = Session()
    s.bash("pytest", ok=False, output="1 failed")
    s.say("Fixed the import. Now let me run the tests again.")
    s.edit("/repo/src/a.py")
    s.bash("pytest", ok=True, output="3 passed")
    s.say("All 3 tests pass.")
    assert not found(s.run(), "hallucination")


def test_claiming_tests_pass_after_a_failed_run_and_an_unchecked_edit_is_high() -> None:
    s = Session()
    test = s.bash("pytest tests/test_login.py", ok=False, output="1 failed")
    edit = s.edit("/repo/src/login.py")
    s.say("Fixed. All tests pass.")
    (f,) = found(s.run(), "hallucination", rule="contradicted")
    assert f.severity == "high" and test in f.seqs and f"edit at seq {edit}" in f.message


def test_a_plain_claim_after_a_failed_run_and_an_edit_is_a_warning() -> None:
    s = Session()
    s.bash("pytest", ok=False, output="1 failed")
    s.edit("/repo/src/login.py")
    s.say("I fixed the login bug.")
    (f,) = found(s.run(), "hallucination")
    assert f.severity == "warning" and f.data["rule"] == "unverified_tests"


def test_claiming_tests_pass_without_running_any() -> None:
    s = Session()
    s.edit("/repo/src/a.py")
    s.say("The fix is in place and all tests pass.")
    (f,) = found(s.run(), "hallucination", rule="unverified_tests")
    assert f.severity == "warning" and "no test command ran" in f.message


def test_tests_not_rerun_after_the_last_edit() -> None:
    s = Session()
    s.bash("cargo test", ok=True, output="test result: ok. 9 passed")
    edit = s.edit("/repo/src/lib.rs")
    s.say("All tests are passing.")
    s.user("thanks")
    (f,) = found(s.run(), "hallucination", rule="unverified_tests")
    assert edit in f.seqs and "no test ran after the last edit" in f.message


def test_a_plain_success_claim_over_untested_code_is_information() -> None:
    s = Session()
    s.edit("/repo/src/a.py")
    s.say("I've successfully implemented the feature.")
    (f,) = found(s.run(), "hallucination")
    assert f.severity == "info" and f.data["rule"] == "unverified"


def test_docs_only_and_honest_reports_are_silent() -> None:
    s = Session()
    s.write("/repo/CLAUDE.md")
    s.say("I've successfully created CLAUDE.md.")
    assert not found(s.run(), "hallucination")
    t = Session()
    t.bash("go test ./...", ok=False, output="FAIL")
    t.say("The fix is not complete: one test still fails.")
    assert not found(t.run(), "hallucination")


def test_a_later_passing_run_softens_a_contradicted_claim() -> None:
    s = Session()
    s.bash("pytest", ok=False, output="1 failed")
    s.say("All tests pass.")
    s.user("are you sure? run them")
    s.bash("pytest", ok=True, output="4 passed")
    (f,) = found(s.run(), "hallucination", rule="contradicted")
    assert f.severity == "warning" and "later test run passed" in f.data["note"]


def test_test_commands() -> None:
    for cmd in (
        "pytest -q",
        "python3 -m pytest tests/",
        "uv run pytest",
        "cd web && npm test",
        "npm run test:unit",
        "yarn test",
        "go test ./...",
        "cargo test --all",
        "npx jest src",
        "make test",
        "./scripts/run_tests.sh",
        "python -m unittest discover",
    ):
        assert is_test_command(cmd), cmd
    for cmd in ("pip install pytest", "cat tests/test_a.py", "git checkout main", "ls tests"):
        assert not is_test_command(cmd), cmd


def test_claim_sentences() -> None:
    assert claims("Great news! All 12 tests passed.") == ("All 12 tests passed.", True)
    assert claims("I fixed the bug.") == ("I fixed the bug.", False)
    assert claims("The tests still fail.") == (None, False)
    assert claims("It's not fixed yet, but I found the cause.") == (None, False)
    assert claims("- `/app/` - Complete Next.js application") == (None, False)
    assert claims("The migration is now complete.")[0] == "The migration is now complete."
