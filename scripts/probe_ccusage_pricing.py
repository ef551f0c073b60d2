"""Regenerate agentir/data/pricing.json by asking ccusage what it charges, model by model.

ccusage (the most used reader of Claude Code and Codex logs) embeds LiteLLM's price table.
Rather than copy that table, this script writes tiny synthetic Claude Code sessions with
known token counts, runs `ccusage claude session --offline --json` on them, and solves for
the per-million prices, including long-context tiers. Run it when prices change:

    npm install ccusage@20.0.24
    python scripts/probe_ccusage_pricing.py node_modules/.bin/ccusage > agentir/data/pricing.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

MODELS = """claude-opus-4-1-20250805 claude-opus-4-20250514 claude-sonnet-4-20250514
claude-sonnet-4-5-20250929 claude-haiku-4-5-20251001 claude-3-5-haiku-20241022
claude-3-5-sonnet-20241022 claude-3-7-sonnet-20250219 claude-3-opus-20240229
claude-3-haiku-20240307 claude-opus-4-5-20251101 claude-opus-4-6 claude-sonnet-4-6
claude-opus-4-7 claude-opus-4-8 claude-sonnet-5 claude-opus-5 claude-fable-5
gpt-5 gpt-5-codex gpt-5-mini gpt-5-nano gpt-5.1 gpt-5.1-codex gpt-5.1-codex-mini
gpt-5.1-codex-max gpt-5.2 gpt-5.2-codex gpt-5.3-codex gpt-5.4 gpt-5.4-mini gpt-5.4-nano
gpt-5.5 gpt-5.6-sol gpt-5.6-terra gpt-5.6-luna gpt-4.1 gpt-4.1-mini gpt-4o gpt-4o-mini
o4-mini gemini-2.5-pro gemini-2.5-flash gemini-3-pro-preview gemini-3-flash-preview""".split()

FIELDS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_write": "cache_creation_input_tokens",
    "cache_read": "cache_read_input_tokens",
}
M = 1_000_000


def _record(sid: str, i: int, model: str, usage: dict[str, int]) -> str:
    base = dict.fromkeys(FIELDS.values(), 0)
    base.update(usage)
    rec = {
        "parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/x",
        "sessionId": sid, "version": "1.0.98", "gitBranch": "", "type": "assistant",
        "message": {"id": f"msg_{sid}_{i}", "type": "message", "role": "assistant",
                    "model": model, "content": [{"type": "text", "text": "x"}], "usage": base},
        "requestId": f"req_{sid}_{i}", "uuid": str(uuid.uuid4()),
        "timestamp": f"2025-10-01T00:00:{i:02d}.000Z",
    }  # fmt: skip
    # ccusage pre-filters lines on compact JSON, so no spaces after separators
    return json.dumps(rec, separators=(",", ":"))


def main(ccusage: str) -> None:
    """Probe every model and print the pricing document on stdout."""
    cases: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "projects" / "p"
        project.mkdir(parents=True)

        def session(model: str, label: str, usages: list[dict[str, int]]) -> None:
            sid = str(uuid.uuid4())
            cases[sid] = (model, label)
            lines = [_record(sid, i, model, u) for i, u in enumerate(usages)]
            (project / f"{sid}.jsonl").write_text("\n".join(lines) + "\n")

        for model in MODELS:
            for name, key in FIELDS.items():
                session(model, f"base:{name}", [{key: 100_000}] * 10)
                session(model, f"big:{name}", [{key: 300_000}])
            session(model, "big:output_with_big_input", [{"input_tokens": 300_000, "output_tokens": 100_000}])
            session(model, "mixed", [{"input_tokens": 150_000, "cache_read_input_tokens": 150_000}])
        env = dict(os.environ, CLAUDE_CONFIG_DIR=tmp)
        out = subprocess.run(
            [ccusage, "claude", "session", "--offline", "--json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        costs = {cases[s["sessionId"]]: s["totalCost"] for s in json.loads(out.stdout)["sessions"]}

    models: dict[str, dict[str, object]] = {}
    for model in MODELS:
        base = {name: round(costs[(model, f"base:{name}")], 6) for name in FIELDS}
        if not any(base.values()):
            continue
        entry: dict[str, object] = {k: v for k, v in base.items()}
        tier: dict[str, object] = {}
        for name in FIELDS:
            big = costs[(model, f"big:{name}")]
            flat = 0.3 * base[name]
            if abs(big - flat) < 1e-9:
                continue
            whole = big / 0.3  # every token at the higher rate
            excess = (big - 0.2 * base[name]) / 0.1  # only tokens above 200k at the higher rate
            mixed = costs[(model, "mixed")]
            mixed_flat = 0.15 * base["input"] + 0.15 * base["cache_read"]
            tier["mode"] = "whole_prompt" if abs(mixed - mixed_flat) > 1e-9 else "per_type_excess"
            tier[name] = round(whole if tier["mode"] == "whole_prompt" else excess, 6)
        if tier:
            out_big = costs[(model, "big:output_with_big_input")] - costs[(model, "big:input")]
            if abs(out_big - 0.1 * base["output"]) > 1e-9:
                tier["output"] = round(out_big / 0.1, 6)
            tier["threshold_tokens"] = 200_000 if model.startswith(("claude", "gemini")) else 272_000
            entry["long_context"] = tier
        models[model] = entry
    doc = {
        "source": "ccusage 20.0.24 (`ccusage claude session --offline`), which embeds LiteLLM's "
        "model_prices_and_context_window.json; probed with scripts/probe_ccusage_pricing.py",
        "retrieved": date.today().isoformat(),
        "unit": "USD per million tokens",
        "notes": "input excludes cache reads and writes; cache_write is the 5-minute rate "
        "(1-hour writes cost cache_write_1h when given, else 2x input); "
        "long_context.mode per_type_excess prices only the tokens of a type above the "
        "threshold at the higher rate, whole_prompt prices every token of a call at it "
        "when the prompt (input + cache reads) exceeds the threshold",
        "models": models,
    }
    json.dump(doc, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ccusage")
