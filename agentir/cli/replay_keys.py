"""Keys of the interactive replay: decoding key presses and moving between steps.

`move` is pure (tested directly); `read_key` reads one key press from a terminal that
`cbreak` has put into character-at-a-time mode, and `cbreak` always restores it.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Iterator, Sequence

# key press -> action
KEYMAP: dict[str, str] = {
    "\x1b[C": "next",
    "\x1bOC": "next",
    "\x1b[B": "next",
    "\x1bOB": "next",
    "l": "next",
    "n": "next",
    "j": "next",
    " ": "next",
    "\r": "next",
    "\n": "next",
    "\x1b[D": "prev",
    "\x1bOD": "prev",
    "\x1b[A": "prev",
    "\x1bOA": "prev",
    "h": "prev",
    "p": "prev",
    "b": "prev",
    "k": "prev",
    "f": "next_finding",
    "F": "prev_finding",
    "g": "first",
    "\x1b[H": "first",
    "G": "last",
    "\x1b[F": "last",
    "q": "quit",
    "Q": "quit",
    "\x03": "quit",  # Ctrl-C when the terminal does not turn it into SIGINT
    "\x04": "quit",
    "?": "help",
}

HELP = (
    ("→ l n space Enter", "next step"),
    ("← h p b", "previous step"),
    ("f / F", "next / previous finding"),
    ("g / G", "first / last step"),
    ("?", "this help"),
    ("q", "quit"),
)


def move(
    action: str, index: int, total: int, finding_steps: Sequence[int]
) -> tuple[int, str | None]:
    """The step index after `action`, and a note when the move was not possible."""
    if total <= 0:
        return 0, None
    if action == "next":
        return (index + 1, None) if index + 1 < total else (index, "last step")
    if action == "prev":
        return (index - 1, None) if index > 0 else (index, "first step")
    if action == "first":
        return 0, None
    if action == "last":
        return total - 1, None
    if action in ("next_finding", "prev_finding"):
        if not finding_steps:
            return index, "no findings in this replay"
        steps = sorted(set(finding_steps))
        if action == "next_finding":
            later = [s for s in steps if s > index]
            return (later[0], None) if later else (index, "no later finding")
        earlier = [s for s in steps if s < index]
        return (earlier[-1], None) if earlier else (index, "no earlier finding")
    return index, None


@contextlib.contextmanager
def cbreak(fd: int) -> Iterator[None]:
    """Character-at-a-time input without echo; the terminal is restored however we leave."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


def read_key(fd: int) -> str:
    """One key press: a character or an escape sequence (arrows); '' at end of input."""
    first = os.read(fd, 1)
    if not first:
        return ""
    if first != b"\x1b":
        data = first
        # a multi-byte UTF-8 character arrives in pieces; read the rest of it
        need = 1 if first[0] >= 0xC0 else 0
        need += 1 if first[0] >= 0xE0 else 0
        need += 1 if first[0] >= 0xF0 else 0
        while need and _ready(fd, 0.05):
            data += os.read(fd, 1)
            need -= 1
        return data.decode("utf-8", errors="replace")
    seq = first
    # an escape sequence comes at once; a lone ESC does not
    while _ready(fd, 0.05) and len(seq) < 8:
        seq += os.read(fd, 1)
        if len(seq) >= 3 and (seq[-1:].isalpha() or seq[-1:] == b"~"):
            break
    return seq.decode("ascii", errors="replace")


def _ready(fd: int, timeout: float) -> bool:
    readable, _, _ = select.select([fd], [], [], timeout)
    return bool(readable)
