"""What the guard keeps of a transcript between hook calls: plain JSON, updated event by event.

The hook runs in a fresh process before every tool call, so it cannot keep the detectors in
memory; it keeps the facts they judge by instead, small and bounded:

- spend: token totals and cost so far, the largest usage seen per recent message id (a
  response split over lines, or over two hook calls, is counted once, at its maximum), and
  the cost of the last model call (the lookahead for the next one);
- the session's root (the first cwd seen) and current cwd;
- progress, as the loop detector measures it: the files touched so far (hashed) and the
  successful file changes so far;
- per agent chain (main or subagent) and per canonical call (`call_key`), the current streak
  of identical results: its length, the result signature, the progress marks when it last
  ran, and whether it failed; calls still waiting for their result;
- calls the guard itself blocked, whose (error) results are neither a repetition nor a change.

`LoopState.predict` answers the question the loop detector would answer after the pending
call returns the same result again: does the streak then reach its threshold?
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from agentir.analysis.detectors.common import (
    call_key,
    call_text,
    is_failure,
    is_polling,
    quote,
    seq_list,
    signature,
)
from agentir.analysis.paths import absolute
from agentir.analysis.shell import changes_of, split_commands
from agentir.analysis.tools import intended_changes, shell_command
from agentir.guard.rules import Trigger
from agentir.model import (
    Event,
    FileChange,
    FileOp,
    Finding,
    Message,
    ModelCall,
    SessionInfo,
    Source,
    ToolCall,
    ToolResult,
)
from agentir.policy import Policy

MAX_FILES = 5000  # hashed paths kept; beyond, every touch counts as progress (never a false loop)
MAX_KEYS = 512  # call streaks per chain (as the loop detector keeps)
MAX_CHAINS = 64  # agent chains (main and subagents), as the loop detector keeps
MAX_CALLS = 256  # calls waiting for a result
MAX_MESSAGES = 64  # message ids whose usage is remembered
MAX_BLOCKED = 64
GUARD_MARK = "agentir guard:"  # the start of every reason the hook gives; seen in results
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
_USAGE = (*_TOKENS, "cache_write_1h_tokens")


def _digest(text: str) -> str:
    from agentir.analysis.detectors.common import digest

    return digest(text)


def _lru(items: Any) -> OrderedDict[str, Any]:
    return OrderedDict(items if isinstance(items, dict) else {})


class LiveState:
    """The guard's per-session memory of the transcript (see the module docstring)."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        d = data or {}
        self.root: str | None = d.get("root")
        self.cwd: str | None = d.get("cwd")
        self.permission_mode: str | None = d.get("permission_mode")
        self.next_seq: int = int(d.get("next_seq", 0))
        self.usd: float = float(d.get("usd", 0.0))
        self.unpriced: int = int(d.get("unpriced", 0))
        self.model_calls: int = int(d.get("model_calls", 0))
        self.tokens: dict[str, int] = {k: int(d.get("tokens", {}).get(k, 0)) for k in _TOKENS}
        self.last_usd: float = float(d.get("last_usd", 0.0))
        self.last_tokens: int = int(d.get("last_tokens", 0))
        self.messages: OrderedDict[str, list[Any]] = _lru(d.get("messages"))
        self.files: dict[str, None] = dict.fromkeys(d.get("files", ()))
        self.files_more: int = int(d.get("files_more", 0))
        self.changes: int = int(d.get("changes", 0))
        self.calls: OrderedDict[str, dict[str, Any]] = _lru(d.get("calls"))
        self.chains: OrderedDict[str, OrderedDict[str, dict[str, Any]]] = OrderedDict(
            (k, _lru(v)) for k, v in (d.get("chains") or {}).items()
        )
        self.blocked: list[str] = list(d.get("blocked", ()))

    def to_json(self) -> dict[str, Any]:
        """Plain data for the state file."""
        return {
            "root": self.root,
            "cwd": self.cwd,
            "permission_mode": self.permission_mode,
            "next_seq": self.next_seq,
            "usd": self.usd,
            "unpriced": self.unpriced,
            "model_calls": self.model_calls,
            "tokens": self.tokens,
            "last_usd": self.last_usd,
            "last_tokens": self.last_tokens,
            "messages": self.messages,
            "files": list(self.files),
            "files_more": self.files_more,
            "changes": self.changes,
            "calls": self.calls,
            "chains": self.chains,
            "blocked": self.blocked,
        }

    # ------------------------------------------------------------------ derived

    @property
    def epoch(self) -> int:
        """Progress marks: grows whenever a file never touched before is touched."""
        return len(self.files) + self.files_more

    @property
    def used_tokens(self) -> int:
        """Tokens the budget counts: input + output + cache writes (cache reads excluded)."""
        t = self.tokens
        return t["input_tokens"] + t["output_tokens"] + t["cache_write_tokens"]

    @property
    def spent_usd(self) -> float | None:
        """Cost so far; None while every model call so far was unpriced."""
        if self.model_calls and not self.usd and self.unpriced:
            return None
        return self.usd

    # ------------------------------------------------------------------ feeding

    def feed(self, ev: Event) -> None:
        """Fold one transcript event."""
        self.next_seq = max(self.next_seq, ev.seq + 1)
        if isinstance(ev, SessionInfo):
            if ev.cwd:
                self.cwd = ev.cwd
                self.root = self.root or ev.cwd
            if ev.permission_mode:
                self.permission_mode = ev.permission_mode
        elif isinstance(ev, ModelCall):
            self._model_call(ev)
        elif isinstance(ev, ToolCall):
            self._tool_call(ev)
        elif isinstance(ev, ToolResult):
            self._tool_result(ev)
        elif isinstance(ev, Message):
            pass  # talk without action is judged by `agentir watch`, not before a tool call

    def _model_call(self, ev: ModelCall) -> None:
        from agentir.analysis import cost as costmod

        usage = {k: getattr(ev, k) for k in _USAGE}
        key = ev.message_id
        old = self.messages.get(key) if key else None
        if old is not None:
            before = dict(zip(_USAGE, old[0], strict=True))
            if ev.calls == 0:  # a top-up: only the increase over what was counted
                usage = {k: before[k] + usage[k] for k in _USAGE}
            usage = {k: max(before[k], usage[k]) for k in _USAGE}
            delta = {k: usage[k] - before[k] for k in _USAGE}
            old_usd = float(old[1])
        else:
            delta, old_usd = usage, 0.0
            self.model_calls += max(ev.calls, 1)
        for k in _TOKENS:
            self.tokens[k] += delta[k]
        price = costmod.pricing().lookup(ev.model) if ev.reported_cost_usd is None else None
        if ev.reported_cost_usd is not None:
            usd = old_usd + ev.reported_cost_usd
        elif price is None:
            self.unpriced += 1 if old is None else 0
            usd = old_usd
        else:
            full = ModelCall(
                seq=ev.seq, ts=None, source=ev.source, session_id="", agent="",
                model=ev.model, **usage,
            )  # fmt: skip
            usd = costmod.call_cost(full, price)
        self.usd += usd - old_usd
        if key:
            self.messages[key] = [[usage[k] for k in _USAGE], usd]
            self.messages.move_to_end(key)
            while len(self.messages) > MAX_MESSAGES:
                self.messages.popitem(last=False)
        self.last_usd = usd
        self.last_tokens = usage["input_tokens"] + usage["output_tokens"]
        self.last_tokens += usage["cache_write_tokens"]

    def _tool_call(self, ev: ToolCall) -> None:
        command = shell_command(ev)
        cwd = ev.cwd or self.cwd
        # per change: [mark of its path, its progress marks] (a change counts once)
        intended: list[list[Any]] = []
        shell: list[list[str]] = []
        if command is not None:
            shell = [_marks(c, None) for c, _ in changes_of(split_commands(command, cwd))]
        else:
            intended = [[_mark(c.path, cwd), _marks(c, cwd)] for c in intended_changes(ev)]
        record = {
            "key": call_key(ev),
            "chain": ev.sidechain or "",
            "name": ev.name,
            "command": command,
            "text": quote(call_text(ev)),
            "seq": ev.seq,
            "source": str(ev.source),
            "intended": intended,
            "shell": shell,
        }
        if ev.call_id is None:
            self._settle(record, None)
            return
        self.calls[ev.call_id] = record
        while len(self.calls) > MAX_CALLS:
            _, oldest = self.calls.popitem(last=False)
            self._settle(oldest, None)

    def _tool_result(self, ev: ToolResult) -> None:
        record = self.calls.pop(ev.call_id, None) if ev.call_id else None
        if record is None:
            for change in ev.changes:  # a change with no call (a diff the agent submitted)
                self._touch(_marks(change, self.cwd))
            self.changes += len(ev.changes)
            return
        if ev.call_id in self.blocked or (ev.ok is False and GUARD_MARK in ev.output[:1000]):
            return  # the guard refused it: it did not run, it neither repeats nor progresses
        self._settle(record, ev)

    def _touch(self, paths: list[str]) -> None:
        for path in paths:
            if path in self.files:
                continue
            if len(self.files) >= MAX_FILES:
                self.files_more += 1
            else:
                self.files[path] = None

    def _settle(self, record: dict[str, Any], res: ToolResult | None) -> None:
        """The fold's settle and the loop detector's step, for one call and its result."""
        ok = None if res is None else res.ok
        if res is not None and ok is None and res.exit_code is not None:
            ok = res.exit_code == 0
        confirmed = list(res.changes) if res is not None else []
        done = ok is True or (ok is None and bool(confirmed))
        before = self.changes
        marks = [m for c in confirmed for m in _marks(c, self.cwd)]
        confirmed_paths = {_mark(c.path, self.cwd) for c in confirmed}
        intended = [p for p in record["intended"] if p[0] not in confirmed_paths]
        shell_marks = [m for marks_of in record["shell"] for m in marks_of]
        self._touch([*marks, *(m for p in intended for m in p[1]), *shell_marks])
        self.changes += len(confirmed) + (len(intended) if done else 0)
        self.changes += len(record["shell"]) if ok else 0
        self._step(record, res, before)

    def _step(self, record: dict[str, Any], res: ToolResult | None, before: int) -> None:
        chain = self.chains.get(record["chain"])
        if chain is None:
            chain = self.chains[record["chain"]] = OrderedDict()
            while len(self.chains) > MAX_CHAINS:
                self.chains.popitem(last=False)
        key, sig, epoch = record["key"], signature(res), self.epoch
        failed = is_failure(res, _call_of(record))
        st = chain.get(key)
        same = st is not None and st["sig"] == sig and st["epoch"] == epoch
        if same and not failed and st is not None and st["changed"] != before:
            same = False  # a success after any change since its last run is verification
        if same and st is not None:
            st["count"] += 1
            chain.move_to_end(key)
        else:
            st = {"count": 1, "sig": sig, "epoch": epoch, "seqs": [], "source": record["source"]}
            chain[key] = st
            while len(chain) > MAX_KEYS:
                chain.popitem(last=False)
        st.update(failed=bool(failed), changed=self.changes, text=record["text"])
        if len(st["seqs"]) < 30:
            st["seqs"].append(record["seq"])

    def note_blocked(self, call_id: str | None) -> None:
        """Remember a call the guard refused, so its error result is not judged."""
        if call_id and call_id not in self.blocked:
            self.blocked = [*self.blocked[-(MAX_BLOCKED - 1) :], call_id]

    # ------------------------------------------------------------------ prediction

    def predict_loop(self, policy: Policy, call: ToolCall) -> Trigger | None:
        """The loop finding the detector would raise if `call` returns its last result again."""
        chain = self.chains.get(call.sidechain or "")
        st = chain.get(call_key(call)) if chain is not None else None
        if st is None or st["epoch"] != self.epoch:
            return None  # never ran, or a file was touched for the first time since
        if not st["failed"] and st["changed"] != self.changes:
            return None  # it worked last time and something changed since: verification
        loops = policy.loops
        count = st["count"] + 1
        if st["failed"]:
            warn, stuck = loops.same_error, loops.same_error * loops.stuck_factor
        else:
            warn, stuck = loops.identical_calls + 1, loops.identical_calls * loops.stuck_factor + 1
        if count < warn:
            return None
        if is_polling(call):
            warn, stuck = loops.polling_calls + 1, loops.polling_calls * loops.stuck_factor + 1
            if count < warn:
                return None
        level = "high" if count >= stuck else "warning"
        ran = "failed the same way" if st["failed"] else "ran with the same result"
        message = (
            f"`{quote(call_text(call))}` {ran} {st['count']} times with no new file changed "
            f"(seqs {seq_list(st['seqs'])}); this would be call number {count}"
        )
        pattern = "same_error" if st["failed"] else "identical_calls"
        finding = Finding(
            "loop",
            level,
            message,
            tuple(st["seqs"][:30]),
            {"source": st.get("source", ""), "pattern": pattern, "count": count, "tool": call.name},
        )
        return Trigger("loop", finding)


def _mark(path: str, cwd: str | None) -> str:
    return _digest(absolute(path, cwd))


def _marks(change: FileChange, cwd: str | None) -> list[str]:
    """The progress marks of a change: its path (a copy: its destination; a rename: both)."""
    if change.op is FileOp.COPY and change.dest:
        return [_mark(change.dest, cwd)]
    if change.op is FileOp.RENAME and change.dest:
        return [_mark(change.path, cwd), _mark(change.dest, cwd)]
    return [_mark(change.path, cwd)]


def _call_of(record: dict[str, Any]) -> ToolCall:
    """A minimal call for judging its result (failure rules look at the command's program)."""
    return ToolCall(
        seq=record["seq"], ts=None, source=Source(""), session_id="", agent="",
        call_id=None, name=record["name"], command=record["command"],
    )  # fmt: skip
