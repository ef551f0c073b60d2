"""Test helper: a stand-in for an agent's worker process. Loops until killed.

Appends "<role> <pid>" to --report once it is set up, so tests know every pid.
--daemonize double-forks away (the middle process exits at once) and then stays in the
process group (pgid), moves to a new group of the same session (pgrp) or to a new session
(setsid). --child starts one more loop process below it. --spawn-every starts `sleep`
children continuously (a session that keeps forking during containment).
"""

import argparse
import os
import signal
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--role", required=True)
parser.add_argument("--report", required=True)
parser.add_argument("--daemonize", choices=["pgid", "pgrp", "setsid"])
parser.add_argument("--child", action="store_true")
parser.add_argument("--ignore-term", action="store_true")
parser.add_argument("--hold", help="keep this file open")
parser.add_argument("--mention", help="ignored; puts a path on the command line")
parser.add_argument("--spawn-every", type=float, default=0.0)
args = parser.parse_args()

if args.daemonize:
    if os.fork():
        os._exit(0)
    if args.daemonize == "pgrp":
        os.setpgid(0, 0)
    elif args.daemonize == "setsid":
        os.setsid()
if args.ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
held = open(args.hold, "a") if args.hold else None  # noqa: SIM115 - held until killed
if args.child:
    subprocess.Popen(
        [sys.executable, __file__, "--role", f"{args.role}-child", "--report", args.report]
    )
with open(args.report, "a") as report:
    report.write(f"{args.role} {os.getpid()}\n")
while True:
    if args.spawn_every:
        subprocess.Popen(["sleep", "30"])
        time.sleep(args.spawn_every)
    else:
        time.sleep(0.1)
