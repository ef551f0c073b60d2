"""Test helper: a stand-in agent that writes a Claude Code transcript in real time and loops.

It creates the transcript (after --delay seconds, so a watcher can be started on a file that
does not exist yet), writes a prompt, then runs the same Bash command again and again with
the same output (no file changed): a loop. Every line is written with its own write and
flush, and reported to --report as `<line number> <time.time()>`, so a test can tell when
the record that triggered the watch was written. Its command line names the session id
(how `agentir watch` finds an agent's processes).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.guard.transcript import Transcript

parser = argparse.ArgumentParser()
parser.add_argument("--session-id", required=True)
parser.add_argument("--trace", required=True)
parser.add_argument("--report", required=True)
parser.add_argument("--cwd", default="/tmp")
parser.add_argument("--interval", type=float, default=0.3)
parser.add_argument("--delay", type=float, default=0.0)
parser.add_argument("--steps", type=int, default=1000)
args = parser.parse_args()

time.sleep(args.delay)
builder = Transcript(args.session_id, args.cwd)
report = open(args.report, "a", buffering=1)  # noqa: SIM115 - held for the process's life
line = 0
with open(args.trace, "a", buffering=1) as trace:

    def write(record: dict) -> None:
        global line
        import json

        trace.write(json.dumps(record) + "\n")
        trace.flush()
        line += 1
        report.write(f"{line} {time.time():.6f}\n")

    write(builder.prompt("Make the failing test in tests/test_app.py pass"))
    for _ in range(args.steps):
        time.sleep(args.interval)
        call, call_id = builder.call("Bash", {"command": "python -m pytest -q tests/test_app.py"})
        write(call)
        time.sleep(args.interval / 3)
        write(builder.result(call_id, "1 passed in 0.01s"))
