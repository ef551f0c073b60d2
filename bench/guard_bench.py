#!/usr/bin/env python3
"""What does the guard hook cost per tool call on a long session? The cached offset against a
full re-read, on a Claude Code transcript of 10,000 records.

Usage: guard_bench.py [--records 10000] [--calls 40] [--full-calls 12] [--seed N] [--keep]
                      [--workdir DIR] [--json]

The transcript comes from gen_claude_trace.py (the record shapes of the real samples; reused
from bench/out/ with --keep), cut to exactly --records lines. The hook runs as Claude Code
runs it, a fresh `python -m agentir.guard.hook` per call with the PreToolUse JSON on stdin,
in two ways, alternating (the machine is shared):

- cached: the transcript holds all but the last `--calls` tool steps' records; before each
  call the next step's records (a result and the next assistant message, as between two real
  tool calls) are appended, and the hook reads only those from its cached offset;
- full re-read: the state file is deleted before each call, so the hook reads all 10,000
  records, which is what it would cost without the cached offset.

Also timed: the interpreter with the hook's imports and nothing else (the floor of any call).
Each call must allow the pending call (exit 0): the bench policy switches the budget off, as
the generated session spends far more than the default $10. At the end, the state the cached
calls built is compared with one built by a single full read (spend, files touched, streaks).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXIT_SKIP = 77
POLICY = "policy:\n  budget: {usd: null, tokens: null}\n"


def ensure_transcript(records: int, seed: int, out_dir: Path, keep: bool) -> Path:
    """A generated Claude Code transcript of exactly `records` lines."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"guard-{records}-seed{seed}.jsonl"
    if keep and path.exists():
        return path
    raw = out_dir / f"guard-raw-seed{seed}.jsonl"
    size = f"{max(records * 3500, 1_000_000)}"  # about 2.7 KB a record: enough lines
    gen = [sys.executable, str(HERE / "gen_claude_trace.py"), "--size", size, "--out", str(raw)]
    done = subprocess.run([*gen, "--seed", str(seed), "--no-manifest"], check=False)
    if done.returncode == EXIT_SKIP:
        raise SystemExit(EXIT_SKIP)
    done.check_returncode()
    with raw.open("rb") as src, path.open("wb") as dst:
        for index, line in enumerate(src):
            if index >= records:
                break
            dst.write(line)
    raw.unlink()
    return path


def step_starts(path: Path) -> list[int]:
    """Byte offsets where an assistant record with a tool_use begins (one per tool step)."""
    starts: list[int] = []
    offset = 0
    with path.open("rb") as fh:
        for line in fh:
            if b'"type":"assistant"' in line and b'"tool_use"' in line:
                starts.append(offset)
            offset += len(line)
    return starts


def hook_input(session: str, transcript: Path, cwd: str, n: int) -> bytes:
    """A PreToolUse call the policy allows (a new command each time: no loop)."""
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": str(transcript),
            "cwd": cwd,
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": f"echo guard-bench-{n}", "description": "bench"},
            "tool_use_id": f"toolu_bench_{n:06d}",
        }
    ).encode()


def timed(argv: list[str], stdin: bytes, env: dict[str, str]) -> float:
    """Wall seconds of one process; it must exit 0."""
    started = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the hook did not allow the call: {proc.stderr.decode()[:500]}")
    return took


def summary(values: list[float]) -> dict[str, float]:
    """Median and 95th percentile in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


def live_facts(state_file: Path) -> dict[str, Any]:
    """What the decision depends on, from a state file."""
    live = json.loads(state_file.read_text())["live"]
    return {
        "tokens": live["tokens"],
        "usd": round(live["usd"], 6),
        "files": len(live["files"]) + live["files_more"],
        "changes": live["changes"],
        "streaks": sorted(
            (k, v["count"], v["sig"], v["epoch"], v["failed"])
            for chain in live["chains"].values()
            for k, v in chain.items()
        ),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the figures."""
    work = Path(args.workdir or tempfile.mkdtemp(prefix="guard-bench-"))
    source = ensure_transcript(args.records, args.seed, HERE / "out", args.keep)
    session = _session_of(source)
    starts = step_starts(source)[-args.calls :]
    data = source.read_bytes()
    home, project = work / "home", work / "project"
    project.mkdir(parents=True, exist_ok=True)
    (project / "agentir.yaml").write_text(POLICY)
    env = {**os.environ, "AGENTIR_HOME": str(home)}
    env.pop("AGENTIR_POLICY", None)
    env.pop("AGENTIR_CONFIG", None)
    hook = [sys.executable, "-m", "agentir.guard.hook", "--agentir-guard"]
    floor = [
        sys.executable,
        "-c",
        "import agentir.guard.hook, agentir.guard.state, agentir.guard.rules",
    ]
    cached_t, full_t = work / "cached.jsonl", work / "full.jsonl"
    full_t.write_bytes(data)
    cached_t.write_bytes(data[: starts[0]])
    state_dir = home / "guard"

    # prime the cached session (one full read), then time the calls that follow
    timed(hook, hook_input(session, cached_t, str(project), -1), env)
    cached, full, imports = [], [], []
    full_session = session + "-full"
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        with cached_t.open("ab") as fh:
            fh.write(data[start:end])
        cached.append(timed(hook, hook_input(session, cached_t, str(project), i), env))
        if i < args.full_calls:
            for f in state_dir.glob(f"{full_session}.*"):
                f.unlink()
            full.append(timed(hook, hook_input(full_session, full_t, str(project), i), env))
            imports.append(timed(floor, b"", env))
    state = json.loads((state_dir / f"{session}.json").read_text())
    same = live_facts(state_dir / f"{session}.json") == live_facts(
        state_dir / f"{full_session}.json"
    )
    return {
        "transcript": {
            "records": args.records,
            "bytes": len(data),
            "seed": args.seed,
            "tool_steps_timed": len(starts),
        },
        "cached": summary(cached),
        "full_reread": summary(full),
        "imports_only": summary(imports),
        "cached_bytes_per_call": round((len(data) - starts[0]) / len(starts)),
        "state_bytes": (state_dir / f"{session}.json").stat().st_size,
        "state_offset_at_end": state["offset"],
        "cached_state_equals_full_read": same,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _session_of(path: Path) -> str:
    with path.open("rb") as fh:
        for line in fh:
            rec = json.loads(line)
            if isinstance(rec.get("sessionId"), str):
                return str(rec["sessionId"])
    raise SystemExit("no session id in the generated transcript")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=40, help="timed calls with the cached offset")
    ap.add_argument("--full-calls", type=int, default=12, help="timed full re-reads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="reuse bench/out/ transcripts")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    t = result["transcript"]
    print(f"transcript: {t['records']:,} records, {t['bytes']:,} bytes (seed {t['seed']})")
    print(f"{'per call':<34} {'median ms':>10} {'p95 ms':>8} {'n':>4}")
    for key, label in (
        ("cached", "hook, cached offset"),
        ("full_reread", "hook, full re-read"),
        ("imports_only", "python + the hook's imports only"),
    ):
        s = result[key]
        print(f"{label:<34} {s['median_ms']:>10} {s['p95_ms']:>8} {s['n']:>4}")
    print(
        f"cached calls read {result['cached_bytes_per_call']:,} bytes each; state file "
        f"{result['state_bytes']:,} bytes; same decisions' facts as a full read: "
        f"{result['cached_state_equals_full_read']}"
    )
    print(f"cpus {result['cpus']}, load average {result['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
