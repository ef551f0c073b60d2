#!/usr/bin/env python3
"""Does rendering a review cost about one assess pass? `agentir assess --json` against
`agentir review -o` on an incident holding the same generated trace.

Usage: review_bench.py [--size 200MB] [--seed N] [--repeat N] [--keep] [--workdir DIR] [--json]

Generates a Claude Code trace (gen_claude_trace.py; reused from bench/out/ with --keep), opens an
incident on it in a scratch AGENTIR_HOME (no evidence copy: copying is not part of a review),
then runs, in fresh processes and alternating, `agentir assess FILE --json > /dev/null`,
`agentir review INC -o review.html` and `agentir review INC -o review.md`. The fastest wall time
of each is kept (the machine is shared); the ratios review / assess (wall, and CPU time, which
other load disturbs less) are the figures that matter.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from assess_bench import agentir_command, ensure_trace, measure
from gen_claude_trace import parse_size

HERE = Path(__file__).resolve().parent


def open_incident(cmd: list[str], trace: Path, env: dict[str, str]) -> str:
    """An incident on `trace` in the scratch store; returns its id."""
    out = subprocess.run(
        [*cmd, "incident", "open", "--title", "review bench", "--no-evidence", "--trace", str(trace)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate, open, measure; the report as a dict."""
    size = parse_size(args.size)
    workdir = Path(args.workdir) if args.workdir else (HERE / "out" if args.keep else None)
    scratch = Path(tempfile.mkdtemp(prefix="agentir-review-bench-"))
    where = workdir or scratch
    where.mkdir(parents=True, exist_ok=True)
    trace, manifest, _ = ensure_trace(size, args.seed, where)
    env = {**os.environ, "AGENTIR_HOME": str(scratch / "home"), "NO_COLOR": "1"}
    os.environ.update(env)  # measure() inherits the environment
    cmd = agentir_command()
    incident = open_incident(cmd, trace, env)
    workloads = {
        "assess --json": [*cmd, "assess", str(trace), "--json"],
        "review -o html": [*cmd, "review", incident, "-o", str(scratch / "review.html")],
        "review -o md": [*cmd, "review", incident, "-o", str(scratch / "review.md")],
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in workloads}
    for _ in range(args.repeat):  # alternate, so a burst of load hits every workload alike
        for name, argv in workloads.items():
            print(f"  {name} ...", file=sys.stderr)
            runs[name].append(measure(argv, None))
    best = {name: min(rs, key=lambda r: r["wall_s"]) for name, rs in runs.items()}
    for name, result in best.items():
        result["all_wall_s"] = [r["wall_s"] for r in runs[name]]
        result["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs[name])
        if result["exit_code"] != 0:
            sys.exit(f"{name} failed: {result.get('stderr')}")
    base = best["assess --json"]["wall_s"]
    report = {
        "trace": {"path": str(trace), "bytes": trace.stat().st_size, "records": manifest.get("records")},
        "machine": {"cpus": os.cpu_count(), "load_1m_start": round(os.getloadavg()[0], 2)},
        "repeat": args.repeat,
        "runs": best,
        "ratio": {name: round(r["wall_s"] / base, 3) for name, r in best.items()},
        "ratio_cpu": {
            name: round(r["cpu_s"] / best["assess --json"]["cpu_s"], 3) for name, r in best.items()
        },
        "review_bytes": {
            "html": (scratch / "review.html").stat().st_size,
            "md": (scratch / "review.md").stat().st_size,
        },
    }  # fmt: skip
    if not args.keep and workdir is None:
        trace.unlink(missing_ok=True)
    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="200MB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--keep", action="store_true", help="keep (and reuse) the trace in bench/out"
    )
    parser.add_argument(
        "--workdir", help="where to put the trace (default: bench/out or a temp dir)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    args = parser.parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    mb = report["trace"]["bytes"] / 1e6
    print(f"trace: {report['trace']['path']} ({mb:.0f} MB), best of {report['repeat']}")
    print(
        f"{'workload':<16} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12} {'x assess':>9} "
        f"{'x cpu':>7}  all wall s"
    )
    for name, r in report["runs"].items():
        print(
            f"{name:<16} {r['wall_s']:>8.2f} {r['cpu_s']:>8.2f} {r['peak_rss_mb']:>12.1f} "
            f"{report['ratio'][name]:>9.3f} {report['ratio_cpu'][name]:>7.3f}  {r['all_wall_s']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
