"""Test helper: a stand-in for an agent session's top process.

Its command line names the session id. It starts: child1 and child2 (child2 with a
grandchild), three orphans that double-fork away (one stays in this process group, one
moves to a new group of this session, one starts a new session but keeps
CLAUDE_SESSION_ID in its environment), then loops. Roles and pids go to --report.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

LOOP = str(Path(__file__).with_name("loop.py"))

parser = argparse.ArgumentParser()
parser.add_argument("--session-id", required=True)
parser.add_argument("--report", required=True)
parser.add_argument("--token", help="ignored; a credential on the command line")
parser.add_argument("--stubborn", action="store_true", help="child1 ignores SIGTERM")
parser.add_argument("--spawner", action="store_true", help="add a child that keeps forking")
args = parser.parse_args()

# Children must not name the session in argv or env: only the tree rules may find them.
env = {k: v for k, v in os.environ.items() if k != "CLAUDE_SESSION_ID"}


def spawn(*extra: str, environ: dict[str, str] = env) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, LOOP, "--report", args.report, *extra], env=environ)


spawn("--role", "child1", *(["--ignore-term"] if args.stubborn else []))
spawn("--role", "child2", "--child")
spawn("--role", "orphan-pgid", "--daemonize", "pgid").wait()
spawn("--role", "orphan-pgrp", "--daemonize", "pgrp").wait()
tagged = {**env, "CLAUDE_SESSION_ID": args.session_id}
spawn("--role", "orphan-env", "--daemonize", "setsid", environ=tagged).wait()
if args.spawner:
    spawn("--role", "spawner", "--spawn-every", "0.02")
with open(args.report, "a") as report:
    report.write(f"agent {os.getpid()}\n")
while True:
    time.sleep(0.1)
