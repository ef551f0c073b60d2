#!/usr/bin/env python3
"""Generate a large, realistic Claude Code session JSONL from the record shapes of the real samples.

Usage: gen_claude_trace.py --size 300MB --out FILE [--seed N] [--no-manifest]

The real samples (../shared/traces/claude-code/) are read at generation time; their records are
the templates. The output streams to disk (constant memory) and is byte-identical for a seed.
A manifest (FILE.manifest.json) records what was generated, so a benchmark can check counts.
Exit 77 (the conventional "skipped" code) when the samples are absent.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from _claude_content import Content, Step
from _claude_shapes import SAMPLES_DIR, SamplesMissing, Shapes, load_shapes

EXIT_SKIP = 77
GENERATOR_VERSION = 2  # bump when the output for a seed changes (kept traces are regenerated)
_ALNUM = string.ascii_letters + string.digits
_START_MS = 1_757_238_727_012  # 2025-09-07T09:52:07.012Z, the sample session's start
_OPUS = "claude-opus-4-1-20250805"
_PROMPTS = (
    "Fix the failing test in {f}", "Add a {w} filter to the todo list and update the docs",
    "Refactor {f} to remove the {w} workaround", "Why does {w} time out in production?",
    "Deploy the current branch to staging and tell me if anything breaks",
    "Clean up the build output and unused files under {d}", "Update CLAUDE.md to the latest state",
)  # fmt: skip
_TOOLS = ("Read", "Bash", "Edit", "Glob", "Grep", "TodoWrite", "Write", "MultiEdit", "Task", "web")
_WEIGHTS = (22, 28, 11, 6, 6, 5, 5, 3, 2, 3)
_API_ERROR = (
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
)


def parse_size(text: str) -> int:
    """Parse '300MB', '1.5GB', '800KB' or a byte count (decimal units: 1 MB = 10**6 bytes)."""
    t = text.strip().upper().removesuffix("B")
    scale = {"K": 10**3, "M": 10**6, "G": 10**9}.get(t[-1:], 1)
    return int(float(t[:-1] if scale > 1 else t) * scale)


class TraceWriter:
    """Emits records of one session in trace order and counts what it wrote."""

    def __init__(self, out: BinaryIO, shapes: Shapes, rng: random.Random) -> None:
        self.out, self.s, self.rng = out, shapes, rng
        self.sid = self._uuid()
        self.cwd: str = shapes.user_prompt["cwd"]
        self.content = Content(rng, shapes, self.cwd)
        self.ms = _START_MS + rng.randint(0, 10**9)
        self.parent: dict[bool, str | None] = {False: None, True: None}
        self.context = {False: 15_000, True: 8_000}  # tokens in context, drives cache_read
        self.fresh = {False: 4_000, True: 2_000}  # tokens added since the last call
        self.model: str = shapes.assistant["message"]["model"]
        self.bytes = 0
        self.c: Counter[str] = Counter()
        self.usage: Counter[str] = Counter()

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def _id(self, prefix: str, n: int) -> str:
        return prefix + "".join(self.rng.choice(_ALNUM) for _ in range(n))

    def _ts(self, lo: float, hi: float) -> str:
        self.ms += int(self.rng.uniform(lo, hi) * 1000)
        sec, ms = divmod(self.ms, 1000)
        return (
            datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z"
        )

    def emit(self, rec: dict[str, Any]) -> None:
        """Serialise one record as the samples do (compact separators, raw UTF-8)."""
        data = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        self.out.write(data)
        self.bytes += len(data)
        self.c["lines"] += 1
        self.c["type:" + str(rec.get("type"))] += 1
        if rec.get("isSidechain"):
            self.c["sidechain_lines"] += 1

    def _record(self, tpl: dict[str, Any], side: bool, gap: tuple[float, float]) -> dict[str, Any]:
        rec = dict(tpl)  # keeps the real record's key order and envelope (cwd, version, ...)
        rec.pop("isMeta", None)
        rec["parentUuid"] = self.parent[side]
        rec["isSidechain"] = side
        rec["sessionId"] = self.sid
        rec["uuid"] = uid = self._uuid()
        rec["timestamp"] = self._ts(*gap)
        self.parent[side] = uid
        return rec

    def user_text(self, text: str, side: bool = False, **extra: Any) -> None:
        """A user record with string content (a prompt, a subagent prompt, a compact summary)."""
        tpl = self.s.sidechain_root if side else self.s.user_prompt
        if side:
            self.parent[True] = None  # a subagent thread starts a new chain, as in the sample
        rec = self._record(tpl, side, (2, 90))
        rec["message"] = {"role": "user", "content": text}
        rec.update(extra)
        self.emit(rec)

    def meta(self) -> None:
        """An injected isMeta record (not user intent), as the sample's /init prompt."""
        rec = self._record(self.s.user_meta, False, (0, 0))
        rec["message"] = self.s.user_meta["message"]
        rec["isMeta"] = True
        self.emit(rec)

    def response(self, side: bool, blocks: list[dict[str, Any]], stop: str | None) -> None:
        """One API response split over one line per content block, sharing message.id."""
        mid, rid = self._id("msg_01", 22), self._id("req_011C", 20)
        tpl_msg = self.s.assistant["message"]
        out_tokens = sum(len(json.dumps(b)) for b in blocks) // 4 + self.rng.randint(5, 60)
        fresh, ctx = self.fresh[side], self.context[side]
        final = dict(tpl_msg["usage"])
        final.update(
            input_tokens=self.rng.randint(3, 12),
            cache_creation_input_tokens=fresh,
            cache_read_input_tokens=ctx,
            output_tokens=out_tokens,
            cache_creation={"ephemeral_5m_input_tokens": fresh, "ephemeral_1h_input_tokens": 0},
        )
        partial = dict(final, output_tokens=self.rng.randint(1, 30))  # 1.0.x streams usage
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            rec = self._record(self.s.assistant, side, (1, 25) if i == 0 else (0, 0.3))
            msg = dict(tpl_msg, id=mid, model=self.model, content=[block])
            msg["stop_reason"] = stop if last else None
            msg["usage"] = final if last else partial
            rec["message"], rec["requestId"] = msg, rid
            self.emit(rec)
            if block["type"] == "tool_use":
                self.c["tool_use"] += 1
                self.c["tool_use:" + block["name"]] += 1
        self.c["model_calls"] += 1
        self.c["split_messages"] += len(blocks) > 1
        for key, field in (
            ("input_tokens", "input_tokens"),
            ("output_tokens", "output_tokens"),
            ("cache_read_tokens", "cache_read_input_tokens"),
            ("cache_write_tokens", "cache_creation_input_tokens"),
        ):
            self.usage[key] += final[field]
            self.usage[f"{self.model}:{key}"] += final[field]
        self.context[side] = ctx + fresh + out_tokens
        self.fresh[side] = 0

    def api_error(self) -> None:
        """A synthetic assistant record for a failed API call (no usage is charged)."""
        rec = self._record(self.s.assistant, False, (5, 60))
        usage = {
            k: 0
            for k in (
                "input_tokens",
                "output_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
            )
        }
        msg = dict(self.s.assistant["message"], id=self._uuid(), model="<synthetic>", usage=usage)
        msg["content"] = [{"type": "text", "text": _API_ERROR}]
        rec["message"], rec["isApiErrorMessage"] = msg, True
        rec.pop("requestId", None)
        self.emit(rec)
        self.c["api_errors"] += 1

    def tool_result(self, side: bool, tool_id: str, step: Step) -> None:
        """The user record carrying one tool_result block and its toolUseResult."""
        rec = self._record(self.s.tool_result, side, (0.05, 20))
        block: dict[str, Any] = {
            "tool_use_id": tool_id,
            "type": "tool_result",
            "content": step.content,
        }
        if step.is_error or step.name == "Bash":
            block["is_error"] = step.is_error
        rec["message"] = {"role": "user", "content": [block]}
        rec["toolUseResult"] = step.result
        self.emit(rec)
        self.fresh[side] += len(rec["message"]["content"][0]["content"]) // 4 + 20
        self.c["tool_results"] += 1
        self.c["tool_errors"] += step.is_error
        for tag in step.tags:
            self.c[f"{step.name}:{tag}" if step.name == "Bash" else tag] += 1
            if step.name == "Bash" and tag not in ("error", "bash"):
                self.c[f"Bash:{tag}:{'failed' if step.is_error else 'ok'}"] += 1
        if "file_edit" in step.tags:
            self.c[f"file_edit:{'failed' if step.is_error else 'ok'}"] += 1
        if "secret" in step.tags:
            self.c["secrets_planted"] += 1  # each planted credential is a fresh random value

    def compaction(self) -> None:
        """compact_boundary + compact summary (shape from trace-formats.md 1.5, absent in 1.0.x samples)."""
        rec = self._record(self.s.user_prompt, False, (1, 5))
        pre = self.context[False]
        rec.update(
            parentUuid=None,
            logicalParentUuid=rec["parentUuid"],
            type="system",
            subtype="compact_boundary",
            content="Conversation compacted",
            isMeta=False,
            level="info",
            compactMetadata={"trigger": "auto", "preTokens": pre},
        )
        rec.pop("message", None)
        self.emit(rec)
        summary = (
            "This session is being continued from a previous conversation. Summary:\n"
            + self.content.body(5, 30)
        )
        self.user_text(summary, isCompactSummary=True)
        self.context[False], self.fresh[False] = 12_000, 3_000
        self.c["compactions"] += 1

    def snapshot(self) -> None:
        """A file-history-snapshot record: a type assess does not use (skipped and counted)."""
        data = {
            "type": "file-history-snapshot",
            "messageId": self._uuid(),
            "snapshot": {
                "messageId": self._uuid(),
                "trackedFileBackups": {},
                "timestamp": self._ts(0, 0),
            },
            "isSnapshotUpdate": False,
        }
        self.emit(data)
        self.c["other_records"] += 1

    def _step(self, tool: str) -> Step:
        c = self.content
        make = {
            "Read": c.read,
            "Bash": c.bash,
            "Edit": c.edit,
            "Glob": c.glob,
            "Grep": c.grep,
            "TodoWrite": c.todo,
            "Write": c.write,
            "MultiEdit": c.multiedit,
            "web": c.web,
        }
        return make[tool]()

    def calls(self, side: bool) -> None:
        """One response with an optional text block and 1-3 tool calls, then their results."""
        blocks: list[dict[str, Any]] = []
        if self.rng.random() < 0.5:
            blocks.append({"type": "text", "text": self.rng.choice(self.s.texts)})
        pending: list[tuple[str, Step | None, dict[str, Any]]] = []
        for _ in range(self.rng.choice((1, 1, 1, 1, 2, 3))):
            tool = self.rng.choices(_TOOLS, _WEIGHTS)[0]
            if side and tool in ("Task", "Write", "Edit", "MultiEdit"):
                tool = "Read"  # subagents in the sample explore; the parent edits
            tid = self._id("toolu_01", 22)
            if tool == "Task":
                inp, prompt = self.content.task_prompt()
                pending.append((tid, None, {"prompt": prompt}))
                blocks.append({"type": "tool_use", "id": tid, "name": "Task", "input": inp})
                continue
            step = self._step(tool)
            pending.append((tid, step, {}))
            blocks.append({"type": "tool_use", "id": tid, "name": step.name, "input": step.input})
        self.response(side, blocks, "tool_use")
        for tid, step, info in pending:
            self.tool_result(side, tid, step if step is not None else self.subagent(info["prompt"]))

    def subagent(self, prompt: str) -> Step:
        """Inline sidechain records (pre-2.1 layout), then the Task result as the sample has it."""
        self.context[True], self.fresh[True] = 8_000, 2_000
        self.user_text(prompt, side=True)
        calls = self.rng.randint(2, 6)
        for _ in range(calls):
            self.calls(side=True)
        text = self.rng.choice(self.s.texts)
        self.response(True, [{"type": "text", "text": text}], "end_turn")
        out = [{"type": "text", "text": text}]
        tpl = self.s.results["task"]
        tur = dict(
            tpl,
            content=out,
            totalDurationMs=self.rng.randint(5_000, 90_000),
            totalTokens=self.context[True],
            totalToolUseCount=calls,
        )
        self.c["subagents"] += 1
        return Step("Task", {}, out, tur)

    def turn(self) -> None:
        """A user prompt, several tool-calling responses, a closing text response."""
        if self.rng.random() < 0.08:
            self.meta()
        self.model = _OPUS if self.rng.random() < 0.1 else self.s.assistant["message"]["model"]
        c = self.content
        prompt = self.rng.choice(_PROMPTS).format(f=c._file(), w=c._word(), d=c._dir())
        self.user_text(prompt)
        for _ in range(self.rng.randint(2, 12)):
            if self.rng.random() < 0.004:
                self.api_error()
            self.calls(side=False)
            if self.context[False] > 160_000:
                self.compaction()
        self.response(False, [{"type": "text", "text": self.rng.choice(self.s.texts)}], "end_turn")
        if self.rng.random() < 0.02:
            self.snapshot()
        self.c["turns"] += 1


def generate(out_path: Path, size: int, seed: int, samples: Path = SAMPLES_DIR) -> dict[str, Any]:
    """Write a trace of at least `size` bytes (whole turns only) and return its manifest."""
    shapes = load_shapes(samples)
    rng = random.Random(seed)
    with out_path.open("wb", buffering=1 << 20) as fh:
        w = TraceWriter(fh, shapes, rng)
        while w.bytes < size:
            w.turn()
    return {
        "generator": "bench/gen_claude_trace.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "target_bytes": size,
        "bytes": w.bytes,
        "session_id": w.sid,
        "cwd": w.cwd,
        "samples": [
            str((samples / n).resolve()) for n in sorted(p.name for p in samples.glob("*.jsonl"))
        ],
        "counts": dict(sorted(w.c.items())),
        "usage": dict(sorted(w.usage.items())),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="300MB", help="target size, e.g. 50MB, 1.5GB (default 300MB)")
    ap.add_argument("--out", required=True, type=Path, help="output .jsonl file")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--samples", type=Path, default=SAMPLES_DIR, help="real sample directory")
    ap.add_argument("--no-manifest", action="store_true", help="do not write FILE.manifest.json")
    args = ap.parse_args(argv)
    try:
        manifest = generate(args.out, parse_size(args.size), args.seed, args.samples)
    except SamplesMissing as exc:
        print(f"SKIP: {exc}", file=sys.stderr)
        return EXIT_SKIP
    if not args.no_manifest:
        Path(f"{args.out}.manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    c = manifest["counts"]
    print(
        f"wrote {args.out}: {manifest['bytes']:,} bytes, {c['lines']:,} lines, "
        f"{c['tool_use']:,} tool calls, {c['tool_errors']:,} errors",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
