#!/usr/bin/env python3
"""Benchmark `agentir assess` against parsing the same lines with the JSON library alone.

Usage: assess_bench.py [--sizes 50MB,150MB,300MB] [--seed N] [--repeat N] [--keep]
                       [--workdir DIR] [--profile] [--json] [--json-out FILE]

For each size: generate a Claude Code trace (gen_claude_trace.py), then run each workload in a
fresh subprocess and take its wall time, CPU time and peak RSS from os.wait4:
lines (read only), json and orjson baselines, `agentir assess FILE --json > /dev/null`, and the
Python API assess_trace. Sizes run one after another. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gen_claude_trace import EXIT_SKIP, GENERATOR_VERSION, parse_size

HERE = Path(__file__).resolve().parent
RUNS = ("lines", "json", "orjson", "cli", "api")


def agentir_command() -> list[str]:
    """The installed console script next to this interpreter, else on PATH, else `-m agentir`."""
    local = Path(sys.executable).parent / "agentir"
    if local.is_file():
        return [str(local)]
    found = shutil.which("agentir")
    return [found] if found else [sys.executable, "-m", "agentir"]


def measure(cmd: list[str], stdout_path: Path | None) -> dict[str, Any]:
    """Run `cmd` in a fresh process; wall time, CPU time and peak RSS of that process alone."""
    load = os.getloadavg()[0]
    out = stdout_path.open("wb") if stdout_path else open(os.devnull, "wb")  # noqa: SIM115
    with out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    res: dict[str, Any] = {
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),  # Linux reports KiB
        "exit_code": proc.returncode,
        "load_1m": round(load, 2),
    }
    if proc.returncode != 0:
        res["stderr"] = err.strip()[-2000:]
    if stdout_path and proc.returncode == 0:
        try:
            res["result"] = json.loads(stdout_path.read_text())
        except ValueError:
            res["result"] = None
    return res


def best_of(cmd: list[str], stdout_path: Path | None, repeat: int) -> dict[str, Any]:
    """Repeat a run; keep the fastest wall time (least disturbed by other load), max peak RSS."""
    runs = [measure(cmd, stdout_path) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall_s"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    if repeat > 1:
        best["all_wall_s"] = [r["wall_s"] for r in runs]
    return best


def ensure_trace(
    size: int, seed: int, workdir: Path
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Generate (or reuse an identical kept) trace; return path, manifest, generation run."""
    trace = workdir / f"claude-{size // 10**6}MB-seed{seed}.jsonl"
    man_path = Path(f"{trace}.manifest.json")
    if trace.is_file() and man_path.is_file():
        man = json.loads(man_path.read_text())
        same = man.get("target_bytes") == size and man.get("generator_version") == GENERATOR_VERSION
        if same and man.get("bytes") == trace.stat().st_size:
            return trace, man, {"reused": True}
    gen = HERE / "gen_claude_trace.py"
    run = measure(
        [sys.executable, str(gen), "--size", str(size), "--out", str(trace), "--seed", str(seed)],
        None,
    )
    if run["exit_code"] == EXIT_SKIP:
        print(run.get("stderr", "SKIP: samples missing"), file=sys.stderr)
        sys.exit(EXIT_SKIP)
    if run["exit_code"] != 0:
        sys.exit(f"generator failed: {run.get('stderr')}")
    return trace, json.loads(man_path.read_text()), run


def check(manifest: dict[str, Any], api: dict[str, Any]) -> list[str]:
    """Compare what assess counted with what the generator wrote; return the mismatches."""
    summary = (api.get("result") or {}).get("summary")
    if not summary:
        return [
            "api run gave no summary: "
            + str((api.get("result") or {}).get("summary_error", api.get("stderr")))
        ]
    c, u = manifest["counts"], manifest["usage"]
    want = {
        ("counts", "tool_calls"): c.get("tool_use", 0),
        ("counts", "tool_errors"): c.get("tool_errors", 0),
        ("counts", "model_calls"): c.get("model_calls", 0),
        ("counts", "compactions"): c.get("compactions", 0),
        ("counts", "commands"): c.get("tool_use:Bash", 0),
        ("counts", "skipped_records"): c.get("other_records", 0),
        ("effects", "secret_exposure"): c.get("secrets_planted", 0),
        ("usage", "input_tokens"): u.get("input_tokens", 0),
        ("usage", "output_tokens"): u.get("output_tokens", 0),
        ("usage", "cache_read_tokens"): u.get("cache_read_tokens", 0),
        ("usage", "cache_write_tokens"): u.get("cache_write_tokens", 0),
    }
    bad = []
    for (part, key), expected in want.items():
        got = summary.get(part, {}).get(key)
        if got != expected:
            bad.append(f"{part}.{key}: assess {got} != generated {expected}")
    return bad


def bench_size(size: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Generate one trace and run every workload on it."""
    trace, manifest, gen = ensure_trace(size, args.seed, workdir)
    mb = trace.stat().st_size / 10**6
    print(
        f"# {mb:.1f} MB trace {trace.name} ({manifest['counts']['lines']:,} lines)", file=sys.stderr
    )
    measure_py = [sys.executable, str(HERE / "_measure.py")]
    result_file = workdir / "measure-out.json"
    runs: dict[str, Any] = {}
    for name in RUNS:
        if name == "cli":
            cmd, out = [*agentir_command(), "assess", str(trace), "--json"], None
        else:
            cmd, out = [*measure_py, name, str(trace)], result_file
        runs[name] = r = best_of(cmd, out, args.repeat)
        r["mb_per_s"] = round(mb / r["wall_s"], 1) if r["wall_s"] else None
        print(
            f"  {name:7s} {r['wall_s']:8.2f} s  {r['peak_rss_mb']:7.1f} MB  rc={r['exit_code']}",
            file=sys.stderr,
        )
        if r["exit_code"] != 0:
            tail = (r.get("stderr") or "").splitlines()[-1:]
            print(f"    failed: {tail[0] if tail else '(no stderr)'}", file=sys.stderr)
    base = runs["json"]["wall_s"]
    for r in runs.values():
        r["x_json"] = round(r["wall_s"] / base, 2) if base else None
        r["x_json_cpu"] = (
            round(r["cpu_s"] / runs["json"]["cpu_s"], 2) if runs["json"]["cpu_s"] else None
        )
    entry = {
        "size": f"{size // 10**6}MB",
        "bytes": trace.stat().st_size,
        "mb": round(mb, 1),
        "lines": manifest["counts"]["lines"],
        "tool_calls": manifest["counts"].get("tool_use"),
        "generate": gen,
        "runs": runs,
        "check": check(manifest, runs["api"]),
        "cli_command": " ".join([*agentir_command(), "assess", "FILE", "--json", ">", "/dev/null"]),
    }
    if args.profile:
        prof = workdir / f"assess-{size // 10**6}MB.prof"
        entry["profile"] = measure([*measure_py, "profile", str(trace), str(prof)], result_file)
        if prof.is_file():
            entry["profile"]["top"] = top_functions(prof)
    if not args.keep:
        trace.unlink()
        Path(f"{trace}.manifest.json").unlink()
    return entry


def top_functions(prof: Path, n: int = 15) -> list[str]:
    """The functions with the most own time in a cProfile dump, as 'file:line(func) tottime cumtime'."""
    import pstats

    st = pstats.Stats(str(prof))
    rows = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]  # type: ignore[attr-defined]
    out = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in rows:
        short = file.split("/agentir/")[-1] if "/agentir/" in file else file
        out.append(f"{short}:{line}({func}) calls={nc} tottime={tt:.2f}s cumtime={ct:.2f}s")
    return out


def print_tables(report: dict[str, Any]) -> None:
    """The human view: one row per run per size, then peak RSS across sizes."""
    m = report["machine"]
    print(
        f"machine: {m['cpus']} CPUs, Python {m['python']}, load(1m) at start {m['load_start']}, at end {m['load_end']}"
    )
    print(f"agentir: {report['agentir']}")
    print(f"assess command: {report['sizes'][0]['cli_command'] if report['sizes'] else '-'}")
    hdr = f"{'size':>6} {'run':7} {'wall s':>8} {'cpu s':>8} {'MB/s':>7} {'peak RSS MB':>11} {'x json':>7} {'x json cpu':>10} {'load':>5}"
    print(hdr)
    print("-" * len(hdr))
    for s in report["sizes"]:
        for name, r in s["runs"].items():
            print(
                f"{s['size']:>6} {name:7} {r['wall_s']:8.2f} {r['cpu_s']:8.2f} {r['mb_per_s'] or 0:7.1f} "
                f"{r['peak_rss_mb']:11.1f} {r['x_json'] or 0:7.2f} {r['x_json_cpu'] or 0:10.2f} {r['load_1m']:5.2f}"
            )
        status = "ok" if not s["check"] else "; ".join(s["check"])
        print(f"{'':>6} check vs generator manifest: {status}")
    sizes = [s["size"] for s in report["sizes"]]
    print("\npeak RSS (MB) by trace size:")
    print(f"{'run':7} " + " ".join(f"{x:>8}" for x in sizes) + f" {'last/first':>10}")
    for name in RUNS:
        vals = [s["runs"][name]["peak_rss_mb"] for s in report["sizes"]]
        ratio = vals[-1] / vals[0] if vals and vals[0] else 0
        print(f"{name:7} " + " ".join(f"{v:8.1f}" for v in vals) + f" {ratio:10.2f}")
    for s in report["sizes"]:
        for line in s.get("profile", {}).get("top", []):
            print(f"profile {s['size']}: {line}")


def agentir_revision() -> dict[str, Any]:
    """Which agentir was measured: version, and the git HEAD and dirtiness of its checkout."""
    info: dict[str, Any] = {}
    try:
        import agentir

        info["version"] = agentir.__version__
        root = Path(agentir.__file__).resolve().parents[1]
    except Exception as exc:  # the harness still measures the CLI without the package importable
        return {"error": f"{type(exc).__name__}: {exc}"}
    git = ["git", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        info["git_head"] = head.stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "agentir"], capture_output=True, text=True
        )
        info["agentir_dir_dirty"] = bool(dirty.stdout.strip())
    return info


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50MB,150MB,300MB", help="comma-separated trace sizes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per workload; the fastest counts")
    ap.add_argument(
        "--keep", action="store_true", help="keep traces (in bench/out/ unless --workdir)"
    )
    ap.add_argument("--workdir", type=Path, help="where traces go (default: a temp dir)")
    ap.add_argument("--profile", action="store_true", help="also cProfile the API run per size")
    ap.add_argument("--json", action="store_true", help="print the report as one JSON document")
    ap.add_argument("--json-out", type=Path, help="also write the JSON report to this file")
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    if args.workdir:
        workdir = args.workdir
    elif args.keep:
        workdir = HERE / "out"
    else:
        workdir = Path(tempfile.mkdtemp(prefix="agentir-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_start": round(os.getloadavg()[0], 2),
        },
        "agentir": agentir_revision(),
        "sizes": [],
    }
    try:
        for size in sizes:
            report["sizes"].append(bench_size(size, args, workdir))
    finally:
        (workdir / "measure-out.json").unlink(missing_ok=True)
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    report["machine"]["load_end"] = round(os.getloadavg()[0], 2)
    rss = {n: [s["runs"][n]["peak_rss_mb"] for s in report["sizes"]] for n in RUNS}
    report["peak_rss_mb_by_size"] = {"sizes": [s["size"] for s in report["sizes"]], **rss}
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_tables(report)
    return 1 if any(s["check"] for s in report["sizes"]) else 0


if __name__ == "__main__":
    sys.exit(main())
