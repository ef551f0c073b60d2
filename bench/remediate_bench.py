"""How long does `agentir remediate` take to plan on a big repository?

Builds (with `git fast-import`, the stream generated here) a repository of N commits (default
50,000) of which A (default 1,000) are one agent session's, interleaved with human commits,
plus a Claude Code trace of that session: the agent writes its files and half of its commits
are printed by `git commit` (the other half carry Claude trailers only). Then it times, in the
same run:

- baseline: `git log --format=%H --name-only --since=<same bound> HEAD` (what any tool that
  looks at paths must at least pay);
- plan: `build_plan` on the assessed session (one `git log` with files, markers, notes, the
  remote-branch check, conflict prediction);
- cli: `agentir remediate --dry-run --json` as a subprocess (trace reading included).

With `--overlap K`, K human commits after the session touch agent files, so the conflict
prediction has to try all A reverts in a throwaway worktree; the figure shows that cost.

    python bench/remediate_bench.py                       # 50,000 commits, 1,000 agent commits
    python bench/remediate_bench.py --commits 5000 --agent 100 --overlap 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SID = "0b5e5a1e-5e55-4c0d-8e11-bench0000001"
HUMANS = [
    ("Ada Dev", "ada@example.com"),
    ("Bo Ops", "bo@example.com"),
    ("Cy Lead", "cy@example.com"),
]
TRAILER = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def build_repo(path: Path, commits: int, agent: int, overlap: int, seed: int) -> dict[str, object]:
    """Write the repository with fast-import; return the session window and the agent marks."""
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    for key, value in (("user.name", "Bench"), ("user.email", "bench@example.com")):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)
    end = datetime(2026, 3, 10, 18, 0, tzinfo=timezone.utc)
    start = end - timedelta(days=400)
    session_start = end - timedelta(hours=10)
    session_len = timedelta(hours=8)
    human_before = commits - agent - overlap - 200
    # agent commits spread over the session; humans before, during and after it
    times: list[tuple[datetime, str]] = []
    step = (session_start - start) / max(human_before, 1)
    times += [(start + step * i, "human") for i in range(human_before)]
    times += [(session_start + session_len * (i / agent), "agent") for i in range(agent)]
    times += [(session_start + session_len * rng.random(), "human") for _ in range(200)]
    times += [
        (session_start + session_len + timedelta(minutes=10 + i), "late") for i in range(overlap)
    ]
    times.sort(key=lambda t: t[0])
    stream = bytearray()
    agent_marks: list[int] = []
    agent_files: list[str] = []
    for mark, (when, kind) in enumerate(times, 1):
        epoch = int(when.timestamp())
        if kind == "agent":
            n = len(agent_marks)
            name, email = HUMANS[0]  # Claude commits under the user's identity
            path_ = f"agent/feature_{n % 400:03d}.py"
            message = f"Agent change {n}" + (TRAILER if n % 2 else "")
            content = f"# agent change {n}\nVALUE = {n}\n"
            agent_marks.append(mark)
            agent_files.append(path_)
        elif kind == "late" and agent_files:
            name, email = HUMANS[1]
            path_ = agent_files[rng.randrange(len(agent_files))]
            message = f"Human follow-up on {path_}"
            content = f"# human edit {mark}\n"
        else:
            name, email = HUMANS[rng.randrange(len(HUMANS))]
            path_ = f"src/pkg{rng.randrange(50):02d}/mod{rng.randrange(100):03d}.py"
            message = f"Human change {mark}\n\nRefs #{rng.randrange(10000)}"
            content = f"# {mark}\nX = {rng.random()}\n"
        stream += b"commit refs/heads/main\nmark :%d\n" % mark
        stream += f"author {name} <{email}> {epoch} +0000\n".encode()
        stream += f"committer {name} <{email}> {epoch} +0000\n".encode()
        stream += _data(message)
        stream += f"M 100644 inline {path_}\n".encode() + _data(content)
    marks = path / ".git" / "bench-marks"
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet", f"--export-marks={marks}"],
        input=bytes(stream),
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    return {
        "session_start": session_start,
        "session_end": session_start + session_len,
        "agent_shas": [by_mark[f":{m}"] for m in agent_marks],
        "agent_files": sorted(set(agent_files)),
        "commits": len(times),
    }


def write_trace(path: Path, repo: Path, info: dict[str, object]) -> None:
    """A Claude Code session: Write calls for the agent's files, `git commit` output for half."""
    start: datetime = info["session_start"]  # type: ignore[assignment]
    end: datetime = info["session_end"]  # type: ignore[assignment]
    shas: list[str] = info["agent_shas"]  # type: ignore[assignment]
    files: list[str] = info["agent_files"]  # type: ignore[assignment]
    lines: list[str] = []

    def rec(kind: str, ts: datetime, extra: dict[str, object]) -> None:
        base: dict[str, object] = {
            "parentUuid": None, "isSidechain": False, "userType": "external", "cwd": str(repo),
            "sessionId": SID, "version": "2.0.30", "gitBranch": "main", "type": kind,
            "uuid": f"u{len(lines)}", "timestamp": ts.isoformat().replace("+00:00", "Z"),
        }  # fmt: skip
        base.update(extra)
        lines.append(json.dumps(base))

    def tool(ts: datetime, tid: str, name: str, args: dict[str, object], out: str) -> None:
        rec("assistant", ts, {"message": {"id": f"m{tid}", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "tool_use", "id": tid, "name": name, "input": args}],
            "usage": {"input_tokens": 5, "output_tokens": 5}}})  # fmt: skip
        rec("user", ts + timedelta(seconds=1), {"message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tid, "content": out}]}})  # fmt: skip

    rec("user", start, {"message": {"role": "user", "content": "Implement the features."}})
    for i, rel in enumerate(files):
        ts = start + (end - start) * (i / max(len(files), 1))
        tool(ts, f"w{i}", "Write", {"file_path": str(repo / rel), "content": "x\n"},
             f"File created successfully at: {repo / rel}")  # fmt: skip
    for i, sha in enumerate(shas):
        if i % 2 == 0:
            ts = start + (end - start) * (i / len(shas))
            tool(ts, f"c{i}", "Bash", {"command": "git commit -am change"},
                 f"[main {sha[:7]}] Agent change {i}\n 1 file changed")  # fmt: skip
    rec("assistant", end, {"message": {"id": "mend", "role": "assistant", "content": [
        {"type": "text", "text": "Done."}], "usage": {"input_tokens": 1, "output_tokens": 1}}})  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def timed(fn: object, repeat: int) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--agent", type=int, default=1_000)
    parser.add_argument("--overlap", type=int, default=0, help="human edits of agent files after")
    parser.add_argument("--lookback-days", type=float, default=30.0)
    parser.add_argument("--predict", default="auto", help="auto | merge-tree | worktree")
    parser.add_argument("--apply", action="store_true", help="also time applying the plan")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the work dir (printed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from agentir.actions.revert_plan import build_plan
    from agentir.analysis.assess import assess_trace
    from agentir.gitrepo import GitRepo

    work = Path(tempfile.mkdtemp(prefix="agentir-remediate-bench-"))
    try:
        repo = work / "repo"
        sys.stderr.write(f"building {args.commits} commits ({args.agent} agent) in {repo}\n")
        t0 = time.perf_counter()
        info = build_repo(repo, args.commits, args.agent, args.overlap, args.seed)
        build_s = time.perf_counter() - t0
        trace = work / f"{SID}.jsonl"
        write_trace(trace, repo, info)
        session = assess_trace(trace).sessions[0]
        since = session.session.started_at - timedelta(days=args.lookback_days)  # type: ignore[operator]
        bound = [f"--since={int(since.timestamp())}"] if since.timestamp() > 0 else []
        baseline_cmd = ["git", "-C", str(repo), "log", "--format=%H", "--name-only", *bound, "HEAD"]
        base_s, base_out = timed(
            lambda: subprocess.run(baseline_cmd, capture_output=True, check=True).stdout,
            args.repeat,
        )
        in_range = sum(1 for ln in base_out.split(b"\n") if len(ln) == 40)  # type: ignore[union-attr]
        g = GitRepo(repo)
        plan_s, plan = timed(
            lambda: build_plan(g, [session], label="bench", predict=args.predict,
                               lookback=timedelta(days=args.lookback_days)),
            args.repeat,
        )  # fmt: skip
        cli = [sys.executable, "-m", "agentir", "remediate", "--repo", str(repo), "--trace",
               str(trace), "--dry-run", "--json", "--lookback-days", str(args.lookback_days)]  # fmt: skip
        env = dict(os.environ, AGENTIR_HOME=str(work / "home"))
        cli_s, _ = timed(
            lambda: subprocess.run(cli, capture_output=True, check=True, env=env), args.repeat
        )
        found = {c.sha for c in plan.reverts}  # type: ignore[attr-defined]
        expected = set(info["agent_shas"])  # type: ignore[arg-type]
        report = {
            "commits": info["commits"],
            "agent_commits": len(expected),
            "overlap": args.overlap,
            "commits_in_range": in_range,
            "build_repo_s": round(build_s, 2),
            "baseline_git_log_s": round(base_s, 3),
            "plan_s": round(plan_s, 3),
            "plan_over_baseline": round(plan_s / base_s, 2),
            "cli_dry_run_s": round(cli_s, 3),
            "scanned": plan.scanned,  # type: ignore[attr-defined]
            "reverts_planned": len(found),
            "agent_commits_found": len(found & expected),
            "false_positives": len(found - expected),
            "conflicts_checked": plan.conflicts_checked,  # type: ignore[attr-defined]
            "conflicts": len(plan.conflicts),  # type: ignore[attr-defined]
        }
        if args.apply:
            from agentir.actions.revert import ApplyOptions, apply_plan

            t0 = time.perf_counter()
            result = apply_plan(
                g, plan, ApplyOptions(strategy="skip"), record=lambda *a: None,  # type: ignore[arg-type]
                preserve=str, scratch=work / "scratch",
            )  # fmt: skip
            report["apply_s"] = round(time.perf_counter() - t0, 2)
            report["apply_reverted"] = len(result.reverted)
            report["apply_skipped"] = len(result.skipped)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            for key, value in report.items():
                print(f"{key:22} {value}")
        ok = report["agent_commits_found"] == len(expected) and report["false_positives"] == 0
        return 0 if ok else 1
    finally:
        if args.keep:
            sys.stderr.write(f"kept {work}\n")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
