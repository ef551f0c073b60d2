#!/usr/bin/env python3
"""One benchmark workload, run in a fresh process so its peak RSS is its own.

Usage: _measure.py MODE FILE [PROFILE_OUT]
MODE: lines (read only), json (stdlib json.loads per line), orjson (orjson.loads per line),
api (agentir.analysis.assess.assess_trace), profile (api under cProfile, stats to PROFILE_OUT).
Prints one JSON object on stdout: what was done and the time spent after imports.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def read_lines(path: Path) -> dict[str, Any]:
    """Read the file line by line (UTF-8 text), parse nothing: the I/O floor."""
    n = 0
    with path.open(encoding="utf-8") as fh:
        for _ in fh:
            n += 1
    return {"lines": n}


def parse_json(path: Path) -> dict[str, Any]:
    """Read line by line and parse every line with the stdlib json module."""
    n = bad = 0
    loads = json.loads
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                loads(line)
                n += 1
            except ValueError:
                bad += 1
    return {"records": n, "bad": bad}


def parse_orjson(path: Path) -> dict[str, Any]:
    """Read line by line (bytes: orjson's fast path) and parse every line with orjson."""
    import orjson

    n = bad = 0
    loads = orjson.loads
    with path.open("rb") as fh:
        for line in fh:
            try:
                loads(line)
                n += 1
            except orjson.JSONDecodeError:
                bad += 1
    return {"records": n, "bad": bad}


def run_api(path: Path) -> dict[str, Any]:
    """Assess through the Python API and return a summary to cross-check with the manifest."""
    from agentir.analysis.assess import assess_trace

    start = time.perf_counter()
    result = assess_trace(path)
    out: dict[str, Any] = {
        "assess_seconds": round(time.perf_counter() - start, 3),
        "format": result.format,
        "sessions": len(result.sessions),
    }
    if result.sessions:
        try:
            out["summary"] = _summary(result.sessions[0])
        except Exception as exc:  # the summary is a cross-check; never lose the timing over it
            out["summary_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _summary(assessment: Any) -> dict[str, Any]:
    """The figures the harness compares with what the generator wrote (via the JSON view)."""
    from agentir.render.jsonout import assessment_data

    data = assessment_data(assessment)
    usage = data.get("usage", {})
    return {
        "counts": data.get("counts", {}),
        "usage": {k: usage.get(k) for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                            "cache_write_tokens", "cost_usd", "model_calls")},
        "files": len(data.get("files", [])),
        "commands": len(data.get("commands", [])),
        "effects": {
            "total": len(data.get("effects", [])),
            "secret_exposure": sum(e.get("kind") == "secret_exposure" for e in data["effects"]),
        },
    }  # fmt: skip


def run_profile(path: Path, out: Path) -> dict[str, Any]:
    """Run the API under cProfile and save the stats for pstats."""
    import cProfile

    from agentir.analysis.assess import assess_trace

    prof = cProfile.Profile()
    prof.enable()
    assess_trace(path)
    prof.disable()
    prof.dump_stats(str(out))
    return {"profile": str(out)}


def main(argv: list[str]) -> int:
    """Run one workload and print its result as JSON."""
    mode, path = argv[0], Path(argv[1])
    start = time.perf_counter()
    if mode == "lines":
        result = read_lines(path)
    elif mode == "json":
        result = parse_json(path)
    elif mode == "orjson":
        result = parse_orjson(path)
    elif mode == "api":
        result = run_api(path)
    elif mode == "profile":
        result = run_profile(path, Path(argv[2]))
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    result["mode"] = mode
    result["inner_seconds"] = round(time.perf_counter() - start, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
