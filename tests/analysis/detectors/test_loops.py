"""Loop detector: identical calls, the same error, A-B-A-B, talk without action; and what
must not fire (polling whose output changes, a retry that then succeeds, progress)."""

from __future__ import annotations

from agentir.policy import Loops, Policy
from tests.analysis.detectors.session import Session, found


def test_the_fourth_identical_call_without_progress_fires_a_warning() -> None:
    s = Session()
    seqs = [s.bash("cat setup.py", output="name='x'") for _ in range(3)]
    assert not found(s.run(), "loop")
    seqs.append(s.bash("cat setup.py", output="name='x'"))
    (f,) = found(s.run(), "loop", pattern="identical_calls")
    assert f.severity == "warning" and list(f.seqs) == seqs
    assert "`cat setup.py` ran 4 times with the same result" in f.message
    assert f.data["source"] == f"session.jsonl:{seqs[0] + 1}"


def test_more_than_twice_the_threshold_is_stuck() -> None:
    s = Session()
    for _ in range(7):
        s.bash("ls  -la   src", output="a.py\n")  # whitespace differences are the same call
    (f,) = found(s.run(), "loop", pattern="identical_calls")
    assert f.severity == "high" and f.data["count"] == 7 and "stuck" in f.message


def test_same_error_three_times_ignores_timing_noise() -> None:
    s = Session()
    for t in ("0.51", "0.53", "1.20"):
        s.bash(
            "pytest tests/test_login.py", ok=False, output=f"E   AssertionError\n1 failed in {t}s"
        )
    (f,) = found(s.run(), "loop", pattern="same_error")
    assert f.severity == "warning" and f.data["count"] == 3
    assert "failed the same way 3 times" in f.message


def test_a_retry_that_then_succeeds_is_not_a_loop() -> None:
    s = Session()
    for _ in range(3):
        s.bash("npm install", ok=False, output="npm ERR! network ECONNRESET")
    s.bash("npm install", ok=True, output="added 120 packages")
    a = s.run()
    assert not found(a, "loop") and not found(a, "failures")


def test_a_stuck_retry_that_finally_succeeds_stays_as_a_warning() -> None:
    s = Session()
    for _ in range(6):
        s.bash("npm install", ok=False, output="npm ERR! network ECONNRESET")
    s.bash("npm install", ok=True, output="added 120 packages")
    (f,) = found(s.run(), "loop", pattern="same_error")
    assert f.severity == "warning" and "then succeeded" in f.data["note"]


def test_polling_whose_output_changes_never_fires() -> None:
    s = Session()
    for i in range(12):
        s.bash("sleep 30 && gh run view 4242", output=f"in_progress ({i} of 12 jobs done)")
    for i in range(6):
        s.tool("BashOutput", {"bash_id": "b1"}, output=f"line {i}")
    assert not found(s.run(), "loop")


def test_polling_with_the_same_output_gets_a_higher_threshold() -> None:
    s = Session()
    for _ in range(20):
        s.bash("kubectl get pods -w", output="api-1 0/1 Pending")
    assert not found(s.run(), "loop")
    s.bash("kubectl get pods -w", output="api-1 0/1 Pending")
    (f,) = found(s.run(), "loop")
    assert f.severity == "warning" and f.data["count"] == 21


def test_a_new_file_changed_between_calls_is_progress() -> None:
    s = Session()
    for i in range(6):
        s.bash("pytest -q", ok=False, output="1 failed")
        s.write(f"/repo/src/mod{i}.py")
    assert not found(s.run(), "loop")


def test_alternating_calls_without_progress() -> None:
    s = Session()
    for _ in range(3):
        s.bash("git diff", output="")
        s.bash("git status", output="nothing to commit")
    a = s.run()
    (f,) = found(a, "loop", pattern="alternating")
    assert f.severity == "warning" and len(f.seqs) == 6
    assert not found(a, "loop", pattern="identical_calls")  # the alternation covers them
    for _ in range(3):
        s.bash("git diff", output="")
        s.bash("git status", output="nothing to commit")
    (f,) = found(s.run(), "loop", pattern="alternating")
    assert f.severity == "high" and f.data["count"] == 12


def test_a_fix_and_undo_flip_flop_is_a_cycle_of_four() -> None:
    s = Session()
    s.edit("/repo/src/app.py")  # the file is touched once: later edits are not new files
    for _ in range(3):
        s.edit("/repo/src/app.py", old="x = 1", new="x = 2")
        s.bash("pytest -q", ok=False, exit_code=1, output="E   TypeError: bad operand")
        s.edit("/repo/src/app.py", old="x = 2", new="x = 1")
        s.bash("pytest -q", ok=False, exit_code=1, output="E   KeyError: 'user'")
    (f,) = found(s.run(), "loop", pattern="alternating")
    assert f.data["period"] == 4 and len(f.seqs) == 12 and "a cycle of 4 calls" in f.message


def test_alternating_calls_with_changing_results_are_work() -> None:
    s = Session()
    for i in range(4):
        s.bash("make build", output=f"built {i}")
        s.bash("./app --selftest", ok=True, output=f"check {i}")
    assert not found(s.run(), "loop")


def test_messages_without_tool_calls() -> None:
    s = Session()
    for i in range(9):
        s.say(f"thinking out loud {i}")  # before any tool call: the format may record none
    assert not found(s.run(), "loop")
    s.bash("ls", output="a")
    for i in range(7):
        s.say(f"I will now look at the file {i}")
    assert not found(s.run(), "loop")
    s.say("I will now look at the file 7")
    (f,) = found(s.run(), "loop", pattern="messages_without_tools")
    assert f.severity == "warning" and len(f.seqs) == 8


def test_a_user_reply_resets_the_message_run() -> None:
    s = Session()
    s.bash("ls", output="a")
    for i in range(6):
        s.say(f"answer {i}")
        s.user(f"question {i}")
    assert not found(s.run(), "loop")


def test_identical_calls_in_different_subagents_are_separate() -> None:
    s = Session()
    for agent in ("agent-a", "agent-b"):
        for _ in range(3):
            s.bash("rg TODO", output="x.py:1: TODO", sidechain=agent)
    assert not found(s.run(), "loop")


def test_thresholds_come_from_the_policy() -> None:
    s = Session()
    for _ in range(2):
        s.bash("cat README.md", output="# x")
    policy = Policy(loops=Loops(identical_calls=1))
    assert found(s.run(policy), "loop", pattern="identical_calls")


def test_the_same_passing_test_after_each_edit_is_verification() -> None:
    s = Session()
    for i in range(5):
        s.edit("/repo/src/a.py", old=f"v{i}", new=f"v{i + 1}")
        s.bash("pytest -q", output="5 passed")
    assert not found(s.run(), "loop")


def test_the_same_failure_after_edits_of_the_same_file_is_flailing() -> None:
    s = Session()
    s.edit("/repo/src/a.py", old="v0", new="v1")  # the file is new to the session here
    fails = []
    for i in range(3):
        fails.append(s.bash("pytest -q", ok=False, output="E  KeyError: 'id'\n1 failed"))
        s.edit("/repo/src/a.py", old=f"v{i + 1}", new=f"v{i + 2}")
    (f,) = found(s.run(), "loop", pattern="same_error")
    assert list(f.seqs) == fails


def test_rewriting_the_same_file_with_the_same_content_is_a_loop() -> None:
    s = Session()
    for _ in range(4):
        s.write("/repo/src/config.py")
    (f,) = found(s.run(), "loop", pattern="identical_calls")
    assert f.data["count"] == 4
