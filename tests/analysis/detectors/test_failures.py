"""Repeated failed tool calls: consecutive runs and crowded windows; answers are not failures."""

from __future__ import annotations

from tests.analysis.detectors.session import Session, found


def test_three_consecutive_failures_at_the_end_of_a_session() -> None:
    s = Session()
    s.bash("ls", output="a")
    seqs = [
        s.bash("make", ok=False, output="make: *** No rule to make target"),
        s.bash("cmake .", ok=False, output="CMake Error: no CMakeLists.txt"),
        s.bash("./build.sh", ok=False, output="bash: ./build.sh: No such file"),
    ]
    (f,) = found(s.run(), "failures", pattern="consecutive")
    assert f.severity == "warning" and list(f.seqs) == seqs
    assert "3 tool calls failed in a row" in f.message and "No such file" in f.message


def test_six_consecutive_failures_are_high() -> None:
    s = Session()
    for i in range(6):
        s.bash(f"try-{i}", ok=False, output="command not found")
    (f,) = found(s.run(), "failures", pattern="consecutive")
    assert f.severity == "high" and f.data["count"] == 6


def test_a_run_of_failures_that_ends_in_success_is_withdrawn() -> None:
    s = Session()
    for cmd in ("pip install foo", "pip3 install foo", "python -m pip install foo"):
        s.bash(cmd, ok=False, output="error: externally-managed-environment")
    s.bash("uv pip install foo", ok=True, output="Installed 1 package")
    assert not found(s.run(), "failures")


def test_half_of_a_window_failing() -> None:
    s = Session()
    fails = []
    for i in range(5):
        fails.append(s.bash(f"step-{i}", ok=False, output="boom"))
        s.bash("ls", output=f"{i}")
    (f,) = found(s.run(), "failures", pattern="window")
    assert f.severity == "warning" and list(f.seqs) == fails
    assert "5 of the last 9 tool calls failed" in f.message


def test_grep_finding_nothing_is_an_answer_not_a_failure() -> None:
    s = Session()
    for word in ("foo", "bar", "baz", "qux"):
        s.bash(f"grep -rn {word} src", ok=False, exit_code=1, output="")
    a = s.run()
    assert not found(a, "failures")
    assert not found(a, "loop")


def test_unknown_outcomes_are_not_counted() -> None:
    s = Session()
    for i in range(5):
        s.bash(f"python step{i}.py", ok=None, exit_code=None, output="...")
    assert not found(s.run(), "failures")
